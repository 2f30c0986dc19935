// The columnar form of a decoded remote-write request (1.0 or 2.0), and lazy accessors.
//
// Nothing per sample is an object: samples, histograms and exemplars are rows of typed arrays,
// and label names/values are byte ranges into the request body (`bytes`), turned into strings
// only when asked (`labelsOf`). Layout and rules: docs/formats/remote-write.md.
import { LITTLE_ENDIAN } from './columns.js';

/** Bits of the Prometheus stale marker, a NaN that must never be replaced by another NaN. */
export const STALE_NAN_BITS = 0x7ff0000000000002n;
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** Which member of a protobuf oneof (`count`, `zero_count`) was present. */
export const ONEOF_NONE = 0;
export const ONEOF_INT = 1;
export const ONEOF_FLOAT = 2;

/** Per-item lists of numbers: item h owns values[offsets[h] .. offsets[h+1]). */
export interface NumberLists {
  readonly offsets: Uint32Array;
  readonly values: Float64Array;
}

/** Per-histogram bucket spans: histogram h owns spans [offsets[h] .. offsets[h+1]). */
export interface SpanLists {
  readonly offsets: Uint32Array;
  readonly spanOffset: Int32Array;
  readonly spanLength: Uint32Array;
}

/** Native histograms, one row per histogram sample (in series order). */
export interface HistogramColumns {
  readonly count: number;
  /** ONEOF_NONE | ONEOF_INT | ONEOF_FLOAT: which `count` member was present. FLOAT = float histogram. */
  readonly countKind: Uint8Array;
  /** count_int (as a number) or the raw bits of count_float */
  readonly countValue: Float64Array;
  /** raw bits preserved (a stale histogram carries the stale marker here) */
  readonly sum: Float64Array;
  readonly schema: Int32Array;
  readonly zeroThreshold: Float64Array;
  readonly zeroCountKind: Uint8Array;
  readonly zeroCount: Float64Array;
  /** 0 UNKNOWN, 1 YES, 2 NO, 3 GAUGE (other values kept as sent) */
  readonly resetHint: Int32Array;
  readonly timestamps: Float64Array;
  /** 2.0 only (field 17; 0 = not set); all zero for 1.0 */
  readonly startTimestamps: Float64Array;
  readonly negativeSpans: SpanLists;
  /** integer histograms: bucket deltas (sint64 as numbers) */
  readonly negativeDeltas: NumberLists;
  /** float histograms: absolute bucket counts (raw bits) */
  readonly negativeCounts: NumberLists;
  readonly positiveSpans: SpanLists;
  readonly positiveDeltas: NumberLists;
  readonly positiveCounts: NumberLists;
  readonly customValues: NumberLists;
}

