// Per-query state shared by all evaluators of one query: options, fetched series, annotations,
// the sample budget (-querier.max-samples) and the cancellation/timeout checkpoint.
import type { AtModifier, Expr, VectorSelector } from '../ast.js';
import type { FunctionImpl } from '../functions/types.js';
import type { FloatHistogram, FPoint, HPoint, Labels } from '../value.js';
import type { AnnotationSet } from './annotations.js';
import { PromQLError } from './api.js';
import type { HistogramOps } from './hist.js';
import type { LoadedSeries } from './series.js';

/** One series of an evaluated expression: points at the evaluator's steps (or raw times for range selectors). */
export interface ESeries {
  metric: Labels;
  floats: FPoint[];
  histograms: HPoint[];
  /** Prometheus 3 delayed name removal: drop __name__ when the result is returned. */
  dropName: boolean;
}

export type EMatrix = ESeries[];

/** The environment label Prometheus puts in limit errors ("... in query execution"). */
export const ENV = 'query execution';

export function tooManySamples(): PromQLError {
  return new PromQLError('execution', `query processing would load too many samples into memory in ${ENV}`);
}

/** Cooperative checkpoint: cancellation, timeout, and yielding to the event loop. */
export class Ticker {
  #n = 0;
  #lastYield = Date.now();
  readonly #signal: AbortSignal | undefined;
  readonly #deadline: number;
  readonly #timeoutMs: number;
  #where = 'expression evaluation';

  constructor(signal: AbortSignal | undefined, timeoutMs: number) {
    this.#signal = signal;
    this.#timeoutMs = timeoutMs;
    this.#deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  }

  set where(w: string) {
    this.#where = w;
  }

  get deadline(): number {
    return this.#deadline;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Throws the canceled/timeout error if the query must stop now. */
  check(): void {
    if (this.#signal?.aborted === true) throw canceled(this.#where, this.#signal.reason);
    if (Date.now() > this.#deadline) throw timedOut(this.#where);
  }

  /**
   * Call once per unit of work (a step, a series). Every so often checks cancellation and the
   * deadline, and returns a promise to await when the evaluation has held the event loop for a
   * while; null otherwise (so hot loops do not await).
   */
  tick(): Promise<void> | null {
    if ((++this.#n & 255) !== 0) return null;
    return this.checkpoint();
  }

  checkpoint(): Promise<void> | null {
    this.check();
    const now = Date.now();
    if (now - this.#lastYield < 10) return null;
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        this.#lastYield = Date.now();
        resolve();
      });
    });
  }
}

export function canceled(where: string, cause?: unknown): PromQLError {
  return new PromQLError('canceled', `query was canceled in ${where}`, cause !== undefined ? { cause } : undefined);
}

export function timedOut(where: string): PromQLError {
  return new PromQLError('timeout', `query timed out in ${where}`);
}

export interface QueryCtx {
  /** the query's start and end (for @ start() / @ end()) */
  readonly startMs: number;
  readonly endMs: number;
  readonly lookbackMs: number;
  /** subquery step when the subquery has none */
  readonly defaultStepMs: number;
  readonly maxSamples: number;
  /** samples currently held in memory (Prometheus's currentSamples) */
  samples: number;
  readonly annos: AnnotationSet;
  readonly series: ReadonlyMap<VectorSelector, LoadedSeries[]>;
  /** step-invariant instant-vector/scalar nodes: evaluated once, then repeated for every step */
  readonly invariant: ReadonlySet<Expr>;
  /** selectors read for histogram count and sum only (Prepared.statsSelectors) */
  readonly statsSelectors: ReadonlySet<VectorSelector>;
  readonly functions: ReadonlyMap<string, FunctionImpl>;
  readonly hist: HistogramOps;
  readonly enableExperimental: boolean;
  /** EngineOptions.enableDelayedNameRemoval */
  readonly delayedNameRemoval: boolean;
  readonly ticker: Ticker;
}

export function resolveAt(q: QueryCtx, at: AtModifier | null): number | null {
  if (at === null) return null;
  switch (at.kind) {
    case 'time':
      return at.ms;
    case 'start':
      return q.startMs;
    case 'end':
      return q.endMs;
    default: {
      const never: never = at;
      throw new PromQLError('internal', `unknown @ modifier ${JSON.stringify(never)}`);
    }
  }
}

/** Adds `n` samples to the query's in-memory count; throws when over -querier.max-samples. */
export function addSamples(q: QueryCtx, n: number): void {
  q.samples += n;
  if (q.samples > q.maxSamples) throw tooManySamples();
}

/** Prometheus HPoint.size(): a histogram counts as its size in units of a float point (16 bytes). */
export function histogramSize(h: FloatHistogram): number {
  const bytes = 104 + 8 * (h.positiveBuckets.length + h.negativeBuckets.length + h.customValues.length) + 8 * (h.positiveSpans.length + h.negativeSpans.length);
  return Math.max(1, Math.floor(bytes / 16));
}

export function seriesSamples(s: ESeries): number {
  let n = s.floats.length;
  for (const p of s.histograms) n += histogramSize(p.h);
  return n;
}

export function matrixSamples(m: EMatrix): number {
  let n = 0;
  for (const s of m) n += seriesSamples(s);
  return n;
}
