// The ingester's metrics, named as Mimir's so its dashboards work.
import { Counter, Gauge, Histogram, type Registry, sharedCounter } from '../metrics/index.js';

export class IngesterMetrics {
  readonly memorySeries: Gauge;
  readonly memoryUsers: Gauge;
  readonly seriesCreated: Counter<'user'>;
  readonly seriesRemoved: Counter<'user'>;
  readonly ingestedSamples: Counter;
  readonly ingestedSamplesFailures: Counter;
  readonly discarded: Counter<'reason' | 'user'>;
  readonly discardedMetadata: Counter<'reason' | 'user'>;
  readonly memoryMetadata: Gauge;
  readonly inflightPush: Gauge;
  readonly instanceRejected: Counter<'reason'>;
  readonly replayDuration: Histogram;
  readonly queriedSeries: Counter;

  constructor(r: Registry) {
    const reg = [r];
    this.memorySeries = new Gauge({ name: 'cortex_ingester_memory_series', help: 'The current number of series in memory.', registers: reg });
    this.memoryUsers = new Gauge({ name: 'cortex_ingester_memory_users', help: 'The current number of tenants in memory.', registers: reg });
    this.seriesCreated = new Counter({ name: 'cortex_ingester_memory_series_created_total', help: 'Series created in memory, per tenant.', labelNames: ['user'], registers: reg });
    this.seriesRemoved = new Counter({ name: 'cortex_ingester_memory_series_removed_total', help: 'Series removed from memory, per tenant.', labelNames: ['user'], registers: reg });
    this.ingestedSamples = new Counter({ name: 'cortex_ingester_ingested_samples_total', help: 'Samples ingested (float and histogram).', registers: reg });
    this.ingestedSamplesFailures = new Counter({ name: 'cortex_ingester_ingested_samples_failures_total', help: 'Samples that failed to be ingested.', registers: reg });
    this.discarded = sharedCounter(r, { name: 'cortex_discarded_samples_total', help: 'Samples discarded, by reason and tenant.', labelNames: ['reason', 'user'] });
    this.discardedMetadata = sharedCounter(r, { name: 'cortex_discarded_metadata_total', help: 'Metadata discarded, by reason and tenant.', labelNames: ['reason', 'user'] });
    this.memoryMetadata = new Gauge({ name: 'cortex_ingester_memory_metadata', help: 'The current number of metadata entries in memory.', registers: reg });
    this.inflightPush = new Gauge({ name: 'cortex_ingester_inflight_push_requests', help: 'Push requests in flight in the ingester.', registers: reg });
    this.instanceRejected = new Counter({ name: 'cortex_ingester_instance_rejected_requests_total', help: 'Requests refused because of an ingester instance limit.', labelNames: ['reason'], registers: reg });
    this.replayDuration = new Histogram({ name: 'cortex_ingester_tsdb_wal_replay_duration_seconds', help: 'Time taken to replay a tenant WAL on start-up.', buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300], registers: reg });
    this.queriedSeries = new Counter({ name: 'cortex_ingester_queried_series_total', help: 'Series returned by QueryStream.', registers: reg });
  }
}
