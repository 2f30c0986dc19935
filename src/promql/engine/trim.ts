// The native-histogram trim operators `h </ x` (keep the observations below x) and `h >/ x`
// (keep those above x), with the semantics of promqltest/native_histograms.test:
//
// - A bucket entirely on the kept side stays, one entirely on the other side goes; a bucket the
//   cutoff falls into is split: exponential buckets by exponential interpolation, custom buckets
//   and the zero bucket linearly.
// - The zero bucket counts as [0, zt] when the histogram has only positive buckets, [-zt, 0] when
//   it has only negative ones, [-zt, zt] otherwise. A custom bucket (-Inf, u] with u > 0 counts as
//   [0, u].
// - Infinite custom buckets cut inside: (l, +Inf] is dropped by `</` and kept whole (valued at
//   x) by `>/` (dropped by `>/ +Inf`); (-Inf, u] with u <= 0 is kept whole (valued at x) by `</ x` and dropped by `>/`.
// - When nothing is removed the histogram is unchanged; otherwise the sum is recomputed from the
//   kept counts at each (kept part of a) bucket's midpoint: geometric for exponential buckets,
//   arithmetic for the others.
import { histogramCompactInto, histogramCopy, negativeBuckets, positiveBuckets } from '../histogram/index.js';
import type { HistogramBucket } from '../histogram/index.js';
import type { FloatHistogram } from '../value.js';

interface Kept {
  count: number;
  /** the value the kept observations are assumed to have */
  value: number;
}

const DROP: Kept = { count: 0, value: 0 };

/** Geometric midpoint of [a, b] (same sign). */
function geo(a: number, b: number): number {
  const m = Math.sqrt(Math.abs(a) * Math.abs(b));
  return a < 0 || b < 0 ? -m : m;
}

/** A finite bucket [lo, hi] with `count`, cut at rhs: what stays. */
function finite(lo: number, hi: number, count: number, rhs: number, upper: boolean, exponential: boolean): Kept {
  const mid = exponential ? geo : (a: number, b: number) => (a + b) / 2;
  if (upper ? hi <= rhs : lo >= rhs) return { count, value: mid(lo, hi) };
  if (upper ? lo >= rhs : hi <= rhs) return DROP;
  let below: number; // fraction of the bucket below rhs
  if (!exponential) below = (rhs - lo) / (hi - lo);
  else if (lo > 0) below = (Math.log2(rhs) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo));
  else below = 1 - (Math.log2(-rhs) - Math.log2(-hi)) / (Math.log2(-lo) - Math.log2(-hi));
  return upper ? { count: count * below, value: mid(lo, rhs) } : { count: count * (1 - below), value: mid(rhs, hi) };
}

function customBucket(b: HistogramBucket, rhs: number, upper: boolean): Kept {
  const { lower, upper: hi, count } = b;
  if (lower === -Infinity && hi === Infinity) return (upper ? rhs === Infinity : rhs === -Infinity) ? { count, value: 0 } : DROP;
  if (hi === Infinity) {
    if (upper) return rhs === Infinity ? { count, value: lower } : DROP;
    if (rhs === Infinity) return DROP;
    return { count, value: rhs <= lower ? lower : rhs };
  }
  if (lower === -Infinity) {
    if (hi > 0) {
      if (upper ? hi <= rhs : rhs === -Infinity) return { count, value: hi / 2 };
      if (rhs < 0) return DROP;
      return finite(0, hi, count, rhs, upper, false);
    }
    if (upper) return { count, value: hi <= rhs ? hi : rhs };
    return rhs === -Infinity ? { count, value: hi } : DROP;
  }
  return finite(lower, hi, count, rhs, upper, false);
}

/** h </ rhs (upper) or h >/ rhs: a new, compacted histogram. */
export function trimHistogram(h: FloatHistogram, rhs: number, upper: boolean): FloatHistogram {
  const out = histogramCopy(h);
  const custom = h.schema === -53;
  let removed = 0;
  let count = 0;
  let sum = 0;
  const keep = (orig: number, k: Kept): number => {
    removed += orig - k.count;
    count += k.count;
    if (k.count !== 0) sum += k.count * k.value;
    return k.count;
  };
  const pos = positiveBuckets(h);
  const neg = negativeBuckets(h);
  pos.forEach((b, i) => {
    if (b.count === 0) return;
    out.positiveBuckets[i] = keep(b.count, custom ? customBucket(b, rhs, upper) : finite(b.lower, b.upper, b.count, rhs, upper, true));
  });
  neg.forEach((b, i) => {
    if (b.count === 0) return;
    out.negativeBuckets[i] = keep(b.count, finite(b.lower, b.upper, b.count, rhs, upper, true));
  });
  if (h.zeroCount > 0) {
    const hasPos = pos.some((b) => b.count > 0);
    const hasNeg = neg.some((b) => b.count > 0);
    const zt = h.zeroThreshold;
    const lo = hasPos && !hasNeg ? 0 : -zt;
    const hi = hasNeg && !hasPos ? 0 : zt;
    out.zeroCount = keep(h.zeroCount, finite(lo, hi, h.zeroCount, rhs, upper, false));
  }
  if (removed === 0) return h;
  out.count = count;
  out.sum = count === 0 ? 0 : sum;
  return histogramCompactInto(out, 0);
}
