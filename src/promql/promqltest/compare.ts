// Comparing query results with a script's expectations, as the Go runner does (promqltest
// compareResult / checkAnnotations / checkExpectedFailure, util/almost.Equal). Every check returns
// an error message, or null when the result is as expected.
import { compareStrings, labelsCompare } from '../../tsdb/labels/index.js';
import type { Labels as TsdbLabels } from '../../tsdb/labels/index.js';
import type { Annotations, FloatHistogram, Labels, Matrix, QueryValue, Series, Vector } from '../value.js';
import { CUSTOM_BUCKETS_SCHEMA, formatG, histogramExpression, nonEmptyBuckets } from './hist.js';
import { isStaleNumber, Slot } from './sequence.js';
import type { Sequence } from './sequence.js';
import { isFail, isOrdered, labelsKey } from './script.js';
import type { EvalCommand, Expectation } from './script.js';

/** Relative error allowed for sample values. */
export const DEFAULT_EPSILON = 0.000001;
const MIN_NORMAL = 2.2250738585072014e-308;

/** util/almost.Equal: NaN equals NaN, but the stale marker only equals the stale marker. */
export function almostEqual(a: number, b: number, epsilon = DEFAULT_EPSILON, aStale = isStaleNumber(a), bStale = isStaleNumber(b)): boolean {
  if (aStale || bStale) return aStale && bStale;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < MIN_NORMAL * epsilon;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

function bucketsMatch(exp: [number, number][], cur: [number, number][]): boolean {
  if (exp.length !== cur.length) return false;
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i] as [number, number];
    const c = cur[i] as [number, number];
    if (e[0] !== c[0] || !almostEqual(e[1], c[1])) return false;
  }
  return true;
}

