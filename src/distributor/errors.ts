// The distributor's typed errors. Each carries a Mimir error ID (the stable `err-mimir-*` string
// that operators search for, from Mimir pkg/util/globalerror/user.go) and a cause; one table maps
// cause -> HTTP status and gRPC status (as Mimir pkg/distributor/errors.go does with ErrorCause).
// Messages are our own words; a message for a limit names the flag(s) that change it.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { type ErrorCode, MuninnError } from '../errors/index.js';

/** Mimir's user-facing error IDs used by the distributor, without the `err-mimir-` prefix. */
export const ErrorId = {
  missingMetricName: 'missing-metric-name',
  invalidMetricName: 'metric-name-invalid',
  maxLabelNamesPerSeries: 'max-label-names-per-series',
  maxLabelNamesPerInfoSeries: 'max-label-names-per-info-series',
  invalidLabel: 'label-invalid',
  invalidLabelValue: 'label-value-invalid',
  labelNameTooLong: 'label-name-too-long',
  labelValueTooLong: 'label-value-too-long',
  duplicateLabelNames: 'duplicate-label-names',
  tooFarInFuture: 'too-far-in-future',
  tooFarInPast: 'too-far-in-past',
  duplicateTimestamp: 'sample-duplicate-timestamp',
  invalidNativeHistogramSchema: 'invalid-native-histogram-schema',
  exemplarLabelsMissing: 'exemplar-labels-missing',
  exemplarLabelsTooLong: 'exemplar-labels-too-long',
  exemplarTimestampInvalid: 'exemplar-timestamp-invalid',
  metadataMissingMetricName: 'metadata-missing-metric-name',
  metadataMetricNameTooLong: 'metric-name-too-long',
  metadataUnitTooLong: 'unit-too-long',
  ingestionRateLimited: 'tenant-max-ingestion-rate',
  requestRateLimited: 'tenant-max-request-rate',
  maxIngestionRate: 'distributor-max-ingestion-rate',
  maxInflightPushRequests: 'distributor-max-inflight-push-requests',
  maxInflightPushRequestsBytes: 'distributor-max-inflight-push-requests-bytes',
  maxWriteMessageSize: 'distributor-max-write-message-size',
} as const;
export type ErrorId = (typeof ErrorId)[keyof typeof ErrorId];

/** The label value of `reason` in cortex_discarded_*_total for an error ID (Mimir: ID.LabelValue()). */
export function reasonOf(id: ErrorId): string {
  return id.replace(/-/g, '_');
}

/** What kind of failure an error is; decides its statuses. */
export type ErrorCause = 'bad_data' | 'too_large' | 'ingestion_rate_limited' | 'request_rate_limited' | 'instance_limit';

interface CauseRow {
  code: ErrorCode;
  http: number;
  grpc: GrpcStatus;
}

/**
 * cause -> statuses. Bad data is 400 (senders drop it: it would never be accepted); rate limits
 * are 429 (senders may retry with backoff); per-instance limits are 503 (retryable, maybe on
 * another distributor); an oversized body is 413 (not retryable), as in Mimir.
 */
