// rate, increase, delta (extrapolated over the window), irate, idelta (last two samples), with
// Prometheus's counter-reset handling, for floats and native histograms.
import type { FloatHistogram, HPoint, Sample, Series, Vector } from '../value.js';
import { ANNO } from './annotations.js';
import { CounterResetHint, hAdd, hCompact, hDetectReset, hDiv, hEmptyLike, hMul, hSub, HistogramIncompatibleSchemaError, usesCustomBuckets } from './hist.js';
import type { FnArg, FnContext, FunctionImpl } from './types.js';
import { argPos, floatSample, hasPoints, matrixArg, metricName, type MatrixArg } from './util.js';

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

function histogramSample(s: Series, t: number, h: FloatHistogram): Sample {
  return { metric: s.metric, t, f: 0, h, dropName: true };
}

/** Prometheus histogramRate: last - first, plus every value lost at a counter reset. null = no result. */
function histogramRate(points: readonly HPoint[], isCounter: boolean, s: Series, ctx: FnContext): FloatHistogram | null {
  const pos = argPos(ctx, 0);
  const name = metricName(s.metric);
  const pending: Array<['warning' | 'info', string]> = [];
  const fail = (msg: string): null => {
    // Prometheus returns a fresh annotation set here: earlier notes of this call are dropped.
    ctx.annotate('warning', msg, pos);
    return null;
  };
  const first = (points[0] as HPoint).h;
  const last = (points[points.length - 1] as HPoint).h;
  let prev = first;
  let usingCustom = usesCustomBuckets(prev);
  if (isCounter && (first.counterResetHint === CounterResetHint.Gauge || last.counterResetHint === CounterResetHint.Gauge)) {
    pending.push(['warning', ANNO.nativeHistogramNotCounter(name)]);
  }
  // A reset between the 1st and 2nd sample: the 1st does not matter, nor its bucket layout.
  if (isCounter && points.length > 1) {
    const second = (points[1] as HPoint).h;
    if (hDetectReset(second, prev)) {
      prev = hEmptyLike(second);
      usingCustom = usesCustomBuckets(second);
    }
  }
  if (usesCustomBuckets(last) !== usingCustom) return fail(ANNO.mixedExponentialCustomHistograms(name));
  if (isCounter) {
    for (let i = 1; i < points.length - 1; i++) {
      const curr = (points[i] as HPoint).h;
      if (curr.counterResetHint === CounterResetHint.Gauge) pending.push(['warning', ANNO.nativeHistogramNotCounter(name)]);
      if (usesCustomBuckets(curr) !== usingCustom) return fail(ANNO.mixedExponentialCustomHistograms(name));
    }
  }
  let h: FloatHistogram;
  try {
    const r = hSub(last, prev);
    h = r.h;
    if (r.nhcbBoundsReconciled) pending.push(['info', ANNO.mismatchedCustomBuckets('subtraction')]);
    if (isCounter) {
      let p = prev;
      for (let i = 1; i < points.length; i++) {
        const curr = (points[i] as HPoint).h;
        if (hDetectReset(curr, p)) {
          const a = hAdd(h, p);
          h = a.h;
          if (a.nhcbBoundsReconciled) pending.push(['info', ANNO.mismatchedCustomBuckets('addition')]);
        }
        p = curr;
      }
    } else if (first.counterResetHint !== CounterResetHint.Gauge || last.counterResetHint !== CounterResetHint.Gauge) {
      pending.push(['warning', ANNO.nativeHistogramNotGauge(name)]);
    }
  } catch (e) {
    if (e instanceof HistogramIncompatibleSchemaError) return fail(ANNO.mixedExponentialCustomHistograms(name));
    throw e;
  }
  for (const [kind, msg] of pending) ctx.annotate(kind, msg, pos);
  h.counterResetHint = CounterResetHint.Gauge;
  return h;
}

/**
 * Prometheus extrapolatedRate for one series: the change over the window, counter resets added
 * back (isCounter), extrapolated towards the window's ends (all the way when the first/last
 * sample is within 1.1 average intervals of it, else half an interval; counters not below zero),
 * per second when isRate.
 */
