// The continuous test's metrics: Mimir's names (pkg/continuoustest/metrics.go), with `type` the
// kind of query ("range" or "instant"; Mimir's is the sample type, always "float" here), plus
// Muninn's per-sample counters.
import { Counter, Histogram, type Registry } from '../metrics/index.js';

export const TEST_NAME = 'write-read-series';

export type QueryType = 'range' | 'instant';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class TestMetrics {
  readonly writesTotal: Counter<'test'>;
  readonly writesFailedTotal: Counter<'test' | 'status_code'>;
  readonly writesDuration: Histogram<'test'>;
  readonly queriesTotal: Counter<'test' | 'type'>;
  readonly queriesFailedTotal: Counter<'test' | 'type'>;
  readonly queriesDuration: Histogram<'test' | 'type'>;
  readonly checksTotal: Counter<'test' | 'type'>;
  readonly checksFailedTotal: Counter<'test' | 'type'>;
  readonly samplesAcked: Counter<'test'>;
  readonly samplesDropped: Counter<'test' | 'reason'>;
  readonly samplesMissing: Counter<'test' | 'type'>;
  readonly samplesMismatched: Counter<'test' | 'type'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.writesTotal = new Counter({ name: 'mimir_continuous_test_writes_total', help: 'Total number of attempted write requests (every attempt, retries included).', labelNames: ['test'], registers });
    this.writesFailedTotal = new Counter({ name: 'mimir_continuous_test_writes_failed_total', help: 'Total number of failed write requests (every failed attempt; status_code 0: no HTTP answer).', labelNames: ['test', 'status_code'], registers });
    this.writesDuration = new Histogram({ name: 'mimir_continuous_test_writes_request_duration_seconds', help: 'Duration of the write requests.', labelNames: ['test'], buckets: DURATION_BUCKETS, registers });
    this.queriesTotal = new Counter({ name: 'mimir_continuous_test_queries_total', help: 'Total number of attempted query requests.', labelNames: ['test', 'type'], registers });
    this.queriesFailedTotal = new Counter({ name: 'mimir_continuous_test_queries_failed_total', help: 'Total number of failed query requests.', labelNames: ['test', 'type'], registers });
    this.queriesDuration = new Histogram({ name: 'mimir_continuous_test_queries_request_duration_seconds', help: 'Duration of the read requests.', labelNames: ['test', 'type'], buckets: DURATION_BUCKETS, registers });
    this.checksTotal = new Counter({ name: 'mimir_continuous_test_query_result_checks_total', help: 'Total number of query results checked for correctness.', labelNames: ['test', 'type'], registers });
    this.checksFailedTotal = new Counter({ name: 'mimir_continuous_test_query_result_checks_failed_total', help: 'Total number of query results failed when checking for correctness.', labelNames: ['test', 'type'], registers });
    this.samplesAcked = new Counter({ name: 'muninn_continuous_test_acked_samples_total', help: 'Samples whose write request was acknowledged (2xx).', labelNames: ['test'], registers });
    this.samplesDropped = new Counter({ name: 'muninn_continuous_test_dropped_samples_total', help: 'Samples given up on: rejected with a non-retryable status (reason="non_retryable"), still failing after -tests.write-retry-timeout (reason="retry_timeout"), or pending when the test stopped (reason="stopped").', labelNames: ['test', 'reason'], registers });
    this.samplesMissing = new Counter({ name: 'muninn_continuous_test_missing_samples_total', help: 'Acknowledged samples a query did not return.', labelNames: ['test', 'type'], registers });
    this.samplesMismatched = new Counter({ name: 'muninn_continuous_test_mismatched_samples_total', help: 'Samples a query returned with a value other than the one written.', labelNames: ['test', 'type'], registers });
    // as Mimir does: the counters start at 0, so rate() and alerts see them from the start
    const test = TEST_NAME;
    this.writesTotal.inc({ test }, 0);
    this.samplesAcked.inc({ test }, 0);
    for (const type of ['range', 'instant'] as const) {
      this.queriesTotal.inc({ test, type }, 0);
      this.queriesFailedTotal.inc({ test, type }, 0);
      this.checksTotal.inc({ test, type }, 0);
      this.checksFailedTotal.inc({ test, type }, 0);
    }
  }
}
