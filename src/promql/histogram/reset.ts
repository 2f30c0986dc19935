// Counter reset detection between consecutive histogram samples (Prometheus DetectReset), for
// rate, increase, resets and friends.
import type { FloatHistogram } from '../value.js';
import { customBoundsMatch, intersectCustomBounds } from './bounds.js';
import { type BucketList, decodeBuckets } from './buckets.js';
import { sideBuckets } from './iterate.js';
import { CounterResetHint, usesCustomBuckets } from './types.js';
import { zeroCountForLargerThreshold } from './zero-bucket.js';

/** Whether some bucket of prev is populated and missing or smaller in cur (same schema). */
function bucketsReset(cur: BucketList, prev: BucketList): boolean {
  let kc = 0;
  for (let kp = 0; kp < prev.idx.length; kp++) {
    const i = prev.idx[kp] as number;
    const pc = prev.cnt[kp] as number;
    while (kc < cur.idx.length && (cur.idx[kc] as number) < i) kc++;
    if (kc < cur.idx.length && cur.idx[kc] === i) {
      if ((cur.cnt[kc] as number) < pc) return true;
    } else if (pc !== 0) {
      return true;
    }
  }
  return false;
}

/** Per bucket of the bounds both have (and +Inf), the counts of h's buckets up to it. */
function rollUp(h: FloatHistogram, common: readonly number[]): number[] {
  const out = new Array<number>(common.length + 1).fill(0);
  const l = decodeBuckets(h.positiveSpans, h.positiveBuckets);
  let t = 0;
  for (let k = 0; k < l.idx.length; k++) {
    const i = l.idx[k] as number;
    let dest = common.length;
    if (i < h.customValues.length) {
      while (t < common.length && (common[t] as number) < (h.customValues[i] as number)) t++;
      dest = t;
    }
    out[dest] = (out[dest] as number) + (l.cnt[k] as number);
  }
  return out;
}

/**
 * Whether `cur` (the later sample) starts over compared to `prev`: Prometheus
 * FloatHistogram.DetectReset. The hints CounterReset and NotCounterReset of cur decide on
 * their own; otherwise (Unknown, and Gauge, which PromQL treats as a counter here) a reset is a
 * smaller count, zero count or bucket count, a populated bucket that disappeared, a finer
 * schema, a narrower zero bucket, or a change between exponential and custom buckets. Buckets
 * of prev are merged into cur's schema and zero bucket as needed; custom buckets with different
 * bounds are compared on the bounds both have.
 */
export function detectCounterReset(prev: FloatHistogram, cur: FloatHistogram): boolean {
  if (cur.counterResetHint === CounterResetHint.CounterReset) return true;
  if (cur.counterResetHint === CounterResetHint.NotCounterReset) return false;
  if (cur.count < prev.count) return true;
  if (usesCustomBuckets(cur)) {
    if (!usesCustomBuckets(prev)) return true;
    if (!customBoundsMatch(cur.customValues, prev.customValues)) {
      const common = intersectCustomBounds(cur.customValues, prev.customValues);
      const c = rollUp(cur, common);
      const p = rollUp(prev, common);
      for (let i = 0; i < c.length; i++) if ((c[i] as number) < (p[i] as number)) return true;
      return false;
    }
  } else if (usesCustomBuckets(prev)) {
    return true;
  }
  if (cur.schema > prev.schema) return true;
  if (cur.zeroThreshold < prev.zeroThreshold) return true;
  const { count: prevZero, threshold } = zeroCountForLargerThreshold(prev, cur.zeroThreshold);
  if (threshold !== cur.zeroThreshold) return true;
  if (cur.zeroCount < prevZero) return true;
  for (const positive of [true, false]) {
    const c = sideBuckets(cur, positive, cur.zeroThreshold, cur.schema);
    const p = sideBuckets(prev, positive, cur.zeroThreshold, cur.schema);
    if (bucketsReset(c, p)) return true;
  }
  return false;
}
