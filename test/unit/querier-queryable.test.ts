// The querier's Queryable over fake ingesters: fan-out to the read replication set, merging
// replicas with deduplication, bit-exact values (the stale marker), fault tolerance within the
// ring's error budget, cancellation, and tenant scoping.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MuninnError } from '../../src/errors/index.js';
import type { IngesterApi, MatcherSpec, PushResult, QueryParams, StreamSeries, TimeRange, UserStats } from '../../src/ingester/api.js';
import type { MetricMetadata } from '../../src/ingester/metadata.js';
import { silentLogger } from '../../src/log/index.js';
import { IngesterQuerier, MAX_TIME_MS, MIN_TIME_MS } from '../../src/querier/ingester-queryable.js';
import { floatRuns, mergeFloatRuns, mergeTimedRuns, storedHistogramToFloat } from '../../src/querier/merge.js';
import { type InstanceDesc, Ring } from '../../src/ring/index.js';
import { STALE_NAN, STALE_NAN_BITS, XorChunk, floatToBits } from '../../src/tsdb/chunkenc/index.js';

const NOW = 1_700_000_000_000;

function inst(id: string, zone = ''): InstanceDesc {
  return { id, addr: `${id}:9095`, zone, state: 'ACTIVE', tokens: [Number.parseInt(id.replace(/\D/g, '') || '1', 10) * 1000], heartbeatMs: NOW, registeredMs: 0 };
}

function ring(ids: string[], rf: number, zones?: string[]): Ring {
  const instances: Record<string, InstanceDesc> = {};
  ids.forEach((id, i) => (instances[id] = inst(id, zones?.[i] ?? '')));
  return new Ring({ instances }, { replicationFactor: rf, heartbeatTimeoutMs: 60_000, zoneAwarenessEnabled: zones !== undefined, now: () => NOW });
}

/** A series as an ingester would hold it: samples as [t, value bits]. */
interface FakeSeries {
  labels: string[];
  samples?: Array<[number, bigint]>;
  /** as a chunk rather than as decoded samples */
  chunked?: boolean;
  histograms?: Array<{ t: number; h: unknown }>;
}

function bitsToFloat(b: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, b);
  return dv.getFloat64(0);
}

function toStream(s: FakeSeries): StreamSeries {
  const smp = s.samples ?? [];
  if (s.chunked === true && smp.length > 0) {
    const c = new XorChunk();
    const app = c.appender();
    for (const [t, v] of smp) app.append(t, bitsToFloat(v));
    const data = c.bytes().slice();
    return { labels: s.labels, chunks: [{ minT: smp[0]![0], maxT: smp[smp.length - 1]![0], encoding: 1, data }], samples: null, histograms: s.histograms ?? [] };
  }
  const t = new Float64Array(smp.length);
  const v = new Float64Array(smp.length);
  const dv = new DataView(v.buffer);
  smp.forEach(([ts, bits], i) => {
    t[i] = ts;
    dv.setBigUint64(i * 8, bits, true);
  });
  return { labels: s.labels, chunks: [], samples: { t, v }, histograms: s.histograms ?? [] };
}

class FakeIngester implements IngesterApi {
  readonly data = new Map<string, FakeSeries[]>();
  fail: Error | null = null;
  /** never answers until aborted */
  hang = false;
  calls: Array<{ op: string; tenant: string; mint: number; maxt: number }> = [];
  aborted = 0;

  constructor(series: Record<string, FakeSeries[]> = {}) {
    for (const [t, s] of Object.entries(series)) this.data.set(t, s);
  }

  private async gate(op: string, tenant: string, r: TimeRange, signal?: AbortSignal): Promise<void> {
    this.calls.push({ op, tenant, mint: r.mint, maxt: r.maxt });
    if (this.hang) {
      await new Promise<void>((_, reject) => {
        signal?.addEventListener('abort', () => {
          this.aborted++;
          reject(new MuninnError('canceled', 'call canceled'));
        }, { once: true });
      });
    }
    if (this.fail !== null) throw this.fail;
  }

