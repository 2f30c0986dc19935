// Native histogram sample records (types 7-10) in Prometheus's encoding (tsdb/record/record.go:
// Encoder.HistogramSamples, CustomBucketsHistogramSamples, FloatHistogramSamples,
// CustomBucketsFloatHistogramSamples; EncodeHistogram / DecodeHistogram and the float variants).
//
//   7  HistogramSamples                    integer histograms, exponential schemas
//   8  FloatHistogramSamples               float histograms, exponential schemas
//   9  CustomBucketsHistogramSamples       integer histograms, custom buckets (schema -53)
//   10 CustomBucketsFloatHistogramSamples  float histograms, custom buckets (schema -53)
//
// A record is the type byte, then { baseRef <be64>, baseT <be64> } of its first entry, then per
// entry (the first included) { ref - baseRef <varint>, t - baseT <varint>, histogram }. The deltas
// are zig-zag signed varints (Prometheus writes them with PutVarint64; the upstream format document
// draws them as uvarints). The histogram body is
//   counter reset hint <1 byte>, schema <varint>, zero threshold <be64 float>,
//   integer (7, 9): zero count <uvarint>, count <uvarint>, sum <be64 float>
//   float (8, 10):  zero count, count, sum <be64 float each>
//   positive spans: n <uvarint>, n x (offset <varint>, length <uvarint>); negative spans likewise
//   positive buckets: n <uvarint>, n x (<varint> deltas | <be64 float> counts); negative likewise
//   custom bucket bounds when schema == -53: n <uvarint>, n x <be64 float>
// Custom bounds follow the schema, not the record type (as DecodeHistogram reads them); the
// encoders put schema -53 histograms in records 9/10 so that readers predating them skip those
// records instead of misreading them, as Prometheus does.
//
// Floats are copied bit for bit. Encoding takes a HistogramObject double as a number or as a
// bigint of its exact bits. Decoding gives numbers, except that (by default, `floats: 'exact'`)
// a NaN whose bits are not those of JS's own NaN (0x7ff8000000000000), such as Prometheus's stale
// marker 0x7ff0000000000002, comes back as a bigint of its bits: a number would keep the payload
// in an object property but not in a plain array, where V8 quietens NaNs.
import type { BucketSpanObject, F64, HistogramObject } from '../../remotewrite/objects.js';
import { Decbuf, LITTLE_ENDIAN_HOST } from './decbuf.js';
import { Encbuf } from './encbuf.js';
import { RecordType } from './types.js';

/** Prometheus's histogram.CustomBucketsSchema. */
export const CUSTOM_BUCKETS_SCHEMA = -53;

/** One histogram sample of a record: its series ref, timestamp (ms) and histogram. */
export interface RefHistogramSample {
  ref: number;
  t: number;
  h: HistogramObject;
}

export interface HistogramDecodeOptions {
  /**
   * 'exact' (the default): NaNs other than JS's own NaN come back as bigints of their bits.
   * 'number': every double is a number, the form the remote-write decoder's histogramOf gives
   * (a NaN payload then survives only while the number sits in an object property, e.g. `sum`).
   */
  floats?: 'exact' | 'number';
}

export interface HistogramDecodeResult {
  histograms: RefHistogramSample[];
  /** null, or the decoding error (histograms then holds the entries decoded before it). */
  error: string | null;
}

export function isHistogramRecordType(t: number): boolean {
  return t === RecordType.HistogramSamples || t === RecordType.FloatHistogramSamples
    || t === RecordType.CustomBucketsHistogramSamples || t === RecordType.CustomBucketsFloatHistogramSamples;
}

/** Whether a record type holds float histograms (8, 10) rather than integer ones (7, 9). */
export function isFloatHistogramRecordType(t: number): boolean {
  return t === RecordType.FloatHistogramSamples || t === RecordType.CustomBucketsFloatHistogramSamples;
}

/** A histogram with `countFloat` set is a float histogram; any other is an integer one. */
export function isFloatHistogram(h: HistogramObject): boolean {
  return h.countFloat !== undefined;
}

// ---- encoding --------------------------------------------------------------------------------

/**
 * Encodes integer histogram samples: a type 7 record with the exponential-schema ones and a type 9
 * record with the custom-bucket ones (schema -53), each only if it has entries ([] for none).
 * A float histogram among them is a programming error (TypeError): split with isFloatHistogram.
 * Counts are written as given: they must be non-negative safe integers, deltas safe integers.
 */
