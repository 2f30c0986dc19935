// The continuous test's options: Mimir's `-tests.*` flags (pkg/continuoustest ClientConfig,
// ManagerConfig, WriteReadSeriesTestConfig) with their names and defaults, flag-only as in Mimir
// (`yaml:"-"`), plus Muninn's own for the write loop (interval, concurrency, rate, retries).
//
// Endpoints are checked here only for their form: the group is validated for every -target, and
// only -target=continuous-test needs them (requireEndpoints, called when the module starts).
import { boolOpt, defineGroup, durationOpt, floatOpt, intOpt, stringOpt, type Values } from '../config/index.js';

const HOUR = 3_600_000;

export const continuousTestConfig = defineGroup('continuous-test', {
  writeEndpoint: stringOpt('tests.write-endpoint', null, '', 'The base endpoint on the write path. The URL should have no trailing slash. The specific API path is appended by the tool to the URL, for example /api/v1/push for the remote write API endpoint, so the configured URL must not include it.'),
  readEndpoint: stringOpt('tests.read-endpoint', null, '', 'The base endpoint on the read path. The URL should have no trailing slash. The specific API path is appended by the tool to the URL, for example /api/v1/query_range for range query API, so the configured URL must not include it.'),
  tenantId: stringOpt('tests.tenant-id', null, 'anonymous', 'The tenant ID to use to write and read metrics in tests.'),
  basicAuthUser: stringOpt('tests.basic-auth-user', null, '', 'The username to use for HTTP basic authentication. (mutually exclusive with bearer-token flag)'),
  basicAuthPassword: stringOpt('tests.basic-auth-password', null, '', 'The password to use for HTTP basic authentication. (mutually exclusive with bearer-token flag)'),
  bearerToken: stringOpt('tests.bearer-token', null, '', 'The bearer token to use for HTTP bearer authentication. (mutually exclusive with basic-auth flags)'),
  userAgent: stringOpt('tests.client.user-agent', null, 'muninn-continuous-test', 'The value the client should send in the User-Agent header.'),
  writeBatchSize: intOpt('tests.write-batch-size', null, 1000, 'The maximum number of series to write in a single request.', { min: 1 }),
  writeTimeout: durationOpt('tests.write-timeout', null, 5_000, 'The timeout for a single write request.', { min: 1 }),
  readTimeout: durationOpt('tests.read-timeout', null, 60_000, 'The timeout for a single read request.', { min: 1 }),
  runInterval: durationOpt('tests.run-interval', null, 5 * 60_000, 'How frequently tests should run (queries and their checks; writes follow -tests.write-interval).', { min: 1 }),
  smokeTest: boolOpt('tests.smoke-test', null, false, 'Run a smoke test, i.e. run all tests once and exit.'),
  numSeries: intOpt('tests.write-read-series-test.num-series', null, 10_000, 'Number of series used for the test.', { min: 1 }),
  maxQueryAge: durationOpt('tests.write-read-series-test.max-query-age', null, 7 * 24 * HOUR, 'How back in the past metrics can be queried at most. Bounds the memory kept about acknowledged samples too.', { min: 1 }),
  writeInterval: durationOpt('tests.write-interval', null, 20_000, 'Interval between the timestamps written for each series: every series gets one sample per multiple of this interval (Mimir\'s fixed write interval is 20s). Lower it (e.g. 100ms) with a higher -tests.write-read-series-test.num-series to generate load.', { min: 1 }),
  writeConcurrency: intOpt('tests.write-concurrency', null, 1, 'Number of concurrent writers. The series are split into this many shards, each written in order by one writer.', { min: 1 }),
  writeRate: floatOpt('tests.write-rate', null, 0, 'Most samples per second written, across all writers. 0 = as fast as possible (one sample per series per -tests.write-interval at most).', { min: 0 }),
  writeMinBackoff: durationOpt('tests.write-min-backoff', null, 30, 'Initial wait before retrying a write that failed with a retryable error (5xx, 429, network error, timeout); doubled on every retry, with jitter. A Retry-After header takes precedence.', { min: 1 }),
  writeMaxBackoff: durationOpt('tests.write-max-backoff', null, 5_000, 'Longest wait between two retries of a write.', { min: 1 }),
  writeRetryTimeout: durationOpt('tests.write-retry-timeout', null, 60_000, 'How long to keep retrying a write that fails with a retryable error before dropping its samples. 0 = retry until the test stops.'),
}, (v) => {
  for (const [flag, url] of [['tests.write-endpoint', v.writeEndpoint], ['tests.read-endpoint', v.readEndpoint]] as const) {
    if (url !== '') checkEndpoint(flag, url);
  }
  if (!Number.isInteger(v.writeInterval)) throw new Error(`-tests.write-interval must be a whole number of milliseconds, got ${v.writeInterval}ms`);
  if (v.writeMinBackoff > v.writeMaxBackoff) throw new Error('-tests.write-min-backoff must not be greater than -tests.write-max-backoff');
  if (v.maxQueryAge < v.writeInterval) throw new Error('-tests.write-read-series-test.max-query-age must not be shorter than -tests.write-interval');
});

export type ContinuousTestConfig = Values<typeof continuousTestConfig.options>;

function checkEndpoint(flag: string, url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`-${flag}: "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`-${flag}: "${url}" must be an http:// or https:// URL`);
  if (u.search !== '' || u.hash !== '') throw new Error(`-${flag}: "${url}" must not have a query or fragment`);
}

/** The endpoints -target=continuous-test needs; throws naming the flag when one is not set. */
export function requireEndpoints(cfg: ContinuousTestConfig): void {
  if (cfg.writeEndpoint === '') throw new Error('the write endpoint has not been set: set -tests.write-endpoint');
  if (cfg.readEndpoint === '') throw new Error('the read endpoint has not been set: set -tests.read-endpoint');
  if (cfg.bearerToken !== '' && cfg.basicAuthUser !== '' && cfg.basicAuthPassword !== '') {
    throw new Error('either set -tests.tenant-id or -tests.basic-auth-user/-tests.basic-auth-password or -tests.bearer-token');
  }
}

/** A base endpoint without its trailing slashes (Mimir asks for none; we forgive them). */
export function trimEndpoint(url: string): string {
  return url.replace(/\/+$/, '');
}
