// Duration expressions (Prometheus's experimental `promql-duration-expr`): evaluation, printing,
// and resolving the ones that use step() or range() once a query's step and range are known.
import type { DurationExpr, Expr } from '../ast.js';
import { PromQLError } from '../engine/api.js';
import { formatDurationMs } from './duration.js';
import { formatFloatG } from '../../util/go-strconv.js';

export class DurationEvalError extends Error {}

export interface DurationContext {
  /** the range query's step in ms (0 for instant queries) */
  readonly stepMs: number;
  /** end - start of the query in ms (0 for instant queries) */
  readonly rangeMs: number;
}

/** Whether the expression needs the query's step or range. */
export function isDynamicDuration(e: DurationExpr): boolean {
  switch (e.type) {
    case 'DurationNumber':
      return false;
    case 'DurationStep':
    case 'DurationRange':
      return true;
    case 'DurationUnary':
    case 'DurationParen':
      return isDynamicDuration(e.expr);
    case 'DurationBinary':
    case 'DurationCall':
      return isDynamicDuration(e.lhs) || isDynamicDuration(e.rhs);
    default: {
      const never: never = e;
      throw new Error(`unknown duration expression ${JSON.stringify(never)}`);
    }
  }
}

/** The value in seconds. Without a context, step() and range() count as 0. Throws DurationEvalError. */
export function evalDurationSeconds(e: DurationExpr, ctx?: DurationContext): number {
  switch (e.type) {
    case 'DurationNumber':
      return e.seconds;
    case 'DurationStep':
      return (ctx?.stepMs ?? 0) / 1000;
    case 'DurationRange':
      return (ctx?.rangeMs ?? 0) / 1000;
    case 'DurationParen':
      return evalDurationSeconds(e.expr, ctx);
    case 'DurationUnary': {
      const v = evalDurationSeconds(e.expr, ctx);
      return e.op === '-' ? -v : v;
    }
    case 'DurationCall': {
      const a = evalDurationSeconds(e.lhs, ctx);
      const b = evalDurationSeconds(e.rhs, ctx);
      return e.func === 'min_of' ? Math.min(a, b) : Math.max(a, b);
    }
    case 'DurationBinary': {
      const a = evalDurationSeconds(e.lhs, ctx);
      const b = evalDurationSeconds(e.rhs, ctx);
      const op = e.op;
      switch (op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (b === 0) throw new DurationEvalError('division by zero');
          return a / b;
        case '%':
          if (b === 0) throw new DurationEvalError('modulo by zero');
          return a % b;
        case '^':
          return Math.pow(a, b);
        default: {
          const never: never = op;
          throw new Error(`unknown duration operator ${String(never)}`);
        }
      }
    }
    default: {
      const never: never = e;
      throw new Error(`unknown duration expression ${JSON.stringify(never)}`);
    }
  }
}

const MAX_SECONDS = 2 ** 63 / 1e9;

/** Seconds to whole milliseconds, as Prometheus does: time.Duration(seconds*1000) * time.Millisecond. */
export function secondsToMs(seconds: number): number {
  if (!Number.isFinite(seconds) || Math.abs(seconds) >= MAX_SECONDS) throw new DurationEvalError('duration out of range');
  const ms = Math.trunc(seconds * 1000);
  return ms === 0 ? 0 : ms;
}

/** Prometheus's DurationExpr.String(). */
export function formatDurationExpr(e: DurationExpr): string {
  switch (e.type) {
    case 'DurationNumber':
      if (!e.duration) return formatFloatG(e.seconds);
      return formatDurationMs(Math.round(e.seconds * 1000));
    case 'DurationStep':
      return 'step()';
    case 'DurationRange':
      return 'range()';
    case 'DurationParen':
      return `(${formatDurationExpr(e.expr)})`;
    case 'DurationUnary':
      return e.op + formatDurationExpr(e.expr);
    case 'DurationCall':
      return `${e.func}(${formatDurationExpr(e.lhs)}, ${formatDurationExpr(e.rhs)})`;
    case 'DurationBinary':
      return `${formatDurationExpr(e.lhs)} ${e.op} ${formatDurationExpr(e.rhs)}`;
    default: {
      const never: never = e;
      throw new Error(`unknown duration expression ${JSON.stringify(never)}`);
    }
  }
}

