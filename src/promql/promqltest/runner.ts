// Runs parsed promqltest scripts against a PromQL engine and checks the results the way the Go
// runner (promql/promqltest/test.go) does, including its two extra checks on instant evals: the
// `@` re-run (every selector pinned with `@ <eval time>`, evaluated at other times) and the
// range re-run (a range query around the eval time must give the same point).
import { PromQLError } from '../engine/api.js';
import type { QueryResult } from '../engine/api.js';
import type { QueryValue, Queryable, Vector } from '../value.js';
import { assertMatrixSorted, checkAnnotations, checkExpectedFailure, compareResult, formatExpected, formatValue } from './compare.js';
import { convertClassicHistograms } from './nhcb.js';
import { parseScript } from './script.js';
import { isFail, isOrdered } from './script.js';
import type { Command, EvalCommand, LoadCommand } from './script.js';
import { Slot } from './sequence.js';
import type { HistValue } from './sequence.js';
import { TestStorage } from './storage.js';
import { UNSUPPORTED_FEATURES, unsupportedFeature } from './unsupported.js';
import type { UnsupportedFeature } from './unsupported.js';

/** What the runner needs of an engine (src/promql/engine's Engine satisfies it). */
export interface QueryEngine {
  instantQuery(q: Queryable, query: string, timeMs: number, signal?: AbortSignal): Promise<QueryResult> | QueryResult;
  rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryResult> | QueryResult;
}

/**
 * For the `@` re-run: the query with every selector and subquery without `@` pinned to
 * `@ <timeMs>`, or null when the re-run does not apply (a function that is not step-invariant).
 */
export type AtRewriter = (query: string, timeMs: number) => string | null;

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  /** `file:line`, e.g. `operators.test:123` */
  readonly id: string;
  readonly file: string;
  readonly line: number;
  /** the eval (or load) header line */
  readonly header: string;
  readonly status: CaseStatus;
  /** failed: what went wrong; skipped: the feature */
  readonly message?: string;
  /** skipped: the unsupported feature's name */
  readonly feature?: string;
  readonly expected?: string;
  readonly actual?: string;
}

export interface RunOptions {
  readonly engine: QueryEngine;
  /** the `@` re-run of instant evals (needs a rewriter; skipped without one) */
  readonly atRewriter?: AtRewriter | null;
  /** the range re-run of instant evals (default true) */
  readonly rangeRerun?: boolean;
  /** per-query deadline, ms (default 60 s) */
  readonly queryTimeoutMs?: number;
  readonly unsupported?: readonly UnsupportedFeature[];
  /** aborts the run (each query gets it together with its own deadline) */
  readonly signal?: AbortSignal;
}

interface Outcome {
  message: string;
  actual?: string;
}

class CrashError extends Error {}

/** Runs one query; PromQLErrors come back as { error }, anything else is an engine crash. */
async function run(
  fn: (signal: AbortSignal) => Promise<QueryResult> | QueryResult,
  timeoutMs: number,
  outer: AbortSignal | undefined,
): Promise<{ result: QueryResult } | { error: string }> {
  outer?.throwIfAborted();
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = outer === undefined ? deadline : AbortSignal.any([outer, deadline]);
  try {
    return { result: await fn(signal) };
  } catch (err) {
    outer?.throwIfAborted();
    if (err instanceof PromQLError) return { error: err.message };
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    throw new CrashError(`engine threw a non-PromQL error: ${text}`);
  }
}

function vectorAt(value: QueryValue, t: number): Vector | string {
  if (value.type !== 'matrix') return `a range query returned a ${value.type}, not a matrix`;
  const vec: Vector = [];
  for (const s of value.value) {
    const f = s.floats.find((p) => p.t === t);
    if (f !== undefined) vec.push({ metric: s.metric, t, f: f.f, h: null });
    const h = s.histograms.find((p) => p.t === t);
    if (h !== undefined) vec.push({ metric: s.metric, t, f: 0, h: h.h });
  }
  return vec;
}

