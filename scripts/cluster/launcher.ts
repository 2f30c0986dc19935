// A local Muninn cluster of real processes: etcd (the rings), ingesters with persistent data
// folders and tokens files, distributors, queriers, and HAProxy in front of the distributors and
// queriers, health-checking /ready. `npm run cluster` (scripts/cluster.ts) runs one for people;
// tests run one on free ports:
//
//   const c = await start({ ports: 'auto' });
//   try {
//     await pushSeries(c.endpoints.gateway, 't1', makeSeries('m', 0, 10, Date.now()));
//     await httpRequest('GET', `${c.endpoints.query}/api/v1/query?query=m`, { headers: { 'X-Scope-OrgID': 't1' } });
//     await c.restart(c.distributors[0]!);        // SIGTERM, start again, wait until HAProxy has it UP
//   } finally {
//     await c.stop();                             // distributors and queriers, ingesters, HAProxy, etcd
//   }
//
// Nodes are test/cluster-helpers.ts MuninnNodes (instance id = node id, same data dir and ports
// across restarts), so the helpers there (PushLoad, waitForRingStates, metric()) work on them.
// Ingesters run with -ingester.ring.unregister-on-shutdown=false and a tokens file, as the
// StatefulSet in deploy/kubernetes does: a restarted ingester takes its tokens back.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDuration } from '../../src/util/duration.js';
import { type ExitInfo, MuninnNode, type Role, ringFlags, waitForRingStates } from '../../test/cluster-helpers.js';
import { type EtcdServer, startEtcd } from '../../test/etcd.js';
import { type Backend, DEFAULT_HEALTH_CHECK, type Haproxy, type HealthCheck, startHaproxy } from './haproxy.js';
import { freePort } from '../../src/util/net.js';
import { forwardProcLogs, isNotableHaproxy, type LogSink } from './logs.js';

export type NodeRole = 'ingester' | 'distributor' | 'querier';

/** Fixed ports, for a cluster people use by hand. */
export interface FixedPorts {
  /** HAProxy's gateway: remote write and the Prometheus API. Default 8080. */
  gateway: number;
  /** HAProxy's stats page. Default 8404. */
  stats: number;
  /**
   * First HTTP port of each role (node i gets base + i); each gRPC port is its HTTP port + 1000.
   * Default ingesters 8100, distributors 8200, queriers 8300.
   */
  ingester: number;
  distributor: number;
  querier: number;
}

export const DEFAULT_PORTS: FixedPorts = { gateway: 8080, stats: 8404, ingester: 8100, distributor: 8200, querier: 8300 };

export interface LaunchOptions {
  /** Default 3 ingesters, 2 distributors, 1 querier; -ingester.ring.replication-factor default 3. */
  ingesters?: number;
  distributors?: number;
  queriers?: number;
  replicationFactor?: number;
  /**
   * Folder of the nodes' data (`<dataDir>/<id>/tsdb`, `<dataDir>/<id>/tokens`). Default: a new
   * temporary folder, removed by stop(). A given folder is kept (unless removeDataDir).
   */
  dataDir?: string;
  removeDataDir?: boolean;
  /** 'auto' (the default): free ports everywhere. Or fixed ports (missing fields from DEFAULT_PORTS). */
  ports?: 'auto' | Partial<FixedPorts>;
  /** -shutdown-delay of every process. Default 2s (longer than HAProxy's check interval x fall). */
  shutdownDelay?: string;
  /** -server.graceful-shutdown-timeout. Default 10s. */
  gracefulShutdownTimeout?: string;
  /**
   * -shutdown.termination-grace-period, and how long stop() waits after SIGTERM before SIGKILL.
   * Default 20s.
   */
  terminationGracePeriod?: string;
  /** -server.grpc.keepalive.* of every process (the gRPC servers that matter are the ingesters'). */
  keepalive?: { maxConnectionAge?: string; maxConnectionAgeGrace?: string; maxConnectionIdle?: string };
  /** -*.ring.heartbeat-period / -timeout. Default 1s / 5s. */
  heartbeatPeriod?: string;
  heartbeatTimeout?: string;
  /** Extra flags: for every process, then per role (later flags win). */
  args?: { all?: string[]; ingester?: string[]; distributor?: string[]; querier?: string[] };
  /** HAProxy's health checks of /ready. Default every 1 s, fall 1, rise 1, 1 s timeout. */
  healthCheck?: Partial<HealthCheck>;
  /** An etcd to use (not stopped by stop()); by default one is started on free ports. */
  etcd?: EtcdServer;
  /** Where log lines go (formatted, one per call); none by default. */
  log?: LogSink;
  /** Forward every line, not only warnings and errors (and the launcher's own). */
  verbose?: boolean;
  /** Keep at most this many log lines per process run in memory (node.lines). Default: all. */
  maxLogLines?: number;
  /** How long start() waits for the rings and HAProxy. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface NodeEndpoint {
  id: string;
  role: NodeRole;
  http: string;
  grpc: string;
  dataDir: string;
}

export interface ClusterEndpoints {
  /** HAProxy's gateway, e.g. http://127.0.0.1:8080. */
  gateway: string;
  /** Remote-write URL through HAProxy (to the distributors). */
  write: string;
  /** Prometheus API base through HAProxy (to the queriers): <query>/api/v1/query. */
  query: string;
  /** HAProxy's stats page (append ;csv for CSV). */
  stats: string;
  etcd: string;
  /** Each process's URLs as of now (a restarted process may have moved); dataDir only for ingesters. */
  readonly nodes: NodeEndpoint[];
}

