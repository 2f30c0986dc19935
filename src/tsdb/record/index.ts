// WAL record codecs in Prometheus's tsdb/record encodings; layout in docs/formats/wal.md.
export { RecordType } from './types.js';
export type {
  DecodedRecord, FlatLabels, RecordTypeCode, RefExemplar, RefMetadata, RefSeries, RefSeriesInput, SamplesColumns, Tombstone,
} from './types.js';
export { decodeRecord, recordType } from './decode.js';
export { encodeSeries, decodeSeries, forEachSeries } from './series.js';
export { encodeSamples, decodeSamples, decodeSamplesInto, SampleBatch } from './samples.js';
export { encodeTombstones, decodeTombstones } from './tombstones.js';
export { encodeExemplars, decodeExemplars } from './exemplars.js';
export { encodeMetadata, decodeMetadata } from './metadata.js';
export { walkEntries, filterRecord, countEntries } from './entries.js';
export {
  CUSTOM_BUCKETS_SCHEMA, decodeFloatHistogramSamples, decodeHistogramSamples, encodeFloatHistogramSamples, encodeHistogramSamples,
  isFloatHistogram, isFloatHistogramRecordType, isHistogramRecordType,
} from './histograms.js';
export type { HistogramDecodeOptions, HistogramDecodeResult, RefHistogramSample } from './histograms.js';
export type { EntryVisitor, WalkResult } from './entries.js';
