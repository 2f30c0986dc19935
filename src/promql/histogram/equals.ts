// Equality of histograms: Prometheus's exact Equals, and the tolerant comparison promqltest
// uses for results.
import type { FloatHistogram } from '../value.js';
import { customBoundsMatch } from './bounds.js';
import { compactBuckets, spansMatch } from './buckets.js';
import { usesCustomBuckets } from './types.js';

const view = new DataView(new ArrayBuffer(16));

/** Whether two floats have the same bits (NaN payloads and the sign of zero count). */
export function sameFloatBits(a: number, b: number): boolean {
  if (a === b) return a !== 0 || Object.is(a, b);
  if (!Number.isNaN(a) || !Number.isNaN(b)) return false;
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  return view.getBigUint64(0) === view.getBigUint64(8);
}

function floatsSameBits(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameFloatBits(a[i] as number, b[i] as number)) return false;
  return true;
}

/**
 * Prometheus FloatHistogram.Equals: the same data, compared bit for bit (count, sum, zero count,
 * buckets), the same schema, zero threshold and custom bounds, and the same bucket layout: every
 * bucket present in one is present in the other, empty ones included. Zero-length spans do not
 * count, but spans that merely touch do. The counter reset hint is not compared.
 */
export function histogramEquals(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a.schema !== b.schema || !sameFloatBits(a.count, b.count) || !sameFloatBits(a.sum, b.sum)) return false;
  if (usesCustomBuckets(a) && !customBoundsMatch(a.customValues, b.customValues)) return false;
  if (a.zeroThreshold !== b.zeroThreshold || !sameFloatBits(a.zeroCount, b.zeroCount)) return false;
  return (
    spansMatch(a.negativeSpans, b.negativeSpans) &&
    floatsSameBits(a.negativeBuckets, b.negativeBuckets) &&
    spansMatch(a.positiveSpans, b.positiveSpans) &&
    floatsSameBits(a.positiveBuckets, b.positiveBuckets)
  );
}

/**
 * Float comparison of promqltest (util/almost.Equal): equal if identical or both NaN; near 0 an
 * absolute tolerance of epsilon * smallest normal float; else relative |a-b| / (|a|+|b|) < epsilon.
 */
export function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

export interface AlmostEqualsOptions {
  /** relative tolerance; promqltest uses 1e-6 */
  epsilon?: number;
  /** also compare the counter reset hint (promqltest: only when the expectation states one) */
  compareCounterResetHint?: boolean;
}

/**
 * How promqltest compares an expected and a returned histogram: both compacted, then schema, zero
 * threshold, custom bounds and span layout exactly, counts and sums with tolerance.
 */
export function histogramAlmostEquals(a: FloatHistogram, b: FloatHistogram, opts: AlmostEqualsOptions = {}): boolean {
  const eps = opts.epsilon ?? 1e-6;
  if (opts.compareCounterResetHint === true && a.counterResetHint !== b.counterResetHint) return false;
  if (a.schema !== b.schema || a.zeroThreshold !== b.zeroThreshold) return false;
  if (usesCustomBuckets(a) && !customBoundsMatch(a.customValues, b.customValues)) return false;
  if (!almostEqual(a.count, b.count, eps) || !almostEqual(a.sum, b.sum, eps) || !almostEqual(a.zeroCount, b.zeroCount, eps)) return false;
  const sides: Array<[FloatHistogram['positiveSpans'], number[], FloatHistogram['positiveSpans'], number[]]> = [
    [a.positiveSpans, a.positiveBuckets, b.positiveSpans, b.positiveBuckets],
    [a.negativeSpans, a.negativeBuckets, b.negativeSpans, b.negativeBuckets],
  ];
  for (const [sa, ba, sb, bb] of sides) {
    const ca = compactBuckets(sa, ba, 0);
    const cb = compactBuckets(sb, bb, 0);
    if (!spansMatch(ca.spans, cb.spans) || ca.buckets.length !== cb.buckets.length) return false;
    for (let i = 0; i < ca.buckets.length; i++) if (!almostEqual(ca.buckets[i] as number, cb.buckets[i] as number, eps)) return false;
  }
  return true;
}
