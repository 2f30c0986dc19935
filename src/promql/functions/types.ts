// The contract between the engine (../engine/) and the function library (./): the engine
// evaluates a call's arguments at one evaluation step and hands them over; the function returns
// that step's result. Functions are pure: no I/O, no clock.
import type { Expr, PosRange } from '../ast.js';
import type { Matrix, Vector } from '../value.js';

export type FnArg =
  | { readonly kind: 'scalar'; readonly v: number }
  | { readonly kind: 'string'; readonly s: string }
  /** instant vector at this step; sample t = the step's time, except for timestamp() (below) */
  | { readonly kind: 'vector'; readonly v: Vector }
  /** range vector at this step: each series' points in (t - range, t], range given in `rangeMs` */
  | {
      readonly kind: 'matrix';
      readonly m: Matrix;
      readonly rangeMs: number;
      /**
       * (additive) The end of this step's window in ms: the step time, or the @ time, minus the
       * offset (Prometheus's rangeEnd). rate/increase/delta extrapolate to it. When absent, the
       * functions derive it from the argument expression (offset, numeric @) and ctx.t.
       */
      readonly rangeEnd?: number;
    };

export interface FnContext {
  /** the evaluation time of this step, ms */
  readonly t: number;
  /** the argument expressions as written (absent() reads the matchers of its selector) */
  readonly args: readonly Expr[];
  /**
   * Prometheus annotations: 'warning' (e.g. mixed floats and histograms) or 'info' (e.g. "metric
   * might not be a counter"). `message` is Prometheus's text without the "PromQL info: " prefix and
   * without the " (line:col)" suffix; (additive) `pos` is the argument expression it refers to.
   * Functions may report the same annotation many times per query; the engine deduplicates.
   */
  annotate(kind: 'warning' | 'info', message: string, pos?: PosRange): void;
}

/**
 * Returns the step's value: a Vector (for instant-vector functions; samples get t = ctx.t, and
 * `dropName: true` where Prometheus drops the metric name) or a number (scalar functions).
 * Throws PromQLError('execution', ...) for a runtime error (e.g. duplicate output series).
 *
 * timestamp(): when its argument is a vector selector (possibly parenthesised), the engine passes
 * the samples with their own timestamps in `t`.
 */
export type FunctionImpl = (args: readonly FnArg[], ctx: FnContext) => Vector | number;
