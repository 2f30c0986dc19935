// The continuous test as a service (Mimir's `-target=continuous-test`):
//
// - normally: the writers write every series at every multiple of -tests.write-interval (writer.ts)
//   while the reader checks what was acked every -tests.run-interval (reader.ts); failures are
//   counted in the metrics and logged, and the service keeps running;
// - with -tests.smoke-test: one tick written, read back and checked once, then the service
//   ends: on success it calls onSmokeTestPassed and stays Running until stopped (the process stops
//   it and exits 0; without the callback it terminates), on any failure (a sample not acked, a
//   query failing, a missing or wrong sample) it fails (the process exits 1).
//
// checkAll() verifies every acked sample still within max-query-age, for a final check after a
// rollout; GET /continuous-test/check serves it (http.ts).
import { BasicService, sleep, waitForAbort } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { Registry } from '../metrics/index.js';
import { AckLog } from './acked.js';
import { ClientClosedError, TestClient } from './client.js';
import { type ContinuousTestConfig, requireEndpoints } from './config.js';
import { TestMetrics, TEST_NAME } from './metrics.js';
import { type ReadReport, SeriesReader } from './reader.js';
import { alignDown } from './series.js';
import { SeriesWriter, type TickReport } from './writer.js';

export const CONTINUOUS_TEST_MODULE = 'continuous-test';

export interface ContinuousTestOptions {
  config: ContinuousTestConfig;
  log: Logger;
  registry: Registry;
  /**
   * Called once the smoke test has passed: the process should stop now, with exit code 0 (the
   * service stays Running until stopped). Without it the service terminates by itself.
   */
  onSmokeTestPassed?: () => void;
  /** Clock and randomness, for tests. */
  now?: () => number;
  random?: () => number;
}

/** The answer of checkAll() and of GET /continuous-test/check. */
export interface CheckAllResult {
  /** Acked samples within the window, each of which was looked for. */
  acked: number;
  /** Acked samples not found, including those whose query kept failing (see queriesFailed). */
  missing: number;
  /** Samples found with a value other than the one written, or that cannot be the test's. */
  mismatched: number;
  /** The first problems found, one line each (at most 100). */
  details: string[];
  queries: number;
  queriesFailed: number;
  /** The window checked (ms since the epoch), null when nothing was acked yet. */
  fromT: number | null;
  toT: number | null;
}

/** Bounds (ms since the epoch, inclusive) on the samples checkAll checks. */
export interface CheckRange {
  fromT?: number;
  toT?: number;
}

/** What a smoke test did. */
export interface SmokeReport {
  timestamp: number;
  write: TickReport;
  read: ReadReport;
  failures: string[];
}

export class ContinuousTest extends BasicService {
  readonly config: ContinuousTestConfig;
  readonly metrics: TestMetrics;
  readonly acks: AckLog;
  private readonly log: Logger;
  private readonly client: TestClient;
  private readonly writer: SeriesWriter;
  private readonly reader: SeriesReader;
  private readonly now: () => number;
  private readonly onSmokeTestPassed: (() => void) | undefined;
  private closed = false;

  /** Throws when the endpoints are not set or the auth flags conflict. */
  constructor(opts: ContinuousTestOptions) {
    super(CONTINUOUS_TEST_MODULE);
    const cfg = opts.config;
    requireEndpoints(cfg);
    this.config = cfg;
    this.log = opts.log.child({ component: 'continuous-test', test: TEST_NAME });
    this.now = opts.now ?? Date.now;
    this.onSmokeTestPassed = opts.onSmokeTestPassed;
    this.metrics = new TestMetrics(opts.registry);
    this.acks = new AckLog(cfg.numSeries, cfg.writeConcurrency, cfg.writeInterval);
    this.client = new TestClient({
      writeEndpoint: cfg.writeEndpoint,
      readEndpoint: cfg.readEndpoint,
      tenantId: cfg.tenantId,
      basicAuthUser: cfg.basicAuthUser,
      basicAuthPassword: cfg.basicAuthPassword,
      bearerToken: cfg.bearerToken,
      userAgent: cfg.userAgent,
      writeTimeoutMs: cfg.writeTimeout,
      readTimeoutMs: cfg.readTimeout,
      maxSockets: this.acks.shards.length + 4,
    });
    const common = { client: this.client, acks: this.acks, metrics: this.metrics, log: this.log, now: this.now, ...(opts.random ? { random: opts.random } : {}) };
    this.writer = new SeriesWriter({
      ...common,
      batchSize: cfg.writeBatchSize,
      rate: cfg.writeRate,
      retry: { minBackoffMs: cfg.writeMinBackoff, maxBackoffMs: cfg.writeMaxBackoff, retryTimeoutMs: cfg.writeRetryTimeout },
    });
    this.reader = new SeriesReader({ ...common, maxQueryAgeMs: cfg.maxQueryAge });
  }

