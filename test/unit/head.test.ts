import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MuninnError } from '../../src/errors/index.js';
import {
  decodeWriteRequest,
  encodeWriteRequest,
  type HistogramObject,
  type SeriesObject,
  valueBits,
} from '../../src/remotewrite/index.js';
import { STALE_NAN_BITS, XorChunk, floatFromBits, floatToBits } from '../../src/tsdb/chunkenc/index.js';
import {
  AppendStats,
  type HeadLimits,
  type MemSeries,
  SAMPLES_PER_CHUNK,
  SampleBuffer,
  SampleError,
  TenantHead,
  WalBatch,
} from '../../src/tsdb/head/index.js';
import { type Labels, eq, labelsFromStrings, labelsToString, neq, re } from '../../src/tsdb/labels/index.js';
import { mulberry32 } from '../util.js';

// ---------------------------------------------------------------------------------------------
// helpers

const HOUR = 3_600_000;
const NORMAL_NAN_BITS = 0x7ff8000000000001n; // Prometheus's value.NormalNaN
const OTHER_NAN_BITS = 0x7ff8000000000002n;
const NEG_ZERO_BITS = 0x8000000000000000n;

interface HeadOpts extends Partial<HeadLimits> {
  chunkRangeMs?: number;
  now?: () => number;
  instanceSeriesFull?: () => number | false;
}

interface TestHead {
  head: TenantHead;
  limits: HeadLimits;
  created: number;
  removed: number;
}

function mkHead(o: HeadOpts = {}): TestHead {
  const limits: HeadLimits = {
    maxSeries: o.maxSeries ?? 0,
    maxSeriesPerMetric: o.maxSeriesPerMetric ?? 0,
    outOfOrderWindowMs: o.outOfOrderWindowMs ?? 0,
    nativeHistograms: o.nativeHistograms ?? false,
  };
  const th: TestHead = { head: undefined as unknown as TenantHead, limits, created: 0, removed: 0 };
  th.head = new TenantHead({
    tenant: 'team-a',
    chunkRangeMs: o.chunkRangeMs ?? 2 * HOUR,
    limits: () => limits,
    instanceSeriesFull: o.instanceSeriesFull,
    onSeriesCreated: (n) => { th.created += n; },
    onSeriesRemoved: (n) => { th.removed += n; },
    now: o.now,
  });
  return th;
}

interface PushResult {
  stats: AppendStats;
  wal: WalBatch;
}

/** Encodes, decodes and appends one request, as the ingester does. */
function push(head: TenantHead, series: SeriesObject[]): PushResult {
  return pushBytes(head, encodeWriteRequest({ series }));
}

function pushBytes(head: TenantHead, body: Uint8Array): PushResult {
  const req = decodeWriteRequest(body);
  const stats = new AppendStats();
  const wal = new WalBatch();
  head.appendRequest(req, wal, stats);
  return { stats, wal };
}

type Val = number | bigint;

/** A series object: flat labels and [t, v] pairs (v a number or exact bits). */
function ser(labels: string[], ...samples: Array<[number, Val]>): SeriesObject {
  return { labels, samples: samples.map(([t, v]) => ({ timestamp: t, value: v })) };
}

function bitsOf(v: Val): bigint {
  return typeof v === 'bigint' ? v : floatToBits(v);
}

interface Smp {
  t: number;
  bits: bigint;
}

function smps(...pairs: Array<[number, Val]>): Smp[] {
  return pairs.map(([t, v]) => ({ t, bits: bitsOf(v) }));
}

/** samplesIn as (t, exact bits), read from the buffer's Float64Arrays. */
function samplesOf(s: MemSeries, mint = -Infinity, maxt = Infinity): Smp[] {
  const buf = new SampleBuffer();
  s.samplesIn(mint, maxt, buf);
  const out: Smp[] = [];
  for (let i = 0; i < buf.length; i++) out.push({ t: buf.t[i] as number, bits: valueBits(buf.v, i) });
  return out;
}

interface DecodedChunk {
  minT: number;
  maxT: number;
  samples: Smp[];
}

/** chunksIn, each chunk's bytes decoded with XorChunk.fromBytes. */
function chunksOf(s: MemSeries, mint = -Infinity, maxt = Infinity): DecodedChunk[] {
  const raw: Array<{ minT: number; maxT: number; data: Uint8Array }> = [];
  s.chunksIn(mint, maxt, raw);
  return raw.map((c) => ({ minT: c.minT, maxT: c.maxT, samples: decodeChunk(c.data) }));
}

function decodeChunk(data: Uint8Array): Smp[] {
  const it = XorChunk.fromBytes(data).iterator();
  const out: Smp[] = [];
  while (it.next()) out.push({ t: it.t, bits: floatToBits(it.v) });
  assert.equal(it.err(), undefined);
  return out;
}

/** The one series of the head with exactly these labels. */
function find(head: TenantHead, ...nameValues: string[]): MemSeries {
  const want = labelsToString(labelsFromStrings(...nameValues));
  const hits = [...head.allSeries()].filter((s) => labelsToString(s.labels) === want);
  assert.equal(hits.length, 1, `expected one series ${want}, found ${hits.length}`);
  return hits[0] as MemSeries;
}

function walSamples(wal: WalBatch): Array<{ ref: number; t: number; bits: bigint }> {
  const out: Array<{ ref: number; t: number; bits: bigint }> = [];
  for (let i = 0; i < wal.samples; i++) out.push({ ref: wal.sampleRefs[i] as number, t: wal.sampleTs[i] as number, bits: valueBits(wal.sampleVs, i) });
  return out;
}

