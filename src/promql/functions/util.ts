// Shared helpers of the function library: argument access, label-set edits, Kahan summation,
// and the few pieces of Go behaviour (float formatting, strconv.ParseFloat) that show up in
// results and messages.
import type { Expr, PosRange } from '../ast.js';
import { PromQLError } from '../engine/api.js';
import { compareStrings } from '../../tsdb/labels/index.js';
import type { Labels, Matrix, Sample, Series, Vector } from '../value.js';
import type { FnArg, FnContext } from './types.js';

export const METRIC_NAME = '__name__';
export const BUCKET_LABEL = 'le';
export const EMPTY_LABELS: Labels = Object.freeze([]) as Labels;

// ---- arguments -----------------------------------------------------------------------------

function badArg(i: number, want: string, got: FnArg | undefined): PromQLError {
  return new PromQLError('internal', `function argument ${i}: expected ${want}, got ${got === undefined ? 'nothing' : got.kind}`);
}

export function vectorArg(args: readonly FnArg[], i: number): Vector {
  const a = args[i];
  if (a?.kind !== 'vector') throw badArg(i, 'an instant vector', a);
  return a.v;
}

export function scalarArg(args: readonly FnArg[], i: number): number {
  const a = args[i];
  if (a?.kind !== 'scalar') throw badArg(i, 'a scalar', a);
  return a.v;
}

export function stringArg(args: readonly FnArg[], i: number): string {
  const a = args[i];
  if (a?.kind !== 'string') throw badArg(i, 'a string', a);
  return a.s;
}

export interface MatrixArg {
  readonly m: Matrix;
  readonly rangeMs: number;
  /** end of the window (ms): the step time or @ time, minus the offset */
  readonly end: number;
}

export function matrixArg(args: readonly FnArg[], i: number, ctx: FnContext): MatrixArg {
  const a = args[i];
  if (a?.kind !== 'matrix') throw badArg(i, 'a range vector', a);
  return { m: a.m, rangeMs: a.rangeMs, end: a.rangeEnd ?? windowEnd(ctx.args[i], ctx.t) };
}

/** The expression without enclosing parentheses. */
export function unwrapParens(e: Expr | undefined): Expr | undefined {
  let x = e;
  while (x?.type === 'ParenExpr') x = x.expr;
  return x;
}

/**
 * Prometheus's rangeEnd (enh.Ts - offset, with @ folded into the offset) from the argument
 * expression, for engines that do not pass FnArg.rangeEnd. An @ start()/end() cannot be resolved
 * here (the query's start and end are not known): the step time is used then.
 */
function windowEnd(e: Expr | undefined, t: number): number {
  const x = unwrapParens(e);
  if (x?.type === 'MatrixSelector') {
    const vs = x.vectorSelector;
    return (vs.at?.kind === 'time' ? vs.at.ms : t) - vs.offset;
  }
  if (x?.type === 'SubqueryExpr') return (x.at?.kind === 'time' ? x.at.ms : t) - x.offset;
  return t;
}

/** Position of argument i (for annotations). */
export function argPos(ctx: FnContext, i: number): PosRange | undefined {
  return ctx.args[i]?.pos;
}

// ---- samples and series --------------------------------------------------------------------

export function floatSample(metric: Labels, t: number, f: number, dropName: boolean): Sample {
  return dropName ? { metric, t, f, h: null, dropName: true } : { metric, t, f, h: null };
}

/** Whether a series has points in this step's window (Prometheus does not call functions otherwise). */
export function hasPoints(s: Series): boolean {
  return s.floats.length + s.histograms.length > 0;
}

// ---- labels --------------------------------------------------------------------------------

export function getLabel(ls: Labels, name: string): string {
  for (let i = 0; i < ls.length; i += 2) if (ls[i] === name) return ls[i + 1] as string;
  return '';
}

export function metricName(ls: Labels): string {
  return getLabel(ls, METRIC_NAME);
}