function extrapolatedRate(s: Series, w: MatrixArg, isCounter: boolean, isRate: boolean, ctx: FnContext): Sample | null {
  const rangeStart = w.end - w.rangeMs;
  const rangeEnd = w.end;
  if (s.histograms.length > 0 && s.floats.length > 0) {
    ctx.annotate('warning', ANNO.mixedFloatsHistograms(metricName(s.metric)), argPos(ctx, 0));
    return null;
  }
  let resultFloat = 0;
  let resultHist: FloatHistogram | null = null;
  let firstT: number;
  let lastT: number;
  let numSamplesMinusOne: number;
  if (s.histograms.length > 1) {
    numSamplesMinusOne = s.histograms.length - 1;
    firstT = (s.histograms[0] as HPoint).t;
    lastT = (s.histograms[numSamplesMinusOne] as HPoint).t;
    resultHist = histogramRate(s.histograms, isCounter, s, ctx);
    if (resultHist === null) return null;
  } else if (s.floats.length > 1) {
    const fl = s.floats;
    numSamplesMinusOne = fl.length - 1;
    firstT = fl[0]!.t;
    lastT = fl[numSamplesMinusOne]!.t;
    resultFloat = fl[numSamplesMinusOne]!.f - fl[0]!.f;
    if (isCounter) {
      for (let i = 1; i < fl.length; i++) {
        const prev = fl[i - 1]!.f;
        if (fl[i]!.f < prev) resultFloat += prev;
      }
    }
  } else {
    return null;
  }

  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / numSamplesMinusOne;
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  if (isCounter) {
    // Counters cannot be negative: do not extrapolate below the zero point.
    let durationToZero = durationToStart;
    const firstF = s.floats[0]?.f;
    const firstH = s.histograms[0]?.h;
    if (resultFloat > 0 && firstF !== undefined && firstF >= 0) {
      durationToZero = sampledInterval * (firstF / resultFloat);
    } else if (resultHist !== null && resultHist.count > 0 && firstH !== undefined && firstH.count >= 0) {
      durationToZero = sampledInterval * (firstH.count / resultHist.count);
    }
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;

  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  if (resultHist !== null) return histogramSample(s, ctx.t, hMul(resultHist, factor));
  return floatSample(s.metric, ctx.t, resultFloat * factor, true);
}

function rateFunction(isCounter: boolean, isRate: boolean, checkCounterName: boolean): FunctionImpl {
  return (args: readonly FnArg[], ctx: FnContext) => {
    const w = matrixArg(args, 0, ctx);
    const out: Vector = [];
    for (const s of w.m) {
      if (!hasPoints(s)) continue;
      const r = extrapolatedRate(s, w, isCounter, isRate, ctx);
      if (r === null) continue;
      out.push(r);
      if (checkCounterName && r.h === null) {
        const name = metricName(s.metric);
        if (name !== '' && !COUNTER_SUFFIXES.some((x) => name.endsWith(x))) {
          ctx.annotate('info', ANNO.possibleNonCounter(name), argPos(ctx, 0));
        }
      }
    }
    return out;
  };
}

interface Point {
  t: number;
  f: number;
  h: FloatHistogram | null;
}

/** Prometheus instantValue: irate (isRate) and idelta from the last two samples of the window. */
function instantValue(s: Series, isRate: boolean, t: number, ctx: FnContext): Sample | null {
  if (s.floats.length + s.histograms.length < 2) return null;
  const ss: Point[] = [];
  for (let i = Math.max(0, s.floats.length - 2); i < s.floats.length; i++) ss.push({ t: s.floats[i]!.t, f: s.floats[i]!.f, h: null });
  for (let i = Math.max(0, s.histograms.length - 2); i < s.histograms.length; i++) {
    const p: Point = { t: s.histograms[i]!.t, f: 0, h: s.histograms[i]!.h };
    if (ss.length === 0) ss.push(p);
    else if (ss.length === 1) {
      if (p.t < ss[0]!.t) ss.unshift(p);
      else ss.push(p);
    } else if (p.t < ss[0]!.t) {
      // older than both: ignore
    } else if (p.t > ss[1]!.t) {
      ss[0] = ss[1]!;
      ss[1] = p;
    } else {
      ss[0] = p;
    }
  }
  const [a, b] = ss as [Point, Point];
  const sampledInterval = b.t - a.t;
  if (sampledInterval === 0) return null;
  const pos = argPos(ctx, 0);
  const name = metricName(s.metric);
  if (a.h === null && b.h === null) {
    // For a counter reset keep the last value (the increase since the reset).
    let f = b.f;
    if (!isRate || !(b.f < a.f)) f = b.f - a.f;
    if (isRate) f /= sampledInterval / 1000;
    return floatSample(s.metric, t, f, true);
  }
  if (a.h !== null && b.h !== null) {
    if (isRate && (b.h.counterResetHint === CounterResetHint.Gauge || a.h.counterResetHint === CounterResetHint.Gauge)) {
      ctx.annotate('warning', ANNO.nativeHistogramNotCounter(name), pos);
    }
    if (!isRate && (b.h.counterResetHint !== CounterResetHint.Gauge || a.h.counterResetHint !== CounterResetHint.Gauge)) {
      ctx.annotate('warning', ANNO.nativeHistogramNotGauge(name), pos);
    }
    let h = b.h;
    if (!isRate || !hDetectReset(b.h, a.h)) {
      try {
        const r = hSub(b.h, a.h);
        h = r.h;
        if (r.nhcbBoundsReconciled) ctx.annotate('info', ANNO.mismatchedCustomBuckets('subtraction'), pos);
      } catch (e) {
        if (e instanceof HistogramIncompatibleSchemaError) {
          ctx.annotate('warning', ANNO.mixedExponentialCustomHistograms(name), pos);
          return null;
        }
        throw e;
      }
    } else {
      h = hCompact(b.h); // after a reset: the increase since the reset
    }
    if (isRate) h = hDiv(h, sampledInterval / 1000);
    h.counterResetHint = CounterResetHint.Gauge;
    return histogramSample(s, t, h);
  }
  ctx.annotate('warning', ANNO.mixedFloatsHistograms(name), pos);
  return null;
}

function instantFunction(isRate: boolean): FunctionImpl {
  return (args, ctx) => {
    const w = matrixArg(args, 0, ctx);
    const out: Vector = [];
    for (const s of w.m) {
      const r = instantValue(s, isRate, ctx.t, ctx);
      if (r !== null) out.push(r);
    }
    return out;
  };
}

export const RATE_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['rate', rateFunction(true, true, true)],
  ['increase', rateFunction(true, false, true)],
  ['delta', rateFunction(false, false, false)],
  ['irate', instantFunction(true)],
  ['idelta', instantFunction(false)],
];
