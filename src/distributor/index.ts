// The distributor's validation and limits (Mimir's pkg/distributor validate.go, errors.go,
// instance_limits.go, ingestion_rate_strategy.go): config groups, typed errors with Mimir error
// IDs, per-request validation of a decoded remote-write request, per-tenant rate limits (global
// strategy) and per-instance limits.
export { distributorConfig, validationConfig, NAME_VALIDATION_SCHEMES } from './config.js';
export type { DistributorConfig, NameValidationScheme, ValidationConfig } from './config.js';
export {
  CAUSE_STATUS,
  DistributorError,
  ErrorId,
  IngestionBurstSizeLimitedError,
  IngestionRateLimitedError,
  InstanceLimitError,
  MaxWriteMessageSizeError,
  reasonOf,
  RequestRateLimitedError,
  ValidationError,
  withId,
  withInstanceLimit,
  withTenantLimit,
} from './errors.js';
export type { ErrorCause } from './errors.js';
export {
  CUSTOM_BUCKETS_SCHEMA,
  DiscardReason,
  dropEmptyLabelValues,
  EXEMPLAR_MAX_LABEL_SET_LENGTH,
  ingestionItems,
  MAX_HISTOGRAM_SCHEMA,
  MIN_HISTOGRAM_SCHEMA,
  validateWriteRequest,
} from './validate.js';
export type { ValidationLimits, ValidationResult } from './validate.js';
export {
  DistributorRateLimits,
  globalIngestionStrategy,
  globalRequestStrategy,
  localShare,
  RATE_LIMIT_RECHECK_PERIOD_MS,
  TenantRateLimiter,
  TokenBucket,
} from './rate-limiter.js';
export type { DistributorRateLimitsOptions, RateLimitStrategy, TenantRateLimits } from './rate-limiter.js';
export { EwmaRate, INSTANCE_RATE_TICK_MS, InstanceLimiter } from './instance-limits.js';
export type { InstanceLimits, PushPermit } from './instance-limits.js';
export { Distributor } from './distributor.js';
export type { DistributorLimits, DistributorOptions, IngesterClients } from './distributor.js';
export { DistributorMetrics } from './metrics.js';
export { QuorumTracker, isClientError } from './quorum.js';
export type { QuorumState } from './quorum.js';
export { registerPushRoute } from './push-http.js';
export type { PushAdmission, PushOutcome, PushTarget, WrittenCounts } from './push-types.js';
export { distributorRingConfig, DISTRIBUTOR_RING_KEY } from './ring-config.js';
export type { DistributorRingConfig } from './ring-config.js';
