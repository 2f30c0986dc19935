// Durations in ranges, subquery steps and offsets: plain literals (`5m`, `90`, `-1h`) and, with
// experimentalDurationExpr, arithmetic (`26m+4m`, `step()*2`, `min_of(range(), 5m)`), folded
// when constant.
import type { DurationExpr } from '../ast.js';
import { Bail, type BuildContext, type SyntaxNode } from './build-context.js';
import { DurationEvalError, evalDurationSeconds, isDynamicDuration, secondsToMs } from './duration-expr.js';

const DURATION_OPS: Readonly<Record<string, '+' | '-' | '*' | '/' | '%' | '^'>> = { Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^' };

export interface Duration {
  ms: number;
  /** the expression when written as one (not a plain, possibly signed, literal) */
  expr: DurationExpr | undefined;
}

/** A lezer duration node (DurationExpr / OffsetDurationExpr) as a DurationExpr; `plain` for (signed) literals. */
export function durationExpr(ctx: BuildContext, n: SyntaxNode): { e: DurationExpr; plain: boolean } {
  const kids = ctx.kids(n);
  const [a, b, c] = kids;
  if (a === undefined) throw new Bail();
  if (kids.length === 1) {
    switch (a.name) {
      case 'NumberDurationLiteralInDurationContext': {
        const { signs, num } = ctx.signedNumber(a);
        if (signs.length > 0) throw new Bail();
        const { val, duration } = ctx.tokenValue(num);
        return { e: { type: 'DurationNumber', seconds: val, duration }, plain: true };
      }
      case 'DurationStep':
        return { e: { type: 'DurationStep' }, plain: false };
      case 'DurationRange':
        return { e: { type: 'DurationRange' }, plain: false };
      case 'DurationExpr':
        // "(" DurationExpr ")": either the expression itself (n is a wrapper) or parentheses
        if (ctx.o(a.from) === ctx.o(n.from) && ctx.o(a.to) === ctx.o(n.to)) return durationExpr(ctx, a);
        return { e: { type: 'DurationParen', expr: durationExpr(ctx, a).e }, plain: false };
      default:
        throw new Bail();
    }
  }
  if (a.name === 'UnaryOp' && b !== undefined && kids.length === 2) {
    const inner = durationExpr(ctx, b);
    const op = ctx.text(a) === '-' ? '-' : '+';
    if (inner.plain && inner.e.type === 'DurationNumber') {
      return { e: { ...inner.e, seconds: op === '-' ? -inner.e.seconds : inner.e.seconds }, plain: true };
    }
    return { e: { type: 'DurationUnary', op, expr: inner.e }, plain: false };
  }
  if ((a.name === 'DurationMinOf' || a.name === 'DurationMaxOf') && b !== undefined && c !== undefined && kids.length === 3) {
    return { e: { type: 'DurationCall', func: a.name === 'DurationMinOf' ? 'min_of' : 'max_of', lhs: durationExpr(ctx, b).e, rhs: durationExpr(ctx, c).e }, plain: false };
  }
  if (b !== undefined && c !== undefined && kids.length === 3) {
    const op = DURATION_OPS[b.name];
    if (op === undefined) throw new Bail();
    const lhs = durationExpr(ctx, a).e;
    const rhs = durationExpr(ctx, c).e;
    if ((op === '/' || op === '%') && !isDynamicDuration(rhs)) {
      try {
        if (evalDurationSeconds(rhs) === 0) ctx.fail(op === '/' ? 'division by zero' : 'modulo by zero', ctx.o(b.from), ctx.o(b.to), ctx.o(c.to));
      } catch (err) {
        if (!(err instanceof DurationEvalError)) throw err;
      }
    }
    return { e: { type: 'DurationBinary', op, lhs, rhs }, plain: false };
  }
  throw new Bail();
}

/** A range, step or offset. Expressions need experimentalDurationExpr; constant ones are evaluated. */
export function duration(ctx: BuildContext, n: SyntaxNode, what: 'range' | 'step' | 'offset'): Duration {
  const start = ctx.o(n.from);
  const end = ctx.o(n.to);
  const before = ctx.errors.length;
  const { e, plain } = durationExpr(ctx, n);
  if (!plain && !ctx.opts.experimentalDurationExpr) {
    ctx.fail('experimental duration expression is not enabled', start, end, end);
    return { ms: 0, expr: e };
  }
  if (ctx.errors.length > before) return { ms: 0, expr: plain ? undefined : e };
  if (isDynamicDuration(e)) return { ms: 0, expr: e };
  let ms = 0;
  try {
    ms = secondsToMs(evalDurationSeconds(e));
  } catch (err) {
    if (!(err instanceof DurationEvalError)) throw err;
    ctx.fail(err.message, start, end, end);
    return { ms: 0, expr: plain ? undefined : e };
  }
  if ((what === 'range' && ms <= 0) || (what === 'step' && ms < 0)) ctx.fail('duration must be greater than 0', start, end, end);
  return { ms, expr: plain ? undefined : e };
}
