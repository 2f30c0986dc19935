// A Muninn cluster of real processes for multi-process tests (and later `npm run cluster` and the
// rollout chaos test): one etcd (test/etcd.ts), N ingesters and M distributors started with
// `-target=ingester|distributor`, both rings in etcd, everything on 127.0.0.1; optionally Q
// queriers (`-target=querier`, reading through the ingesters' ring in etcd; promApi() queries them).
//
//   const c = await startCluster({ ingesters: 3, distributors: 2 });
//   try {
//     await c.waitForRings();                                   // every distributor sees everyone ACTIVE
//     const r = await pushSeries(c.distributors[0]!.httpUrl, 't1', makeSeries('m', 0, 1000, Date.now()));
//     await c.ingesters[2]!.stop();                             // SIGTERM, waits for the exit
//     await waitForRing(c.distributors[0]!, 'ingester', (s) => s.length === 2, 'two ingesters');
//     await c.ingesters[2]!.start();                            // same id, data dir and ports
//   } finally {
//     await c.close();                                          // SIGKILL what is left, etcd, data dirs
//   }
//
// A node keeps its instance id and data dir across stop/start, and by default its HTTP and gRPC
// ports (a restarted ingester comes back at the same ring address, as in a rolling update); if
// a port was taken meanwhile, it starts on fresh ones. Every wait is bounded and fails with what
// it last saw. Nothing is left running if the test process dies (exit hook).
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { compressSync } from 'snappy';
import { IngesterClient } from '../src/ingester/grpc.js';
import type { MatcherSpec } from '../src/ingester/api.js';
import { encodeWriteRequest, type SeriesObject } from '../src/remotewrite/index.js';
import { type EtcdServer, startEtcd } from './etcd.js';
import { type LogLine, MAIN_JS, type Proc, startMuninn, tempDir } from './proc.js';

export type Role = 'ingester' | 'distributor' | 'querier';
export type RingName = 'ingester' | 'distributor';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** One instance of /ingester/ring or /distributor/ring as JSON (src/ring/http.ts ringJson). */
export interface RingShard {
  id: string;
  /** ACTIVE, LEAVING, PENDING, JOINING, or UNHEALTHY when the heartbeat is older than the timeout. */
  state: string;
  address: string;
  timestamp: string;
  registered_timestamp: string;
  zone: string;
  read_only: boolean;
  tokens: number[];
  ownership: number;
}

export interface RingJson {
  shards: RingShard[];
  now: string;
}

export interface RingTiming {
  /** -*.ring.heartbeat-period. Default '1s'. */
  heartbeatPeriod?: string;
  /** -*.ring.heartbeat-timeout. Default '5s'. */
  heartbeatTimeout?: string;
  /** -ingester.ring.replication-factor. Default 3. */
  replicationFactor?: number;
  /** -*.ring.prefix, to keep several clusters apart on one etcd. Default Muninn's ('collectors/'). */
  prefix?: string;
  /** -*.ring.etcd.dial-timeout (the deadline of every etcd call). Default Muninn's. */
  etcdDialTimeout?: string;
}

/** The flags that put a process on the rings in etcd, with short heartbeats for tests. */
export function ringFlags(etcdEndpoint: string, t: RingTiming = {}): string[] {
  const out: string[] = [];
  for (const ring of ['ingester', 'distributor']) {
    out.push(
      `-${ring}.ring.store=etcd`,
      `-${ring}.ring.etcd.endpoints=${etcdEndpoint}`,
      `-${ring}.ring.instance-addr=127.0.0.1`,
      `-${ring}.ring.heartbeat-period=${t.heartbeatPeriod ?? '1s'}`,
      `-${ring}.ring.heartbeat-timeout=${t.heartbeatTimeout ?? '5s'}`,
    );
    if (t.prefix !== undefined) out.push(`-${ring}.ring.prefix=${t.prefix}`);
    if (t.etcdDialTimeout !== undefined) out.push(`-${ring}.ring.etcd.dial-timeout=${t.etcdDialTimeout}`);
  }
  out.push(`-ingester.ring.replication-factor=${t.replicationFactor ?? 3}`);
  return out;
}

