// Function calls: the engine evaluates the arguments, and at every step hands the function
// library (../functions/) that step's values (FnArg): scalars, strings, instant vectors, and for
// range-vector arguments the points of each series in (t - range, t] (range selectors read
// storage directly, subqueries are evaluated first at their own steps).
//
// timestamp() over a plain vector selector gets the samples with their own timestamps.
import type { Call, Expr, MatrixSelector, SubqueryExpr } from '../ast.js';
import { typeOf, unwrapParens } from '../ast.js';
import type { FnArg, FnContext, FunctionImpl } from '../functions/types.js';
import type { HPoint, Sample, Series, Vector } from '../value.js';
import type { AnnotationKind } from './annotations.js';
import { PromQLError } from './api.js';
import type { EMatrix, ESeries, QueryCtx } from './context.js';
import { addSamples, histogramSize, resolveAt } from './context.js';
import type { Evaluator } from './evaluator.js';
import { checkExtendedFunction } from './extended.js';
import { statsWindow } from './series.js';

/** FnContext as the engine implements it: annotate() also takes the position to report. */
class Ctx implements FnContext {
  readonly t: number;
  readonly args: readonly Expr[];
  readonly #q: QueryCtx;
  readonly #call: Call;

  constructor(q: QueryCtx, call: Call, args: readonly Expr[], t: number) {
    this.#q = q;
    this.#call = call;
    this.args = args;
    this.t = t;
  }

  /** `pos` defaults to the first argument's (Prometheus reports most function annotations there). */
  annotate(kind: 'warning' | 'info', message: string, pos?: { start: number; end: number }): void {
    this.#q.annos.add(kind as AnnotationKind, message, pos ?? this.args[0]?.pos ?? this.#call.pos);
  }
}

function output(res: Vector | number, ts: number): Sample[] {
  if (typeof res === 'number') return [{ metric: [], t: ts, f: res, h: null }];
  return res;
}

function call(impl: FunctionImpl, args: readonly FnArg[], ctx: Ctx): Vector | number {
  return impl(args, ctx);
}

