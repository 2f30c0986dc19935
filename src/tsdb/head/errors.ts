// Why the head refuses a sample or a series: the reason label of cortex_discarded_samples_total
// (Mimir's values) and a message in Mimir's form, with its error ID and, for limits, the flag that
// changes the limit. Bad data and tenant limits are not retryable (HTTP 400); instance limits are
// (HTTP 503).
import { MuninnError } from '../../errors/index.js';
import { type Labels, labelsToString } from '../labels/index.js';

export type DiscardReason =
  | 'sample-out-of-order'
  | 'sample-too-old'
  | 'sample-out-of-bounds'
  | 'new-value-for-timestamp'
  | 'per_user_series_limit'
  | 'per_metric_series_limit'
  | 'invalid-labels'
  | 'native-histogram-disabled';

function ts(t: number): string {
  return Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);
}

export class SampleError extends MuninnError {
  readonly reason: DiscardReason;
  constructor(reason: DiscardReason, message: string, retryable = false) {
    super(retryable ? 'unavailable' : 'bad_data', message);
    this.name = 'SampleError';
    this.reason = reason;
  }
}

export function sampleError(reason: DiscardReason, t: number, labels: Labels | string): SampleError {
  const series = typeof labels === 'string' ? labels : labelsToString(labels);
  const where = `The affected sample has timestamp ${ts(t)} and is from series ${series}`;
  switch (reason) {
    case 'sample-out-of-order':
      return new SampleError(reason, `the sample was rejected because the series already has a newer sample and out-of-order samples are not accepted (err-mimir-sample-out-of-order). ${where}`);
    case 'sample-too-old':
      return new SampleError(reason, `the sample was rejected because it is older than the out-of-order time window allows (err-mimir-sample-too-old); -ingester.out-of-order-time-window sets the window. ${where}`);
    case 'sample-out-of-bounds':
      return new SampleError(reason, `the sample was rejected because its timestamp is too old for the ingester's head (err-mimir-sample-out-of-bounds). ${where}`);
    case 'new-value-for-timestamp':
      return new SampleError(reason, `the sample was rejected because the series already has a sample with the same timestamp and a different value (err-mimir-sample-duplicate-timestamp). ${where}`);
    case 'native-histogram-disabled':
      return new SampleError(reason, `native histogram samples are not accepted for this tenant (err-mimir-native-histogram-disabled); -ingester.native-histograms-ingestion-enabled enables them. ${where}`);
    default:
      return new SampleError(reason, `${reason}: ${where}`);
  }
}

export function perUserSeriesLimitError(limit: number): SampleError {
  return new SampleError('per_user_series_limit', `per-user series limit of ${limit} exceeded (err-mimir-max-series-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your service administrator.`);
}

export function perMetricSeriesLimitError(limit: number, labels: Labels): SampleError {
  return new SampleError('per_metric_series_limit', `per-metric series limit of ${limit} exceeded for series ${labelsToString(labels)} (err-mimir-max-series-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-metric, or contact your service administrator.`);
}

/**
 * A series the head cannot hold (duplicate or empty label names, invalid UTF-8, no labels at all).
 * `errorId` is Mimir's error ID for the case.
 */
export function invalidLabelsError(detail: string, errorId: string): SampleError {
  return new SampleError('invalid-labels', `${detail} (${errorId})`);
}

/** Instance limits: retryable, another ingester (or this one later) may take the data. */
export function instanceSeriesLimitError(limit: number): MuninnError {
  return new MuninnError('unavailable', `cannot add series: this ingester holds its maximum of ${limit} series (err-mimir-ingester-max-series); -ingester.instance-limits.max-series sets it`);
}
