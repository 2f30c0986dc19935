import '../harness.js';
// The read path as a cluster of real processes (test/cluster-helpers.ts): etcd, 3 ingesters
// (-target=ingester, RF 3), 1 distributor and 1 querier (-target=querier, reading through the
// ingesters' ring in etcd), 0.5 s heartbeats and a 3 s heartbeat timeout. Issue 5's acceptance:
// with RF 3 and one ingester stopped, queries still return complete results with no duplicated
// samples. The steps run in order on one cluster:
//
//   1. the querier sees the 3 ingesters ACTIVE; a tenant without data gets empty answers;
//   2. a known dataset is pushed through the distributor (tenant t1: 500 float series x 20
//      samples 15 s apart, one with a NaN, one with +Inf, one with -Inf, one with a stale marker
//      followed by a gap and more samples, plus a native histogram series; tenant t2: one series);
//   3. all up: /api/v1/query_range, /api/v1/query (vector and raw range vector), /api/v1/series,
//      /api/v1/labels and /api/v1/label/i/values answer exactly what was pushed: every sample once
//      and exact, the stale series absent after its marker, each series once although every
//      ingester holds all of them; t2 and a tenant without data see only their own;
//   4. one ingester stopped (SIGTERM, it unregisters): range queries running all along its
//      shutdown are all complete 200s; then the same answers; 10 more samples pushed for 100
//      series with 2 ingesters up: those answers too;
//   5. a second one killed (SIGKILL): with 1 of 3 left, the read replication set cannot be met
//      (src/ring/ring.ts getAllHealthy: max(instances, RF) - floor(RF/2) = 2 must answer), so every
//      query answers 503 {status:"error", errorType:"unavailable", error} - never 200 with partial
//      data: both while the killed one is still ACTIVE in the ring (its call fails, maxErrors 0)
//      and once its heartbeat is stale (UNHEALTHY: the ring refuses the read); range queries
//      running all along answer a complete 200 or a 503, and 503 once the kill is done;
//   6. both started again on their data dirs: complete again;
//   7. the third one stopped: the two left hold different samples of 100 series (one missed the
//      pushes of step 4), merged exactly; started again;
//   8. the querier SIGTERMed with 50 range queries in flight: each answers a complete 200 or a
//      5xx error, the process exits 0 and logs no error, no unhandled rejection or exception.
//
// Skips only when there is no etcd binary (install Debian's etcd-server, or set ETCD_BIN).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { sequentialSteps } from '../steps.js';
import { STALE_NAN_BITS, type HistogramObject, type SeriesObject } from '../../src/remotewrite/index.js';
import { etcdAvailable } from '../etcd.js';
import {
  type Cluster, type MuninnNode, type PromAnswer, httpRequest, pushSeries, startCluster, sumMetric, waitForRing, waitForRingStates, waitUntil,
} from '../cluster-helpers.js';
import { problemLines } from '../proc.js';

const skip = etcdAvailable() ? false : 'etcd binary not found';

const T1 = 't1';
const T2 = 't2';
const T3 = 'nobody'; // never pushed to
const FLOATS = 500;
const SAMPLES = 20; // k = 0..19
const EXTRA = 10; // step 4: k = 20..29 ...
const EXTRA_SERIES = 100; // ... for series i < 100
const STEP_MS = 15_000;
const LOOKBACK_MS = 300_000; // -querier.lookback-delta default
const HEARTBEAT_TIMEOUT_MS = 3000;
// a whole minute well in the past (inside the ingesters' head), so timestamps are whole seconds
const T0 = Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000;
const tAt = (k: number): number => T0 + k * STEP_MS;
const sec = (ms: number): string => String(ms / 1000);

// ---- the dataset and what Prometheus answers for it ---------------------------------------------

type Smp = { t: number; kind: 'f'; f: number } | { t: number; kind: 'stale' } | { t: number; kind: 'h'; n: number };

interface ModelSeries {
  labels: Record<string, string>;
  samples: Smp[];
}

/** What each tenant holds, as pushed: series key -> series. */
const model = new Map<string, Map<string, ModelSeries>>([[T1, new Map()], [T2, new Map()]]);

function labelKey(l: Record<string, string>): string {
  return JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
}

