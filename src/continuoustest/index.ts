// The continuous test (Mimir's mimir-continuous-test, `-target=continuous-test`): writes synthetic
// series through remote write, reads them back through the query API and checks every acked
// sample exactly. See docs/operations/continuous-test.md.
export { ContinuousTest, CONTINUOUS_TEST_MODULE } from './service.js';
export type { CheckAllResult, CheckRange, ContinuousTestOptions, SmokeReport } from './service.js';
export { continuousTestConfig } from './config.js';
export type { ContinuousTestConfig } from './config.js';
export { registerContinuousTestRoutes, CHECK_PATH } from './http.js';
export { METRIC_NAME, sampleValue } from './series.js';
