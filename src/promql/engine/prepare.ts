// Query preparation: one walk over the syntax tree that
//  - checks what the engine must refuse before touching storage (experimental features),
//  - computes, for every selector, the time range [mint, maxt] its evaluation will read
//    (lookback, ranges, offsets, subqueries, @ with start()/end() resolved), so that each selector
//    is fetched exactly once,
//  - marks the step-invariant sub-expressions (Prometheus's StepInvariantExpr): instant vectors and
//    scalars whose value does not depend on the evaluation time, evaluated once per query.
import type { AtModifier, Expr, MatrixSelector, VectorSelector } from '../ast.js';
import { typeOf } from '../ast.js';
import type { StorageMatcher } from '../value.js';
import { PromQLError } from './api.js';

export interface SelectorFetch {
  readonly selector: VectorSelector;
  readonly matchers: readonly StorageMatcher[];
  mint: number;
  maxt: number;
}

export interface Prepared {
  readonly fetches: SelectorFetch[];
  readonly invariant: Set<Expr>;
  /**
   * Selectors whose histograms only feed histogram_count/_sum/_avg (no subquery,
   * histogram_quantile or histogram_fraction above): Prometheus reads them with its
   * HistogramStatsIterator (count and sum only, counter resets detected while reading).
   */
  readonly statsSelectors: Set<VectorSelector>;
}

const STATS_FUNCTIONS = new Set(['histogram_count', 'histogram_sum', 'histogram_avg']);
const BUCKET_FUNCTIONS = new Set(['histogram_quantile', 'histogram_fraction']);

/** Whether a selector's histograms are only used for count and sum (see Prepared.statsSelectors). */
interface Path {
  readonly stats: boolean;
  readonly blocked: boolean;
}

export interface PrepareOptions {
  readonly startMs: number;
  readonly endMs: number;
  readonly lookbackMs: number;
  readonly defaultStepMs: number;
  readonly enableExperimental: boolean;
  /** names of the functions available; others are refused */
  readonly functions: ReadonlySet<string>;
}

/** Functions whose result depends on the evaluation time itself (Prometheus AtModifierUnsafeFunctions). */
export const AT_MODIFIER_UNSAFE = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'time',
  'timestamp',
]);

const EXPERIMENTAL_AGGREGATIONS = new Set(['limitk', 'limit_ratio']);

export function prepare(root: Expr, o: PrepareOptions): Prepared {
  const fetches: SelectorFetch[] = [];
  const bySelector = new Map<VectorSelector, SelectorFetch>();
  const invariant = new Set<Expr>();
  const statsSelectors = new Set<VectorSelector>();

  const at = (m: AtModifier | null): number | null => {
    if (m === null) return null;
    return m.kind === 'time' ? m.ms : m.kind === 'start' ? o.startMs : o.endMs;
  };

  const record = (vs: VectorSelector, mint: number, maxt: number): void => {
    const f = bySelector.get(vs);
    if (f !== undefined) {
      f.mint = Math.min(f.mint, mint);
      f.maxt = Math.max(f.maxt, maxt);
      return;
    }
    const nf: SelectorFetch = {
      selector: vs,
      matchers: vs.matchers.map((m) => ({ type: m.type, name: m.name, value: m.value })),
      mint,
      maxt,
    };
    bySelector.set(vs, nf);
    fetches.push(nf);
  };

  const matrix = (ms: MatrixSelector, lo: number, hi: number, path: Path): void => {
    const vs = ms.vectorSelector;
    if (path.stats && !path.blocked) statsSelectors.add(vs);
    const a = at(vs.at);
    const refLo = (a ?? lo) - vs.offset;
    const refHi = (a ?? hi) - vs.offset;
    // anchored/smoothed windows reach back (and, smoothed, ahead) by the lookback delta
    const extra = vs.anchored === true || vs.smoothed === true ? o.lookbackMs : 0;
    record(vs, refLo - ms.range - extra + 1, refHi + (vs.smoothed === true ? o.lookbackMs : 0));
  };

  /** Walks `e`, evaluated at times within [lo, hi]; returns whether `e` is step-invariant. */
  const walk = (e: Expr, lo: number, hi: number, path: Path): boolean => {
    switch (e.type) {
      case 'NumberLiteral':
      case 'StringLiteral':
        return true;
      case 'VectorSelector': {
        if (path.stats && !path.blocked) statsSelectors.add(e);
        const a = at(e.at);
        const refLo = (a ?? lo) - e.offset;
        const refHi = (a ?? hi) - e.offset;
        record(e, refLo - o.lookbackMs + 1, refHi + (e.smoothed === true ? o.lookbackMs : 0));
        return mark(e, a !== null);
      }
      case 'MatrixSelector':
        matrix(e, lo, hi, path);
        return e.vectorSelector.at !== null;
      case 'SubqueryExpr': {
        const a = at(e.at);
        const refLo = (a ?? lo) - e.offset;
        const refHi = (a ?? hi) - e.offset;
        walk(e.expr, refLo - e.range, refHi, { stats: path.stats, blocked: true });
        return a !== null;
      }
      case 'ParenExpr':
      case 'UnaryExpr':
        return mark(e, walk(e.expr, lo, hi, path));
      case 'BinaryExpr': {
        // the trim operators need the buckets
        const sub: Path = e.op === '</' || e.op === '>/' ? { stats: path.stats, blocked: true } : path;
        const l = walk(e.lhs, lo, hi, sub);
        const r = walk(e.rhs, lo, hi, sub);
        return mark(e, l && r);
      }
      case 'AggregateExpr': {
        if (EXPERIMENTAL_AGGREGATIONS.has(e.op) && !o.enableExperimental) {
          throw new PromQLError('bad_data', `${e.op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`);
        }
        const p = e.param === null ? true : walk(e.param, lo, hi, path);
        const x = walk(e.expr, lo, hi, path);
        return mark(e, p && x);
      }
      case 'Call': {
        const name = e.func.name;
        if (e.func.experimental && !o.enableExperimental) throw new PromQLError('bad_data', `function "${name}" is not enabled`);
        if (!o.functions.has(name)) throw new PromQLError('bad_data', `unknown function "${name}" (not implemented)`);
        let inv = !AT_MODIFIER_UNSAFE.has(name);
        const sub: Path = { stats: path.stats || STATS_FUNCTIONS.has(name), blocked: path.blocked || BUCKET_FUNCTIONS.has(name) };
        for (const a of e.args) {
          if (!walk(a, lo, hi, sub)) inv = false;
        }
        return mark(e, inv);
      }
      default: {
        const never: never = e;
        throw new PromQLError('internal', `unknown expression node ${(never as { type: string }).type}`);
      }
    }
  };

  const mark = (e: Expr, inv: boolean): boolean => {
    if (inv) {
      const t = typeOf(e);
      if (t === 'vector' || t === 'scalar') invariant.add(e);
    }
    return inv;
  };

  walk(root, o.startMs, o.endMs, { stats: false, blocked: false });
  return { fetches, invariant, statsSelectors };
}