export interface StopReport {
  /** Exit of every node's last run, by id. */
  exits: Record<string, ExitInfo>;
  /** Whether every node exited with code 0 (within the grace period). */
  clean: boolean;
}

export interface LaunchedCluster {
  readonly endpoints: ClusterEndpoints;
  readonly nodes: MuninnNode[];
  readonly ingesters: MuninnNode[];
  readonly distributors: MuninnNode[];
  readonly queriers: MuninnNode[];
  readonly haproxy: Haproxy;
  readonly etcd: EtcdServer;
  readonly dataDir: string;
  /** The role of a node of this cluster. */
  roleOf(node: MuninnNode): NodeRole;
  /** SIGTERM, wait for the exit, start again (extraArgs for this run) and wait until it is ready. */
  restart(node: MuninnNode, extraArgs?: readonly string[]): Promise<ExitInfo>;
  /** Starts a stopped node and waits until it is ready (HAProxy has it UP; an ingester ACTIVE everywhere). */
  startNode(node: MuninnNode, extraArgs?: readonly string[]): Promise<void>;
  /** SIGTERM one node and wait for its exit (SIGKILL past the termination grace period). */
  stopNode(node: MuninnNode): Promise<ExitInfo>;
  /** Waits until every running node is ready: every running ingester and distributor ACTIVE in the rings as the distributors and queriers see them, HAProxy has every running server UP. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops everything in order: distributors and queriers, then ingesters (SIGTERM), then HAProxy, then etcd. Idempotent. */
  stop(): Promise<StopReport>;
  /** SIGKILLs everything (a test's last resort). Idempotent. */
  kill(): Promise<void>;
}

const ms = (d: string): number => parseDuration(d);

class Launched implements LaunchedCluster {
  readonly ingesters: MuninnNode[] = [];
  readonly distributors: MuninnNode[] = [];
  readonly queriers: MuninnNode[] = [];
  haproxy!: Haproxy;
  private readonly roles = new Map<MuninnNode, NodeRole>();
  private stopping: Promise<StopReport> | null = null;
  private killed = false;
  /** HAProxy's config and runtime API socket. */
  private haproxyDir: string | null = null;

  constructor(
    readonly etcd: EtcdServer,
    private readonly ownEtcd: boolean,
    readonly dataDir: string,
    private readonly removeData: boolean,
    private readonly o: LaunchOptions,
    private readonly fixed: FixedPorts | null,
  ) {}

  get nodes(): MuninnNode[] {
    return [...this.ingesters, ...this.distributors, ...this.queriers];
  }