const live = new Set<Proc>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One muninn process slot: an instance id, a data dir and flags, (re)started and stopped at will. */
export class MuninnNode {
  /** Instance id in its ring (-ingester.ring.instance-id or -distributor.ring.instance-id); a querier's is only a name (it joins no ring). */
  readonly id: string;
  readonly role: Role;
  /** -blocks-storage.tsdb.dir, kept across restarts (the WAL is replayed on start). */
  readonly dataDir: string;
  /** Flags of every start (the role, the rings, the instance id, the caller's). */
  readonly args: readonly string[];
  /** Log lines of every run, one array per start, oldest first. */
  readonly runs: LogLine[][] = [];
  private p: (Proc & { httpPort: number; grpcPort: number }) | null = null;
  private ports: { http: number; grpc: number } | null = null;
  private readonly keepPorts: boolean;

  constructor(opts: { id: string; role: Role; dataDir: string; args: readonly string[]; keepPortsOnRestart?: boolean }) {
    this.id = opts.id;
    this.role = opts.role;
    this.dataDir = opts.dataDir;
    this.args = opts.args;
    this.keepPorts = opts.keepPortsOnRestart ?? true;
  }

  /** Whether a process of this node is up (started and not exited). */
  get running(): boolean {
    return this.p !== null && this.p.child.exitCode === null && this.p.child.signalCode === null;
  }

  /** The current (or last) process; throws before the first start. */
  get proc(): Proc & { httpPort: number; grpcPort: number } {
    if (this.p === null) throw new Error(`${this.id} was never started`);
    return this.p;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.proc.httpPort}`;
  }

  /** host:port of the gRPC server (the ring address of an ingester). */
  get grpcAddr(): string {
    return `127.0.0.1:${this.proc.grpcPort}`;
  }

  /** Log lines of the current (or last) run. */
  get lines(): LogLine[] {
    return this.p?.lines ?? [];
  }

  /**
   * Starts the process (waits for "Muninn started"); `extraArgs` apply to this run only and come
   * last (later flags win). Reuses the ports of the previous run if it can.
   */
  async start(extraArgs: readonly string[] = []): Promise<void> {
    if (this.running) throw new Error(`${this.id} is already running`);
    const base = [...this.args, `-blocks-storage.tsdb.dir=${this.dataDir}`];
    const fixed = this.keepPorts && this.ports !== null
      ? [`-server.http-listen-port=${this.ports.http}`, `-server.grpc-listen-port=${this.ports.grpc}`]
      : [];
    let p: Proc & { httpPort: number; grpcPort: number };
    try {
      p = await startMuninn(MAIN_JS, [...base, ...fixed, ...extraArgs]);
    } catch (e) {
      if (fixed.length === 0) throw e;
      // the old ports may be taken by now: any free ones will do
      p = await startMuninn(MAIN_JS, [...base, ...extraArgs]);
    }
    installExitHook();
    live.add(p);
    void p.exited.then(() => live.delete(p));
    this.p = p;
    this.ports = { http: p.httpPort, grpc: p.grpcPort };
    this.runs.push(p.lines);
  }

  /** SIGTERM (a clean shutdown) and wait for the exit; SIGKILL after timeoutMs. Resolves with the exit (of the last run if not running). */
  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    const p = this.p;
    if (p === null) throw new Error(`${this.id} was never started`);
    if (!this.running) return p.exited;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    try {
      return await p.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** SIGKILL (a crash: no unregistering, no WAL sync) and wait for the exit. */
  async kill(): Promise<ExitInfo> {
    const p = this.p;
    if (p === null) throw new Error(`${this.id} was never started`);
    p.kill('SIGKILL');
    return p.exited;
  }

  /** stop() then start(extraArgs). */
  async restart(extraArgs: readonly string[] = []): Promise<ExitInfo> {
    const exit = await this.stop();
    await this.start(extraArgs);
    return exit;
  }

  /** GET /<ring>/ring as JSON. */
  async ring(which: RingName, signal?: AbortSignal): Promise<RingJson> {
    const r = await httpRequest('GET', `${this.httpUrl}/${which}/ring`, { headers: { Accept: 'application/json' }, signal });
    if (r.status !== 200) throw new Error(`${this.id}: GET /${which}/ring answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as RingJson;
  }

  /** POST forget=<id> to /<ring>/ring (the page's Forget button); returns the status. */
  async forget(which: RingName, id: string): Promise<number> {
    const r = await httpRequest('POST', `${this.httpUrl}/${which}/ring`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams({ forget: id }).toString()),
    });
    return r.status;
  }

  /** The sum of the samples of a metric in /metrics whose labels include `labels` (NaN if none). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const r = await httpRequest('GET', `${this.httpUrl}/metrics`);
    if (r.status !== 200) throw new Error(`${this.id}: GET /metrics answered ${r.status}`);
    return sumMetric(r.body, name, labels);
  }

  /**
   * A GET of the Prometheus HTTP API of a querier: `<httpUrl><prefix><path>?<params>` for the
   * tenant (no X-Scope-OrgID when tenant is null). See promApi.
   */
  promApi(path: string, params: Record<string, string | readonly string[]> = {}, tenant: string | null = 't1', opts: { prefix?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PromAnswer> {
    return promApi(this.httpUrl, path, params, tenant, opts);
  }

  /** An ingester's Series RPC over gRPC: the label sets (flat [name, value, ...]) matching. */
  async series(tenant: string, matchers: MatcherSpec[], range: { mint: number; maxt: number } = { mint: 0, maxt: Date.now() + 3_600_000 }): Promise<string[][]> {
    const c = new IngesterClient(this.grpcAddr);
    try {
      return await c.series(tenant, { ...range, matcherSets: [matchers] });
    } finally {
      c.close();
    }
  }
}

/** Sums the samples of metric `name` with the given labels in a Prometheus text exposition. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const body = m[3] ?? '';
    if (!Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) continue;
    sum = (Number.isNaN(sum) ? 0 : sum) + Number(m[4]);
  }
  return sum;
}

export interface ClusterOptions extends RingTiming {
  ingesters: number;
  distributors: number;
  /** Queriers (-target=querier, watching the ingesters' ring in etcd). Default 0. */
  queriers?: number;
  /** An etcd to use (not closed by close()); by default one is started and closed with the cluster. */
  etcd?: EtcdServer;
  /** Flags for every process, after the ring flags. */
  commonArgs?: string[];
  /** Flags for ingester i (after commonArgs). */
  ingesterArgs?: (i: number) => string[];
  /** Flags for distributor i (after commonArgs). */
  distributorArgs?: (i: number) => string[];
  /** Flags for querier i (after commonArgs). */
  querierArgs?: (i: number) => string[];
  /** Instance ids: `${idPrefix}ingester-${i}`, `${idPrefix}distributor-${i}`. Default ''. */
  idPrefix?: string;
  /** Keep a node's ports across restarts. Default true. */
  keepPortsOnRestart?: boolean;
}

