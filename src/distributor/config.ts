// The distributor's options with Mimir's flag names, YAML keys and defaults:
//
// - `distributorConfig`: per-instance settings (Mimir pkg/distributor/distributor.go Config and
//   instance_limits.go), plus the two root-level auth options the push path needs
//   (`-auth.multitenancy-enabled`, `-auth.no-auth-tenant`).
// - `validationConfig`: the per-tenant limits the distributor enforces (Mimir
//   pkg/util/validation/limits.go), YAML under `limits:` like Mimir, so the runtime config can later
//   override them per tenant.
//
// Not added to src/app/config.ts here: the integrator wires both groups into the schema.
import { boolOpt, defineGroup, durationOpt, enumOpt, floatOpt, intOpt, stringOpt, type Values } from '../config/index.js';
import { isValidTenantId } from '../tenant/index.js';

const MiB = 1024 * 1024;

export const distributorConfig = defineGroup('distributor', {
  maxRecvMsgSize: intOpt('distributor.max-recv-msg-size', 'distributor.max_recv_msg_size', 100 * MiB, 'Largest remote-write request body, in bytes, a distributor accepts; larger requests are refused (HTTP 413).', { min: 1 }),
  remoteTimeout: durationOpt('distributor.remote-timeout', 'distributor.remote_timeout', 2_000, 'Timeout for the distributor\'s push calls to ingesters.', { min: 1 }),
  maxIngestionRate: floatOpt('distributor.instance-limits.max-ingestion-rate', 'distributor.instance_limits.max_ingestion_rate', 0, 'Most samples, exemplars and metadata per second this distributor accepts over all tenants (a moving average updated every second); pushes beyond it get a retryable 503. Per instance, not per tenant. 0 = no limit.', { min: 0 }),
  maxInflightPushRequests: intOpt('distributor.instance-limits.max-inflight-push-requests', 'distributor.instance_limits.max_inflight_push_requests', 2000, 'Most push requests this distributor handles at once; more get a retryable 503. Per instance, not per tenant. 0 = no limit.', { min: 0 }),
  maxInflightPushRequestsBytes: intOpt('distributor.instance-limits.max-inflight-push-requests-bytes', 'distributor.instance_limits.max_inflight_push_requests_bytes', 0, 'Most bytes of push request bodies this distributor handles at once; more get a retryable 503. Per instance, not per tenant. 0 = no limit.', { min: 0 }),
  multitenancyEnabled: boolOpt('auth.multitenancy-enabled', 'multitenancy_enabled', true, 'When true, every request must name its tenant in the X-Scope-OrgID header; when false, the header is ignored and all data belongs to -auth.no-auth-tenant.'),
  noAuthTenant: stringOpt('auth.no-auth-tenant', 'no_auth_tenant', 'anonymous', 'The tenant used for all requests when -auth.multitenancy-enabled is false.'),
  // Breaks the shutdown on purpose, for the rollout test's test of itself
  // (test/integration/rollout-teeth.test.ts); never set in production.
  debugClosePushPoolFirst: boolOpt('debug.distributor.close-push-pool-first', null, false, 'DEBUG, BREAKS SAFETY ON PURPOSE: reproduce Mimir 2.13\'s shutdown order: close the ingester client pool at SIGTERM, while the servers still route pushes into it and before in-flight pushes finish; a push that then reaches the closed pool panics as a Go send on a closed channel does (fatal log line, exit code 2).', { hidden: true }),
}, (v) => {
  if (!isValidTenantId(v.noAuthTenant)) throw new Error(`-auth.no-auth-tenant: "${v.noAuthTenant}" is not a valid tenant ID`);
});

/** Values of -validation.name-validation-scheme (Mimir's, from prometheus/common model.ValidationScheme). */
export const NAME_VALIDATION_SCHEMES = ['legacy', 'utf8'] as const;
export type NameValidationScheme = (typeof NAME_VALIDATION_SCHEMES)[number];

