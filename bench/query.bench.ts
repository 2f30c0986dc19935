// Query benchmark against Prometheus: `npm run bench:query [-- --series N --hours H --runs N ...]`.
//
// Starts Muninn as one process (`-target=all`, ring replication factor 1, 127.0.0.1, a temporary
// -blocks-storage.tsdb.dir) and Prometheus from Debian's package (`--web.enable-remote-write-receiver`,
// a temporary TSDB) side by side, loads the same samples into both by remote write (the very same
// request bodies, sent to Muninn's `/api/v1/push` under one tenant and to Prometheus's
// `/api/v1/write`), checks that both hold every series and sample, then runs a fixed list of
// PromQL queries against both in the same run: each query as an instant query at three times and
// as a range query over the whole data window (some at several steps). Every answer of Muninn is
// compared with Prometheus's (same result type, same series label sets, same timestamps, values
// equal within 1e-9 relative or both NaN); any difference is printed loudly with a diff summary and
// the process exits 1. Latency: one untimed pass (the one whose results are compared), then
// --runs timed passes; in each pass every query goes to both systems back to back, the order
// alternating from pass to pass. The table prints the median latency per query for each system,
// the ratio Muninn / Prometheus (above 1: Muninn is slower), the server CPU per query (utime +
// stime from /proc, all threads, 10 ms ticks averaged over the passes) and the geometric mean of
// the ratios.
//
// Data: the reference workload's series model (bench/workload.ts, the same series, labels and
// values as ../shared/bench/rwload.mjs: S series = S/100 targets x 100 metric names, counters and
// gauges, 10 labels each) plus one classic histogram per target and handler
// (`rwbench_http_request_duration_seconds_{bucket,sum,count}`, 12 `le` buckets, 2 handlers: 28
// series per target), so histogram_quantile has buckets to work on. One sample per series every
// --step-ms (15 s) over --hours (1 h), ending 5 minutes before the start of the bench. rwload itself
// is not used: it cannot add the histogram series, and a second loader run after it would be
// refused by both receivers (samples more than 1 h behind a tenant's newest sample are out of
// bounds in Muninn's and Prometheus's heads); here each round of every series goes out before the
// next round starts, so every sample is in order in both.
//
// Why the sample timestamps sit 7.321 s past a 15 s boundary and the query times 0.5 s past a
// whole second: Prometheus 3 (whose semantics Muninn follows) made range selectors, subquery
// ranges and the lookback window left-open; Prometheus 2.42 (Debian's) includes a sample lying
// exactly on the left edge. With no sample ever on a window edge (windows are whole seconds
// relative to evaluation times at x.500 s, subquery steps are whole seconds, samples are at
// x.321 s), both versions select the same samples and must give the same answers. Other
// differences between Prometheus 2.42 and 3.x that the data and queries stay clear of:
// - rate/increase extrapolation at a series' start: 2.42 caps the extrapolation at the counter's
//   zero point before deciding between "to the window's edge" and "half an interval", 3.x after
//   (Muninn follows 3.x). They differ only when a counter starts inside the window near zero, so
//   the histogram counters start from large values, as counters that have run a while do.
// - name removal: both drop __name__ at the function by default (Muninn's
//   -querier.enable-delayed-name-removal would drop it at the end, as Prometheus 3 with
//   --enable-feature=promql-delayed-name-removal), so `rate({__name__=~"a|b"}[5m])` where a and b
//   have equal other labels is an error ("vector cannot contain metrics with the same labelset")
//   in both. The queries that span several names still pick names whose series keep distinct
//   labels (the reference workload's container label cycles with period 6 over metric numbers).
// - topk/bottomk ties: which of equal values survive depends on the order series come out of
//   storage (Prometheus: series creation order; Muninn: label order), so topk ranks values that
//   practically never tie (gauges, deriv), not counters' rates (integer increments per 15 s).
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compressSync } from 'snappy';
import { encodeWriteRequest, type SeriesObject } from '../src/remotewrite/index.js';
import { SINGLE_PROCESS_ARGS, cpuProfilesIn, cpuSeconds, printProfileSummary, procStatus, type Server, startMuninn, startPrometheus, summarizeCpuProfile } from './harness.js';
import { makeWorkload } from './workload.js';

const { values: a } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    hours: { type: 'string', default: '1' },
    'step-ms': { type: 'string', default: '15000' },
    runs: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '2' },
    tenant: { type: 'string', default: 'bench' },
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'muninn-flag': { type: 'string', multiple: true, default: [] },
    'node-flag': { type: 'string', multiple: true, default: [] },
    'show-diff': { type: 'string', default: '5' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(`npm run bench:query -- [options]
  --series N            series of the reference workload (default 10000; plus 28 histogram series per 100)
  --hours H             hours of data, one sample per series every --step-ms (default 1)
  --step-ms MS          sample interval (default 15000)
  --runs N              timed passes over the query list; medians are reported (default 5)
  --seed N              workload seed (default 1)
  --batch N --concurrency N   series per remote-write request, requests in flight per receiver (2000 2)
  --tenant ID           X-Scope-OrgID for Muninn (default bench)
  --only REGEX          only the queries matching REGEX
  --list                print the query list and exit
  --profile DIR         restart Muninn after loading under node --cpu-prof (profiles in DIR) and print
                        its hot spots (WAL replay + queries; use --only and --runs to pick what dominates)
  --muninn-flag F       extra Muninn flag, repeatable; --node-flag F: extra flag for Muninn's node
  --show-diff N         differing series/points shown per mismatch (default 5)
  --out FILE            append the final JSON line to FILE`);
  process.exit(0);
}