  private matching(tenant: string, ms: MatcherSpec[]): FakeSeries[] {
    return (this.data.get(tenant) ?? []).filter((s) => ms.every((m) => {
      const i = s.labels.indexOf(m.name);
      const v = i >= 0 && i % 2 === 0 ? s.labels[i + 1] : '';
      switch (m.type) {
        case '=': return v === m.value;
        case '!=': return v !== m.value;
        case '=~': return new RegExp(`^(?:${m.value})$`).test(v ?? '');
        case '!~': return !new RegExp(`^(?:${m.value})$`).test(v ?? '');
        default: return false;
      }
    }));
  }

  push(): Promise<PushResult> {
    return Promise.reject(new Error('not used'));
  }

  async *queryStream(tenant: string, q: QueryParams, signal?: AbortSignal): AsyncIterable<StreamSeries[]> {
    await this.gate('queryStream', tenant, q, signal);
    const out = this.matching(tenant, q.matchers).map(toStream);
    // two batches, to exercise batching
    yield out.slice(0, 1);
    yield out.slice(1);
  }

  async labelNames(tenant: string, q: TimeRange & { matchers: MatcherSpec[] }, signal?: AbortSignal): Promise<string[]> {
    await this.gate('labelNames', tenant, q, signal);
    const names = new Set<string>();
    for (const s of this.matching(tenant, q.matchers)) for (let i = 0; i < s.labels.length; i += 2) names.add(s.labels[i]!);
    return [...names].sort();
  }

  async labelValues(tenant: string, name: string, q: TimeRange & { matchers: MatcherSpec[] }, signal?: AbortSignal): Promise<string[]> {
    await this.gate('labelValues', tenant, q, signal);
    const vals = new Set<string>();
    for (const s of this.matching(tenant, q.matchers)) {
      const i = s.labels.indexOf(name);
      if (i >= 0 && i % 2 === 0) vals.add(s.labels[i + 1]!);
    }
    return [...vals].sort();
  }

  async series(tenant: string, q: TimeRange & { matcherSets: MatcherSpec[][] }, signal?: AbortSignal): Promise<string[][]> {
    await this.gate('series', tenant, q, signal);
    const out = new Map<string, string[]>();
    for (const set of q.matcherSets) for (const s of this.matching(tenant, set)) out.set(s.labels.join(','), s.labels);
    return [...out.values()];
  }

  stats: UserStats = { ingestionRate: 0, numSeries: 0 };

  async userStats(tenant: string, signal?: AbortSignal): Promise<UserStats> {
    await this.gate('userStats', tenant, { mint: 0, maxt: 0 }, signal);
    return this.stats;
  }

  metadata: MetricMetadata[] = [];

  async metricsMetadata(tenant: string, signal?: AbortSignal): Promise<MetricMetadata[]> {
    await this.gate('metricsMetadata', tenant, { mint: 0, maxt: 0 }, signal);
    return this.metadata;
  }
}

function querier(r: Ring, ings: Record<string, FakeIngester>, extra: { maxQueryLookbackMs?: number; maxQueryLookbackFor?: (t: string) => number } = {}): IngesterQuerier {
  return new IngesterQuerier({
    ring: () => r,
    clients: { get: (addr) => ings[addr.replace(':9095', '')] ?? new FakeIngester() },
    log: silentLogger(),
    now: () => NOW,
    ...extra,
  });
}

const ALL = [{ type: '=~' as const, name: '__name__', value: '.+' }];
const UP = ['__name__', 'up', 'job', 'a'];
const DOWN = ['__name__', 'down', 'job', 'b'];
const signal = (): AbortSignal => new AbortController().signal;

function f(bits: bigint): bigint {
  return bits;
}
const one = floatToBits(1);
const two = floatToBits(2);
const three = floatToBits(3);

function bitsOf(v: Float64Array): bigint[] {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length }, (_, i) => dv.getBigUint64(i * 8, true));
}

