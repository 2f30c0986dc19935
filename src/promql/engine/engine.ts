// The PromQL engine: instant and range queries over a Queryable.
//
//   parse -> prepare (resolve @ start()/end(), each selector's [mint, maxt], step invariants)
//   -> fetch every selector once (Queryable.select, in parallel) -> evaluate (./evaluator.ts)
//   -> shape the result (delayed __name__ removal, duplicate label sets, sorting).
import type { Expr } from '../ast.js';
import { typeOf, unwrapParens } from '../ast.js';

import type { Matrix, Queryable, QueryValue, Series, StorageSeries, Vector } from '../value.js';
import { MuninnError } from '../../errors/index.js';
import { AnnotationSet } from './annotations.js';
import type { EngineOptions, QueryResult } from './api.js';
import { PromQLError } from './api.js';
import type { EMatrix, QueryCtx } from './context.js';
import { canceled, Ticker, timedOut } from './context.js';
import { FUNCTIONS } from '../functions/index.js';
import { parseExpr, resolveDurationExprs } from '../parser/index.js';
import { assertDistinctLabelsets, Evaluator } from './evaluator.js';
import { HISTOGRAM_OPS } from './hist.js';
import { compareLabels, dropMetadata, labelsKey } from './labels.js';
import { prepare } from './prepare.js';
import { LoadedSeries } from './series.js';

const DEFAULT_LOOKBACK_MS = 5 * 60_000;
const DEFAULT_EVALUATION_INTERVAL_MS = 60_000;

const DOCUMENTED_TYPE: Record<string, string> = { matrix: 'range vector', vector: 'instant vector', scalar: 'scalar', string: 'string', none: 'none' };

