// The querier: the PromQL engine over the ingesters, as a service. Its entry points (the query
// API) check that it is Running and otherwise answer with a retryable 503. Stopping closes the
// ingester clients it was given (close is not send: late calls on the pool get a retryable
// error).
import { BasicService, State } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import { PromQLError, type EngineOptions, type QueryResult } from '../promql/engine/api.js';
import { Engine } from '../promql/engine/index.js';
import type { Queryable } from '../promql/value.js';
import type { Ring } from '../ring/index.js';
import type { QuerierConfig } from './config.js';
import { type IngesterClients, IngesterQuerier } from './ingester-queryable.js';

/** What the querier needs of the PromQL engine (src/promql/engine Engine). */
export interface QueryEngine {
  instantQuery(q: Queryable, query: string, timeMs: number, signal?: AbortSignal): Promise<QueryResult>;
  rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryResult>;
}

export type EngineFactory = (opts: EngineOptions) => QueryEngine;

export interface QuerierOptions {
  config: QuerierConfig;
  /** The ingesters' ring (RingWatcher.ring()). */
  ring: () => Ring;
  clients: IngesterClients;
  /** Builds engines (per distinct lookback delta / timeout a query asks for); default: the PromQL Engine. */
  engine?: EngineFactory;
  log: Logger;
  /**
   * A tenant's querier limits (runtime overrides of -querier.max-query-lookback and
   * -querier.enable-delayed-name-removal); default: the config's values for every tenant.
   */
  tenantLimits?: (tenant: string) => Pick<QuerierConfig, 'maxQueryLookback' | 'enableDelayedNameRemoval'>;
  /** Called once when the service stops (e.g. closing the ingester client pool). */
  onStop?: () => void;
  now?: () => number;
}

/** Per-query engine settings a request may override (lookback_delta, timeout). */
export interface QueryOverrides {
  lookbackDeltaMs?: number;
  timeoutMs?: number;
  /** The tenant the query is for (its -querier.enable-delayed-name-removal override). */
  tenant?: string;
}

const defaultEngine: EngineFactory = (o) => new Engine(o);

export class Querier extends BasicService {
  readonly config: QuerierConfig;
  readonly ingesters: IngesterQuerier;
  private readonly o: QuerierOptions;
  private readonly engines = new Map<string, QueryEngine>();

  constructor(opts: QuerierOptions) {
    super('querier');
    this.o = opts;
    this.config = opts.config;
    this.ingesters = new IngesterQuerier({
      ring: opts.ring,
      clients: opts.clients,
      log: opts.log,
      maxQueryLookbackMs: opts.config.maxQueryLookback,
      ...(opts.tenantLimits !== undefined ? { maxQueryLookbackFor: (t: string) => opts.tenantLimits!(t).maxQueryLookback } : {}),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
  }

  /** Throws a retryable PromQLError ('unavailable', 503) unless the querier is Running. */
  checkRunning(): void {
    const s = this.state();
    if (s !== State.Running) throw new PromQLError('unavailable', `querier is not running (${s})`);
  }

  /** The engine for a query's settings: the configured ones, a query's lookback delta, a shorter timeout. */
  engine(over: QueryOverrides = {}): QueryEngine {
    const lookback = over.lookbackDeltaMs !== undefined && over.lookbackDeltaMs > 0 ? over.lookbackDeltaMs : this.config.lookbackDelta;
    const timeout = over.timeoutMs !== undefined && over.timeoutMs < this.config.timeout ? Math.max(over.timeoutMs, 0.001) : this.config.timeout;
    const delayed = over.tenant !== undefined && this.o.tenantLimits !== undefined ? this.o.tenantLimits(over.tenant).enableDelayedNameRemoval : this.config.enableDelayedNameRemoval;
    const key = `${lookback}/${timeout}/${delayed}`;
    let e = this.engines.get(key);
    if (e === undefined) {
      e = (this.o.engine ?? defaultEngine)({ lookbackDeltaMs: lookback, maxSamples: this.config.maxSamples, timeoutMs: timeout, defaultEvaluationIntervalMs: this.config.defaultEvaluationInterval, enableDelayedNameRemoval: delayed });
      // a bounded cache: requests choose these numbers
      if (this.engines.size >= 64) this.engines.clear();
      this.engines.set(key, e);
    }
    return e;
  }

  /** A tenant's data for the engine. */
  queryable(tenant: string): Queryable {
    return this.ingesters.queryable(tenant);
  }

  protected override async stopping(): Promise<void> {
    this.o.onStop?.();
  }
}