const SERIES = Number(a.series);
const HOURS = Number(a.hours);
const STEP = Number(a['step-ms']);
const RUNS = Math.max(1, Number(a.runs));
const SEED = Number(a.seed);
const BATCH = Number(a.batch);
const CONC = Number(a.concurrency);
const TENANT = a.tenant as string;
const SHOW = Number(a['show-diff']);
const ROUNDS = Math.max(2, Math.floor((HOURS * 3_600_000) / STEP));
const METRICS = 100;
const TARGETS = Math.ceil(SERIES / METRICS);

const MUNINN_ARGS = [
  ...SINGLE_PROCESS_ARGS,
  ...(a['muninn-flag'] ?? []),
];

function log(line: string): void {
  console.error(`[bench:query] ${line}`);
}

// ---------------------------------------------------------------------------------------------
// Time layout

/** Samples sit this far past a whole minute (and so past every 15 s boundary): never on a query window's edge. */
const SAMPLE_PHASE_MS = 7_321;
const NOW = Date.now();
const DATA_START = Math.floor((NOW - 5 * 60_000 - ROUNDS * STEP) / 60_000) * 60_000 + SAMPLE_PHASE_MS;
const DATA_END = DATA_START + (ROUNDS - 1) * STEP;
/** Query evaluation times: x.500 s. */
const at500 = (ms: number): number => Math.floor(ms / 1000) * 1000 + 500;
const Q_START = at500(DATA_START) < DATA_START ? at500(DATA_START) + 1000 : at500(DATA_START);
const Q_END = at500(DATA_END) < DATA_END ? at500(DATA_END) + 1000 : at500(DATA_END);
const INSTANT_TIMES = [at500(DATA_START + 0.25 * (DATA_END - DATA_START)), at500(DATA_START + 0.6 * (DATA_END - DATA_START)), Q_END];
const sec = (ms: number): string => (ms / 1000).toFixed(3);

// ---------------------------------------------------------------------------------------------
// The data: the reference workload + classic histograms

const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
/** Where an observation falling into bucket b (le[b-1], le[b]] adds to _sum. */
const MID = [0.003, 0.008, 0.02, 0.04, 0.08, 0.2, 0.4, 0.8, 2, 4, 8, 15];
/** Relative weight of each bucket's observations (a latency-like shape). */
const WEIGHT = [1, 2, 4, 8, 12, 10, 6, 3, 2, 1, 0, 1];
const HANDLERS = ['/api/v1/query', '/api/v1/push'];
const HIST = 'rwbench_http_request_duration_seconds';

function mix(x: number, y: number, z: number): number {
  let h = Math.imul(x + 1, 0x9e3779b1) ^ Math.imul(y + 7, 0x85ebca77) ^ Math.imul(z + 13, 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 13;
  return h >>> 0;
}

interface HistSeries {
  /** labels of _bucket for each le, then _sum, then _count */
  bucketLabels: string[][];
  sumLabels: string[];
  countLabels: string[];
}

function sortedFlat(m: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(m).sort()) out.push(k, m[k] as string);
  return out;
}

class DataSet {
  readonly wl = makeWorkload(SERIES, SEED, METRICS);
  readonly labels: string[][] = [];
  readonly hists: HistSeries[] = [];
  /** cumulative counts per histogram x bucket (non-cumulative over le) */
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;

  constructor() {
    for (let i = 0; i < SERIES; i++) this.labels.push(this.wl.labels(i));
    for (let t = 0; t < TARGETS; t++) {
      const base: Record<string, string> = {};
      const l = this.labels[t * METRICS] as string[];
      for (let k = 0; k < l.length; k += 2) base[l[k] as string] = l[k + 1] as string;
      delete base.__name__;
      base.container = 'app';
      for (const handler of HANDLERS) {
        this.hists.push({
          bucketLabels: LE.map((le) => sortedFlat({ ...base, handler, le, __name__: `${HIST}_bucket` })),
          sumLabels: sortedFlat({ ...base, handler, __name__: `${HIST}_sum` }),
          countLabels: sortedFlat({ ...base, handler, __name__: `${HIST}_count` }),
        });
      }
    }
    // counters that have run for a while: a start far from zero (see the file header)
    this.counts = new Float64Array(this.hists.length * LE.length);
    this.sums = new Float64Array(this.hists.length);
    for (let h = 0; h < this.hists.length; h++) {
      for (let b = 0; b < LE.length; b++) {
        const n = 100 * (WEIGHT[b] as number) * (1 + (mix(h, -1, b) % 50));
        this.counts[h * LE.length + b] = n;
        this.sums[h] = (this.sums[h] as number) + n * (MID[b] as number);
      }
    }
  }

  get totalSeries(): number {
    return SERIES + this.hists.length * (LE.length + 2);
  }

  /** Every series' labels, in the order of round()'s values. */
  allLabels(): string[][] {
    const out = [...this.labels];
    for (const hs of this.hists) out.push(...hs.bucketLabels, hs.sumLabels, hs.countLabels);
    return out;
  }

  /** The values of round r, in allLabels() order (histogram state advances: call once per round, in order). */
  round(r: number, out: Float64Array): void {
    let j = 0;
    for (let i = 0; i < SERIES; i++) out[j++] = this.wl.value(i, r);
    for (let h = 0; h < this.hists.length; h++) {
      // observations this round: 0..~WEIGHT x 5 per bucket, varying per histogram and round
      const scale = 1 + (mix(h, 0, 0) % 5);
      let cum = 0;
      for (let b = 0; b < LE.length; b++) {
        const n = mix(h, r, b) % ((WEIGHT[b] as number) * scale + 1);
        const k = h * LE.length + b;
        this.counts[k] = (this.counts[k] as number) + n;
        this.sums[h] = (this.sums[h] as number) + n * (MID[b] as number);
        cum += this.counts[k] as number;
        out[j++] = cum;
      }
      out[j++] = this.sums[h] as number;
      out[j++] = cum;
    }
  }
}

