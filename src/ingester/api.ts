// What distributors and queriers ask of an ingester. The ingester implements it directly (used
// in-process with -target=all); the gRPC client implements it for ingesters in other processes.
import type { MatchType } from '../tsdb/labels/index.js';
import type { MetricMetadata } from './metadata.js';

export interface MatcherSpec {
  type: MatchType;
  name: string;
  value: string;
}

export interface TimeRange {
  /** Inclusive, ms. */
  mint: number;
  maxt: number;
}

export interface QueryParams extends TimeRange {
  matchers: MatcherSpec[];
  /** Ask for decoded samples instead of chunks. */
  samples?: boolean;
}

export interface StreamChunk {
  minT: number;
  maxT: number;
  /** Encoding 1 = XOR. */
  encoding: number;
  data: Uint8Array;
}

export interface StreamSeries {
  /** Flat, sorted [name, value, ...]. */
  labels: string[];
  chunks: StreamChunk[];
  /** Float samples (values keep their bits in the Float64Array). */
  samples: { t: Float64Array; v: Float64Array } | null;
  histograms: Array<{ t: number; h: unknown }>;
}

export interface PushResult {
  /** Samples and histograms stored or accepted as duplicates. */
  accepted: number;
}

export interface UserStats {
  ingestionRate: number;
  numSeries: number;
}

export interface IngesterApi {
  /** `body` is an uncompressed remote-write 1.0 WriteRequest. */
  push(tenant: string, body: Uint8Array, signal?: AbortSignal): Promise<PushResult>;
  queryStream(tenant: string, q: QueryParams, signal?: AbortSignal): AsyncIterable<StreamSeries[]>;
  labelNames(tenant: string, q: TimeRange & { matchers: MatcherSpec[] }, signal?: AbortSignal): Promise<string[]>;
  labelValues(tenant: string, name: string, q: TimeRange & { matchers: MatcherSpec[] }, signal?: AbortSignal): Promise<string[]>;
  series(tenant: string, q: TimeRange & { matcherSets: MatcherSpec[][] }, signal?: AbortSignal): Promise<string[][]>;
  userStats(tenant: string, signal?: AbortSignal): Promise<UserStats>;
  /** Every metric metadata entry held for the tenant, sorted by metric, type, help, unit. */
  metricsMetadata(tenant: string, signal?: AbortSignal): Promise<MetricMetadata[]>;
}
