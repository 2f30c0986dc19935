// Decoders for the sub-messages shared by remote write 1.0 and 2.0: Label (1.0), Sample,
// Histogram and BucketSpan. Each one is entered through its length prefix, reads its fields in any
// order (the last occurrence of a singular field wins), skips unknown fields and known fields that
// arrive with an unexpected wire type (as protobuf-go and C++ do), and appends one row.
import type { Builder, HistogramBuilder, NumberListBuilder, SpanListBuilder } from './builder.js';
import type { F64Col, U32Col } from './columns.js';
import { ONEOF_FLOAT, ONEOF_INT, ONEOF_NONE } from './decoded.js';
import { WT_I64, WT_LEN, WT_VARINT, type WireReader } from './wire.js';

/** Label{1: name, 2: value} -> 4 byte offsets (name start/end, value start/end). */
export function decodeLabel(r: WireReader, out: U32Col, parent: string): void {
  const prev = r.enter('Label');
  let ns = 0;
  let ne = 0;
  let vs = 0;
  let ve = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x0a) {
      const n = r.len();
      ns = r.pos;
      ne = ns + n;
      r.pos = ne;
    } else if (k === 0x12) {
      const n = r.len();
      vs = r.pos;
      ve = vs + n;
      r.pos = ve;
    } else r.skip(k & 7);
  }
  r.leave(prev, parent);
  out.push2(ns, ne);
  out.push2(vs, ve);
}

/** Sample{1: double value, 2: int64 timestamp, 3 (2.0 only): int64 start_timestamp}. */
export function decodeSample(r: WireReader, b: Builder, v2: boolean): void {
  const prev = r.enter('Sample');
  let vp = -1;
  let ts = 0;
  let st = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x09) vp = r.fixed64();
    else if (k === 0x10) ts = r.i64();
    else if (k === 0x18 && v2) st = r.i64();
    else r.skip(k & 7);
  }
  r.leave(prev, 'TimeSeries');
  b.values.pushWire(r.buf, vp);
  b.timestamps.push(ts);
  if (v2) b.startTimestamps.push(st);
}

/**
 * The Sample layout every sender writes: `len 0x09 <8 bytes> 0x10 <timestamp varint>` with a
 * one-byte length and a non-negative timestamp of up to 7 varint bytes (< 2^49). Returns false
 * (having consumed nothing) for anything else, which then goes through decodeSample.
 */
export function fastSample(r: WireReader, b: Builder, v2: boolean): boolean {
  const buf = r.buf;
  const p = r.pos;
  if (p >= r.limit) return false;
  const len = buf[p]!;
  const end = p + 1 + len;
  if (len >= 0x80 || len < 11 || len > 17 || end > r.limit || buf[p + 1] !== 0x09 || buf[p + 10] !== 0x10) return false;
  let q = p + 11;
  let ts = 0;
  let mul = 1;
  for (;;) {
    const x = buf[q++]!;
    ts += (x & 0x7f) * mul;
    if (x < 0x80) break;
    if (q === end) return false;
    mul *= 128;
  }
  if (q !== end) return false;
  b.values.pushWire(buf, p + 2);
  b.timestamps.push(ts);
  if (v2) b.startTimestamps.push(0);
  r.pos = end;
  return true;
}

/** A packed sint64 field (wire type 2); its elements may not run past its length. */
function packedS64(r: WireReader, out: F64Col): void {
  const n = r.len();
  const end = r.pos + n;
  const prev = r.limit;
  r.limit = end;
  while (r.pos < end) out.push(r.s64());
  r.limit = prev;
}

/** A repeated double: packed (wire type 2, a multiple of 8 bytes) or one value (wire type 1). */
export function repeatedDouble(r: WireReader, out: F64Col, wt: number): void {
  if (wt === WT_I64) {
    out.pushWire(r.buf, r.fixed64());
  } else if (wt === WT_LEN) {
    const n = r.len();
    if (n % 8 !== 0) {
      r.fail(`packed doubles: length ${n} is not a multiple of 8`);
      return;
    }
    const buf = r.buf;
    const start = r.pos;
    for (let p = start; p < start + n; p += 8) out.pushWire(buf, p);
    r.pos = start + n;
  } else r.skip(wt);
}

