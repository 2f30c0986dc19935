// Write-ahead log in Prometheus's on-disk WAL format (tsdb/wlog); layout and behaviour in
// docs/formats/wal.md. Record encodings live in ../record.
export { Wal, DEFAULT_SYNC_INTERVAL_MS } from './writer.js';
export type { SyncMode, WalOptions, WalStats } from './writer.js';
export { replayWal } from './replay.js';
export type { ReplayOptions, ReplayProgress, ReplayRepair, ReplayResult, ReplaySink } from './replay.js';
export { checkpoint } from './checkpoint.js';
export type { CheckpointOptions, CheckpointStats } from './checkpoint.js';
export { scanSegment } from './reader.js';
export type { RecordSink, SegmentProblem, SegmentScan } from './reader.js';
export { snappyDecode } from './snappy.js';
export { DEFAULT_SEGMENT_SIZE, HEADER_SIZE, PAGE_SIZE, checkpointName, listCheckpoints, listSegments, segmentName } from './format.js';
export {
  RecordType, SampleBatch, decodeRecord, decodeSamples, decodeSamplesInto, decodeSeries, encodeExemplars, encodeMetadata, encodeSamples,
  encodeSeries, encodeTombstones, forEachSeries,
} from '../record/index.js';
export type { DecodedRecord, FlatLabels, RefExemplar, RefMetadata, RefSeries, RefSeriesInput, SamplesColumns, Tombstone } from '../record/index.js';
export {
  CUSTOM_BUCKETS_SCHEMA, decodeFloatHistogramSamples, decodeHistogramSamples, encodeFloatHistogramSamples, encodeHistogramSamples, isFloatHistogram,
} from '../record/index.js';
export type { HistogramDecodeOptions, HistogramDecodeResult, RefHistogramSample } from '../record/index.js';