test('replicas merge into one series: union of samples, equal timestamps once, sorted by labels', async () => {
  const a = new FakeIngester({ t1: [{ labels: UP, samples: [[1000, one], [2000, two]] }, { labels: DOWN, samples: [[1000, one]], chunked: true }] });
  const b = new FakeIngester({ t1: [{ labels: UP, samples: [[2000, two], [3000, three]], chunked: true }] });
  const c = new FakeIngester({ t1: [{ labels: UP, samples: [[1000, one], [3000, three]] }, { labels: DOWN, samples: [[1000, one], [4000, two]] }] });
  const q = querier(ring(['i1', 'i2', 'i3'], 3), { i1: a, i2: b, i3: c });
  const out = await q.select('t1', ALL, 0, 10_000, signal());
  assert.deepEqual(out.map((s) => s.labels), [DOWN, UP]);
  assert.deepEqual([...out[1]!.t], [1000, 2000, 3000]);
  assert.deepEqual(bitsOf(out[1]!.v), [one, two, three]);
  assert.deepEqual([...out[0]!.t], [1000, 4000]);
  assert.deepEqual(bitsOf(out[0]!.v), [one, two]);
  for (const ing of [a, b, c]) assert.deepEqual(ing.calls.map((x) => x.tenant), ['t1']);
});

test('same timestamp, different values on replicas: the first ingester of the ring wins, whoever answers first', async () => {
  for (let trial = 0; trial < 2; trial++) {
    const a = new FakeIngester({ t: [{ labels: UP, samples: [[1000, one]] }] });
    const b = new FakeIngester({ t: [{ labels: UP, samples: [[1000, two]] }] });
    if (trial === 1) {
      // make i1 answer last
      const orig = a.queryStream.bind(a);
      a.queryStream = async function* (tenant, qp, s) {
        await new Promise((r) => setTimeout(r, 20));
        yield* orig(tenant, qp, s);
      };
    }
    const q = querier(ring(['i1', 'i2'], 2), { i1: a, i2: b });
    const [s] = await q.select('t', ALL, 0, 10_000, signal());
    assert.deepEqual(bitsOf(s!.v), [one], `trial ${trial}`);
  }
});

test('values keep their bits: the stale marker and NaN payloads survive chunks, samples and merging', async () => {
  const payloadNaN = 0x7ff8000000000001n;
  const a = new FakeIngester({ t: [{ labels: UP, samples: [[1000, STALE_NAN_BITS], [2000, payloadNaN]], chunked: true }] });
  const b = new FakeIngester({ t: [{ labels: UP, samples: [[1000, STALE_NAN_BITS], [3000, STALE_NAN_BITS]] }] });
  const q = querier(ring(['i1', 'i2'], 2), { i1: a, i2: b });
  const [s] = await q.select('t', ALL, 0, 10_000, signal());
  assert.deepEqual([...s!.t], [1000, 2000, 3000]);
  assert.deepEqual(bitsOf(s!.v), [STALE_NAN_BITS, payloadNaN, STALE_NAN_BITS]);
  assert.ok(Number.isNaN(STALE_NAN));
});

test('samples outside [mint, maxt] are cut, also from chunks that straddle the range', async () => {
  const a = new FakeIngester({ t: [{ labels: UP, samples: [[1000, one], [2000, two], [3000, three]], chunked: true }] });
  const b = new FakeIngester({ t: [{ labels: DOWN, samples: [[1000, one], [2000, two], [3000, three]] }] });
  const q = querier(ring(['i1', 'i2'], 1), { i1: a, i2: b });
  const out = await q.select('t', ALL, 1500, 2500, signal());
  assert.deepEqual(out.map((s) => [...s.t]), [[2000], [2000]]);
  assert.deepEqual(await q.select('t', ALL, 5000, 6000, signal()), []);
});

test('one ingester down of three (RF 3): the others answer; two down: 503', async () => {
  const mk = (): FakeIngester => new FakeIngester({ t: [{ labels: UP, samples: [[1000, one]] }] });
  const a = mk();
  const b = mk();
  const c = mk();
  a.fail = new MuninnError('unavailable', 'connection refused');
  const q = querier(ring(['i1', 'i2', 'i3'], 3), { i1: a, i2: b, i3: c });
  const out = await q.select('t', ALL, 0, 10_000, signal());
  assert.equal(out.length, 1);
  assert.deepEqual(await q.labelValues('t', 'job', [], 0, 10_000, signal()), ['a']);
  b.fail = new Error('boom');
  await assert.rejects(q.select('t', ALL, 0, 10_000, signal()), (e: unknown) => {
    assert.ok(e instanceof MuninnError);
    assert.equal(e.code, 'unavailable');
    assert.equal(e.httpStatus, 503);
    assert.match(e.message, /failed to query ingesters: 2 failed/);
    return true;
  });
  await assert.rejects(q.labelNames('t', [], 0, 1, signal()), { code: 'unavailable' });
});

