// <aggregation>_over_time: avg, sum (floats or histograms), min, max, count, quantile, stddev,
// stdvar, mad, last, first, present, ts_of_{min,max,first,last}. Outputs drop the metric name
// except last_over_time and first_over_time, which keep the series' own setting.
import type { FloatHistogram, FPoint, Sample, Series, Vector } from '../value.js';
import { ANNO } from './annotations.js';
import { CounterResetHint, hCopy, hDiv, hHasOverflow, hKahanSum, HistogramIncompatibleSchemaError } from './hist.js';
import { quantile } from './quantile.js';
import type { FnArg, FnContext, FunctionImpl } from './types.js';
import { kahanSumInc } from '../../util/kahan.js';
import { argPos, floatSample, hasPoints, matrixArg, metricName, scalarArg } from './util.js';

/** Calls `fn` for every series with points in the window; collects its non-null results. */
function overSeries(args: readonly FnArg[], ctx: FnContext, matrixIndex: number, fn: (s: Series) => Sample | null): Vector {
  const w = matrixArg(args, matrixIndex, ctx);
  const out: Vector = [];
  for (const s of w.m) {
    if (!hasPoints(s)) continue;
    const r = fn(s);
    if (r !== null) out.push(r);
  }
  return out;
}

/**
 * Functions that only look at float samples: none for a series with only histograms, and an info
 * annotation when histograms were ignored next to floats.
 */
function floatsOnly(f: (floats: FPoint[], args: readonly FnArg[]) => number, matrixIndex = 0, annoArg = 0): FunctionImpl {
  return (args, ctx) =>
    overSeries(args, ctx, matrixIndex, (s) => {
      if (s.floats.length === 0) return null;
      if (s.histograms.length > 0) ctx.annotate('info', ANNO.histogramIgnoredInMixedRange(metricName(s.metric)), argPos(ctx, annoArg));
      return floatSample(s.metric, ctx.t, f(s.floats, args), true);
    });
}

/** Tracks the counter reset hints of aggregated histograms (Prometheus warns on CounterReset + NotCounterReset). */
class HintTracker {
  reset = false;
  notReset = false;
  reconciled = false;
  see(h: FloatHistogram): void {
    if (h.counterResetHint === CounterResetHint.CounterReset) this.reset = true;
    else if (h.counterResetHint === CounterResetHint.NotCounterReset) this.notReset = true;
  }
  report(ctx: FnContext): void {
    const pos = argPos(ctx, 0);
    if (this.reset && this.notReset) ctx.annotate('warning', ANNO.counterResetCollision('aggregation'), pos);
    if (this.reconciled) ctx.annotate('info', ANNO.mismatchedCustomBuckets('aggregation'), pos);
  }
}

/**
 * sum_over_time/avg_over_time of histograms: a compensated sum; for the average the sum divided
 * by the count, or (when the sum overflows) the sum of each histogram divided by the count
 * (Prometheus switches to an incremental mean there: the same value, rounded differently).
 */
function histogramAggregate(s: Series, ctx: FnContext, avg: boolean): Sample | null {
  const tracker = new HintTracker();
  const hs = s.histograms.map((p) => p.h);
  for (const h of hs) tracker.see(h);
  let result: FloatHistogram;
  try {
    let r = hKahanSum(hs);
    if (avg) r = hHasOverflow(r.h) ? hKahanSum(hs, hs.length) : { h: hDiv(r.h, hs.length), nhcbBoundsReconciled: r.nhcbBoundsReconciled };
    tracker.reconciled = r.nhcbBoundsReconciled;
    result = r.h;
  } catch (e) {
    if (e instanceof HistogramIncompatibleSchemaError) {
      ctx.annotate('warning', ANNO.mixedExponentialCustomHistograms(metricName(s.metric)), argPos(ctx, 0));
      return null;
    }
    throw e;
  }
  tracker.report(ctx);
  return { metric: s.metric, t: ctx.t, f: 0, h: result, dropName: true };
}