export class Cluster {
  readonly ingesters: MuninnNode[] = [];
  readonly distributors: MuninnNode[] = [];
  readonly queriers: MuninnNode[] = [];
  private closed = false;

  constructor(
    readonly etcd: EtcdServer,
    private readonly ownEtcd: boolean,
    private readonly opts: ClusterOptions,
  ) {}

  get nodes(): MuninnNode[] {
    return [...this.ingesters, ...this.distributors, ...this.queriers];
  }

  /** A new node (not started) of the given role, with the next index. */
  addNode(role: Role, extraArgs: string[] = []): MuninnNode {
    const list = role === 'ingester' ? this.ingesters : role === 'distributor' ? this.distributors : this.queriers;
    const i = list.length;
    const id = `${this.opts.idPrefix ?? ''}${role}-${i}`;
    const perNode = role === 'ingester'
      ? (this.opts.ingesterArgs?.(i) ?? [])
      : role === 'distributor' ? (this.opts.distributorArgs?.(i) ?? []) : (this.opts.querierArgs?.(i) ?? []);
    const node = new MuninnNode({
      id,
      role,
      dataDir: tempDir(`muninn-${role}-${i}-`),
      args: [
        `-target=${role}`,
        ...ringFlags(this.etcd.endpoint, this.opts),
        // a querier only watches the ingesters' ring: it has no instance id of its own
        ...(role === 'querier' ? [] : [`-${role}.ring.instance-id=${id}`]),
        ...(this.opts.commonArgs ?? []),
        ...perNode,
        ...extraArgs,
      ],
      keepPortsOnRestart: this.opts.keepPortsOnRestart,
    });
    list.push(node);
    return node;
  }

