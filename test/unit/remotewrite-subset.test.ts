import '../harness.js';
// The subset encoder (src/remotewrite/subset.ts): per-ingester 1.0 WriteRequests built from a
// decoded 1.0 or 2.0 request. Every output is decoded twice, by protobufjs (the reference, loaded
// with our .proto files) and by our own decoder (bit-exact doubles), and compared with what the
// request's columns say the subset holds: the listed series in order with their current labels
// (after validation-like mutations: empty values dropped, labels sorted) and the rows the masks
// keep, then the listed metadata. The fast path (original bytes copied) is checked to be taken
// exactly when allowed, to copy the original TimeSeries bytes, and to agree with re-encoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { defaultsOf } from '../../src/config/index.js';
import { dropEmptyLabelValues, validateWriteRequest, validationConfig, type ValidationLimits } from '../../src/distributor/index.js';
import {
  type DecodedWriteRequest,
  decodeWriteRequest,
  decodeWriteRequestV2,
  encodeWriteRequest,
  encodeWriteRequestV2,
  exemplarLabelsOf,
  type F64,
  type HistogramObject,
  KEEP_ALL_ROWS,
  labelsOf,
  ONEOF_FLOAT,
  ONEOF_INT,
  type SeriesObject,
  sortSeriesLabels,
  STALE_NAN_BITS,
  stringAt,
  SubsetEncoder,
  type SubsetMasks,
  valueBits,
  type WriteRequestObject,
} from '../../src/remotewrite/index.js';
import { mulberry32 } from '../util.js';

const protoPath = (p: string): string => fileURLToPath(new URL(`../../../proto/${p}`, import.meta.url));
const WriteRequest = (await protobuf.load(protoPath('prometheus/remote.proto'))).lookupType('prometheus.WriteRequest');
const TO_OBJECT = { longs: Number, enums: Number, defaults: true, arrays: true, oneofs: true };

type V = 1 | 2;
type Rnd = () => number;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Pb = any;

const decode = (v: V, b: Uint8Array): DecodedWriteRequest => (v === 1 ? decodeWriteRequest(b) : decodeWriteRequestV2(b));
const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;
const list = <T>(rnd: Rnd, max: number, f: () => T): T[] => Array.from({ length: int(rnd, max + 1) }, f);

function bitsToNumber(b: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt.asUintN(64, b));
  return dv.getFloat64(0);
}

// ---------------------------------------------------------------------------------------------
// Random requests

const NAN_AND_ZERO_BITS = [STALE_NAN_BITS, 0x7ff8000000000001n, 0x7ff8000000000000n, 0xfff0000000000001n, 0x7ff40000deadbeefn, 0x8000000000000000n, 0n];
function rndF64(rnd: Rnd): F64 {
  switch (int(rnd, 5)) {
    case 0:
      return pick(rnd, NAN_AND_ZERO_BITS);
    case 1:
      return int(rnd, 1000) - 500;
    case 2:
      return (rnd() - 0.5) * 2 ** (int(rnd, 120) - 60);
    case 3:
      return (BigInt(int(rnd, 2 ** 32)) << 32n) | BigInt(int(rnd, 2 ** 32));
    default:
      return pick(rnd, [Infinity, -Infinity, 1.5, 0, 1e308]);
  }
}

const MAX = Number.MAX_SAFE_INTEGER;
const SPECIAL_INTS = [0, 1, -1, 127, 128, -64, -65, 2 ** 31, 2 ** 32, -(2 ** 32), 2 ** 49, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, -(2 ** 52) - 1, MAX, -MAX];
const rndTs = (rnd: Rnd): number => (rnd() < 0.7 ? 1_760_000_000_000 + int(rnd, 1e6) : pick(rnd, SPECIAL_INTS));
const rndI64 = (rnd: Rnd): number => (rnd() < 0.6 ? int(rnd, 300) - 150 : pick(rnd, SPECIAL_INTS));
const rndU64 = (rnd: Rnd): number => Math.abs(rndI64(rnd));

const CHARS = 'abcdefghijklmnopqrstuvwxyz_0123456789';
const EXOTIC = ['é', '日本', '🙂', ' ', '"', '\\', '\n'];
function rndStr(rnd: Rnd, maxLen = 12): string {
  const n = int(rnd, 6) === 0 ? 0 : 1 + int(rnd, int(rnd, 12) === 0 ? 300 : maxLen);
  let s = '';
  for (let i = 0; i < n; i++) s += int(rnd, 15) === 0 ? pick(rnd, EXOTIC) : CHARS[int(rnd, CHARS.length)]!;
  return s;
}

const NAMES = ['job', 'instance', 'a', 'zz', 'b_1', 'Z', 'é', 'le', 'pod', '', '__name__'];
const byteOrder = (x: string, y: string): number => Buffer.compare(Buffer.from(x), Buffer.from(y));