/** Prometheus's labels.Compare on label objects. */
function compareLabelObjs(a: Record<string, string>, b: Record<string, string>): number {
  const fa = Object.keys(a).sort().flatMap((k) => [k, a[k]!]);
  const fb = Object.keys(b).sort().flatMap((k) => [k, b[k]!]);
  for (let i = 0; i < Math.min(fa.length, fb.length); i++) if (fa[i] !== fb[i]) return fa[i]! < fb[i]! ? -1 : 1;
  return fa.length - fb.length;
}

const floatLabels = (i: number): Record<string, string> => ({ __name__: 'rp_float', i: String(i).padStart(3, '0'), job: 'rp' });
const HIST_LABELS = { __name__: 'rp_hist', job: 'rp' };
const T2_LABELS = { __name__: 'rp_float', i: 't2', job: 'rp', only_t2: 'yes' };

/** The float (or special) sample of series i at step k. */
function floatSample(i: number, k: number): Smp | null {
  const t = tAt(k);
  if (k === 5 && i === 0) return { t, kind: 'f', f: NaN };
  if (k === 5 && i === 1) return { t, kind: 'f', f: Infinity };
  if (k === 5 && i === 3) return { t, kind: 'f', f: -Infinity };
  if (i === 2 && k === 10) return { t, kind: 'stale' };
  if (i === 2 && k > 10 && k < 15) return null; // a gap after the stale marker
  return { t, kind: 'f', f: i + k / 4 };
}

function histogramObject(n: number, t: number): HistogramObject {
  return { countInt: 3 * n, sum: 1.5 * n, schema: 0, zeroThreshold: 0.001, zeroCountInt: n, positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [n, 0], timestamp: t };
}

/** Records the samples in the model and returns them as remote-write series. */
function addToModel(tenant: string, labels: Record<string, string>, samples: Smp[]): SeriesObject {
  const m = model.get(tenant)!;
  const key = labelKey(labels);
  let s = m.get(key);
  if (s === undefined) m.set(key, s = { labels, samples: [] });
  s.samples.push(...samples);
  const flat = Object.keys(labels).sort().flatMap((k) => [k, labels[k]!]);
  const floats = samples.filter((x) => x.kind !== 'h').map((x) => ({ timestamp: x.t, value: x.kind === 'stale' ? STALE_NAN_BITS : (x as { f: number }).f }));
  const hists = samples.filter((x) => x.kind === 'h').map((x) => histogramObject((x as { n: number }).n, x.t));
  return { labels: flat, ...(floats.length > 0 ? { samples: floats } : {}), ...(hists.length > 0 ? { histograms: hists } : {}) };
}

/** Go's strconv 'f' -1 for the values of this dataset (Prometheus's sample value strings). */
function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function histJson(n: number): unknown {
  return { count: fmt(3 * n), sum: fmt(1.5 * n), buckets: [[3, '-0.001', '0.001', fmt(n)], [0, '0.5', '1', fmt(n)], [0, '1', '2', fmt(n)]] };
}

/** The sample an instant selector sees at t (lookback (t - 5m, t]); null when none or stale. */
function sampleAt(s: ModelSeries, t: number): Smp | null {
  let best: Smp | null = null;
  for (const x of s.samples) if (x.t <= t && x.t > t - LOOKBACK_MS && (best === null || x.t > best.t)) best = x;
  // a sample exactly at the lookback boundary would depend on open/closed interval rules: avoid
  for (const x of s.samples) if (x.t === t - LOOKBACK_MS && best === null) throw new Error(`ambiguous expectation at ${t}`);
  return best === null || best.kind === 'stale' ? null : best;
}

interface MatrixSeries {
  metric: Record<string, string>;
  values?: Array<[number, string]>;
  histograms?: Array<[number, unknown]>;
}

interface VectorSample {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, unknown];
}

function sortedSeries(tenant: string, matcher: (l: Record<string, string>) => boolean): ModelSeries[] {
  return [...model.get(tenant)?.values() ?? []].filter((s) => matcher(s.labels)).sort((a, b) => compareLabelObjs(a.labels, b.labels));
}

const isRp = (l: Record<string, string>): boolean => l.job === 'rp';