test('RF 1: no error budget; too many failures cancel the calls still running', async () => {
  const a = new FakeIngester({ t: [{ labels: UP, samples: [[1000, one]] }] });
  const b = new FakeIngester();
  b.hang = true;
  a.fail = new MuninnError('unavailable', 'down');
  const q = querier(ring(['i1', 'i2'], 1), { i1: a, i2: b });
  await assert.rejects(q.select('t', ALL, 0, 10_000, signal()), { code: 'unavailable' });
  await new Promise((r) => setImmediate(r));
  assert.equal(b.aborted, 1);
});

test('zone awareness: failures confined to one zone of three are tolerated, two zones are not', async () => {
  const ids = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'];
  const zones = ['z1', 'z1', 'z2', 'z2', 'z3', 'z3'];
  const ings: Record<string, FakeIngester> = {};
  for (const id of ids) ings[id] = new FakeIngester({ t: [{ labels: UP, samples: [[1000, one]] }] });
  const r = ring(ids, 3, zones);
  const q = querier(r, ings);
  ings.i1!.fail = new Error('down');
  ings.i2!.fail = new Error('down');
  assert.equal((await q.select('t', ALL, 0, 10_000, signal())).length, 1);
  ings.i3!.fail = new Error('down');
  await assert.rejects(q.select('t', ALL, 0, 10_000, signal()), { code: 'unavailable' });
});

test('a client error from an ingester comes back as it is', async () => {
  const a = new FakeIngester();
  a.fail = new MuninnError('bad_data', 'invalid regexp');
  const q = querier(ring(['i1'], 1), { i1: a });
  await assert.rejects(q.select('t', ALL, 0, 1, signal()), { code: 'bad_data', message: 'invalid regexp' });
});

test('cancellation: the caller\'s abort cancels every ingester call and rejects with its reason', async () => {
  const a = new FakeIngester();
  const b = new FakeIngester();
  a.hang = true;
  b.hang = true;
  const q = querier(ring(['i1', 'i2'], 2), { i1: a, i2: b });
  const ac = new AbortController();
  const p = q.select('t', ALL, 0, 1, ac.signal);
  await new Promise((r) => setImmediate(r));
  const reason = new MuninnError('canceled', 'client went away');
  ac.abort(reason);
  await assert.rejects(p, (e: unknown) => e === reason);
  assert.equal(a.aborted + b.aborted, 2);
  // already aborted: no call at all
  const calls = a.calls.length;
  await assert.rejects(q.labelNames('t', [], 0, 1, ac.signal), (e: unknown) => e === reason);
  assert.equal(a.calls.length, calls);
});

test('tenants: each read asks only for the tenant it serves', async () => {
  const a = new FakeIngester({ t1: [{ labels: UP, samples: [[1000, one]] }], t2: [{ labels: DOWN, samples: [[1000, one]] }] });
  const q = querier(ring(['i1'], 1), { i1: a });
  const s1 = await q.queryable('t1').select(ALL, 0, 10_000, signal());
  const s2 = await q.queryable('t2').select(ALL, 0, 10_000, signal());
  assert.deepEqual(s1.map((s) => s.labels), [UP]);
  assert.deepEqual(s2.map((s) => s.labels), [DOWN]);
  assert.deepEqual(await q.queryable('t3').select(ALL, 0, 10_000, signal()), []);
  assert.deepEqual(a.calls.map((c) => c.tenant), ['t1', 't2', 't3']);
});

test('labels, values and series: union over ingesters, sorted, deduplicated', async () => {
  const a = new FakeIngester({ t: [{ labels: UP }, { labels: ['__name__', 'x', 'zone', 'ü'] }] });
  const b = new FakeIngester({ t: [{ labels: UP }, { labels: DOWN }] });
  const q = querier(ring(['i1', 'i2'], 1), { i1: a, i2: b });
  assert.deepEqual(await q.labelNames('t', [], MIN_TIME_MS, MAX_TIME_MS, signal()), ['__name__', 'job', 'zone']);
  assert.deepEqual(await q.labelValues('t', '__name__', [], MIN_TIME_MS, MAX_TIME_MS, signal()), ['down', 'up', 'x']);
  const series = await q.series('t', [[{ type: '=~', name: '__name__', value: 'up|down' }], [{ type: '=', name: '__name__', value: 'up' }]], MIN_TIME_MS, MAX_TIME_MS, signal());
  assert.deepEqual(series, [DOWN, UP]);
});