function rndSeriesLabels(rnd: Rnd): string[] {
  const pairs: Array<[string, string]> = [];
  if (rnd() < 0.9) pairs.push(['__name__', `metric_${int(rnd, 20)}`]);
  for (let k = int(rnd, 7); k > 0; k--) pairs.push([pick(rnd, NAMES), rnd() < 0.25 ? '' : rndStr(rnd)]);
  if (rnd() < 0.6) pairs.sort((x, y) => byteOrder(x[0], y[0]));
  else for (let k = pairs.length - 1; k > 0; k--) {
    const j = int(rnd, k + 1);
    [pairs[k], pairs[j]] = [pairs[j]!, pairs[k]!];
  }
  return pairs.flat();
}

function rndHistogram(rnd: Rnd, v: V): HistogramObject {
  const h: HistogramObject = {};
  const c = int(rnd, 3);
  if (c === 1) h.countInt = rndU64(rnd);
  else if (c === 2) h.countFloat = rndF64(rnd);
  if (rnd() < 0.7) h.sum = rndF64(rnd);
  if (rnd() < 0.7) h.schema = pick(rnd, [0, -4, 8, -53, 3, -1, 2 ** 31 - 1, -(2 ** 31)]);
  if (rnd() < 0.5) h.zeroThreshold = rndF64(rnd);
  const z = int(rnd, 3);
  if (z === 1) h.zeroCountInt = rndU64(rnd);
  else if (z === 2) h.zeroCountFloat = rndF64(rnd);
  const span = (): { offset: number; length: number } => ({ offset: pick(rnd, [0, 1, -1, 5, -300, 2 ** 31 - 1, -(2 ** 31)]), length: pick(rnd, [0, 1, 2, 200, 2 ** 32 - 1]) });
  if (rnd() < 0.5) h.negativeSpans = list(rnd, 3, span);
  if (rnd() < 0.5) h.negativeDeltas = list(rnd, 6, () => rndI64(rnd));
  if (rnd() < 0.3) h.negativeCounts = list(rnd, 6, () => rndF64(rnd));
  if (rnd() < 0.5) h.positiveSpans = list(rnd, 3, span);
  if (rnd() < 0.5) h.positiveDeltas = list(rnd, 6, () => rndI64(rnd));
  if (rnd() < 0.3) h.positiveCounts = list(rnd, int(rnd, 8) === 0 ? 40 : 6, () => rndF64(rnd));
  if (rnd() < 0.5) h.resetHint = pick(rnd, [0, 1, 2, 3, -1, 9]);
  if (rnd() < 0.8) h.timestamp = rndTs(rnd);
  if (rnd() < 0.3) h.customValues = list(rnd, int(rnd, 8) === 0 ? 30 : 5, () => rndF64(rnd));
  if (v === 2 && rnd() < 0.5) h.startTimestamp = rndTs(rnd);
  return h;
}

function rndSeries(rnd: Rnd, v: V): SeriesObject {
  const s: SeriesObject = { labels: rndSeriesLabels(rnd) };
  if (rnd() < 0.8) {
    s.samples = list(rnd, 4, () => ({ value: rndF64(rnd), timestamp: rndTs(rnd), ...(v === 2 && rnd() < 0.3 ? { startTimestamp: rndTs(rnd) } : {}) }));
    // a repeated timestamp now and then (validation drops it)
    if (s.samples.length > 1 && rnd() < 0.3) s.samples[1]!.timestamp = s.samples[0]!.timestamp;
  }
  if (rnd() < 0.3) s.histograms = list(rnd, 2, () => rndHistogram(rnd, v));
  if (rnd() < 0.3) s.exemplars = list(rnd, 2, () => ({ labels: list(rnd, 2, () => [pick(rnd, ['trace_id', 'span', '']), rndStr(rnd)]).flat(), value: rndF64(rnd), timestamp: rndTs(rnd) }));
  if (v === 2 && rnd() < 0.4) s.metadata = { type: int(rnd, 8), help: rndStr(rnd, 40), unit: rndStr(rnd) };
  if (v === 2 && rnd() < 0.2) s.createdTimestamp = rndTs(rnd);
  return s;
}

function rndRequest(rnd: Rnd, v: V, maxSeries = 8): WriteRequestObject {
  const req: WriteRequestObject = { series: list(rnd, maxSeries, () => rndSeries(rnd, v)) };
  if (v === 1 && rnd() < 0.6) {
    req.metadata = list(rnd, 4, () => ({ type: pick(rnd, [0, 1, 2, 3, 7, -2]), metricFamilyName: rndStr(rnd), help: rndStr(rnd, 60), unit: rndStr(rnd) }));
  }
  return req;
}

// ---------------------------------------------------------------------------------------------
// What a subset should hold, with doubles as exact bits