export function encodeHistogramSamples(entries: readonly RefHistogramSample[]): Uint8Array[] {
  return encodeSplit(entries, false);
}

/**
 * Encodes float histogram samples: a type 8 record with the exponential-schema ones and a type 10
 * record with the custom-bucket ones, each only if it has entries. An integer histogram among them
 * is a TypeError.
 */
export function encodeFloatHistogramSamples(entries: readonly RefHistogramSample[]): Uint8Array[] {
  return encodeSplit(entries, true);
}

function encodeSplit(entries: readonly RefHistogramSample[], float: boolean): Uint8Array[] {
  let exponential = 0;
  let custom = 0;
  for (const e of entries) {
    if (isFloatHistogram(e.h) !== float) {
      throw new TypeError(`${float ? 'integer' : 'float'} histogram (ref ${e.ref}, t ${e.t}) passed to encode${float ? 'Float' : ''}HistogramSamples`);
    }
    if (e.h.schema === CUSTOM_BUCKETS_SCHEMA) custom++;
    else exponential++;
  }
  const out: Uint8Array[] = [];
  if (exponential > 0) {
    out.push(encodeRecord(float ? RecordType.FloatHistogramSamples : RecordType.HistogramSamples, entries, exponential, false, float));
  }
  if (custom > 0) {
    out.push(encodeRecord(float ? RecordType.CustomBucketsFloatHistogramSamples : RecordType.CustomBucketsHistogramSamples, entries, custom, true, float));
  }
  return out;
}

/** One record of the entries whose schema is (custom) or is not (!custom) the custom-bucket one. */
function encodeRecord(type: number, entries: readonly RefHistogramSample[], n: number, custom: boolean, float: boolean): Uint8Array {
  const e = new Encbuf(17 + n * 64);
  e.byte(type);
  let baseRef = 0;
  let baseT = 0;
  let first = true;
  for (const x of entries) {
    if ((x.h.schema === CUSTOM_BUCKETS_SCHEMA) !== custom) continue;
    if (first) {
      first = false;
      baseRef = x.ref;
      baseT = x.t;
      e.be64u(baseRef);
      e.be64i(baseT);
    }
    e.varint(x.ref - baseRef);
    e.varint(x.t - baseT);
    if (float) putFloatHistogram(e, x.h);
    else putHistogram(e, x.h);
  }
  return e.finish();
}

/** record.EncodeHistogram. A missing zero count (or one given as a float) is 0, as Prometheus's GetZeroCountInt. */
function putHistogram(e: Encbuf, h: HistogramObject): void {
  const schema = h.schema ?? 0;
  e.byte((h.resetHint ?? 0) & 0xff);
  e.varint(schema);
  putF64(e, h.zeroThreshold);
  e.uvarint(h.zeroCountInt ?? 0);
  e.uvarint(h.countInt ?? 0);
  putF64(e, h.sum);
  putSpans(e, h.positiveSpans);
  putSpans(e, h.negativeSpans);
  putDeltas(e, h.positiveDeltas);
  putDeltas(e, h.negativeDeltas);
  if (schema === CUSTOM_BUCKETS_SCHEMA) putF64s(e, h.customValues);
}

/** record.EncodeFloatHistogram. A missing zero count (or one given as an integer) is 0, as GetZeroCountFloat. */
function putFloatHistogram(e: Encbuf, h: HistogramObject): void {
  const schema = h.schema ?? 0;
  e.byte((h.resetHint ?? 0) & 0xff);
  e.varint(schema);
  putF64(e, h.zeroThreshold);
  putF64(e, h.zeroCountFloat);
  putF64(e, h.countFloat);
  putF64(e, h.sum);
  putSpans(e, h.positiveSpans);
  putSpans(e, h.negativeSpans);
  putF64s(e, h.positiveCounts);
  putF64s(e, h.negativeCounts);
  if (schema === CUSTOM_BUCKETS_SCHEMA) putF64s(e, h.customValues);
}

/** A double as its big-endian bits: a bigint verbatim (low 64 bits), a number as it holds them. */
function putF64(e: Encbuf, v: F64 | undefined): void {
  if (typeof v === 'bigint') {
    e.reserve(8);
    e.buf.writeBigUInt64BE(BigInt.asUintN(64, v), e.len);
    e.len += 8;
  } else {
    e.be64f(v ?? 0);
  }
}