  /**
   * Verifies every acked sample still within max-query-age, and within `range` when given (samples
   * acked after the call are not included). Queries failing with a retryable error are retried a
   * few times. Throws ClientClosedError once the service has stopped.
   */
  async checkAll(signal?: AbortSignal, range: CheckRange = {}): Promise<CheckAllResult> {
    if (this.closed) throw new ClientClosedError();
    const r = await this.reader.checkAll(signal, range);
    const out: CheckAllResult = { acked: r.acked, missing: r.missing, mismatched: r.mismatched, details: r.details, queries: r.queries, queriesFailed: r.queriesFailed, fromT: r.fromT, toT: r.toT };
    this.log.info({ ...out, details: out.details.slice(0, 10) }, out.missing + out.mismatched === 0 ? 'continuous test: check of every acked sample passed' : 'continuous test: check of every acked sample FAILED');
    return out;
  }

  /** Writes one tick for every series, reads it back and checks it; `failures` empty = passed. */
  async runSmokeTest(signal?: AbortSignal): Promise<SmokeReport> {
    const t = alignDown(this.now(), this.config.writeInterval);
    const write = await this.writer.writeTick(t, signal);
    const failures: string[] = [];
    if (write.acked < write.samples || write.samples < this.config.numSeries) {
      failures.push(`${write.samples - write.acked + (this.config.numSeries - write.samples)} of ${this.config.numSeries} samples were not acked`);
    }
    const read = await this.reader.checkWindow(t, t, signal);
    if (read.queriesFailed > 0) failures.push(`${read.queriesFailed} of ${read.queries} queries failed`);
    if (read.missing > 0) failures.push(`${read.missing} of ${read.acked} acked samples missing`);
    if (read.mismatched > 0) failures.push(`${read.mismatched} samples with wrong values`);
    if (signal?.aborted === true) failures.push('stopped before the end');
    return { timestamp: t, write, read, failures };
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    const cfg = this.config;
    this.log.info({
      writeEndpoint: cfg.writeEndpoint, readEndpoint: cfg.readEndpoint, tenant: cfg.tenantId, numSeries: cfg.numSeries,
      writeInterval: cfg.writeInterval, writeConcurrency: this.acks.shards.length, writeRate: cfg.writeRate, smokeTest: cfg.smokeTest,
    }, 'continuous test: starting');
    if (cfg.smokeTest) {
      const r = await this.runSmokeTest(signal);
      if (r.failures.length > 0) {
        this.log.info({ failures: r.failures, details: r.read.details.slice(0, 10) }, 'Test failed');
        throw new Error(`continuous test smoke test failed: ${r.failures.join('; ')}`);
      }
      this.log.info({ samples: r.write.acked, queries: r.read.queries }, 'Test passed');
      if (this.onSmokeTestPassed === undefined) return; // nobody to tell: terminate
      // a module leaving Running by itself is a failure to the module manager: stay Running
      // until the process, told here, stops us
      this.onSmokeTestPassed();
      await waitForAbort(signal);
      return;
    }
    const reading = (async () => {
      while (!signal.aborted) {
        await sleep(cfg.runInterval, signal);
        if (signal.aborted) break;
        try {
          await this.reader.runOnce(signal);
        } catch (e) {
          if (!signal.aborted) this.log.error({ err: e }, 'continuous test: read run failed unexpectedly');
        }
      }
    })();
    await Promise.all([this.writer.run(signal), reading]);
  }

  protected override async stopping(): Promise<void> {
    this.closed = true;
    this.client.close();
  }
}
