// The continuous test (src/continuoustest) against a fake Mimir: a real HTTP server on loopback
// that takes remote write (with injected faults: 5xx, 429 + Retry-After, 400, dropped connections,
// hangs) and answers the two query shapes the reader sends from what it stored (with injected
// losses and corruptions). Plus the pure parts: the value function, the encoder, the ack
// bookkeeping, the retry policy, the config.
import '../harness.js';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { uncompressSync } from 'snappy';
import { defaultsOf } from '../../src/config/index.js';
import { AckLog, addRange, GridBitmap } from '../../src/continuoustest/acked.js';
import { parseRetryAfter, TestClient } from '../../src/continuoustest/client.js';
import { type ContinuousTestConfig, continuousTestConfig, requireEndpoints } from '../../src/continuoustest/config.js';
import { SeriesEncoder } from '../../src/continuoustest/encode.js';
import { CHECK_PATH, ContinuousTest, METRIC_NAME, registerContinuousTestRoutes, sampleValue } from '../../src/continuoustest/index.js';
import { TestMetrics } from '../../src/continuoustest/metrics.js';
import { SeriesReader } from '../../src/continuoustest/reader.js';
import { groupsSelector, parseSeriesId } from '../../src/continuoustest/series.js';
import { backoffDelay, classify, LogThrottle, Pacer, type RetryPolicy, SeriesWriter } from '../../src/continuoustest/writer.js';
import { State } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, type Registry, RequestMetrics } from '../../src/metrics/index.js';
import { formatSampleValue } from '../../src/querier/api/format.js';
import { decodeWriteRequest, encodeWriteRequest, toObjects } from '../../src/remotewrite/index.js';
import { HttpServer } from '../../src/server/http.js';
import { mulberry32, withDeadline } from '../util.js';

// ---- a fake Mimir -------------------------------------------------------------------------------

interface PushFault {
  status?: number;
  headers?: Record<string, string>;
  /** Store the samples even though the answer is not 2xx (written before a 5xx). */
  store?: boolean;
  /** Close the connection without an answer. */
  destroy?: boolean;
  /** Never answer (the client times out). */
  hang?: boolean;
}

interface SeenPush {
  headers: IncomingHttpHeaders;
  ids: number[];
  ts: number[];
  values: number[];
}

class FakeMimir {
  readonly server: Server;
  /** series id -> timestamp -> value */
  readonly store = new Map<number, Map<number, number>>();
  readonly pushes: SeenPush[] = [];
  readonly queries: Array<{ path: string; form: URLSearchParams; headers: IncomingHttpHeaders }> = [];
  /** Faults for the pushes to come, in order; an empty queue answers 200. */
  pushFaults: PushFault[] = [];
  /** A fault for every push (after the queue), e.g. always 503. */
  pushFaultAlways: PushFault | undefined;
  /** Answers for the queries to come (status), in order. */
  queryFaults: number[] = [];
  private readonly hung = new Set<ServerResponse>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  set(id: number, t: number, v: number): void {
    let m = this.store.get(id);
    if (m === undefined) {
      m = new Map();
      this.store.set(id, m);
    }
    m.set(t, v);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/push') return this.push(req, res, body);
    if (url.pathname === '/prometheus/api/v1/query' || url.pathname === '/prometheus/api/v1/query_range') {
      const form = new URLSearchParams(body.toString());
      this.queries.push({ path: url.pathname, form, headers: req.headers });
      const fault = this.queryFaults.shift();
      if (fault !== undefined) {
        res.writeHead(fault, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'internal', error: 'injected' }));
        return;
      }
      const data = url.pathname.endsWith('query') ? this.instant(form) : this.range(form);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
      return;
    }
    res.writeHead(404).end('not found');
  }

  private push(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const objs = toObjects(decodeWriteRequest(uncompressSync(body, { asBuffer: true }) as Buffer));
    const seen: SeenPush = { headers: req.headers, ids: [], ts: [], values: [] };
    for (const s of objs.series) {
      const id = parseSeriesId(s.labels[3]);
      assert.deepEqual([s.labels[0], s.labels[1], s.labels[2]], ['__name__', METRIC_NAME, 'series_id']);
      for (const smp of s.samples ?? []) {
        seen.ids.push(id);
        seen.ts.push(smp.timestamp);
        seen.values.push(smp.value as number);
      }
    }
    this.pushes.push(seen);
    const f = this.pushFaults.shift() ?? this.pushFaultAlways ?? {};
    if (f.destroy === true) {
      res.socket?.destroy();
      return;
    }
    if (f.hang === true) {
      this.hung.add(res);
      return;
    }
    const status = f.status ?? 200;
    if (status < 300 || f.store === true) seen.ids.forEach((id, i) => this.set(id, seen.ts[i] as number, seen.values[i] as number));
    res.writeHead(status, f.headers ?? {}).end(status < 300 ? '' : `injected ${status}`);
  }

  private select(expr: string): { re: RegExp; ms: number; fn: boolean } {
    const m = /^(last_over_time\()?([a-z0-9_]+)\{series_id=~"([^"]*)"\}\[(\d+)ms\]\)?$/.exec(expr);
    assert.ok(m !== null, `unexpected query ${expr}`);
    assert.equal(m[2], METRIC_NAME);
    return { re: new RegExp(`^(?:${m[3]})$`), ms: Number(m[4]), fn: m[1] !== undefined };
  }

  private instant(form: URLSearchParams): unknown {
    const q = this.select(form.get('query') ?? '');
    assert.equal(q.fn, false);
    const e = Math.round(Number(form.get('time')) * 1000);
    const result = [];
    for (const [id, m] of [...this.store].sort((a, b) => a[0] - b[0])) {
      if (!q.re.test(String(id))) continue;
      const values = [...m].filter(([t]) => t > e - q.ms && t <= e).sort((a, b) => a[0] - b[0]).map(([t, v]) => [t / 1000, formatSampleValue(v)]);
      if (values.length > 0) result.push({ metric: { __name__: METRIC_NAME, series_id: String(id) }, values });
    }
    return { resultType: 'matrix', result };
  }

  private range(form: URLSearchParams): unknown {
    const q = this.select(form.get('query') ?? '');
    assert.equal(q.fn, true);
    const start = Math.round(Number(form.get('start')) * 1000);
    const end = Math.round(Number(form.get('end')) * 1000);
    const step = Math.round(Number(form.get('step')) * 1000);
    const result = [];
    for (const [id, m] of [...this.store].sort((a, b) => a[0] - b[0])) {
      if (!q.re.test(String(id))) continue;
      const values = [];
      for (let T = start; T <= end; T += step) {
        const inWindow = [...m].filter(([t]) => t > T - q.ms && t <= T).sort((a, b) => a[0] - b[0]);
        const last = inWindow[inWindow.length - 1];
        if (last !== undefined) values.push([T / 1000, formatSampleValue(last[1])]);
      }
      if (values.length > 0) result.push({ metric: { series_id: String(id) }, values });
    }
    return { resultType: 'matrix', result };
  }
}

