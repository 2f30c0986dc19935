// Quantiles over classic histogram buckets (Prometheus promql/quantile.go: BucketQuantile,
// BucketFraction, ensureMonotonicAndIgnoreSmallDeltas) and over plain values (quantile(), used
// by quantile_over_time and mad_over_time).
import { almostEqual } from '../histogram/index.js';
import { search } from '../../util/search.js';

export interface Bucket {
  upperBound: number;
  /** cumulative count */
  count: number;
}

/**
 * Relative difference between neighbouring buckets below which histogram_quantile treats it as a
 * floating point artifact and ignores it (Prometheus smallDeltaTolerance).
 */
export const SMALL_DELTA_TOLERANCE = 1e-12;

function sortBuckets(buckets: Bucket[]): void {
  buckets.sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
}

/** Merges buckets with the same upper bound (input sorted). */
function coalesce(buckets: Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  for (const b of buckets) {
    const last = out[out.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else out.push({ upperBound: b.upperBound, count: b.count });
  }
  return out;
}

export interface MonotonicityFix {
  forcedMonotonic: boolean;
  fixedPrecision: boolean;
}

/**
 * Silently absorbs numerically insignificant differences between neighbours (either direction),
 * then lifts any remaining decrease to the previous count. `prev` stays at the last accepted count.
 */
function ensureMonotonicAndIgnoreSmallDeltas(buckets: Bucket[], tolerance: number): MonotonicityFix {
  const fix: MonotonicityFix = { forcedMonotonic: false, fixedPrecision: false };
  let prev = (buckets[0] as Bucket).count;
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i] as Bucket;
    const curr = b.count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, tolerance)) {
      b.count = prev;
      fix.fixedPrecision = true;
      continue;
    }
    if (curr < prev) {
      b.count = prev;
      fix.forcedMonotonic = true;
      continue;
    }
    prev = curr;
  }
  return fix;
}

/**
 * The q-quantile of a classic histogram, interpolating linearly within a bucket (Prometheus
 * BucketQuantile). Sorts `buckets` in place. NaN for q = NaN, fewer than two buckets, a highest
 * bucket that is not +Inf, or no observations; -Inf/+Inf for q < 0 / q > 1. A quantile in the
 * +Inf bucket gives the second-highest bound; a lowest bucket with bound > 0 starts at 0.
 */
export function bucketQuantile(q: number, input: Bucket[]): { value: number; fix: MonotonicityFix } {
  const none: MonotonicityFix = { forcedMonotonic: false, fixedPrecision: false };
  if (Number.isNaN(q)) return { value: NaN, fix: none };
  if (q < 0) return { value: -Infinity, fix: none };
  if (q > 1) return { value: Infinity, fix: none };
  if (input.length === 0) return { value: NaN, fix: none };
  sortBuckets(input);
  if ((input[input.length - 1] as Bucket).upperBound !== Infinity) return { value: NaN, fix: none };
  const buckets = coalesce(input);
  const fix = ensureMonotonicAndIgnoreSmallDeltas(buckets, SMALL_DELTA_TOLERANCE);
  if (buckets.length < 2) return { value: NaN, fix };
  const observations = (buckets[buckets.length - 1] as Bucket).count;
  if (observations === 0) return { value: NaN, fix };
  let rank = q * observations;
  const b = search(buckets.length - 1, (i) => (buckets[i] as Bucket).count >= rank);
  if (b === buckets.length - 1) return { value: (buckets[buckets.length - 2] as Bucket).upperBound, fix };
  const first = buckets[0] as Bucket;
  if (b === 0 && first.upperBound <= 0) return { value: first.upperBound, fix };
  let bucketStart = 0;
  const bucketEnd = (buckets[b] as Bucket).upperBound;
  let count = (buckets[b] as Bucket).count;
  if (b > 0) {
    const prev = buckets[b - 1] as Bucket;
    bucketStart = prev.upperBound;
    count -= prev.count;
    rank -= prev.count;
  }
  return { value: bucketStart + (bucketEnd - bucketStart) * (rank / count), fix };
}

/**
 * The estimated fraction of observations between lower and upper in a classic histogram
 * (Prometheus BucketFraction), interpolating linearly; the lowest bucket starts at 0 when its
 * bound is > 0, else at -Inf (no interpolation there). Sorts `buckets` in place.
 */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): number {
  if (input.length === 0) return NaN;
  sortBuckets(input);
  if ((input[input.length - 1] as Bucket).upperBound !== Infinity) return NaN;
  const buckets = coalesce(input);
  const count = (buckets[buckets.length - 1] as Bucket).count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;

  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  let lowerBound = (buckets[0] as Bucket).upperBound <= 0 ? -Infinity : 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as Bucket;
    if (i > 0) lowerBound = (buckets[i - 1] as Bucket).upperBound;
    const upperBound = b.upperBound;
    const interpolate = (v: number): number =>
      lowerBound === -Infinity ? b.count : rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound);
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count; // cumulative counts: assignment, not accumulation
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

/**
 * The q-quantile of `values` with linear interpolation between closest ranks (Prometheus
 * quantile()): NaN for no values or q = NaN, -Inf/+Inf for q < 0 / q > 1. NaNs sort first.
 * Sorts `values` in place.
 */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return (values[lowerIndex] as number) * (1 - weight) + (values[upperIndex] as number) * weight;
}
