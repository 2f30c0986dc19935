// Native histograms through the ingester: acknowledged integer, float and custom-bucket histograms
// come back from the WAL after a restart (and after a checkpoint) exactly as they were stored,
// the stale marker in `sum` included; with ingestion disabled they are discarded and counted.
import '../harness.js';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Ingester, type StreamSeries } from '../../src/ingester/index.js';
import { type BucketSpanObject, encodeWriteRequest, type F64, type HistogramObject, STALE_NAN_BITS } from '../../src/remotewrite/index.js';
import { XorChunk } from '../../src/tsdb/chunkenc/index.js';
import { listCheckpoints } from '../../src/tsdb/wal/index.js';
import { newIngester as newTestIngester, started, stopped, type TestConfig } from '../ingester-helpers.js';
import { tempDir } from '../proc.js';
import { mulberry32 } from '../util.js';

function newIngester(dir: string, histograms: boolean, over: (c: TestConfig) => void = () => undefined): Ingester {
  return newTestIngester(dir, (c) => {
    c.limits.nativeHistogramsIngestionEnabled = histograms;
    over(c);
  });
}

const T0 = 1_700_000_000_000;
const ALL = [{ type: '=~' as const, name: '__name__', value: '.+' }];

interface Pushed {
  labels: string[];
  samples?: Array<{ timestamp: number; value: number }>;
  histograms?: HistogramObject[];
}

function body(series: Pushed[]): Uint8Array {
  return encodeWriteRequest({ series });
}

async function readAll(ing: Ingester, tenant: string): Promise<Map<string, StreamSeries>> {
  const out = new Map<string, StreamSeries>();
  for await (const batch of ing.queryStream(tenant, { mint: -Infinity, maxt: Infinity, matchers: ALL })) {
    for (const s of batch) out.set(s.labels.join(','), s);
  }
  return out;
}

function bitsOf(v: F64 | undefined): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v ?? 0);
  return dv.getBigUint64(0);
}

/** The fields a histogram means, doubles as bits, absent fields at their protobuf defaults. */
function meaning(h: HistogramObject): Record<string, unknown> {
  const float = h.countFloat !== undefined;
  const custom = (h.schema ?? 0) === -53;
  return {
    kind: float ? 'float' : 'integer',
    count: float ? bitsOf(h.countFloat) : (h.countInt ?? 0),
    zeroCount: float ? bitsOf(h.zeroCountFloat) : (h.zeroCountInt ?? 0),
    sum: bitsOf(h.sum),
    schema: h.schema ?? 0,
    zeroThreshold: bitsOf(h.zeroThreshold),
    positiveSpans: h.positiveSpans ?? [],
    negativeSpans: h.negativeSpans ?? [],
    buckets: float
      ? [(h.positiveCounts ?? []).map(bitsOf), (h.negativeCounts ?? []).map(bitsOf)]
      : [h.positiveDeltas ?? [], h.negativeDeltas ?? []],
    resetHint: h.resetHint ?? 0,
    customValues: custom ? (h.customValues ?? []).map(bitsOf) : [],
  };
}

function spans(rnd: () => number): { spans: BucketSpanObject[]; n: number } {
  const out: BucketSpanObject[] = [];
  let n = 0;
  const count = rnd() < 0.2 ? 0 : 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(rnd() * 5);
    out.push({ offset: i === 0 ? Math.floor(rnd() * 40) - 20 : Math.floor(rnd() * 4), length });
    n += length;
  }
  return { spans: out, n };
}

