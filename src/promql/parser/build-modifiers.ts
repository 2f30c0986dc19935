// The postfix modifiers of Prometheus's grammar: range `[5m]`, subquery `[1h:1m]`, `offset`,
// `@`, `anchored`/`smoothed`, with the errors its grammar actions raise when misplaced.
import type { AtModifier, DurationExpr, Expr, MatrixSelector, SubqueryExpr } from '../ast.js';
import { Bail, type BuildContext, type Mutable, type SyntaxNode } from './build-context.js';
import { duration } from './build-durations.js';
import { formatFloatF6 } from '../../util/go-strconv.js';

const MAX_TS_SECONDS = 9223372036854775807;

export function matrixSelector(ctx: BuildContext, e: Expr, n: SyntaxNode): MatrixSelector {
  const [, dur] = ctx.kids(n);
  if (dur === undefined) throw new Bail();
  const end = ctx.o(n.to);
  const lbracket = ctx.tokensIn(e.pos.end, end).find((t) => t.kind === 'LEFT_BRACKET')?.start ?? e.pos.end;
  let msg = '';
  if (e.type !== 'VectorSelector') msg = 'ranges only allowed for vector selectors';
  else if (e.offset !== 0 || e.offsetExpr !== undefined) msg = 'no offset modifiers allowed before range';
  else if (e.at !== null && e.at.kind === 'time') msg = 'no @ modifiers allowed before range';
  if (msg !== '') ctx.fail(msg, lbracket, end, end);
  const d = duration(ctx, dur, 'range');
  const vs = e.type === 'VectorSelector' ? e : ctx.dummySelector(e.pos.start, e.pos.end);
  const m: Mutable<MatrixSelector> = { type: 'MatrixSelector', vectorSelector: vs, range: d.ms, pos: { start: e.pos.start, end } };
  if (d.expr !== undefined) m.rangeExpr = d.expr;
  return m;
}

export function subquery(ctx: BuildContext, e: Expr, n: SyntaxNode): SubqueryExpr {
  const kids = ctx.kids(n);
  const [, rangeNode, stepNode] = kids;
  if (rangeNode === undefined || kids.length > 3) throw new Bail();
  const range = duration(ctx, rangeNode, 'range');
  const step = stepNode === undefined ? { ms: 0, expr: undefined } : duration(ctx, stepNode, 'step');
  const sq: Mutable<SubqueryExpr> = {
    type: 'SubqueryExpr', expr: e, range: range.ms, step: step.ms, offset: 0, at: null, pos: { start: e.pos.start, end: ctx.o(n.to) },
  };
  if (range.expr !== undefined) sq.rangeExpr = range.expr;
  if (step.expr !== undefined) sq.stepExpr = step.expr;
  return sq;
}

export function offsetExpr(ctx: BuildContext, e: Expr, n: SyntaxNode): Expr {
  const [, kw, dur] = ctx.kids(n);
  if (kw === undefined || dur === undefined) throw new Bail();
  const d = duration(ctx, dur, 'offset');
  const end = ctx.o(n.to);
  const twice = (x: { offset: number; offsetExpr?: DurationExpr }): boolean => {
    if (x.offset !== 0 || x.offsetExpr !== undefined) {
      ctx.fail('offset may not be set multiple times', e.pos.start, e.pos.end, end);
      return true;
    }
    return false;
  };
  const withOffset = <T extends { offset: number; offsetExpr?: DurationExpr }>(x: T): T => {
    const y: T = { ...x, offset: d.ms };
    if (d.expr !== undefined) y.offsetExpr = d.expr;
    return y;
  };
  switch (e.type) {
    case 'VectorSelector':
      if (twice(e)) return e;
      return { ...withOffset(e), pos: { start: e.pos.start, end } };
    case 'MatrixSelector':
      if (twice(e.vectorSelector)) return e;
      return { ...e, vectorSelector: withOffset(e.vectorSelector), pos: { start: e.pos.start, end } };
    case 'SubqueryExpr':
      if (twice(e)) return e;
      return { ...withOffset(e), pos: { start: e.pos.start, end } };
    default:
      ctx.fail('offset modifier must be preceded by an instant vector selector or range vector selector or a subquery', e.pos.start, e.pos.end, end);
      return e;
  }
}

export function atExpr(ctx: BuildContext, e: Expr, n: SyntaxNode): Expr {
  const [, , arg] = ctx.kids(n);
  if (arg === undefined) throw new Bail();
  const end = ctx.o(n.to);
  let at: AtModifier;
  if (arg.name === 'AtModifierPreprocessors') {
    at = ctx.kids(arg)[0]?.name === 'AtStart' ? { kind: 'start' } : { kind: 'end' };
  } else if (arg.name === 'NumberDurationLiteral') {
    const ts = ctx.numberLiteral(arg).val;
    if (!Number.isFinite(ts) || ts >= MAX_TS_SECONDS || ts <= -MAX_TS_SECONDS) {
      ctx.fail(`timestamp out of bounds for @ modifier: ${formatFloatF6(ts)}`, e.pos.start, e.pos.end, end);
      at = { kind: 'time', ms: 0 };
    } else {
      const x = ts * 1000;
      at = { kind: 'time', ms: (x < 0 ? -Math.round(-x) : Math.round(x)) + 0 };
    }
  } else throw new Bail();
  const already = (x: { at: AtModifier | null }): boolean => {
    if (x.at !== null) {
      ctx.fail('@ <timestamp> may not be set multiple times', e.pos.start, e.pos.end, end);
      return true;
    }
    return false;
  };
  switch (e.type) {
    case 'VectorSelector':
      return already(e) ? e : { ...e, at, pos: { start: e.pos.start, end } };
    case 'MatrixSelector':
      return already(e.vectorSelector) ? e : { ...e, vectorSelector: { ...e.vectorSelector, at }, pos: { start: e.pos.start, end } };
    case 'SubqueryExpr':
      return already(e) ? e : { ...e, at, pos: { start: e.pos.start, end } };
    default:
      ctx.fail('@ modifier must be preceded by an instant vector selector or range vector selector or a subquery', e.pos.start, e.pos.end, end);
      return e;
  }
}

export function extendedRange(ctx: BuildContext, e: Expr, n: SyntaxNode): Expr {
  const which = n.name === 'AnchoredExpr' ? 'anchored' : 'smoothed';
  const other = which === 'anchored' ? 'smoothed' : 'anchored';
  const end = ctx.o(n.to);
  const err = (msg: string): Expr => {
    ctx.fail(msg, e.pos.start, e.pos.end, end);
    return e;
  };
  if (!ctx.opts.enableExtendedRangeSelectors) return err(`${which} modifier is experimental and not enabled`);
  switch (e.type) {
    case 'VectorSelector':
      if (e[other] === true) return err('anchored and smoothed modifiers cannot be used together');
      return { ...e, [which]: true };
    case 'MatrixSelector':
      if (e.vectorSelector[other] === true) return err('anchored and smoothed modifiers cannot be used together');
      return { ...e, vectorSelector: { ...e.vectorSelector, [which]: true } };
    case 'SubqueryExpr':
      return err(`${which} modifier is not supported for subqueries`);
    default:
      return err(`${which} modifier not implemented`);
  }
}
