// Typed errors with a stable code. Two tables map each code to an HTTP status and a gRPC status;
// entry points use them instead of deciding statuses ad hoc. Retryable codes map to 5xx/UNAVAILABLE,
// never to a 4xx, because Prometheus drops a batch that gets a 4xx other than 429.
import { status as GrpcStatus } from '@grpc/grpc-js';

export type ErrorCode =
  | 'unavailable' // component not Running, shutting down
  | 'pool_closed' // work pool closed; the caller may retry elsewhere
  | 'timeout'
  | 'canceled'
  | 'bad_data'
  | 'unauthorized' // no tenant (X-Scope-OrgID) where one is required
  | 'unsupported_media_type' // Content-Type / Content-Encoding the endpoint does not accept
  | 'not_found'
  | 'too_many_requests'
  | 'internal';

interface StatusRow {
  http: number;
  grpc: GrpcStatus;
  retryable: boolean;
}

const STATUS: Record<ErrorCode, StatusRow> = {
  unavailable: { http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true },
  pool_closed: { http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true },
  timeout: { http: 503, grpc: GrpcStatus.DEADLINE_EXCEEDED, retryable: true },
  canceled: { http: 499, grpc: GrpcStatus.CANCELLED, retryable: true },
  bad_data: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  unauthorized: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED, retryable: false },
  unsupported_media_type: { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  not_found: { http: 404, grpc: GrpcStatus.NOT_FOUND, retryable: false },
  too_many_requests: { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: true },
  internal: { http: 500, grpc: GrpcStatus.INTERNAL, retryable: true },
};

export class MuninnError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MuninnError';
    this.code = code;
  }
  get retryable(): boolean {
    return STATUS[this.code].retryable;
  }
  get httpStatus(): number {
    return STATUS[this.code].http;
  }
  get grpcStatus(): GrpcStatus {
    return STATUS[this.code].grpc;
  }
}

/** The component is not Running (starting, stopping, stopped): retry later or elsewhere. */
export class UnavailableError extends MuninnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
    this.name = 'UnavailableError';
  }
}

/** A task was submitted to a work pool after close(); it did not run. Retryable. */
export class PoolClosedError extends MuninnError {
  constructor(poolName: string) {
    super('pool_closed', `work pool "${poolName}" is closed`);
    this.name = 'PoolClosedError';
  }
}

export function httpStatusOf(err: unknown): number {
  return err instanceof MuninnError ? err.httpStatus : 500;
}

export function grpcStatusOf(err: unknown): GrpcStatus {
  return err instanceof MuninnError ? err.grpcStatus : GrpcStatus.INTERNAL;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof MuninnError ? err.retryable : true;
}