  get endpoints(): ClusterEndpoints {
    const gateway = this.haproxy.gatewayUrl;
    const nodes = this.nodes.map((n) => ({
      id: n.id,
      role: this.roleOf(n),
      http: safe(() => n.httpUrl),
      grpc: safe(() => n.grpcAddr),
      dataDir: this.roleOf(n) === 'ingester' ? join(this.dataDir, n.id) : '',
    }));
    return { gateway, write: `${gateway}/api/v1/push`, query: `${gateway}/prometheus`, stats: this.haproxy.statsUrl, etcd: this.etcd.endpoint, nodes };
  }

  roleOf(node: MuninnNode): NodeRole {
    const r = this.roles.get(node);
    if (r === undefined) throw new Error(`${node.id} is not a node of this cluster`);
    return r;
  }

  private say(msg: string): void {
    this.o.log?.(`${new Date().toISOString().slice(11, 23)} ${'cluster'.padEnd(14)} ${msg}`);
  }

  addNode(role: NodeRole, i: number): MuninnNode {
    const id = `${role}-${i}`;
    const dir = join(this.dataDir, id);
    // only ingesters keep data; the others get a path that stays unused
    if (role === 'ingester') mkdirSync(dir, { recursive: true });
    const o = this.o;
    const flags = [
      `-target=${role}`,
      ...ringFlags(this.etcd.endpoint, { heartbeatPeriod: o.heartbeatPeriod ?? '1s', heartbeatTimeout: o.heartbeatTimeout ?? '5s', replicationFactor: o.replicationFactor ?? 3 }),
      `-shutdown-delay=${o.shutdownDelay ?? '2s'}`,
      `-server.graceful-shutdown-timeout=${o.gracefulShutdownTimeout ?? '10s'}`,
      `-shutdown.termination-grace-period=${o.terminationGracePeriod ?? '20s'}`,
      ...(o.keepalive?.maxConnectionAge !== undefined ? [`-server.grpc.keepalive.max-connection-age=${o.keepalive.maxConnectionAge}`] : []),
      ...(o.keepalive?.maxConnectionAgeGrace !== undefined ? [`-server.grpc.keepalive.max-connection-age-grace=${o.keepalive.maxConnectionAgeGrace}`] : []),
      ...(o.keepalive?.maxConnectionIdle !== undefined ? [`-server.grpc.keepalive.max-connection-idle=${o.keepalive.maxConnectionIdle}`] : []),
    ];
    if (role === 'ingester') {
      flags.push(
        `-ingester.ring.instance-id=${id}`,
        `-ingester.ring.tokens-file-path=${join(dir, 'tokens')}`,
        '-ingester.ring.unregister-on-shutdown=false',
      );
    }
    if (role === 'distributor') flags.push(`-distributor.ring.instance-id=${id}`);
    if (this.fixed !== null) {
      const http = this.fixed[role] + i;
      flags.push(`-server.http-listen-port=${http}`, `-server.grpc-listen-port=${http + 1000}`);
    }
    flags.push(...(o.args?.all ?? []), ...(o.args?.[role] ?? []));
    // MuninnNode's role type names the roles of test clusters; a querier is a node like the others
    const node = new MuninnNode({ id, role: role as Role, dataDir: join(dir, 'tsdb'), args: flags });
    this.roles.set(node, role);
    (role === 'ingester' ? this.ingesters : role === 'distributor' ? this.distributors : this.queriers).push(node);
    return node;
  }

  /** Starts the process and forwards its logs; does not wait for readiness beyond "Muninn started". */
  async spawn(node: MuninnNode, extraArgs: readonly string[] = []): Promise<void> {
    try {
      await node.start(extraArgs);
    } catch (e) {
      const msg = (e as Error).message;
      const hint = this.fixed !== null && /EADDRINUSE/.test(msg) ? ' (a port is taken: run with --ports=auto or another --port-base)' : '';
      throw new Error(`${node.id} did not start${hint}: ${msg.slice(0, 4000)}`);
    }
    const p = node.proc;
    if (this.o.log !== undefined) forwardProcLogs(node.id, p, { sink: this.o.log, verbose: this.o.verbose ?? false, maxLines: this.o.maxLogLines });
    else if (this.o.maxLogLines !== undefined) forwardProcLogs(node.id, p, { sink: () => undefined, verbose: false, maxLines: this.o.maxLogLines });
    this.say(`${node.id} started: http ${node.httpUrl} grpc ${node.grpcAddr}`);
    void p.exited.then((e) => {
      const how = e.signal !== null ? `signal ${e.signal}` : `code ${e.code}`;
      if (e.code !== 0 || this.o.verbose === true) this.say(`${node.id} exited (${how})`);
    });
  }

