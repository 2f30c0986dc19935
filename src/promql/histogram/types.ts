// Constants and small helpers for native histograms in float form (../value.ts FloatHistogram):
// schemas, counter reset hints, construction and deep copies.
import type { BucketSpan, FloatHistogram } from '../value.js';

/** Counter reset hints (Prometheus histogram.CounterResetHint; remote write ResetHint). */
export const CounterResetHint = {
  /** may or may not be a counter reset */
  Unknown: 0,
  /** a counter reset happened right before this histogram */
  CounterReset: 1,
  /** no counter reset happened */
  NotCounterReset: 2,
  /** a gauge histogram: counter resets do not apply */
  Gauge: 3,
} as const;
export type CounterResetHintValue = (typeof CounterResetHint)[keyof typeof CounterResetHint];

/** Schema of native histograms with custom bucket bounds (NHCB). */
export const CUSTOM_BUCKETS_SCHEMA = -53;
export const EXPONENTIAL_SCHEMA_MIN = -4;
export const EXPONENTIAL_SCHEMA_MAX = 8;

export function isCustomBucketsSchema(schema: number): boolean {
  return schema === CUSTOM_BUCKETS_SCHEMA;
}

export function isExponentialSchema(schema: number): boolean {
  return Number.isInteger(schema) && schema >= EXPONENTIAL_SCHEMA_MIN && schema <= EXPONENTIAL_SCHEMA_MAX;
}

export function isValidSchema(schema: number): boolean {
  return isExponentialSchema(schema) || isCustomBucketsSchema(schema);
}

export function usesCustomBuckets(h: FloatHistogram): boolean {
  return h.schema === CUSTOM_BUCKETS_SCHEMA;
}

/**
 * A histogram with every field set: the given ones, the rest 0 or empty (the same defaults as
 * the promqltest `{{...}}` notation). Arrays given are copied.
 */
export function makeHistogram(fields: Partial<FloatHistogram> = {}): FloatHistogram {
  return {
    counterResetHint: fields.counterResetHint ?? CounterResetHint.Unknown,
    schema: fields.schema ?? 0,
    zeroThreshold: fields.zeroThreshold ?? 0,
    zeroCount: fields.zeroCount ?? 0,
    count: fields.count ?? 0,
    sum: fields.sum ?? 0,
    positiveSpans: copySpans(fields.positiveSpans ?? []),
    negativeSpans: copySpans(fields.negativeSpans ?? []),
    positiveBuckets: [...(fields.positiveBuckets ?? [])],
    negativeBuckets: [...(fields.negativeBuckets ?? [])],
    customValues: [...(fields.customValues ?? [])],
  };
}

/** A deep copy (custom values included: callers may mutate the copy freely). */
export function histogramCopy(h: FloatHistogram): FloatHistogram {
  return {
    counterResetHint: h.counterResetHint,
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.sum,
    positiveSpans: copySpans(h.positiveSpans),
    negativeSpans: copySpans(h.negativeSpans),
    positiveBuckets: h.positiveBuckets.slice(),
    negativeBuckets: h.negativeBuckets.slice(),
    customValues: h.customValues.slice(),
  };
}

export function copySpans(spans: readonly BucketSpan[]): BucketSpan[] {
  return spans.map((s) => ({ offset: s.offset, length: s.length }));
}

/** The fields of the promqltest / promtool histogram notation `{{schema:0 sum:5 count:4 buckets:[1 2 1] ...}}`. */
export interface HistogramNotation {
  schema?: number;
  sum?: number;
  count?: number;
  /** z_bucket */
  zeroCount?: number;
  /** z_bucket_w */
  zeroThreshold?: number;
  /** buckets: absolute counts of consecutive positive buckets */
  buckets?: readonly number[];
  /** offset: index of the first positive bucket */
  offset?: number;
  /** n_buckets */
  negativeBuckets?: readonly number[];
  /** n_offset */
  negativeOffset?: number;
  /** custom_values (schema -53), ascending, +Inf implied */
  customValues?: readonly number[];
  /** counter_reset_hint: a name (unknown, reset, not_reset, gauge) or the number */
  counterResetHint?: 'unknown' | 'reset' | 'not_reset' | 'gauge' | number;
}

const HINT_NAMES: Record<string, CounterResetHintValue> = {
  unknown: CounterResetHint.Unknown,
  reset: CounterResetHint.CounterReset,
  not_reset: CounterResetHint.NotCounterReset,
  gauge: CounterResetHint.Gauge,
};

/** The counter reset hint named as in the notation (`unknown`, `reset`, `not_reset`, `gauge`), or undefined. */
export function counterResetHintFromName(name: string): CounterResetHintValue | undefined {
  return HINT_NAMES[name];
}

export function counterResetHintName(hint: number): 'unknown' | 'reset' | 'not_reset' | 'gauge' {
  switch (hint) {
    case CounterResetHint.CounterReset:
      return 'reset';
    case CounterResetHint.NotCounterReset:
      return 'not_reset';
    case CounterResetHint.Gauge:
      return 'gauge';
    default:
      return 'unknown';
  }
}

/**
 * A histogram from the notation's fields, as promqltest builds it: each side is one span
 * (offset, number of buckets) holding the counts as given, empty buckets included.
 */
export function histogramFromNotation(n: HistogramNotation): FloatHistogram {
  const pos = n.buckets ?? [];
  const neg = n.negativeBuckets ?? [];
  let hint: number = CounterResetHint.Unknown;
  if (typeof n.counterResetHint === 'number') hint = n.counterResetHint;
  else if (n.counterResetHint !== undefined) hint = HINT_NAMES[n.counterResetHint] ?? CounterResetHint.Unknown;
  return {
    counterResetHint: hint,
    schema: n.schema ?? 0,
    zeroThreshold: n.zeroThreshold ?? 0,
    zeroCount: n.zeroCount ?? 0,
    count: n.count ?? 0,
    sum: n.sum ?? 0,
    positiveSpans: pos.length > 0 ? [{ offset: n.offset ?? 0, length: pos.length }] : [],
    negativeSpans: neg.length > 0 ? [{ offset: n.negativeOffset ?? 0, length: neg.length }] : [],
    positiveBuckets: [...pos],
    negativeBuckets: [...neg],
    customValues: [...(n.customValues ?? [])],
  };
}
