// The distributor's metrics, named and labelled as Mimir's (pkg/distributor/distributor.go) so its
// dashboards work. "received" counts what passed validation and the rate limit; "in" counts what
// arrived.
import { Counter, Gauge, Histogram, type Registry, sharedCounter } from '../metrics/index.js';

export class DistributorMetrics {
  readonly requestsIn: Counter<'user'>;
  readonly receivedRequests: Counter<'user'>;
  readonly samplesIn: Counter<'user'>;
  readonly receivedSamples: Counter<'user'>;
  readonly exemplarsIn: Counter<'user'>;
  readonly receivedExemplars: Counter<'user'>;
  readonly metadataIn: Counter<'user'>;
  readonly receivedMetadata: Counter<'user'>;
  readonly discardedSamples: Counter<'reason' | 'user'>;
  readonly discardedExemplars: Counter<'reason' | 'user'>;
  readonly discardedMetadata: Counter<'reason' | 'user'>;
  readonly inflightPush: Gauge;
  readonly inflightPushBytes: Gauge;
  readonly instanceRejected: Counter<'reason'>;
  readonly ingesterAppends: Counter<'ingester' | 'type'>;
  readonly ingesterAppendFailures: Counter<'ingester' | 'type' | 'status'>;
  readonly latestSeenSample: Gauge<'user'>;
  readonly replicationFactor: Gauge;
  readonly ingesterPushDuration: Histogram<'status'>;

  constructor(r: Registry) {
    const reg = [r];
    const user = ['user'] as const;
    const c = (name: string, help: string): Counter<'user'> => new Counter({ name, help, labelNames: user, registers: reg });
    this.requestsIn = c('cortex_distributor_requests_in_total', 'The total number of push requests that have come in to the distributor, including rejected or deduped requests.');
    this.receivedRequests = c('cortex_distributor_received_requests_total', 'The total number of received requests, excluding rejected and deduped requests.');
    this.samplesIn = c('cortex_distributor_samples_in_total', 'The total number of samples that have come in to the distributor, including rejected or deduped samples.');
    this.receivedSamples = c('cortex_distributor_received_samples_total', 'The total number of received samples, excluding rejected and deduped samples.');
    this.exemplarsIn = c('cortex_distributor_exemplars_in_total', 'The total number of exemplars that have come in to the distributor, including rejected or deduped exemplars.');
    this.receivedExemplars = c('cortex_distributor_received_exemplars_total', 'The total number of received exemplars, excluding rejected and deduped exemplars.');
    this.metadataIn = c('cortex_distributor_metadata_in_total', 'The total number of metadata the have come in to the distributor, including rejected.');
    this.receivedMetadata = c('cortex_distributor_received_metadata_total', 'The total number of received metadata, excluding rejected.');
    const reason = ['reason', 'user'] as const;
    this.discardedSamples = sharedCounter(r, { name: 'cortex_discarded_samples_total', help: 'Samples discarded, by reason and tenant.', labelNames: reason });
    this.discardedExemplars = sharedCounter(r, { name: 'cortex_discarded_exemplars_total', help: 'Exemplars discarded, by reason and tenant.', labelNames: reason });
    this.discardedMetadata = sharedCounter(r, { name: 'cortex_discarded_metadata_total', help: 'Metadata discarded, by reason and tenant.', labelNames: reason });
    this.inflightPush = new Gauge({ name: 'cortex_distributor_inflight_push_requests', help: 'Current number of inflight push requests in distributor.', registers: reg });
    this.inflightPushBytes = new Gauge({ name: 'cortex_distributor_inflight_push_requests_uncompressed_bytes', help: 'Current sum of inflight push requests in distributor in bytes.', registers: reg });
    this.instanceRejected = new Counter({ name: 'cortex_distributor_instance_rejected_requests_total', help: 'Requests discarded for hitting per-instance limits.', labelNames: ['reason'], registers: reg });
    this.ingesterAppends = new Counter({ name: 'cortex_distributor_ingester_appends_total', help: 'The total number of batch appends sent to ingesters.', labelNames: ['ingester', 'type'], registers: reg });
    this.ingesterAppendFailures = new Counter({ name: 'cortex_distributor_ingester_append_failures_total', help: 'The total number of failed batch appends sent to ingesters.', labelNames: ['ingester', 'type', 'status'], registers: reg });
    this.latestSeenSample = new Gauge({ name: 'cortex_distributor_latest_seen_sample_timestamp_seconds', help: 'Unix timestamp of latest received sample per user.', labelNames: user, registers: reg });
    this.replicationFactor = new Gauge({ name: 'cortex_distributor_replication_factor', help: 'The configured replication factor.', registers: reg });
    this.ingesterPushDuration = new Histogram({
      name: 'cortex_ingester_client_request_duration_seconds',
      help: 'Time spent doing ingester push requests, from the distributor.',
      labelNames: ['status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: reg,
    });
  }
}