/** query_range of {job="rp"}: matrix sorted by labels, series without points left out. */
function expectRange(tenant: string, start: number, end: number, step: number): MatrixSeries[] {
  const out: MatrixSeries[] = [];
  for (const s of sortedSeries(tenant, isRp)) {
    const values: Array<[number, string]> = [];
    const histograms: Array<[number, unknown]> = [];
    for (let t = start; t <= end; t += step) {
      const x = sampleAt(s, t);
      if (x?.kind === 'f') values.push([t / 1000, fmt(x.f)]);
      else if (x?.kind === 'h') histograms.push([t / 1000, histJson(x.n)]);
    }
    if (values.length + histograms.length === 0) continue;
    out.push({ metric: s.labels, ...(values.length > 0 ? { values } : {}), ...(histograms.length > 0 ? { histograms } : {}) });
  }
  return out;
}

/** Instant query of {job="rp"}[range] at t: every raw sample in (t - range, t], stale markers left out. */
function expectRaw(tenant: string, t: number, rangeMs: number): MatrixSeries[] {
  const out: MatrixSeries[] = [];
  for (const s of sortedSeries(tenant, isRp)) {
    const xs = s.samples.filter((x) => x.t <= t && x.t > t - rangeMs).sort((a, b) => a.t - b.t);
    const values = xs.filter((x) => x.kind === 'f').map((x) => [x.t / 1000, fmt((x as { f: number }).f)] as [number, string]);
    const histograms = xs.filter((x) => x.kind === 'h').map((x) => [x.t / 1000, histJson((x as { n: number }).n)] as [number, unknown]);
    if (values.length + histograms.length === 0) continue;
    out.push({ metric: s.labels, ...(values.length > 0 ? { values } : {}), ...(histograms.length > 0 ? { histograms } : {}) });
  }
  return out;
}

/** Instant query of {job="rp"} at t: a vector stamped with t. */
function expectVector(tenant: string, t: number): VectorSample[] {
  const out: VectorSample[] = [];
  for (const s of sortedSeries(tenant, isRp)) {
    const x = sampleAt(s, t);
    if (x?.kind === 'f') out.push({ metric: s.labels, value: [t / 1000, fmt(x.f)] });
    else if (x?.kind === 'h') out.push({ metric: s.labels, histogram: [t / 1000, histJson(x.n)] });
  }
  return out;
}

/** The last sample time pushed to t1 (the end of the range queries). */
function lastT(): number {
  let m = T0;
  for (const s of model.get(T1)!.values()) for (const x of s.samples) m = Math.max(m, x.t);
  return m;
}

// ---- comparing answers ------------------------------------------------------------------------

function describe(r: PromAnswer): string {
  return `${r.status} ${r.body.slice(0, 400)}`;
}

function successData(r: PromAnswer, what: string): unknown {
  assert.equal(r.status, 200, `${what}: ${describe(r)}`);
  assert.equal(r.json?.status, 'success', `${what}: ${describe(r)}`);
  return r.json.data;
}

/**
 * Asserts that `got` holds exactly the series of `want`: each once (no duplicate label set), with
 * exactly the same points; with ordered, also in the same order. Reports the first differences.
 */
function assertSeriesEqual<T extends { metric: Record<string, string> }>(got: T[], want: T[], what: string, ordered: boolean): void {
  const seen = new Map<string, T>();
  const dups: string[] = [];
  for (const s of got) {
    const k = labelKey(s.metric);
    if (seen.has(k)) dups.push(k);
    seen.set(k, s);
  }
  assert.deepEqual(dups.slice(0, 5), [], `${what}: ${dups.length} series answered more than once`);
  const diffs: string[] = [];
  for (const w of want) {
    const k = labelKey(w.metric);
    const g = seen.get(k);
    if (g === undefined) diffs.push(`missing ${k}`);
    else {
      try {
        assert.deepStrictEqual(g, w);
      } catch {
        diffs.push(`${k}: got ${JSON.stringify(g).slice(0, 600)} want ${JSON.stringify(w).slice(0, 600)}`);
      }
      seen.delete(k);
    }
  }
  for (const k of seen.keys()) diffs.push(`unexpected ${k}`);
  assert.deepEqual(diffs.slice(0, 5), [], `${what}: ${diffs.length} differences (${got.length} series answered, ${want.length} expected)`);
  if (ordered) assert.deepEqual(got.map((s) => labelKey(s.metric)), want.map((s) => labelKey(s.metric)), `${what}: series order (sorted by labels)`);
}