/** Sets (value !== '') or deletes (value === '') one label; returns a new array when it changes. */
export function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: string[] = [];
  let done = false;
  for (let i = 0; i < ls.length; i += 2) {
    const n = ls[i] as string;
    if (!done) {
      const c = compareStrings(n, name);
      if (c >= 0) {
        done = true;
        if (value !== '') out.push(name, value);
        if (c === 0) continue;
      }
    }
    out.push(n, ls[i + 1] as string);
  }
  if (!done && value !== '') out.push(name, value);
  return out;
}

/** The set without label `name` (the input itself when it has no such label). */
export function dropLabel(ls: Labels, name: string): Labels {
  for (let i = 0; i < ls.length; i += 2) {
    if (ls[i] === name) return [...ls.slice(0, i), ...ls.slice(i + 2)];
  }
  return ls;
}

/** A string identifying the label set exactly, for Map keys. */
export function labelsKey(ls: Labels): string {
  return JSON.stringify(ls);
}

/** Prometheus's check for label_replace/label_join outputs (mergeSeriesWithSameLabelset at one step). */
export function assertUniqueLabelsets(v: Vector): void {
  if (v.length < 2) return;
  const seen = new Set<string>();
  for (const s of v) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw new PromQLError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
}

/**
 * Go's utf8.ValidString for a JS string: no lone surrogates. Prometheus 3 accepts any non-empty
 * valid UTF-8 string as a label name (model.UTF8Validation).
 */
export function isValidLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

// ---- numbers -------------------------------------------------------------------------------

/**
 * One step of Kahan-Babuška (Neumaier) summation, Prometheus's kahansum.Inc: returns the new sum
 * and compensation. The compensation is reset when the sum overflows.
 */
export function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) return [t, c + (sum - t + inc)];
  return [t, c + (inc - t + sum)];
}

/** Shortest round-trip digits and decimal point position of |f| (finite, non-zero): 0.DIGITS x 10^dp. */
function shortestDigits(f: number): { digs: string; dp: number } {
  const [mant, exp] = Math.abs(f).toExponential().split('e') as [string, string];
  return { digs: mant.replace('.', ''), dp: Number(exp) + 1 };
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64), which is also fmt's %g. */
export function formatG(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const sign = f < 0 ? '-' : '';
  const { digs, dp } = shortestDigits(f);
  const exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    const m = digs.length > 1 ? `${digs[0]}.${digs.slice(1)}` : digs;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digs}`;
  if (dp >= digs.length) return sign + digs + '0'.repeat(dp - digs.length);
  return `${sign}${digs.slice(0, dp)}.${digs.slice(dp)}`;
}

/** Prometheus's labels.FormatOpenMetricsFloat: %g, with ".0" added to integers. */
export function formatOpenMetricsFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  const s = formatG(f);
  return /[e.]/.test(s) ? s : s + '.0';
}

/** Go's %f (six decimals). */
export function formatF6(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  return f.toFixed(6);
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Go's strconv.ParseFloat(s, 64) for a bucket label: decimal and hexadecimal floats, "Inf",
 * "+Inf", "-Inf", "Infinity", "NaN" (any case). Returns null where Go returns an error.
 */
export function parseGoFloat(s: string): number | null {
  if (s === '') return null;
  const lower = s.toLowerCase();
  const sign = lower.startsWith('-') ? -1 : 1;
  const body = lower.startsWith('+') || lower.startsWith('-') ? lower.slice(1) : lower;
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (body === 'nan') return lower === body ? NaN : null;
  if (body.startsWith('0x')) return parseHexFloat(body.slice(2), sign);
  if (!DECIMAL.test(s)) return null; // Go allows underscores only after a base prefix
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

function parseHexFloat(s: string, sign: number): number | null {
  const m = /^([0-9a-f_]*)(?:\.([0-9a-f_]*))?p([+-]?\d+)$/.exec(s);
  if (m === null) return null;
  const intPart = (m[1] ?? '').replace(/_/g, '');
  const frac = (m[2] ?? '').replace(/_/g, '');
  if (intPart === '' && frac === '') return null;
  const exp = Number(m[3]);
  let v = 0;
  for (const ch of intPart + frac) v = v * 16 + parseInt(ch, 16);
  return sign * v * 2 ** (exp - 4 * frac.length);
}