function putF64s(e: Encbuf, vs: readonly F64[] | undefined): void {
  if (vs === undefined) {
    e.byte(0);
    return;
  }
  e.uvarint(vs.length);
  for (const v of vs) putF64(e, v);
}

function putSpans(e: Encbuf, spans: readonly BucketSpanObject[] | undefined): void {
  if (spans === undefined) {
    e.byte(0);
    return;
  }
  e.uvarint(spans.length);
  for (const s of spans) {
    e.varint(s.offset);
    e.uvarint(s.length);
  }
}

function putDeltas(e: Encbuf, deltas: readonly number[] | undefined): void {
  if (deltas === undefined) {
    e.byte(0);
    return;
  }
  e.uvarint(deltas.length);
  for (const d of deltas) e.varint(d);
}

// ---- decoding --------------------------------------------------------------------------------

/** Decodes an integer histogram record (type 7 or 9). Never throws. */
export function decodeHistogramSamples(rec: Uint8Array, opts: HistogramDecodeOptions = {}): HistogramDecodeResult {
  return decodeRecordOf(rec, false, opts);
}

/** Decodes a float histogram record (type 8 or 10). Never throws. */
export function decodeFloatHistogramSamples(rec: Uint8Array, opts: HistogramDecodeOptions = {}): HistogramDecodeResult {
  return decodeRecordOf(rec, true, opts);
}

function decodeRecordOf(rec: Uint8Array, float: boolean, opts: HistogramDecodeOptions): HistogramDecodeResult {
  const d = new Decbuf(rec);
  const histograms: RefHistogramSample[] = [];
  const type = d.byte();
  if (d.err !== null || !isHistogramRecordType(type) || isFloatHistogramRecordType(type) !== float) {
    return { histograms, error: `not a${float ? ' float' : 'n integer'} histogram record (type ${type})` };
  }
  if (d.remaining === 0) return { histograms, error: null };
  const exact = opts.floats !== 'number';
  const baseRef = d.be64u();
  const baseT = d.be64i();
  while (d.remaining > 0 && d.err === null) {
    const ref = baseRef + d.varint();
    const t = baseT + d.varint();
    const h = float ? getFloatHistogram(d, t, exact) : getHistogram(d, t, exact);
    if (d.err !== null) break;
    if (ref < 0 || ref > Number.MAX_SAFE_INTEGER) {
      d.fail(`histogram sample ref ${ref} out of range`);
      break;
    }
    histograms.push({ ref, t, h });
  }
  return { histograms, error: d.err };
}

/**
 * record.DecodeHistogram into the shape histogramOf gives for a remote-write 1.0 request (every
 * field present, the float-only lists empty, `timestamp` = t), so a replayed sample equals the one
 * appended live.
 */
function getHistogram(d: Decbuf, t: number, exact: boolean): HistogramObject {
  const resetHint = d.byte();
  const schema = getSchema(d);
  const zeroThreshold = getF64(d, exact);
  const zeroCountInt = d.uvarint();
  const countInt = d.uvarint();
  const sum = getF64(d, exact);
  const positiveSpans = getSpans(d);
  const negativeSpans = getSpans(d);
  const positiveDeltas = getDeltas(d);
  const negativeDeltas = getDeltas(d);
  const customValues = schema === CUSTOM_BUCKETS_SCHEMA ? getF64s(d, exact) : [];
  return {
    countInt, sum, schema, zeroThreshold, zeroCountInt,
    negativeSpans, negativeDeltas, negativeCounts: [],
    positiveSpans, positiveDeltas, positiveCounts: [],
    resetHint, timestamp: t, customValues,
  };
}

/** record.DecodeFloatHistogram, shaped as getHistogram. */
function getFloatHistogram(d: Decbuf, t: number, exact: boolean): HistogramObject {
  const resetHint = d.byte();
  const schema = getSchema(d);
  const zeroThreshold = getF64(d, exact);
  const zeroCountFloat = getF64(d, exact);
  const countFloat = getF64(d, exact);
  const sum = getF64(d, exact);
  const positiveSpans = getSpans(d);
  const negativeSpans = getSpans(d);
  const positiveCounts = getF64s(d, exact);
  const negativeCounts = getF64s(d, exact);
  const customValues = schema === CUSTOM_BUCKETS_SCHEMA ? getF64s(d, exact) : [];
  return {
    countFloat, sum, schema, zeroThreshold, zeroCountFloat,
    negativeSpans, negativeDeltas: [], negativeCounts,
    positiveSpans, positiveDeltas: [], positiveCounts,
    resetHint, timestamp: t, customValues,
  };
}