interface HistView {
  countKind: number;
  count: number | bigint;
  sum: bigint;
  schema: number;
  zeroThreshold: bigint;
  zeroCountKind: number;
  zeroCount: number | bigint;
  negativeSpans: number[];
  negativeDeltas: number[];
  negativeCounts: bigint[];
  positiveSpans: number[];
  positiveDeltas: number[];
  positiveCounts: bigint[];
  resetHint: number;
  timestamp: number;
  customValues: bigint[];
}
interface SeriesView {
  labels: string[];
  samples: Array<[bigint | number, number]>;
  histograms: HistView[];
  exemplars: Array<{ labels: string[]; value: bigint | number; timestamp: number }>;
}
interface MetaView {
  type: number;
  name: string;
  help: string;
  unit: string;
}
interface ReqView {
  series: SeriesView[];
  metadata: MetaView[];
}

const kept = (mask: Uint8Array | null | undefined, k: number): boolean => mask === null || mask === undefined || mask[k] !== 0;

function histView(req: DecodedWriteRequest, h: number): HistView {
  const H = req.histograms;
  const bitsList = (l: { offsets: Uint32Array; values: Float64Array }): bigint[] => {
    const out: bigint[] = [];
    for (let k = l.offsets[h]!; k < l.offsets[h + 1]!; k++) out.push(valueBits(l.values, k));
    return out;
  };
  const spans = (l: { offsets: Uint32Array; spanOffset: Int32Array; spanLength: Uint32Array }): number[] => {
    const out: number[] = [];
    for (let k = l.offsets[h]!; k < l.offsets[h + 1]!; k++) out.push(l.spanOffset[k]!, l.spanLength[k]!);
    return out;
  };
  return {
    countKind: H.countKind[h]!,
    count: H.countKind[h] === ONEOF_FLOAT ? valueBits(H.countValue, h) : H.countValue[h]!,
    sum: valueBits(H.sum, h),
    schema: H.schema[h]!,
    zeroThreshold: valueBits(H.zeroThreshold, h),
    zeroCountKind: H.zeroCountKind[h]!,
    zeroCount: H.zeroCountKind[h] === ONEOF_FLOAT ? valueBits(H.zeroCount, h) : H.zeroCount[h]!,
    negativeSpans: spans(H.negativeSpans),
    negativeDeltas: Array.from(H.negativeDeltas.values.subarray(H.negativeDeltas.offsets[h]!, H.negativeDeltas.offsets[h + 1]!)),
    negativeCounts: bitsList(H.negativeCounts),
    positiveSpans: spans(H.positiveSpans),
    positiveDeltas: Array.from(H.positiveDeltas.values.subarray(H.positiveDeltas.offsets[h]!, H.positiveDeltas.offsets[h + 1]!)),
    positiveCounts: bitsList(H.positiveCounts),
    resetHint: H.resetHint[h]!,
    timestamp: H.timestamps[h]!,
    customValues: bitsList(H.customValues),
  };
}

function seriesView(req: DecodedWriteRequest, i: number, masks: SubsetMasks): SeriesView {
  const s: SeriesView = { labels: labelsOf(req, i), samples: [], histograms: [], exemplars: [] };
  for (let k = req.sampleOffsets[i]!; k < req.sampleOffsets[i + 1]!; k++) if (kept(masks.sampleMask, k)) s.samples.push([valueBits(req.values, k), req.timestamps[k]!]);
  for (let e = req.exemplarOffsets[i]!; e < req.exemplarOffsets[i + 1]!; e++) {
    if (kept(masks.exemplarMask, e)) s.exemplars.push({ labels: exemplarLabelsOf(req, e), value: valueBits(req.exemplars.values, e), timestamp: req.exemplars.timestamps[e]! });
  }
  for (let h = req.histogramOffsets[i]!; h < req.histogramOffsets[i + 1]!; h++) if (kept(masks.histogramMask, h)) s.histograms.push(histView(req, h));
  return s;
}

function metricName(req: DecodedWriteRequest, i: number): string {
  const l = labelsOf(req, i);
  for (let k = 0; k < l.length; k += 2) if (l[k] === '__name__') return l[k + 1]!;
  return '';
}

function metaView(req: DecodedWriteRequest, m: number): MetaView {
  const s = req.metadata.strings;
  const series = req.metadata.series[m]!;
  return {
    type: req.metadata.type[m]!,
    name: series >= 0 ? metricName(req, series) : stringAt(req, s[6 * m]!, s[6 * m + 1]!),
    help: stringAt(req, s[6 * m + 2]!, s[6 * m + 3]!),
    unit: stringAt(req, s[6 * m + 4]!, s[6 * m + 5]!),
  };
}

function expectedView(req: DecodedWriteRequest, series: ArrayLike<number>, count: number, masks: SubsetMasks, rows: ArrayLike<number> | null, rowCount: number): ReqView {
  const out: ReqView = { series: [], metadata: [] };
  for (let k = 0; k < count; k++) out.series.push(seriesView(req, series[k]!, masks));
  for (let k = 0; k < rowCount; k++) if (kept(masks.metadataMask, rows![k]!)) out.metadata.push(metaView(req, rows![k]!));
  return out;
}

