// Histogram arithmetic with Prometheus 3 semantics (model/histogram FloatHistogram Add, Sub, Mul,
// Div, Compact, CopyToSchema). The plain functions return a new histogram and leave their
// arguments alone; the *Into variants change their first argument (for accumulating loops).
import type { FloatHistogram } from '../value.js';
import { customBoundsMatch, intersectCustomBounds } from './bounds.js';
import { addBucketLists, type BucketList, compactBuckets, decodeBuckets, encodeBuckets, reduceBucketList, reduceResolution } from './buckets.js';
import { HistogramIncompatibleSchemaError } from './errors.js';
import { combineCounterResetHints } from './hints.js';
import { CounterResetHint, histogramCopy, isCustomBucketsSchema, isExponentialSchema, usesCustomBuckets } from './types.js';
import { reconcileZeroBuckets } from './zero-bucket.js';

/**
 * What an addition or subtraction ran into; the engine turns these into annotations
 * (histogramCounterResetCollisionWarning, mismatchedCustomBucketsHistogramsInfo). Flags are
 * only ever set, so one object can collect over many operations.
 */
export interface HistogramOpNotes {
  /** one operand was hinted CounterReset, the other NotCounterReset (the result's hint is Unknown) */
  counterResetCollision: boolean;
  /** custom-bucket histograms with different bounds were combined on the bounds both have */
  nhcbBoundsReconciled: boolean;
}

export function newHistogramOpNotes(): HistogramOpNotes {
  return { counterResetCollision: false, nhcbBoundsReconciled: false };
}

/**
 * The counts of one side mapped onto the intersected custom bounds: a bucket goes into the
 * first target bucket whose upper bound is >= its own (the +Inf bucket if none).
 */
function mapToCustomBounds(target: number[], list: BucketList, bounds: readonly number[], intersected: readonly number[], negate: boolean): void {
  let t = 0;
  for (let k = 0; k < list.idx.length; k++) {
    const i = list.idx[k] as number;
    let dest = intersected.length;
    if (i < bounds.length) {
      const bound = bounds[i] as number;
      while (t < intersected.length && (intersected[t] as number) < bound) t++;
      dest = t;
    }
    const c = list.cnt[k] as number;
    target[dest] = (target[dest] as number) + (negate ? -c : c);
  }
}

/** a ± b on custom buckets with different bounds: both mapped onto the common bounds; empty buckets dropped. */
function addMismatchedCustomBuckets(h: FloatHistogram, other: FloatHistogram, negate: boolean): void {
  const intersected = intersectCustomBounds(h.customValues, other.customValues);
  const target = new Array<number>(intersected.length + 1).fill(0);
  mapToCustomBounds(target, decodeBuckets(h.positiveSpans, h.positiveBuckets), h.customValues, intersected, false);
  mapToCustomBounds(target, decodeBuckets(other.positiveSpans, other.positiveBuckets), other.customValues, intersected, negate);
  const list: BucketList = { idx: [], cnt: [] };
  target.forEach((c, i) => {
    if (c !== 0) {
      list.idx.push(i);
      list.cnt.push(c);
    }
  });
  const out = encodeBuckets(list);
  h.positiveSpans = out.spans;
  h.positiveBuckets = out.buckets;
  h.customValues = intersected;
}

