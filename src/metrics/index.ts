// One prom-client registry per process (per app instance in tests), with process and Node.js metrics.
import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';

export { Registry, Counter, Gauge, Histogram };

export function createRegistry(): Registry {
  const r = new Registry();
  collectDefaultMetrics({ register: r });
  return r;
}

/** A registry without the default collectors, for unit tests of a component's metrics. */
export function createBareRegistry(): Registry {
  return new Registry();
}

/** Duration buckets of Mimir's cortex_request_duration_seconds (dskit's instrument.DefBuckets). */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The request metrics both servers share, labelled as Mimir labels them. */
export class RequestMetrics {
  readonly duration: Histogram<'method' | 'route' | 'status_code' | 'ws'>;
  readonly inflight: Gauge<'method' | 'route'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'cortex_request_duration_seconds',
      help: 'Time (in seconds) spent serving HTTP requests and gRPC calls.',
      labelNames: ['method', 'route', 'status_code', 'ws'],
      buckets: REQUEST_DURATION_BUCKETS,
      registers: [registry],
    });
    this.inflight = new Gauge({
      name: 'cortex_inflight_requests',
      help: 'Current number of in-flight HTTP requests and gRPC calls.',
      labelNames: ['method', 'route'],
      registers: [registry],
    });
  }
}

/**
 * The counter registered under `cfg.name` in the registry, created on first use. Metrics that
 * Mimir shares between components (cortex_discarded_samples_total is counted by distributors and
 * ingesters alike) are declared this way so -target=all registers them once.
 */
export function sharedCounter<L extends string>(registry: Registry, cfg: { name: string; help: string; labelNames: readonly L[] }): Counter<L> {
  const existing = registry.getSingleMetric(cfg.name);
  if (existing !== undefined) {
    if (!(existing instanceof Counter)) throw new Error(`metric ${cfg.name} is registered with another type`);
    return existing as Counter<L>;
  }
  return new Counter<L>({ name: cfg.name, help: cfg.help, labelNames: cfg.labelNames, registers: [registry] });
}
