// The series part of the subset encoder (subset.ts): the exact size of a TimeSeries re-encoded
// from the columns of a DecodedWriteRequest, and its bytes. Canonical proto3 (default values left
// out, repeated numbers packed) in the field order of Prometheus' encoder: labels, samples,
// exemplars, histograms. Sizes are computed in a first pass over every listed series (histogram
// sizes are kept in the scratch `hs` for the second), then the bytes are written into an output
// allocated at the exact total, so writers never check bounds.
import { type DecodedWriteRequest, ONEOF_FLOAT, ONEOF_INT, type SpanLists } from './decoded.js';
import {
  bitsView,
  copyBytes,
  int64Size,
  isZeroBits,
  lenFieldSize,
  sint64Size,
  varintSize,
  writeDouble,
  writeInt64,
  writeSint64,
  writeVarint,
  zigzag32,
} from './subset-wire.js';

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/** Rows to keep (null: all). */
export interface RowMasks {
  readonly sampleMask: Uint8Array | null;
  readonly histogramMask: Uint8Array | null;
  readonly exemplarMask: Uint8Array | null;
}

/** Per-call state: the request, the masks, bit views of its double columns, the output. */
export interface Ctx {
  readonly req: DecodedWriteRequest;
  /** the request body, as a plain Uint8Array (Buffer's own subarray and accessors are slower) */
  readonly b: Uint8Array;
  readonly bv: DataView;
  /** the output and a DataView over it (set once it is allocated) */
  out: Uint8Array;
  ov: DataView;
  readonly sm: Uint8Array | null;
  readonly hm: Uint8Array | null;
  readonly em: Uint8Array | null;
  readonly values: Uint32Array;
  readonly exValues: Uint32Array;
  /** histogram double columns: null when the request has no histograms */
  readonly h: HistogramBits | null;
  /** scratch, 3 per histogram row: payload size, negative and positive packed delta bytes */
  readonly hs: Uint32Array;
}

interface HistogramBits {
  readonly countValue: Uint32Array;
  readonly sum: Uint32Array;
  readonly zeroThreshold: Uint32Array;
  readonly zeroCount: Uint32Array;
  readonly negativeCounts: Uint32Array;
  readonly positiveCounts: Uint32Array;
  readonly customValues: Uint32Array;
}

export function makeContext(req: DecodedWriteRequest, masks: RowMasks, hs: Uint32Array): Ctx {
  const H = req.histograms;
  const body = req.bytes;
  return {
    req,
    b: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    bv: new DataView(body.buffer, body.byteOffset, body.byteLength),
    out: EMPTY,
    ov: EMPTY_VIEW,
    sm: masks.sampleMask,
    hm: masks.histogramMask,
    em: masks.exemplarMask,
    values: bitsView(req.values),
    exValues: bitsView(req.exemplars.values),
    h:
      H.count === 0
        ? null
        : {
            countValue: bitsView(H.countValue),
            sum: bitsView(H.sum),
            zeroThreshold: bitsView(H.zeroThreshold),
            zeroCount: bitsView(H.zeroCount),
            negativeCounts: bitsView(H.negativeCounts.values),
            positiveCounts: bitsView(H.positiveCounts.values),
            customValues: bitsView(H.customValues.values),
          },
    hs,
  };
}

/** Sets the output (allocated at the size the first pass computed). */
export function setOutput(c: Ctx, out: Uint8Array): void {
  c.out = out;
  c.ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
}

// ---- sizes ----

/** Bytes of series i's TimeSeries payload with its current labels and the rows c's masks keep. */
export function seriesPayloadSize(c: Ctx, i: number): number {
  const req = c.req;
  let n = labelsSize(req.labelRanges, req.labelOffsets[i]!, req.labelOffsets[i + 1]!);
  const sm = c.sm;
  for (let k = req.sampleOffsets[i]!, end = req.sampleOffsets[i + 1]!; k < end; k++) {
    if (sm === null || sm[k] !== 0) n += 2 + sampleInner(c, k); // a Sample is at most 20 bytes
  }
  const em = c.em;
  for (let e = req.exemplarOffsets[i]!, end = req.exemplarOffsets[i + 1]!; e < end; e++) {
    if (em === null || em[e] !== 0) n += lenFieldSize(exemplarInner(c, e));
  }
  const hm = c.hm;
  for (let h = req.histogramOffsets[i]!, end = req.histogramOffsets[i + 1]!; h < end; h++) {
    if (hm === null || hm[h] !== 0) n += lenFieldSize(histogramInner(c, h));
  }
  return n;
}

