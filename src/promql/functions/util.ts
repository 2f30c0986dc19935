// Shared helpers of the function library: argument access and label-set edits (the engine's,
// ../engine/labels.ts, plus a few of their own).
import { type Expr, type PosRange, unwrapParens } from '../ast.js';
import { PromQLError } from '../engine/api.js';
import { getLabel, labelsKey, METRIC_NAME } from '../engine/labels.js';
import { formatFloatG } from '../../util/go-strconv.js';
import type { Labels, Matrix, Sample, Series, Vector } from '../value.js';
import type { FnArg, FnContext } from './types.js';

export { EMPTY as EMPTY_LABELS, getLabel, isValidLabelName, labelsKey, METRIC_NAME, setLabel } from '../engine/labels.js';
export const BUCKET_LABEL = 'le';

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

/**
 * Prometheus's rangeEnd (enh.Ts - offset, with @ folded into the offset) from the argument
 * expression, for engines that do not pass FnArg.rangeEnd. An @ start()/end() cannot be resolved
 * here (the query's start and end are not known): the step time is used then.
 */
function windowEnd(e: Expr | undefined, t: number): number {
  const x = e === undefined ? undefined : unwrapParens(e);
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

export function metricName(ls: Labels): string {
  return getLabel(ls, METRIC_NAME);
}

/** The set without label `name` (the input itself when it has no such label). */
export function dropLabel(ls: Labels, name: string): Labels {
  for (let i = 0; i < ls.length; i += 2) {
    if (ls[i] === name) return [...ls.slice(0, i), ...ls.slice(i + 2)];
  }
  return ls;
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

// ---- numbers -------------------------------------------------------------------------------

/** Prometheus's labels.FormatOpenMetricsFloat: %g, with ".0" added to integers. */
export function formatOpenMetricsFloat(f: number): string {
  const s = formatFloatG(f);
  return Number.isFinite(f) && !/[e.]/.test(s) ? s + '.0' : s;
}