/** Our decoder's reading of a subset body. */
function oursView(body: Uint8Array): ReqView {
  const d = decodeWriteRequest(body);
  assert.equal(d.version, 1);
  const all = Array.from({ length: d.seriesCount }, (_, i) => i);
  const rows = Array.from({ length: d.metadata.count }, (_, i) => i);
  return expectedView(d, all, all.length, KEEP_ALL_ROWS, rows, rows.length);
}

/** The view with every double as a number (what protobufjs gives). */
function asNumbers(v: ReqView): ReqView {
  const n = (x: bigint | number): number => (typeof x === 'bigint' ? bitsToNumber(x) : x);
  return {
    series: v.series.map((s) => ({
      labels: s.labels,
      samples: s.samples.map(([x, t]) => [n(x), t]),
      exemplars: s.exemplars.map((e) => ({ labels: e.labels, value: n(e.value), timestamp: e.timestamp })),
      histograms: s.histograms.map((h) => ({
        ...h,
        count: n(h.count),
        sum: n(h.sum) as unknown as bigint,
        zeroThreshold: n(h.zeroThreshold) as unknown as bigint,
        zeroCount: n(h.zeroCount),
        negativeCounts: h.negativeCounts.map(n) as unknown as bigint[],
        positiveCounts: h.positiveCounts.map(n) as unknown as bigint[],
        customValues: h.customValues.map(n) as unknown as bigint[],
      })),
    })),
    metadata: v.metadata,
  };
}

/** protobufjs' reading of a subset body. */
function oracleView(body: Uint8Array): ReqView {
  const o: Pb = WriteRequest.toObject(WriteRequest.decode(body), TO_OBJECT);
  const flat = (ls: Pb[]): string[] => ls.flatMap((l) => [l.name, l.value]);
  const spans = (ss: Pb[]): number[] => ss.flatMap((s) => [s.offset, s.length]);
  const kind = (m: string | undefined, i: string, f: string): number => (m === i ? ONEOF_INT : m === f ? ONEOF_FLOAT : 0);
  return {
    series: o.timeseries.map((ts: Pb) => ({
      labels: flat(ts.labels),
      samples: ts.samples.map((s: Pb) => [s.value, s.timestamp]),
      exemplars: ts.exemplars.map((e: Pb) => ({ labels: flat(e.labels), value: e.value, timestamp: e.timestamp })),
      histograms: ts.histograms.map((h: Pb) => ({
        countKind: kind(h.count, 'countInt', 'countFloat'),
        count: h.count === undefined ? 0 : h[h.count],
        sum: h.sum,
        schema: h.schema,
        zeroThreshold: h.zeroThreshold,
        zeroCountKind: kind(h.zeroCount, 'zeroCountInt', 'zeroCountFloat'),
        zeroCount: h.zeroCount === undefined ? 0 : h[h.zeroCount],
        negativeSpans: spans(h.negativeSpans),
        negativeDeltas: h.negativeDeltas,
        negativeCounts: h.negativeCounts,
        positiveSpans: spans(h.positiveSpans),
        positiveDeltas: h.positiveDeltas,
        positiveCounts: h.positiveCounts,
        resetHint: h.resetHint,
        timestamp: h.timestamp,
        customValues: h.customValues,
      })),
    })),
    metadata: o.metadata.map((m: Pb) => ({ type: m.type, name: m.metricFamilyName, help: m.help, unit: m.unit })),
  };
}

/** Every series' labels sorted by name then value: copied series keep their wire order (the receiver sorts). */
function labelOrderFree(v: ReqView): ReqView {
  const sortPairs = (l: string[]): string[] => {
    const pairs: Array<[string, string]> = [];
    for (let k = 0; k < l.length; k += 2) pairs.push([l[k]!, l[k + 1]!]);
    return pairs.sort((x, y) => byteOrder(x[0], y[0]) || byteOrder(x[1], y[1])).flat();
  };
  return { series: v.series.map((s) => ({ ...s, labels: sortPairs(s.labels) })), metadata: v.metadata };
}

/**
 * Both decoders read `body` as `expected`. anyLabelOrder: a series' labels may come in another
 * order (the body may hold copied series whose labels validation sorted after decoding).
 */
function assertHolds(body: Uint8Array, expected: ReqView, what: string, anyLabelOrder = false): void {
  const norm = anyLabelOrder ? labelOrderFree : (v: ReqView): ReqView => v;
  assert.deepStrictEqual(norm(oursView(body)), norm(expected), `${what}: our decoder`);
  assert.deepStrictEqual(norm(oracleView(body)), norm(asNumbers(expected)), `${what}: protobufjs`);
}

// ---------------------------------------------------------------------------------------------
// Random subsets, masks, mutations

function labelCounts(req: DecodedWriteRequest): number[] {
  return Array.from({ length: req.seriesCount }, (_, i) => req.labelOffsets[i + 1]! - req.labelOffsets[i]!);
}

