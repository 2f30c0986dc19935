// Raw series as fetched from storage, and the two ways the engine reads them: the sample an
// instant vector selector sees at a time (lookback, staleness) and the points a range selector
// sees in a window (t - range, t].
//
// Staleness markers are the NaN with bit pattern 0x7ff0000000000002. They are recognised by their
// bits only (a JS comparison cannot tell NaNs apart), reading the value arrays through a
// Uint32Array view.
import { detectCounterReset } from '../histogram/index.js';
import type { FloatHistogram, FPoint, HPoint, Labels, StorageSeries } from '../value.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

const scratchF = new Float64Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** Whether `v` has the bits of Prometheus's StaleNaN. */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false; // not NaN at all
  scratchF[0] = v;
  const lo = scratchU[LITTLE_ENDIAN ? 0 : 1];
  const hi = scratchU[LITTLE_ENDIAN ? 1 : 0];
  return hi === STALE_HI && lo === STALE_LO;
}

export function isStaleHistogram(h: FloatHistogram): boolean {
  return isStaleNaN(h.sum);
}

/** A selected series with cursors-free random access to its samples. */
export class LoadedSeries {
  readonly metric: Labels;
  readonly #t: Float64Array;
  readonly #v: Float64Array;
  readonly #u: Uint32Array | null;
  readonly #h: readonly HPoint[];
  #rangeFloats: FPoint[] | null = null;
  #rangeHists: HPoint[] | null = null;

  constructor(s: StorageSeries) {
    this.metric = s.labels;
    this.#t = s.t;
    this.#v = s.v;
    this.#u = s.v.byteOffset % 4 === 0 ? new Uint32Array(s.v.buffer, s.v.byteOffset, s.v.length * 2) : null;
    this.#h = s.histograms;
  }

  get sampleCount(): number {
    return this.#t.length + this.#h.length;
  }

  #floatStale(i: number): boolean {
    const v = this.#v[i] as number;
    if (v === v) return false;
    const u = this.#u;
    if (u === null) return isStaleNaN(v);
    return u[2 * i + (LITTLE_ENDIAN ? 1 : 0)] === STALE_HI && u[2 * i + (LITTLE_ENDIAN ? 0 : 1)] === STALE_LO;
  }

  /**
   * The sample an instant vector selector sees at `ref`: the latest one at or before `ref` and
   * after `ref - lookback`, unless it is a staleness marker. Null when there is none.
   */
  at(ref: number, lookback: number, stats = false): { t: number; f: number; h: FloatHistogram | null } | null {
    const fi = upperBoundF(this.#t, ref) - 1;
    const hi = upperBoundH(this.#h, ref) - 1;
    const ft = fi >= 0 ? (this.#t[fi] as number) : -Infinity;
    const hp = hi >= 0 ? (this.#h[hi] as HPoint) : null;
    const ht = hp !== null ? hp.t : -Infinity;
    if (ft === -Infinity && ht === -Infinity) return null;
    if (ht > ft && hp !== null) {
      if (ht <= ref - lookback || isStaleHistogram(hp.h)) return null;
      if (!stats) return { t: ht, f: 0, h: hp.h };
      let prev: HPoint | null = null;
      for (let i = hi - 1; i >= 0; i--) {
        const p = this.#h[i] as HPoint;
        if (p.t < ref - lookback) break;
        if (!isStaleHistogram(p.h)) {
          prev = p;
          break;
        }
      }
      return { t: ht, f: 0, h: statsHistogram(hp.h, prev?.h ?? null) };
    }
    if (ft <= ref - lookback || this.#floatStale(fi)) return null;
    return { t: ft, f: this.#v[fi] as number, h: null };
  }

  /** All float samples except staleness markers, as points (computed once). */
  rangeFloats(): FPoint[] {
    if (this.#rangeFloats === null) {
      const out: FPoint[] = [];
      const t = this.#t;
      const v = this.#v;
      for (let i = 0; i < t.length; i++) if (!this.#floatStale(i)) out.push({ t: t[i] as number, f: v[i] as number });
      this.#rangeFloats = out;
    }
    return this.#rangeFloats;
  }

  /** All histogram samples except staleness markers (computed once). */
  rangeHistograms(): HPoint[] {
    if (this.#rangeHists === null) {
      this.#rangeHists = this.#h.length === 0 ? [] : this.#h.filter((p) => !isStaleHistogram(p.h));
    }
    return this.#rangeHists;
  }
}

/** First index with t[i] > x. */
export function upperBoundF(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((t[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with points[i].t > x. */
export function upperBoundH(points: readonly { t: number }[], x: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as { t: number }).t <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The points with mint < t <= maxt (a new array). */
export function windowOf<P extends { t: number }>(points: readonly P[], mint: number, maxt: number): P[] {
  if (points.length === 0 || mint >= maxt) return [];
  const lo = upperBoundH(points, mint);
  const hi = upperBoundH(points, maxt);
  return lo >= hi ? [] : points.slice(lo, hi);
}

/**
 * What Prometheus's HistogramStatsIterator returns for `h`: schema, count and sum only, with an
 * unknown counter-reset hint resolved against the histogram read just before it (if any).
 */
export function statsHistogram(h: FloatHistogram, prev: FloatHistogram | null): FloatHistogram {
  let hint = h.counterResetHint;
  if (hint === 0 && prev !== null) hint = detectCounterReset(prev, h) ? 1 : 2;
  return {
    counterResetHint: hint,
    schema: h.schema,
    zeroThreshold: 0,
    zeroCount: 0,
    count: h.count,
    sum: h.sum,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: [],
    negativeBuckets: [],
    customValues: [],
  };
}

/** The histograms with mint < t <= maxt as read for count and sum only (see statsHistogram). */
export function statsWindow(points: readonly HPoint[], mint: number, maxt: number): HPoint[] {
  if (points.length === 0 || mint >= maxt) return [];
  const lo = upperBoundH(points, mint);
  const hi = upperBoundH(points, maxt);
  const out: HPoint[] = [];
  for (let k = lo; k < hi; k++) {
    const p = points[k] as HPoint;
    const prev = k > 0 && (points[k - 1] as HPoint).t >= mint ? (points[k - 1] as HPoint).h : null;
    out.push({ t: p.t, h: statsHistogram(p.h, prev) });
  }
  return out;
}
