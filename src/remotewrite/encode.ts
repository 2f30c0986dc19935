// Encodes the plain-object form (objects.ts) as remote write 1.0 `prometheus.WriteRequest` or
// 2.0 `io.prometheus.write.v2.Request` bytes (uncompressed), for tests and load generators.
//
// Output is canonical proto3: fields holding their default value are left out (oneof members
// and repeated string elements are always written), repeated numbers are packed unless
// `packed: false`. Doubles given as bigint are written with exactly those bits. Invalid input
// (odd label lists, non-integer timestamps, both members of a oneof) throws a RangeError or
// TypeError: this is a tool for callers that control their input, not a validation layer.
import type { ExemplarObject, HistogramObject, SampleObject, SeriesObject, WriteRequestObject } from './objects.js';
import { Writer } from './writer.js';

export interface EncodeOptions {
  /** Write repeated numeric fields packed (the proto3 default). false: one field per element. */
  packed?: boolean;
}

function pairs(labels: readonly string[], what: string): void {
  if (labels.length % 2 !== 0) throw new TypeError(`${what}: odd number of entries in a flat label list`);
}

function writeLabel(w: Writer, field: number, name: string, value: string): void {
  const l = w.begin(field);
  w.optString(1, name);
  w.optString(2, value);
  w.end(l);
}

function writeSample(w: Writer, field: number, s: SampleObject, v2: boolean): void {
  const m = w.begin(field);
  w.optDouble(1, s.value);
  w.optInt64(2, s.timestamp, 'sample timestamp');
  if (v2) w.optInt64(3, s.startTimestamp, 'sample start timestamp');
  w.end(m);
}

function writeHistogram(w: Writer, field: number, h: HistogramObject, v2: boolean, packed: boolean): void {
  const m = w.begin(field);
  if (h.countInt !== undefined && h.countFloat !== undefined) throw new TypeError('histogram: both countInt and countFloat set');
  if (h.zeroCountInt !== undefined && h.zeroCountFloat !== undefined) throw new TypeError('histogram: both zeroCountInt and zeroCountFloat set');
  if (h.countInt !== undefined) w.uint64Field(1, h.countInt, 'histogram countInt');
  else if (h.countFloat !== undefined) w.doubleField(2, h.countFloat);
  w.optDouble(3, h.sum);
  w.optSint32(4, h.schema, 'histogram schema');
  w.optDouble(5, h.zeroThreshold);
  if (h.zeroCountInt !== undefined) w.uint64Field(6, h.zeroCountInt, 'histogram zeroCountInt');
  else if (h.zeroCountFloat !== undefined) w.doubleField(7, h.zeroCountFloat);
  for (const sp of h.negativeSpans ?? []) {
    const s = w.begin(8);
    w.optSint32(1, sp.offset, 'span offset');
    w.optUint32(2, sp.length, 'span length');
    w.end(s);
  }
  w.repeatedSint64(9, h.negativeDeltas, packed, 'histogram delta');
  w.repeatedDouble(10, h.negativeCounts, packed);
  for (const sp of h.positiveSpans ?? []) {
    const s = w.begin(11);
    w.optSint32(1, sp.offset, 'span offset');
    w.optUint32(2, sp.length, 'span length');
    w.end(s);
  }
  w.repeatedSint64(12, h.positiveDeltas, packed, 'histogram delta');
  w.repeatedDouble(13, h.positiveCounts, packed);
  w.optInt32(14, h.resetHint, 'histogram resetHint');
  w.optInt64(15, h.timestamp, 'histogram timestamp');
  w.repeatedDouble(16, h.customValues, packed);
  if (v2) w.optInt64(17, h.startTimestamp, 'histogram start timestamp');
  w.end(m);
}

function writeExemplarV1(w: Writer, e: ExemplarObject): void {
  pairs(e.labels, 'exemplar labels');
  const m = w.begin(3);
  for (let i = 0; i < e.labels.length; i += 2) writeLabel(w, 1, e.labels[i]!, e.labels[i + 1]!);
  w.optDouble(2, e.value);
  w.optInt64(3, e.timestamp, 'exemplar timestamp');
  w.end(m);
}

/** Encodes a 1.0 `prometheus.WriteRequest` (series metadata and 2.0-only fields are ignored). */
export function encodeWriteRequest(req: WriteRequestObject, opts: EncodeOptions = {}): Uint8Array {
  const packed = opts.packed ?? true;
  const w = new Writer(4096);
  for (const s of req.series) {
    pairs(s.labels, 'series labels');
    const m = w.begin(1);
    for (let i = 0; i < s.labels.length; i += 2) writeLabel(w, 1, s.labels[i]!, s.labels[i + 1]!);
    for (const smp of s.samples ?? []) writeSample(w, 2, smp, false);
    for (const e of s.exemplars ?? []) writeExemplarV1(w, e);
    for (const h of s.histograms ?? []) writeHistogram(w, 4, h, false, packed);
    w.end(m);
  }
  for (const md of req.metadata ?? []) {
    const m = w.begin(3);
    w.optInt32(1, md.type, 'metadata type');
    w.optString(2, md.metricFamilyName);
    w.optString(4, md.help);
    w.optString(5, md.unit);
    w.end(m);
  }
  return w.finish();
}

class SymbolTable {
  readonly list: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);
  ref(s: string): number {
    let r = this.index.get(s);
    if (r === undefined) {
      r = this.list.length;
      this.list.push(s);
      this.index.set(s, r);
    }
    return r;
  }
  refs(labels: readonly string[]): number[] {
    return labels.map((s) => this.ref(s));
  }
}

function writeSeriesV2(w: Writer, s: SeriesObject, st: SymbolTable, packed: boolean): void {
  pairs(s.labels, 'series labels');
  const m = w.begin(5);
  w.repeatedUint32(1, st.refs(s.labels), packed);
  for (const smp of s.samples ?? []) writeSample(w, 2, smp, true);
  for (const h of s.histograms ?? []) writeHistogram(w, 3, h, true, packed);
  for (const e of s.exemplars ?? []) {
    pairs(e.labels, 'exemplar labels');
    const x = w.begin(4);
    w.repeatedUint32(1, st.refs(e.labels), packed);
    w.optDouble(2, e.value);
    w.optInt64(3, e.timestamp, 'exemplar timestamp');
    w.end(x);
  }
  if (s.metadata !== undefined) {
    const x = w.begin(5);
    w.optInt32(1, s.metadata.type, 'metadata type');
    w.optUint32(3, st.ref(s.metadata.help), 'help ref');
    w.optUint32(4, st.ref(s.metadata.unit), 'unit ref');
    w.end(x);
  }
  w.optInt64(6, s.createdTimestamp, 'created timestamp');
  w.end(m);
}

/**
 * Encodes a 2.0 `io.prometheus.write.v2.Request`: builds the symbol table (symbols[0] = "", then
 * strings in order of first use), writes it first, then the series. `req.metadata` (1.0
 * request-level metadata) is ignored; use per-series `metadata`.
 */
export function encodeWriteRequestV2(req: WriteRequestObject, opts: EncodeOptions = {}): Uint8Array {
  const packed = opts.packed ?? true;
  const st = new SymbolTable();
  const body = new Writer(4096);
  for (const s of req.series) writeSeriesV2(body, s, st, packed);
  const w = new Writer(4096);
  for (const sym of st.list) w.string(4, sym);
  const head = w.finish();
  const tail = body.finish();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}