let fake: FakeMimir;
let base: string;

before(async () => {
  fake = new FakeMimir();
  base = await fake.start();
});

after(async () => {
  await fake.stop();
});

function reset(): void {
  fake.store.clear();
  fake.pushes.length = 0;
  fake.queries.length = 0;
  fake.pushFaults = [];
  fake.pushFaultAlways = undefined;
  fake.queryFaults = [];
}

function cfg(over: Partial<ContinuousTestConfig> = {}): ContinuousTestConfig {
  const d = defaultsOf({ ct: continuousTestConfig }).ct;
  return { ...d, writeEndpoint: base, readEndpoint: `${base}/prometheus`, numSeries: 10, writeInterval: 1000, writeMinBackoff: 5, writeMaxBackoff: 20, ...over };
}

const FAST_RETRY: RetryPolicy = { minBackoffMs: 5, maxBackoffMs: 20, retryTimeoutMs: 5_000 };

/** A writer (and what it needs) over the fake, outside any service. */
function writerRig(opts: { numSeries?: number; shards?: number; step?: number; batch?: number; rate?: number; retry?: RetryPolicy; client?: Partial<ConstructorParameters<typeof TestClient>[0]> } = {}) {
  const registry = createBareRegistry();
  const metrics = new TestMetrics(registry);
  const acks = new AckLog(opts.numSeries ?? 10, opts.shards ?? 1, opts.step ?? 1000);
  const client = new TestClient({ writeEndpoint: base, readEndpoint: `${base}/prometheus`, tenantId: 'tenant-1', writeTimeoutMs: 2_000, readTimeoutMs: 5_000, ...opts.client });
  const writer = new SeriesWriter({ client, acks, batchSize: opts.batch ?? 1000, rate: opts.rate ?? 0, retry: opts.retry ?? FAST_RETRY, metrics, log: silentLogger() });
  const reader = new SeriesReader({ client, acks, maxQueryAgeMs: 7 * 24 * 3_600_000, metrics, log: silentLogger() });
  return { registry, metrics, acks, client, writer, reader };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (m === undefined) return 0;
  const v = (await m.get()).values.filter((x) => Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l));
  return v.reduce((a, x) => a + x.value, 0);
}

/** A grid timestamp k intervals ago. */
function ago(k: number, step = 1000): number {
  return Math.floor(Date.now() / step) * step - k * step;
}

// ---- the value function and the encoder ---------------------------------------------------------

test('sampleValue: deterministic, differs between series, and survives the query API number format bit for bit', () => {
  const rnd = mulberry32(7);
  const seen = new Set<number>();
  for (let k = 0; k < 20_000; k++) {
    const id = Math.floor(rnd() * 200_000);
    const t = 1_600_000_000_000 + Math.floor(rnd() * 400_000_000_000);
    const v = sampleValue(id, t);
    assert.ok(Number.isFinite(v) && v > 0, `value ${v}`);
    assert.ok(Object.is(sampleValue(id, t), v));
    // what the query API writes and the reader parses back
    assert.ok(Object.is(Number(formatSampleValue(v)), v), `${id}@${t}: ${v} -> ${formatSampleValue(v)}`);
    if (k < 200) seen.add(v);
  }
  assert.ok(seen.size > 190);
  // neighbours differ, both at one time and over time
  const t = 1_700_000_000_000;
  for (let id = 0; id < 100; id++) {
    assert.notEqual(sampleValue(id, t), sampleValue(id + 1, t));
    assert.notEqual(sampleValue(id, t), sampleValue(id, t + 20_000));
  }
  // odd series count seconds
  assert.equal(sampleValue(3, 1_700_000_000_500), 1_700_000_003.5);
});