/** Histogram h's payload size; also records it and its packed delta sizes in c.hs. */
function histogramInner(c: Ctx, h: number): number {
  const H = c.req.histograms;
  const v = c.h!;
  let n = 0;
  const ck = H.countKind[h];
  if (ck === ONEOF_INT) n += 1 + varintSize(H.countValue[h]!);
  else if (ck === ONEOF_FLOAT) n += 9;
  if (!isZeroBits(v.sum, h)) n += 9;
  if (H.schema[h] !== 0) n += 1 + varintSize(zigzag32(H.schema[h]!));
  if (!isZeroBits(v.zeroThreshold, h)) n += 9;
  const zk = H.zeroCountKind[h];
  if (zk === ONEOF_INT) n += 1 + varintSize(H.zeroCount[h]!);
  else if (zk === ONEOF_FLOAT) n += 9;
  n += spansSize(H.negativeSpans, h);
  const nd = deltasSize(H.negativeDeltas.values, H.negativeDeltas.offsets[h]!, H.negativeDeltas.offsets[h + 1]!);
  if (nd > 0) n += lenFieldSize(nd);
  n += doublesSize(H.negativeCounts.offsets, h, 1);
  n += spansSize(H.positiveSpans, h);
  const pd = deltasSize(H.positiveDeltas.values, H.positiveDeltas.offsets[h]!, H.positiveDeltas.offsets[h + 1]!);
  if (pd > 0) n += lenFieldSize(pd);
  n += doublesSize(H.positiveCounts.offsets, h, 1);
  if (H.resetHint[h] !== 0) n += 1 + int64Size(H.resetHint[h]!);
  if (H.timestamps[h] !== 0) n += 1 + int64Size(H.timestamps[h]!);
  n += doublesSize(H.customValues.offsets, h, 2);
  const hs = c.hs;
  hs[3 * h] = n;
  hs[3 * h + 1] = nd;
  hs[3 * h + 2] = pd;
  return n;
}

// ---- bytes ----

/** Series i's TimeSeries payload (its key and length are the caller's), at c.out[p]. */
export function writeSeries(c: Ctx, p: number, i: number): number {
  const req = c.req;
  const out = c.out;
  const lr = req.labelRanges;
  p = writeLabels(c, p, lr, req.labelOffsets[i]!, req.labelOffsets[i + 1]!);
  const sm = c.sm;
  const vals = c.values;
  const ts = req.timestamps;
  for (let k = req.sampleOffsets[i]!, end = req.sampleOffsets[i + 1]!; k < end; k++) {
    if (sm !== null && sm[k] === 0) continue;
    out[p++] = 0x12;
    out[p++] = sampleInner(c, k);
    if (!isZeroBits(vals, k)) {
      out[p++] = 0x09;
      p = writeDouble(out, p, vals, k);
    }
    const t = ts[k]!;
    if (t !== 0) {
      out[p++] = 0x10;
      p = writeInt64(out, p, t);
    }
  }
  const em = c.em;
  const ex = req.exemplars;
  for (let e = req.exemplarOffsets[i]!, end = req.exemplarOffsets[i + 1]!; e < end; e++) {
    if (em !== null && em[e] === 0) continue;
    out[p++] = 0x1a;
    p = writeVarint(out, p, exemplarInner(c, e));
    p = writeLabels(c, p, ex.labelRanges, ex.labelOffsets[e]!, ex.labelOffsets[e + 1]!);
    if (!isZeroBits(c.exValues, e)) {
      out[p++] = 0x11;
      p = writeDouble(out, p, c.exValues, e);
    }
    const t = ex.timestamps[e]!;
    if (t !== 0) {
      out[p++] = 0x18;
      p = writeInt64(out, p, t);
    }
  }
  const hm = c.hm;
  for (let h = req.histogramOffsets[i]!, end = req.histogramOffsets[i + 1]!; h < end; h++) {
    if (hm !== null && hm[h] === 0) continue;
    out[p++] = 0x22;
    p = writeVarint(out, p, c.hs[3 * h]!);
    p = writeHistogram(c, p, h);
  }
  return p;
}