function rndMask(rnd: Rnd, n: number): Uint8Array | null {
  if (rnd() < 0.4) return null;
  const all = rnd() < 0.3;
  return Uint8Array.from({ length: n }, () => (all || rnd() < 0.85 ? 1 : 0));
}

/** Indexes of `n` items: a random subset in request order (the usual case) or shuffled, maybe with repeats. */
function rndIndexes(rnd: Rnd, n: number): { list: Uint32Array | number[]; count: number } {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) if (rnd() < 0.6) xs.push(i);
  if (n > 0 && rnd() < 0.15) xs.push(int(rnd, n));
  if (rnd() < 0.3) for (let k = xs.length - 1; k > 0; k--) {
    const j = int(rnd, k + 1);
    [xs[k], xs[j]] = [xs[j]!, xs[k]!];
  }
  if (rnd() < 0.5) return { list: xs, count: xs.length };
  const padded = new Uint32Array(xs.length + int(rnd, 3)); // room to spare: only [0, count) is read
  padded.fill(0xffffffff);
  padded.set(xs);
  return { list: padded, count: xs.length };
}

interface Case {
  v: V;
  req: DecodedWriteRequest;
  /** label counts as decoded (before any mutation) */
  wire: number[];
  sorted: boolean;
  masks: SubsetMasks;
  series: { list: Uint32Array | number[]; count: number };
  rows: { list: Uint32Array | number[]; count: number };
  canonical: boolean;
}

function rndCase(rnd: Rnd, v: V): Case {
  const packed = rnd() < 0.8;
  const obj = rndRequest(rnd, v);
  const req = decode(v, v === 1 ? encodeWriteRequest(obj, { packed }) : encodeWriteRequestV2(obj, { packed }));
  const wire = labelCounts(req);
  if (rnd() < 0.5) dropEmptyLabelValues(req);
  const sorted = rnd() < 0.5;
  if (sorted) sortSeriesLabels(req);
  const masks: SubsetMasks = {
    sampleMask: rndMask(rnd, req.values.length),
    histogramMask: rndMask(rnd, req.histograms.count),
    exemplarMask: rndMask(rnd, req.exemplars.count),
    metadataMask: rnd() < 0.5 ? undefined : rndMask(rnd, req.metadata.count),
  };
  return { v, req, wire, sorted, masks, series: rndIndexes(rnd, req.seriesCount), rows: rndIndexes(rnd, req.metadata.count), canonical: packed };
}

/** How many listed series may be copied: 1.0, no label dropped, every row kept. */
function copyableCount(c: Case): number {
  if (c.v === 2) return 0;
  const { req, masks } = c;
  let n = 0;
  for (let k = 0; k < c.series.count; k++) {
    const i = c.series.list[k]!;
    let ok = c.wire[i] === req.labelOffsets[i + 1]! - req.labelOffsets[i]!;
    for (let s = req.sampleOffsets[i]!; s < req.sampleOffsets[i + 1]!; s++) ok &&= kept(masks.sampleMask, s);
    for (let h = req.histogramOffsets[i]!; h < req.histogramOffsets[i + 1]!; h++) ok &&= kept(masks.histogramMask, h);
    for (let e = req.exemplarOffsets[i]!; e < req.exemplarOffsets[i + 1]!; e++) ok &&= kept(masks.exemplarMask, e);
    if (ok) n++;
  }
  return n;
}

function checkCase(c: Case, what: string): void {
  const fast = new SubsetEncoder();
  const slow = new SubsetEncoder({ copySpans: false });
  const args = [c.req, c.series.list, c.series.count, c.masks, c.rows.list, c.rows.count] as const;
  const a = fast.encode(...args);
  const b = slow.encode(...args);
  const expected = expectedView(c.req, c.series.list, c.series.count, c.masks, c.rows.list, c.rows.count);
  assertHolds(a, expected, `${what} (fast path allowed)`, c.sorted);
  assertHolds(b, expected, `${what} (re-encoded)`);
  assert.equal(fast.copiedSeries, copyableCount(c), `${what}: series copied`);
  assert.equal(fast.copiedSeries + fast.reencodedSeries, c.series.count);
  assert.equal(slow.copiedSeries, 0);
  // our encoder is canonical (as encodeWriteRequest and Prometheus' encoder are): re-encoding an
  // unchanged series gives its original bytes, unless the copy kept labels in their wire order
  if (c.v === 1 && c.canonical && !c.sorted) assert.ok(a.equals(b), `${what}: copied and re-encoded bodies differ`);
}

// ---------------------------------------------------------------------------------------------
// Tests

test('random subsets of random 1.0 and 2.0 requests, with masks and validation-like mutations', () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0x5b5e7 + v);
    for (let n = 0; n < 400; n++) checkCase(rndCase(rnd, v), `v${v} case ${n}`);
  }
});