export const validationConfig = defineGroup('validation', {
  ingestionRate: floatOpt('distributor.ingestion-rate-limit', 'limits.ingestion_rate', 10_000, 'Per-tenant ingestion rate limit in items (samples, histograms, exemplars, metadata) per second, across all distributors: each distributor enforces limit / healthy distributors.', { min: 0 }),
  ingestionBurstSize: intOpt('distributor.ingestion-burst-size', 'limits.ingestion_burst_size', 200_000, 'Per-tenant ingestion burst size, in items, allowed by each distributor.', { min: 0 }),
  ingestionBurstFactor: floatOpt('distributor.ingestion-burst-factor', 'limits.ingestion_burst_factor', 0, 'When set (>= 1), the burst size is this multiple of the distributor\'s share of -distributor.ingestion-rate-limit, and -distributor.ingestion-burst-size is ignored. 0 = off.', { min: 0 }),
  requestRate: floatOpt('distributor.request-rate-limit', 'limits.request_rate', 0, 'Per-tenant push request rate limit in requests per second, across all distributors. 0 = no limit.', { min: 0 }),
  requestBurstSize: intOpt('distributor.request-burst-size', 'limits.request_burst_size', 0, 'Per-tenant push request burst size allowed by each distributor.', { min: 0 }),
  maxLabelNameLength: intOpt('validation.max-length-label-name', 'limits.max_label_name_length', 1024, 'Longest label name accepted, in bytes.', { min: 0 }),
  maxLabelValueLength: intOpt('validation.max-length-label-value', 'limits.max_label_value_length', 2048, 'Longest label value accepted, in bytes (UTF-8). Applies to the metric name too.', { min: 0 }),
  maxLabelNamesPerSeries: intOpt('validation.max-label-names-per-series', 'limits.max_label_names_per_series', 30, 'Most labels (the metric name included) a series may have.', { min: 0 }),
  maxLabelNamesPerInfoSeries: intOpt('validation.max-label-names-per-info-series', 'limits.max_label_names_per_info_series', 80, 'Most labels a series whose metric name ends in _info may have; no effect when lower than -validation.max-label-names-per-series.', { min: 0 }),
  maxMetadataLength: intOpt('validation.max-metadata-length', 'limits.max_metadata_length', 1024, 'Longest metric metadata (metric name, HELP, UNIT) accepted, in bytes. Longer metadata is refused, except HELP, which is cut to this length.', { min: 0 }),
  creationGracePeriod: durationOpt('validation.create-grace-period', 'limits.creation_grace_period', 600_000, 'How far into the future (relative to the distributor\'s clock) sample and exemplar timestamps may be. A sample with timestamp t is refused when t > now + this period.'),
  pastGracePeriod: durationOpt('validation.past-grace-period', 'limits.past_grace_period', 0, 'How far into the past sample and exemplar timestamps may be: a sample is refused when its timestamp is below now - out-of-order window - this period. 0 = no check.'),
  enforceMetadataMetricName: boolOpt('validation.enforce-metadata-metric-name', 'limits.enforce_metadata_metric_name', true, 'Refuse metric metadata without a metric name.'),
  nameValidationScheme: enumOpt('validation.name-validation-scheme', 'limits.name_validation_scheme', 'legacy', NAME_VALIDATION_SCHEMES, 'Rules for metric and label names: legacy (Prometheus\' [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, [a-zA-Z_][a-zA-Z0-9_]* for label names) or utf8 (any non-empty valid UTF-8). Series breaking them are refused.'),
  maxGlobalExemplarsPerUser: intOpt('ingester.max-global-exemplars-per-user', 'limits.max_global_exemplars_per_user', 0, 'Most exemplars in memory per tenant, across the cluster. 0 disables exemplar ingestion: distributors drop every exemplar.', { min: 0 }),
  maxExemplarsPerSeriesPerRequest: intOpt('distributor.max-exemplars-per-series-per-request', 'limits.max_exemplars_per_series_per_request', 0, 'Most exemplars kept per series per request; the rest are dropped. 0 = no limit.', { min: 0 }),
}, (v) => {
  if (v.ingestionBurstFactor > 0 && v.ingestionBurstFactor < 1) {
    throw new Error(`-distributor.ingestion-burst-factor must be 0 (off) or at least 1, got ${v.ingestionBurstFactor}`);
  }
});

export type DistributorConfig = Values<typeof distributorConfig.options>;
export type ValidationConfig = Values<typeof validationConfig.options>;