export async function evalCall(ev: Evaluator, e: Call): Promise<EMatrix> {
  const q = ev.q;
  const name = e.func.name;
  const impl = q.functions.get(name);
  if (impl === undefined) throw new PromQLError('bad_data', `unknown function "${name}" (not implemented)`);
  const args = e.args.map(unwrapParens);

  const first = args[0];
  if (name === 'timestamp' && first !== undefined && first.type === 'VectorSelector') {
    const vs = first;
    const loaded = q.series.get(vs) ?? [];
    const at = resolveAt(q, vs.at);
    return ev.stepMatrices([], q.samples, (_v, _i, ts) => {
      const vec: Sample[] = [];
      for (const ls of loaded) {
        const smp = ls.at((at ?? ts) - vs.offset, q.lookbackMs);
        if (smp === null) continue;
        vec.push({ metric: ls.metric, t: smp.t, f: smp.f, h: smp.h });
      }
      addSamples(q, vec.length);
      return output(call(impl, [{ kind: 'vector', v: vec }], new Ctx(q, e, args, ts)), ts);
    });
  }

  const mi = args.findIndex((a) => a.type === 'MatrixSelector' || a.type === 'SubqueryExpr');
  const kinds = args.map((a) => typeOf(a));
  /** FnArgs of the non-matrix arguments at one step. */
  const plainArgs = (vecs: readonly Sample[][], ts: number): FnArg[] =>
    args.map((a, i): FnArg => {
      switch (kinds[i]) {
        case 'string':
          return { kind: 'string', s: a.type === 'StringLiteral' ? a.val : '' };
        case 'scalar':
          return { kind: 'scalar', v: vecs[i]?.[0]?.f ?? NaN };
        case 'vector':
          return { kind: 'vector', v: vecs[i] ?? [] };
        default:
          return { kind: 'matrix', m: [], rangeMs: 0 };
      }
    });

  if (mi < 0) {
    return ev.rangeEval(
      args.map((a, i) => (kinds[i] === 'string' ? null : a)),
      (vecs, _i, ts) => output(call(impl, plainArgs(vecs, ts), new Ctx(q, e, args, ts)), ts),
    );
  }

  // A range-vector argument.
  const original = q.samples;
  const others: EMatrix[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as Expr;
    others.push(i === mi || kinds[i] === 'string' ? [] : await ev.eval(a));
  }
  const marg = args[mi] as MatrixSelector | SubqueryExpr;
  let source: ESeries[];
  let stats = false;
  let before = 0; // anchored/smoothed: how much further back (and, smoothed, ahead) windows read
  let after = 0;
  let range: number;
  let offset: number;
  let at: number | null;
  if (marg.type === 'MatrixSelector') {
    const vs = marg.vectorSelector;
    range = marg.range;
    offset = vs.offset;
    at = resolveAt(q, vs.at);
    stats = q.statsSelectors.has(vs);
    if (vs.anchored === true || vs.smoothed === true) {
      checkExtendedFunction(name, vs.anchored === true, vs.smoothed === true);
      before = q.lookbackMs;
      if (vs.smoothed === true) after = q.lookbackMs;
    }
    source = (q.series.get(vs) ?? []).map((ls) => ({ metric: ls.metric, floats: ls.rangeFloats(), histograms: ls.rangeHistograms(), dropName: false }));
  } else {
    range = marg.range;
    offset = marg.offset;
    at = resolveAt(q, marg.at);
    source = (await ev.subquery(marg)).map(resetHints);
  }

  // Window bounds per series: steps only move forward, so each bound is a cursor.
  const fLo = new Int32Array(source.length);
  const fHi = new Int32Array(source.length);
  const hLo = new Int32Array(source.length);
  const hHi = new Int32Array(source.length);
  let pinned: { m: Series[]; n: number } | null = null; // with @, every step sees the same windows
  const windows = (ts: number): { m: Series[]; n: number } => {
    if (pinned !== null) return pinned;
    const maxt = (at ?? ts) - offset + after;
    const mint = maxt - after - range - before;
    const m: Series[] = [];
    let n = 0;
    for (let i = 0; i < source.length; i++) {
      const s = source[i] as ESeries;
      const floats = advanceWindow(s.floats, fLo, fHi, i, mint, maxt);
      let histograms: HPoint[] = [];
      if (s.histograms.length > 0) {
        histograms = stats ? statsWindow(s.histograms, mint, maxt) : advanceWindow(s.histograms, hLo, hHi, i, mint, maxt);
        for (const p of histograms) n += histogramSize(p.h);
      }
      if (floats.length + histograms.length === 0) continue;
      n += floats.length;
      m.push({ metric: s.metric, floats, histograms, dropName: s.dropName });
    }
    if (at !== null) pinned = { m, n };
    return { m, n };
  };

  // Prometheus evaluates range-vector functions series by series: without delayed name removal
  // the names go when the whole matrix is done (Evaluator.eval), and two outputs that then share
  // labels fail even at different steps
  return ev.stepMatrices(others, original, (vecs, _i, ts) => {
    const { m, n } = windows(ts);
    addSamples(q, n);
    const fnArgs = plainArgs(vecs, ts);
    fnArgs[mi] = { kind: 'matrix', m, rangeMs: range, rangeEnd: (at ?? ts) - offset };
    const res = output(call(impl, fnArgs, new Ctx(q, e, args, ts)), ts);
    q.samples -= n;
    return res;
  }, false);
}

/**
 * The points of series i in (mint, maxt], from its cursors lo[i], hi[i] into the sorted points,
 * which move forward only (steps only move forward).
 */
function advanceWindow<P extends { t: number }>(points: readonly P[], lo: Int32Array, hi: Int32Array, i: number, mint: number, maxt: number): P[] {
  let l = lo[i] as number;
  let h = Math.max(l, hi[i] as number);
  while (l < points.length && (points[l] as P).t <= mint) l++;
  if (h < l) h = l;
  while (h < points.length && (points[h] as P).t <= maxt) h++;
  lo[i] = l;
  hi[i] = h;
  return mint < maxt && h > l ? points.slice(l, h) : [];
}

/**
 * Subquery output for a function: explicit counter-reset hints become "unknown", since a
 * subquery can skip or repeat the samples the hints refer to (as Prometheus does).
 */
function resetHints(s: ESeries): ESeries {
  if (s.histograms.length === 0) return s;
  let changed = false;
  const hs: HPoint[] = s.histograms.map((p) => {
    if (p.h.counterResetHint !== 1 && p.h.counterResetHint !== 2) return p;
    changed = true;
    return { t: p.t, h: { ...p.h, counterResetHint: 0 } };
  });
  return changed ? { metric: s.metric, floats: s.floats, histograms: hs, dropName: s.dropName } : s;
}
