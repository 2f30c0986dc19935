// Functions over the shape of a series in the window: deriv, predict_linear (least-squares
// regression), double_exponential_smoothing, and the counting functions resets and changes.
import { PromQLError } from '../engine/api.js';
import type { FloatHistogram, FPoint, Series, Vector } from '../value.js';
import { ANNO } from './annotations.js';
import { hDetectReset, hEquals } from './hist.js';
import type { FnContext, FunctionImpl } from './types.js';
import { formatFloatF6 } from '../../util/go-strconv.js';
import { kahanSumInc } from '../../util/kahan.js';
import { argPos, floatSample, hasPoints, matrixArg, metricName, scalarArg } from './util.js';

/**
 * Least-squares slope and intercept (at interceptTime, ms) over the points, x in seconds, with
 * Kahan sums (Prometheus linearRegression). A constant series has slope 0 (NaN for a constant ±Inf).
 */
export function linearRegression(points: readonly FPoint[], interceptTime: number): { slope: number; intercept: number } {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = points[0]!.f;
  let constY = true;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (constY && i > 0 && p.f !== initY) constY = false;
    n += 1;
    const x = (p.t - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(p.f, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * p.f, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return { slope: NaN, intercept: NaN };
    return { slope: 0, intercept: initY };
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return { slope, intercept: sumY / n - (slope * sumX) / n };
}

/**
 * Functions needing at least two float samples: none otherwise (with the mixed-range info when a
 * single float sits next to histograms), and the info whenever histograms were ignored.
 */
function regressionFunction(matrixIndex: number, f: (s: Series, ctx: FnContext) => number): FunctionImpl {
  return (args, ctx) => {
    const w = matrixArg(args, matrixIndex, ctx);
    const out: Vector = [];
    for (const s of w.m) {
      if (s.floats.length < 2) {
        if (s.floats.length === 1 && s.histograms.length > 0) {
          ctx.annotate('info', ANNO.histogramIgnoredInMixedRange(metricName(s.metric)), argPos(ctx, 0));
        }
        continue;
      }
      const v = f(s, ctx);
      if (s.histograms.length > 0) ctx.annotate('info', ANNO.histogramIgnoredInMixedRange(metricName(s.metric)), argPos(ctx, 0));
      out.push(floatSample(s.metric, ctx.t, v, true));
    }
    return out;
  };
}

// The intercept at the first sample avoids floating point trouble with large timestamps.
const deriv = regressionFunction(0, (s) => linearRegression(s.floats, s.floats[0]!.t).slope);

const predictLinear: FunctionImpl = (args, ctx) => {
  const duration = scalarArg(args, 1);
  return regressionFunction(0, (s) => {
    const { slope, intercept } = linearRegression(s.floats, ctx.t);
    return slope * duration + intercept;
  })(args, ctx);
};

/** Holt's linear method (Prometheus funcDoubleExponentialSmoothing). */
const doubleExponentialSmoothing: FunctionImpl = (args, ctx) => {
  const sf = scalarArg(args, 1);
  const tf = scalarArg(args, 2);
  const w = matrixArg(args, 0, ctx);
  const out: Vector = [];
  for (const s of w.m) {
    if (!hasPoints(s)) continue;
    if (!(sf > 0 && sf < 1)) throw new PromQLError('execution', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatFloatF6(sf)}`);
    if (!(tf > 0 && tf < 1)) throw new PromQLError('execution', `invalid trend factor. Expected: 0 < tf < 1, got: ${formatFloatF6(tf)}`);
    const fl = s.floats;
    if (fl.length < 2) {
      if (fl.length === 1 && s.histograms.length > 0) {
        ctx.annotate('info', ANNO.histogramIgnoredInMixedRange(metricName(s.metric)), argPos(ctx, 0));
      }
      continue;
    }
    let s0 = 0;
    let s1 = fl[0]!.f;
    let b = fl[1]!.f - fl[0]!.f;
    for (let i = 1; i < fl.length; i++) {
      const x = sf * fl[i]!.f;
      // The trend at i-1 (the initial trend for the first step).
      if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    if (s.histograms.length > 0) ctx.annotate('info', ANNO.histogramIgnoredInMixedRange(metricName(s.metric)), argPos(ctx, 0));
    out.push(floatSample(s.metric, ctx.t, s1, true));
  }
  return out;
};

type Value = { f: number; h: null } | { f: 0; h: FloatHistogram };

/** Walks floats and histograms in time order, calling step(prev, cur) for every consecutive pair. */
function countPairs(s: Series, step: (prev: Value, cur: Value) => boolean): number {
  let n = 0;
  let prev: Value | null = null;
  let i = 0;
  let j = 0;
  const fl = s.floats;
  const hs = s.histograms;
  while (i < fl.length || j < hs.length) {
    let cur: Value;
    if (j >= hs.length || (i < fl.length && fl[i]!.t <= hs[j]!.t)) cur = { f: fl[i++]!.f, h: null };
    else cur = { f: 0, h: hs[j++]!.h };
    if (prev !== null && step(prev, cur)) n++;
    prev = cur;
  }
  return n;
}

function counting(step: (prev: Value, cur: Value) => boolean): FunctionImpl {
  return (args, ctx) => {
    const w = matrixArg(args, 0, ctx);
    const out: Vector = [];
    for (const s of w.m) if (hasPoints(s)) out.push(floatSample(s.metric, ctx.t, countPairs(s, step), true));
    return out;
  };
}

/** A decrease between floats, a reset detected between histograms, or a switch between the two. */
const resets = counting((prev, cur) => {
  if (prev.h === null && cur.h === null) return cur.f < prev.f;
  if (prev.h !== null && cur.h !== null) return hDetectReset(cur.h, prev.h);
  return true;
});

/** Any change of value (NaN to NaN is none), or a switch between float and histogram. */
const changes = counting((prev, cur) => {
  if (prev.h === null && cur.h === null) return cur.f !== prev.f && !(Number.isNaN(cur.f) && Number.isNaN(prev.f));
  if (prev.h !== null && cur.h !== null) return !hEquals(cur.h, prev.h);
  return true;
});

export const TREND_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['deriv', deriv],
  ['predict_linear', predictLinear],
  ['double_exponential_smoothing', doubleExponentialSmoothing],
  ['resets', resets],
  ['changes', changes],
];