test('metric metadata: union over ingesters, deduplicated, sorted; within the error budget', async () => {
  const m = (metric: string, type: string, help = '', unit = ''): MetricMetadata => ({ metric, type, help, unit });
  const a = new FakeIngester();
  const b = new FakeIngester();
  const c = new FakeIngester();
  a.metadata = [m('up', 'gauge', 'Up.'), m('x_total', 'counter', 'X.')];
  b.metadata = [m('up', 'gauge', 'Up.'), m('up', 'gauge', 'Another help.'), m('a_seconds', 'histogram', 'A.', 'seconds')];
  const q = querier(ring(['i1', 'i2', 'i3'], 3), { i1: a, i2: b, i3: c });
  const want = [m('a_seconds', 'histogram', 'A.', 'seconds'), m('up', 'gauge', 'Another help.'), m('up', 'gauge', 'Up.'), m('x_total', 'counter', 'X.')];
  assert.deepEqual(await q.metricsMetadata('t', signal()), want);
  assert.deepEqual(a.calls.filter((x) => x.op === 'metricsMetadata').map((x) => x.tenant), ['t']);
  c.fail = new MuninnError('unavailable', 'connection refused');
  assert.deepEqual(await q.metricsMetadata('t', signal()), want);
  b.fail = new MuninnError('unavailable', 'connection refused');
  await assert.rejects(q.metricsMetadata('t', signal()), { code: 'unavailable' });
});

test('user stats: summed over every ingester, series and rate divided by RF; no error budget', async () => {
  const [a, b, c] = [new FakeIngester(), new FakeIngester(), new FakeIngester()];
  a.stats = { ingestionRate: 30, numSeries: 100 };
  b.stats = { ingestionRate: 30, numSeries: 101 };
  c.stats = { ingestionRate: 29, numSeries: 99 };
  const q = querier(ring(['i1', 'i2', 'i3'], 3), { i1: a, i2: b, i3: c });
  assert.deepEqual(await q.userStats('t', signal()), { ingestionRate: 89 / 3, numSeries: 100, apiIngestionRate: 89, ruleIngestionRate: 0 });
  c.fail = new MuninnError('unavailable', 'connection refused');
  await assert.rejects(q.userStats('t', signal()), { code: 'unavailable' });
});

test('time bounds: infinite ranges are clamped to int64 milliseconds; max-query-lookback clamps mint', async () => {
  const a = new FakeIngester({ t: [{ labels: UP, samples: [[NOW - 1000, one]] }] });
  const q = querier(ring(['i1'], 1), { i1: a }, { maxQueryLookbackMs: 3_600_000 });
  await q.labelNames('t', [], -Infinity, Infinity, signal());
  assert.deepEqual(a.calls[0], { op: 'labelNames', tenant: 't', mint: NOW - 3_600_000, maxt: MAX_TIME_MS });
  // entirely before the lookback window: nothing is asked
  assert.deepEqual(await q.select('t', ALL, 0, NOW - 7_200_000, signal()), []);
  assert.equal(a.calls.length, 1);
  const q2 = querier(ring(['i1'], 1), { i1: a });
  await q2.labelNames('t', [], -Infinity, Infinity, signal());
  assert.deepEqual(a.calls[1], { op: 'labelNames', tenant: 't', mint: MIN_TIME_MS, maxt: MAX_TIME_MS });
  // per tenant (runtime overrides): u's lookback, not the global one
  const q3 = querier(ring(['i1'], 1), { i1: a }, { maxQueryLookbackMs: 3_600_000, maxQueryLookbackFor: (t) => (t === 'u' ? 60_000 : 3_600_000) });
  await q3.labelNames('u', [], -Infinity, Infinity, signal());
  await q3.labelNames('t', [], -Infinity, Infinity, signal());
  assert.deepEqual(a.calls.slice(2).map((c) => [c.tenant, c.mint]), [['u', NOW - 60_000], ['t', NOW - 3_600_000]]);
});