/** Every raw sample answered once: timestamps strictly increasing within each series. */
function assertNoDuplicateSamples(got: MatrixSeries[], what: string): number {
  let n = 0;
  for (const s of got) {
    for (const list of [s.values ?? [], s.histograms ?? []]) {
      for (let j = 1; j < list.length; j++) {
        assert.ok(list[j]![0] > list[j - 1]![0], `${what}: ${labelKey(s.metric)} has timestamp ${list[j]![0]} after ${list[j - 1]![0]} (a duplicated or unsorted sample)`);
      }
      n += list.length;
    }
  }
  return n;
}

interface Matrix { resultType: string; result: MatrixSeries[] }
interface Vector { resultType: string; result: VectorSample[] }

const rangeParams = (end: number, step = STEP_MS): Record<string, string> => ({ query: '{job="rp"}', start: sec(T0), end: sec(end), step: sec(step) });

/** Every read the test checks, for one tenant, against the model. */
async function checkTenant(q: MuninnNode, tenant: string, what: string): Promise<void> {
  const end = lastT();
  const w = `${what}, tenant ${tenant}`;

  // range query over every step of the dataset
  const rr = await q.promApi('/api/v1/query_range', rangeParams(end), tenant);
  const rd = successData(rr, `${w}: query_range`) as Matrix;
  assert.equal(rd.resultType, 'matrix');
  assertSeriesEqual(rd.result, expectRange(tenant, T0, end, STEP_MS), `${w}: query_range`, true);

  // raw samples: a range vector selector covering the whole dataset
  const raw = await q.promApi('/api/v1/query', { query: '{job="rp"}[10m]', time: sec(end) }, tenant);
  const rawd = successData(raw, `${w}: query {job="rp"}[10m]`) as Matrix;
  assert.equal(rawd.resultType, 'matrix');
  const n = assertNoDuplicateSamples(rawd.result, `${w}: raw samples`);
  const wantRaw = expectRaw(tenant, end, 600_000);
  assertSeriesEqual(rawd.result, wantRaw, `${w}: raw samples`, false);
  assert.equal(n, wantRaw.reduce((a, s) => a + (s.values?.length ?? 0) + (s.histograms?.length ?? 0), 0));

  // instant vectors: at the stale marker's gap (the series is absent) and at the end
  for (const t of [tAt(12), end]) {
    const v = await q.promApi('/api/v1/query', { query: '{job="rp"}', time: sec(t) }, tenant);
    const vd = successData(v, `${w}: query at ${sec(t)}`) as Vector;
    assert.equal(vd.resultType, 'vector');
    assertSeriesEqual(vd.result, expectVector(tenant, t), `${w}: query {job="rp"} at ${sec(t)}`, false);
  }

  // series, label names, label values
  const all = sortedSeries(tenant, () => true);
  const range = { start: sec(T0 - 60_000), end: sec(end + 60_000) };
  const sr = await q.promApi('/api/v1/series', { 'match[]': ['{job="rp"}', 'rp_hist'], ...range }, tenant);
  const sd = successData(sr, `${w}: series`) as Array<Record<string, string>>;
  assertSeriesEqual(sd.map((metric) => ({ metric })), all.map((s) => ({ metric: s.labels })), `${w}: series`, true);

  const names = [...new Set(all.flatMap((s) => Object.keys(s.labels)))].sort();
  const lr = await q.promApi('/api/v1/labels', range, tenant);
  assert.deepEqual(successData(lr, `${w}: labels`), names, `${w}: labels`);
  // no start/end: Prometheus's MinTime..MaxTime
  const lrAll = await q.promApi('/api/v1/labels', {}, tenant);
  assert.deepEqual(successData(lrAll, `${w}: labels (all time)`), names, `${w}: labels (all time)`);

  const vr = await q.promApi('/api/v1/label/i/values', range, tenant);
  const values = [...new Set(all.map((s) => s.labels.i).filter((x) => x !== undefined))].sort();
  assert.deepEqual(successData(vr, `${w}: label/i/values`), values, `${w}: label/i/values`);
}

/** The full check: t1, t2 and a tenant without data. */
async function checkAll(q: MuninnNode, what: string): Promise<void> {
  await checkTenant(q, T1, what);
  await checkTenant(q, T2, what);
  await checkTenant(q, T3, what);
}