/**
 * Remote-write 1.0 bodies of one sample per series, with each series' label fields encoded once
 * (by encodeWriteRequest) and the TimeSeries messages around them written by hand, byte for byte
 * what encodeWriteRequest writes (checked on the first round).
 */
class Encoder {
  private readonly labelBytes: Buffer[];

  constructor(private readonly labels: string[][]) {
    this.labelBytes = labels.map((l) => {
      const wr = Buffer.from(encodeWriteRequest({ series: [{ labels: l }] }));
      // 0x0a <len varint> <label fields>
      let p = 1;
      while ((wr[p] as number) & 0x80) p++;
      return wr.subarray(p + 1);
    });
  }

  /** Series [from, to) with values[i] at ts. */
  encode(from: number, to: number, values: Float64Array, ts: number): Buffer {
    const tsLen = varintLen(ts);
    let size = 0;
    for (let i = from; i < to; i++) {
      const sample = (Object.is(values[i], 0) ? 0 : 9) + 1 + tsLen;
      const inner = (this.labelBytes[i] as Buffer).length + 2 + sample;
      size += 1 + varintLen(inner) + inner;
    }
    const b = Buffer.allocUnsafe(size);
    let p = 0;
    for (let i = from; i < to; i++) {
      const v = values[i] as number;
      const lb = this.labelBytes[i] as Buffer;
      const sample = (Object.is(v, 0) ? 0 : 9) + 1 + tsLen;
      b[p++] = 0x0a;
      p = writeVarint(b, p, lb.length + 2 + sample);
      p += lb.copy(b, p);
      b[p++] = 0x12;
      b[p++] = sample;
      if (!Object.is(v, 0)) {
        b[p++] = 0x09;
        p = b.writeDoubleLE(v, p);
      }
      b[p++] = 0x10;
      p = writeVarint(b, p, ts);
    }
    return b;
  }

  /** The same request through encodeWriteRequest. */
  reference(from: number, to: number, values: Float64Array, ts: number): Buffer {
    const series: SeriesObject[] = [];
    for (let i = from; i < to; i++) series.push({ labels: this.labels[i] as string[], samples: [{ value: values[i] as number, timestamp: ts }] });
    return Buffer.from(encodeWriteRequest({ series }));
  }
}

function varintLen(n: number): number {
  let l = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    l++;
  }
  return l;
}

function writeVarint(b: Buffer, p: number, n: number): number {
  while (n >= 128) {
    b[p++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  b[p++] = n;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Remote-write sender: per-slot ordering (slot b of round r+1 waits for slot b of round r), at
// most CONC requests in flight.

class Sender {
  readonly byStatus: Record<string, number> = {};
  firstError: string | null = null;
  samplesOk = 0;
  private inflight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly tails: Array<Promise<void>> = [];

  constructor(readonly name: string, private readonly url: string, private readonly headers: Record<string, string>) {}

  private async acquire(): Promise<void> {
    if (this.inflight < CONC) {
      this.inflight++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.inflight--;
  }

  send(slot: number, body: Buffer, samples: number): Promise<void> {
    const prev = this.tails[slot] ?? Promise.resolve();
    const p = prev.then(async () => {
      await this.acquire();
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', ...this.headers },
        }).catch((e: unknown) => e as Error);
        const key = res instanceof Error ? `error:${res.message}` : String(res.status);
        this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
        if (!(res instanceof Error) && res.status >= 200 && res.status < 300) {
          this.samplesOk += samples;
          await res.arrayBuffer();
        } else if (this.firstError === null) {
          this.firstError = `${key}: ${res instanceof Error ? '' : (await res.text()).slice(0, 300)}`;
        }
      } finally {
        this.release();
      }
    });
    this.tails[slot] = p;
    return p;
  }

  get errors(): number {
    return Object.entries(this.byStatus).filter(([k]) => !/^2\d\d$/.test(k)).reduce((s, [, v]) => s + v, 0);
  }
}

async function load(data: DataSet, senders: Sender[]): Promise<{ seconds: number; samples: number; requests: number; loaderCpuS: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const pending: Array<Promise<unknown>> = [];
  let samples = 0;
  let requests = 0;
  const labels = data.allLabels();
  const enc = new Encoder(labels);
  const values = new Float64Array(labels.length);
  for (let r = 0; r < ROUNDS; r++) {
    data.round(r, values);
    const ts = DATA_START + r * STEP;
    const round: Array<Promise<void>> = [];
    for (let s = 0, slot = 0; s < labels.length; s += BATCH, slot++) {
      const to = Math.min(labels.length, s + BATCH);
      const raw = enc.encode(s, to, values, ts);
      if (r === 0 && !raw.equals(enc.reference(s, to, values, ts))) throw new Error('bench bug: hand-encoded remote-write body differs from encodeWriteRequest');
      const body = compressSync(raw);
      for (const snd of senders) round.push(snd.send(slot, body, to - s));
      samples += to - s;
      requests++;
    }
    pending.push(Promise.all(round));
    // at most two rounds queued ahead of the wire
    if (pending.length > 2) await pending.shift();
    if (r % Math.max(1, Math.floor(ROUNDS / 10)) === 0) log(`loading: round ${r + 1}/${ROUNDS}`);
  }
  await Promise.all(pending);
  const c1 = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, samples, requests, loaderCpuS: (c1.user + c1.system) / 1e6 };
}

// ---------------------------------------------------------------------------------------------
// The queries

interface QueryDef {
  q: string;
  /** instant at INSTANT_TIMES and/or range over the window; range steps in seconds (default [60]) */
  instant?: boolean;
  range?: boolean;
  steps?: number[];
}

