// The querier: reads a tenant's series from the ingesters (IngesterQuerier, the engine's
// Queryable), runs PromQL over them (Querier), and serves Prometheus's HTTP query API under
// -http.prometheus-http-prefix (registerQueryApi). API reference: docs/query-api.md.
export { querierConfig, type QuerierConfig } from './config.js';
export {
  IngesterQuerier, MIN_TIME_MS, MAX_TIME_MS, abortError, compareLabels, mergeSortedUnique,
  type IngesterClients, type IngesterQuerierOptions,
} from './ingester-queryable.js';
export {
  mergeFloatRuns, mergeTimedRuns, mergeReplicas, floatRuns, storedHistogramToFloat, type FloatRun, type ReplicaPart, type HistogramConverter,
} from './merge.js';
export { Querier, type QuerierOptions, type QueryEngine, type EngineFactory, type QueryOverrides } from './querier.js';
export { registerQueryApi, type QueryApiDeps } from './api/routes.js';
export { registerRemoteRead, decodeReadRequest, type ReadRequest, type RemoteReadDeps } from './api/remote-read.js';