test('property (fast-check): any subset, order, masks and mutations of a random request', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.constantFrom<V>(1, 2),
      fc.array(fc.nat(), { maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
      fc.boolean(),
      fc.boolean(),
      (seed, v, picks, bits, drop, sort) => {
        const rnd = mulberry32(seed);
        const req = decode(v, v === 1 ? encodeWriteRequest(rndRequest(rnd, v)) : encodeWriteRequestV2(rndRequest(rnd, v)));
        const wire = labelCounts(req);
        if (drop) dropEmptyLabelValues(req);
        if (sort) sortSeriesLabels(req);
        const mask = (n: number, off: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (bits[(k + off) % bits.length]! ? 1 : 0));
        const masks: SubsetMasks = { sampleMask: mask(req.values.length, 0), histogramMask: mask(req.histograms.count, 1), exemplarMask: mask(req.exemplars.count, 2), metadataMask: mask(req.metadata.count, 3) };
        const series = req.seriesCount === 0 ? [] : picks.map((p) => p % req.seriesCount);
        const rows = req.metadata.count === 0 ? [] : picks.map((p) => p % req.metadata.count);
        checkCase({ v, req, wire, sorted: sort, masks, series: { list: series, count: series.length }, rows: { list: rows, count: rows.length }, canonical: true }, `seed ${seed}`);
      },
    ),
    { seed: 0x5b5e7, numRuns: 300, plugins: [fc.interruptAfterTimeLimit(20_000)] },
  );
});

test('fast path: an unchanged 1.0 series is its original TimeSeries bytes; the whole request is the body', () => {
  const rnd = mulberry32(11);
  for (let n = 0; n < 100; n++) {
    const body = encodeWriteRequest(rndRequest(rnd, 1), { packed: rnd() < 0.5 });
    const req = decodeWriteRequest(body);
    const spans = req.seriesSpans!;
    const enc = new SubsetEncoder();
    for (let i = 0; i < req.seriesCount; i++) {
      const out = enc.encode(req, [i], 1, KEEP_ALL_ROWS, null, 0);
      assert.ok(out.equals(body.subarray(spans[2 * i]!, spans[2 * i + 1]!)), `case ${n} series ${i}`);
    }
    assert.equal(enc.copiedSeries, req.seriesCount);
    // every series in order, then every metadata row (re-encoded canonically): the body itself
    const all = Array.from({ length: req.seriesCount }, (_, i) => i);
    const rows = Array.from({ length: req.metadata.count }, (_, i) => i);
    assert.ok(enc.encode(req, all, all.length, KEEP_ALL_ROWS, rows, rows.length).equals(body), `case ${n}: whole body`);
  }
});

test('fast path copies non-canonical series verbatim (unknown fields, reversed fields, unpacked lists)', () => {
  const key = (f: number, wt: number): number[] => [f * 8 + wt]; // fields below 16
  const str = (f: number, s: string): number[] => [...key(f, 2), Buffer.byteLength(s), ...Buffer.from(s)];
  const len = (f: number, b: number[]): number[] => [...key(f, 2), b.length, ...b];
  const dbl = (bits: bigint): number[] => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(bits);
    return [...b];
  };
  const series = len(1, [
    ...len(1, [...str(2, 'api'), ...str(1, 'job')]), // value before name
    ...key(15, 0), 7, // unknown varint field
    ...len(2, [...key(2, 0), 42, ...key(1, 1), ...dbl(STALE_NAN_BITS)]), // timestamp before value
    ...len(1, [...str(1, '__name__'), ...str(2, 'up'), ...key(9, 5), 1, 2, 3, 4]), // unknown fixed32 in a Label
    ...len(4, [...key(1, 0), 3, ...key(12, 0), 2, ...key(12, 0), 3, ...key(13, 1), ...dbl(0x3ff0000000000000n)]), // unpacked deltas/counts
  ]);
  const body = Uint8Array.from([...series, ...series]);
  const req = decodeWriteRequest(body);
  const enc = new SubsetEncoder();
  const out = enc.encode(req, [1, 0], 2, KEEP_ALL_ROWS, null, 0);
  assert.ok(out.equals(body));
  assert.equal(enc.copiedSeries, 2);
  const expected = expectedView(req, [1, 0], 2, KEEP_ALL_ROWS, null, 0);
  assert.deepEqual(expected.series[0]!.labels, ['job', 'api', '__name__', 'up']);
  assert.equal(expected.series[0]!.samples[0]![0], STALE_NAN_BITS);
  assertHolds(out, expected, 'copied');
  const re = new SubsetEncoder({ copySpans: false }).encode(req, [1, 0], 2, KEEP_ALL_ROWS, null, 0);
  assert.ok(re.length < out.length); // canonical: unknown fields gone, lists packed
  assertHolds(re, expected, 're-encoded');
});