function discarded(stats: AppendStats): Record<string, number> {
  return Object.fromEntries([...stats.discarded].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const ERR_IDS: Record<string, string> = {
  'sample-out-of-order': 'err-mimir-sample-out-of-order',
  'sample-too-old': 'err-mimir-sample-too-old',
  'sample-out-of-bounds': 'err-mimir-sample-out-of-bounds',
  'new-value-for-timestamp': 'err-mimir-sample-duplicate-timestamp',
  'native-histogram-disabled': 'err-mimir-native-histogram-disabled',
  per_user_series_limit: 'err-mimir-max-series-per-user',
  per_metric_series_limit: 'err-mimir-max-series-per-metric',
};

/** firstError is a non-retryable 400 SampleError with the reason, its Mimir error ID and the series. */
function assertSampleError(err: MuninnError | null, reason: string, series: string | null): void {
  assert.ok(err instanceof SampleError, `expected a SampleError, got ${String(err)}`);
  assert.equal(err.reason, reason);
  assert.equal(err.httpStatus, 400);
  assert.equal(err.retryable, false);
  const id = ERR_IDS[reason];
  if (id !== undefined) assert.ok(err.message.includes(id), `message lacks ${id}: ${err.message}`);
  if (series !== null) assert.ok(err.message.includes(series), `message lacks ${series}: ${err.message}`);
}

const A = ['__name__', 'up', 'job', 'a'];
const A_STR = '{__name__="up", job="a"}';

// ---------------------------------------------------------------------------------------------
// append rules

interface RuleCase {
  name: string;
  window?: number;
  chunkRangeMs?: number;
  /** Requests pushed first (each accepted in full). */
  setup: SeriesObject[][];
  /** The request under test. */
  push: SeriesObject[];
  accepted: number;
  /** Samples added to the WalBatch. */
  logged: number;
  discarded: Record<string, number>;
  /** firstError's reason (and the series it names) or null. */
  error: [string, string] | null;
  /** samplesIn of series A afterwards (null: series A must not exist). */
  stored: Smp[] | null;
}

const W = 10 * 60_000; // an out-of-order window of 10 minutes
const T0 = 1_700_000_000_000;

const RULES: RuleCase[] = [
  {
    name: 'in-order samples are accepted',
    setup: [[ser(A, [T0, 1])]],
    push: [ser(A, [T0 + 1000, 2], [T0 + 2000, 3])],
    accepted: 2, logged: 2, discarded: {}, error: null,
    stored: smps([T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]),
  },
  {
    name: 'same timestamp, same value: accepted silently, stored once',
    setup: [[ser(A, [T0, 1])]],
    push: [ser(A, [T0, 1])],
    accepted: 1, logged: 0, discarded: {}, error: null,
    stored: smps([T0, 1]),
  },
  {
    name: 'same timestamp, same NaN payload: a duplicate',
    setup: [[ser(A, [T0, NORMAL_NAN_BITS])]],
    push: [ser(A, [T0, NORMAL_NAN_BITS])],
    accepted: 1, logged: 0, discarded: {}, error: null,
    stored: smps([T0, NORMAL_NAN_BITS]),
  },
  {
    name: 'same timestamp, stale marker twice: a duplicate',
    setup: [[ser(A, [T0, STALE_NAN_BITS])]],
    push: [ser(A, [T0, STALE_NAN_BITS])],
    accepted: 1, logged: 0, discarded: {}, error: null,
    stored: smps([T0, STALE_NAN_BITS]),
  },
  {
    name: 'same timestamp, another NaN payload than the stale marker: new value',
    setup: [[ser(A, [T0, STALE_NAN_BITS])]],
    push: [ser(A, [T0, NORMAL_NAN_BITS])],
    accepted: 0, logged: 0, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, STALE_NAN_BITS]),
  },
  {
    name: 'same timestamp, NaN payloads differ: new value',
    setup: [[ser(A, [T0, NORMAL_NAN_BITS])]],
    push: [ser(A, [T0, OTHER_NAN_BITS])],
    accepted: 0, logged: 0, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, NORMAL_NAN_BITS]),
  },
  {
    name: 'same timestamp, +0 then -0: new value (bits differ)',
    setup: [[ser(A, [T0, 0])]],
    push: [ser(A, [T0, NEG_ZERO_BITS])],
    accepted: 0, logged: 0, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, 0]),
  },
  {
    name: 'same timestamp, different value: new-value-for-timestamp',
    setup: [[ser(A, [T0, 1])]],
    push: [ser(A, [T0, 2], [T0 + 1000, 3])],
    accepted: 1, logged: 1, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, 1], [T0 + 1000, 3]),
  },
  {
    name: 'same timestamp twice in one request, different values',
    setup: [],
    push: [ser(A, [T0, 1], [T0, 2])],
    accepted: 1, logged: 1, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, 1]),
  },
  {
    name: 'older than the newest sample, window 0: sample-out-of-order',
    setup: [[ser(A, [T0, 1], [T0 + 2000, 2])]],
    push: [ser(A, [T0 + 1000, 9], [T0 + 3000, 3])],
    accepted: 1, logged: 1, discarded: { 'sample-out-of-order': 1 }, error: ['sample-out-of-order', A_STR],
    stored: smps([T0, 1], [T0 + 2000, 2], [T0 + 3000, 3]),
  },
  {
    name: 'out-of-order within the window: stored, read back in time order',
    window: W,
    setup: [[ser(A, [T0, 1], [T0 + 2000, 2], [T0 + 4000, 4])]],
    push: [ser(A, [T0 + 3000, 3], [T0 + 1000, STALE_NAN_BITS], [T0 - W + 4000, 0])],
    accepted: 3, logged: 3, discarded: {}, error: null,
    stored: smps([T0 - W + 4000, 0], [T0, 1], [T0 + 1000, STALE_NAN_BITS], [T0 + 2000, 2], [T0 + 3000, 3], [T0 + 4000, 4]),
  },
  {
    name: 'out-of-order older than head maxT - window: sample-too-old',
    window: W,
    setup: [[ser(A, [T0, 1], [T0 + 4000, 4])]],
    push: [ser(A, [T0 - W + 3999, 9], [T0 + 5000, 5])],
    accepted: 1, logged: 1, discarded: { 'sample-too-old': 1 }, error: ['sample-too-old', A_STR],
    stored: smps([T0, 1], [T0 + 4000, 4], [T0 + 5000, 5]),
  },
  {
    name: 'the window counts from the head maxT, not the series maxT',
    window: W,
    setup: [[ser(A, [T0, 1])], [ser(['__name__', 'other'], [T0 + W, 1])]],
    push: [ser(A, [T0 - 1, 9], [T0 + 1, 2])],
    accepted: 1, logged: 1, discarded: { 'sample-too-old': 1 }, error: ['sample-too-old', A_STR],
    stored: smps([T0, 1], [T0 + 1, 2]),
  },
  {
    name: 'out-of-order duplicate of an out-of-order sample: same value silent, other value refused',
    window: W,
    setup: [[ser(A, [T0, 1], [T0 + 4000, 4])], [ser(A, [T0 + 2000, 2])]],
    push: [ser(A, [T0 + 2000, 2], [T0 + 2000, 7])],
    accepted: 1, logged: 0, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, 1], [T0 + 2000, 2], [T0 + 4000, 4]),
  },
  {
    name: 'out-of-order sample at the time of an in-order one: same value silent, other value refused',
    window: W,
    setup: [[ser(A, [T0, 1], [T0 + 2000, 2], [T0 + 4000, 4])]],
    push: [ser(A, [T0 + 2000, 2], [T0, 5])],
    accepted: 1, logged: 0, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: smps([T0, 1], [T0 + 2000, 2], [T0 + 4000, 4]),
  },
  {
    name: 'out-of-order duplicate of a sample in a closed chunk',
    window: 10 * HOUR,
    setup: [[ser(A, ...Array.from({ length: 130 }, (_, i): [number, Val] => [T0 + i * 1000, i]))]],
    push: [ser(A, [T0 + 5000, 5], [T0 + 6000, 66], [T0 + 6500, STALE_NAN_BITS])],
    accepted: 2, logged: 1, discarded: { 'new-value-for-timestamp': 1 }, error: ['new-value-for-timestamp', A_STR],
    stored: [
      ...smps(...Array.from({ length: 7 }, (_, i): [number, Val] => [T0 + i * 1000, i])),
      ...smps([T0 + 6500, STALE_NAN_BITS]),
      ...smps(...Array.from({ length: 123 }, (_, i): [number, Val] => [T0 + (i + 7) * 1000, i + 7])),
    ],
  },
  {
    name: 'new series older than head maxT - chunkRange/2, window 0: sample-out-of-bounds, no series created',
    setup: [[ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(A, [T0 - HOUR - 1, 1], [T0 - HOUR - 2, 2])],
    accepted: 0, logged: 0, discarded: { 'sample-out-of-bounds': 2 }, error: ['sample-out-of-bounds', A_STR],
    stored: null,
  },
  {
    name: 'new series at exactly head maxT - chunkRange/2 is in bounds',
    setup: [[ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(A, [T0 - HOUR, 1])],
    accepted: 1, logged: 1, discarded: {}, error: null,
    stored: smps([T0 - HOUR, 1]),
  },
  {
    name: 'new series with some samples out of bounds: the others are stored',
    setup: [[ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(A, [T0 - 2 * HOUR, 1], [T0 - 10, 2])],
    accepted: 1, logged: 1, discarded: { 'sample-out-of-bounds': 1 }, error: ['sample-out-of-bounds', A_STR],
    stored: smps([T0 - 10, 2]),
  },
  {
    name: 'existing series, sample out of bounds (and out of order), window 0: out-of-bounds, as Prometheus',
    setup: [[ser(A, [T0 - 2 * HOUR, 1])], [ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(A, [T0 - 2 * HOUR - 1, 2], [T0 - 2 * HOUR + 1, 3])],
    accepted: 0, logged: 0, discarded: { 'sample-out-of-bounds': 2 }, error: ['sample-out-of-bounds', A_STR],
    stored: smps([T0 - 2 * HOUR, 1]),
  },
  {
    name: 'new series far behind the head maxT, window on: accepted within the window',
    window: 2 * HOUR,
    setup: [[ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(A, [T0 - HOUR - 2, 2], [T0 - HOUR - 3, 1])],
    accepted: 2, logged: 2, discarded: {}, error: null,
    stored: smps([T0 - HOUR - 3, 1], [T0 - HOUR - 2, 2]),
  },
  {
    name: 'new series far behind the head maxT, window on: too old beyond the window',
    window: 2 * HOUR,
    setup: [[ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(A, [T0 - 2 * HOUR - 1, 1], [T0 - 2 * HOUR, 2])],
    accepted: 1, logged: 1, discarded: { 'sample-too-old': 1 }, error: ['sample-too-old', A_STR],
    stored: smps([T0 - 2 * HOUR, 2]),
  },
  {
    name: 'bounds are fixed per request (as Prometheus): a newer sample earlier in the request does not move them',
    setup: [[ser(['__name__', 'other'], [T0, 1])]],
    push: [ser(['__name__', 'other'], [T0 + 3 * HOUR, 2]), ser(A, [T0 - 10, 1])],
    accepted: 2, logged: 2, discarded: {}, error: null,
    stored: smps([T0 - 10, 1]),
  },
  {
    name: 'an empty head takes its bounds from the first sample of the request',
    setup: [],
    push: [ser(['__name__', 'other'], [T0, 1]), ser(A, [T0 - HOUR - 1, 1], [T0 - HOUR, 2])],
    accepted: 2, logged: 2, discarded: { 'sample-out-of-bounds': 1 }, error: ['sample-out-of-bounds', A_STR],
    stored: smps([T0 - HOUR, 2]),
  },
];

for (const c of RULES) {
  test(`append rules: ${c.name}`, () => {
    const { head } = mkHead({ outOfOrderWindowMs: c.window ?? 0, chunkRangeMs: c.chunkRangeMs });
    for (const r of c.setup) {
      const { stats } = push(head, r);
      assert.equal(stats.firstError, null, `setup refused: ${stats.firstError?.message}`);
    }
    const { stats, wal } = push(head, c.push);
    assert.equal(stats.accepted, c.accepted, 'accepted');
    assert.equal(wal.samples, c.logged, 'samples in the WalBatch');
    assert.deepEqual(discarded(stats), c.discarded);
    if (c.error === null) assert.equal(stats.firstError, null, stats.firstError?.message);
    else assertSampleError(stats.firstError, c.error[0], c.error[1]);
    assert.equal(stats.retryableError, null);
    if (c.stored === null) {
      assert.equal([...head.allSeries()].filter((s) => labelsToString(s.labels) === A_STR).length, 0, 'series A was created');
    } else {
      assert.deepEqual(samplesOf(find(head, ...A)), c.stored);
    }
  });
}

test('first error is the first refusal; valid samples of the same request are stored', () => {
  const { head } = mkHead();
  push(head, [ser(['__name__', 'b', 'job', 'x'], [T0, 1]), ser(['__name__', 'c'], [T0 + 5000, 1])]);
  const { stats, wal } = push(head, [
    ser(['__name__', 'a'], [T0 + 1000, 1], [T0 + 2000, 2]),
    ser(['__name__', 'b', 'job', 'x'], [T0, 2], [T0 + 1000, 3]),
    ser(['__name__', 'c'], [T0 + 4000, 1]),
    ser(['__name__', 'd'], [T0 + 1000, 4]),
  ]);
  assert.deepEqual(discarded(stats), { 'new-value-for-timestamp': 1, 'sample-out-of-order': 1 });
  assertSampleError(stats.firstError, 'new-value-for-timestamp', '{__name__="b", job="x"}');
  assert.ok(stats.firstError?.message.includes(new Date(T0).toISOString()), stats.firstError?.message);
  assert.equal(stats.accepted, 4);
  assert.equal(stats.newSeries, 2);
  assert.equal(wal.samples, 4);
  assert.deepEqual(samplesOf(find(head, '__name__', 'a')), smps([T0 + 1000, 1], [T0 + 2000, 2]));
  assert.deepEqual(samplesOf(find(head, '__name__', 'b', 'job', 'x')), smps([T0, 1], [T0 + 1000, 3]));
  assert.deepEqual(samplesOf(find(head, '__name__', 'd')), smps([T0 + 1000, 4]));
});

// ---------------------------------------------------------------------------------------------
// stale markers and NaN payloads

test('stale markers and NaN payloads keep their exact bits in samplesIn, chunksIn and the WalBatch', () => {
  const { head } = mkHead();
  const vals: Val[] = [1, STALE_NAN_BITS, NORMAL_NAN_BITS, OTHER_NAN_BITS, NEG_ZERO_BITS, 0xfff0000000000001n];
  // enough samples that the markers end up in a closed chunk as well as in the head chunk
  const pairs: Array<[number, Val]> = Array.from({ length: SAMPLES_PER_CHUNK + 10 }, (_, i) => [T0 + i * 15_000, vals[i % vals.length] as Val]);
  const { stats, wal } = push(head, [ser(A, ...pairs)]);
  assert.equal(stats.firstError, null);
  const want = smps(...pairs);
  const s = find(head, ...A);
  assert.deepEqual(samplesOf(s), want);
  const chunks = chunksOf(s);
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks.flatMap((c) => c.samples), want);
  assert.deepEqual(walSamples(wal).map(({ t, bits }) => ({ t, bits })), want);
  // a stale marker repeated is a duplicate; a regular NaN at its timestamp is not
  const again = push(head, [ser(A, [T0 + 15_000, STALE_NAN_BITS]), ser(A, [T0 + 15_000 * (SAMPLES_PER_CHUNK + 9), bitsOf(vals[(SAMPLES_PER_CHUNK + 9) % vals.length] as Val)])]);
  assert.deepEqual(discarded(again.stats), { 'sample-out-of-order': 1 }); // T0+15000 is old for window 0
  const dup = push(head, [ser(A, [T0 + 15_000 * (SAMPLES_PER_CHUNK + 9), NORMAL_NAN_BITS])]);
  // sample 129 is vals[129 % 6] = vals[3] = OTHER_NAN_BITS: NORMAL_NAN differs
  assert.deepEqual(discarded(dup.stats), { 'new-value-for-timestamp': 1 });
});

test('stale marker as an out-of-order sample keeps its bits', () => {
  const { head } = mkHead({ outOfOrderWindowMs: HOUR });
  push(head, [ser(A, [T0, 1], [T0 + 60_000, 2])]);
  const { wal } = push(head, [ser(A, [T0 + 30_000, STALE_NAN_BITS])]);
  assert.equal(walSamples(wal)[0]?.bits, STALE_NAN_BITS);
  assert.deepEqual(samplesOf(find(head, ...A)), smps([T0, 1], [T0 + 30_000, STALE_NAN_BITS], [T0 + 60_000, 2]));
  const dup = push(head, [ser(A, [T0 + 30_000, STALE_NAN_BITS])]);
  assert.equal(dup.stats.accepted, 1);
  assert.equal(dup.wal.samples, 0);
});

// ---------------------------------------------------------------------------------------------
// chunks

test('chunk cutting: a new chunk after 120 samples', () => {
  const { head } = mkHead();
  const pairs = Array.from({ length: 300 }, (_, i): [number, Val] => [T0 + i * 1000, i]);
  push(head, [ser(A, ...pairs)]);
  const s = find(head, ...A);
  assert.equal(s.closedCount, 2);
  const chunks = chunksOf(s);
  assert.deepEqual(chunks.map((c) => c.samples.length), [120, 120, 60]);
  assert.deepEqual(chunks.map((c) => [c.minT, c.maxT]), [
    [T0, T0 + 119_000], [T0 + 120_000, T0 + 239_000], [T0 + 240_000, T0 + 299_000],
  ]);
  for (const c of chunks) {
    assert.equal(c.samples[0]?.t, c.minT);
    assert.equal(c.samples[c.samples.length - 1]?.t, c.maxT);
  }
  assert.deepEqual(chunks.flatMap((c) => c.samples), smps(...pairs));
});

test('chunk cutting: at the chunk range boundaries, aligned to multiples of the range', () => {
  const { head } = mkHead({ chunkRangeMs: 1000 });
  // 1500 .. 3450 every 50 ms: chunks [1500, 2000), [2000, 3000), [3000, 3450]
  const pairs = Array.from({ length: 40 }, (_, i): [number, Val] => [1500 + i * 50, i]);
  push(head, [ser(A, ...pairs)]);
  const chunks = chunksOf(find(head, ...A));
  assert.deepEqual(chunks.map((c) => [c.minT, c.maxT, c.samples.length]), [[1500, 1950, 10], [2000, 2950, 20], [3000, 3450, 10]]);
  // a gap over whole ranges: the next chunk starts at the sample, ends at its range's end
  push(head, [ser(A, [7300, 1], [7999, 2], [8000, 3])]);
  const more = chunksOf(find(head, ...A), 7000, Infinity);
  assert.deepEqual(more.map((c) => [c.minT, c.maxT, c.samples.length]), [[7300, 7999, 2], [8000, 8000, 1]]);
});

test('chunksIn: closed chunks and a copy of the head chunk; mint/maxt filtering', () => {
  const { head } = mkHead();
  const pairs = Array.from({ length: 250 }, (_, i): [number, Val] => [T0 + i * 1000, i * 2]);
  push(head, [ser(A, ...pairs)]);
  const s = find(head, ...A);
  const raw: Array<{ minT: number; maxT: number; data: Uint8Array }> = [];
  s.chunksIn(-Infinity, Infinity, raw);
  assert.equal(raw.length, 3);
  const headCopy = raw[2] as { data: Uint8Array };
  const before = decodeChunk(headCopy.data);
  push(head, [ser(A, [T0 + 250_000, 1], [T0 + 251_000, 2])]);
  assert.deepEqual(decodeChunk(headCopy.data), before, 'the head chunk copy changed with later appends');
  assert.equal(chunksOf(s)[2]?.samples.length, 12);
  // filtering: chunks overlapping [mint, maxt] only; boundaries inclusive
  const ranges = (mint: number, maxt: number): number[][] => chunksOf(s, mint, maxt).map((c) => [c.minT - T0, c.maxT - T0]);
  assert.deepEqual(ranges(T0 + 119_000, T0 + 119_000), [[0, 119_000]]);
  assert.deepEqual(ranges(T0 + 119_500, T0 + 119_900), []);
  assert.deepEqual(ranges(T0 + 119_000, T0 + 120_000), [[0, 119_000], [120_000, 239_000]]);
  assert.deepEqual(ranges(T0 + 240_000, Infinity), [[240_000, 251_000]]);
  assert.deepEqual(ranges(-Infinity, T0 - 1), []);
  assert.deepEqual(ranges(T0 + 252_000, Infinity), []);
  // samplesIn filters exactly
  assert.deepEqual(samplesOf(s, T0 + 118_500, T0 + 121_000), smps([T0 + 119_000, 238], [T0 + 120_000, 240], [T0 + 121_000, 242]));
  assert.deepEqual(samplesOf(s, T0 + 251_000, T0 + 300_000), smps([T0 + 251_000, 2]));
  assert.deepEqual(samplesOf(s, T0 + 100, T0 + 900), []);
});

test('samplesIn merges out-of-order samples into closed and head chunks in time order', () => {
  const { head } = mkHead({ outOfOrderWindowMs: 10 * HOUR });
  const pairs = Array.from({ length: 200 }, (_, i): [number, Val] => [T0 + i * 10, i]);
  push(head, [ser(A, ...pairs)]);
  const ooo: Array<[number, Val]> = [[T0 - 5, 100_000], [T0 + 5, 100_001], [T0 + 1195, 100_002], [T0 + 1205, 100_003], [T0 + 1985, 100_004]];
  const { stats } = push(head, [ser(A, ...[...ooo].reverse())]);
  assert.equal(stats.firstError, null);
  const all = [...pairs, ...ooo].sort((x, y) => x[0] - y[0]);
  const s = find(head, ...A);
  assert.equal(s.ooo?.length, 5);
  assert.deepEqual(samplesOf(s), smps(...all));
  assert.deepEqual(samplesOf(s, T0 + 1190, T0 + 1210), smps([T0 + 1190, 119], [T0 + 1195, 100_002], [T0 + 1200, 120], [T0 + 1205, 100_003], [T0 + 1210, 121]));
  assert.deepEqual(samplesOf(s, T0 - 10, T0), smps([T0 - 5, 100_000], [T0, 0]));
  assert.deepEqual(samplesOf(s, T0 + 1981, T0 + 5000), smps([T0 + 1985, 100_004], [T0 + 1990, 199]));
  // chunksIn holds the in-order samples only
  assert.deepEqual(chunksOf(s).flatMap((c) => c.samples), smps(...pairs));
  assert.equal(s.minTime(), T0 - 5);
  assert.equal(s.maxTime(), T0 + 1990);
});

// ---------------------------------------------------------------------------------------------
// limits

test('per-tenant series limit: per_user_series_limit, existing series still accept samples', () => {
  const th = mkHead({ maxSeries: 3 });
  const { head } = th;
  const series = (i: number, t: number): SeriesObject => ser(['__name__', `m${i}`], [t, i], [t + 1, i]);
  const r1 = push(head, [0, 1, 2, 3, 4].map((i) => series(i, T0)));
  assert.equal(head.numSeries, 3);
  assert.equal(th.created, 3);
  assert.equal(r1.stats.newSeries, 3);
  assert.equal(r1.stats.accepted, 6);
  assert.deepEqual(discarded(r1.stats), { per_user_series_limit: 4 });
  assertSampleError(r1.stats.firstError, 'per_user_series_limit', null);
  assert.match(r1.stats.firstError?.message ?? '', /-ingester\.max-global-series-per-user/);
  assert.match(r1.stats.firstError?.message ?? '', /limit of 3/);
  assert.deepEqual(r1.wal.seriesRefs.length, 3);
  const r2 = push(head, [0, 1, 2].map((i) => series(i, T0 + 1000)));
  assert.equal(r2.stats.firstError, null);
  assert.equal(r2.stats.accepted, 6);
  // raising the limit lets new series in
  th.limits.maxSeries = 4;
  const r3 = push(head, [series(3, T0 + 1000), series(4, T0 + 1000)]);
  assert.equal(head.numSeries, 4);
  assert.deepEqual(discarded(r3.stats), { per_user_series_limit: 2 });
});

test('per-metric series limit: per_metric_series_limit, other metrics unaffected', () => {
  const { head } = mkHead({ maxSeriesPerMetric: 2 });
  const r = push(head, [
    ser(['__name__', 'm', 'i', '1'], [T0, 1]),
    ser(['__name__', 'm', 'i', '2'], [T0, 1]),
    ser(['__name__', 'm', 'i', '3'], [T0, 1], [T0 + 1, 2]),
    ser(['__name__', 'n', 'i', '1'], [T0, 1]),
    ser(['__name__', 'n', 'i', '2'], [T0, 1]),
  ]);
  assert.equal(head.numSeries, 4);
  assert.deepEqual(discarded(r.stats), { per_metric_series_limit: 2 });
  assertSampleError(r.stats.firstError, 'per_metric_series_limit', '{__name__="m", i="3"}');
  assert.match(r.stats.firstError?.message ?? '', /-ingester\.max-global-series-per-metric/);
  const r2 = push(head, [ser(['__name__', 'm', 'i', '1'], [T0 + 1000, 1]), ser(['__name__', 'm', 'i', '2'], [T0 + 1000, 1])]);
  assert.equal(r2.stats.firstError, null);
  assert.equal(r2.stats.accepted, 2);
});

test('instance series limit: retryable 503, nothing counted as discarded, existing series still appended', () => {
  let full: number | false = false;
  const th = mkHead({ instanceSeriesFull: () => full });
  const { head } = th;
  push(head, [ser(A, [T0, 1])]);
  full = 1;
  const r = push(head, [ser(A, [T0 + 1000, 2]), ser(['__name__', 'new'], [T0 + 1000, 1]), ser(['__name__', 'new2'], [T0 + 1000, 1])]);
  assert.equal(r.stats.firstError, null);
  assert.deepEqual(discarded(r.stats), {});
  const err = r.stats.retryableError;
  assert.ok(err instanceof MuninnError);
  assert.equal(err.retryable, true);
  assert.equal(err.httpStatus, 503);
  assert.match(err.message, /-ingester\.instance-limits\.max-series/);
  assert.equal(r.stats.accepted, 1);
  assert.equal(r.wal.seriesRefs.length, 0);
  assert.equal(head.numSeries, 1);
  assert.equal(th.created, 1);
  assert.deepEqual(samplesOf(find(head, ...A)), smps([T0, 1], [T0 + 1000, 2]));
});

// ---------------------------------------------------------------------------------------------
// native histograms

function hist(t: number, count: number): HistogramObject {
  return { countInt: count, sum: count * 1.5, schema: 0, zeroThreshold: 0.001, zeroCountInt: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [1, count - 2], timestamp: t };
}

test('native histograms: discarded when disabled, floats of the same series still stored', () => {
  const { head } = mkHead({ nativeHistograms: false });
  const r = push(head, [
    { labels: ['__name__', 'h'], histograms: [hist(T0, 3), hist(T0 + 1000, 4)] },
    { labels: A, samples: [{ timestamp: T0, value: 1 }], histograms: [hist(T0, 3)] },
  ]);
  assert.deepEqual(discarded(r.stats), { 'native-histogram-disabled': 3 });
  assert.equal(r.stats.firstError, null, 'disabled histograms are skipped without an error, as Mimir does');
  assert.equal(r.stats.acceptedHistograms, 0);
  assert.equal(r.stats.accepted, 1);
  assert.equal(head.numSeries, 1, 'a histogram-only series was created');
  assert.equal(find(head, ...A).histograms, null);
  assert.equal(r.wal.histograms.length, 0);
});

test('native histograms: stored and retrievable when enabled', () => {
  const { head } = mkHead({ nativeHistograms: true });
  const r = push(head, [{ labels: ['__name__', 'h'], histograms: [hist(T0, 3), hist(T0 + 1000, 4)] }]);
  assert.equal(r.stats.firstError, null);
  assert.equal(r.stats.acceptedHistograms, 2);
  assert.equal(r.wal.histograms.length, 2);
  assert.deepEqual(r.wal.histogramTs, [T0, T0 + 1000]);
  const s = find(head, '__name__', 'h');
  assert.deepEqual(s.histograms?.map((x) => x.t), [T0, T0 + 1000]);
  const h0 = s.histograms?.[0]?.h as HistogramObject;
  assert.equal(h0.countInt, 3);
  assert.deepEqual(h0.positiveDeltas, [1, 1]);
  assert.equal(s.minTime(), T0);
  assert.equal(s.maxTime(), T0 + 1000);
  assert.deepEqual(head.select([eq('__name__', 'h')], T0 + 500, T0 + 2000).map((x) => x.ref), [s.ref]);
  // same histogram again: silent; a different one at that time: refused; older: out of order
  const r2 = push(head, [{ labels: ['__name__', 'h'], histograms: [hist(T0 + 1000, 4), hist(T0 + 1000, 5), hist(T0 + 500, 3), hist(T0 + 2000, 6)] }]);
  assert.equal(r2.stats.acceptedHistograms, 2);
  assert.equal(r2.wal.histograms.length, 1);
  assert.deepEqual(discarded(r2.stats), { 'new-value-for-timestamp': 1, 'sample-out-of-order': 1 });
  assertSampleError(r2.stats.firstError, 'new-value-for-timestamp', '{__name__="h"}');
  // replay
  const fresh = mkHead({ nativeHistograms: true }).head;
  fresh.replaySeries(s.ref, s.labels);
  for (const x of s.histograms ?? []) assert.equal(fresh.replayHistogram(s.ref, x.t, x.h), true);
  assert.deepEqual(fresh.series(s.ref)?.histograms?.map((x) => x.t), [T0, T0 + 1000, T0 + 2000]);
});

// ---------------------------------------------------------------------------------------------
// series lookup

test('series lookup: label order, empty-valued labels and UTF-8 resolve to the same series', () => {
  const { head } = mkHead();
  const variants: string[][] = [
    ['__name__', 'up', 'job', 'a', 'zone', 'eu'],
    ['job', 'a', '__name__', 'up', 'zone', 'eu'],
    ['zone', 'eu', 'job', 'a', '__name__', 'up'],
    ['__name__', 'up', 'empty', '', 'job', 'a', 'zone', 'eu'],
    ['empty', '', 'zone', 'eu', '__name__', 'up', 'job', 'a'],
    ['__name__', 'up', 'job', 'a', 'zone', 'eu', 'zzz', ''],
    ['', '', '__name__', 'up', 'job', 'a', 'zone', 'eu'],
    // out of order only around an empty-valued label (which sorts between them)
    ['zone', 'eu', 'aaa', '', '__name__', 'up', 'job', 'a'],
    ['job', 'a', 'aaa', '', '__name__', 'up', 'zone', 'eu'],
  ];
  let ref = -1;
  variants.forEach((labels, i) => {
    const r = push(head, [ser(labels, [T0 + i, i])]);
    assert.equal(r.stats.firstError, null, `variant ${i}: ${r.stats.firstError?.message}`);
    assert.equal(r.wal.seriesRefs.length, i === 0 ? 1 : 0, `variant ${i} created a series`);
    if (i === 0) ref = r.wal.seriesRefs[0] as number;
    assert.equal(r.wal.sampleRefs[0], ref, `variant ${i} went to another series`);
  });
  assert.equal(head.numSeries, 1);
  assert.equal(samplesOf(find(head, '__name__', 'up', 'job', 'a', 'zone', 'eu')).length, variants.length);

  const utf = ['__name__', 'température', 'city', 'Zürich', 'owl', '🦉', 'ключ', 'значение'];
  const u1 = push(head, [ser(utf, [T0, 1])]);
  const u2 = push(head, [ser(utf, [T0 + 1, 2])]);
  const u3 = push(head, [ser([...utf.slice(2), ...utf.slice(0, 2)], [T0 + 2, 3])]);
  assert.equal(u1.wal.seriesRefs.length, 1);
  assert.equal(u2.wal.seriesRefs.length, 0, 'non-ASCII series not found on the second push');
  assert.equal(u3.wal.seriesRefs.length, 0, 'non-ASCII series not found when unsorted');
  assert.equal(u2.wal.sampleRefs[0], u1.wal.seriesRefs[0]);
  assert.equal(u3.wal.sampleRefs[0], u1.wal.seriesRefs[0]);
  assert.equal(head.numSeries, 2);
  assert.deepEqual([...find(head, ...utf).labels], [...labelsFromStrings(...utf)]);
});

test('series lookup: different label sets never merge (randomized)', () => {
  const seed = 0x5eed1;
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  // small alphabets make near-collisions likely: {a="bc"} vs {ab="c"}, prefixes, empty values
  const names = ['__name__', 'a', 'ab', 'b', 'bc', 'ü', 'é'];
  const values = ['', 'x', 'bc', 'c', 'b', 'ü', 'xy', 'e\u0301', 'é', '🦉'];
  const { head } = mkHead();
  const expect = new Map<string, number[]>(); // canonical label string -> sample values pushed
  let invalid = 0;
  let t = T0;
  for (let req = 0; req < 60; req++) {
    const batch: SeriesObject[] = [];
    for (let k = 0; k < 50; k++) {
      const n = 1 + Math.floor(rnd() * 4);
      const chosen = [...names].sort(() => rnd() - 0.5).slice(0, n);
      const flat: string[] = [];
      for (const name of chosen) flat.push(name, pick(values));
      const canon = new Map<string, string>();
      for (let i = 0; i < flat.length; i += 2) if (flat[i + 1] !== '') canon.set(flat[i] as string, flat[i + 1] as string);
      const v = t - T0;
      batch.push(ser(flat, [t++, v]));
      if (canon.size === 0) {
        invalid++;
        continue;
      }
      const key = labelsToString(labelsFromStrings(...[...canon].flat()));
      const list = expect.get(key) ?? [];
      list.push(v);
      expect.set(key, list);
    }
    push(head, batch);
  }
  assert.ok(invalid > 0 && expect.size > 500, `seed ${seed}: weak coverage (${expect.size} series)`);
  assert.equal(head.numSeries, expect.size, `seed ${seed}`);
  for (const s of head.allSeries()) {
    const key = labelsToString(s.labels);
    const want = expect.get(key);
    assert.ok(want !== undefined, `seed ${seed}: unexpected series ${key}`);
    assert.deepEqual(samplesOf(s).map((x) => Number(floatFromBits(x.bits))), want, `seed ${seed}: samples of ${key}`);
  }
});

test('series lookup: invalid label sets are refused, other series stored', () => {
  const { head } = mkHead();
  const r = push(head, [
    ser(['__name__', 'x', 'a', '1', 'a', '2'], [T0, 1], [T0 + 1, 2]), // sorted, duplicate name
    ser(['b', '1', '__name__', 'x', 'b', '2'], [T0, 1]), // unsorted, duplicate name
    ser(A, [T0, 1]),
    ser(['empty', ''], [T0, 1]), // no labels at all once empty values are dropped
    ser(['', 'v', '__name__', 'x'], [T0, 1]), // empty label name
  ]);
  assert.deepEqual(discarded(r.stats), { 'invalid-labels': 5 });
  const err = r.stats.firstError;
  assert.ok(err instanceof MuninnError);
  assert.equal(err.httpStatus, 400);
  assert.match(err.message, /duplicate label name "a"/);
  assert.match(err.message, /err-mimir-duplicate-label-names/);
  assert.equal(head.numSeries, 1);
  assert.deepEqual(samplesOf(find(head, ...A)), smps([T0, 1]));
  assert.equal(r.wal.seriesRefs.length, 1);
});

test('series lookup: label bytes that are not valid UTF-8 are refused, sorted or not', () => {
  const { head } = mkHead();
  const patch = (body: Uint8Array): Uint8Array => {
    const at = Buffer.from(body).indexOf('QQQQ');
    assert.ok(at >= 0);
    body.set([0xff, 0xfe, 0xc3, 0x28], at);
    return body;
  };
  let t = T0;
  for (const labels of [['__name__', 'x', 'v', 'QQQQ'], ['v', 'QQQQ', '__name__', 'x']]) {
    for (let i = 0; i < 2; i++, t++) {
      const r = pushBytes(head, patch(encodeWriteRequest({ series: [ser(labels, [t, 1]), ser(A, [t, 1])] })));
      assert.deepEqual(discarded(r.stats), { 'invalid-labels': 1 });
      assert.match(r.stats.firstError?.message ?? '', /UTF-8/);
    }
  }
  assert.equal(head.numSeries, 1);
});

// ---------------------------------------------------------------------------------------------
// WalBatch and replay

test('WalBatch: new series and accepted samples; replay into a fresh head reproduces the samples', () => {
  const { head } = mkHead({ outOfOrderWindowMs: HOUR });
  const log: PushResult[] = [];
  const p = (series: SeriesObject[]): PushResult => {
    const r = push(head, series);
    log.push(r);
    return r;
  };
  const r1 = p([ser(A, [T0, 1], [T0 + 1000, STALE_NAN_BITS]), ser(['job', 'b', '__name__', 'up'], [T0, 2])]);
  assert.deepEqual(r1.wal.seriesRefs.length, 2);
  assert.deepEqual(r1.wal.seriesLabels.map((l) => labelsToString(l)), [A_STR, '{__name__="up", job="b"}']);
  const [refA, refB] = r1.wal.seriesRefs as [number, number];
  assert.notEqual(refA, refB);
  assert.equal(head.series(refA), find(head, ...A));
  assert.ok(r1.wal.sampleVs instanceof Float64Array);
  assert.deepEqual(walSamples(r1.wal), [
    { ref: refA, t: T0, bits: floatToBits(1) },
    { ref: refA, t: T0 + 1000, bits: STALE_NAN_BITS },
    { ref: refB, t: T0, bits: floatToBits(2) },
  ]);
  const r2 = p([ser(A, [T0 + 1000, STALE_NAN_BITS], [T0 + 500, NORMAL_NAN_BITS], [T0 + 2000, 3]), ser(['__name__', 'up', 'job', 'b'], [T0, 9])]);
  assert.deepEqual(r2.wal.seriesRefs, []);
  assert.deepEqual(walSamples(r2.wal), [
    { ref: refA, t: T0 + 500, bits: NORMAL_NAN_BITS },
    { ref: refA, t: T0 + 2000, bits: floatToBits(3) },
  ]);
  // many samples: the batch grows
  const many = Array.from({ length: 600 }, (_, i): [number, Val] => [T0 + 3000 + i * 1000, i % 7 === 0 ? STALE_NAN_BITS : i]);
  const r3 = p([ser(['__name__', 'c'], ...many)]);
  assert.equal(r3.wal.samples, 600);
  assert.deepEqual(walSamples(r3.wal).map(({ t, bits }) => ({ t, bits })), smps(...many));
  p([ser(['__name__', 'c'], [T0 + 3500, 1])]); // out of order, in the window
  const wb = new WalBatch();
  wb.addSample(1, 2, 3);
  wb.reset();
  assert.equal(wb.isEmpty(), true);

  // replay, window off now: logged out-of-order samples must come back all the same
  const fresh = mkHead({ outOfOrderWindowMs: 0 }).head;
  for (const { wal } of log) {
    for (let i = 0; i < wal.seriesRefs.length; i++) fresh.replaySeries(wal.seriesRefs[i] as number, wal.seriesLabels[i] as Labels);
    for (let i = 0; i < wal.samples; i++) {
      assert.equal(fresh.replaySample(wal.sampleRefs[i] as number, wal.sampleTs[i] as number, wal.sampleVs[i] as number), true, `sample ${i}`);
    }
  }
  assert.equal(fresh.numSeries, head.numSeries);
  for (const s of head.allSeries()) {
    const r = fresh.series(s.ref);
    assert.ok(r !== undefined);
    assert.deepEqual([...r.labels], [...s.labels]);
    assert.deepEqual(samplesOf(r), samplesOf(s));
  }
  assert.equal(fresh.maxT, head.maxT);
  assert.equal(fresh.replaySample(9999, T0, 1), false);
  // a replayed duplicate is accepted, a conflicting value is not
  assert.equal(fresh.replaySample(refA, T0 + 2000, 3), true);
  assert.equal(fresh.replaySample(refA, T0 + 2000, 4), false);
  // new series after replay get refs beyond the replayed ones
  const r4 = push(fresh, [ser(['__name__', 'after'], [T0 + 10 * HOUR, 1])]);
  assert.ok((r4.wal.seriesRefs[0] as number) > Math.max(...log.flatMap((x) => x.wal.seriesRefs)));
});

test('replay: a label set logged again under a new ref (removed, then created anew) keeps all its samples', () => {
  let clock = 1_000_000;
  const { head } = mkHead({ chunkRangeMs: 1000, now: () => clock });
  const log: PushResult[] = [];
  log.push(push(head, [ser(A, [100, 1]), ser(['__name__', 'keep'], [100, 1])]));
  const refOld = log[0]?.wal.seriesRefs[0] as number;
  log.push(push(head, [ser(['__name__', 'keep'], [5000, 2])]));
  clock += 10_000;
  assert.equal(head.truncate(4000, 1000), 1);
  assert.equal(head.series(refOld), undefined);
  log.push(push(head, [ser(A, [4600, 2], [4700, 3])]));
  const refNew = log[2]?.wal.seriesRefs[0] as number;
  assert.notEqual(refNew, refOld);

  const fresh = mkHead({ chunkRangeMs: 1000 }).head;
  for (const { wal } of log) {
    for (let i = 0; i < wal.seriesRefs.length; i++) fresh.replaySeries(wal.seriesRefs[i] as number, wal.seriesLabels[i] as Labels);
    for (let i = 0; i < wal.samples; i++) assert.equal(fresh.replaySample(wal.sampleRefs[i] as number, wal.sampleTs[i] as number, wal.sampleVs[i] as number), true);
  }
  assert.equal(fresh.numSeries, 2);
  const s = fresh.series(refNew);
  assert.ok(s !== undefined, 'the new ref does not resolve after replay');
  assert.deepEqual(samplesOf(s), smps([100, 1], [4600, 2], [4700, 3]));
  const r = push(fresh, [ser(['__name__', 'brand-new'], [5000, 1])]);
  assert.ok((r.wal.seriesRefs[0] as number) > refNew);
});

// ---------------------------------------------------------------------------------------------
// select, label names and values

test('select with matchers and time ranges; labelNames, labelValues', () => {
  const { head } = mkHead();
  push(head, [
    ser(['__name__', 'http_requests', 'job', 'api', 'code', '200'], [T0, 1], [T0 + 1000, 2]),
    ser(['__name__', 'http_requests', 'job', 'api', 'code', '500'], [T0 + 5000, 1]),
    ser(['__name__', 'http_requests', 'job', 'web', 'code', '200'], [T0 + 10_000, 1]),
    ser(['__name__', 'up', 'job', 'api'], [T0, 1]),
    ser(['__name__', 'up', 'job', 'web', 'zone', 'eu'], [T0, 1]),
  ]);
  const names = (ss: MemSeries[]): string[] => ss.map((s) => labelsToString(s.labels));
  assert.deepEqual(names(head.select([eq('__name__', 'http_requests'), eq('job', 'api')], -Infinity, Infinity)), [
    '{__name__="http_requests", code="200", job="api"}',
    '{__name__="http_requests", code="500", job="api"}',
  ]);
  assert.deepEqual(names(head.select([eq('__name__', 'http_requests')], T0 + 2000, T0 + 9000)), ['{__name__="http_requests", code="500", job="api"}']);
  assert.deepEqual(names(head.select([eq('__name__', 'http_requests')], T0 + 1000, T0 + 1000)), ['{__name__="http_requests", code="200", job="api"}']);
  assert.deepEqual(names(head.select([eq('__name__', 'http_requests')], T0 + 10_001, Infinity)), []);
  assert.deepEqual(names(head.select([re('code', '5..|3..')], -Infinity, Infinity)), ['{__name__="http_requests", code="500", job="api"}']);
  assert.deepEqual(names(head.select([eq('__name__', 'up'), eq('zone', '')], -Infinity, Infinity)), ['{__name__="up", job="api"}']);
  assert.deepEqual(names(head.select([eq('__name__', 'up'), neq('job', 'api')], -Infinity, Infinity)), ['{__name__="up", job="web", zone="eu"}']);
  assert.deepEqual(head.select([eq('__name__', 'nope')], -Infinity, Infinity), []);

  assert.deepEqual(head.labelNames([]), ['__name__', 'code', 'job', 'zone']);
  assert.deepEqual(head.labelNames([eq('__name__', 'up')]), ['__name__', 'job', 'zone']);
  assert.deepEqual(head.labelNames([eq('job', 'api')]), ['__name__', 'code', 'job']);
  assert.deepEqual(head.labelNames([eq('__name__', 'nope')]), []);
  assert.deepEqual(head.labelValues('job', []), ['api', 'web']);
  assert.deepEqual(head.labelValues('code', [eq('job', 'web')]), ['200']);
  assert.deepEqual(head.labelValues('__name__', [eq('job', 'web')]), ['http_requests', 'up']);
  assert.deepEqual(head.labelValues('zone', [eq('__name__', 'http_requests')]), []);
});

// ---------------------------------------------------------------------------------------------
// truncate

test('truncate: drops old chunks and out-of-order samples, removes idle empty series, keeps recent ones', () => {
  let clock = 1_000_000;
  const th = mkHead({ chunkRangeMs: 1000, outOfOrderWindowMs: 500, maxSeriesPerMetric: 3, now: () => clock });
  const { head } = th;
  const aPairs = Array.from({ length: 300 }, (_, i): [number, Val] => [i * 10, i]);
  push(head, [ser(['__name__', 'a'], ...aPairs)]);
  push(head, [
    ser(['__name__', 'm', 'job', 'b'], [2950, 1], [2960, 2]),
    ser(['__name__', 'm', 'job', 'c'], [2500, 1]),
  ]);
  push(head, [ser(['__name__', 'm', 'job', 'b'], [2500, 3], [2700, 4])]); // out of order
  clock += 10_000;
  push(head, [ser(['__name__', 'm', 'job', 'd'], [2510, 1])]);
  const a = find(head, '__name__', 'a');
  const b = find(head, '__name__', 'm', 'job', 'b');
  const c = find(head, '__name__', 'm', 'job', 'c');
  const d = find(head, '__name__', 'm', 'job', 'd');
  assert.equal(a.closedCount, 2);
  assert.equal(b.ooo?.length, 2);
  // the per-metric limit is reached
  assert.deepEqual(discarded(push(head, [ser(['__name__', 'm', 'job', 'e'], [2990, 1])]).stats), { per_metric_series_limit: 1 });

  assert.equal(head.truncate(2600, 5000), 1);
  assert.equal(th.removed, 1);
  assert.equal(head.numSeries, 3);
  assert.equal(head.series(c.ref), undefined);
  assert.equal(head.series(d.ref), d, 'a recently appended series was removed');
  assert.equal(d.isEmpty(), true);
  assert.equal(a.closedCount, 0);
  assert.deepEqual(samplesOf(a), smps(...aPairs.slice(200)));
  assert.deepEqual(samplesOf(b), smps([2700, 4], [2950, 1], [2960, 2]));
  assert.equal(head.minT, 2000);
  assert.deepEqual(head.select([eq('job', 'c')], -Infinity, Infinity), []);
  assert.deepEqual(head.labelValues('job', []), ['b', 'd']);
  assert.deepEqual(head.select([eq('__name__', 'm')], -Infinity, Infinity).map((s) => s.ref), [b.ref], 'an empty series was selected');

  // the per-metric limit freed up; the removed label set comes back as a new series
  const r = push(head, [ser(['__name__', 'm', 'job', 'c'], [2990, 5])]);
  assert.equal(r.stats.firstError, null);
  assert.equal(r.wal.seriesRefs.length, 1);
  assert.ok((r.wal.seriesRefs[0] as number) > d.ref);
  assert.deepEqual(samplesOf(find(head, '__name__', 'm', 'job', 'c')), smps([2990, 5]));

  // later, d has been idle long enough
  clock += 10_000;
  assert.equal(head.truncate(2600, 5000), 1);
  assert.equal(head.series(d.ref), undefined);
  assert.deepEqual(head.labelValues('job', []), ['b', 'c']);
  assert.equal(head.truncate(Infinity, 0), 3);
  assert.equal(head.numSeries, 0);
  assert.deepEqual(head.labelNames([]), []);
  assert.equal(th.removed, 5);
  assert.equal(th.created, 5);
});

// ---------------------------------------------------------------------------------------------
// randomized model test

type Outcome = 'ok' | 'dup' | 'new-value-for-timestamp' | 'sample-out-of-order' | 'sample-too-old' | 'sample-out-of-bounds';

interface ModelSeries {
  samples: Map<number, bigint>;
  lastT: number;
}

/** The append rules, written plainly: the head must agree with this sample for sample. */
class Model {
  readonly series = new Map<string, ModelSeries>();
  maxT = -Infinity;
  constructor(readonly window: number, readonly halfRange: number) {}

  /** Returns the outcomes in request order, and the keys of the series it creates. */
  push(req: Array<{ key: string; samples: Array<[number, bigint]> }>): { outcomes: Outcome[]; created: string[] } {
    const outcomes: Outcome[] = [];
    const created: string[] = [];
    let headMaxT = this.maxT;
    for (const { key, samples } of req) {
      if (samples.length === 0) continue;
      if (headMaxT === -Infinity) headMaxT = (samples[0] as [number, bigint])[0];
      const minValid = headMaxT - this.halfRange;
      if (this.window <= 0 && samples.every(([t]) => t < minValid)) {
        for (let k = 0; k < samples.length; k++) outcomes.push('sample-out-of-bounds');
        continue;
      }
      let s = this.series.get(key);
      if (s === undefined) {
        s = { samples: new Map(), lastT: -Infinity };
        this.series.set(key, s);
        created.push(key);
      }
      for (const [t, bits] of samples) {
        const o = this.one(s, t, bits, headMaxT, minValid);
        outcomes.push(o);
        if (o === 'ok') {
          s.samples.set(t, bits);
          if (t > s.lastT) s.lastT = t;
          if (t > this.maxT) this.maxT = t;
        }
      }
    }
    return { outcomes, created };
  }

  private one(s: ModelSeries, t: number, bits: bigint, headMaxT: number, minValid: number): Outcome {
    const w = this.window;
    if (w <= 0 && t < minValid) return 'sample-out-of-bounds';
    if (w > 0 && t < minValid && t < headMaxT - w) return 'sample-too-old';
    if (t > s.lastT) return 'ok';
    if (t === s.lastT) return s.samples.get(t) === bits ? 'dup' : 'new-value-for-timestamp';
    if (w <= 0) return 'sample-out-of-order';
    if (t < headMaxT - w) return 'sample-too-old';
    const have = s.samples.get(t);
    if (have === undefined) return 'ok';
    return have === bits ? 'dup' : 'new-value-for-timestamp';
  }
}

test('randomized: the head follows the append rules of a reference model', () => {
  const VALUES: bigint[] = [floatToBits(1), floatToBits(2), floatToBits(0), NEG_ZERO_BITS, STALE_NAN_BITS, NORMAL_NAN_BITS, OTHER_NAN_BITS, floatToBits(-3.5)];
  const POOL: string[][] = Array.from({ length: 12 }, (_, i) => ['__name__', `metric_${i % 3}`, 'instance', `host-${i}`]);
  const CHUNK_RANGE = 2000;
  let checked = 0;
  for (const window of [0, 600, 1500]) {
    for (let seed = 1; seed <= 8; seed++) {
      const fullSeed = seed * 1000 + window;
      const rnd = mulberry32(fullSeed);
      const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
      const where = `seed ${fullSeed} (window ${window})`;
      const { head } = mkHead({ chunkRangeMs: CHUNK_RANGE, outOfOrderWindowMs: window });
      const model = new Model(window, CHUNK_RANGE / 2);
      const keyOf = (labels: string[]): string => labelsToString(labelsFromStrings(...labels));
      const refKey = new Map<number, string>();
      const walLog: WalBatch[] = [];
      let cursor = 100_000;
      for (let r = 0; r < 150; r++) {
        cursor += int(0, 250);
        const series: SeriesObject[] = [];
        const mreq: Array<{ key: string; samples: Array<[number, bigint]> }> = [];
        for (let k = int(1, 4); k > 0; k--) {
          const labels = POOL[int(0, POOL.length - 1)] as string[];
          const key = keyOf(labels);
          const known = model.series.get(key);
          const samples: Array<[number, bigint]> = [];
          for (let n = int(1, 6); n > 0; n--) {
            const roll = rnd();
            let t: number;
            let v = VALUES[int(0, VALUES.length - 1)] as bigint;
            if (known !== undefined && known.samples.size > 0 && roll < 0.2) {
              // exactly an existing sample, or its timestamp with another value
              const ts = [...known.samples.keys()];
              t = ts[int(0, ts.length - 1)] as number;
              if (rnd() < 0.6) v = known.samples.get(t) as bigint;
            } else if (roll < 0.3) {
              t = cursor - int(1000, 2500); // around and beyond the bounds
            } else {
              t = cursor + int(-800, 300);
            }
            samples.push([t, v]);
          }
          // sometimes the same labels in another order
          const sent = rnd() < 0.3 ? [labels[2], labels[3], labels[0], labels[1]] as string[] : labels;
          series.push({ labels: sent, samples: samples.map(([t, v]) => ({ timestamp: t, value: v })) });
          mreq.push({ key, samples });
        }
        const want = model.push(mreq);
        const { stats, wal } = push(head, series);
        walLog.push(wal);
        // new series, in order
        assert.deepEqual(wal.seriesLabels.map((l) => labelsToString(l)), want.created, `${where} request ${r}: series created`);
        for (let i = 0; i < wal.seriesRefs.length; i++) refKey.set(wal.seriesRefs[i] as number, want.created[i] as string);
        // the logged samples are exactly the 'ok' ones, in request order
        const expectLogged: Array<{ key: string; t: number; bits: bigint }> = [];
        let o = 0;
        for (const { key, samples } of mreq) {
          for (const [t, bits] of samples) {
            if (want.outcomes[o++] === 'ok') expectLogged.push({ key, t, bits });
          }
        }
        assert.deepEqual(walSamples(wal).map((x) => ({ key: refKey.get(x.ref) as string, t: x.t, bits: x.bits })), expectLogged, `${where} request ${r}: accepted samples`);
        const counts: Record<string, number> = {};
        let dups = 0;
        for (const x of want.outcomes) {
          if (x === 'dup') dups++;
          else if (x !== 'ok') counts[x] = (counts[x] ?? 0) + 1;
        }
        assert.deepEqual(discarded(stats), Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1))), `${where} request ${r}: discarded`);
        assert.equal(stats.accepted, expectLogged.length + dups, `${where} request ${r}: accepted count`);
        const firstBad = want.outcomes.find((x) => x !== 'ok' && x !== 'dup');
        assert.equal((stats.firstError as SampleError | null)?.reason ?? null, firstBad ?? null, `${where} request ${r}: first error`);
        checked += want.outcomes.length;
      }
      // final contents, whole and in a window
      assert.equal(head.numSeries, model.series.size, where);
      assert.equal(head.maxT, model.maxT, where);
      const mint = 100_000 + int(0, 15_000);
      const maxt = mint + int(0, 10_000);
      for (const [key, ms] of model.series) {
        const s = [...head.allSeries()].find((x) => labelsToString(x.labels) === key);
        assert.ok(s !== undefined, `${where}: ${key} missing`);
        const all = [...ms.samples].sort((x, y) => x[0] - y[0]).map(([t, bits]) => ({ t, bits }));
        assert.deepEqual(samplesOf(s), all, `${where}: samples of ${key}`);
        assert.deepEqual(samplesOf(s, mint, maxt), all.filter((x) => x.t >= mint && x.t <= maxt), `${where}: samples of ${key} in [${mint}, ${maxt}]`);
        // in-order chunks + out-of-order buffer = all samples
        const inChunks = chunksOf(s).flatMap((c) => c.samples);
        assert.equal(inChunks.length + (s.ooo?.length ?? 0), all.length, `${where}: chunk + ooo sample count of ${key}`);
      }
      // replaying the WalBatches rebuilds the same head
      const fresh = mkHead({ chunkRangeMs: CHUNK_RANGE, outOfOrderWindowMs: window }).head;
      for (const wal of walLog) {
        for (let i = 0; i < wal.seriesRefs.length; i++) fresh.replaySeries(wal.seriesRefs[i] as number, wal.seriesLabels[i] as Labels);
        for (let i = 0; i < wal.samples; i++) assert.ok(fresh.replaySample(wal.sampleRefs[i] as number, wal.sampleTs[i] as number, wal.sampleVs[i] as number), `${where}: replay`);
      }
      for (const s of head.allSeries()) assert.deepEqual(samplesOf(fresh.series(s.ref) as MemSeries), samplesOf(s), `${where}: replayed ${labelsToString(s.labels)}`);
    }
  }
  assert.ok(checked > 20_000, `only ${checked} samples checked`);
});