function writeHistogram(c: Ctx, p: number, h: number): number {
  const out = c.out;
  const H = c.req.histograms;
  const v = c.h!;
  const ck = H.countKind[h];
  if (ck === ONEOF_INT) {
    out[p++] = 0x08;
    p = writeVarint(out, p, H.countValue[h]!);
  } else if (ck === ONEOF_FLOAT) {
    out[p++] = 0x11;
    p = writeDouble(out, p, v.countValue, h);
  }
  if (!isZeroBits(v.sum, h)) {
    out[p++] = 0x19;
    p = writeDouble(out, p, v.sum, h);
  }
  if (H.schema[h] !== 0) {
    out[p++] = 0x20;
    p = writeVarint(out, p, zigzag32(H.schema[h]!));
  }
  if (!isZeroBits(v.zeroThreshold, h)) {
    out[p++] = 0x29;
    p = writeDouble(out, p, v.zeroThreshold, h);
  }
  const zk = H.zeroCountKind[h];
  if (zk === ONEOF_INT) {
    out[p++] = 0x30;
    p = writeVarint(out, p, H.zeroCount[h]!);
  } else if (zk === ONEOF_FLOAT) {
    out[p++] = 0x39;
    p = writeDouble(out, p, v.zeroCount, h);
  }
  const hs = c.hs;
  p = writeSpans(out, p, 0x42, H.negativeSpans, h);
  p = writeDeltas(out, p, 0x4a, hs[3 * h + 1]!, H.negativeDeltas.values, H.negativeDeltas.offsets[h]!, H.negativeDeltas.offsets[h + 1]!);
  p = writeDoubles(out, p, 0x52, v.negativeCounts, H.negativeCounts.offsets[h]!, H.negativeCounts.offsets[h + 1]!);
  p = writeSpans(out, p, 0x5a, H.positiveSpans, h);
  p = writeDeltas(out, p, 0x62, hs[3 * h + 2]!, H.positiveDeltas.values, H.positiveDeltas.offsets[h]!, H.positiveDeltas.offsets[h + 1]!);
  p = writeDoubles(out, p, 0x6a, v.positiveCounts, H.positiveCounts.offsets[h]!, H.positiveCounts.offsets[h + 1]!);
  if (H.resetHint[h] !== 0) {
    out[p++] = 0x70;
    p = writeInt64(out, p, H.resetHint[h]!);
  }
  if (H.timestamps[h] !== 0) {
    out[p++] = 0x78;
    p = writeInt64(out, p, H.timestamps[h]!);
  }
  const cv0 = H.customValues.offsets[h]!;
  const cv1 = H.customValues.offsets[h + 1]!;
  if (cv1 > cv0) {
    out[p++] = 0x82; // field 16, wire type 2: a two-byte key
    p = writeDoubles(out, p, 0x01, v.customValues, cv0, cv1);
  }
  return p;
}

// ---- helpers ----

/** Bytes of an optional string field (left out when empty). */
export function strSize(n: number): number {
  return n === 0 ? 0 : lenFieldSize(n);
}

function labelInner(r: Uint32Array, l: number): number {
  return strSize(r[4 * l + 1]! - r[4 * l]!) + strSize(r[4 * l + 3]! - r[4 * l + 2]!);
}

/** Bytes of the Label fields [from, to) of `r` (quads of byte offsets). */
function labelsSize(r: Uint32Array, from: number, to: number): number {
  let n = 0;
  for (let l = from; l < to; l++) n += lenFieldSize(labelInner(r, l));
  return n;
}

function sampleInner(c: Ctx, k: number): number {
  const t = c.req.timestamps[k]!;
  return (isZeroBits(c.values, k) ? 0 : 9) + (t === 0 ? 0 : 1 + int64Size(t));
}