function addOrSubInto(h: FloatHistogram, other: FloatHistogram, negate: boolean, notes: HistogramOpNotes | undefined): FloatHistogram {
  if (usesCustomBuckets(h) !== usesCustomBuckets(other)) throw new HistogramIncompatibleSchemaError();
  const { hint, collision } = combineCounterResetHints(h.counterResetHint, other.counterResetHint);
  h.counterResetHint = hint;
  if (collision && notes !== undefined) notes.counterResetCollision = true;
  const custom = usesCustomBuckets(h);
  if (!custom) {
    const otherZero = reconcileZeroBuckets(h, other);
    h.zeroCount += negate ? -otherZero : otherZero;
  }
  if (negate) {
    h.count -= other.count;
    h.sum -= other.sum;
  } else {
    h.count += other.count;
    h.sum += other.sum;
  }

  if (custom) {
    if (customBoundsMatch(h.customValues, other.customValues)) {
      const pos = addBucketLists(h.schema, 0, negate, decodeBuckets(h.positiveSpans, h.positiveBuckets), decodeBuckets(other.positiveSpans, other.positiveBuckets));
      const out = encodeBuckets(pos);
      h.positiveSpans = out.spans;
      h.positiveBuckets = out.buckets;
    } else {
      addMismatchedCustomBuckets(h, other, negate);
      if (notes !== undefined) notes.nhcbBoundsReconciled = true;
    }
    return h;
  }

  let aPos = decodeBuckets(h.positiveSpans, h.positiveBuckets);
  let aNeg = decodeBuckets(h.negativeSpans, h.negativeBuckets);
  let bPos = decodeBuckets(other.positiveSpans, other.positiveBuckets);
  let bNeg = decodeBuckets(other.negativeSpans, other.negativeBuckets);
  if (other.schema < h.schema) {
    aPos = reduceBucketList(aPos, h.schema, other.schema);
    aNeg = reduceBucketList(aNeg, h.schema, other.schema);
    h.schema = other.schema;
  } else if (other.schema > h.schema) {
    bPos = reduceBucketList(bPos, other.schema, h.schema);
    bNeg = reduceBucketList(bNeg, other.schema, h.schema);
  }
  const pos = encodeBuckets(addBucketLists(h.schema, h.zeroThreshold, negate, aPos, bPos));
  const neg = encodeBuckets(addBucketLists(h.schema, h.zeroThreshold, negate, aNeg, bNeg));
  h.positiveSpans = pos.spans;
  h.positiveBuckets = pos.buckets;
  h.negativeSpans = neg.spans;
  h.negativeBuckets = neg.buckets;
  return h;
}

/**
 * a + b (Prometheus FloatHistogram.Add). The result has the lower of the two schemas and a zero
 * bucket wide enough for both; buckets are lined up, missing ones inserted (the result may hold
 * empty buckets: histogramCompact removes them). Custom-bucket histograms with different bounds
 * are added on the bounds both have (notes.nhcbBoundsReconciled). The counter reset hint is
 * combined as Prometheus does (notes.counterResetCollision).
 * @throws HistogramIncompatibleSchemaError if one has exponential and the other custom buckets.
 */
export function histogramAdd(a: FloatHistogram, b: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
  return addOrSubInto(histogramCopy(a), b, false, notes);
}

/**
 * a - b (Prometheus FloatHistogram.Sub): as histogramAdd, with b's counts subtracted. The counter
 * reset hint is combined as for addition, as Prometheus's Sub does; the PromQL `-` operator
 * then makes the result a gauge (set counterResetHint to CounterResetHint.Gauge).
 * @throws HistogramIncompatibleSchemaError if one has exponential and the other custom buckets.
 */
export function histogramSub(a: FloatHistogram, b: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
  return addOrSubInto(histogramCopy(a), b, true, notes);
}

/** histogramAdd that changes and returns `acc` (which must not be shared). */
export function histogramAddInto(acc: FloatHistogram, b: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
  return addOrSubInto(acc, b, false, notes);
}

/** histogramSub that changes and returns `acc` (which must not be shared). */
export function histogramSubInto(acc: FloatHistogram, b: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
  return addOrSubInto(acc, b, true, notes);
}

