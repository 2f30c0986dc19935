// histogram_quantile, histogram_quantiles, histogram_fraction (classic `le` buckets and native
// histograms), histogram_count, histogram_sum, histogram_avg, histogram_stddev, histogram_stdvar.
import type { Labels, Sample, Vector } from '../value.js';
import { ANNO } from './annotations.js';
import { hBucketTotal, hFraction, hQuantile, hStdDev, hStdVar } from './hist.js';
import { type Bucket, bucketFraction, bucketQuantile } from './quantile.js';
import type { FnContext, FunctionImpl } from './types.js';
import {
  argPos,
  BUCKET_LABEL,
  dropLabel,
  floatSample,
  formatOpenMetricsFloat,
  getLabel,
  labelsKey,
  metricName,
  scalarArg,
  setLabel,
  stringArg,
  vectorArg,
} from './util.js';
import { parseGoFloat } from '../../util/go-strconv.js';

interface ClassicHistogram {
  /** the labels without `le` (the metric name kept: it is dropped at the end) */
  metric: Labels;
  buckets: Bucket[];
}

interface SplitHistograms {
  natives: Sample[];
  classics: ClassicHistogram[];
}

/**
 * Splits the input into native histograms and classic histograms (float samples grouped by all
 * labels but `le`), as Prometheus's resetHistograms: an unparsable `le` is warned about and
 * skipped; a native histogram with the same labels as a classic one drops both, with a warning.
 */
/** What splitHistograms derives from a bucket series' labels, once per label array. */
interface BucketInfo {
  le: string;
  upperBound: number | undefined;
  /** the labels without `le`: the same array for every bucket and step of a histogram */
  metric: Labels;
  key: string;
}

// Keyed by label-array identity: a series keeps its array from step to step (bench:query,
// histogram_quantile range queries: dropLabel, labelsKey and parseGoFloat per bucket per step
// were ~20% of the time).
const bucketInfo = new WeakMap<Labels, BucketInfo>();
const groupKeys = new WeakMap<Labels, string>();

function infoOf(metric: Labels): BucketInfo {
  let b = bucketInfo.get(metric);
  if (b === undefined) {
    const le = getLabel(metric, BUCKET_LABEL);
    const without = dropLabel(metric, BUCKET_LABEL);
    b = { le, upperBound: parseGoFloat(le), metric: without, key: labelsKey(without) };
    bucketInfo.set(metric, b);
  }
  return b;
}

function keyOf(metric: Labels): string {
  let k = groupKeys.get(metric);
  if (k === undefined) {
    k = labelsKey(metric);
    groupKeys.set(metric, k);
  }
  return k;
}

function splitHistograms(v: Vector, ctx: FnContext, vectorIndex: number): SplitHistograms {
  const pos = argPos(ctx, vectorIndex);
  const groups = new Map<string, ClassicHistogram>();
  const natives: Sample[] = [];
  for (const s of v) {
    if (s.h !== null) {
      natives.push(s);
      continue;
    }
    const { le, upperBound, metric, key } = infoOf(s.metric);
    if (upperBound === undefined) {
      ctx.annotate('warning', ANNO.badBucketLabel(metricName(s.metric), le), pos);
      continue;
    }
    let g = groups.get(key);
    if (g === undefined) {
      g = { metric, buckets: [] };
      groups.set(key, g);
    }
    g.buckets.push({ upperBound, count: s.f });
  }
  const keptNatives: Sample[] = [];
  for (const s of natives) {
    const key = keyOf(s.metric);
    if (groups.has(key)) {
      ctx.annotate('warning', ANNO.mixedClassicNativeHistograms(metricName(s.metric)), pos);
      groups.delete(key);
      continue;
    }
    keptNatives.push(s);
  }
  return { natives: keptNatives, classics: [...groups.values()] };
}

function checkQuantile(q: number, ctx: FnContext, argIndex: number): void {
  if (Number.isNaN(q) || q < 0 || q > 1) ctx.annotate('warning', ANNO.invalidQuantile(q), argPos(ctx, argIndex));
}