function intHistogram(rnd: () => number, t: number, custom = false): HistogramObject {
  const pos = spans(rnd);
  const neg = custom ? { spans: [], n: 0 } : spans(rnd);
  const deltas = (n: number): number[] => Array.from({ length: n }, () => Math.floor(rnd() * 200) - 100);
  const h: HistogramObject = {
    countInt: Math.floor(rnd() * 1e6), sum: rnd() * 1e4, schema: custom ? -53 : Math.floor(rnd() * 13) - 4,
    zeroThreshold: custom ? 0 : 2 ** -(1 + Math.floor(rnd() * 20)), zeroCountInt: Math.floor(rnd() * 100),
    positiveSpans: pos.spans, positiveDeltas: deltas(pos.n), negativeSpans: neg.spans, negativeDeltas: deltas(neg.n),
    resetHint: Math.floor(rnd() * 4), timestamp: t,
  };
  if (custom) h.customValues = Array.from({ length: pos.n + 3 }, (_, i) => (i + 1) * 0.25);
  return h;
}

function floatHistogram(rnd: () => number, t: number): HistogramObject {
  const pos = spans(rnd);
  const neg = spans(rnd);
  const counts = (n: number): number[] => Array.from({ length: n }, () => Math.round(rnd() * 1e6) / 64);
  return {
    countFloat: rnd() * 1e6, sum: (rnd() - 0.5) * 1e4, schema: Math.floor(rnd() * 13) - 4, zeroThreshold: rnd() / 1000, zeroCountFloat: rnd() * 10,
    positiveSpans: pos.spans, positiveCounts: counts(pos.n), negativeSpans: neg.spans, negativeCounts: counts(neg.n),
    resetHint: 3, timestamp: t,
  };
}

/** Stale histograms as Prometheus writes them: the stale marker in sum, nothing else. */
function staleHistogram(float: boolean, t: number): HistogramObject {
  return float ? { countFloat: 0, sum: STALE_NAN_BITS, zeroCountFloat: 0, timestamp: t } : { countInt: 0, sum: STALE_NAN_BITS, zeroCountInt: 0, timestamp: t };
}

/** Asserts that every pushed histogram is in `got` with its meaning, in time order, and nothing else. */
function assertHistograms(got: Map<string, StreamSeries>, want: Map<string, HistogramObject[]>, when: string): void {
  for (const [key, hs] of want) {
    const s = got.get(key);
    assert.ok(s !== undefined, `${when}: ${key} missing`);
    assert.equal(s.histograms.length, hs.length, `${when}: ${key}`);
    for (let i = 0; i < hs.length; i++) {
      const sent = hs[i] as HistogramObject;
      const h = s.histograms[i] as { t: number; h: unknown };
      assert.equal(h.t, sent.timestamp, `${when}: ${key} #${i}`);
      assert.deepEqual(meaning(h.h as HistogramObject), meaning(sent), `${when}: ${key} #${i}`);
    }
  }
}