  async startNode(node: MuninnNode, extraArgs: readonly string[] = []): Promise<void> {
    const role = this.roleOf(node);
    await this.spawn(node, extraArgs);
    const backend = backendOf(role);
    // a process that could not get its old port back started on a fresh one: HAProxy follows
    if (backend !== null && this.haproxy !== undefined) await this.haproxy.setServerAddress(backend, node.id, '127.0.0.1', node.proc.httpPort);
    await this.waitReady();
  }

  async stopNode(node: MuninnNode): Promise<ExitInfo> {
    this.roleOf(node);
    return node.stop(ms(this.o.terminationGracePeriod ?? '20s'));
  }

  async restart(node: MuninnNode, extraArgs: readonly string[] = []): Promise<ExitInfo> {
    const exit = await this.stopNode(node);
    await this.startNode(node, extraArgs);
    return exit;
  }

  async waitReady(timeoutMs = this.o.readyTimeoutMs ?? 30_000): Promise<void> {
    const running = (l: MuninnNode[]): MuninnNode[] => l.filter((n) => n.running);
    const ing = Object.fromEntries(running(this.ingesters).map((n) => [n.id, 'ACTIVE']));
    const dist = Object.fromEntries(running(this.distributors).map((n) => [n.id, 'ACTIVE']));
    await Promise.all([
      ...running(this.distributors).flatMap((d) => [
        waitForRingStates(d, 'ingester', ing, { timeoutMs }),
        waitForRingStates(d, 'distributor', dist, { timeoutMs }),
      ]),
      ...running(this.queriers).map((q) => waitForRingStates(q, 'ingester', ing, { timeoutMs })),
    ]);
    if (this.haproxy === undefined) return;
    await Promise.all([
      ...running(this.distributors).map((n) => this.haproxy.waitForServer('distributors', n.id, 'UP', timeoutMs)),
      ...running(this.queriers).map((n) => this.haproxy.waitForServer('queriers', n.id, 'UP', timeoutMs)),
    ]);
  }