/** Scales `h` in place by `factor`: counts, zero count, every bucket and the sum; negative factors make a gauge. */
export function histogramMulInto(h: FloatHistogram, factor: number): FloatHistogram {
  h.zeroCount *= factor;
  h.count *= factor;
  h.sum *= factor;
  for (let i = 0; i < h.positiveBuckets.length; i++) h.positiveBuckets[i] = (h.positiveBuckets[i] as number) * factor;
  for (let i = 0; i < h.negativeBuckets.length; i++) h.negativeBuckets[i] = (h.negativeBuckets[i] as number) * factor;
  if (factor < 0) h.counterResetHint = CounterResetHint.Gauge;
  return h;
}

/**
 * Divides `h` in place by `divisor` (Prometheus Div). Dividing by 0 makes count, sum and zero
 * count ±Inf or NaN and removes every bucket; negative divisors make a gauge.
 */
export function histogramDivInto(h: FloatHistogram, divisor: number): FloatHistogram {
  h.zeroCount /= divisor;
  h.count /= divisor;
  h.sum /= divisor;
  if (divisor === 0) {
    h.positiveSpans = [];
    h.negativeSpans = [];
    h.positiveBuckets = [];
    h.negativeBuckets = [];
    return h;
  }
  for (let i = 0; i < h.positiveBuckets.length; i++) h.positiveBuckets[i] = (h.positiveBuckets[i] as number) / divisor;
  for (let i = 0; i < h.negativeBuckets.length; i++) h.negativeBuckets[i] = (h.negativeBuckets[i] as number) / divisor;
  if (divisor < 0) h.counterResetHint = CounterResetHint.Gauge;
  return h;
}

/** h * factor (histogram * scalar and scalar * histogram). */
export function histogramMul(h: FloatHistogram, factor: number): FloatHistogram {
  return histogramMulInto(histogramCopy(h), factor);
}

/** h / divisor (histogram / scalar). */
export function histogramDiv(h: FloatHistogram, divisor: number): FloatHistogram {
  return histogramDivInto(histogramCopy(h), divisor);
}

/** -h (unary minus): every count negated, the result a gauge. */
export function histogramNeg(h: FloatHistogram): FloatHistogram {
  return histogramMulInto(histogramCopy(h), -1);
}

/** Compacts `h` in place (see histogramCompact). */
export function histogramCompactInto(h: FloatHistogram, maxEmptyBuckets = 0): FloatHistogram {
  const p = compactBuckets(h.positiveSpans, h.positiveBuckets, maxEmptyBuckets);
  const n = compactBuckets(h.negativeSpans, h.negativeBuckets, maxEmptyBuckets);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  h.negativeSpans = n.spans;
  h.negativeBuckets = n.buckets;
  return h;
}

/**
 * h with empty buckets removed and spans merged (Prometheus Compact): runs of more than
 * maxEmptyBuckets empty buckets split spans; shorter runs between populated buckets stay.
 */
export function histogramCompact(h: FloatHistogram, maxEmptyBuckets = 0): FloatHistogram {
  return histogramCompactInto(histogramCopy(h), maxEmptyBuckets);
}

/**
 * A copy of h at the lower resolution targetSchema (Prometheus CopyToSchema): neighbouring
 * buckets are merged. Exponential schemas only; the counter reset hint is kept.
 */
export function histogramReduceResolution(h: FloatHistogram, targetSchema: number): FloatHistogram {
  if (targetSchema === h.schema) return histogramCopy(h);
  if (isCustomBucketsSchema(h.schema) || !isExponentialSchema(targetSchema) || targetSchema > h.schema) {
    throw new RangeError(`cannot reduce the resolution of a histogram from schema ${h.schema} to ${targetSchema}`);
  }
  const c = histogramCopy(h);
  const p = reduceResolution(h.positiveSpans, h.positiveBuckets, h.schema, targetSchema);
  const n = reduceResolution(h.negativeSpans, h.negativeBuckets, h.schema, targetSchema);
  c.schema = targetSchema;
  c.positiveSpans = p.spans;
  c.positiveBuckets = p.buckets;
  c.negativeSpans = n.spans;
  c.negativeBuckets = n.buckets;
  return c;
}
