// The engine's public API and errors. Implementation: ./engine.ts.
import { MuninnError } from '../../errors/index.js';
import type { FunctionImpl } from '../functions/types.js';
import type { ParseOptions } from '../parser/index.js';
import type { Annotations, QueryValue } from '../value.js';

export interface EngineOptions {
  /** -querier.lookback-delta (5m) */
  lookbackDeltaMs: number;
  /** -querier.max-samples (50M): most samples a query may hold in memory at once */
  maxSamples: number;
  /** -querier.timeout (2m) */
  timeoutMs: number;
  /** allow functions/aggregations Prometheus puts behind --enable-feature=promql-experimental-functions */
  enableExperimentalFunctions?: boolean;
  /**
   * (additive) Step of subqueries written without one (`x[5m:]`): Prometheus's default
   * evaluation interval, 1m when not set.
   */
  defaultEvaluationIntervalMs?: number;
  /** (additive) The functions calls resolve to; default: FUNCTIONS of ../functions/ (tests register their own). */
  functions?: ReadonlyMap<string, FunctionImpl>;
  /** (additive) Options for parsing query strings; default: experimental functions as enableExperimentalFunctions. */
  parseOptions?: ParseOptions;
  /**
   * Prometheus 3's delayed name removal (--enable-feature=promql-delayed-name-removal; Mimir's
   * -querier.enable-delayed-name-removal): operations that drop `__name__` only mark it and it is
   * removed when the result is returned. Off (Prometheus's and Mimir's default): removed at once,
   * so results that then share a label set fail with "vector cannot contain metrics with the same
   * labelset". Prometheus's test scripts run with it on.
   */
  enableDelayedNameRemoval?: boolean;
}

export interface QueryResult {
  value: QueryValue;
  annotations: Annotations;
}

/** Prometheus's error types (the API's errorType): bad_data 400, execution 422, timeout 503, canceled 499/503, internal 500. */
export type PromQLErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'unavailable';

const HTTP: Record<PromQLErrorType, number> = { bad_data: 400, execution: 422, timeout: 503, canceled: 499, internal: 500, unavailable: 503 };
const CODE = { bad_data: 'bad_data', execution: 'bad_data', timeout: 'timeout', canceled: 'canceled', internal: 'internal', unavailable: 'unavailable' } as const;

export class PromQLError extends MuninnError {
  readonly errorType: PromQLErrorType;
  constructor(errorType: PromQLErrorType, message: string, options?: { cause?: unknown }) {
    super(CODE[errorType], message, options);
    this.name = 'PromQLError';
    this.errorType = errorType;
  }
  override get httpStatus(): number {
    return HTTP[this.errorType];
  }
}
