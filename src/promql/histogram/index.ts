// Native histogram operations for PromQL with Prometheus 3 semantics: arithmetic, equality,
// counter resets, quantiles and other statistics, conversion from the stored forms, text forms.
// Functions take and return ../value.ts FloatHistogram; plain ones never change their arguments.
export {
  histogramAdd,
  histogramAddInto,
  histogramCompact,
  histogramCompactInto,
  histogramDiv,
  histogramDivInto,
  histogramMul,
  histogramMulInto,
  histogramNeg,
  histogramReduceResolution,
  histogramSub,
  histogramSubInto,
  newHistogramOpNotes,
} from './arith.js';
export type { HistogramOpNotes } from './arith.js';
export { customBoundsMatch, getBound, getBoundExponential, intersectCustomBounds } from './bounds.js';
export { compactBuckets, decodeBuckets, encodeBuckets, spansMatch } from './buckets.js';
export type { BucketList, SpansAndBuckets } from './buckets.js';
export { fromHistogramObject, fromStoredHistogram, fromStreamHistograms } from './convert.js';
export { almostEqual, histogramAlmostEquals, histogramEquals, sameFloatBits } from './equals.js';
export type { AlmostEqualsOptions } from './equals.js';
export {
  HistogramError,
  HistogramIncompatibleSchemaError,
  histogramCounterResetCollisionWarning,
  incompatibleBucketLayoutInBinOpWarning,
  InvalidHistogramError,
  mismatchedCustomBucketsHistogramsInfo,
  mixedExponentialCustomHistogramsWarning,
  nativeHistogramFractionNaNsInfo,
  nativeHistogramNotCounterWarning,
  nativeHistogramNotGaugeWarning,
  nativeHistogramQuantileNaNResultInfo,
  nativeHistogramQuantileNaNSkewInfo,
} from './errors.js';
export type { HistogramErrorReason, HistogramOperation } from './errors.js';
export { formatBucket, formatHistogram, formatTestExpression } from './format.js';
export { combineCounterResetHints } from './hints.js';
export { allBuckets, bucketBoundaryRule, negativeBuckets, positiveBuckets, zeroBucket } from './iterate.js';
export type { BucketBoundFn, HistogramBucket } from './iterate.js';
export { HistogramKahanSum } from './kahan.js';
export { detectCounterReset } from './reset.js';
export {
  histogramAvg,
  histogramCount,
  histogramFraction,
  histogramQuantile,
  histogramStdDev,
  histogramStdVar,
  histogramSum,
} from './stats.js';
export type { HistogramNaNInfo, HistogramStatsInfo } from './stats.js';
export {
  copySpans,
  counterResetHintFromName,
  counterResetHintName,
  CounterResetHint,
  CUSTOM_BUCKETS_SCHEMA,
  EXPONENTIAL_SCHEMA_MAX,
  EXPONENTIAL_SCHEMA_MIN,
  histogramCopy,
  histogramFromNotation,
  isCustomBucketsSchema,
  isExponentialSchema,
  isValidSchema,
  makeHistogram,
  usesCustomBuckets,
} from './types.js';
export type { CounterResetHintValue, HistogramNotation } from './types.js';
export { zeroCountForLargerThreshold } from './zero-bucket.js';
