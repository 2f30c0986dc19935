// Checking a query answer against what was written. Two rules, for each series the query selects:
//
// 1. every sample it returns has exactly (bit for bit) the value the function gives for its series
//    and timestamp (a sample written but never acked may be there or not: it may have been stored
//    before a 5xx; but if it is there it must be right);
// 2. every sample acked (before the query started: see Cuts) in the query's window is returned.
//
// Two kinds of answers are checked:
// - "instant": the raw samples of `selector[R]` at time E (a matrix of every sample in (E-R, E]);
// - "range": `last_over_time(selector[W])` over a range with a step that is a multiple of the write
//   interval and W shorter than the interval, so each point is the sample written at exactly that
//   step's time, never an older one the lookback would otherwise carry forward.
import type { Cuts } from './acked.js';
import type { QueryData } from './client.js';
import { parseSeriesId, sampleValue } from './series.js';

export interface CheckResult {
  /** Acked samples the check expected. */
  acked: number;
  /** Of those, the ones not returned. */
  missing: number;
  /** Samples returned with the wrong value, or that cannot belong to the test. */
  mismatched: number;
  details: string[];
}

export function emptyResult(): CheckResult {
  return { acked: 0, missing: 0, mismatched: 0, details: [] };
}

export function addResult(into: CheckResult, r: CheckResult, maxDetails: number): void {
  into.acked += r.acked;
  into.missing += r.missing;
  into.mismatched += r.mismatched;
  for (const d of r.details) {
    if (into.details.length >= maxDetails) break;
    into.details.push(d);
  }
}

/** What a query covered: series [lo, hi) and the timestamps of [fromT, toT] on its step grid. */
export interface Window {
  lo: number;
  hi: number;
  fromT: number;
  toT: number;
  /** The timestamps checked for presence: fromT + k * stepMs. */
  stepMs: number;
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** Prometheus's number text as a float ("NaN", "+Inf", "-Inf" included). */
function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  return s.trim() === '' ? NaN : v;
}

function labelsText(m: Record<string, string>): string {
  return `{${Object.entries(m).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

function iso(t: number): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
}

function asMatrix(data: QueryData): MatrixSeries[] {
  if (data.resultType !== 'matrix') throw new Error(`expected a matrix, got resultType ${JSON.stringify(data.resultType)}`);
  return data.result.map((x) => {
    const s = x as { metric?: unknown; values?: unknown; histograms?: unknown };
    const metric = (typeof s.metric === 'object' && s.metric !== null ? s.metric : {}) as Record<string, string>;
    if (s.histograms !== undefined) throw new Error(`series ${labelsText(metric)} has native histograms; the test writes floats only`);
    if (!Array.isArray(s.values)) throw new Error(`series ${labelsText(metric)} has no values`);
    return { metric, values: s.values as Array<[number, string]> };
  });
}

/**
 * Checks a matrix answer for window w. Series must carry series_id and, if any, the metric name
 * `expectedName`; with requireName, they must carry it (raw samples do; whether a function keeps
 * it varies: Prometheus's last_over_time does).
 */
export function checkMatrix(data: QueryData, w: Window, cuts: Cuts, expectedName: string, requireName: boolean, maxDetails = 20): CheckResult {
  const res = emptyResult();
  const detail = (s: string): void => {
    if (res.details.length < maxDetails) res.details.push(s);
  };
  const present = new Map<number, Set<number>>();
  for (const s of asMatrix(data)) {
    const id = parseSeriesId(s.metric.series_id);
    const name = s.metric.__name__;
    const nameOk = name === expectedName || (!requireName && name === undefined);
    if (id < 0 || !nameOk || Object.keys(s.metric).length !== (name === undefined ? 1 : 2)) {
      res.mismatched += s.values.length;
      detail(`unexpected series ${labelsText(s.metric)} with ${s.values.length} samples`);
      continue;
    }
    let seen = present.get(id);
    if (seen === undefined) {
      seen = new Set();
      present.set(id, seen);
    }
    for (const pair of s.values) {
      const t = Math.round(Number(pair[0]) * 1000);
      const v = parseValue(String(pair[1]));
      const want = sampleValue(id, t);
      // a wrong value counts once, as mismatched (not as missing as well)
      seen.add(t);
      if (!Object.is(v, want)) {
        res.mismatched++;
        detail(`series_id=${id} at ${t} (${iso(t)}): got ${pair[1]}, want ${want}`);
      }
    }
  }
  // every acked sample of the window, on the window's step grid, must be there
  for (let id = w.lo; id < w.hi; id++) {
    const seen = present.get(id);
    let missingHere = 0;
    let firstMissing = 0;
    cuts.forEachAcked(id, w.fromT, w.toT, (t) => {
      if ((t - w.fromT) % w.stepMs !== 0) return;
      res.acked++;
      if (seen?.has(t) !== true) {
        if (missingHere === 0) firstMissing = t;
        missingHere++;
      }
    });
    if (missingHere > 0) {
      res.missing += missingHere;
      detail(`series_id=${id}: ${missingHere} acked sample(s) missing between ${iso(w.fromT)} and ${iso(w.toT)}, the first at ${firstMissing} (${iso(firstMissing)})`);
    }
  }
  return res;
}

/** Acked samples a window expects (to count them as unverified when its query fails). */
export function expectedCount(w: Window, cuts: Cuts): number {
  let n = 0;
  for (let id = w.lo; id < w.hi; id++) {
    cuts.forEachAcked(id, w.fromT, w.toT, (t) => {
      if ((t - w.fromT) % w.stepMs === 0) n++;
    });
  }
  return n;
}
