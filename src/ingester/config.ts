// The ingester's options (Mimir's names, YAML keys and defaults): its TSDB, instance limits, and
// the per-tenant limits it enforces (which the runtime config file can override per tenant later).
import { boolOpt, defineGroup, durationOpt, enumOpt, intOpt, stringOpt, type Values } from '../config/index.js';

export const tsdbConfig = defineGroup('blocks storage', {
  dir: stringOpt('blocks-storage.tsdb.dir', 'blocks_storage.tsdb.dir', './tsdb/', 'Directory for the ingesters\' per-tenant TSDB data (WAL now, blocks later); one sub-directory per tenant.'),
  retentionPeriod: durationOpt('blocks-storage.tsdb.retention-period', 'blocks_storage.tsdb.retention_period', 13 * 3_600_000, 'How long the ingester keeps samples in memory and in its WAL; older chunks are dropped and older WAL segments checkpointed away.'),
  walSegmentSizeBytes: intOpt('blocks-storage.tsdb.wal-segment-size-bytes', 'blocks_storage.tsdb.wal_segment_size_bytes', 128 * 1024 * 1024, 'Size of a WAL segment file.', { min: 64 * 1024 }),
  walSyncMode: enumOpt('blocks-storage.tsdb.wal-sync-mode', 'blocks_storage.tsdb.wal_sync_mode', 'batch', ['batch', 'always'] as const, 'When the WAL is fsynced: batch fsyncs every -blocks-storage.tsdb.wal-sync-interval; always fsyncs before every push is acknowledged (concurrent pushes share one fsync).'),
  walSyncInterval: durationOpt('blocks-storage.tsdb.wal-sync-interval', 'blocks_storage.tsdb.wal_sync_interval', 100, 'In batch sync mode, how often the WAL is fsynced.', { min: 1 }),
  headTruncationInterval: durationOpt('blocks-storage.tsdb.head-compaction-interval', 'blocks_storage.tsdb.head_compaction_interval', 60_000, 'How often the ingester drops data older than the retention period from its heads and checkpoints the WAL.', { min: 1 }),
});

export const ingesterConfig = defineGroup('ingester', {
  maxInflightPushRequests: intOpt('ingester.instance-limits.max-inflight-push-requests', 'ingester.instance_limits.max_inflight_push_requests', 30_000, 'Most push requests this ingester handles at once; more are refused with a retryable error. 0 = no limit.', { min: 0 }),
  maxSeries: intOpt('ingester.instance-limits.max-series', 'ingester.instance_limits.max_series', 0, 'Most in-memory series this ingester holds over all tenants; pushes creating more are refused with a retryable error. 0 = no limit.', { min: 0 }),
  maxTenants: intOpt('ingester.instance-limits.max-tenants', 'ingester.instance_limits.max_tenants', 0, 'Most tenants this ingester holds; pushes for a further tenant are refused with a retryable error. 0 = no limit.', { min: 0 }),
  metadataRetainPeriod: durationOpt('ingester.metadata-retain-period', 'ingester.metadata_retain_period', 600_000, 'Period after which metric metadata that was not sent again is removed from the ingester\'s memory (metadata is kept in memory only).', { min: 1 }),
  // Breaks durability on purpose, for the rollout test's test of itself
  // (test/integration/rollout-teeth.test.ts); never set in production.
  debugAckBeforeWalWrite: durationOpt('debug.ingester.ack-before-wal-write', null, 0, 'DEBUG, BREAKS DURABILITY ON PURPOSE: acknowledge each push as soon as it is in memory and write its WAL records this long afterwards (in order; at once on a clean shutdown), so a crash loses what was acknowledged in the last interval. 0 = off (a push is acknowledged only once its WAL records are written).', { hidden: true, min: 0 }),
});

export const limitsConfig = defineGroup('limits', {
  maxGlobalSeriesPerUser: intOpt('ingester.max-global-series-per-user', 'limits.max_global_series_per_user', 150_000, 'Most in-memory series per tenant across the cluster, before replication. Each ingester enforces its share: limit / healthy ingesters x replication factor. 0 = no limit.', { min: 0 }),
  maxGlobalSeriesPerMetric: intOpt('ingester.max-global-series-per-metric', 'limits.max_global_series_per_metric', 0, 'Most in-memory series per metric name per tenant across the cluster, before replication; enforced per ingester as its share. 0 = no limit.', { min: 0 }),
  maxGlobalMetadataPerUser: intOpt('ingester.max-global-metadata-per-user', 'limits.max_global_metadata_per_user', 0, 'Most metric metadata entries (distinct metric, type, help, unit) in memory per tenant across the cluster, before replication; each ingester enforces its share. Entries over it are discarded (cortex_discarded_metadata_total), the push still succeeds. 0 = no limit.', { min: 0 }),
  maxGlobalMetadataPerMetric: intOpt('ingester.max-global-metadata-per-metric', 'limits.max_global_metadata_per_metric', 0, 'Most metadata entries per metric name per tenant across the cluster, before replication; each ingester enforces its share. 0 = no limit.', { min: 0 }),
  outOfOrderTimeWindow: durationOpt('ingester.out-of-order-time-window', 'limits.out_of_order_time_window', 0, 'Accept samples up to this much older than the newest sample of their series; 0 rejects every out-of-order sample.'),
  nativeHistogramsIngestionEnabled: boolOpt('ingester.native-histograms-ingestion-enabled', 'limits.native_histograms_ingestion_enabled', false, 'Store native histogram samples; when false they are discarded and counted.'),
});

export type TsdbConfig = Values<typeof tsdbConfig.options>;
export type IngesterConfig = Values<typeof ingesterConfig.options>;
export type LimitsConfig = Values<typeof limitsConfig.options>;
