// The PromQL function library: FUNCTIONS maps a function name to its implementation (see
// ./types.ts for the contract with the engine). Prometheus 3.x semantics; docs/promql.md
// "Functions" lists what is implemented and where Muninn differs.
import { DATE_FUNCTIONS } from './date.js';
import { HISTOGRAM_FUNCTIONS } from './histograms.js';
import { MATH_FUNCTIONS } from './math.js';
import { OVER_TIME_FUNCTIONS } from './over-time.js';
import { RATE_FUNCTIONS } from './rate.js';
import { SERIES_FUNCTIONS } from './series.js';
import { TREND_FUNCTIONS } from './trend.js';
import type { FunctionImpl } from './types.js';

export type { FnArg, FnContext, FunctionImpl } from './types.js';

function build(): ReadonlyMap<string, FunctionImpl> {
  const m = new Map<string, FunctionImpl>();
  for (const group of [MATH_FUNCTIONS, DATE_FUNCTIONS, RATE_FUNCTIONS, TREND_FUNCTIONS, OVER_TIME_FUNCTIONS, HISTOGRAM_FUNCTIONS, SERIES_FUNCTIONS]) {
    for (const [name, fn] of group) {
      if (m.has(name)) throw new Error(`function ${name} defined twice`);
      m.set(name, fn);
    }
  }
  return m;
}

/** Every implemented PromQL function by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionImpl> = build();