test('restart replays integer, float and custom-bucket histograms exactly, the stale marker included', async () => {
  const dir = tempDir('ing-hist-');
  const rnd = mulberry32(2024);
  const kinds = [
    { labels: ['__name__', 'rpc_seconds', 'job', 'int'], make: (t: number) => intHistogram(rnd, t) },
    { labels: ['__name__', 'rpc_seconds', 'job', 'float'], make: (t: number) => floatHistogram(rnd, t) },
    { labels: ['__name__', 'rpc_seconds', 'job', 'nhcb'], make: (t: number) => intHistogram(rnd, t, true) },
  ];
  const want = new Map<string, HistogramObject[]>(kinds.map((k) => [k.labels.join(','), []]));
  const floats: Array<[number, number]> = [];
  let before: Map<string, StreamSeries>;
  const ing = await started(newIngester(dir, true));
  try {
    for (let round = 0; round < 40; round++) {
      const t = T0 + round * 15_000;
      const series: Pushed[] = [];
      for (const k of kinds) {
        // two histograms per series in some requests: several entries in one record
        const hs = round % 5 === 0 ? [k.make(t), k.make(t + 5_000)] : [k.make(t)];
        series.push({ labels: k.labels, histograms: hs });
        want.get(k.labels.join(','))?.push(...hs);
      }
      series.push({ labels: ['__name__', 'up', 'job', 'int'], samples: [{ timestamp: t, value: round }] });
      floats.push([t, round]);
      await ing.push('t1', body(series));
    }
    // stale histograms end the integer and float series
    const tEnd = T0 + 40 * 15_000;
    await ing.push('t1', body([
      { labels: kinds[0]!.labels, histograms: [staleHistogram(false, tEnd)] },
      { labels: kinds[1]!.labels, histograms: [staleHistogram(true, tEnd)] },
    ]));
    want.get(kinds[0]!.labels.join(','))?.push(staleHistogram(false, tEnd));
    want.get(kinds[1]!.labels.join(','))?.push(staleHistogram(true, tEnd));
    before = await readAll(ing, 't1');
    assertHistograms(before, want, 'before restart');
  } finally {
    await stopped(ing);
  }

  const ing2 = await started(newIngester(dir, true));
  try {
    const total = [...want.values()].reduce((n, hs) => n + hs.length, 0);
    assert.equal(ing2.replays.get('t1')?.samples, total + floats.length);
    assert.equal(ing2.replays.get('t1')?.refusedSamples, 0);
    assert.deepEqual(ing2.replays.get('t1')?.warnings, []);
    const after = await readAll(ing2, 't1');
    assertHistograms(after, want, 'after restart');
    // the replayed objects are the ones the append path stored, field for field
    for (const [key, s] of before) {
      assert.ok(isDeepStrictEqual(after.get(key)?.histograms, s.histograms), key);
    }
    for (const key of want.keys()) {
      const stale = after.get(key)?.histograms.at(-1)?.h as HistogramObject;
      if (!key.endsWith('nhcb')) assert.equal(bitsOf(stale.sum), STALE_NAN_BITS, `${key}: stale marker bits`);
    }
    // float samples are back too
    const up = after.get('__name__,up,job,int');
    assert.ok(up !== undefined);
    const got: Array<[number, number]> = [];
    for (const c of up.chunks) {
      const it = XorChunk.fromBytes(c.data).iterator();
      while (it.next()) got.push([it.t, it.v]);
    }
    assert.deepEqual(got, floats);

    // it keeps going: the same histogram again is a silent duplicate (equal to the replayed one),
    // a different one at that time a conflict, an older one out of order, a newer one appends
    const key = kinds[0]!.labels.join(',');
    const last = want.get(key)?.at(-1) as HistogramObject;
    await ing2.push('t1', body([{ labels: kinds[0]!.labels, histograms: [last] }]));
    await assert.rejects(ing2.push('t1', body([{ labels: kinds[0]!.labels, histograms: [{ ...last, countInt: 7 }] }])), /duplicate-timestamp/);
    await assert.rejects(ing2.push('t1', body([{ labels: kinds[0]!.labels, histograms: [intHistogram(rnd, T0)] }])), /out-of-order/);
    const next = intHistogram(rnd, T0 + 41 * 15_000);
    await ing2.push('t1', body([{ labels: kinds[0]!.labels, histograms: [next] }]));
    want.get(key)?.push(next);
    assertHistograms(await readAll(ing2, 't1'), want, 'after more pushes');
  } finally {
    await stopped(ing2);
  }

  // and once more: what was appended after the replay is in the WAL as well
  const ing3 = await started(newIngester(dir, false));
  try {
    assertHistograms(await readAll(ing3, 't1'), want, 'second restart (ingestion now disabled)');
  } finally {
    await stopped(ing3);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a series changing histogram kind within one push replays in time order', async () => {
  const dir = tempDir('ing-hist-');
  const rnd = mulberry32(11);
  const a = ['__name__', 'mixed', 'i', 'a'];
  const b = ['__name__', 'mixed', 'i', 'b'];
  // a: float, integer, custom-bucket, integer, float in one request; b: integer throughout
  const wantA = [floatHistogram(rnd, T0), intHistogram(rnd, T0 + 1000), intHistogram(rnd, T0 + 2000, true), intHistogram(rnd, T0 + 3000), floatHistogram(rnd, T0 + 4000)];
  const wantB = [0, 1, 2, 3, 4].map((i) => intHistogram(rnd, T0 + i * 1000));
  const want = new Map([[a.join(','), wantA], [b.join(','), wantB]]);
  const ing = await started(newIngester(dir, true));
  try {
    await ing.push('t', body([{ labels: a, histograms: wantA }, { labels: b, histograms: wantB }]));
    assertHistograms(await readAll(ing, 't'), want, 'before restart');
  } finally {
    await stopped(ing);
  }
  const ing2 = await started(newIngester(dir, true));
  try {
    assert.equal(ing2.replays.get('t')?.refusedSamples, 0);
    assertHistograms(await readAll(ing2, 't'), want, 'after restart');
  } finally {
    await stopped(ing2);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('histograms survive a WAL checkpoint', async () => {
  const dir = tempDir('ing-hist-');
  const rnd = mulberry32(7);
  const want = new Map<string, HistogramObject[]>();
  const ing = await started(newIngester(dir, true, (c) => {
    c.tsdb.walSegmentSizeBytes = 64 * 1024; // several segments
  }));
  try {
    for (let round = 0; round < 120; round++) {
      const t = T0 + round * 15_000;
      const series: Pushed[] = [];
      for (let i = 0; i < 40; i++) {
        const labels = ['__name__', 'latency', 'pod', `p${i}`];
        const h = i % 2 === 0 ? intHistogram(rnd, t) : floatHistogram(rnd, t);
        series.push({ labels, histograms: [h] });
        const key = labels.join(',');
        want.set(key, [...(want.get(key) ?? []), h]);
      }
      await ing.push('t', body(series));
    }
    const db = ing.tenantDb('t');
    assert.ok(db !== undefined);
    const { first, last } = db.wal.segmentRange();
    assert.ok(last - first >= 3, `want at least 4 segments, have ${first}..${last}`);
    await db.truncate(T0); // keeps every sample, folds the older segments into a checkpoint
    assert.equal((await listCheckpoints(join(db.dir, 'wal'))).length, 1);
    assert.ok(db.wal.segmentRange().first > first);
  } finally {
    await stopped(ing);
  }
  const ing2 = await started(newIngester(dir, true));
  try {
    assert.equal(ing2.replays.get('t')?.samples, 120 * 40);
    assertHistograms(await readAll(ing2, 't'), want, 'after checkpoint and restart');
  } finally {
    await stopped(ing2);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with ingestion disabled histograms are discarded, counted and not stored; float samples still are', async () => {
  const dir = tempDir('ing-hist-');
  const rnd = mulberry32(3);
  const ing = await started(newIngester(dir, false));
  try {
    // skipped without an error, as Mimir's ingester does; only counted
    await ing.push('t', body([
      { labels: ['__name__', 'h', 'i', '1'], histograms: [intHistogram(rnd, T0), intHistogram(rnd, T0 + 1000)] },
      { labels: ['__name__', 'h', 'i', '2'], histograms: [floatHistogram(rnd, T0)], samples: [{ timestamp: T0, value: 1 }] },
    ]));
    const metrics = await (ing.metrics.discarded as unknown as { get(): Promise<{ values: Array<{ labels: Record<string, string>; value: number }> }> }).get();
    assert.deepEqual(metrics.values.map((v) => [v.labels.reason, v.labels.user, v.value]), [['native-histogram-disabled', 't', 3]]);
    const got = await readAll(ing, 't');
    assert.deepEqual([...got.keys()], ['__name__,h,i,2']);
    assert.deepEqual(got.get('__name__,h,i,2')?.histograms, []);
  } finally {
    await stopped(ing);
  }
  // nothing of them reached the WAL either: not even with ingestion enabled after a restart
  const ing2 = await started(newIngester(dir, true));
  try {
    assert.equal(ing2.replays.get('t')?.samples, 1);
    const got = await readAll(ing2, 't');
    assert.deepEqual([...got.keys()], ['__name__,h,i,2']);
    assert.deepEqual(got.get('__name__,h,i,2')?.histograms, []);
  } finally {
    await stopped(ing2);
    rmSync(dir, { recursive: true, force: true });
  }
});