test('SeriesEncoder: byte for byte what the reference encoder writes, and decodes to the series and values', () => {
  const enc = new SeriesEncoder();
  for (const [lo, hi, t] of [[0, 1, 1], [0, 10, 1_700_000_000_000], [95, 1205, 1_732_000_000_123], [99_990, 100_010, 2 ** 50]] as const) {
    const got = enc.encode(lo, hi, t);
    const series = [];
    for (let id = lo; id < hi; id++) series.push({ labels: ['__name__', METRIC_NAME, 'series_id', String(id)], samples: [{ value: sampleValue(id, t), timestamp: t }] });
    assert.deepEqual(Buffer.from(got), Buffer.from(encodeWriteRequest({ series })), `series ${lo}..${hi} at ${t}`);
    const back = toObjects(decodeWriteRequest(got));
    assert.equal(back.series.length, hi - lo);
    assert.ok(Object.is(back.series[0]?.samples?.[0]?.value, sampleValue(lo, t)));
  }
  assert.throws(() => enc.encode(0, 1, -1), RangeError);
});

// ---- the ack bookkeeping -------------------------------------------------------------------------

test('GridBitmap: agrees with a Set under random adds, prunes and walks', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rnd = mulberry32(seed);
    const bm = new GridBitmap();
    const model = new Set<number>();
    let floor = 0;
    let next = 1_000_000 + Math.floor(rnd() * 100);
    for (let op = 0; op < 3000; op++) {
      const r = rnd();
      if (r < 0.6) {
        next += 1 + Math.floor(rnd() * (rnd() < 0.1 ? 200 : 3));
        bm.add(next);
        if (next >= floor) model.add(next);
      } else if (r < 0.65) {
        // an add below the current start (a clock step back): grows at the front
        const i = next - Math.floor(rnd() * 500);
        bm.add(i);
        if (i >= floor) model.add(i);
      } else if (r < 0.75) {
        floor = Math.max(floor, next - Math.floor(rnd() * 400));
        bm.pruneBelow(floor);
        for (const x of model) if (x < floor) model.delete(x);
      } else {
        const lo = next - Math.floor(rnd() * 600);
        const hi = lo + Math.floor(rnd() * 600);
        const got: number[] = [];
        bm.forEach(lo, hi, (i) => got.push(i));
        assert.deepEqual(got, [...model].filter((x) => x >= lo && x <= hi).sort((a, b) => a - b), `seed ${seed} op ${op}`);
        const probe = lo + Math.floor(rnd() * 600);
        assert.equal(bm.has(probe), model.has(probe));
      }
    }
    const sorted = [...model].sort((a, b) => a - b);
    assert.deepEqual(bm.bounds(), sorted.length === 0 ? null : [sorted[0], sorted[sorted.length - 1]]);
  }
});

test('addRange merges touching and overlapping ranges', () => {
  const r: Array<[number, number]> = [];
  addRange(r, 10, 20);
  addRange(r, 30, 40);
  addRange(r, 0, 5);
  assert.deepEqual(r, [[0, 5], [10, 20], [30, 40]]);
  addRange(r, 20, 30);
  assert.deepEqual(r, [[0, 5], [10, 40]]);
  addRange(r, 3, 12);
  assert.deepEqual(r, [[0, 40]]);
  addRange(r, 7, 7);
  assert.deepEqual(r, [[0, 40]]);
});

test('AckLog: shards, partially acked ticks, cuts and pruning', () => {
  const log = new AckLog(10, 3, 1000);
  assert.deepEqual(log.shards.map((s) => [s.lo, s.hi]), [[0, 3], [3, 6], [6, 10]]);
  const [s0, s1, s2] = log.shards as [NonNullable<(typeof log.shards)[0]>, NonNullable<(typeof log.shards)[0]>, NonNullable<(typeof log.shards)[0]>];
  s0.record(1000, [[0, 3]]);
  s0.record(2000, [[1, 2]]); // partially acked
  s0.record(3000, []); // nothing acked
  s1.record(1000, [[3, 6]]);
  s2.record(5000, [[6, 10]]);
  assert.equal(log.shardOf(5), s1);
  assert.equal(log.shardOf(10), undefined);
  assert.ok(s0.isAcked(0, 1000) && s0.isAcked(1, 2000));
  assert.ok(!s0.isAcked(0, 2000) && !s0.isAcked(2, 2000) && !s0.isAcked(0, 3000) && !s0.isAcked(0, 1500));
  assert.equal(s0.countAcked(0, 10, 0, 10_000), 4);
  assert.deepEqual(log.bounds(), [1000, 5000]);
  const cuts = log.cuts();
  s1.record(2000, [[3, 6]]); // after the cut: not expected by a reader that started before
  assert.ok(!cuts.isAcked(3, 2000));
  assert.ok(log.cuts().isAcked(3, 2000));
  assert.equal(cuts.countAcked(0, 10, 0, 10_000), 4 + 3 + 4);
  assert.equal(cuts.maxDone(), 5000);
  const ts: number[] = [];
  log.cuts().forEachAcked(1, 0, 10_000, (t) => ts.push(t));
  assert.deepEqual(ts, [1000, 2000]);
  log.prune(2000);
  assert.ok(!log.cuts().isAcked(0, 1000));
  assert.ok(log.cuts().isAcked(1, 2000));
  assert.throws(() => s0.record(1500.5, []), RangeError);
});

// ---- the retry policy ----------------------------------------------------------------------------