/** Exemplars, one row per exemplar (in series order). */
export interface ExemplarColumns {
  readonly count: number;
  /** exemplar e's labels are labelRanges quads [labelOffsets[e] .. labelOffsets[e+1]) */
  readonly labelOffsets: Uint32Array;
  /** 4 per label: name start, name end, value start, value end (byte offsets into `bytes`) */
  readonly labelRanges: Uint32Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

/**
 * Metric metadata. 1.0: request-level entries (MetricMetadata, series = -1). 2.0: one entry per
 * series that carried a Metadata message (series = its index, metricFamilyName empty).
 */
export interface MetadataColumns {
  readonly count: number;
  readonly series: Int32Array;
  /** MetricType: 0 UNKNOWN/UNSPECIFIED, 1 COUNTER, 2 GAUGE, 3 HISTOGRAM, 4 GAUGEHISTOGRAM, 5 SUMMARY, 6 INFO, 7 STATESET */
  readonly type: Int32Array;
  /** 6 per entry: family name start/end, help start/end, unit start/end (byte offsets into `bytes`) */
  readonly strings: Uint32Array;
}

export interface DecodedWriteRequest {
  /** 1 = prometheus.WriteRequest, 2 = io.prometheus.write.v2.Request */
  readonly version: 1 | 2;
  /** The request body; every byte range below points into it. Do not modify it while in use. */
  readonly bytes: Buffer;
  readonly seriesCount: number;
  /** series i's labels are quads [labelOffsets[i] .. labelOffsets[i+1]) of labelRanges; length seriesCount+1 */
  readonly labelOffsets: Uint32Array;
  /** 4 per label: name start, name end, value start, value end (byte offsets into `bytes`), in wire order */
  readonly labelRanges: Uint32Array;
  /** series i's samples are [sampleOffsets[i] .. sampleOffsets[i+1]); length seriesCount+1 */
  readonly sampleOffsets: Uint32Array;
  /** ms since the epoch, exact (int64 outside the safe-integer range is a decode error) */
  readonly timestamps: Float64Array;
  /** raw bits of each sample value (read NaN payloads with valueBits / isStaleNaN) */
  readonly values: Float64Array;
  /** 2.0: per-sample start timestamp (0 = not set); null for 1.0 */
  readonly startTimestamps: Float64Array | null;
  /** series i's histograms are rows [histogramOffsets[i] .. histogramOffsets[i+1]) of `histograms` */
  readonly histogramOffsets: Uint32Array;
  readonly histograms: HistogramColumns;
  /** series i's exemplars are rows [exemplarOffsets[i] .. exemplarOffsets[i+1]) of `exemplars` */
  readonly exemplarOffsets: Uint32Array;
  readonly exemplars: ExemplarColumns;
  readonly metadata: MetadataColumns;
  /** 2.0: row of `metadata` for each series, -1 if none; null for 1.0 */
  readonly seriesMetadata: Int32Array | null;
  /** 2.0: legacy TimeSeries field 6 (created timestamp, ms; 0 = not set); null for 1.0 */
  readonly createdTimestamps: Float64Array | null;
  /** 2.0: number of entries in the symbol table; 0 for 1.0 */
  readonly symbolCount: number;
  /**
   * 1.0: 2 per series, [seriesSpans[2i], seriesSpans[2i+1]) = the bytes of series i's whole
   * TimeSeries field in `bytes` (its key, length prefix and payload), so that it can be forwarded
   * unchanged (SubsetEncoder). null for 2.0 (labels are symbol refs: never copyable into 1.0).
   * Code that rewrites a series' labels other than by removing or reordering them, or changes
   * its rows in place, must set the span empty (end = start), which forces a re-encode.
   */
  readonly seriesSpans: Uint32Array | null;
  /**
   * 1.0: the number of labels series i had on the wire (labelOffsets[i+1] - labelOffsets[i] as
   * decoded). Validation may remove labels (empty values) from labelOffsets/labelRanges; this
   * column keeps the original count, so a consumer can tell that labels were dropped. null for 2.0.
   */
  readonly wireLabelCounts: Uint32Array | null;
}

/** Bytes [start, end) of the request as a string (UTF-8; invalid sequences become U+FFFD). */
export function stringAt(req: DecodedWriteRequest, start: number, end: number): string {
  return start === end ? '' : req.bytes.toString('utf8', start, end);
}

function flatLabels(req: DecodedWriteRequest, ranges: Uint32Array, from: number, to: number): string[] {
  const out = new Array<string>((to - from) * 2);
  for (let l = from, k = 0; l < to; l++) {
    const q = l * 4;
    out[k++] = stringAt(req, ranges[q]!, ranges[q + 1]!);
    out[k++] = stringAt(req, ranges[q + 2]!, ranges[q + 3]!);
  }
  return out;
}

/** The labels of series i as a flat [name1, value1, name2, value2, ...], in wire order. */
export function labelsOf(req: DecodedWriteRequest, i: number): string[] {
  return flatLabels(req, req.labelRanges, req.labelOffsets[i]!, req.labelOffsets[i + 1]!);
}

/** The labels of exemplar row e as a flat [name1, value1, ...]. */
export function exemplarLabelsOf(req: DecodedWriteRequest, e: number): string[] {
  const ex = req.exemplars;
  return flatLabels(req, ex.labelRanges, ex.labelOffsets[e]!, ex.labelOffsets[e + 1]!);
}

export interface MetadataEntry {
  /** -1 for 1.0 request-level metadata */
  series: number;
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}

export function metadataOf(req: DecodedWriteRequest, m: number): MetadataEntry {
  const s = req.metadata.strings;
  const q = m * 6;
  return {
    series: req.metadata.series[m]!,
    type: req.metadata.type[m]!,
    metricFamilyName: stringAt(req, s[q]!, s[q + 1]!),
    help: stringAt(req, s[q + 2]!, s[q + 3]!),
    unit: stringAt(req, s[q + 4]!, s[q + 5]!),
  };
}

function u32View(a: Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** The exact IEEE-754 bits of a[i] (for NaN payloads: stale markers, Prometheus' normal NaN). */
export function valueBits(a: Float64Array, i: number): bigint {
  const u = u32View(a);
  return (BigInt(u[2 * i + HI]!) << 32n) | BigInt(u[2 * i + LO]!);
}

/** True if a[i] holds exactly the stale marker 0x7ff0000000000002. */
export function isStaleNaN(a: Float64Array, i: number): boolean {
  const u = u32View(a);
  return u[2 * i + HI] === STALE_HI && u[2 * i + LO] === STALE_LO;
}

function compareRange(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const d = b[as + k]! - b[bs + k]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/**
 * Sorts every series' labels by name (byte order, which is Go's string order), in place. 2.0
 * senders "should" sort but the compliance suite does not, and Prometheus sorts on receipt.
 * Already sorted series (the usual case) cost one pass of comparisons.
 */
export function sortSeriesLabels(req: DecodedWriteRequest): void {
  const r = req.labelRanges;
  const b = req.bytes;
  for (let i = 0; i < req.seriesCount; i++) {
    const from = req.labelOffsets[i]!;
    const to = req.labelOffsets[i + 1]!;
    let sorted = true;
    for (let l = from + 1; l < to && sorted; l++) {
      if (compareRange(b, r[(l - 1) * 4]!, r[(l - 1) * 4 + 1]!, r[l * 4]!, r[l * 4 + 1]!) > 0) sorted = false;
    }
    if (sorted) continue;
    const quads: Array<[number, number, number, number]> = [];
    for (let l = from; l < to; l++) quads.push([r[l * 4]!, r[l * 4 + 1]!, r[l * 4 + 2]!, r[l * 4 + 3]!]);
    quads.sort((x, y) => compareRange(b, x[0], x[1], y[0], y[1]));
    for (let k = 0; k < quads.length; k++) r.set(quads[k]!, (from + k) * 4);
  }
}
