// Record types: the first byte of every WAL record (Prometheus tsdb/record numbering).

export const RecordType = {
  Series: 1,
  Samples: 2,
  Tombstones: 3,
  Exemplars: 4,
  MmapMarkers: 5,
  Metadata: 6,
  HistogramSamples: 7,
  FloatHistogramSamples: 8,
  CustomBucketsHistogramSamples: 9,
  CustomBucketsFloatHistogramSamples: 10,
  SamplesV2: 11,
  HistogramSamplesV2: 12,
  FloatHistogramSamplesV2: 13,
  MinValidTime: 14,
} as const;

export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

/** Labels as a flat list: name0, value0, name1, value1, ... (sorted by name, as Prometheus keeps them). */
export type FlatLabels = string[];

export interface RefSeries {
  ref: number;
  labels: FlatLabels;
}

/** Input form of a series for encoding: labels flat or as [name, value] pairs. */
export interface RefSeriesInput {
  ref: number;
  labels: FlatLabels | ReadonlyArray<readonly [string, string]>;
}

/**
 * Float samples as parallel columns. Keep values in a Float64Array: a plain JS array quietens
 * signalling NaNs, which would turn the stale marker (0x7ff0000000000002) into 0x7ff8000000000002.
 */
export interface SamplesColumns {
  refs: ArrayLike<number>;
  ts: ArrayLike<number>;
  vs: Float64Array | ArrayLike<number>;
}

export interface Tombstone {
  ref: number;
  mint: number;
  maxt: number;
}

export interface RefExemplar {
  ref: number;
  t: number;
  v: number;
  labels: FlatLabels;
}

export interface RefMetadata {
  ref: number;
  /** Prometheus record.MetricType: 0 unknown, 1 counter, 2 gauge, 3 histogram, 4 gaugehistogram, 5 summary, 6 info, 7 stateset. */
  metricType: number;
  unit: string;
  help: string;
}

/** What decodeRecord returns: one variant per record type, never an exception. */
export type DecodedRecord =
  | { type: 'series'; series: RefSeries[] }
  | { type: 'samples'; refs: Float64Array; ts: Float64Array; vs: Float64Array }
  | { type: 'tombstones'; tombstones: Tombstone[] }
  | { type: 'exemplars'; exemplars: RefExemplar[] }
  | { type: 'metadata'; metadata: RefMetadata[] }
  /** Native histogram records (types 7-10): counted here; decodeHistogramSamples / decodeFloatHistogramSamples decode them. */
  | { type: 'histograms'; recordType: number; count: number }
  /** A record type this version does not know (or does not decode): skip it. */
  | { type: 'unknown'; recordType: number }
  /** A record whose content does not parse; the error names the offset. */
  | { type: 'invalid'; recordType: number; error: string };