test('classify: Prometheus\'s rule for what to retry', () => {
  const table: Array<[Parameters<typeof classify>[0], string]> = [
    [{ kind: 'ok', status: 200 }, 'acked'],
    [{ kind: 'ok', status: 204 }, 'acked'],
    [{ kind: 'http', status: 500, body: '', retryAfter: undefined }, 'retry'],
    [{ kind: 'http', status: 503, body: '', retryAfter: undefined }, 'retry'],
    [{ kind: 'http', status: 429, body: '', retryAfter: '1' }, 'retry'],
    [{ kind: 'http', status: 400, body: '', retryAfter: undefined }, 'drop'],
    [{ kind: 'http', status: 401, body: '', retryAfter: undefined }, 'drop'],
    [{ kind: 'http', status: 413, body: '', retryAfter: undefined }, 'drop'],
    [{ kind: 'http', status: 302, body: '', retryAfter: undefined }, 'drop'],
    [{ kind: 'network', message: 'ECONNRESET' }, 'retry'],
    [{ kind: 'aborted' }, 'aborted'],
  ];
  for (const [o, want] of table) assert.equal(classify(o), want, JSON.stringify(o));
});

test('backoffDelay: doubling from min, capped at max, jittered within [b/2, b]; Retry-After wins', () => {
  const p: RetryPolicy = { minBackoffMs: 30, maxBackoffMs: 5000, retryTimeoutMs: 0 };
  assert.equal(backoffDelay(0, p, () => 0), 15);
  assert.equal(backoffDelay(0, p, () => 1), 30);
  assert.equal(backoffDelay(3, p, () => 1), 240);
  assert.equal(backoffDelay(20, p, () => 1), 5000);
  assert.equal(backoffDelay(1000, p, () => 0.5), 3750);
  const rnd = mulberry32(3);
  for (let i = 0; i < 1000; i++) {
    const r = i % 12;
    const b = Math.min(5000, 30 * 2 ** r);
    const d = backoffDelay(r, p, rnd);
    assert.ok(d >= b / 2 && d <= b, `${r}: ${d}`);
  }
  assert.equal(backoffDelay(0, p, () => 0, 2000), 2000);
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:10 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('Pacer: samples per second across callers', async () => {
  const p = new Pacer(2000, Date.now);
  const t0 = Date.now();
  await Promise.all([p.take(200), p.take(200), p.take(200), p.take(200), p.take(200)]);
  const took = Date.now() - t0;
  assert.ok(took >= 380, `1000 samples at 2000/s took ${took}ms`);
  const free = new Pacer(0, Date.now);
  const t1 = Date.now();
  for (let i = 0; i < 100; i++) await free.take(1_000_000);
  assert.ok(Date.now() - t1 < 100);
});

test('LogThrottle: one line per key per interval, then the count of the lines left out', () => {
  let now = 0;
  const th = new LogThrottle(10_000, () => now);
  const lines: Array<[string, number]> = [];
  for (let i = 0; i < 5; i++) th.log('a', (n) => lines.push(['a', n]));
  th.log('b', (n) => lines.push(['b', n]));
  now = 10_000;
  th.log('a', (n) => lines.push(['a', n]));
  th.log('a', (n) => lines.push(['a', n]));
  assert.deepEqual(lines, [['a', 0], ['b', 0], ['a', 4]]);
});

// ---- the writer against the fake ----------------------------------------------------------------

test('writer: a 5xx then success is retried and acked', async () => {
  reset();
  const rig = writerRig();
  try {
    fake.pushFaults = [{ status: 500 }, { status: 503 }];
    const t = ago(1);
    const r = await rig.writer.writeTick(t);
    assert.deepEqual(r, { samples: 10, acked: 10, dropped: 0 });
    assert.equal(fake.pushes.length, 3);
    assert.deepEqual(fake.pushes[2]?.ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const p of fake.pushes) assert.deepEqual(p.ts, Array(10).fill(t));
    assert.ok(rig.acks.cuts().isAcked(9, t));
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_writes_total'), 3);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_writes_failed_total', { status_code: '500' }), 1);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_writes_failed_total', { status_code: '503' }), 1);
    assert.equal(await metricValue(rig.registry, 'muninn_continuous_test_acked_samples_total'), 10);
    assert.equal(fake.pushes[0]?.headers['x-scope-orgid'], 'tenant-1');
    assert.equal(fake.pushes[0]?.headers['content-encoding'], 'snappy');
    assert.equal(fake.pushes[0]?.headers['x-prometheus-remote-write-version'], '0.1.0');
  } finally {
    rig.client.close();
  }
});

test('writer: 429 is retried, after the Retry-After delay', async () => {
  reset();
  const rig = writerRig();
  try {
    fake.pushFaults = [{ status: 429, headers: { 'Retry-After': '1' } }];
    const t0 = Date.now();
    const r = await rig.writer.writeTick(ago(1));
    const took = Date.now() - t0;
    assert.equal(r.acked, 10);
    assert.equal(fake.pushes.length, 2);
    assert.ok(took >= 950, `retried after ${took}ms, Retry-After said 1s`);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_writes_failed_total', { status_code: '429' }), 1);
  } finally {
    rig.client.close();
  }
});

