// Text forms of histograms: Prometheus FloatHistogram.String() (bucket list, for messages and
// test diffs) and TestExpression() (the promqltest `{{...}}` notation).
import type { FloatHistogram } from '../value.js';
import { histogramCompact } from './arith.js';
import { type HistogramBucket, negativeBuckets, positiveBuckets, zeroBucket } from './iterate.js';
import { CounterResetHint, usesCustomBuckets } from './types.js';
import { formatFloatG } from '../../util/go-strconv.js';

/** A bucket as Prometheus's Bucket.String(): "(1,2]:3", "[-0.001,0.001]:1". */
export function formatBucket(b: HistogramBucket): string {
  return `${b.lowerInclusive ? '[' : '('}${formatFloatG(b.lower)},${formatFloatG(b.upper)}${b.upperInclusive ? ']' : ')'}:${formatFloatG(b.count)}`;
}

/**
 * Prometheus FloatHistogram.String(): count, sum, then every populated bucket from the lowest to
 * the highest, e.g. "{count:4, sum:5, (0.5,1]:1, (1,2]:2, (2,4]:1}".
 */
export function formatHistogram(h: FloatHistogram): string {
  const parts = [`count:${formatFloatG(h.count)}`, `sum:${formatFloatG(h.sum)}`];
  const neg = negativeBuckets(h).filter((b) => b.count !== 0);
  for (let k = neg.length - 1; k >= 0; k--) parts.push(formatBucket(neg[k] as HistogramBucket));
  if (h.zeroCount !== 0 && !usesCustomBuckets(h)) parts.push(formatBucket(zeroBucket(h)));
  for (const b of positiveBuckets(h)) if (b.count !== 0) parts.push(formatBucket(b));
  return `{${parts.join(', ')}}`;
}

const HINT_TEXT: Record<number, string> = {
  [CounterResetHint.CounterReset]: 'counter_reset_hint:reset',
  [CounterResetHint.NotCounterReset]: 'counter_reset_hint:not_reset',
  [CounterResetHint.Gauge]: 'counter_reset_hint:gauge',
};

/**
 * Prometheus FloatHistogram.TestExpression(): the histogram in promqltest notation, compacted so
 * that each side is one span, fields at their defaults left out, e.g.
 * "{{schema:1 count:3 sum:4 offset:1 buckets:[1 0 2]}}".
 */
export function formatTestExpression(h: FloatHistogram): string {
  const m = histogramCompact(h, Number.MAX_SAFE_INTEGER);
  const res: string[] = [];
  if (m.schema !== 0) res.push(`schema:${m.schema}`);
  if (m.count !== 0) res.push(`count:${formatFloatG(m.count)}`);
  if (m.sum !== 0) res.push(`sum:${formatFloatG(m.sum)}`);
  if (m.zeroCount !== 0) res.push(`z_bucket:${formatFloatG(m.zeroCount)}`);
  if (m.zeroThreshold !== 0) res.push(`z_bucket_w:${formatFloatG(m.zeroThreshold)}`);
  if (usesCustomBuckets(m)) res.push(`custom_values:[${m.customValues.map(formatFloatG).join(' ')}]`);
  const hint = HINT_TEXT[m.counterResetHint];
  if (hint !== undefined) res.push(hint);
  const side = (bucketsKey: string, offsetKey: string, spans: FloatHistogram['positiveSpans'], buckets: number[]): void => {
    const first = spans[0];
    if (first !== undefined && first.offset !== 0) res.push(`${offsetKey}:${first.offset}`);
    if (buckets.length > 0) res.push(`${bucketsKey}:[${buckets.map(formatFloatG).join(' ')}]`);
  };
  side('buckets', 'offset', m.positiveSpans, m.positiveBuckets);
  side('n_buckets', 'n_offset', m.negativeSpans, m.negativeBuckets);
  return `{{${res.join(' ')}}}`;
}
