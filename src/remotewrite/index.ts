// Remote-write protobuf messages (1.0 prometheus.WriteRequest, 2.0 io.prometheus.write.v2.Request):
// a hand-written columnar decoder for the hot path, an encoder for tests and load generators, and
// the subset encoder a distributor builds its per-ingester 1.0 Push bodies with.
// Format, decoded layout and error behaviour: docs/formats/remote-write.md.
export { decodeWriteRequest } from './decode.js';
export { decodeWriteRequestV2 } from './decode-v2.js';
export {
  exemplarLabelsOf,
  isStaleNaN,
  labelsOf,
  metadataOf,
  ONEOF_FLOAT,
  ONEOF_INT,
  ONEOF_NONE,
  sortSeriesLabels,
  STALE_NAN_BITS,
  stringAt,
  valueBits,
} from './decoded.js';
export type {
  DecodedWriteRequest,
  ExemplarColumns,
  HistogramColumns,
  MetadataColumns,
  MetadataEntry,
  NumberLists,
  SpanLists,
} from './decoded.js';
export { encodeWriteRequest, encodeWriteRequestV2 } from './encode.js';
export type { EncodeOptions } from './encode.js';
export { histogramOf, toObjects } from './objects.js';
export { KEEP_ALL_ROWS, SubsetEncoder } from './subset.js';
export type { SubsetEncoderOptions, SubsetMasks } from './subset.js';
export type {
  BucketSpanObject,
  ExemplarObject,
  F64,
  HistogramObject,
  MetricMetadataObject,
  SampleObject,
  SeriesMetadataObject,
  SeriesObject,
  WriteRequestObject,
} from './objects.js';
