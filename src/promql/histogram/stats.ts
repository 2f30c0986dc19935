// Statistics of one native histogram: histogram_quantile, histogram_fraction, histogram_stddev,
// histogram_stdvar, histogram_count, histogram_sum, histogram_avg (Prometheus promql/quantile.go
// HistogramQuantile / HistogramFraction and promql/functions.go).
import type { FloatHistogram } from '../value.js';
import { allBuckets, type HistogramBucket } from './iterate.js';
import { kahanSumInc } from '../../util/kahan.js';
import { usesCustomBuckets } from './types.js';

/**
 * What a quantile or fraction found about NaN observations (a NaN sum marks a histogram with
 * NaN observations: they are in the count but in no bucket). The engine turns these into
 * nativeHistogramQuantileNaNResultInfo, nativeHistogramQuantileNaNSkewInfo and
 * nativeHistogramFractionNaNsInfo.
 */
export type HistogramNaNInfo = 'none' | 'quantile_nan_result' | 'quantile_skewed' | 'fraction_nans_excluded';

export interface HistogramStatsInfo {
  nan: HistogramNaNInfo;
}

/**
 * The q-quantile (0 <= q <= 1) of the observations in h.
 *
 * Exponential buckets are interpolated exponentially (the quantile sits where the bucket
 * boundary would be in a finer schema), the zero bucket and custom buckets linearly. The zero
 * bucket has 0 as its lower bound if h has only positive buckets, as its upper bound if only
 * negative ones. With custom buckets the first bucket starts at 0 unless its upper bound is <= 0
 * (then that bound is the answer), and a quantile in the +Inf bucket is that bucket's lower bound.
 *
 * Special cases: q < 0 gives -Inf, q > 1 +Inf, NaN q or a histogram without observations NaN.
 * NaN observations count as above every bucket: a rank among them gives NaN
 * (info.nan = 'quantile_nan_result'); otherwise the result is skewed higher ('quantile_skewed').
 */
export function histogramQuantile(q: number, h: FloatHistogram, info?: HistogramStatsInfo): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (h.count === 0 || Number.isNaN(q)) return NaN;

  const hasNaNs = Number.isNaN(h.sum);
  const forward = hasNaNs || q < 0.5;
  const buckets = allBuckets(h);
  let rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let bucket: HistogramBucket = { lower: 0, upper: 0, lowerInclusive: false, upperInclusive: false, count: 0, index: 0 };
  for (let k = 0; k < buckets.length; k++) {
    const b = buckets[forward ? k : buckets.length - 1 - k] as HistogramBucket;
    bucket = b;
    if (b.count === 0) continue;
    count += b.count;
    if (count >= rank) break;
  }
  if (hasNaNs && count < rank) {
    if (info !== undefined) info.nan = 'quantile_nan_result';
    return NaN;
  }
  if (hasNaNs && info !== undefined) info.nan = 'quantile_skewed';

  let lower = bucket.lower;
  let upper = bucket.upper;
  const custom = usesCustomBuckets(h);
  if (!custom && lower < 0 && upper > 0) {
    if (h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0) lower = 0;
    else if (h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0) upper = 0;
  } else if (custom) {
    if (lower === -Infinity) {
      if (upper <= 0) return upper;
      lower = 0;
    } else if (upper === Infinity) {
      return lower;
    }
  }
  // rounding may make the buckets add up to more than the count
  if (count > h.count) count = h.count;
  // the rank was not reached (only possible through rounding here): the highest bound seen
  if (count < rank) return upper;

  if (forward) rank -= count - bucket.count;
  else rank = count - rank;
  const fraction = rank / bucket.count;

  if (custom || (lower <= 0 && upper >= 0)) return lower + (upper - lower) * fraction;
  const logLower = Math.log2(Math.abs(lower));
  const logUpper = Math.log2(Math.abs(upper));
  if (lower > 0) return 2 ** (logLower + (logUpper - logLower) * fraction);
  return -(2 ** (logUpper + (logLower - logUpper) * (1 - fraction)));
}

/**
 * The fraction of h's observations between lower and upper, interpolated as in
 * histogramQuantile (roughly its inverse). Special cases: NaN for a histogram without
 * observations or a NaN bound, 0 if lower >= upper. NaN observations are in no fraction (the
 * total is still h.count; info.nan = 'fraction_nans_excluded').
 */
export function histogramFraction(lower: number, upper: number, h: FloatHistogram, info?: HistogramStatsInfo): number {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  const hasNaNs = Number.isNaN(h.sum);
  if (hasNaNs && info !== undefined) info.nan = 'fraction_nans_excluded';

  const custom = usesCustomBuckets(h);
  const onlyPositive = h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0;
  const onlyNegative = h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (const b of allBuckets(h)) {
    let bLower = b.lower;
    let bUpper = b.upper;
    const inZeroBucket = bLower <= 0 && bUpper >= 0;
    if (inZeroBucket) {
      if (onlyPositive) bLower = 0;
      else if (onlyNegative) bUpper = 0;
    }
    const linear = custom || inZeroBucket;
    const rankAt = (v: number): number => {
      if (linear) return rank + (b.count * (v - bLower)) / (bUpper - bLower);
      const logLower = Math.log2(Math.abs(bLower));
      const logUpper = Math.log2(Math.abs(bUpper));
      const logV = Math.log2(Math.abs(v));
      const fraction = v > 0 ? (logV - logLower) / (logUpper - logLower) : 1 - (logV - logUpper) / (logLower - logUpper);
      return rank + b.count * fraction;
    };
    if (!lowerSet && bLower >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && bLower >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && bLower < lower && bUpper > lower) {
      lowerRank = rankAt(lower);
      lowerSet = true;
    }
    if (!upperSet && bLower < upper && bUpper > upper) {
      upperRank = rankAt(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += b.count;
  }
  // Not reached: everything counts. With NaN observations that is only what is in the buckets.
  const total = hasNaNs ? Math.min(rank, h.count) : h.count;
  if (!lowerSet || lowerRank > h.count) lowerRank = lowerSet ? h.count : total;
  if (!upperSet || upperRank > h.count) upperRank = upperSet ? h.count : total;
  return (upperRank - lowerRank) / h.count;
}

/**
 * The variance of h's observations, estimated from the buckets: each observation taken at its
 * bucket's geometric mean (exponential buckets, sign kept), arithmetic mean (custom buckets) or
 * 0 (zero bucket), around the mean sum/count. NaN without observations.
 */
export function histogramStdVar(h: FloatHistogram): number {
  const mean = h.sum / h.count;
  const custom = usesCustomBuckets(h);
  let variance = 0;
  let c = 0;
  for (const b of allBuckets(h)) {
    if (b.count === 0) continue;
    let val: number;
    if (custom) val = (b.upper + b.lower) / 2;
    else if (b.lower <= 0 && b.upper >= 0) val = 0;
    else {
      val = Math.sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    const delta = val - mean;
    [variance, c] = kahanSumInc(b.count * delta * delta, variance, c);
  }
  return (variance + c) / h.count;
}

/** The standard deviation of h's observations: the square root of histogramStdVar. */
export function histogramStdDev(h: FloatHistogram): number {
  return Math.sqrt(histogramStdVar(h));
}

/** histogram_count. */
export function histogramCount(h: FloatHistogram): number {
  return h.count;
}

/** histogram_sum. */
export function histogramSum(h: FloatHistogram): number {
  return h.sum;
}

/** histogram_avg: sum / count. */
export function histogramAvg(h: FloatHistogram): number {
  return h.sum / h.count;
}
