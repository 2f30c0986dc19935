// The PromQL evaluation engine (Prometheus promql.Engine semantics, Prometheus 3.x).
export { Engine } from './engine.js';
export { PromQLError } from './api.js';
export type { EngineOptions, PromQLErrorType, QueryResult } from './api.js';