function resolve(e: DurationExpr, ctx: DurationContext, what: 'range' | 'step' | 'offset'): number {
  let ms: number;
  try {
    ms = secondsToMs(evalDurationSeconds(e, ctx));
  } catch (err) {
    if (err instanceof DurationEvalError) throw new PromQLError('bad_data', err.message);
    throw err;
  }
  if (what === 'range' && ms <= 0) throw new PromQLError('bad_data', 'duration must be greater than 0');
  if (what === 'step' && ms < 0) throw new PromQLError('bad_data', 'duration must be greater than 0');
  return ms;
}

/** Whether the expression has durations that need resolveDurationExprs(). */
export function hasDynamicDurations(e: Expr): boolean {
  let found = false;
  walk(e, (n) => {
    if (n.type === 'VectorSelector' && n.offsetExpr !== undefined && isDynamicDuration(n.offsetExpr)) found = true;
    if (n.type === 'MatrixSelector' && n.rangeExpr !== undefined && isDynamicDuration(n.rangeExpr)) found = true;
    if (n.type === 'SubqueryExpr') {
      for (const d of [n.rangeExpr, n.stepExpr, n.offsetExpr]) if (d !== undefined && isDynamicDuration(d)) found = true;
    }
  });
  return found;
}

function walk(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.type) {
    case 'MatrixSelector':
      walk(e.vectorSelector, f);
      break;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      walk(e.expr, f);
      break;
    case 'BinaryExpr':
      walk(e.lhs, f);
      walk(e.rhs, f);
      break;
    case 'AggregateExpr':
      if (e.param !== null) walk(e.param, f);
      walk(e.expr, f);
      break;
    case 'Call':
      for (const a of e.args) walk(a, f);
      break;
    default:
      break;
  }
}

/**
 * Evaluates duration expressions that use step() or range() for one query (instant queries: step
 * and range 0) and returns the expression with range/step/offset filled in. Returns `e` itself
 * when there is nothing to do. Throws PromQLError (bad_data) like Prometheus: "duration must be
 * greater than 0", "division by zero", "duration out of range".
 */
export function resolveDurationExprs(e: Expr, ctx: DurationContext): Expr {
  if (!hasDynamicDurations(e)) return e;
  const rec = (n: Expr): Expr => {
    switch (n.type) {
      case 'VectorSelector':
        return n.offsetExpr !== undefined && isDynamicDuration(n.offsetExpr) ? { ...n, offset: resolve(n.offsetExpr, ctx, 'offset') } : n;
      case 'MatrixSelector': {
        const vs = rec(n.vectorSelector);
        const range = n.rangeExpr !== undefined && isDynamicDuration(n.rangeExpr) ? resolve(n.rangeExpr, ctx, 'range') : n.range;
        return { ...n, vectorSelector: vs as typeof n.vectorSelector, range };
      }
      case 'SubqueryExpr': {
        const dyn = (d: DurationExpr | undefined): d is DurationExpr => d !== undefined && isDynamicDuration(d);
        return {
          ...n,
          expr: rec(n.expr),
          range: dyn(n.rangeExpr) ? resolve(n.rangeExpr, ctx, 'range') : n.range,
          step: dyn(n.stepExpr) ? resolve(n.stepExpr, ctx, 'step') : n.step,
          offset: dyn(n.offsetExpr) ? resolve(n.offsetExpr, ctx, 'offset') : n.offset,
        };
      }
      case 'ParenExpr':
      case 'UnaryExpr':
        return { ...n, expr: rec(n.expr) };
      case 'BinaryExpr':
        return { ...n, lhs: rec(n.lhs), rhs: rec(n.rhs) };
      case 'AggregateExpr':
        return { ...n, expr: rec(n.expr), param: n.param === null ? null : rec(n.param) };
      case 'Call':
        return { ...n, args: n.args.map(rec) };
      default:
        return n;
    }
  };
  return rec(e);
}