const QUERY_CONTEXT_FUNCS = /(?:start|end|range|step)\(\)/;

export class ScriptRunner {
  readonly #opts: RunOptions;
  readonly #timeout: number;

  constructor(opts: RunOptions) {
    this.#opts = opts;
    this.#timeout = opts.queryTimeoutMs ?? 60_000;
  }

  /** Runs every command of a script; returns one result per eval (and per broken command). */
  async runScript(file: string, text: string): Promise<CaseResult[]> {
    return this.runCommands(file, parseScript(text));
  }

  async runCommands(file: string, cmds: readonly Command[]): Promise<CaseResult[]> {
    const storage = new TestStorage();
    const out: CaseResult[] = [];
    for (const cmd of cmds) {
      switch (cmd.kind) {
        case 'clear':
          storage.clear();
          break;
        case 'error':
          out.push({ id: `${file}:${cmd.line}`, file, line: cmd.line, header: cmd.header, status: 'failed', message: `script error: ${cmd.message}` });
          break;
        case 'load': {
          try {
            load(storage, cmd);
          } catch (err) {
            out.push({ id: `${file}:${cmd.line}`, file, line: cmd.line, header: cmd.header, status: 'failed', message: `load failed: ${(err as Error).message}` });
          }
          break;
        }
        case 'eval': {
          const base = { id: `${file}:${cmd.line}`, file, line: cmd.line, header: cmd.header };
          const feature = unsupportedFeature(cmd, { startTimestamps: storage.hasStartTimestamps }, this.#opts.unsupported ?? UNSUPPORTED_FEATURES);
          if (feature !== null) {
            out.push({ ...base, status: 'skipped', feature: feature.name, message: feature.reason });
            break;
          }
          let outcome: Outcome | null;
          try {
            outcome = cmd.isRange ? await this.#rangeEval(storage, cmd) : await this.#instantEval(storage, cmd);
          } catch (err) {
            if (!(err instanceof CrashError)) throw err;
            this.#opts.signal?.throwIfAborted();
            outcome = { message: err.message };
          }
          if (outcome === null) out.push({ ...base, status: 'passed' });
          else out.push({ ...base, status: 'failed', message: outcome.message, expected: cmd.body.length > 0 ? cmd.body.join('\n') : formatExpected(cmd), actual: outcome.actual });
          break;
        }
        default: {
          const never: never = cmd;
          throw new Error(`unknown command ${JSON.stringify(never)}`);
        }
      }
    }
    return out;
  }

  async #rangeEval(storage: TestStorage, cmd: EvalCommand): Promise<Outcome | null> {
    const engine = this.#opts.engine;
    const r = await run((signal) => engine.rangeQuery(storage, cmd.expr, cmd.start, cmd.end, cmd.step, signal), this.#timeout, this.#opts.signal);
    if ('error' in r) {
      if (isFail(cmd)) {
        const m = checkExpectedFailure(cmd, r.error);
        return m === null ? null : { message: m };
      }
      return { message: `error evaluating query: ${r.error}` };
    }
    const actual = formatValue(r.result.value);
    if (isFail(cmd)) return { message: 'expected error evaluating query but got none', actual };
    const a = checkAnnotations(cmd, r.result.annotations);
    if (a !== null) return { message: a, actual: annotated(actual, r.result) };
    const c = compareResult(cmd, r.result.value);
    return c === null ? null : { message: c, actual };
  }

  async #instantEval(storage: TestStorage, cmd: EvalCommand): Promise<Outcome | null> {
    const queries: { expr: string; t: number; mode: string }[] = [{ expr: cmd.expr, t: cmd.evalTime, mode: '' }];
    const rewrite = this.#opts.atRewriter;
    if (rewrite !== undefined && rewrite !== null) {
      const pinned = rewrite(cmd.expr, cmd.evalTime);
      if (pinned !== null) {
        const ts = cmd.evalTime;
        const times = ts === 0 ? [-1000, 0, 1000] : [-10 * ts, 0, Math.trunc(ts / 5), ts, 10 * ts];
        for (const t of times) queries.push({ expr: pinned, t, mode: `@ re-run at t=${t}ms: ` });
      }
    }
    for (const q of queries) {
      const o = await this.#instantQuery(storage, cmd, q.expr, q.t);
      if (o !== null) return { message: q.mode + o.message, actual: o.actual };
    }
    return null;
  }

