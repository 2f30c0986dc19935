// The querier's options with Mimir's flag names, YAML keys and defaults (Mimir pkg/querier
// Config, pkg/api Config, pkg/util/validation Limits.MaxQueryLookback).
//
// Not added to src/app/config.ts here: the integrator wires the group into the schema.
import { boolOpt, defineGroup, durationOpt, intOpt, stringOpt, type Values } from '../config/index.js';

export const querierConfig = defineGroup('querier', {
  lookbackDelta: durationOpt('querier.lookback-delta', 'querier.lookback_delta', 300_000, 'Time since the last sample after which a time series is considered stale and ignored by expression evaluations. Queries may override it with the lookback_delta parameter.', { min: 1 }),
  maxSamples: intOpt('querier.max-samples', 'querier.max_samples', 50_000_000, 'Maximum number of samples a single query can load into memory. This config option should be set on query-frontend too when query sharding is enabled.', { min: 1 }),
  timeout: durationOpt('querier.timeout', 'querier.timeout', 120_000, 'The timeout for a query. A query\'s timeout parameter may shorten it, never lengthen it.', { min: 1 }),
  defaultEvaluationInterval: durationOpt('querier.default-evaluation-interval', 'querier.default_evaluation_interval', 60_000, 'The default evaluation interval or step size for subqueries.', { min: 1 }),
  maxQueryLookback: durationOpt('querier.max-query-lookback', 'limits.max_query_lookback', 0, 'Limit how long back data (series and metadata) can be queried, up until <lookback> duration ago. 0 = no limit.'),
  enableDelayedNameRemoval: boolOpt('querier.enable-delayed-name-removal', 'limits.enable_delayed_name_removal', false, 'Prometheus 3\'s delayed name removal (its promql-delayed-name-removal feature): operations that drop the metric name only mark it, and it is removed when the result is returned, so a later label_replace can still read it and series that differ only in their names do not collide mid-query. Off, as in Prometheus and Mimir: names are dropped at once and colliding results fail with "vector cannot contain metrics with the same labelset". A tenant may override it in the runtime config.'),
  prometheusHttpPrefix: stringOpt('http.prometheus-http-prefix', 'api.prometheus_http_prefix', '/prometheus', 'HTTP URL path under which the Prometheus API will be served.'),
}, (v) => {
  const p = v.prometheusHttpPrefix;
  if (p !== '' && (!p.startsWith('/') || p.endsWith('/'))) {
    throw new Error(`-http.prometheus-http-prefix must be empty or start with "/" and not end with "/", got "${p}"`);
  }
});

export type QuerierConfig = Values<typeof querierConfig.options>;