function exemplarInner(c: Ctx, e: number): number {
  const ex = c.req.exemplars;
  const t = ex.timestamps[e]!;
  return labelsSize(ex.labelRanges, ex.labelOffsets[e]!, ex.labelOffsets[e + 1]!) + (isZeroBits(c.exValues, e) ? 0 : 9) + (t === 0 ? 0 : 1 + int64Size(t));
}

function spanInner(l: SpanLists, s: number): number {
  const off = l.spanOffset[s]!;
  const len = l.spanLength[s]!;
  return (off !== 0 ? 1 + varintSize(zigzag32(off)) : 0) + (len !== 0 ? 1 + varintSize(len) : 0);
}

/** Bytes of histogram h's BucketSpan fields of list `l` (a span is at most 12 bytes). */
function spansSize(l: SpanLists, h: number): number {
  let n = 0;
  for (let s = l.offsets[h]!, end = l.offsets[h + 1]!; s < end; s++) n += 2 + spanInner(l, s);
  return n;
}

/** Payload bytes of a packed sint64 field holding values[from, to). */
function deltasSize(values: Float64Array, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) n += sint64Size(values[k]!);
  return n;
}

/** Bytes of histogram h's packed double field (its key taking `keyBytes`), 0 when empty. */
function doublesSize(offsets: Uint32Array, h: number, keyBytes: number): number {
  const n = 8 * (offsets[h + 1]! - offsets[h]!);
  return n === 0 ? 0 : keyBytes + varintSize(n) + n;
}

/** Request bytes [s, e) as a string field (left out when empty). */
export function writeStr(c: Ctx, p: number, key: number, s: number, e: number): number {
  if (e === s) return p;
  const out = c.out;
  out[p++] = key;
  p = writeVarint(out, p, e - s);
  return copyBytes(out, c.ov, p, c.b, c.bv, s, e);
}

/** Label rows [from, to) of `r` as Label fields (field 1 of TimeSeries and of Exemplar). */
function writeLabels(c: Ctx, p: number, r: Uint32Array, from: number, to: number): number {
  const out = c.out;
  const ov = c.ov;
  const b = c.b;
  const bv = c.bv;
  for (let l = from; l < to; l++) {
    const ns = r[4 * l]!;
    const ne = r[4 * l + 1]!;
    const vs = r[4 * l + 2]!;
    const ve = r[4 * l + 3]!;
    out[p++] = 0x0a;
    p = writeVarint(out, p, strSize(ne - ns) + strSize(ve - vs));
    if (ne > ns) {
      out[p++] = 0x0a;
      p = writeVarint(out, p, ne - ns);
      p = copyBytes(out, ov, p, b, bv, ns, ne);
    }
    if (ve > vs) {
      out[p++] = 0x12;
      p = writeVarint(out, p, ve - vs);
      p = copyBytes(out, ov, p, b, bv, vs, ve);
    }
  }
  return p;
}

function writeSpans(out: Uint8Array, p: number, key: number, l: SpanLists, h: number): number {
  for (let s = l.offsets[h]!, end = l.offsets[h + 1]!; s < end; s++) {
    out[p++] = key;
    out[p++] = spanInner(l, s);
    const off = l.spanOffset[s]!;
    const len = l.spanLength[s]!;
    if (off !== 0) {
      out[p++] = 0x08;
      p = writeVarint(out, p, zigzag32(off));
    }
    if (len !== 0) {
      out[p++] = 0x10;
      p = writeVarint(out, p, len);
    }
  }
  return p;
}

function writeDeltas(out: Uint8Array, p: number, key: number, bytes: number, values: Float64Array, from: number, to: number): number {
  if (bytes === 0) return p;
  out[p++] = key;
  p = writeVarint(out, p, bytes);
  for (let k = from; k < to; k++) p = writeSint64(out, p, values[k]!);
  return p;
}

/** A packed double field of values [from, to) of the column `u` (nothing when empty). */
function writeDoubles(out: Uint8Array, p: number, key: number, u: Uint32Array, from: number, to: number): number {
  if (to === from) return p;
  out[p++] = key;
  p = writeVarint(out, p, 8 * (to - from));
  for (let k = from; k < to; k++) p = writeDouble(out, p, u, k);
  return p;
}
