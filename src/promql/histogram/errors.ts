// Typed errors of histogram operations and the texts of the Prometheus annotations (warnings and
// infos) that histogram operations lead to (Prometheus util/annotations). The texts here have no
// position suffix: the engine appends " (line:col)" of the expression, as Prometheus does.
import { MuninnError } from '../../errors/index.js';

/** Why a histogram operation failed. */
export type HistogramErrorReason =
  /** one histogram has exponential buckets, the other custom buckets (schema -53) */
  | 'incompatible_schema'
  /** a histogram that cannot be operated on (bad schema, spans not matching buckets) */
  | 'invalid_histogram';

export class HistogramError extends MuninnError {
  readonly reason: HistogramErrorReason;
  constructor(reason: HistogramErrorReason, message: string, options?: { cause?: unknown }) {
    super('bad_data', message, options);
    this.name = 'HistogramError';
    this.reason = reason;
  }
}

/**
 * Adding or subtracting (or detecting resets between) a histogram with exponential buckets and
 * one with custom buckets. Prometheus's ErrHistogramsIncompatibleSchema: the engine drops the
 * result and warns with mixedExponentialCustomHistogramsWarning (aggregations, _over_time,
 * rate) or incompatibleBucketLayoutInBinOpWarning (binary operators).
 */
export class HistogramIncompatibleSchemaError extends HistogramError {
  constructor() {
    super('incompatible_schema', 'cannot apply this operation on histograms with a mix of exponential and custom bucket schemas');
    this.name = 'HistogramIncompatibleSchemaError';
  }
}

export class InvalidHistogramError extends HistogramError {
  constructor(message: string) {
    super('invalid_histogram', message);
    this.name = 'InvalidHistogramError';
  }
}

// ---- annotation texts ---------------------------------------------------------------------

const WARNING = 'PromQL warning';
const INFO = 'PromQL info';

/** Go's %q for the names that occur here (JSON string quoting is the same for printable text). */
function quote(s: string): string {
  return JSON.stringify(s);
}

function maybeWithMetricName(text: string, metricName: string): string {
  return metricName === '' ? text : `${text} for metric name ${quote(metricName)}`;
}

/** The operation named in the collision and reconciliation annotations. */
export type HistogramOperation = 'addition' | 'subtraction' | 'aggregation';

/** Warning: a vector (aggregation, range) holds histograms with both exponential and custom buckets. */
export function mixedExponentialCustomHistogramsWarning(metricName: string): string {
  return `${WARNING}: vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${quote(metricName)}`;
}

/** Warning: a binary operator got two histograms it cannot combine (exponential with custom buckets). */
export function incompatibleBucketLayoutInBinOpWarning(operator: string): string {
  return `${WARNING}: incompatible bucket layout encountered for binary operator ${operator}`;
}

/** Warning: adding/subtracting a histogram hinted CounterReset and one hinted NotCounterReset. */
export function histogramCounterResetCollisionWarning(operation: HistogramOperation): string {
  return `${WARNING}: conflicting counter resets during histogram ${operation}`;
}

/** Info: custom-bucket histograms with different bounds were combined on the bounds they share. */
export function mismatchedCustomBucketsHistogramsInfo(operation: HistogramOperation): string {
  return `${INFO}: mismatched custom buckets were reconciled during ${operation}`;
}

/** Info: histogram_quantile's rank fell among NaN observations; the result is NaN. */
export function nativeHistogramQuantileNaNResultInfo(metricName: string): string {
  return maybeWithMetricName(`${INFO}: input to histogram_quantile has NaN observations, result is NaN`, metricName);
}

/** Info: the histogram has NaN observations (counted as above every bucket); the quantile is skewed. */
export function nativeHistogramQuantileNaNSkewInfo(metricName: string): string {
  return maybeWithMetricName(`${INFO}: input to histogram_quantile has NaN observations, result is skewed higher`, metricName);
}

/** Info: histogram_fraction on a histogram with NaN observations (they are in no fraction). */
export function nativeHistogramFractionNaNsInfo(metricName: string): string {
  return maybeWithMetricName(`${INFO}: input to histogram_fraction has NaN observations, which are excluded from all fractions`, metricName);
}

/** Warning: rate/increase/irate on a gauge histogram. */
export function nativeHistogramNotCounterWarning(metricName: string): string {
  return `${WARNING}: this native histogram metric is not a counter: ${quote(metricName)}`;
}

/** Warning: delta/idelta/deriv-like gauge functions on a counter histogram. */
export function nativeHistogramNotGaugeWarning(metricName: string): string {
  return `${WARNING}: this native histogram metric is not a gauge: ${quote(metricName)}`;
}