  /**
   * Waits until every running distributor sees every running ingester ACTIVE in /ingester/ring
   * and every running distributor ACTIVE in /distributor/ring, and nothing else; and every
   * running querier sees the same in its /ingester/ring.
   */
  async waitForRings(timeoutMs = 15_000): Promise<void> {
    const ing = Object.fromEntries(this.ingesters.filter((n) => n.running).map((n) => [n.id, 'ACTIVE']));
    const dist = Object.fromEntries(this.distributors.filter((n) => n.running).map((n) => [n.id, 'ACTIVE']));
    await Promise.all([
      ...this.distributors.filter((n) => n.running).flatMap((d) => [
        waitForRingStates(d, 'ingester', ing, { exact: true, timeoutMs }),
        waitForRingStates(d, 'distributor', dist, { exact: true, timeoutMs }),
      ]),
      ...this.queriers.filter((n) => n.running).map((q) => waitForRingStates(q, 'ingester', ing, { exact: true, timeoutMs })),
    ]);
  }

  /** Kills every process (SIGKILL), then etcd if the cluster started it, and removes the data dirs. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.nodes.filter((n) => n.running).map((n) => n.kill()));
    if (this.ownEtcd) await this.etcd.close();
    for (const n of this.nodes) rmSync(n.dataDir, { recursive: true, force: true });
  }

  /**
   * The last `perNode` log lines at or above warn of every run of every node, one string each
   * ("<id>#<run> <json>"), for failure messages. Lines matching `exclude` are left out.
   */
  problemSummary(perNode = 15, exclude: (l: LogLine) => boolean = () => false): string[] {
    const out: string[] = [];
    for (const n of this.nodes) {
      n.runs.forEach((run, k) => {
        const bad = run.filter((l) => l.level !== 'info' && l.level !== 'debug' && l.level !== 'trace' && !exclude(l));
        for (const l of bad.slice(-perNode)) out.push(`${n.id}#${k} ${JSON.stringify(l).slice(0, 500)}`);
      });
    }
    return out;
  }

  /** Stops every process cleanly (SIGTERM; queriers and distributors first, then ingesters), then close(). */
  async stopAll(timeoutMs = 20_000): Promise<void> {
    await Promise.allSettled(this.queriers.filter((n) => n.running).map((n) => n.stop(timeoutMs)));
    await Promise.allSettled(this.distributors.filter((n) => n.running).map((n) => n.stop(timeoutMs)));
    await Promise.allSettled(this.ingesters.filter((n) => n.running).map((n) => n.stop(timeoutMs)));
    await this.close();
  }
}