export const CAUSE_STATUS: Readonly<Record<ErrorCause, CauseRow>> = {
  bad_data: { code: 'bad_data', http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  too_large: { code: 'bad_data', http: 413, grpc: GrpcStatus.INVALID_ARGUMENT },
  ingestion_rate_limited: { code: 'too_many_requests', http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  request_rate_limited: { code: 'too_many_requests', http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  instance_limit: { code: 'unavailable', http: 503, grpc: GrpcStatus.UNAVAILABLE },
};

function flagList(flags: readonly string[]): string {
  const f = flags.map((x) => `-${x}`);
  if (f.length <= 1) return f.join('');
  return `${f.slice(0, -1).join(', ')} and ${f[f.length - 1]!}`;
}

/** `msg (err-mimir-<id>)` */
export function withId(msg: string, id: ErrorId): string {
  return `${msg} (err-mimir-${id})`;
}

/** A message for a per-tenant limit: the ID, and the flag(s) that set the limit. */
export function withTenantLimit(msg: string, id: ErrorId, ...flags: string[]): string {
  const s = flags.length > 1 ? 's' : '';
  return `${withId(msg, id)}. The per-tenant limit${s} can be changed with ${flagList(flags)}, or ask your service administrator.`;
}

/** A message for a per-instance limit: the ID, and the flag(s) that set the limit. */
export function withInstanceLimit(msg: string, id: ErrorId, ...flags: string[]): string {
  const s = flags.length > 1 ? 's' : '';
  return `${withId(msg, id)}. The per-instance limit${s} can be changed with ${flagList(flags)}, or ask your service administrator.`;
}

/** Base class of the distributor's errors: a MuninnError with a Mimir error ID and a cause. */
export class DistributorError extends MuninnError {
  readonly id: ErrorId;
  readonly errorCause: ErrorCause;
  constructor(errorCause: ErrorCause, id: ErrorId, message: string) {
    super(CAUSE_STATUS[errorCause].code, message);
    this.name = 'DistributorError';
    this.id = id;
    this.errorCause = errorCause;
  }
  override get httpStatus(): number {
    return CAUSE_STATUS[this.errorCause].http;
  }
  override get grpcStatus(): GrpcStatus {
    return CAUSE_STATUS[this.errorCause].grpc;
  }
  /** cortex_discarded_*_total reason label for this error. */
  get reason(): string {
    return reasonOf(this.id);
  }
}

/** Invalid data in a write request (400). The series it names was dropped; others may be kept. */
export class ValidationError extends DistributorError {
  constructor(id: ErrorId, message: string) {
    super('bad_data', id, message);
    this.name = 'ValidationError';
  }
}

/** Flags of the per-tenant rate limits (Mimir pkg/util/validation/limits.go). */
export const INGESTION_RATE_FLAG = 'distributor.ingestion-rate-limit';
export const INGESTION_BURST_SIZE_FLAG = 'distributor.ingestion-burst-size';
export const REQUEST_RATE_FLAG = 'distributor.request-rate-limit';
export const REQUEST_BURST_SIZE_FLAG = 'distributor.request-burst-size';

/** The tenant sent more items than its ingestion rate allows (429). */
export class IngestionRateLimitedError extends DistributorError {
  constructor(readonly limit: number, readonly burst: number) {
    super(
      'ingestion_rate_limited',
      ErrorId.ingestionRateLimited,
      withTenantLimit(
        `the request was refused: the tenant is over its ingestion rate limit of ${limit} items/s with a burst of ${burst}; ` +
          'the limit counts samples, exemplars and metadata received by all distributors together',
        ErrorId.ingestionRateLimited,
        INGESTION_RATE_FLAG,
        INGESTION_BURST_SIZE_FLAG,
      ),
    );
    this.name = 'IngestionRateLimitedError';
  }
}

/** One request holds more items than the burst size: it can never pass, however long it waits (429). */
export class IngestionBurstSizeLimitedError extends DistributorError {
  constructor(readonly burst: number, readonly items: number) {
    super(
      'ingestion_rate_limited',
      ErrorId.ingestionRateLimited,
      withTenantLimit(
        `the request was refused: its ${items} items are more than the tenant's ingestion burst size of ${burst}; ` +
          'the limit counts samples, exemplars and metadata',
        ErrorId.ingestionRateLimited,
        INGESTION_BURST_SIZE_FLAG,
      ),
    );
    this.name = 'IngestionBurstSizeLimitedError';
  }
}

/** The tenant sent more push requests than its request rate allows (429). */
export class RequestRateLimitedError extends DistributorError {
  constructor(readonly limit: number, readonly burst: number) {
    super(
      'request_rate_limited',
      ErrorId.requestRateLimited,
      withTenantLimit(
        `the request was refused: the tenant is over its request rate limit of ${limit} requests/s across all distributors with a burst of ${burst}`,
        ErrorId.requestRateLimited,
        REQUEST_RATE_FLAG,
        REQUEST_BURST_SIZE_FLAG,
      ),
    );
    this.name = 'RequestRateLimitedError';
  }
}

export const MAX_INGESTION_RATE_FLAG = 'distributor.instance-limits.max-ingestion-rate';
export const MAX_INFLIGHT_PUSH_REQUESTS_FLAG = 'distributor.instance-limits.max-inflight-push-requests';
export const MAX_INFLIGHT_PUSH_REQUESTS_BYTES_FLAG = 'distributor.instance-limits.max-inflight-push-requests-bytes';
export const MAX_RECV_MSG_SIZE_FLAG = 'distributor.max-recv-msg-size';

/** This distributor is at one of its per-instance limits (503, retryable). */
export class InstanceLimitError extends DistributorError {
  constructor(id: ErrorId, message: string) {
    super('instance_limit', id, message);
    this.name = 'InstanceLimitError';
  }
  static maxInflightPushRequests(limit: number): InstanceLimitError {
    return new InstanceLimitError(
      ErrorId.maxInflightPushRequests,
      withInstanceLimit(`the write request was refused: this distributor is already handling its maximum of ${limit} push requests`, ErrorId.maxInflightPushRequests, MAX_INFLIGHT_PUSH_REQUESTS_FLAG),
    );
  }
  static maxInflightPushRequestsBytes(limit: number): InstanceLimitError {
    return new InstanceLimitError(
      ErrorId.maxInflightPushRequestsBytes,
      withInstanceLimit(`the write request was refused: the push requests this distributor is handling would exceed its maximum of ${limit} bytes`, ErrorId.maxInflightPushRequestsBytes, MAX_INFLIGHT_PUSH_REQUESTS_BYTES_FLAG),
    );
  }
  static maxIngestionRate(limit: number): InstanceLimitError {
    return new InstanceLimitError(
      ErrorId.maxIngestionRate,
      withInstanceLimit(`the write request was refused: this distributor is at its maximum ingestion rate of ${limit} items/s`, ErrorId.maxIngestionRate, MAX_INGESTION_RATE_FLAG),
    );
  }
}

/** The request body is larger than -distributor.max-recv-msg-size (413, not retryable). */
export class MaxWriteMessageSizeError extends DistributorError {
  constructor(readonly actual: number, readonly limit: number) {
    super(
      'too_large',
      ErrorId.maxWriteMessageSize,
      withInstanceLimit(
        `the push request was refused: its size${actual >= 0 ? ` of ${actual} bytes` : ''} is over the limit of ${limit} bytes`,
        ErrorId.maxWriteMessageSize,
        MAX_RECV_MSG_SIZE_FLAG,
      ),
    );
    this.name = 'MaxWriteMessageSizeError';
  }
}