test('an empty ring is a retryable error', async () => {
  const q = new IngesterQuerier({ ring: () => Ring.empty({ replicationFactor: 1, heartbeatTimeoutMs: 0 }), clients: { get: () => new FakeIngester() }, log: silentLogger() });
  await assert.rejects(q.select('t', ALL, 0, 1, signal()), { code: 'unavailable' });
});

test('native histograms: merged by timestamp, first replica wins, converted to float form', async () => {
  const intH = { countInt: 3, sum: 2.5, schema: 0, zeroThreshold: 0.001, zeroCountInt: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [1, 0], negativeSpans: [], negativeDeltas: [], resetHint: 0 };
  const floatH = { countFloat: 4, sum: 1, schema: 1, zeroThreshold: 0, zeroCountFloat: 0, positiveSpans: [{ offset: 1, length: 1 }], positiveCounts: [4], resetHint: 'GAUGE' };
  const a = new FakeIngester({ t: [{ labels: UP, histograms: [{ t: 1000, h: intH }] }] });
  const b = new FakeIngester({ t: [{ labels: UP, histograms: [{ t: 1000, h: floatH }, { t: 2000, h: floatH }] }] });
  const q = querier(ring(['i1', 'i2'], 2), { i1: a, i2: b });
  const [s] = await q.select('t', ALL, 0, 10_000, signal());
  assert.equal(s!.t.length, 0);
  assert.deepEqual(s!.histograms.map((h) => h.t), [1000, 2000]);
  assert.deepEqual(s!.histograms[0]!.h, {
    counterResetHint: 0, schema: 0, zeroThreshold: 0.001, zeroCount: 1, count: 3, sum: 2.5,
    positiveSpans: [{ offset: 0, length: 2 }], negativeSpans: [], positiveBuckets: [1, 1], negativeBuckets: [], customValues: [],
  });
  assert.equal(s!.histograms[1]!.h.counterResetHint, 3);
  assert.deepEqual(s!.histograms[1]!.h.positiveBuckets, [4]);
});

test('histogram conversion (promql/histogram fromStoredHistogram): a stored histogram that does not convert is an internal error', () => {
  const h = storedHistogramToFloat({ countInt: 6, sum: STALE_NAN_BITS, schema: -53, customValues: [1, 2n ** 62n], positiveSpans: [{ offset: 0, length: 3 }], positiveDeltas: [1, 1, 1] });
  assert.equal(floatToBits(h.sum), STALE_NAN_BITS);
  assert.deepEqual(h.positiveBuckets, [1, 2, 3]);
  const internal = (e: unknown): boolean => e instanceof MuninnError && e.code === 'internal';
  assert.throws(() => storedHistogramToFloat(null), internal);
  assert.throws(() => storedHistogramToFloat({ countInt: 1, resetHint: 'MAYBE' }), (e: unknown) => internal(e) && /reset hint/.test((e as Error).message));
});

test('merging runs: first run wins ties, duplicates within a run dropped, bits copied', () => {
  const run = (t: number[], v: bigint[]): { t: Float64Array; v: Float64Array } => {
    const vv = new Float64Array(v.length);
    const dv = new DataView(vv.buffer);
    v.forEach((b, i) => dv.setBigUint64(i * 8, b, true));
    return { t: Float64Array.from(t), v: vv };
  };
  const m = mergeFloatRuns([run([1, 3, 3, 5], [one, one, two, one]), run([2, 3, 6], [two, three, two]), run([], [])]);
  assert.deepEqual([...m.t], [1, 2, 3, 5, 6]);
  assert.deepEqual(bitsOf(m.v), [one, two, one, one, two]);
  assert.deepEqual(mergeTimedRuns([[{ t: 1, k: 'a' }, { t: 2, k: 'a' }], [{ t: 2, k: 'b' }, { t: 3, k: 'b' }]]), [{ t: 1, k: 'a' }, { t: 2, k: 'a' }, { t: 3, k: 'b' }]);
  assert.equal(mergeFloatRuns([]).t.length, 0);
  assert.equal(f(one), one);
});