/** A 503 in Prometheus's error shape (errorType unavailable). */
function assertUnavailable(r: PromAnswer, what: string): void {
  assert.ok(r.status >= 500 && r.status < 600, `${what}: must fail with a 5xx, got ${describe(r)}`);
  assert.equal(r.status, 503, `${what}: ${describe(r)}`);
  assert.ok(r.json !== undefined, `${what}: error body is JSON: ${describe(r)}`);
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'errorType', 'status'], `${what}: ${describe(r)}`);
  assert.equal(r.json.status, 'error');
  assert.equal(r.json.errorType, 'unavailable');
  assert.equal(typeof r.json.error, 'string');
  assert.notEqual(r.json.error, '');
}

/** Every kind of read, each of which must fail (5xx) now. */
async function expectAllUnavailable(q: MuninnNode, what: string): Promise<string[]> {
  const end = lastT();
  const range = { start: sec(T0 - 60_000), end: sec(end + 60_000) };
  const reqs: Array<[string, Promise<PromAnswer>]> = [
    ['query_range', q.promApi('/api/v1/query_range', rangeParams(end), T1)],
    ['query raw', q.promApi('/api/v1/query', { query: '{job="rp"}[10m]', time: sec(end) }, T1)],
    ['query', q.promApi('/api/v1/query', { query: '{job="rp"}', time: sec(end) }, T1)],
    ['series', q.promApi('/api/v1/series', { 'match[]': '{job="rp"}', ...range }, T1)],
    ['labels', q.promApi('/api/v1/labels', range, T1)],
    ['label values', q.promApi('/api/v1/label/i/values', range, T1)],
    ['query_range, tenant without data', q.promApi('/api/v1/query_range', rangeParams(end), T3)],
  ];
  const errors: string[] = [];
  for (const [name, p] of reqs) {
    const r = await p;
    assertUnavailable(r, `${what}: ${name}`);
    errors.push(r.json!.error!);
  }
  return errors;
}

/**
 * Range queries of {job="rp"} over the whole dataset for t1, back to back from `workers` loops,
 * while a test changes the cluster; every answer kept with when it was sent and answered.
 */
