// Values the PromQL engine computes with and returns (Prometheus promql/value.go), and the
// storage interface it reads through. Labels are flat sorted arrays [name1, value1, ...] (as the
// ingester's StreamSeries). Times are ms since the epoch.

/** A bucket span: `length` consecutive buckets starting `offset` buckets after the previous span's end (first: after index 0). */
export interface BucketSpan {
  offset: number;
  length: number;
}

/**
 * A native histogram in float form (Prometheus model/histogram.FloatHistogram): absolute bucket
 * counts. Integer histograms from storage are converted to this form when read.
 * Operations on it live in ./histogram/ (add, sub, mul, div, compact, quantile, ...).
 */
export interface FloatHistogram {
  /** 0 UNKNOWN, 1 COUNTER_RESET, 2 NOT_COUNTER_RESET, 3 GAUGE */
  counterResetHint: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positiveSpans: BucketSpan[];
  negativeSpans: BucketSpan[];
  positiveBuckets: number[];
  negativeBuckets: number[];
  /** custom bucket boundaries (schema -53, NHCB); empty otherwise */
  customValues: number[];
}

export type Labels = readonly string[];

/** One value of an instant vector. Exactly one of f (h === null) or h is the value. */
export interface Sample {
  metric: Labels;
  t: number;
  f: number;
  h: FloatHistogram | null;
  /** Prometheus 3 delayed name removal: drop __name__ when the result is returned. */
  dropName?: boolean;
}

export type Vector = Sample[];

export interface FPoint {
  t: number;
  f: number;
}

export interface HPoint {
  t: number;
  h: FloatHistogram;
}

/** One series of a range vector (matrix); floats and histograms each sorted by time. */
export interface Series {
  metric: Labels;
  floats: FPoint[];
  histograms: HPoint[];
  dropName?: boolean;
}

export type Matrix = Series[];

export interface Scalar {
  t: number;
  v: number;
}

export interface StringValue {
  t: number;
  s: string;
}

export type QueryValue =
  | { type: 'vector'; value: Vector }
  | { type: 'matrix'; value: Matrix }
  | { type: 'scalar'; value: Scalar }
  | { type: 'string'; value: StringValue };

/** Warnings and infos (Prometheus annotations), returned with a query's result. */
export interface Annotations {
  warnings: string[];
  infos: string[];
}

// ---- storage ------------------------------------------------------------------------------

export interface StorageMatcher {
  type: '=' | '!=' | '=~' | '!~';
  name: string;
  value: string;
}

/** A series as storage returns it: raw samples, value bits kept (stale markers are NaN with a payload). */
export interface StorageSeries {
  labels: Labels;
  /** timestamps and values, equal lengths, sorted by time */
  t: Float64Array;
  v: Float64Array;
  /** native histogram samples, sorted by time (already in float form) */
  histograms: HPoint[];
}

/**
 * What the engine reads: the ingesters through the querier, an in-memory test storage for
 * promqltest, later blocks. Every call gets the range [mint, maxt] (inclusive, ms) it needs.
 */
export interface Queryable {
  select(matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<StorageSeries[]>;
  labelNames(matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<string[]>;
  labelValues(name: string, matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<string[]>;
}