/** A repeated sint64: packed (wire type 2) or one value (wire type 0). */
function repeatedS64(r: WireReader, out: NumberListBuilder, wt: number): void {
  if (wt === WT_VARINT) out.values.push(r.s64());
  else if (wt === WT_LEN) packedS64(r, out.values);
  else r.skip(wt);
}

/** BucketSpan{1: sint32 offset, 2: uint32 length}. */
function decodeSpan(r: WireReader, out: SpanListBuilder): void {
  const prev = r.enter('BucketSpan');
  let offset = 0;
  let length = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x08) offset = r.s32();
    else if (k === 0x10) length = r.u32();
    else r.skip(k & 7);
  }
  r.leave(prev, 'Histogram');
  out.push(offset, length);
}

/** Histogram (fields 1..16; 17 start_timestamp in 2.0 only) -> one row of `h`. */
export function decodeHistogram(r: WireReader, h: HistogramBuilder, v2: boolean, parent: string): void {
  const prev = r.enter('Histogram');
  h.begin();
  let countKind = ONEOF_NONE;
  let countNum = 0;
  let countPos = -1;
  let sumPos = -1;
  let schema = 0;
  let ztPos = -1;
  let zcKind = ONEOF_NONE;
  let zcNum = 0;
  let zcPos = -1;
  let resetHint = 0;
  let ts = 0;
  let st = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    const wt = k & 7;
    switch (k >>> 3) {
      case 1:
        if (wt !== WT_VARINT) r.skip(wt);
        else {
          countKind = ONEOF_INT;
          countNum = r.u64();
        }
        break;
      case 2:
        if (wt !== WT_I64) r.skip(wt);
        else {
          countKind = ONEOF_FLOAT;
          countPos = r.fixed64();
        }
        break;
      case 3:
        if (wt !== WT_I64) r.skip(wt);
        else sumPos = r.fixed64();
        break;
      case 4:
        if (wt !== WT_VARINT) r.skip(wt);
        else schema = r.s32();
        break;
      case 5:
        if (wt !== WT_I64) r.skip(wt);
        else ztPos = r.fixed64();
        break;
      case 6:
        if (wt !== WT_VARINT) r.skip(wt);
        else {
          zcKind = ONEOF_INT;
          zcNum = r.u64();
        }
        break;
      case 7:
        if (wt !== WT_I64) r.skip(wt);
        else {
          zcKind = ONEOF_FLOAT;
          zcPos = r.fixed64();
        }
        break;
      case 8:
        if (wt !== WT_LEN) r.skip(wt);
        else decodeSpan(r, h.negativeSpans);
        break;
      case 9:
        repeatedS64(r, h.negativeDeltas, wt);
        break;
      case 10:
        repeatedDouble(r, h.negativeCounts.values, wt);
        break;
      case 11:
        if (wt !== WT_LEN) r.skip(wt);
        else decodeSpan(r, h.positiveSpans);
        break;
      case 12:
        repeatedS64(r, h.positiveDeltas, wt);
        break;
      case 13:
        repeatedDouble(r, h.positiveCounts.values, wt);
        break;
      case 14:
        if (wt !== WT_VARINT) r.skip(wt);
        else resetHint = r.u32() | 0;
        break;
      case 15:
        if (wt !== WT_VARINT) r.skip(wt);
        else ts = r.i64();
        break;
      case 16:
        repeatedDouble(r, h.customValues.values, wt);
        break;
      case 17:
        if (wt !== WT_VARINT || !v2) r.skip(wt);
        else st = r.i64();
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(prev, parent);
  const buf = r.buf;
  h.countKind.push(countKind);
  if (countKind === ONEOF_FLOAT) h.countValue.pushWire(buf, countPos);
  else h.countValue.push(countNum);
  h.sum.pushWire(buf, sumPos);
  h.schema.push(schema);
  h.zeroThreshold.pushWire(buf, ztPos);
  h.zeroCountKind.push(zcKind);
  if (zcKind === ONEOF_FLOAT) h.zeroCount.pushWire(buf, zcPos);
  else h.zeroCount.push(zcNum);
  h.resetHint.push(resetHint);
  h.timestamps.push(ts);
  h.startTimestamps.push(st);
}
