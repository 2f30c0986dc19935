export { MuninnError, UnavailableError, PoolClosedError, httpStatusOf, grpcStatusOf, isRetryable } from './errors.js';
export type { ErrorCode } from './errors.js';
