// Prometheus's annotation texts (util/annotations/annotations.go) as the functions report them,
// without the "PromQL warning: "/"PromQL info: " prefix and the " (line:col)" suffix, which the
// engine adds (see FnContext.annotate).
import { goQuote } from '../../tsdb/labels/index.js';
import { formatFloatG } from '../../util/go-strconv.js';

function withMetricName(msg: string, metricName: string): string {
  return metricName === '' ? msg : `${msg} for metric name ${goQuote(metricName)}`;
}

export type HistogramOperation = 'addition' | 'subtraction' | 'aggregation';

export const ANNO = {
  // warnings
  invalidQuantile: (q: number) => `quantile value should be between 0 and 1, got ${formatFloatG(q)}`,
  badBucketLabel: (metricName: string, le: string) =>
    withMetricName(`bucket label "le" is missing or has a malformed value of ${goQuote(le)}`, metricName),
  mixedFloatsHistograms: (metricName: string) => `encountered a mix of histograms and floats for metric name ${goQuote(metricName)}`,
  mixedClassicNativeHistograms: (metricName: string) =>
    withMetricName('vector contains a mix of classic and native histograms', metricName),
  nativeHistogramNotCounter: (metricName: string) => `this native histogram metric is not a counter: ${goQuote(metricName)}`,
  nativeHistogramNotGauge: (metricName: string) => `this native histogram metric is not a gauge: ${goQuote(metricName)}`,
  mixedExponentialCustomHistograms: (metricName: string) =>
    `vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${goQuote(metricName)}`,
  incompatibleCustomBuckets: (metricName: string) =>
    `vector contains histograms with incompatible custom buckets for metric name ${goQuote(metricName)}`,
  counterResetCollision: (op: HistogramOperation) => `conflicting counter resets during histogram ${op}`,
  // infos
  possibleNonCounter: (metricName: string) =>
    `metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${goQuote(metricName)}`,
  forcedMonotonicity: (metricName: string) =>
    withMetricName(
      'input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)',
      metricName,
    ),
  histogramIgnoredInMixedRange: (metricName: string) =>
    `ignored histograms in a range containing both floats and histograms for metric name ${goQuote(metricName)}`,
  quantileNaNResult: (metricName: string) => withMetricName('input to histogram_quantile has NaN observations, result is NaN', metricName),
  quantileNaNSkew: (metricName: string) =>
    withMetricName('input to histogram_quantile has NaN observations, result is skewed higher', metricName),
  fractionNaNs: (metricName: string) =>
    withMetricName('input to histogram_fraction has NaN observations, which are excluded from all fractions', metricName),
  mismatchedCustomBuckets: (op: HistogramOperation) => `mismatched custom buckets were reconciled during ${op}`,
} as const;