test('adjacent copied series are copied as one run; re-encoded series break the run', () => {
  const series: SeriesObject[] = [];
  for (let i = 0; i < 50; i++) series.push({ labels: ['__name__', `m${i}`, 'e', i % 7 === 0 ? '' : 'x'], samples: [{ value: i, timestamp: 1000 + i }] });
  const body = encodeWriteRequest({ series });
  const req = decodeWriteRequest(body);
  dropEmptyLabelValues(req); // series 0, 7, 14, ... lose a label: re-encoded
  const enc = new SubsetEncoder();
  const pickIdx = [0, 1, 2, 3, 7, 8, 9, 10, 30, 29, 28, 49];
  const out = enc.encode(req, pickIdx, pickIdx.length, KEEP_ALL_ROWS, null, 0);
  assert.equal(enc.copiedSeries, 8); // all but 0, 7, 28 and 49
  assert.equal(enc.reencodedSeries, 4);
  assertHolds(out, expectedView(req, pickIdx, pickIdx.length, KEEP_ALL_ROWS, null, 0), 'runs');
});

test('a span set empty (labels rewritten in place) forces a re-encode', () => {
  const body = encodeWriteRequest({ series: [{ labels: ['__name__', 'a', 'job', 'x'], samples: [{ value: 1, timestamp: 2 }] }] });
  const req = decodeWriteRequest(body);
  // point the job value at the bytes "a" (the metric name's value): same label count
  req.labelRanges[6] = req.labelRanges[2]!;
  req.labelRanges[7] = req.labelRanges[3]!;
  req.seriesSpans![1] = req.seriesSpans![0]!;
  const enc = new SubsetEncoder();
  const out = enc.encode(req, [0], 1, KEEP_ALL_ROWS, null, 0);
  assert.equal(enc.reencodedSeries, 1);
  assert.deepEqual(oursView(out).series[0]!.labels, ['__name__', 'a', 'job', 'a']);
});

test('long labels, large histograms and big messages get multi-byte lengths', () => {
  const long = 'v'.repeat(20_000);
  const series: SeriesObject[] = [
    {
      labels: ['__name__', 'big', 'k', long, 'mid', 'w'.repeat(200)],
      samples: [{ value: 0x7ff0000000000002n, timestamp: -(2 ** 53 - 1) }, { value: 0x8000000000000000n, timestamp: 2 ** 53 - 1 }],
      histograms: [
        {
          countFloat: 0n,
          sum: STALE_NAN_BITS,
          schema: -53,
          zeroCountFloat: -0,
          positiveSpans: Array.from({ length: 40 }, (_, k) => ({ offset: k - 20, length: 2 ** 32 - 1 - k })),
          positiveDeltas: Array.from({ length: 100 }, (_, k) => (k % 2 === 0 ? 1 : -1) * (2 ** 53 - 1 - k)),
          negativeDeltas: [-(2 ** 52), -(2 ** 52) - 1, -(2 ** 52) + 1, 2 ** 52, -64, -65, 63, 64],
          customValues: Array.from({ length: 300 }, (_, k) => k / 3),
          resetHint: -7,
          timestamp: -1,
        },
      ],
      exemplars: [{ labels: ['trace_id', 't'.repeat(500)], value: 0x7ff8000000000001n, timestamp: 5 }],
    },
  ];
  const body = encodeWriteRequest({ series, metadata: [{ type: -3, metricFamilyName: 'big', help: 'h'.repeat(70_000), unit: '' }] });
  const req = decodeWriteRequest(body);
  for (const copySpans of [true, false]) {
    const enc = new SubsetEncoder({ copySpans });
    const out = enc.encode(req, [0], 1, KEEP_ALL_ROWS, [0], 1);
    assert.ok(out.equals(body), `copySpans ${copySpans}`);
    assertHolds(out, expectedView(req, [0], 1, KEEP_ALL_ROWS, [0], 1), `copySpans ${copySpans}`);
  }
});

test('2.0: series are re-encoded; metadata family name is the current __name__ value', () => {
  const body = encodeWriteRequestV2({
    series: [
      { labels: ['zz', '', 'job', 'a', '__name__', 'http_requests_total'], samples: [{ value: 1, timestamp: 5, startTimestamp: 3 }], metadata: { type: 1, help: 'Requests.', unit: 'requests' }, createdTimestamp: 9 },
      { labels: ['job', 'b'], samples: [{ value: 2, timestamp: 6 }], metadata: { type: 2, help: 'No name.', unit: '' } },
      { labels: ['__name__', 'up'], histograms: [{ countInt: 1, startTimestamp: 4, timestamp: 7 }] },
    ],
  });
  const req = decodeWriteRequestV2(body);
  assert.equal(req.seriesSpans, null);
  assert.equal(req.wireLabelCounts, null);
  dropEmptyLabelValues(req);
  sortSeriesLabels(req);
  const enc = new SubsetEncoder();
  const out = enc.encode(req, [2, 0, 1], 3, KEEP_ALL_ROWS, [1, 0], 2);
  assert.equal(enc.copiedSeries, 0);
  assert.equal(enc.reencodedSeries, 3);
  const view = oracleView(out);
  assert.deepEqual(view.series.map((s) => s.labels), [['__name__', 'up'], ['__name__', 'http_requests_total', 'job', 'a'], ['job', 'b']]);
  assert.deepEqual(view.metadata, [
    { type: 2, name: '', help: 'No name.', unit: '' },
    { type: 1, name: 'http_requests_total', help: 'Requests.', unit: 'requests' },
  ]);
  assertHolds(out, expectedView(req, [2, 0, 1], 3, KEEP_ALL_ROWS, [1, 0], 2), '2.0');
});