class QueryLoop {
  readonly answers: Array<{ sentAt: number; doneAt: number; r: PromAnswer }> = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly q: MuninnNode, workers: number, private readonly end: number) {
    this.loops = Array.from({ length: workers }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const sentAt = Date.now();
      const r = await this.q.promApi('/api/v1/query_range', rangeParams(this.end), T1, { timeoutMs: 15_000 });
      this.answers.push({ sentAt, doneAt: Date.now(), r });
      // failures come back at once: no need to spin
      if (r.status !== 200) await new Promise((res) => setTimeout(res, 10));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Asserts each answer is a complete 200 (or, with allow503, a 503 error); returns the counts. */
  check(what: string, allow503: boolean): { ok: number; unavailable: number } {
    const want = expectRange(T1, T0, this.end, STEP_MS);
    let ok = 0;
    let unavailable = 0;
    for (const [k, { r }] of this.answers.entries()) {
      if (r.status === 200 || !allow503) {
        const d = successData(r, `${what}: query ${k}`) as Matrix;
        assertSeriesEqual(d.result, want, `${what}: query ${k}`, true);
        ok++;
      } else {
        assertUnavailable(r, `${what}: query ${k}`);
        unavailable++;
      }
    }
    return { ok, unavailable };
  }
}

// ---- the scenario -------------------------------------------------------------------------------

let c: Cluster;
let ing: MuninnNode[];
let dist: MuninnNode;
let querier: MuninnNode;

const activeAll = (nodes: MuninnNode[]): Record<string, string> => Object.fromEntries(nodes.map((n) => [n.id, 'ACTIVE']));

/** Waits until the distributor and the querier see exactly these ingesters ACTIVE. */
async function ringIs(nodes: MuninnNode[], timeoutMs = 10_000): Promise<void> {
  await Promise.all([dist, querier].map((n) => waitForRingStates(n, 'ingester', activeAll(nodes), { exact: true, timeoutMs })));
}

const step = sequentialSteps(skip, () => c?.problemSummary(15) ?? []);

before(async () => {
  if (skip !== false) return;
  c = await startCluster({
    ingesters: 3,
    distributors: 1,
    queriers: 1,
    heartbeatPeriod: '500ms',
    heartbeatTimeout: `${HEARTBEAT_TIMEOUT_MS / 1000}s`,
    replicationFactor: 3,
    commonArgs: ['-ingester.native-histograms-ingestion-enabled=true'],
    distributorArgs: () => ['-distributor.ingestion-rate-limit=10000000', '-distributor.ingestion-burst-size=10000000'],
  });
  ing = c.ingesters;
  dist = c.distributors[0]!;
  querier = c.queriers[0]!;
});

after(async () => {
  if (skip !== false) return;
  await c?.close();
});

step('1. the querier sees 3 ACTIVE ingesters; no data yet: empty answers', async () => {
  await c.waitForRings(15_000);
  await checkAll(querier, 'before any push');
});

step('2. a known dataset is pushed through the distributor', async () => {
  const t1: SeriesObject[] = [];
  for (let i = 0; i < FLOATS; i++) {
    const samples: Smp[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      const s = floatSample(i, k);
      if (s !== null) samples.push(s);
    }
    t1.push(addToModel(T1, floatLabels(i), samples));
  }
  t1.push(addToModel(T1, HIST_LABELS, Array.from({ length: SAMPLES }, (_, k) => ({ t: tAt(k), kind: 'h' as const, n: k + 1 }))));
  for (let j = 0; j < t1.length; j += 100) {
    const r = await pushSeries(dist.httpUrl, T1, t1.slice(j, j + 100));
    assert.equal(r.status, 200, `push ${j}: ${r.status} ${r.body}`);
  }
  const t2 = addToModel(T2, T2_LABELS, Array.from({ length: SAMPLES }, (_, k) => ({ t: tAt(k), kind: 'f' as const, f: 1000 + k })));
  const r = await pushSeries(dist.httpUrl, T2, [t2]);
  assert.equal(r.status, 200, `push t2: ${r.status} ${r.body}`);
});

step('3. all 3 ingesters up: every read complete and exact, nothing duplicated', async () => {
  await checkAll(querier, 'all up');
});

step('4. one ingester stopped (SIGTERM): the same answers, also while it stops; pushes with 2 up are read too', async (t) => {
  const gone = ing[2]!;
  // queries all along the shutdown (LEAVING, listener closed, unregistered): none may fail
  const loop = new QueryLoop(querier, 3, lastT());
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await gone.stop()).code, 0, `${gone.id} exit`);
  await ringIs([ing[0]!, ing[1]!]);
  await new Promise((r) => setTimeout(r, 200));
  await loop.stop();
  const n = loop.check(`while ${gone.id} stopped`, false);
  t.diagnostic(`${n.ok} range queries during the shutdown, all complete`);
  await checkAll(querier, `${gone.id} stopped`);

  const more: SeriesObject[] = [];
  for (let i = 0; i < EXTRA_SERIES; i++) {
    more.push(addToModel(T1, floatLabels(i), Array.from({ length: EXTRA }, (_, j) => ({ t: tAt(SAMPLES + j), kind: 'f' as const, f: i * 10 + j }))));
  }
  const r = await pushSeries(dist.httpUrl, T1, more);
  assert.equal(r.status, 200, `push with 2 ingesters: ${r.status} ${r.body}`);
  await checkAll(querier, `${gone.id} stopped, after more pushes`);
});

step('5. a second ingester killed (SIGKILL): every read 503, never partial data', async (t) => {
  const killed = ing[1]!;
  // queries all along: each a complete 200 (before the kill) or a 503, never partial data
  const loop = new QueryLoop(querier, 3, lastT());
  await new Promise((r) => setTimeout(r, 200));
  const exit = await killed.kill();
  // still ACTIVE in the ring: its calls fail, and with 2 instances in the ring none may
  const early = await expectAllUnavailable(querier, `${killed.id} killed, still ACTIVE in the ring`);
  t.diagnostic(`while ACTIVE: ${early[0]}`);
  const states = await waitForRing(querier, 'ingester', (s) => s.find((x) => x.id === killed.id)?.state === 'UNHEALTHY', `${killed.id} UNHEALTHY`, HEARTBEAT_TIMEOUT_MS + 5000);
  assert.equal(states.find((x) => x.id === ing[0]!.id)?.state, 'ACTIVE');
  // stale heartbeat: 1 healthy of the 2 required, the ring refuses the read
  const late = await expectAllUnavailable(querier, `${killed.id} UNHEALTHY`);
  t.diagnostic(`while UNHEALTHY: ${late[0]}`);
  await loop.stop();
  const n = loop.check(`around the kill of ${killed.id}`, true);
  const after = loop.answers.filter((a) => a.sentAt > exit.at);
  assert.ok(after.length > 0 && after.every((a) => a.r.status === 503), `every query sent after the kill fails: ${after.map((a) => a.r.status).join(',')}`);
  t.diagnostic(`${n.ok} complete, ${n.unavailable} 503 (${after.length} sent after the kill)`);
});

