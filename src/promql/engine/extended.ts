// The experimental `anchored` and `smoothed` range-selector modifiers (Prometheus 3.x
// promql-extended-range-selectors), the engine's part:
//
// - `x[r] anchored` reads (t - r - lookback, t]: the sample at or before the window's start
//   anchors it; `x[r] smoothed` also reads up to t + lookback, for interpolating both ends.
//   Functions receive these wider windows (rangeEnd stays t) and compute from the boundaries
//   (Prometheus extendedRate); only some functions accept them.
// - A range selector evaluated on its own gets boundary points at t - r and t (extendFloats).
// - `x smoothed` (an instant selector) interpolates linearly between the samples around each
//   step (Prometheus smoothSeries).
// Native histograms are refused.
import type { FPoint } from '../value.js';
import { search } from '../../util/search.js';
import { PromQLError } from './api.js';

export const ANCHORED_SAFE_FUNCTIONS: readonly string[] = ['changes', 'delta', 'increase', 'rate', 'resets'];
export const SMOOTHED_SAFE_FUNCTIONS: readonly string[] = ['delta', 'increase', 'rate'];

export function checkExtendedFunction(name: string, anchored: boolean, smoothed: boolean): void {
  if (anchored && !ANCHORED_SAFE_FUNCTIONS.includes(name)) {
    throw new PromQLError('execution', `anchored modifier can only be used with: ${ANCHORED_SAFE_FUNCTIONS.join(', ')} - not with ${name}`);
  }
  if (smoothed && !SMOOTHED_SAFE_FUNCTIONS.includes(name)) {
    throw new PromQLError('execution', `smoothed modifier can only be used with: ${SMOOTHED_SAFE_FUNCTIONS.join(', ')} - not with ${name}`);
  }
}

export function noHistograms(): PromQLError {
  return new PromQLError('execution', 'smoothed and anchored modifiers do not work with native histograms');
}

/** Linear interpolation at t; for counters a decrease counts as a reset (Prometheus interpolate). */
export function interpolate(p1: FPoint, p2: FPoint, t: number, isCounter: boolean, leftEdge: boolean): number {
  let y1 = p1.f;
  let y2 = p2.f;
  if (isCounter && y2 < y1) {
    if (leftEdge) y1 = 0;
    else y2 += y1;
  }
  return y1 + ((y2 - y1) * (t - p1.t)) / (p2.t - p1.t);
}

/**
 * Prometheus extendFloats: the points of an anchored/smoothed window (read from the extended
 * range) with boundary points at mint and maxt: the last sample at or before mint (smoothed:
 * interpolated at mint) and the last sample (smoothed: interpolated at maxt).
 */
export function extendFloats(floats: readonly FPoint[], mint: number, maxt: number, smoothed: boolean): FPoint[] {
  if (floats.length === 0) return [];
  let last = floats.length - 1;
  let first = Math.max(0, search(last, (i) => (floats[i] as FPoint).t > mint) - 1);
  if (smoothed) last = search(last, (i) => (floats[i] as FPoint).t >= maxt);
  if ((floats[last] as FPoint).t <= mint) return [];
  const left = smoothed && (floats[first] as FPoint).t < mint ? interpolate(floats[first] as FPoint, floats[first + 1] as FPoint, mint, false, true) : (floats[first] as FPoint).f;
  const right = smoothed && last > 0 && (floats[last] as FPoint).t > maxt ? interpolate(floats[last - 1] as FPoint, floats[last] as FPoint, maxt, false, false) : (floats[last] as FPoint).f;
  if ((floats[first] as FPoint).t <= mint) first++;
  if ((floats[last] as FPoint).t >= maxt) last--;
  const out: FPoint[] = [{ t: mint, f: left }];
  for (let i = first; i <= last; i++) out.push(floats[i] as FPoint);
  out.push({ t: maxt, f: right });
  return out;
}

/**
 * The value of `x smoothed` at ref from the points in (ref - lookback, ref + lookback]: the
 * sample at ref, else interpolated between its neighbours, else the last one before ref; null
 * when no sample precedes ref.
 */
export function smoothedValue(window: readonly FPoint[], ref: number): number | null {
  if (window.length === 0) return null;
  const i = search(window.length, (k) => (window[k] as FPoint).t >= ref);
  const at = window[i];
  if (at !== undefined && at.t === ref) return at.f;
  if (i > 0 && at !== undefined) return interpolate(window[i - 1] as FPoint, at, ref, false, false);
  if (i > 0) return (window[i - 1] as FPoint).f;
  return null;
}
