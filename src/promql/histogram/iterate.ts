// Buckets with their boundaries (Prometheus histogram.Bucket and the FloatHistogram bucket
// iterators), as arrays.
import type { FloatHistogram } from '../value.js';
import { getBound, getBoundExponential } from './bounds.js';
import { type BucketList, decodeBuckets, reduceBucketList } from './buckets.js';
import { isCustomBucketsSchema, isExponentialSchema } from './types.js';

export interface HistogramBucket {
  lower: number;
  upper: number;
  lowerInclusive: boolean;
  upperInclusive: boolean;
  count: number;
  /** index within the schema; meaningless for the zero bucket */
  index: number;
}

/**
 * The upper bound of bucket idx of a schema (the lower one: idx - 1), as getBound. The query API
 * passes its own, which reproduces Prometheus's table of exponential bounds (querier/api/bounds.ts).
 */
export type BucketBoundFn = (idx: number, schema: number, customValues: readonly number[]) => number;

function makeBucket(index: number, count: number, schema: number, positive: boolean, customValues: readonly number[], bound: BucketBoundFn): HistogramBucket {
  let lower: number;
  let upper: number;
  if (positive) {
    upper = bound(index, schema, customValues);
    lower = bound(index - 1, schema, customValues);
  } else {
    lower = -bound(index, schema, customValues);
    upper = -bound(index - 1, schema, customValues);
  }
  if (isCustomBucketsSchema(schema)) return { lower, upper, lowerInclusive: index === 0, upperInclusive: true, count, index };
  return { lower, upper, lowerInclusive: lower < 0, upperInclusive: upper > 0, count, index };
}

/** The zero bucket [-zeroThreshold, zeroThreshold]. */
export function zeroBucket(h: FloatHistogram): HistogramBucket {
  return { lower: -h.zeroThreshold, upper: h.zeroThreshold, lowerInclusive: true, upperInclusive: true, count: h.zeroCount, index: 0 };
}

/** Positive buckets, ascending (Prometheus PositiveBucketIterator). */
export function positiveBuckets(h: FloatHistogram, bound: BucketBoundFn = getBound): HistogramBucket[] {
  const l = decodeBuckets(h.positiveSpans, h.positiveBuckets);
  return l.idx.map((i, k) => makeBucket(i, l.cnt[k] as number, h.schema, true, h.customValues, bound));
}

/** Negative buckets, from the zero bucket downwards (Prometheus NegativeBucketIterator). */
export function negativeBuckets(h: FloatHistogram, bound: BucketBoundFn = getBound): HistogramBucket[] {
  if (isCustomBucketsSchema(h.schema)) return [];
  const l = decodeBuckets(h.negativeSpans, h.negativeBuckets);
  return l.idx.map((i, k) => makeBucket(i, l.cnt[k] as number, h.schema, false, h.customValues, bound));
}

/** Where a bucket next to the zero bucket overlaps it, its bound is moved to the threshold. */
function clampToZeroBucket(b: HistogramBucket, zt: number): HistogramBucket {
  if (b.lower > 0 && b.lower < zt) b.lower = zt;
  else if (b.upper < 0 && b.upper > -zt) b.upper = -zt;
  return b;
}

/**
 * Every bucket, ascending: negative ones, the zero bucket (only if its count is > 0), positive
 * ones (Prometheus AllBucketIterator). Empty buckets are included. The reverse order is
 * Prometheus's AllReverseBucketIterator.
 */
export function allBuckets(h: FloatHistogram, bound: BucketBoundFn = getBound): HistogramBucket[] {
  const out: HistogramBucket[] = [];
  const neg = negativeBuckets(h, bound);
  for (let k = neg.length - 1; k >= 0; k--) out.push(clampToZeroBucket(neg[k] as HistogramBucket, h.zeroThreshold));
  if (h.zeroCount > 0) out.push(zeroBucket(h));
  for (const b of positiveBuckets(h, bound)) out.push(clampToZeroBucket(b, h.zeroThreshold));
  return out;
}

/**
 * One side's buckets merged into targetSchema (<= h.schema), skipping those whose upper bound
 * (absolute) is <= absoluteStartValue (exponential schemas only; a start of 0 skips nothing).
 * Prometheus floatBucketIterator(positive, absoluteStartValue, targetSchema).
 */
export function sideBuckets(h: FloatHistogram, positive: boolean, absoluteStartValue: number, targetSchema: number): BucketList {
  if (isCustomBucketsSchema(h.schema) !== isCustomBucketsSchema(targetSchema) || (isCustomBucketsSchema(h.schema) && targetSchema !== h.schema)) {
    throw new RangeError(`cannot merge buckets of schema ${h.schema} into schema ${targetSchema}`);
  }
  if (targetSchema > h.schema) throw new RangeError(`cannot merge buckets of schema ${h.schema} into the finer schema ${targetSchema}`);
  const raw = positive ? decodeBuckets(h.positiveSpans, h.positiveBuckets) : decodeBuckets(h.negativeSpans, h.negativeBuckets);
  const l = isExponentialSchema(h.schema) ? reduceBucketList(raw, h.schema, targetSchema) : raw;
  if (absoluteStartValue === 0 || !isExponentialSchema(targetSchema)) return l;
  let k = 0;
  while (k < l.idx.length && getBoundExponential(l.idx[k] as number, targetSchema) <= absoluteStartValue) k++;
  return k === 0 ? l : { idx: l.idx.slice(k), cnt: l.cnt.slice(k) };
}

/**
 * The Prometheus HTTP API's boundary rule of a bucket: 0 (lower exclusive, upper inclusive),
 * 1 (lower inclusive, upper exclusive), 2 (both exclusive), 3 (both inclusive).
 */
export function bucketBoundaryRule(b: HistogramBucket): 0 | 1 | 2 | 3 {
  if (b.lowerInclusive) return b.upperInclusive ? 3 : 1;
  return b.upperInclusive ? 0 : 2;
}