  async startHaproxy(): Promise<void> {
    const check: HealthCheck = { ...DEFAULT_HEALTH_CHECK, ...this.o.healthCheck };
    const runDir = mkdtempSync(join(tmpdir(), 'muninn-haproxy-'));
    this.haproxyDir = runDir;
    const servers = (l: MuninnNode[]): Array<{ name: string; host: string; port: number }> => l.map((n) => ({ name: n.id, host: '127.0.0.1', port: n.proc.httpPort }));
    const log = this.o.log;
    let last: unknown;
    for (let attempt = 0; attempt < (this.fixed === null ? 3 : 1); attempt++) {
      const gatewayPort = this.fixed?.gateway ?? await freePort();
      let statsPort = this.fixed?.stats ?? await freePort();
      while (statsPort === gatewayPort) statsPort = await freePort();
      try {
        this.haproxy = await startHaproxy({
          configPath: join(runDir, 'haproxy.cfg'),
          config: { gatewayPort, statsPort, socketPath: join(runDir, 'haproxy.sock'), distributors: servers(this.distributors), queriers: servers(this.queriers), check },
          onLine: log === undefined ? undefined : (line, stream) => {
            if (this.o.verbose === true || isNotableHaproxy(line, stream)) log(`${new Date().toISOString().slice(11, 23)} ${'haproxy'.padEnd(14)} ${line}`);
          },
        });
        this.say(`haproxy started: gateway ${this.haproxy.gatewayUrl}, stats ${this.haproxy.statsUrl} (config ${join(runDir, 'haproxy.cfg')})`);
        return;
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  stop(): Promise<StopReport> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<StopReport> {
    const grace = ms(this.o.terminationGracePeriod ?? '20s');
    const stopAll = async (l: MuninnNode[]): Promise<void> => {
      await Promise.allSettled(l.filter((n) => n.running).map((n) => n.stop(grace)));
    };
    this.say('stopping: distributors and queriers');
    await stopAll([...this.distributors, ...this.queriers]);
    this.say('stopping: ingesters');
    await stopAll(this.ingesters);
    this.say('stopping: haproxy and etcd');
    if (this.haproxy !== undefined) await this.haproxy.stop();
    if (this.ownEtcd) await this.etcd.close();
    this.removeFiles();
    const exits: Record<string, ExitInfo> = {};
    for (const n of this.nodes) {
      try {
        exits[n.id] = await n.proc.exited;
      } catch {
        // never started
      }
    }
    const clean = this.nodes.every((n) => exits[n.id]?.code === 0);
    this.say(clean ? 'stopped: every process exited 0' : `stopped; not clean: ${JSON.stringify(exits)}`);
    return { exits, clean };
  }

  async kill(): Promise<void> {
    if (this.killed) return;
    this.killed = true;
    await Promise.allSettled(this.nodes.filter((n) => n.running).map((n) => n.kill()));
    if (this.haproxy !== undefined) await this.haproxy.kill();
    if (this.ownEtcd) await this.etcd.close();
    this.removeFiles();
  }

  private removeFiles(): void {
    if (this.haproxyDir !== null) rmSync(this.haproxyDir, { recursive: true, force: true });
    if (this.removeData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function backendOf(role: NodeRole): Backend | null {
  return role === 'distributor' ? 'distributors' : role === 'querier' ? 'queriers' : null;
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}

/**
 * Starts etcd (unless given), the ingesters, then the distributors and queriers, then HAProxy,
 * and waits until everything is ready. On a failure everything started is killed.
 */
export async function start(o: LaunchOptions = {}): Promise<LaunchedCluster> {
  // the nodes are known to be up by their "Muninn started" line, logged at info
  const quiet = [...(o.args?.all ?? []), ...(o.args?.ingester ?? []), ...(o.args?.distributor ?? []), ...(o.args?.querier ?? [])]
    .find((a) => /^--?log\.level[= ](warn|error)$/.test(a));
  if (quiet !== undefined) throw new Error(`${quiet}: the launcher needs each process's info lines (it waits for "Muninn started"); its log forwarding shows only warnings and errors unless verbose`);
  const fixed = o.ports === undefined || o.ports === 'auto' ? null : { ...DEFAULT_PORTS, ...o.ports };
  const dataDir = o.dataDir !== undefined ? resolve(o.dataDir) : mkdtempSync(join(tmpdir(), 'muninn-cluster-'));
  mkdirSync(dataDir, { recursive: true });
  const removeData = o.removeDataDir ?? o.dataDir === undefined;
  const etcd = o.etcd ?? await startEtcd();
  const c = new Launched(etcd, o.etcd === undefined, dataDir, removeData, o, fixed);
  const check: HealthCheck = { ...DEFAULT_HEALTH_CHECK, ...o.healthCheck };
  // a process answers 503 on /ready at once: HAProxy notices within fall checks, each interval apart
  const detectMs = check.intervalMs * check.fall + 500;
  if (ms(o.shutdownDelay ?? '2s') < detectMs) {
    o.log?.(`${new Date().toISOString().slice(11, 23)} ${'cluster'.padEnd(14)} WARN  -shutdown-delay (${o.shutdownDelay ?? '2s'}) is below HAProxy's time to notice a failing /ready (interval x fall + 500ms = ${detectMs}ms): requests may reach a process after its listener closed`);
  }
  try {
    for (let i = 0; i < (o.ingesters ?? 3); i++) c.addNode('ingester', i);
    for (let i = 0; i < (o.distributors ?? 2); i++) c.addNode('distributor', i);
    for (let i = 0; i < (o.queriers ?? 1); i++) c.addNode('querier', i);
    // every start settles before a failure is thrown, so kill() sees every process that came up
    const all = async (l: MuninnNode[]): Promise<void> => {
      const failed = (await Promise.allSettled(l.map((n) => c.spawn(n)))).find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    };
    await all(c.ingesters);
    await all([...c.distributors, ...c.queriers]);
    await c.startHaproxy();
    await c.waitReady();
    return c;
  } catch (e) {
    await c.kill();
    throw e;
  }
}