/**
 * Starts etcd (unless given), the ingesters, then the distributors and queriers (each group in
 * parallel). Does not wait for the rings: call waitForRings(). On a failure everything started is
 * closed.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const etcd = opts.etcd ?? await startEtcd();
  const c = new Cluster(etcd, opts.etcd === undefined, opts);
  try {
    for (let i = 0; i < opts.ingesters; i++) c.addNode('ingester');
    for (let i = 0; i < opts.distributors; i++) c.addNode('distributor');
    for (let i = 0; i < (opts.queriers ?? 0); i++) c.addNode('querier');
    await Promise.all(c.ingesters.map((n) => n.start()));
    await Promise.all([...c.distributors, ...c.queriers].map((n) => n.start()));
    return c;
  } catch (e) {
    await c.close();
    throw e;
  }
}

/** Polls fn until it returns true; on timeout throws with `what` and what describe() says then. */
export async function waitUntil(fn: () => Promise<boolean> | boolean, opts: { timeoutMs: number; what: string; intervalMs?: number; describe?: () => string }): Promise<void> {
  const until = Date.now() + opts.timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      if (await fn()) return;
      lastErr = undefined;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > until) {
      const seen = opts.describe?.() ?? '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${seen === '' ? '' : `; last seen: ${seen}`}${lastErr === undefined ? '' : `; last error: ${String(lastErr)}`}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Polls node's /<ring>/ring (JSON) until pred holds for its shards; returns them. */
export async function waitForRing(node: MuninnNode, which: RingName, pred: (shards: RingShard[]) => boolean, what: string, timeoutMs = 15_000): Promise<RingShard[]> {
  let last: RingShard[] = [];
  await waitUntil(async () => {
    last = (await node.ring(which)).shards;
    return pred(last);
  }, { timeoutMs, what: `${node.id} /${which}/ring: ${what}`, describe: () => JSON.stringify(last.map((s) => ({ id: s.id, state: s.state, address: s.address }))) });
  return last;
}

/**
 * Waits until node's ring shows each id of `states` in the given state (null: absent); with
 * exact, also no other instance.
 */
export function waitForRingStates(node: MuninnNode, which: RingName, states: Record<string, string | null>, opts: { exact?: boolean; timeoutMs?: number } = {}): Promise<RingShard[]> {
  const want = Object.entries(states);
  return waitForRing(node, which, (shards) => {
    for (const [id, st] of want) {
      const s = shards.find((x) => x.id === id);
      if (st === null ? s !== undefined : s?.state !== st) return false;
    }
    return opts.exact !== true || shards.every((s) => states[s.id] !== undefined && states[s.id] !== null);
  }, JSON.stringify(states) + (opts.exact === true ? ' (exactly)' : ''), opts.timeoutMs);
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One HTTP request on a fresh connection (no pooled socket, so a restarted server never gets a
 * stale one). A connection error answers status 0 with the error in body.
 */
export function httpRequest(method: string, url: string, opts: { headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const req = request(url, { method, headers: opts.headers, agent: false, signal: opts.signal, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', (e) => resolve({ status: 0, body: `response error: ${e.message}`, headers: {} }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', (e) => resolve({ status: 0, body: `request error: ${e.message}`, headers: {} }));
    req.end(opts.body === undefined ? undefined : Buffer.from(opts.body.buffer, opts.body.byteOffset, opts.body.byteLength));
  });
}

/** An answer of the Prometheus HTTP API: the raw answer and its body parsed as JSON (undefined if it is not JSON). */
export interface PromAnswer extends HttpAnswer {
  json: PromJson | undefined;
}

/** Prometheus's API envelope (web/api/v1 Response). */
export interface PromJson {
  status: 'success' | 'error';
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

/**
 * GET `<baseUrl><prefix><path>` of a querier's Prometheus HTTP API (prefix default '/prometheus',
 * -http.prometheus-http-prefix) with the parameters (an array: the parameter repeated, e.g.
 * match[]) for the tenant (X-Scope-OrgID; none when null). Never throws: a connection error is
 * status 0.
 *
 *   const r = await promApi(q.httpUrl, '/api/v1/query_range', { query: 'up', start: '0', end: '60', step: '15' });
 */
export async function promApi(baseUrl: string, path: string, params: Record<string, string | readonly string[]> = {}, tenant: string | null = 't1', opts: { prefix?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PromAnswer> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string') qs.append(k, v);
    else for (const x of v) qs.append(k, x);
  }
  const q = qs.toString();
  const r = await httpRequest('GET', `${baseUrl}${opts.prefix ?? '/prometheus'}${path}${q === '' ? '' : `?${q}`}`, {
    headers: tenant === null ? {} : { 'X-Scope-OrgID': tenant },
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  let json: PromJson | undefined;
  try {
    json = JSON.parse(r.body) as PromJson;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** A remote-write 1.0 body: protobuf, snappy block-compressed. */
export function remoteWriteBody(series: SeriesObject[]): Uint8Array {
  return compressSync(Buffer.from(encodeWriteRequest({ series })));
}

/** POSTs series to <distributorUrl>/api/v1/push as remote write 1.0 for the tenant. */
export function pushSeries(distributorUrl: string, tenant: string, series: SeriesObject[], opts: { timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return httpRequest('POST', `${distributorUrl}/api/v1/push`, {
    headers: {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      'X-Scope-OrgID': tenant,
    },
    body: remoteWriteBody(series),
    timeoutMs: opts.timeoutMs,
  });
}

/**
 * `count` series of metric `metric` with labels {i="<from+k>"} plus `extra` (sorted by name, as
 * remote write wants them), one sample each at ts with value from+k.
 */
export function makeSeries(metric: string, from: number, count: number, ts: number, extra: Record<string, string> = {}): SeriesObject[] {
  const out: SeriesObject[] = [];
  for (let k = 0; k < count; k++) {
    const labels: Record<string, string> = { __name__: metric, i: String(from + k), ...extra };
    const flat = Object.keys(labels).sort().flatMap((n) => [n, labels[n]!]);
    out.push({ labels: flat, samples: [{ value: from + k, timestamp: ts }] });
  }
  return out;
}

/** The value of label `name` in a flat label list, or undefined. */
export function labelValue(flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/** The outcome of one push of a PushLoad. */
export interface LoadPush {
  via: string;
  sentAt: number;
  doneAt: number;
  status: number;
  body: string;
}

export interface PushLoadOptions {
  tenant: string;
  metric: string;
  /** Series per push (each worker has its own set, label w="<worker>"). Default 10. */
  seriesPerPush?: number;
  /** Concurrent push loops per distributor. Default 2. */
  workersPerTarget?: number;
  /** Pause between two pushes of a worker, ms. Default 0 (back to back). */
  pauseMs?: number;
}

/**
 * Continuous remote-write load through some distributors: `workersPerTarget` loops per
 * distributor, each pushing its own `seriesPerPush` series over and over with strictly increasing
 * timestamps (so a restarted ingester never sees a sample out of order or duplicated). Every
 * outcome is kept (`pushes`), so a test can look at what was answered in any time window.
 *
 *   const load = new PushLoad(c.distributors, { tenant: 't1', metric: 'm' });
 *   load.start();
 *   ...
 *   await load.stop();
 *   assert.deepEqual(load.failed(), []);
 */
export class PushLoad {
  readonly pushes: LoadPush[] = [];
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(private readonly targets: readonly MuninnNode[], private readonly o: PushLoadOptions) {}

  start(): void {
    if (this.running) throw new Error('PushLoad already running');
    this.running = true;
    const per = this.o.workersPerTarget ?? 2;
    let w = 0;
    for (const t of this.targets) for (let k = 0; k < per; k++) this.workers.push(this.worker(t, w++));
  }

  /** Stops the loops and waits for the pushes in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** The pushes answered with anything but 200 ("<via> <status> <body>"), optionally only those sent in [from, to]. */
  failed(from = 0, to = Infinity): string[] {
    return this.pushes.filter((p) => p.status !== 200 && p.sentAt >= from && p.sentAt <= to).map((p) => `${p.via} ${p.status} ${p.body.trim().slice(0, 300)}`);
  }

  /** How many pushes were answered 200 between from and to (by answer time). */
  succeeded(from: number, to: number): number {
    return this.pushes.filter((p) => p.status === 200 && p.doneAt >= from && p.doneAt <= to).length;
  }

  private async worker(target: MuninnNode, w: number): Promise<void> {
    const n = this.o.seriesPerPush ?? 10;
    let last = 0;
    while (this.running) {
      const ts = Math.max(Date.now(), last + 1);
      last = ts;
      const sentAt = Date.now();
      const r = await pushSeries(target.httpUrl, this.o.tenant, makeSeries(this.o.metric, 0, n, ts, { w: String(w) }));
      this.pushes.push({ via: target.id, sentAt, doneAt: Date.now(), status: r.status, body: r.body });
      if ((this.o.pauseMs ?? 0) > 0) await sleep(this.o.pauseMs!);
    }
  }
}

/** Batch appends the distributors sent to the ingester at `addr` (host:port), and how many failed, summed over them. */
export async function ingesterAppends(distributors: readonly MuninnNode[], addr: string): Promise<{ appends: number; failures: number; perDistributor: Record<string, { appends: number; failures: number }> }> {
  const perDistributor: Record<string, { appends: number; failures: number }> = {};
  let appends = 0;
  let failures = 0;
  await Promise.all(distributors.map(async (d) => {
    const r = await httpRequest('GET', `${d.httpUrl}/metrics`);
    if (r.status !== 200) throw new Error(`${d.id}: GET /metrics answered ${r.status}`);
    const a = sumMetric(r.body, 'cortex_distributor_ingester_appends_total', { ingester: addr });
    const f = sumMetric(r.body, 'cortex_distributor_ingester_append_failures_total', { ingester: addr });
    const v = { appends: Number.isNaN(a) ? 0 : a, failures: Number.isNaN(f) ? 0 : f };
    perDistributor[d.id] = v;
    appends += v.appends;
    failures += v.failures;
  }));
  return { appends, failures, perDistributor };
}