  async #instantQuery(storage: TestStorage, cmd: EvalCommand, expr: string, t: number): Promise<Outcome | null> {
    const engine = this.#opts.engine;
    const r = await run((signal) => engine.instantQuery(storage, expr, t, signal), this.#timeout, this.#opts.signal);
    if ('error' in r) {
      if (isFail(cmd)) {
        const m = checkExpectedFailure(cmd, r.error);
        return m === null ? null : { message: m };
      }
      return { message: `error evaluating query ${JSON.stringify(expr)}: ${r.error}` };
    }
    const actual = formatValue(r.result.value);
    if (isFail(cmd)) return { message: `expected error evaluating query ${JSON.stringify(expr)} but got none`, actual };
    const a = checkAnnotations(cmd, r.result.annotations);
    if (a !== null) return { message: a, actual: annotated(actual, r.result) };
    const c = compareResult(cmd, r.result.value);
    if (c !== null) return { message: c, actual };
    if (cmd.excludeFromRangeQuery || this.#opts.rangeRerun === false || QUERY_CONTEXT_FUNCS.test(expr)) return null;

    // The same query as a range query from t-1m to t+1m: the point at t must match too.
    const rr = await run((signal) => engine.rangeQuery(storage, expr, t - 60_000, t + 60_000, 60_000, signal), this.#timeout, this.#opts.signal);
    if ('error' in rr) return { message: `range re-run: error evaluating query ${JSON.stringify(expr)} in range mode: ${rr.error}` };
    if (isOrdered(cmd)) return null;
    const rangeActual = formatValue(rr.result.value);
    if (rr.result.value.type === 'matrix') {
      const s = assertMatrixSorted(rr.result.value.value);
      if (s !== null) return { message: `range re-run: ${s}`, actual: rangeActual };
    }
    const vec = vectorAt(rr.result.value, t);
    if (typeof vec === 'string') return { message: `range re-run: ${vec}`, actual: rangeActual };
    let c2: string | null;
    if (r.result.value.type === 'scalar') {
      const first = vec[0];
      c2 = first === undefined ? 'no point at the evaluation time' : compareResult(cmd, { type: 'scalar', value: { t, v: first.f } });
    } else {
      c2 = compareResult(cmd, { type: 'vector', value: vec });
    }
    return c2 === null ? null : { message: `range re-run (t-1m..t+1m step 1m): ${c2}`, actual: rangeActual };
  }
}

function annotated(actual: string, r: QueryResult): string {
  const lines = [actual];
  for (const w of r.annotations.warnings) lines.push(`warning: ${w}`);
  for (const i of r.annotations.infos) lines.push(`info: ${i}`);
  return lines.join('\n');
}

/** Executes a load command against the storage (TSDB append rules; throws on a rejected sample). */
export function load(storage: TestStorage, cmd: LoadCommand): void {
  if (cmd.startTimestamps) storage.hasStartTimestamps = true;
  for (const s of cmd.series) {
    for (let i = 0; i < s.values.length; i++) {
      const t = i * cmd.intervalMs;
      switch (s.values.kind(i)) {
        case Slot.Float:
          storage.appendFloat(s.labels, t, s.values, i);
          break;
        case Slot.Histogram:
          storage.appendHistogram(s.labels, t, (s.values.histogram(i) as HistValue).h);
          break;
        default:
          break;
      }
    }
  }
  if (cmd.withNHCB) {
    for (const fam of convertClassicHistograms(cmd.series, cmd.intervalMs)) {
      for (const p of fam.samples) storage.appendHistogram(fam.labels, p.t, p.h);
    }
  }
}