const H = `${HIST}_bucket`;
const QUERIES: QueryDef[] = [
  // selectors
  { q: 'rwbench_http_requests_total', steps: [15, 60, 300] },
  { q: 'rwbench_node_connections{env="prod", region=~"us-.*"}' },
  { q: '{__name__=~"rwbench_(node|go)_.+", job="api-server"}' },
  { q: '{__name__=~"rwbench_.+"}', range: false },
  { q: 'count by (__name__) ({__name__=~"rwbench_.+"})' },
  // counters
  { q: 'rate(rwbench_http_requests_total[5m])', steps: [15, 60, 300] },
  { q: 'irate(rwbench_http_bytes_total[2m])' },
  { q: 'sum by (region, env) (increase(rwbench_http_errors_total[1h]))' },
  { q: 'sum by (job) (rate(rwbench_http_requests_total[5m]))', steps: [15, 60, 300] },
  { q: 'sum by (namespace) (rate({__name__=~"rwbench_(http|process|db)_requests_total"}[5m]))' },
  { q: 'sum(rate(rwbench_process_requests_total[5m] offset 10m))' },
  // topk / bottomk / sort
  { q: 'topk(5, max_over_time(rwbench_node_connections[5m]))' },
  { q: 'bottomk by (region) (2, rwbench_node_connections)' },
  { q: 'topk(10, sum by (pod) (deriv(rwbench_go_items[10m])))' },
  { q: 'sort_desc(sum by (job) (rwbench_go_items))', range: false },
  // classic histograms
  { q: `histogram_quantile(0.99, sum by (le, job) (rate(${H}[5m])))` },
  { q: `histogram_quantile(0.5, sum by (le) (rate(${H}[10m])))` },
  { q: `histogram_quantile(0.9, rate(${H}{handler="/api/v1/query"}[5m]))` },
  { q: `sum by (job) (rate(${HIST}_sum[5m])) / sum by (job) (rate(${HIST}_count[5m]))` },
  // over_time
  { q: 'avg_over_time(rwbench_node_connections[10m])' },
  { q: 'max_over_time(rwbench_go_items[30m])' },
  { q: 'quantile_over_time(0.95, rwbench_cache_latency_seconds[15m])' },
  { q: 'stddev_over_time(rwbench_net_timeouts[10m])' },
  { q: 'changes(rwbench_grpc_items[15m])' },
  { q: 'delta(rwbench_go_items[10m])' },
  { q: 'deriv(rwbench_node_connections[10m])' },
  // binary operators and matching
  { q: 'rate(rwbench_http_errors_total[5m]) / ignoring(container) rate(rwbench_http_requests_total[5m])' },
  { q: 'rate(rwbench_http_errors_total[5m]) / on(instance, job) rate(rwbench_http_requests_total[5m])' },
  { q: '{__name__=~"rwbench_http_(requests|errors|bytes)_total"} / on(instance) group_left sum by (instance) (rwbench_http_requests_total)' },
  { q: 'sum by (cluster) (rwbench_node_connections) * on(cluster) group_right(env) max by (cluster, env) (rwbench_go_items)' },
  { q: 'rwbench_node_connections > 900' },
  { q: 'rwbench_node_connections > bool 500' },
  { q: 'rate(rwbench_http_requests_total[5m]) > 0.5 and on(instance) rwbench_node_connections > 500' },
  { q: 'rwbench_go_items unless on(instance) rwbench_node_connections < 300' },
  { q: 'abs(rwbench_node_connections - 500) * 2 + 1' },
  // other aggregations
  { q: 'count_values by (env) ("bucket", floor(rwbench_node_connections / 250))' },
  { q: 'quantile by (region) (0.9, rwbench_node_connections)' },
  { q: 'stddev by (job) (rwbench_go_items)' },
  { q: 'avg by (namespace) (rwbench_cache_latency_seconds)' },
  { q: 'count(rwbench_node_connections > 500)' },
  // subqueries
  { q: 'max_over_time(rate(rwbench_http_requests_total[5m])[30m:1m])' },
  { q: 'avg_over_time(sum by (job) (rwbench_node_connections)[1h:5m])' },
  { q: 'min_over_time(deriv(rwbench_go_items[10m])[20m:2m])' },
  // functions
  { q: 'label_replace(sum by (pod) (rwbench_node_connections), "app", "$1", "pod", "([a-z-]+)-[0-9a-f]+-.*")' },
  { q: 'scalar(sum(rwbench_go_items))' },
  { q: 'absent(rwbench_does_not_exist)' },
  { q: 'timestamp(rwbench_node_connections{job="payments"})' },
];

interface Case {
  id: string;
  q: string;
  kind: 'instant' | 'range';
  step: number;
}