function customBoundsMatch(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Prometheus compareNativeHistogram over compacted histograms (empty buckets dropped, spans
 * merged): the bucket layouts must be equal, values within tolerance; the counter-reset hint only
 * counts when the expectation states one.
 */
export function histogramsMatch(exp: FloatHistogram, cur: FloatHistogram, hintSet: boolean): boolean {
  if (exp.schema !== cur.schema || !almostEqual(exp.count, cur.count) || !almostEqual(exp.sum, cur.sum)) return false;
  if (exp.schema === CUSTOM_BUCKETS_SCHEMA && !customBoundsMatch(exp.customValues, cur.customValues)) return false;
  if (exp.zeroThreshold !== cur.zeroThreshold || !almostEqual(exp.zeroCount, cur.zeroCount)) return false;
  if (!bucketsMatch(nonEmptyBuckets(exp.negativeSpans, exp.negativeBuckets), nonEmptyBuckets(cur.negativeSpans, cur.negativeBuckets))) return false;
  if (!bucketsMatch(nonEmptyBuckets(exp.positiveSpans, exp.positiveBuckets), nonEmptyBuckets(cur.positiveSpans, cur.positiveBuckets))) return false;
  return !hintSet || exp.counterResetHint === cur.counterResetHint;
}

// ---- formatting ----------------------------------------------------------------------------------

/** `name{a="b", ...}` (the metric name outside the braces when there is one). */
export function formatLabels(ls: Labels): string {
  let name = '';
  const parts: string[] = [];
  for (let i = 0; i < ls.length; i += 2) {
    const n = ls[i] as string;
    const v = ls[i + 1] as string;
    if (n === '__name__') name = v;
    else parts.push(`${n}=${JSON.stringify(v)}`);
  }
  return parts.length === 0 && name !== '' ? name : `${name}{${parts.join(', ')}}`;
}

/** A float as Go's %g prints it (`stale` for the stale marker). */
export function formatFloat(f: number): string {
  return isStaleNumber(f) ? 'stale' : formatG(f);
}

function formatSeriesResult(s: Series): string {
  const floats = s.floats.map((p) => `${formatFloat(p.f)} @[${p.t}]`);
  const hists = s.histograms.map((p) => `${histogramExpression(p.h)} @[${p.t}]`);
  return `${floats.length} float point${floats.length === 1 ? '' : 's'} [${floats.join(' ')}] and ${hists.length} histogram point${hists.length === 1 ? '' : 's'} [${hists.join(' ')}]`;
}

/** A result in the test-file notation, one series per line. */
export function formatValue(v: QueryValue): string {
  switch (v.type) {
    case 'scalar':
      return `scalar ${formatFloat(v.value.v)}`;
    case 'string':
      return `string ${JSON.stringify(v.value.s)}`;
    case 'vector':
      if (v.value.length === 0) return 'empty vector';
      return v.value.map((s) => `${formatLabels(s.metric)} ${s.h !== null ? histogramExpression(s.h) : formatFloat(s.f)}`).join('\n');
    case 'matrix':
      if (v.value.length === 0) return 'empty matrix';
      return v.value.map((s) => `${formatLabels(s.metric)} ${formatSeriesResult(s)}`).join('\n');
    default: {
      const never: never = v;
      return `unknown value ${JSON.stringify(never)}`;
    }
  }
}

function formatExpectedValue(seq: Sequence, i: number): string {
  switch (seq.kind(i)) {
    case Slot.Omitted:
      return '_';
    case Slot.Float:
      return seq.isStale(i) ? 'stale' : formatFloat(seq.floats[i] as number);
    case Slot.Histogram:
      return histogramExpression((seq.histogram(i) as { h: FloatHistogram }).h);
    default:
      return '?';
  }
}

function formatSequence(seq: Sequence): string {
  const out: string[] = [];
  for (let i = 0; i < seq.length; i++) out.push(formatExpectedValue(seq, i));
  return `[${out.join(' ')}]`;
}

// ---- result comparison ---------------------------------------------------------------------------

function floatAt(seq: Sequence, i: number): { v: number; stale: boolean } {
  return { v: seq.floats[i] as number, stale: seq.isStale(i) };
}

function compareMatrix(cmd: EvalCommand, val: Matrix): string | null {
  if (isOrdered(cmd)) return 'expected ordered result, but query returned a matrix';
  if (cmd.expectScalar) return `expected scalar result, but got matrix ${formatValue({ type: 'matrix', value: val })}`;
  const sortErr = assertMatrixSorted(val);
  if (sortErr !== null) return sortErr;
  const seen = new Set<string>();
  for (const s of val) {
    const key = labelsKey(s.metric);
    const exp = cmd.expected.get(key);
    if (exp === undefined) return `unexpected metric ${formatLabels(s.metric)} in result, has ${formatSeriesResult(s)}`;
    seen.add(key);
    const floats: { t: number; i: number }[] = [];
    const hists: { t: number; i: number }[] = [];
    for (let i = 0; i < exp.values.length; i++) {
      const t = cmd.start + i * cmd.step;
      if (t > cmd.end) return `expected ${exp.values.length} points for ${formatLabels(exp.labels)}, but query time range cannot return this many points`;
      const k = exp.values.kind(i);
      if (k === Slot.Histogram) hists.push({ t, i });
      else if (k === Slot.Float) floats.push({ t, i });
    }
    if (floats.length !== s.floats.length || hists.length !== s.histograms.length) {
      return `expected ${floats.length} float points and ${hists.length} histogram points for ${formatLabels(exp.labels)}, but got ${formatSeriesResult(s)}`;
    }
    for (let n = 0; n < floats.length; n++) {
      const e = floats[n] as { t: number; i: number };
      const a = s.floats[n] as { t: number; f: number };
      if (e.t !== a.t) return `expected float value at index ${n} for ${formatLabels(exp.labels)} to have timestamp ${e.t}, but it had timestamp ${a.t} (result has ${formatSeriesResult(s)})`;
      const ef = floatAt(exp.values, e.i);
      if (!almostEqual(a.f, ef.v, DEFAULT_EPSILON, isStaleNumber(a.f), ef.stale)) {
        return `expected float value at index ${n} (t=${a.t}) for ${formatLabels(exp.labels)} to be ${formatExpectedValue(exp.values, e.i)}, but got ${formatFloat(a.f)} (result has ${formatSeriesResult(s)})`;
      }
    }
    for (let n = 0; n < hists.length; n++) {
      const e = hists[n] as { t: number; i: number };
      const a = s.histograms[n] as { t: number; h: FloatHistogram };
      if (e.t !== a.t) return `expected histogram value at index ${n} for ${formatLabels(exp.labels)} to have timestamp ${e.t}, but it had timestamp ${a.t} (result has ${formatSeriesResult(s)})`;
      const eh = exp.values.histogram(e.i);
      if (eh === undefined || !histogramsMatch(eh.h, a.h, eh.hintSet)) {
        return `expected histogram value at index ${n} (t=${a.t}) for ${formatLabels(exp.labels)} to be ${formatExpectedValue(exp.values, e.i)}, but got ${histogramExpression(a.h)} (result has ${formatSeriesResult(s)})`;
      }
    }
  }
  for (const [key, exp] of cmd.expected) {
    if (!seen.has(key)) return `expected metric ${formatLabels(exp.labels)} not found`;
  }
  return null;
}

function compareVector(cmd: EvalCommand, val: Vector): string | null {
  if (cmd.expectScalar) return `expected scalar result, but got vector ${formatValue({ type: 'vector', value: val })}`;
  const seen = new Set<string>();
  for (let pos = 0; pos < val.length; pos++) {
    const v = val[pos] as Vector[number];
    const key = labelsKey(v.metric);
    const exp = cmd.expected.get(key);
    if (exp === undefined) {
      return `unexpected metric ${formatLabels(v.metric)} in result, has value ${v.h !== null ? histogramExpression(v.h) : formatFloat(v.f)}`;
    }
    if (isOrdered(cmd) && exp.pos !== pos + 1) {
      return `expected metric ${formatLabels(v.metric)} with ${formatSequence(exp.values)} at position ${exp.pos} but was at ${pos + 1}`;
    }
    if (exp.values.length === 0) return `no value given for expected metric ${formatLabels(exp.labels)}`;
    const kind = exp.values.kind(0);
    const eh = exp.values.histogram(0);
    if (eh === undefined && v.h !== null) return `expected float value ${formatExpectedValue(exp.values, 0)} for ${formatLabels(v.metric)} but got histogram ${histogramExpression(v.h)}`;
    if (eh !== undefined && v.h === null) return `expected histogram ${histogramExpression(eh.h)} for ${formatLabels(v.metric)} but got float value ${formatFloat(v.f)}`;
    if (eh !== undefined && v.h !== null) {
      if (!histogramsMatch(eh.h, v.h, eh.hintSet)) return `expected ${histogramExpression(eh.h)} for ${formatLabels(v.metric)} but got ${histogramExpression(v.h)}`;
    } else {
      // An omitted expectation (`_`) counts as 0 for an instant vector, as in the Go runner.
      const ef = kind === Slot.Float ? floatAt(exp.values, 0) : { v: 0, stale: false };
      if (!almostEqual(ef.v, v.f, DEFAULT_EPSILON, ef.stale, isStaleNumber(v.f))) {
        return `expected ${formatExpectedValue(exp.values, 0)} for ${formatLabels(v.metric)} but got ${formatFloat(v.f)}`;
      }
    }
    seen.add(key);
  }
  for (const [key, exp] of cmd.expected) {
    if (!seen.has(key)) return `expected metric ${formatLabels(exp.labels)} with ${formatSequence(exp.values)} not found`;
  }
  return null;
}

/** compareResult: the result value against the expected series / scalar / string. */
export function compareResult(cmd: EvalCommand, value: QueryValue): string | null {
  switch (value.type) {
    case 'matrix':
      return compareMatrix(cmd, value.value);
    case 'vector':
      return compareVector(cmd, value.value);
    case 'scalar': {
      if (!cmd.expectScalar) return `expected vector or matrix result, but got scalar ${formatFloat(value.value.v)}`;
      const e = floatAt(cmd.scalar, 0);
      if (!almostEqual(e.v, value.value.v, DEFAULT_EPSILON, e.stale, isStaleNumber(value.value.v))) {
        return `expected scalar ${formatFloat(e.v)} but got ${formatFloat(value.value.v)}`;
      }
      return null;
    }
    case 'string':
      if (cmd.expectedString !== value.value.s) return `expected string ${JSON.stringify(cmd.expectedString)} but got ${JSON.stringify(value.value.s)}`;
      return null;
    default: {
      const never: never = value;
      return `unexpected result type ${(never as { type: string }).type}`;
    }
  }
}

export function assertMatrixSorted(m: Matrix): string | null {
  for (let i = 0; i + 1 < m.length; i++) {
    const a = (m[i] as Series).metric;
    const b = (m[i + 1] as Series).metric;
    if (labelsCompare(a as TsdbLabels, b as TsdbLabels) > 0) {
      return `matrix results should always be sorted by labels, but matrix is not sorted: series at index ${i + 1} with labels ${formatLabels(b)} sorts before series at index ${i} with labels ${formatLabels(a)}`;
    }
  }
  return null;
}

// ---- annotations and failures --------------------------------------------------------------------

function checkAnnotationsOfType(expected: readonly Expectation[], actual: readonly string[], type: string, all: Annotations): string | null {
  if (expected.length === 0) return null;
  if (actual.length === 0) return `expected ${type} annotations but none were found`;
  for (const e of expected) {
    if (!actual.some((a) => e.matches(a))) {
      return `expected ${type} annotation matching ${e.describe()} but no matching annotation was found, found: ${JSON.stringify([...all.warnings, ...all.infos])}`;
    }
  }
  for (const a of actual) {
    if (!expected.some((e) => e.matches(a))) return `unexpected ${type} annotation ${JSON.stringify(a)} found`;
  }
  return null;
}

/** checkAnnotations: `expect warn/info/no_warn/no_info` (and eval_warn / eval_info). */
export function checkAnnotations(cmd: EvalCommand, annos: Annotations): string | null {
  if (cmd.warnMod && annos.warnings.length === 0) return 'expected warnings but got none';
  if (cmd.infoMod && annos.infos.length === 0) return 'expected info annotations but got none';
  const w = checkAnnotationsOfType(cmd.expectWarn, annos.warnings, 'warn', annos);
  if (w !== null) return w;
  const i = checkAnnotationsOfType(cmd.expectInfo, annos.infos, 'info', annos);
  if (i !== null) return i;
  if (cmd.noWarn && annos.warnings.length > 0) return `unexpected warning annotations: ${JSON.stringify(annos.warnings)}`;
  if (cmd.noInfo && annos.infos.length > 0) return `unexpected info annotations: ${JSON.stringify(annos.infos)}`;
  return null;
}

/** checkExpectedFailure: the error text against expected_fail_message/regexp and `expect fail`. */
export function checkExpectedFailure(cmd: EvalCommand, message: string): string | null {
  if (!isFail(cmd)) return `unexpected error: ${message}`;
  if (cmd.expectedFailMessage !== null && cmd.expectedFailMessage !== '' && cmd.expectedFailMessage !== message) {
    return `expected error ${JSON.stringify(cmd.expectedFailMessage)}, but got: ${message}`;
  }
  if (cmd.expectedFailRegexp !== null && !cmd.expectedFailRegexp.matcher(message).find()) {
    return `expected error matching pattern ${JSON.stringify(cmd.expectedFailRegexp.toString())}, but got: ${message}`;
  }
  const e = cmd.expectFail[0];
  if (e !== undefined && !e.matches(message)) return `expected error matching ${e.describe()}, but got: ${message}`;
  return null;
}

/** The expected result of an eval in the test-file notation (for reports). */
export function formatExpected(cmd: EvalCommand): string {
  if (isFail(cmd)) return 'an error';
  if (cmd.expectScalar) return `scalar ${formatExpectedValue(cmd.scalar, 0)}`;
  if (cmd.hasExpectString) return `string ${JSON.stringify(cmd.expectedString)}`;
  if (cmd.expected.size === 0) return 'empty result';
  return [...cmd.expected.values()]
    .sort((a, b) => compareStrings(a.key, b.key))
    .map((e) => `${formatLabels(e.labels)} ${e.values.length === 1 ? formatExpectedValue(e.values, 0) : formatSequence(e.values)}`)
    .join('\n');
}
