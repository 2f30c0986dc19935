// The PromQL function table (Prometheus promql/parser/functions.go, 3.x): argument and return
// types, optional/variadic arguments and whether the function is experimental (Prometheus:
// --enable-feature=promql-experimental-functions; here ParseOptions.enableExperimentalFunctions).
// The parser type-checks calls against it; the engine and the function library read it too.
//
// `variadic` follows Prometheus's Function.Variadic:
//   0  every argument in argTypes is required;
//   n>0 the last entry of argTypes is optional and may be given up to n times;
//   -1 the last entry of argTypes is optional and may repeat without bound.
// Use minArgs/maxArgs/argTypeAt rather than reading the fields.
import type { FunctionSignature, ValueType } from '../ast.js';

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

function fn(name: string, argTypes: ValueType[], returnType: ValueType, opts: { variadic?: number; experimental?: boolean } = {}): FunctionSignature {
  return Object.freeze({ name, argTypes: Object.freeze(argTypes), variadic: opts.variadic ?? 0, returnType, experimental: opts.experimental ?? false });
}

const EXP = { experimental: true } as const;

const LIST: readonly FunctionSignature[] = [
  fn('abs', [V], V),
  fn('absent', [V], V),
  fn('absent_over_time', [M], V),
  fn('acos', [V], V),
  fn('acosh', [V], V),
  fn('asin', [V], V),
  fn('asinh', [V], V),
  fn('atan', [V], V),
  fn('atanh', [V], V),
  fn('avg_over_time', [M], V),
  fn('ceil', [V], V),
  fn('changes', [M], V),
  fn('clamp', [V, S, S], V),
  fn('clamp_max', [V, S], V),
  fn('clamp_min', [V, S], V),
  fn('cos', [V], V),
  fn('cosh', [V], V),
  fn('count_over_time', [M], V),
  fn('day_of_month', [V], V, { variadic: 1 }),
  fn('day_of_week', [V], V, { variadic: 1 }),
  fn('day_of_year', [V], V, { variadic: 1 }),
  fn('days_in_month', [V], V, { variadic: 1 }),
  fn('deg', [V], V),
  fn('delta', [M], V),
  fn('deriv', [M], V),
  fn('double_exponential_smoothing', [M, S, S], V, EXP),
  fn('end', [], S, EXP),
  fn('exp', [V], V),
  fn('first_over_time', [M], V),
  fn('floor', [V], V),
  fn('histogram_avg', [V], V),
  fn('histogram_count', [V], V),
  fn('histogram_fraction', [S, S, V], V),
  fn('histogram_quantile', [S, V], V),
  // 1 to 10 quantiles after the label name
  fn('histogram_quantiles', [V, STR, S, S], V, { variadic: 9, experimental: true }),
  fn('histogram_stddev', [V], V),
  fn('histogram_stdvar', [V], V),
  fn('histogram_sum', [V], V),
  fn('hour', [V], V, { variadic: 1 }),
  fn('idelta', [M], V),
  fn('increase', [M], V),
  fn('info', [V, V], V, { variadic: 1, experimental: true }),
  fn('irate', [M], V),
  fn('label_join', [V, STR, STR, STR], V, { variadic: -1 }),
  fn('label_replace', [V, STR, STR, STR, STR], V),
  fn('last_over_time', [M], V),
  fn('ln', [V], V),
  fn('log10', [V], V),
  fn('log2', [V], V),
  fn('mad_over_time', [M], V, EXP),
  fn('max_of', [S, S], S, EXP),
  fn('max_over_time', [M], V),
  fn('min_of', [S, S], S, EXP),
  fn('min_over_time', [M], V),
  fn('minute', [V], V, { variadic: 1 }),
  fn('month', [V], V, { variadic: 1 }),
  fn('pi', [], S),
  fn('predict_linear', [M, S], V),
  fn('present_over_time', [M], V),
  fn('quantile_over_time', [S, M], V),
  fn('rad', [V], V),
  fn('range', [], S, EXP),
  fn('rate', [M], V),
  fn('resets', [M], V),
  fn('round', [V, S], V, { variadic: 1 }),
  fn('scalar', [V], S),
  fn('sgn', [V], V),
  fn('sin', [V], V),
  fn('sinh', [V], V),
  fn('sort', [V], V),
  fn('sort_by_label', [V, STR], V, { variadic: -1, experimental: true }),
  fn('sort_by_label_desc', [V, STR], V, { variadic: -1, experimental: true }),
  fn('sort_desc', [V], V),
  fn('sqrt', [V], V),
  fn('start', [], S, EXP),
  fn('start_timestamp', [V], V, EXP),
  fn('step', [], S, EXP),
  fn('stddev_over_time', [M], V),
  fn('stdvar_over_time', [M], V),
  fn('sum_over_time', [M], V),
  fn('tan', [V], V),
  fn('tanh', [V], V),
  fn('time', [], S),
  fn('timestamp', [V], V),
  fn('ts_of_first_over_time', [M], V, EXP),
  fn('ts_of_last_over_time', [M], V, EXP),
  fn('ts_of_max_over_time', [M], V, EXP),
  fn('ts_of_min_over_time', [M], V, EXP),
  fn('vector', [S], V),
  fn('year', [V], V, { variadic: 1 }),
];

/** Every PromQL function by name. */
export const FUNCTION_SIGNATURES: ReadonlyMap<string, FunctionSignature> = new Map(LIST.map((f) => [f.name, f]));

/** Aggregations that Prometheus puts behind the experimental-functions flag. */
export const EXPERIMENTAL_AGGREGATIONS: ReadonlySet<string> = new Set(['limitk', 'limit_ratio']);

/** The fewest arguments a call may have. */
export function minArgs(f: FunctionSignature): number {
  return f.variadic === 0 ? f.argTypes.length : f.argTypes.length - 1;
}

/** The most arguments a call may have (Infinity when unbounded). */
export function maxArgs(f: FunctionSignature): number {
  if (f.variadic === 0) return f.argTypes.length;
  if (f.variadic < 0) return Infinity;
  return f.argTypes.length - 1 + f.variadic;
}

/** The expected type of argument i (extra variadic arguments take the last type); undefined past maxArgs. */
export function argTypeAt(f: FunctionSignature, i: number): ValueType | undefined {
  if (i >= maxArgs(f)) return undefined;
  return f.argTypes[Math.min(i, f.argTypes.length - 1)];
}
