// The native-histogram operations the functions use, from the histogram module (../histogram/):
// the one place that knows its calling conventions. Results are new, compacted histograms.
import {
  CounterResetHint,
  detectCounterReset,
  HistogramIncompatibleSchemaError,
  histogramAdd,
  histogramCompactInto,
  histogramCopy,
  histogramDiv,
  HistogramKahanSum,
  histogramEquals,
  histogramFraction,
  histogramMul,
  histogramQuantile,
  histogramStdDev,
  histogramStdVar,
  histogramSub,
  makeHistogram,
  newHistogramOpNotes,
  usesCustomBuckets,
  type HistogramNaNInfo,
  type HistogramStatsInfo,
} from '../histogram/index.js';
import type { FloatHistogram } from '../value.js';

export { CounterResetHint, HistogramIncompatibleSchemaError, usesCustomBuckets };

export interface HistOpResult {
  h: FloatHistogram;
  /** custom-bucket histograms with different bounds were combined on the bounds both have */
  nhcbBoundsReconciled: boolean;
}

/** a + b, compacted. @throws HistogramIncompatibleSchemaError (exponential with custom buckets) */
export function hAdd(a: FloatHistogram, b: FloatHistogram): HistOpResult {
  const notes = newHistogramOpNotes();
  const h = histogramCompactInto(histogramAdd(a, b, notes));
  return { h, nhcbBoundsReconciled: notes.nhcbBoundsReconciled };
}

/** a - b, compacted. @throws HistogramIncompatibleSchemaError */
export function hSub(a: FloatHistogram, b: FloatHistogram): HistOpResult {
  const notes = newHistogramOpNotes();
  const h = histogramCompactInto(histogramSub(a, b, notes));
  return { h, nhcbBoundsReconciled: notes.nhcbBoundsReconciled };
}

/**
 * The compensated (Kahan) sum of the histograms, each first divided by `divisor` when given,
 * compacted. @throws HistogramIncompatibleSchemaError
 */
export function hKahanSum(hs: readonly FloatHistogram[], divisor?: number): HistOpResult {
  const notes = newHistogramOpNotes();
  const acc = new HistogramKahanSum();
  for (const h of hs) acc.add(divisor === undefined ? h : histogramDiv(h, divisor), notes);
  const h = acc.result() ?? makeHistogram();
  return { h: histogramCompactInto(h), nhcbBoundsReconciled: notes.nhcbBoundsReconciled };
}

export function hMul(h: FloatHistogram, f: number): FloatHistogram {
  return histogramMul(h, f);
}

export function hDiv(h: FloatHistogram, f: number): FloatHistogram {
  return histogramDiv(h, f);
}

export function hCopy(h: FloatHistogram): FloatHistogram {
  return histogramCopy(h);
}

/** A compacted copy. */
export function hCompact(h: FloatHistogram): FloatHistogram {
  return histogramCompactInto(histogramCopy(h));
}

/** Whether `cur` (the later sample) is a counter reset relative to `prev` (Prometheus DetectReset). */
export function hDetectReset(cur: FloatHistogram, prev: FloatHistogram): boolean {
  return detectCounterReset(prev, cur);
}

export function hEquals(a: FloatHistogram, b: FloatHistogram): boolean {
  return histogramEquals(a, b);
}

/** An empty histogram with the layout of `h` (schema, custom bounds): the "previous" value after a reset. */
export function hEmptyLike(h: FloatHistogram): FloatHistogram {
  return makeHistogram({ schema: h.schema, customValues: h.customValues });
}

/** Prometheus FloatHistogram.HasOverflow: an infinite count, sum, zero count or bucket. */
export function hHasOverflow(h: FloatHistogram): boolean {
  const inf = (x: number): boolean => x === Infinity || x === -Infinity;
  return inf(h.count) || inf(h.sum) || inf(h.zeroCount) || h.positiveBuckets.some(inf) || h.negativeBuckets.some(inf);
}

/** The observations in buckets (NaN observations count towards h.count but are in no bucket). */
export function hBucketTotal(h: FloatHistogram): number {
  let n = h.zeroCount;
  for (const c of h.positiveBuckets) n += c;
  for (const c of h.negativeBuckets) n += c;
  return n;
}

export function hQuantile(q: number, h: FloatHistogram): { value: number; nan: HistogramNaNInfo } {
  const info: HistogramStatsInfo = { nan: 'none' };
  const value = histogramQuantile(q, h, info);
  return { value, nan: info.nan };
}

export function hFraction(lower: number, upper: number, h: FloatHistogram): { value: number; nan: HistogramNaNInfo } {
  const info: HistogramStatsInfo = { nan: 'none' };
  const value = histogramFraction(lower, upper, h, info);
  return { value, nan: info.nan };
}

export function hStdDev(h: FloatHistogram): number {
  return histogramStdDev(h);
}

export function hStdVar(h: FloatHistogram): number {
  return histogramStdVar(h);
}