test('writer: a 400 is dropped (not retried), counted, and not acked, while the other batches go on', async () => {
  reset();
  const rig = writerRig({ batch: 4 });
  try {
    fake.pushFaults = [{}, { status: 400, store: true }];
    const t = ago(1);
    const r = await rig.writer.writeTick(t);
    assert.deepEqual(r, { samples: 10, acked: 6, dropped: 4 });
    assert.equal(fake.pushes.length, 3);
    assert.deepEqual(fake.pushes.map((p) => p.ids), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const cuts = rig.acks.cuts();
    assert.deepEqual([0, 3, 4, 7, 8, 9].map((id) => cuts.isAcked(id, t)), [true, true, false, false, true, true]);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_writes_failed_total', { status_code: '400' }), 1);
    assert.equal(await metricValue(rig.registry, 'muninn_continuous_test_dropped_samples_total', { reason: 'non_retryable' }), 4);
    // the rejected samples were stored anyway: allowed, the check passes
    const c = await rig.reader.checkAll();
    assert.equal(c.acked, 6);
    assert.equal(c.missing + c.mismatched, 0, c.details.join('\n'));
  } finally {
    rig.client.close();
  }
});

test('writer: dropped connections and timeouts are retried', async () => {
  reset();
  const rig = writerRig({ client: { writeTimeoutMs: 200 } });
  try {
    fake.pushFaults = [{ destroy: true }, { hang: true }];
    const r = await withDeadline(rig.writer.writeTick(ago(1)), 10_000, 'write did not finish');
    assert.equal(r.acked, 10);
    assert.equal(fake.pushes.length, 3);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_writes_failed_total', { status_code: '0' }), 2);
  } finally {
    rig.client.close();
  }
});

test('writer: still failing after the retry timeout: dropped with reason retry_timeout', async () => {
  reset();
  const rig = writerRig({ retry: { minBackoffMs: 10, maxBackoffMs: 40, retryTimeoutMs: 300 } });
  try {
    fake.pushFaultAlways = { status: 503 };
    const t0 = Date.now();
    const r = await rig.writer.writeTick(ago(1));
    assert.deepEqual(r, { samples: 10, acked: 0, dropped: 10 });
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(fake.pushes.length >= 2, `${fake.pushes.length} attempts`);
    assert.equal(await metricValue(rig.registry, 'muninn_continuous_test_dropped_samples_total', { reason: 'retry_timeout' }), 10);
    assert.equal(rig.acks.bounds(), null);
  } finally {
    rig.client.close();
  }
});

test('writer: stopping while a write is retried ends it at once; the client refuses work after close', async () => {
  reset();
  const rig = writerRig({ retry: { minBackoffMs: 10_000, maxBackoffMs: 10_000, retryTimeoutMs: 0 } });
  fake.pushFaultAlways = { status: 503 };
  const ac = new AbortController();
  const p = rig.writer.writeTick(ago(1), ac.signal);
  while (fake.pushes.length === 0) await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  const r = await withDeadline(p, 1000, 'stop did not end the retries');
  assert.deepEqual(r, { samples: 10, acked: 0, dropped: 10 });
  assert.equal(await metricValue(rig.registry, 'muninn_continuous_test_dropped_samples_total', { reason: 'stopped' }), 10);
  rig.client.close();
  rig.client.close();
  await assert.rejects(rig.client.write(new Uint8Array(1)), /closed/);
  await assert.rejects(rig.client.query('up', 0), /closed/);
});

test('client: authentication headers as Mimir\'s continuous test sends them', async () => {
  const table: Array<[Partial<ConstructorParameters<typeof TestClient>[0]>, string | undefined, string | undefined]> = [
    [{ tenantId: 'anonymous' }, undefined, 'anonymous'],
    [{ tenantId: 't1' }, undefined, 't1'],
    [{ tenantId: 'anonymous', bearerToken: 'tok' }, 'Bearer tok', undefined],
    [{ tenantId: 't1', bearerToken: 'tok' }, 'Bearer tok', 't1'],
    [{ tenantId: 'anonymous', basicAuthUser: 'u', basicAuthPassword: 'p' }, `Basic ${Buffer.from('u:p').toString('base64')}`, undefined],
    [{ tenantId: 't2', basicAuthUser: 'u', basicAuthPassword: 'p' }, `Basic ${Buffer.from('u:p').toString('base64')}`, 't2'],
    [{ tenantId: 't3', basicAuthUser: 'u' }, undefined, 't3'],
    [{ tenantId: 't1', bearerToken: 'tok', basicAuthUser: 'u', basicAuthPassword: 'p' }, 'Bearer tok', 't1'],
  ];
  for (const [opts, auth, org] of table) {
    reset();
    const rig = writerRig({ client: { userAgent: 'ua/1', ...opts } });
    try {
      await rig.writer.writeTick(ago(1));
      await rig.reader.checkAll();
      for (const h of [fake.pushes[0]?.headers, fake.queries[0]?.headers]) {
        assert.equal(h?.authorization, auth, JSON.stringify(opts));
        assert.equal(h?.['x-scope-orgid'], org, JSON.stringify(opts));
        assert.equal(h?.['user-agent'], 'ua/1');
      }
    } finally {
      rig.client.close();
    }
  }
});

test('writer: concurrent shards each write their series in order; the rate is held', async () => {
  reset();
  const rig = writerRig({ numSeries: 1000, shards: 4, batch: 100, step: 50, rate: 10_000 });
  const ac = new AbortController();
  const t0 = Date.now();
  const run = rig.writer.run(ac.signal);
  // until every series has been written three times (whatever the machine's speed)
  const writesOf = new Map<number, number>();
  let counted = 0;
  await withDeadline((async () => {
    for (;;) {
      for (; counted < fake.pushes.length; counted++) for (const id of fake.pushes[counted]?.ids ?? []) writesOf.set(id, (writesOf.get(id) ?? 0) + 1);
      if (writesOf.size === 1000 && [...writesOf.values()].every((n) => n >= 3)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  })(), 20_000, 'the writers did not write every series three times');
  ac.abort();
  await withDeadline(run, 2000, 'writers did not stop');
  const took = (Date.now() - t0) / 1000;
  rig.client.close();
  const samples = fake.pushes.reduce((a, p) => a + p.ids.length, 0);
  // the pacer lets 10000/s through, plus the requests already under way
  assert.ok(samples <= 10_000 * took + 4 * 100, `${samples} samples in ${took}s at 10000/s`);
  const last = new Map<number, number>();
  for (const p of fake.pushes) {
    assert.ok(p.ids.length <= 100);
    p.ids.forEach((id, i) => {
      const t = p.ts[i] as number;
      assert.equal(t % 50, 0);
      assert.ok(t <= Date.now());
      assert.ok(t > (last.get(id) ?? -1), `series ${id} got ${t} after ${last.get(id)}`);
      last.set(id, t);
    });
  }
  // what was acked was stored; only the requests cut by the stop may have been stored unacked
  const cuts = rig.acks.cuts();
  let acked = 0;
  for (let id = 0; id < 1000; id++) cuts.forEachAcked(id, 0, Infinity, (t) => {
    acked++;
    assert.ok(fake.store.get(id)?.has(t));
  });
  assert.ok(acked <= samples && acked >= samples - 4 * 100, `acked ${acked} of ${samples}`);
});

// ---- the reader and the checks --------------------------------------------------------------------

test('checkAll: passes on a faithful store; finds a lost sample, a wrong value, a sample at a wrong time and a stray series', async () => {
  reset();
  const rig = writerRig({ numSeries: 250, batch: 100 });
  try {
    const ts = [ago(30), ago(20), ago(10), ago(2)];
    for (const t of ts) await rig.writer.writeTick(t);
    let c = await rig.reader.checkAll();
    assert.deepEqual({ acked: c.acked, missing: c.missing, mismatched: c.mismatched, failed: c.queriesFailed }, { acked: 1000, missing: 0, mismatched: 0, failed: 0 });
    assert.equal(c.fromT, ts[0]);
    assert.equal(c.toT, ts[3]);
    // every query is an instant query of raw samples over series groups
    for (const q of fake.queries) assert.match(q.form.get('query') ?? '', /^muninn_continuous_test_sample_v1\{series_id=~"[^"]+"\}\[\d+ms\]$/);

    fake.store.get(7)?.delete(ts[1] as number); // lost
    fake.set(130, ts[2] as number, 42); // corrupted
    fake.set(201, (ts[2] as number) + 1, sampleValue(201, (ts[2] as number) + 1)); // a sample never written, but a valid value: allowed
    fake.set(202, (ts[2] as number) + 1, 1); // never written and wrong
    fake.set(260, ts[2] as number, 5); // a series beyond -num-series, in a queried group, with a wrong value
    c = await rig.reader.checkAll();
    assert.equal(c.acked, 1000);
    assert.equal(c.missing, 1, c.details.join('\n'));
    assert.equal(c.mismatched, 3, c.details.join('\n'));
    assert.ok(c.details.some((d) => d.includes('series_id=7') && d.includes('missing')), c.details.join('\n'));
    assert.ok(c.details.some((d) => d.includes('series_id=130') && d.includes('got 42')), c.details.join('\n'));
  } finally {
    rig.client.close();
  }
});

test('checkAll: a query failing with 5xx is retried; one failing for good counts its samples as missing', async () => {
  reset();
  const rig = writerRig({ numSeries: 20 });
  try {
    await rig.writer.writeTick(ago(3));
    fake.queryFaults = [503];
    let c = await rig.reader.checkAll();
    assert.deepEqual([c.acked, c.missing, c.queriesFailed, c.queries], [20, 0, 0, 1]);
    assert.equal(fake.queries.length, 2);
    fake.queryFaults = [400];
    c = await rig.reader.checkAll();
    assert.deepEqual([c.acked, c.missing, c.queriesFailed], [20, 20, 1]);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_queries_failed_total', { type: 'instant' }), 2);
  } finally {
    rig.client.close();
  }
});

test('reader.runOnce: range queries over the recent window for every series, raw samples for one batch, and an older window', async () => {
  reset();
  const step = 1000;
  const rig = writerRig({ numSeries: 1000, batch: 500, step });
  try {
    // 3000 ticks: more than the 1000-point recent window, so there is an older one too
    const now = ago(0);
    for (let k = 3000; k >= 1; k -= 1) if (k % 500 === 0 || k < 5) await rig.writer.writeTick(now - k * step);
    const r = await rig.reader.runOnce();
    assert.equal(r.queriesFailed, 0);
    assert.equal(r.missing + r.mismatched, 0, r.details.join('\n'));
    const range = fake.queries.filter((q) => q.path.endsWith('query_range'));
    const instant = fake.queries.filter((q) => q.path.endsWith('/query'));
    assert.ok(range.length >= 2 && instant.length === 2, `${range.length} range, ${instant.length} instant`);
    for (const q of range) {
      assert.match(q.form.get('query') ?? '', /^last_over_time\(muninn_continuous_test_sample_v1\{series_id=~"[^"]+"\}\[999ms\]\)$/);
      const points = (Number(q.form.get('end')) - Number(q.form.get('start'))) / Number(q.form.get('step')) + 1;
      assert.ok(points <= 1000, `${points} points`);
      assert.equal((Number(q.form.get('step')) * 1000) % step, 0);
    }
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_query_result_checks_total'), fake.queries.length);
    assert.equal(await metricValue(rig.registry, 'mimir_continuous_test_query_result_checks_failed_total'), 0);
    // a lost recent sample is found by the range queries, which cover every series
    fake.store.get(999)?.delete(now - step);
    const r2 = await rig.reader.runOnce();
    // found by the range queries; the instant query of the random batch may find it too (then it is
    // counted once per query that missed it), so at least once and only for that series
    assert.ok(r2.missing >= 1 && r2.missing <= 2, r2.details.join('\n'));
    assert.ok(r2.details.length > 0 && r2.details.every((d) => d.startsWith('series_id=999: 1 acked sample(s) missing')), r2.details.join('\n'));
    assert.ok(await metricValue(rig.registry, 'mimir_continuous_test_query_result_checks_failed_total', { type: 'range' }) >= 1);
    assert.ok(await metricValue(rig.registry, 'muninn_continuous_test_missing_samples_total') >= 1);
  } finally {
    rig.client.close();
  }
});

test('reader.runOnce: with many series, the recent range queries are capped per run and the batches take turns', async () => {
  reset();
  const rig = writerRig({ numSeries: 5000, batch: 1000, step: 1000 });
  try {
    const now = ago(0);
    await rig.writer.writeTick(now - 999_000);
    await rig.writer.writeTick(now - 1000);
    const groupsSeen = new Set<string>();
    for (let run = 0; run < 3; run++) {
      fake.queries.length = 0;
      const r = await rig.reader.runOnce();
      assert.equal(r.missing + r.mismatched + r.queriesFailed, 0, r.details.join('\n'));
      const range = fake.queries.filter((q) => q.path.endsWith('query_range'));
      assert.equal(range.length, 20);
      for (const q of range) groupsSeen.add(/"(.*)"/.exec(q.form.get('query') ?? '')?.[1] ?? '');
    }
    assert.equal(groupsSeen.size, 50); // 5000 series in 50 groups of 100, one group a query
    // checkAll within bounds
    const c = await rig.reader.checkAll(undefined, { fromT: now - 500_000 });
    assert.deepEqual([c.acked, c.missing, c.fromT, c.toT], [5000, 0, now - 500_000, now - 1000]);
  } finally {
    rig.client.close();
  }
});

test('reader: nothing older than max-query-age is expected or queried', async () => {
  reset();
  const registry = createBareRegistry();
  const metrics = new TestMetrics(registry);
  const acks = new AckLog(10, 1, 1000);
  const client = new TestClient({ writeEndpoint: base, readEndpoint: `${base}/prometheus`, tenantId: 't', writeTimeoutMs: 1000, readTimeoutMs: 1000 });
  try {
    const writer = new SeriesWriter({ client, acks, batchSize: 100, rate: 0, retry: FAST_RETRY, metrics, log: silentLogger() });
    const reader = new SeriesReader({ client, acks, maxQueryAgeMs: 10_000, metrics, log: silentLogger() });
    await writer.writeTick(ago(60));
    await writer.writeTick(ago(5));
    fake.store.clear(); // even the recent sample is gone
    const c = await reader.checkAll();
    assert.deepEqual([c.acked, c.missing, c.fromT], [10, 10, ago(5)]);
  } finally {
    client.close();
  }
});

// ---- the service --------------------------------------------------------------------------------

test('smoke test: passes, calls onSmokeTestPassed and stays Running until stopped (terminates by itself without the callback)', async () => {
  reset();
  let passed = 0;
  const stateAtCall: State[] = [];
  const ct: ContinuousTest = new ContinuousTest({
    config: cfg({ smokeTest: true, numSeries: 150, writeBatchSize: 40, writeConcurrency: 2 }),
    log: silentLogger(),
    registry: createBareRegistry(),
    onSmokeTestPassed: () => {
      passed++;
      stateAtCall.push(ct.state());
      setTimeout(() => ct.stopAsync(), 50); // the process shutting down
    },
  });
  fake.pushFaults = [{ status: 503 }];
  ct.startAsync();
  await withDeadline(ct.awaitTerminated(), 10_000, 'smoke test did not end');
  assert.equal(ct.state(), State.Terminated);
  assert.equal(passed, 1);
  assert.deepEqual(stateAtCall, [State.Running]);
  assert.equal(fake.store.size, 150);
  assert.ok(fake.queries.some((q) => q.path.endsWith('query_range')) && fake.queries.some((q) => q.path.endsWith('/query')));

  reset();
  const alone = new ContinuousTest({ config: cfg({ smokeTest: true, numSeries: 20 }), log: silentLogger(), registry: createBareRegistry() });
  alone.startAsync();
  await withDeadline(alone.awaitTerminated(), 10_000, 'smoke test without callback did not end');
  assert.equal(fake.store.size, 20);
});

test('smoke test: a lost sample, a dropped write or a failing query fails the service', async () => {
  const cases: Array<[string, () => void, RegExp]> = [
    ['lost sample', () => { fake.queryFaults = []; }, /missing/],
    ['400 on write', () => { fake.pushFaults = [{ status: 400 }]; }, /not acked/],
    ['query 500', () => { fake.queryFaults = [500]; }, /queries failed/],
  ];
  for (const [name, setup, want] of cases) {
    reset();
    setup();
    let passed = 0;
    const ct = new ContinuousTest({ config: cfg({ smokeTest: true, numSeries: 5 }), log: silentLogger(), registry: createBareRegistry(), onSmokeTestPassed: () => passed++ });
    if (name === 'lost sample') {
      // lose series 3's sample once written
      const orig = fake.set.bind(fake);
      fake.set = (id, t, v) => {
        if (id !== 3) orig(id, t, v);
      };
      ct.addListener((_f, to) => {
        if (to === State.Failed || to === State.Terminated) fake.set = orig;
      });
    }
    ct.startAsync();
    await assert.rejects(withDeadline(ct.awaitTerminated(), 10_000, 'smoke test did not end'), want, name);
    assert.equal(ct.state(), State.Failed, name);
    assert.equal(passed, 0);
  }
});

test('service: writes continuously, checks on every run interval, serves GET /continuous-test/check, stops promptly', async () => {
  reset();
  const registry = createBareRegistry();
  const ct = new ContinuousTest({ config: cfg({ numSeries: 300, writeInterval: 50, runInterval: 300, writeConcurrency: 3, writeBatchSize: 70 }), log: silentLogger(), registry });
  const http = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 5000, writeTimeoutMs: 5000, idleTimeoutMs: 1000 }, silentLogger(), new RequestMetrics(createBareRegistry()));
  registerContinuousTestRoutes(http, ct);
  await http.listen();
  const url = `http://127.0.0.1:${http.address().port}${CHECK_PATH}`;
  try {
    const before = await fetch(url);
    assert.equal(before.status, 503);
    await before.text();
    ct.startAsync();
    await ct.awaitRunning();
    await withDeadline((async () => {
      while (await metricValue(registry, 'mimir_continuous_test_query_result_checks_total') < 2 || await metricValue(registry, 'muninn_continuous_test_acked_samples_total') < 1500) {
        await new Promise((r) => setTimeout(r, 50));
      }
    })(), 20_000, 'no checks or too few writes');
    assert.equal(await metricValue(registry, 'mimir_continuous_test_query_result_checks_failed_total'), 0);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const body = await res.json() as { acked: number; missing: number; mismatched: number; details: string[] };
    assert.ok(body.acked >= 300 * 5, `acked ${body.acked}`);
    assert.deepEqual([body.missing, body.mismatched, body.details], [0, 0, []]);
    const future = await fetch(`${url}?start=${Date.now() / 1000 + 3600}`);
    assert.deepEqual(await future.json(), { acked: 0, missing: 0, mismatched: 0, details: [], queries: 0, queriesFailed: 0, fromT: null, toT: null });
    const bad = await fetch(`${url}?end=soon`);
    assert.equal(bad.status, 400);
    await bad.text();
    const t0 = Date.now();
    ct.stopAsync();
    await withDeadline(ct.awaitTerminated(), 3000, 'service did not stop');
    assert.ok(Date.now() - t0 < 2000);
    const after = await fetch(url);
    assert.equal(after.status, 503);
    await after.text();
    await assert.rejects(ct.checkAll(), /closed/);
  } finally {
    ct.stopAsync();
    await http.close(1000);
  }
});

test('config: defaults are Mimir\'s; endpoints checked for form, required only when the test runs', () => {
  const d = defaultsOf({ ct: continuousTestConfig }).ct;
  assert.equal(d.tenantId, 'anonymous');
  assert.equal(d.numSeries, 10_000);
  assert.equal(d.maxQueryAge, 7 * 24 * 3_600_000);
  assert.equal(d.runInterval, 300_000);
  assert.equal(d.writeBatchSize, 1000);
  assert.equal(d.writeTimeout, 5000);
  assert.equal(d.readTimeout, 60_000);
  assert.equal(d.smokeTest, false);
  assert.equal(d.writeInterval, 20_000);
  const flags = Object.values(continuousTestConfig.options).map((o) => o.flag);
  for (const f of ['tests.write-endpoint', 'tests.read-endpoint', 'tests.tenant-id', 'tests.basic-auth-user', 'tests.basic-auth-password', 'tests.bearer-token',
    'tests.write-batch-size', 'tests.write-timeout', 'tests.read-timeout', 'tests.run-interval', 'tests.smoke-test',
    'tests.write-read-series-test.num-series', 'tests.write-read-series-test.max-query-age', 'tests.write-concurrency', 'tests.write-rate']) {
    assert.ok(flags.includes(f), f);
  }
  const validate = (v: Partial<ContinuousTestConfig>): void => continuousTestConfig.validate?.({ ...d, ...v });
  validate({});
  validate({ writeEndpoint: 'http://distributor:8080', readEndpoint: 'https://q/prometheus/' });
  assert.throws(() => validate({ writeEndpoint: 'distributor:8080/x' }), /tests.write-endpoint/);
  assert.throws(() => validate({ readEndpoint: 'not a url' }), /tests.read-endpoint/);
  assert.throws(() => validate({ writeMinBackoff: 10_000 }), /min-backoff/);
  assert.throws(() => validate({ writeInterval: 1.5 }), /write-interval/);
  assert.throws(() => requireEndpoints(d), /-tests.write-endpoint/);
  assert.throws(() => requireEndpoints({ ...d, writeEndpoint: 'http://a' }), /-tests.read-endpoint/);
  assert.throws(() => new ContinuousTest({ config: d, log: silentLogger(), registry: createBareRegistry() }), /write endpoint/);
  assert.equal(groupsSelector(0, 2), `${METRIC_NAME}{series_id=~"[0-9]|[1-9][0-9]|1[0-9][0-9]"}`);
  for (const [id, g] of [[0, 0], [9, 0], [99, 0], [100, 1], [199, 1], [1234, 12], [100_000, 1000]] as const) {
    const re = new RegExp(`^(?:${/"(.*)"/.exec(groupsSelector(g, g + 1))?.[1]})$`);
    assert.ok(re.test(String(id)), `${id} in group ${g}`);
    const other = new RegExp(`^(?:${/"(.*)"/.exec(groupsSelector(g + 1, g + 2))?.[1]})$`);
    assert.ok(!other.test(String(id)), `${id} not in group ${g + 1}`);
  }
});