/** Prometheus avg_over_time for floats: Kahan-compensated direct mean, incremental mean after an overflow. */
function floatAvg(fl: FPoint[]): number {
  let sum = fl[0]!.f;
  let count = 1;
  let mean = 0;
  let c = 0;
  let incremental = false;
  for (let i = 1; i < fl.length; i++) {
    const f = fl[i]!.f;
    count = i + 1;
    if (!incremental) {
      const [newSum, newC] = kahanSumInc(f, sum, c);
      if (newSum !== Infinity && newSum !== -Infinity) {
        sum = newSum;
        c = newC;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [mean, c] = kahanSumInc(f / count, q * mean, q * c);
  }
  return incremental ? mean + c : sum / count + c / count;
}

function floatSum(fl: FPoint[]): number {
  let sum = 0;
  let c = 0;
  for (const p of fl) [sum, c] = kahanSumInc(p.f, sum, c);
  return sum === Infinity || sum === -Infinity ? sum : sum + c;
}

function sumOrAvg(avg: boolean): FunctionImpl {
  return (args, ctx) =>
    overSeries(args, ctx, 0, (s) => {
      if (s.floats.length > 0 && s.histograms.length > 0) {
        ctx.annotate('warning', ANNO.mixedFloatsHistograms(metricName(s.metric)), argPos(ctx, 0));
        return null;
      }
      if (s.floats.length === 0) return histogramAggregate(s, ctx, avg);
      return floatSample(s.metric, ctx.t, avg ? floatAvg(s.floats) : floatSum(s.floats), true);
    });
}

/** Welford's variance with Kahan-compensated mean and sum of squares (Prometheus varianceOverTime). */
function variance(fl: FPoint[]): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (const p of fl) {
    count++;
    const delta = p.f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (p.f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/** The value (or, tsOf, the timestamp in seconds) of the last float sample for which better(cur, best) holds. */
function compare(better: (cur: number, best: number) => boolean, tsOf: boolean): (fl: FPoint[]) => number {
  return (fl) => {
    let best = fl[0]!.f;
    let bestT = fl[0]!.t;
    for (const p of fl) {
      if (better(p.f, best)) {
        best = p.f;
        bestT = p.t;
      }
    }
    return tsOf ? bestT / 1000 : best;
  };
}

const quantileOverTime: FunctionImpl = (args, ctx) => {
  const q = scalarArg(args, 0);
  return overSeries(args, ctx, 1, (s) => {
    if (s.floats.length === 0) return null;
    // Prometheus reports both at the position of the first argument.
    if (Number.isNaN(q) || q < 0 || q > 1) ctx.annotate('warning', ANNO.invalidQuantile(q), argPos(ctx, 0));
    if (s.histograms.length > 0) ctx.annotate('info', ANNO.histogramIgnoredInMixedRange(metricName(s.metric)), argPos(ctx, 0));
    return floatSample(s.metric, ctx.t, quantile(q, floatValues(s.floats)), true);
  });
};

function floatValues(fl: readonly FPoint[]): number[] {
  return fl.map((p) => p.f);
}

/** Median absolute deviation from the median. */
function mad(fl: FPoint[]): number {
  const median = quantile(0.5, floatValues(fl));
  return quantile(0.5, floatValues(fl).map((v) => Math.abs(v - median)));
}

/** last_over_time (last = true) and first_over_time: the sample itself, float or histogram, name kept. */
function pick(last: boolean): FunctionImpl {
  return (args, ctx) =>
    overSeries(args, ctx, 0, (s) => {
      const f = last ? s.floats[s.floats.length - 1] : s.floats[0];
      const h = last ? s.histograms[s.histograms.length - 1] : s.histograms[0];
      const dropName = s.dropName === true;
      if (h === undefined || (f !== undefined && (last ? h.t < f.t : f.t < h.t))) {
        return floatSample(s.metric, ctx.t, (f as FPoint).f, dropName);
      }
      const out: Sample = { metric: s.metric, t: ctx.t, f: 0, h: hCopy(h.h) };
      if (dropName) out.dropName = true;
      return out;
    });
}

function tsOfEnd(last: boolean): FunctionImpl {
  return (args, ctx) =>
    overSeries(args, ctx, 0, (s) => {
      const tf = last ? s.floats[s.floats.length - 1]?.t : s.floats[0]?.t;
      const th = last ? s.histograms[s.histograms.length - 1]?.t : s.histograms[0]?.t;
      const ts = [tf, th].filter((x): x is number => x !== undefined);
      return floatSample(s.metric, ctx.t, (last ? Math.max(...ts) : Math.min(...ts)) / 1000, true);
    });
}

const count: FunctionImpl = (args, ctx) =>
  overSeries(args, ctx, 0, (s) => floatSample(s.metric, ctx.t, s.floats.length + s.histograms.length, true));

const present: FunctionImpl = (args, ctx) => overSeries(args, ctx, 0, (s) => floatSample(s.metric, ctx.t, 1, true));

const gt = (cur: number, best: number): boolean => cur > best || Number.isNaN(best);
const lt = (cur: number, best: number): boolean => cur < best || Number.isNaN(best);
const ge = (cur: number, best: number): boolean => cur >= best || Number.isNaN(best);
const le = (cur: number, best: number): boolean => cur <= best || Number.isNaN(best);

export const OVER_TIME_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['avg_over_time', sumOrAvg(true)],
  ['sum_over_time', sumOrAvg(false)],
  ['count_over_time', count],
  ['present_over_time', present],
  ['min_over_time', floatsOnly(compare(lt, false))],
  ['max_over_time', floatsOnly(compare(gt, false))],
  ['ts_of_min_over_time', floatsOnly(compare(le, true))],
  ['ts_of_max_over_time', floatsOnly(compare(ge, true))],
  ['stddev_over_time', floatsOnly((fl) => Math.sqrt(variance(fl)))],
  ['stdvar_over_time', floatsOnly(variance)],
  ['mad_over_time', floatsOnly(mad)],
  ['quantile_over_time', quantileOverTime],
  ['last_over_time', pick(true)],
  ['first_over_time', pick(false)],
  ['ts_of_last_over_time', tsOfEnd(true)],
  ['ts_of_first_over_time', tsOfEnd(false)],
];
