export { Ingester, localLimit, toMatchers, BLOCK_RANGE_MS, QUERY_BATCH_SIZE } from './ingester.js';
export type { IngesterOptions, RingInfo } from './ingester.js';
export type { IngesterApi, MatcherSpec, PushResult, QueryParams, StreamChunk, StreamSeries, TimeRange, UserStats } from './api.js';
export { ingesterConfig, limitsConfig, tsdbConfig } from './config.js';
export type { IngesterConfig, LimitsConfig, TsdbConfig } from './config.js';
export { IngesterClient, ingesterHandlers, ingesterServiceDefinition, TENANT_METADATA_KEY, fromServiceError } from './grpc.js';
export { registerIngesterRoutes } from './http.js';
export { IngesterClientPool, INGESTER_CLIENT_CONNECT, INGESTER_CLIENT_KEEPALIVE } from './client-pool.js';
export type { IngesterClientPoolOptions } from './client-pool.js';