step('6. both started again on their data: complete again', async () => {
  await Promise.all([ing[1]!.start(), ing[2]!.start()]);
  await ringIs(ing);
  await checkAll(querier, 'all restarted');
});

step('7. the third one stopped: replicas holding different samples are merged exactly', async () => {
  // ing[2] missed step 4's pushes, ing[1] holds them (WAL replayed after its SIGKILL): the reads
  // now merge, for 100 series, 20 samples from one replica and 30 from the other
  const gone = ing[0]!;
  assert.equal((await gone.stop()).code, 0, `${gone.id} exit`);
  await ringIs([ing[1]!, ing[2]!]);
  await checkAll(querier, `${gone.id} stopped`);
  await gone.start();
  await ringIs(ing);
});

step('8. the querier SIGTERMed with 50 range queries in flight: each a complete 200 or a 5xx; exit 0', async (t) => {
  const end = lastT();
  const want = expectRange(T1, T0, end, STEP_MS);
  const metrics = async (): Promise<{ inflight: number; done: number }> => {
    const r = await httpRequest('GET', `${querier.httpUrl}/metrics`);
    const inflight = sumMetric(r.body, 'cortex_inflight_requests', { route: 'prometheus_api_v1_query_range' });
    const done = sumMetric(r.body, 'cortex_request_duration_seconds_count', { route: 'prometheus_api_v1_query_range' });
    return { inflight: Number.isNaN(inflight) ? 0 : inflight, done: Number.isNaN(done) ? 0 : done };
  };
  const before0 = await metrics();
  const started = Date.now();
  const answers = Array.from({ length: 50 }, () => querier.promApi('/api/v1/query_range', rangeParams(end), T1, { timeoutMs: 30_000 }).then((r) => ({ r, at: Date.now() })));
  // SIGTERM once the querier has every request (none may be lost in its accept queue) and is busy with them
  let last = before0;
  await waitUntil(async () => {
    last = await metrics();
    return last.inflight + last.done - before0.done >= 50;
  }, { timeoutMs: 10_000, intervalMs: 10, what: 'the querier to receive 50 range queries', describe: () => JSON.stringify(last) });
  const inflightAtTerm = last.inflight;
  const termAt = Date.now();
  querier.proc.kill('SIGTERM');
  const exit = await querier.proc.exited;
  const rs = await Promise.all(answers);
  t.diagnostic(`in flight at SIGTERM: ${inflightAtTerm} of 50 (sent ${termAt - started} ms before); exit after ${exit.at - termAt} ms`);
  assert.ok(inflightAtTerm > 0, 'some queries must still be running at SIGTERM (else the step tests nothing)');

  let ok = 0;
  let failed = 0;
  for (const [k, { r }] of rs.entries()) {
    if (r.status === 200) {
      const d = successData(r, `query ${k}`) as Matrix;
      assertSeriesEqual(d.result, want, `query ${k} (200 after SIGTERM)`, true);
      ok++;
    } else {
      assert.ok(r.status >= 500 && r.status < 600, `query ${k}: a complete 200 or a 5xx, got ${describe(r)}`);
      assert.equal(r.json?.status, 'error', `query ${k}: ${describe(r)}`);
      failed++;
    }
  }
  t.diagnostic(`${ok} answered 200 (complete), ${failed} 5xx`);
  assert.equal(exit.code, 0, `querier exit: ${JSON.stringify(exit)}`);
  assert.deepEqual(problemLines(querier.lines), [], 'querier log: no errors');
  assert.deepEqual(querier.proc.stderr.join(''), '', 'querier stderr');
});

step('9. no process logged an error; the querier none in any run', async (t) => {
  for (const n of c.nodes) {
    for (const [k, run] of n.runs.entries()) {
      const bad = problemLines(run);
      for (const l of bad.slice(0, 5)) t.diagnostic(`${n.id}#${k} ${JSON.stringify(l).slice(0, 400)}`);
      if (n.role === 'querier') assert.deepEqual(bad, [], `${n.id}#${k}: error lines`);
    }
  }
});