test('a ValidationResult is a SubsetMasks: validated requests split into ingester bodies', () => {
  const NOW = 1_760_000_500_000;
  const limits: ValidationLimits = { ...defaultsOf({ v: validationConfig }).v, outOfOrderTimeWindow: 0, maxGlobalExemplarsPerUser: 100 };
  const rnd = mulberry32(77);
  let copied = 0;
  let total = 0;
  for (let n = 0; n < 200; n++) {
    const v: V = n % 2 === 0 ? 1 : 2;
    const obj = rndRequest(rnd, v, 12);
    const req = decode(v, v === 1 ? encodeWriteRequest(obj) : encodeWriteRequestV2(obj));
    const res = validateWriteRequest(req, limits, NOW);
    const keep: number[] = [];
    for (let i = 0; i < req.seriesCount; i++) if (res.keepSeries[i] === 1) keep.push(i);
    const rows = Array.from({ length: req.metadata.count }, (_, m) => m);
    // three ingesters, each given two of every three kept series (replication 2 of 3)
    for (let g = 0; g < 3; g++) {
      const mine = Uint32Array.from(keep.filter((_, k) => k % 3 !== g));
      const enc = new SubsetEncoder();
      const out = enc.encode(req, mine, mine.length, res, rows, rows.length);
      const expected = expectedView(req, mine, mine.length, res, rows, rows.length);
      assert.equal(expected.metadata.length, rows.filter((m) => res.metadataMask[m] === 1).length);
      assertHolds(out, expected, `case ${n} ingester ${g}`, true);
      const strict = new SubsetEncoder({ copySpans: false }).encode(req, mine, mine.length, res, rows, rows.length);
      assertHolds(strict, expected, `case ${n} ingester ${g}, re-encoded`);
      copied += enc.copiedSeries;
      total += mine.length;
    }
  }
  assert.ok(copied > 0 && copied < total, `${copied} of ${total} series copied`);
});

test('the result is a new buffer the caller owns', () => {
  const body = encodeWriteRequest({ series: [{ labels: ['__name__', 'a'], samples: [{ value: 1, timestamp: 2 }] }, { labels: ['__name__', 'b'], samples: [{ value: 3, timestamp: 4 }] }] });
  const req = decodeWriteRequest(body);
  const enc = new SubsetEncoder();
  const a = enc.encode(req, [0], 1, KEEP_ALL_ROWS, null, 0);
  const keepA = Buffer.from(a);
  const b = enc.encode(req, [1, 0], 2, KEEP_ALL_ROWS, null, 0);
  const c = new SubsetEncoder({ copySpans: false }).encode(req, [0, 1], 2, KEEP_ALL_ROWS, null, 0);
  assert.ok(a.equals(keepA));
  const keepB = Buffer.from(b);
  c.fill(0xff);
  req.bytes.fill(0); // the request body may be reused once encoding is done
  assert.ok(a.equals(keepA));
  assert.ok(b.equals(keepB));
  assert.deepEqual(oursView(b).series.map((x) => x.labels), [['__name__', 'b'], ['__name__', 'a']]);
  assert.equal(enc.encode(req, [], 0, KEEP_ALL_ROWS, null, 0).length, 0);
});

test('indexes outside the request are a RangeError', () => {
  const req = decodeWriteRequest(encodeWriteRequest({ series: [{ labels: ['__name__', 'a'] }], metadata: [{ type: 1, metricFamilyName: 'a', help: '', unit: '' }] }));
  const enc = new SubsetEncoder();
  assert.throws(() => enc.encode(req, [1], 1, KEEP_ALL_ROWS, null, 0), RangeError);
  assert.throws(() => enc.encode(req, [-1], 1, KEEP_ALL_ROWS, null, 0), RangeError);
  assert.throws(() => enc.encode(req, [0.5], 1, KEEP_ALL_ROWS, null, 0), RangeError);
  assert.throws(() => enc.encode(req, [0], 2, KEEP_ALL_ROWS, null, 0), RangeError);
  assert.throws(() => enc.encode(req, [], 0, KEEP_ALL_ROWS, [1], 1), RangeError);
  assert.throws(() => enc.encode(req, [], 0, KEEP_ALL_ROWS, null, 1), RangeError);
  assert.equal(enc.encode(req, [0], 1, KEEP_ALL_ROWS, [0], 1).length > 0, true);
});