function cases(): Case[] {
  const re = a.only !== undefined ? new RegExp(a.only) : null;
  const out: Case[] = [];
  QUERIES.forEach((d, i) => {
    if (re !== null && !re.test(d.q)) return;
    if (d.instant !== false) out.push({ id: `${i + 1}i`, q: d.q, kind: 'instant', step: 0 });
    if (d.range !== false) for (const s of d.steps ?? [60]) out.push({ id: `${i + 1}r${s}`, q: d.q, kind: 'range', step: s });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Query clients

interface Target {
  name: 'muninn' | 'prometheus';
  pid: number;
  api: string;
  headers: Record<string, string>;
}

interface Answer {
  status: number;
  text: string;
  ms: number;
}

async function ask(t: Target, path: 'query' | 'query_range', params: Record<string, string>): Promise<Answer> {
  const body = new URLSearchParams(params).toString();
  const t0 = performance.now();
  const res = await fetch(`${t.api}/${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...t.headers } });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0 };
}

function paramsOf(c: Case, time: number): Record<string, string> {
  return c.kind === 'instant'
    ? { query: c.q, time: sec(time) }
    : { query: c.q, start: sec(Q_START), end: sec(Q_END), step: String(c.step) };
}

/** One execution of a case: the instant query at every INSTANT_TIMES (mean latency), or the range query. */
async function runCase(t: Target, c: Case): Promise<{ ms: number; cpuMs: number; answers: Answer[] }> {
  const cpu0 = cpuSeconds(t.pid);
  const answers: Answer[] = [];
  if (c.kind === 'instant') for (const time of INSTANT_TIMES) answers.push(await ask(t, 'query', paramsOf(c, time)));
  else answers.push(await ask(t, 'query_range', paramsOf(c, 0)));
  const cpuMs = (cpuSeconds(t.pid) - cpu0) * 1000;
  return { ms: answers.reduce((s, x) => s + x.ms, 0) / answers.length, cpuMs: cpuMs / answers.length, answers };
}

// ---------------------------------------------------------------------------------------------
// Comparing answers

interface Series {
  key: string;
  points: Array<[number, string]>;
}

interface Parsed {
  ok: boolean;
  error?: string;
  resultType?: string;
  series: Series[];
  scalar?: [number, string];
  warnings: number;
}

function labelKey(m: Record<string, string>): string {
  return `{${Object.keys(m).sort().map((k) => `${k}=${JSON.stringify(m[k])}`).join(', ')}}`;
}

function parseAnswer(x: Answer): Parsed {
  let j: {
    status?: string; error?: string; errorType?: string; warnings?: unknown[]; infos?: unknown[];
    data?: { resultType: string; result: unknown };
  };
  try {
    j = JSON.parse(x.text);
  } catch {
    return { ok: false, error: `HTTP ${x.status}, not JSON: ${x.text.slice(0, 200)}`, series: [], warnings: 0 };
  }
  if (j.status !== 'success' || j.data === undefined) return { ok: false, error: `HTTP ${x.status} ${j.errorType ?? ''}: ${j.error ?? x.text.slice(0, 200)}`, series: [], warnings: 0 };
  const warnings = (j.warnings?.length ?? 0) + (j.infos?.length ?? 0);
  const { resultType, result } = j.data;
  if (resultType === 'scalar' || resultType === 'string') return { ok: true, resultType, series: [], scalar: result as [number, string], warnings };
  const series: Series[] = [];
  for (const s of result as Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]>; histogram?: unknown; histograms?: unknown }>) {
    const points = s.values ?? (s.value !== undefined ? [s.value] : []);
    if (s.histogram !== undefined || s.histograms !== undefined) points.push([NaN, 'native histogram (not compared)']);
    series.push({ key: labelKey(s.metric), points });
  }
  series.sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  return { ok: true, resultType, series, warnings };
}

function sameValue(x: string, y: string): boolean {
  if (x === y) return true;
  const u = Number(x);
  const v = Number(y);
  if (Number.isNaN(u) && Number.isNaN(v)) return true;
  if (!Number.isFinite(u) || !Number.isFinite(v)) return u === v;
  return Math.abs(u - v) <= 1e-9 * Math.max(Math.abs(u), Math.abs(v));
}

function relDiff(x: string, y: string): number {
  const u = Number(x);
  const v = Number(y);
  if (!Number.isFinite(u) || !Number.isFinite(v)) return u === v || (Number.isNaN(u) && Number.isNaN(v)) ? 0 : Infinity;
  const m = Math.max(Math.abs(u), Math.abs(v));
  return m === 0 ? 0 : Math.abs(u - v) / m;
}

/** Null when equal; else the diff summary lines. */
function compare(mun: Parsed, prom: Parsed): string[] | null {
  const d: string[] = [];
  if (!mun.ok || !prom.ok) {
    if (!mun.ok && !prom.ok) return [`both failed: muninn ${mun.error}; prometheus ${prom.error}`];
    return [`muninn: ${mun.ok ? 'success' : mun.error}`, `prometheus: ${prom.ok ? 'success' : prom.error}`];
  }
  if (mun.resultType !== prom.resultType) return [`resultType: muninn ${mun.resultType}, prometheus ${prom.resultType}`];
  if (mun.scalar !== undefined || prom.scalar !== undefined) {
    const [mt, mv] = mun.scalar ?? [NaN, ''];
    const [pt, pv] = prom.scalar ?? [NaN, ''];
    if (mt !== pt || !sameValue(mv, pv)) return [`scalar: muninn [${mt}, ${mv}], prometheus [${pt}, ${pv}]`];
    return null;
  }
  const pm = new Map(prom.series.map((s) => [s.key, s]));
  const mm = new Map(mun.series.map((s) => [s.key, s]));
  const onlyM = mun.series.filter((s) => !pm.has(s.key));
  const onlyP = prom.series.filter((s) => !mm.has(s.key));
  if (onlyM.length > 0 || onlyP.length > 0) {
    d.push(`series: muninn ${mun.series.length}, prometheus ${prom.series.length}; only in muninn ${onlyM.length}, only in prometheus ${onlyP.length}`);
    for (const s of onlyM.slice(0, SHOW)) d.push(`  only muninn:     ${s.key} (${s.points.length} points, first ${JSON.stringify(s.points[0])})`);
    for (const s of onlyP.slice(0, SHOW)) d.push(`  only prometheus: ${s.key} (${s.points.length} points, first ${JSON.stringify(s.points[0])})`);
  }
  let diffSeries = 0;
  let diffPoints = 0;
  let maxRel = 0;
  const shown: string[] = [];
  for (const s of mun.series) {
    const p = pm.get(s.key);
    if (p === undefined) continue;
    let bad = false;
    const pByT = new Map(p.points.map(([t, v]) => [t, v]));
    const mByT = new Map(s.points.map(([t, v]) => [t, v]));
    for (const [t, v] of s.points) {
      const w = pByT.get(t);
      if (w === undefined) {
        bad = true;
        diffPoints++;
        if (shown.length < SHOW) shown.push(`  ${s.key} @${t}: muninn ${v}, prometheus (no point)`);
      } else if (!sameValue(v, w)) {
        bad = true;
        diffPoints++;
        maxRel = Math.max(maxRel, relDiff(v, w));
        if (shown.length < SHOW) shown.push(`  ${s.key} @${t}: muninn ${v}, prometheus ${w} (rel ${relDiff(v, w).toExponential(2)})`);
      }
    }
    for (const [t, w] of p.points) {
      if (mByT.has(t)) continue;
      bad = true;
      diffPoints++;
      if (shown.length < SHOW) shown.push(`  ${s.key} @${t}: muninn (no point), prometheus ${w}`);
    }
    if (bad) diffSeries++;
  }
  if (diffSeries > 0) {
    d.push(`values: ${diffPoints} point(s) differ in ${diffSeries} of ${mun.series.length - onlyM.length} common series (max relative difference ${maxRel === Infinity ? 'inf' : maxRel.toExponential(2)})`);
    d.push(...shown);
  }
  return d.length > 0 ? d : null;
}

// ---------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/**
 * Series and samples per metric name (count and count_over_time per name: over several names,
 * count_over_time's output label sets collide once __name__ is dropped, which Prometheus refuses
 * without delayed name removal), against what was sent.
 */
async function countCheck(t: Target, data: DataSet): Promise<{ ok: boolean; detail: string }> {
  const perName = new Map<string, number>();
  const nameOf = (l: string[]): string => l[l.indexOf('__name__') + 1] as string;
  for (const l of data.labels) perName.set(nameOf(l), (perName.get(nameOf(l)) ?? 0) + 1);
  for (const h of data.hists) for (const l of [...h.bucketLabels, h.sumLabels, h.countLabels]) perName.set(nameOf(l), (perName.get(nameOf(l)) ?? 0) + 1);
  const span = Math.ceil((Q_END - DATA_START) / 1000) + 60;
  let gotSeries = 0;
  let gotSamples = 0;
  const wrong: string[] = [];
  for (const [name, n] of perName) {
    const s = parseAnswer(await ask(t, 'query', { query: `count(${name})`, time: sec(Q_END) }));
    const c = parseAnswer(await ask(t, 'query', { query: `sum(count_over_time(${name}[${span}s]))`, time: sec(Q_END) }));
    const gs = Number(s.series[0]?.points[0]?.[1] ?? 0);
    const gc = Number(c.series[0]?.points[0]?.[1] ?? 0);
    gotSeries += gs;
    gotSamples += gc;
    if (gs !== n || gc !== n * ROUNDS) wrong.push(`${name}: ${gs} series, ${gc} samples${!s.ok ? ` (${s.error})` : !c.ok ? ` (${c.error})` : ''}`);
  }
  const expSeries = data.totalSeries;
  const ok = wrong.length === 0 && gotSeries === expSeries && gotSamples === expSeries * ROUNDS;
  return { ok, detail: `${gotSeries} series, ${gotSamples} samples in ${perName.size} metric names; expected ${expSeries}, ${expSeries * ROUNDS}${wrong.length > 0 ? `; differ: ${wrong.slice(0, 5).join('; ')}` : ''}` };
}

async function main(): Promise<void> {
  const list = cases();
  if (a.list) {
    for (const c of list) console.log(`${c.id.padEnd(6)} ${c.kind === 'range' ? `range step ${c.step}s` : 'instant x3'}  ${c.q}`);
    return;
  }
  if (list.length === 0) throw new Error(`--only ${a.only} matches no query`);
  const started = new Date();
  const load0 = loadavg()[0] as number;
  const data = new DataSet();
  log(`data: ${SERIES} workload series + ${data.hists.length} histograms (${data.totalSeries} series), ${ROUNDS} rounds every ${STEP / 1000} s,` +
    ` ${new Date(DATA_START).toISOString()} .. ${new Date(DATA_END).toISOString()} (${(data.totalSeries * ROUNDS / 1e6).toFixed(2)}M samples)`);

  const profileDir = a.profile;
  const nodeArgs = a['node-flag'] ?? [];
  // profiling: Muninn takes the data unprofiled, then is restarted on the same TSDB folder under
  // --cpu-prof, so the profile holds the WAL replay and the queries but not the remote writes
  const tsdbDir = profileDir !== undefined ? mkdtempSync(join(tmpdir(), 'bench-query-muninn-')) : undefined;
  let muninn: (Server & { dir: string }) | null = null;
  let prom: Server | null = null;
  let exit = 0;
  const out = (l: string): void => console.log(l);
  try {
    [muninn, prom] = await Promise.all([startMuninn({ args: MUNINN_ARGS, nodeArgs, tsdbDir }), startPrometheus()]);
    if (prom === null) throw new Error('prometheus is not installed (apt-get install prometheus)');
    log(`muninn pid ${muninn.pid} ${muninn.url}, prometheus pid ${prom.pid} ${prom.url}`);
    const senders = [
      new Sender('muninn', `${muninn.url}/api/v1/push`, { 'X-Scope-OrgID': TENANT }),
      new Sender('prometheus', `${prom.url}/api/v1/write`, {}),
    ];
    const lc0 = [cpuSeconds(muninn.pid), cpuSeconds(prom.pid)];
    const ld = await load(data, senders);
    const lc = { muninnCpuS: cpuSeconds(muninn.pid) - (lc0[0] as number), prometheusCpuS: cpuSeconds(prom.pid) - (lc0[1] as number) };
    log(`loaded ${(ld.samples / 1e6).toFixed(2)}M samples in ${ld.requests} requests per receiver, both at once, in ${ld.seconds.toFixed(1)} s` +
      ` (CPU: loader ${ld.loaderCpuS.toFixed(1)} s, Muninn ${lc.muninnCpuS.toFixed(1)} s, Prometheus ${lc.prometheusCpuS.toFixed(1)} s)`);
    if (profileDir !== undefined) {
      await muninn.stop();
      const t0 = performance.now();
      muninn = await startMuninn({ args: MUNINN_ARGS, nodeArgs: [...nodeArgs, '--cpu-prof', `--cpu-prof-dir=${profileDir}`], tsdbDir });
      log(`muninn restarted under --cpu-prof on the same TSDB folder (pid ${muninn.pid}, listening after ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    const mt: Target = { name: 'muninn', pid: muninn.pid, api: `${muninn.url}/prometheus/api/v1`, headers: { 'X-Scope-OrgID': TENANT } };
    const pt: Target = { name: 'prometheus', pid: prom.pid, api: `${prom.url}/api/v1`, headers: {} };
    const loadErrors = senders.filter((s) => s.errors > 0);
    const [cm, cp] = await Promise.all([countCheck(mt, data), countCheck(pt, data)]);
    const checks = { muninn: cm, prometheus: cp };
    const rssLoad = { muninn: procStatus(muninn.pid), prometheus: procStatus(prom.pid) };
    log(`RSS after loading: Muninn ${Math.round(rssLoad.muninn.rssKiB / 1024)} MiB (peak ${Math.round(rssLoad.muninn.hwmKiB / 1024)}), Prometheus ${Math.round(rssLoad.prometheus.rssKiB / 1024)} MiB (peak ${Math.round(rssLoad.prometheus.hwmKiB / 1024)})`);
    for (const s of senders) log(`${s.name}: remote write ${JSON.stringify(s.byStatus)}${s.firstError ? `, first error ${s.firstError}` : ''}; holds ${checks[s.name as 'muninn' | 'prometheus'].detail}`);
    if (loadErrors.length > 0 || !checks.muninn.ok || !checks.prometheus.ok) {
      out('!'.repeat(100));
      out('!!! THE RECEIVERS DO NOT HOLD THE SAME DATA: comparisons below are not meaningful');
      for (const s of loadErrors) out(`!!!   ${s.name}: ${JSON.stringify(s.byStatus)} first error: ${s.firstError}`);
      for (const [k, v] of Object.entries(checks)) if (!v.ok) out(`!!!   ${k}: ${v.detail}`);
      out('!'.repeat(100));
      exit = 1;
    }

    // untimed pass: warm caches, compare results
    log(`${list.length} cases (${QUERIES.length} queries), untimed pass + ${RUNS} timed pass(es)`);
    const mismatches: Array<{ c: Case; time: number | null; diff: string[] }> = [];
    const sizes = new Map<string, string>();
    const warns = new Map<string, string>();
    for (const c of list) {
      const m = await runCase(mt, c);
      const p = await runCase(pt, c);
      m.answers.forEach((ma, k) => {
        const pa = p.answers[k] as Answer;
        const mp = parseAnswer(ma);
        const pp = parseAnswer(pa);
        if (k === m.answers.length - 1) {
          const points = mp.series.reduce((s, x) => s + x.points.length, 0);
          sizes.set(c.id, mp.scalar !== undefined ? 'scalar' : `${mp.series.length}/${points}`);
          if (mp.warnings + pp.warnings > 0) warns.set(c.id, `${mp.warnings}/${pp.warnings}`);
        }
        const diff = compare(mp, pp);
        if (diff !== null) mismatches.push({ c, time: c.kind === 'instant' ? (INSTANT_TIMES[k] as number) : null, diff });
      });
    }

    const ms: Record<string, { m: number[]; p: number[]; mc: number; pc: number }> = {};
    for (const c of list) ms[c.id] = { m: [], p: [], mc: 0, pc: 0 };
    const cpuM0 = cpuSeconds(mt.pid);
    const cpuP0 = cpuSeconds(pt.pid);
    const tQ0 = performance.now();
    for (let r = 0; r < RUNS; r++) {
      for (const c of list) {
        const e = ms[c.id] as (typeof ms)[string];
        for (const t of r % 2 === 0 ? [mt, pt] : [pt, mt]) {
          const x = await runCase(t, c);
          if (t.name === 'muninn') {
            e.m.push(x.ms);
            e.mc += x.cpuMs / RUNS;
          } else {
            e.p.push(x.ms);
            e.pc += x.cpuMs / RUNS;
          }
        }
      }
      log(`timed pass ${r + 1}/${RUNS} done`);
    }
    const queryS = (performance.now() - tQ0) / 1000;
    const cpuM = cpuSeconds(mt.pid) - cpuM0;
    const cpuP = cpuSeconds(pt.pid) - cpuP0;
    const rssM = procStatus(mt.pid);
    const rssP = procStatus(pt.pid);
    const load1 = loadavg()[0] as number;

    // report
    const bad = new Set(mismatches.map((x) => x.c.id));
    const rows: string[][] = [['case', 'eval', 'series/points', 'Muninn ms', 'Prom ms', 'ratio', 'Mun CPU ms', 'Prom CPU ms', 'result', 'query']];
    const ratios: number[] = [];
    const json: Array<Record<string, unknown>> = [];
    for (const c of list) {
      const e = ms[c.id] as (typeof ms)[string];
      const mm = median(e.m);
      const pm = median(e.p);
      const ratio = mm / pm;
      ratios.push(ratio);
      rows.push([c.id, c.kind === 'instant' ? 'instant x3' : `range ${c.step}s`, sizes.get(c.id) ?? '', fmtMs(mm), fmtMs(pm), ratio.toFixed(2),
        e.mc.toFixed(0), e.pc.toFixed(0), bad.has(c.id) ? 'MISMATCH' : 'same', c.q]);
      json.push({ id: c.id, query: c.q, kind: c.kind, step: c.step, size: sizes.get(c.id), muninnMs: Number(mm.toFixed(3)), prometheusMs: Number(pm.toFixed(3)),
        ratio: Number(ratio.toFixed(3)), muninnCpuMs: Number(e.mc.toFixed(1)), prometheusCpuMs: Number(e.pc.toFixed(1)), same: !bad.has(c.id) });
    }
    const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
    const geoInstant = Math.exp(list.map((c, i) => (c.kind === 'instant' ? Math.log(ratios[i] as number) : null)).filter((x): x is number => x !== null).reduce((s, x, _, xs) => s + x / xs.length, 0));
    const geoRange = Math.exp(list.map((c, i) => (c.kind === 'range' ? Math.log(ratios[i] as number) : null)).filter((x): x is number => x !== null).reduce((s, x, _, xs) => s + x / xs.length, 0));

    out('');
    out(`bench:query ${started.toISOString()}  (${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${load0.toFixed(2)} -> ${load1.toFixed(2)})`);
    out(`data: ${SERIES} reference-workload series (seed ${SEED}) + ${data.hists.length} classic histograms x 14 = ${data.totalSeries} series, ${ROUNDS} samples each every ${STEP / 1000} s` +
      ` (${(data.totalSeries * ROUNDS / 1e6).toFixed(2)}M samples), ${new Date(DATA_START).toISOString()} .. ${new Date(DATA_END).toISOString()}`);
    out(`instant queries at ${INSTANT_TIMES.map((t) => new Date(t).toISOString().slice(11, 23)).join(', ')} (latency: mean of the 3); range queries ${new Date(Q_START).toISOString().slice(11, 23)} .. ${new Date(Q_END).toISOString().slice(11, 23)}`);
    out(`latency: median of ${RUNS} timed pass(es) (untimed pass first); CPU: server utime+stime per query, mean over the passes (10 ms ticks); series/points: Muninn's answer (last instant time)`);
    out('');
    const w = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
    for (const r of rows) out(r.map((c, i) => (i >= 2 && i <= 7 ? c.padStart(w[i] as number) : c.padEnd(w[i] as number))).join('  ').trimEnd());
    out('');
    out(`geometric mean of Muninn / Prometheus latency: x${geo.toFixed(2)} over ${list.length} cases (instant x${geoInstant.toFixed(2)}, range x${geoRange.toFixed(2)}); above 1: Muninn slower`);
    out(`query phase: ${queryS.toFixed(1)} s; server CPU over it: Muninn ${cpuM.toFixed(1)} s, Prometheus ${cpuP.toFixed(1)} s; RSS at the end: Muninn ${Math.round(rssM.rssKiB / 1024)} MiB (peak ${Math.round(rssM.hwmKiB / 1024)}), Prometheus ${Math.round(rssP.rssKiB / 1024)} MiB (peak ${Math.round(rssP.hwmKiB / 1024)})`);
    if (warns.size > 0) out(`answers with warnings/infos (muninn/prometheus, not compared): ${[...warns].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (mismatches.length > 0) {
      out('');
      out('!'.repeat(100));
      out(`!!! MISMATCH: ${bad.size} of ${list.length} cases answered differently by Muninn and Prometheus`);
      for (const x of mismatches) {
        out(`!!! ${x.c.id} ${x.c.kind === 'instant' ? `instant time=${sec(x.time as number)}` : `range start=${sec(Q_START)} end=${sec(Q_END)} step=${x.c.step}`}: ${x.c.q}`);
        for (const l of x.diff) out(`!!!   ${l}`);
      }
      out('!'.repeat(100));
      exit = 1;
    }
    if (profileDir !== undefined) out('NOTE: Muninn ran under --cpu-prof; its latencies include the profiler\'s overhead.');
    const line = JSON.stringify({
      bench: 'query', date: started.toISOString(), host: { cpus: cpus().length, node: process.version, loadavg: [load0, load1] },
      data: { series: SERIES, histograms: data.hists.length, totalSeries: data.totalSeries, rounds: ROUNDS, stepMs: STEP, start: DATA_START, end: DATA_END, seed: SEED },
      runs: RUNS, muninnFlags: MUNINN_ARGS, profiled: profileDir !== undefined, load: { ...ld, ...lc }, checks, loadErrors: senders.map((s) => ({ name: s.name, byStatus: s.byStatus })),
      geomeanRatio: Number(geo.toFixed(3)), geomeanInstant: Number(geoInstant.toFixed(3)), geomeanRange: Number(geoRange.toFixed(3)),
      cpuSeconds: { muninn: cpuM, prometheus: cpuP }, cases: json, mismatches: mismatches.map((x) => ({ id: x.c.id, query: x.c.q, time: x.time, diff: x.diff })),
    });
    out(line);
    if (a.out !== undefined) appendFileSync(a.out, line + '\n');
  } finally {
    await Promise.all([muninn?.stop(), prom?.stop()]);
    if (tsdbDir !== undefined) rmSync(tsdbDir, { recursive: true, force: true });
    if (profileDir !== undefined) for (const f of cpuProfilesIn(profileDir)) printProfileSummary(summarizeCpuProfile(f, 30), (l) => console.log(l));
  }
  process.exitCode = exit;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