function getSchema(d: Decbuf): number {
  const s = d.varint();
  if (s < -0x80000000 || s > 0x7fffffff) d.fail(`histogram schema ${s} beyond int32`);
  return s;
}

function getSpans(d: Decbuf): BucketSpanObject[] {
  const n = d.uvarint();
  const out: BucketSpanObject[] = [];
  if (n * 2 > d.remaining) {
    d.fail(`span count ${n} exceeds record size`);
    return out;
  }
  for (let i = 0; i < n && d.err === null; i++) {
    const offset = d.varint();
    const length = d.uvarint();
    if (offset < -0x80000000 || offset > 0x7fffffff) d.fail(`span offset ${offset} beyond int32`);
    else if (length > 0xffffffff) d.fail(`span length ${length} beyond uint32`);
    else out.push({ offset, length });
  }
  return out;
}

function getDeltas(d: Decbuf): number[] {
  const n = d.uvarint();
  const out: number[] = [];
  if (n > d.remaining) {
    d.fail(`bucket count ${n} exceeds record size`);
    return out;
  }
  for (let i = 0; i < n && d.err === null; i++) out.push(d.varint());
  return out;
}

function getF64s(d: Decbuf, exact: boolean): F64[] {
  const n = d.uvarint();
  const out: F64[] = [];
  if (n * 8 > d.remaining) {
    d.fail(`float count ${n} exceeds record size`);
    return out;
  }
  for (let i = 0; i < n && d.err === null; i++) out.push(getF64(d, exact));
  return out;
}

const SCRATCH = new Float64Array(1);
const SCRATCH_BYTES = new Uint8Array(SCRATCH.buffer);
const SCRATCH_WORDS = new Uint32Array(SCRATCH.buffer);
const HI = LITTLE_ENDIAN_HOST ? 1 : 0;
const LO = LITTLE_ENDIAN_HOST ? 0 : 1;

/** A big-endian double: a number, or (exact) a bigint of the bits of a NaN other than JS's own. */
function getF64(d: Decbuf, exact: boolean): F64 {
  d.be64fInto(SCRATCH_BYTES, 0);
  if (exact) {
    const hi = SCRATCH_WORDS[HI] as number;
    const lo = SCRATCH_WORDS[LO] as number;
    const nan = (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0x000fffff) !== 0 || lo !== 0);
    if (nan && !(hi === 0x7ff80000 && lo === 0)) return (BigInt(hi) << 32n) | BigInt(lo);
  }
  return SCRATCH[0] as number;
}

// ---- walking (checkpoints, counting) -----------------------------------------------------------

function skipSpans(d: Decbuf): void {
  const n = d.uvarint();
  if (n * 2 > d.remaining) return d.fail(`span count ${n} exceeds record size`);
  for (let i = 0; i < n && d.err === null; i++) {
    d.skipVarint();
    d.skipVarint();
  }
}

function skipBuckets(d: Decbuf, float: boolean): void {
  const n = d.uvarint();
  if (n > d.remaining) return d.fail(`bucket count ${n} exceeds record size`);
  if (float) d.skip(n * 8);
  else for (let i = 0; i < n && d.err === null; i++) d.skipVarint();
}

/** Reads past one histogram body (after its ref and timestamp deltas). */
export function skipHistogramBody(d: Decbuf, recordType: number): void {
  const float = isFloatHistogramRecordType(recordType);
  d.skip(1); // counter reset hint
  const schema = d.varint();
  d.skip(8); // zero threshold
  if (float) {
    d.skip(24); // zero count, count, sum
  } else {
    d.skipVarint(); // zero count
    d.skipVarint(); // count
    d.skip(8); // sum
  }
  skipSpans(d);
  skipSpans(d);
  skipBuckets(d, float);
  skipBuckets(d, float);
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    const n = d.uvarint();
    if (n * 8 > d.remaining) return d.fail(`custom bound count ${n} exceeds record size`);
    d.skip(n * 8);
  }
}
