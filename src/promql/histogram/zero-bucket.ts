// Widening the zero bucket: what a histogram's zero count becomes under a larger zero threshold,
// and reconciling the zero buckets of two histograms before adding them.
import type { FloatHistogram } from '../value.js';
import { compactBuckets } from './buckets.js';
import { type HistogramBucket, negativeBuckets, positiveBuckets } from './iterate.js';

/**
 * The zero count h would have with zero threshold `larger` (>= h.zeroThreshold): the buckets
 * starting below it are folded in. Where `larger` falls inside a populated bucket, the threshold
 * is moved up to that bucket's (absolute) upper bound, and the bucket is folded in too; the
 * threshold used is returned. Prometheus zeroCountForLargerThreshold.
 */
export function zeroCountForLargerThreshold(h: FloatHistogram, larger: number): { count: number; threshold: number } {
  if (larger === h.zeroThreshold) return { count: h.zeroCount, threshold: larger };
  if (larger < h.zeroThreshold) throw new RangeError(`new zero threshold ${larger} is less than the old one ${h.zeroThreshold}`);
  const pos = positiveBuckets(h);
  const neg = negativeBuckets(h);
  for (;;) {
    let count = h.zeroCount;
    for (const b of pos) {
      if (b.lower >= larger) break;
      count += b.count;
      if (b.upper > larger) {
        if (b.count !== 0) larger = b.upper;
        break;
      }
    }
    let again = false;
    for (const b of neg) {
      if (b.upper <= -larger) break;
      count += b.count;
      if (b.lower < -larger) {
        if (b.count !== 0) {
          // the positive side has to be looked at again with the new threshold
          larger = -b.lower;
          again = true;
        }
        break;
      }
    }
    if (!again) return { count, threshold: larger };
  }
}

/**
 * Empties the buckets of h inside its zero bucket (their counts must already be part of the
 * zero count), then compacts h (all its empty buckets go, as in Prometheus).
 */
function trimBucketsInZeroBucket(h: FloatHistogram): void {
  const pos = positiveBuckets(h);
  for (let k = 0; k < pos.length; k++) {
    if ((pos[k] as HistogramBucket).lower >= h.zeroThreshold) break;
    h.positiveBuckets[k] = 0;
  }
  const neg = negativeBuckets(h);
  for (let k = 0; k < neg.length; k++) {
    if ((neg[k] as HistogramBucket).upper <= -h.zeroThreshold) break;
    h.negativeBuckets[k] = 0;
  }
  const p = compactBuckets(h.positiveSpans, h.positiveBuckets, 0);
  const n = compactBuckets(h.negativeSpans, h.negativeBuckets, 0);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  h.negativeSpans = n.spans;
  h.negativeBuckets = n.buckets;
}

/**
 * Gives h (mutated) a zero bucket wide enough for both h's and other's, whose threshold is not
 * inside a populated bucket of either. Returns the zero count other would have with it (other is
 * not changed). Prometheus reconcileZeroBuckets.
 */
export function reconcileZeroBuckets(h: FloatHistogram, other: FloatHistogram): number {
  let otherCount = other.zeroCount;
  let otherThreshold = other.zeroThreshold;
  while (otherThreshold !== h.zeroThreshold) {
    if (Number.isNaN(otherThreshold) || Number.isNaN(h.zeroThreshold)) break;
    if (h.zeroThreshold > otherThreshold) {
      ({ count: otherCount, threshold: otherThreshold } = zeroCountForLargerThreshold(other, h.zeroThreshold));
    }
    if (otherThreshold > h.zeroThreshold) {
      ({ count: h.zeroCount, threshold: h.zeroThreshold } = zeroCountForLargerThreshold(h, otherThreshold));
      trimBucketsInZeroBucket(h);
    }
  }
  return otherCount;
}