test('a corrupt chunk fails the read with an internal error', () => {
  const s: StreamSeries = { labels: UP, chunks: [{ minT: 0, maxT: 10, encoding: 1, data: new Uint8Array([0, 5, 1]) }], samples: null, histograms: [] };
  assert.throws(() => floatRuns(s, 0, 10), (e: unknown) => e instanceof MuninnError && e.code === 'internal');
  const odd: StreamSeries = { labels: UP, chunks: [{ minT: 0, maxT: 10, encoding: 7, data: new Uint8Array([0, 0]) }], samples: null, histograms: [] };
  assert.throws(() => floatRuns(odd, 0, 10), /unsupported chunk encoding 7/);
});

test('fan-out under random failures, delays, hangs and aborts: always settles, right answer or the right error', async () => {
  const { mulberry32 } = await import('../util.js');
  const rnd = mulberry32(20240607);
  for (let iter = 0; iter < 400; iter++) {
    const n = 1 + Math.floor(rnd() * 5);
    const rf = 1 + Math.floor(rnd() * Math.min(n, 3));
    const ids = Array.from({ length: n }, (_, i) => `i${i + 1}`);
    const ings: Record<string, FakeIngester> = {};
    const behaviour: string[] = [];
    for (const id of ids) {
      const ing = new FakeIngester({ t: [{ labels: UP, samples: [[1000, one], [2000 + Number(id.slice(1)), two]], chunked: rnd() < 0.5 }] });
      const r = rnd();
      const b = r < 0.15 ? 'fail' : r < 0.25 ? 'hang' : r < 0.5 ? 'slow' : 'ok';
      behaviour.push(b);
      if (b === 'fail') ing.fail = new MuninnError('unavailable', 'down');
      if (b === 'hang') ing.hang = true;
      if (b === 'slow') {
        const orig = ing.queryStream.bind(ing);
        const delay = Math.floor(rnd() * 3);
        ing.queryStream = async function* (tenant, qp, s) {
          await new Promise((res) => setTimeout(res, delay));
          yield* orig(tenant, qp, s);
        };
      }
      ings[id] = ing;
    }
    const r = ring(ids, rf);
    const q = querier(r, ings);
    const ac = new AbortController();
    const hangs = behaviour.filter((b) => b === 'hang').length;
    const abortAfter = hangs > 0 || rnd() < 0.2 ? Math.floor(rnd() * 4) : -1;
    if (abortAfter >= 0) setTimeout(() => ac.abort(new MuninnError('canceled', 'gone')), abortAfter);
    const budget = r.getAllHealthy('read').maxErrors;
    const failures = behaviour.filter((b) => b === 'fail').length;
    let outcome: 'ok' | 'unavailable' | 'canceled';
    let got: Awaited<ReturnType<typeof q.select>> = [];
    try {
      got = await Promise.race([
        q.select('t', ALL, 0, 10_000, ac.signal),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`iteration ${iter} did not settle: ${behaviour.join(',')}`)), 2000)),
      ]);
      outcome = 'ok';
    } catch (e) {
      assert.ok(e instanceof MuninnError, String(e));
      outcome = e.code === 'unavailable' ? 'unavailable' : 'canceled';
      assert.ok(e.code === 'unavailable' || e.code === 'canceled', e.message);
    }
    if (outcome === 'ok') {
      assert.ok(failures <= budget, `iteration ${iter}: succeeded with ${failures} failures, budget ${budget}`);
      assert.equal(hangs, 0);
      const want = [1000, ...ids.filter((_, i) => behaviour[i] !== 'fail').map((id) => 2000 + Number(id.slice(1)))];
      assert.deepEqual([...got[0]!.t], want, `iteration ${iter}`);
    } else if (outcome === 'unavailable') {
      assert.ok(failures > budget, `iteration ${iter}: unavailable with ${failures} failures, budget ${budget}`);
    } else {
      assert.ok(ac.signal.aborted);
    }
    // every hanging call was cancelled once the read settled
    await new Promise((res) => setImmediate(res));
    for (const [i, id] of ids.entries()) if (behaviour[i] === 'hang') assert.equal(ings[id]!.aborted, 1, `iteration ${iter}: ${id} not cancelled`);
    if (!ac.signal.aborted) ac.abort();
  }
});