/** histogram_quantile of one native histogram, with Prometheus's NaN-observation infos. */
function nativeQuantile(q: number, s: Sample, ctx: FnContext, vectorIndex: number): number {
  const h = s.h!;
  const r = hQuantile(q, h);
  if (r.nan !== 'none' && hBucketTotal(h) < h.count) {
    const msg = r.nan === 'quantile_nan_result' ? ANNO.quantileNaNResult(metricName(s.metric)) : ANNO.quantileNaNSkew(metricName(s.metric));
    ctx.annotate('info', msg, argPos(ctx, vectorIndex));
  }
  return r.value;
}

function classicQuantile(q: number, c: ClassicHistogram, ctx: FnContext, annoIndex: number): number {
  const { value, fix } = bucketQuantile(q, c.buckets.map((b) => ({ ...b })));
  if (fix.forcedMonotonic) ctx.annotate('info', ANNO.forcedMonotonicity(metricName(c.metric)), argPos(ctx, annoIndex));
  return value;
}

const histogramQuantile: FunctionImpl = (args, ctx) => {
  const q = scalarArg(args, 0);
  checkQuantile(q, ctx, 0);
  const { natives, classics } = splitHistograms(vectorArg(args, 1), ctx, 1);
  const out: Vector = [];
  for (const s of natives) out.push(floatSample(s.metric, ctx.t, nativeQuantile(q, s, ctx, 1), true));
  for (const c of classics) out.push(floatSample(c.metric, ctx.t, classicQuantile(q, c, ctx, 1), true));
  return out;
};

/** histogram_quantiles(v, label, q1, ...): one output series per quantile, labelled label="q". */
const histogramQuantiles: FunctionImpl = (args, ctx) => {
  const label = stringArg(args, 1);
  const qs: number[] = [];
  for (let i = 2; i < args.length; i++) {
    const q = scalarArg(args, i);
    checkQuantile(q, ctx, i);
    qs.push(q);
  }
  const { natives, classics } = splitHistograms(vectorArg(args, 0), ctx, 0);
  const out: Vector = [];
  for (const q of qs) {
    const qStr = formatOpenMetricsFloat(q);
    for (const s of natives) out.push(floatSample(setLabel(s.metric, label, qStr), ctx.t, nativeQuantile(q, s, ctx, 0), true));
    // Prometheus reports forced monotonicity at the label argument here.
    for (const c of classics) out.push(floatSample(setLabel(c.metric, label, qStr), ctx.t, classicQuantile(q, c, ctx, 1), true));
  }
  return out;
};

const histogramFraction: FunctionImpl = (args, ctx) => {
  const lower = scalarArg(args, 0);
  const upper = scalarArg(args, 1);
  const { natives, classics } = splitHistograms(vectorArg(args, 2), ctx, 2);
  const out: Vector = [];
  for (const s of natives) {
    const h = s.h!;
    const r = hFraction(lower, upper, h);
    if (r.nan !== 'none' && hBucketTotal(h) < h.count) ctx.annotate('info', ANNO.fractionNaNs(metricName(s.metric)), argPos(ctx, 2));
    out.push(floatSample(s.metric, ctx.t, r.value, true));
  }
  for (const c of classics) {
    out.push(floatSample(c.metric, ctx.t, bucketFraction(lower, upper, c.buckets.map((b) => ({ ...b }))), true));
  }
  return out;
};

/** Functions of one native histogram; float samples are skipped. */
function ofHistogram(f: (h: NonNullable<Sample['h']>) => number): FunctionImpl {
  return (args, ctx) => {
    const out: Vector = [];
    for (const s of vectorArg(args, 0)) if (s.h !== null) out.push(floatSample(s.metric, ctx.t, f(s.h), true));
    return out;
  };
}

export const HISTOGRAM_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['histogram_quantile', histogramQuantile],
  ['histogram_quantiles', histogramQuantiles],
  ['histogram_fraction', histogramFraction],
  ['histogram_count', ofHistogram((h) => h.count)],
  ['histogram_sum', ofHistogram((h) => h.sum)],
  ['histogram_avg', ofHistogram((h) => h.sum / h.count)],
  ['histogram_stddev', ofHistogram(hStdDev)],
  ['histogram_stdvar', ofHistogram(hStdVar)],
];