export class Engine {
  readonly #opts: EngineOptions;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
  }

  /** Evaluates `query` at `timeMs`: a vector, scalar, string, or (for a range selector or subquery) a matrix. */
  instantQuery(q: Queryable, query: string | Expr, timeMs: number, signal?: AbortSignal): Promise<QueryResult> {
    return this.#run(q, query, timeMs, timeMs, 0, signal);
  }

  /** Evaluates `query` at startMs, startMs + stepMs, ... <= endMs: always a matrix, series sorted by labels. */
  rangeQuery(q: Queryable, query: string | Expr, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryResult> {
    if (!(stepMs > 0)) return Promise.reject(new PromQLError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer'));
    if (endMs < startMs) return Promise.reject(new PromQLError('bad_data', 'end timestamp must not be before start time'));
    return this.#run(q, query, startMs, endMs, stepMs, signal);
  }

  async #run(queryable: Queryable, query: string | Expr, start: number, end: number, step: number, signal: AbortSignal | undefined): Promise<QueryResult> {
    const o = this.#opts;
    const ticker = new Ticker(signal, o.timeoutMs);
    try {
      ticker.where = 'query preparation';
      ticker.check();
      let expr: Expr;
      let text: string | null = null;
      if (typeof query === 'string') {
        text = query;
        try {
          expr = parseExpr(query, o.parseOptions ?? { enableExperimentalFunctions: o.enableExperimentalFunctions === true });
        } catch (e) {
          if (e instanceof PromQLError) throw e;
          throw new PromQLError('bad_data', e instanceof Error ? e.message : String(e), { cause: e });
        }
      } else {
        expr = query;
      }
      expr = resolveDurationExprs(expr, { stepMs: step, rangeMs: end - start });
      const type = typeOf(expr);
      if (step > 0 && type !== 'vector' && type !== 'scalar') {
        throw new PromQLError('bad_data', `invalid expression type "${DOCUMENTED_TYPE[type] ?? type}" for range query, must be Scalar or instant Vector`);
      }
      const functions = o.functions ?? FUNCTIONS;
      const hist = HISTOGRAM_OPS;
      const lookbackMs = o.lookbackDeltaMs > 0 ? o.lookbackDeltaMs : DEFAULT_LOOKBACK_MS;
      const defaultStepMs = o.defaultEvaluationIntervalMs !== undefined && o.defaultEvaluationIntervalMs > 0 ? o.defaultEvaluationIntervalMs : DEFAULT_EVALUATION_INTERVAL_MS;
      const enableExperimental = o.enableExperimentalFunctions === true;
      const prep = prepare(expr, { startMs: start, endMs: end, lookbackMs, defaultStepMs, enableExperimental, functions: new Set(functions.keys()) });

      const series = await this.#fetch(queryable, prep.fetches, ticker, signal);

      ticker.where = 'expression evaluation';
      const annos = new AnnotationSet(text);
      const ctx: QueryCtx = {
        startMs: start,
        endMs: end,
        lookbackMs,
        defaultStepMs,
        maxSamples: o.maxSamples > 0 ? o.maxSamples : Infinity,
        samples: 0,
        annos,
        series,
        invariant: prep.invariant,
        statsSelectors: prep.statsSelectors,
        functions,
        hist,
        enableExperimental,
        delayedNameRemoval: o.enableDelayedNameRemoval === true,
        ticker,
      };
      const value = await this.#evaluate(ctx, expr, type, start, end, step);
      ticker.check();
      return { value, annotations: annos.toJSON() };
    } catch (e) {
      throw toPromQLError(e);
    }
  }

  /** Fetches every selector once, in parallel; a timeout or cancellation interrupts the wait. */
  async #fetch(
    queryable: Queryable,
    fetches: ReturnType<typeof prepare>['fetches'],
    ticker: Ticker,
    signal: AbortSignal | undefined,
  ): Promise<Map<import('../ast.js').VectorSelector, LoadedSeries[]>> {
    const out = new Map<import('../ast.js').VectorSelector, LoadedSeries[]>();
    if (fetches.length === 0) return out;
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      const left = ticker.deadline - Date.now();
      if (Number.isFinite(left)) {
        timer = setTimeout(() => {
          const err = timedOut('query preparation');
          ac.abort(err);
          reject(err);
        }, Math.max(0, left));
        timer.unref();
      }
      if (signal !== undefined) {
        onAbort = () => {
          const err = canceled('query preparation', signal.reason);
          ac.abort(err);
          reject(err);
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    stop.catch(() => undefined); // raced below; never an unhandled rejection
    try {
      const all = Promise.all(
        fetches.map(async (f) => {
          const res: StorageSeries[] = await queryable.select(f.matchers, f.mint, f.maxt, ac.signal);
          out.set(
            f.selector,
            res.map((s) => new LoadedSeries(s)),
          );
        }),
      );
      all.catch(() => undefined);
      await Promise.race([all, stop]);
    } catch (e) {
      ac.abort(e);
      if (e instanceof PromQLError || e instanceof MuninnError) throw e;
      if (ac.signal.aborted && ac.signal.reason instanceof PromQLError) throw ac.signal.reason;
      throw new PromQLError('internal', `expanding series: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== undefined && onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
    return out;
  }

  async #evaluate(ctx: QueryCtx, expr: Expr, type: string, start: number, end: number, step: number): Promise<QueryValue> {
    const top = unwrapParens(expr);
    if (type === 'string') {
      return { type: 'string', value: { t: start, s: top.type === 'StringLiteral' ? top.val : '' } };
    }
    const ev = new Evaluator(ctx, start, end, step > 0 ? step : 1);
    const m = await ev.eval(expr);
    if (step > 0 || type === 'matrix') {
      return { type: 'matrix', value: finishMatrix(m) };
    }
    if (type === 'scalar') {
      return { type: 'scalar', value: { t: start, v: m[0]?.floats[0]?.f ?? NaN } };
    }
    const vec: Vector = [];
    for (const s of m) {
      const metric = s.dropName ? dropMetadata(s.metric) : s.metric;
      const fp = s.floats[0];
      const hp = s.histograms[0];
      if (hp !== undefined) vec.push({ metric, t: start, f: 0, h: hp.h });
      else if (fp !== undefined) vec.push({ metric, t: start, f: fp.f, h: null });
    }
    assertDistinctLabelsets(vec);
    return { type: 'vector', value: vec };
  }
}

/** Drops names where asked, merges series that now share a label set (if their points do not collide), sorts. */
function finishMatrix(m: EMatrix): Matrix {
  const byKey = new Map<string, Series>();
  for (const s of m) {
    const metric = s.dropName ? dropMetadata(s.metric) : s.metric;
    const k = labelsKey(metric);
    const prev = byKey.get(k);
    if (prev === undefined) {
      byKey.set(k, { metric, floats: s.floats, histograms: s.histograms });
      continue;
    }
    prev.floats = mergePoints(prev.floats, s.floats);
    prev.histograms = mergePoints(prev.histograms, s.histograms);
  }
  const out = [...byKey.values()];
  out.sort((a, b) => compareLabels(a.metric, b.metric));
  return out;
}

function mergePoints<P extends { t: number }>(a: P[], b: P[]): P[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const all = a.concat(b).sort((x, y) => x.t - y.t);
  for (let i = 1; i < all.length; i++) {
    if ((all[i] as P).t === (all[i - 1] as P).t) throw new PromQLError('execution', 'vector cannot contain metrics with the same labelset');
  }
  return all;
}

function toPromQLError(e: unknown): Error {
  if (e instanceof PromQLError) return e;
  if (e instanceof MuninnError) return e;
  return new PromQLError('internal', `unexpected error: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}


