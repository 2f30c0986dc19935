// Aggregation operators (Prometheus rangeEvalAgg, aggregation, aggregationK,
// aggregationCountValues): sum, avg, count, min, max, group, stddev, stdvar, quantile,
// topk, bottomk, limitk, limit_ratio, count_values, with by/without grouping.
import { type AggregateExpr, type Expr, unwrapParens } from '../ast.js';
import { compareStrings } from '../../tsdb/labels/index.js';
import { goQuoteString } from '../parser/tokens.js';
import type { FloatHistogram, Labels, Sample } from '../value.js';
import { PromQLError } from './api.js';
import type { EMatrix, ESeries, QueryCtx } from './context.js';
import { histogramSize, matrixSamples } from './context.js';
import { aggregationK } from './aggregate-k.js';
import type { Evaluator } from './evaluator.js';
import {
  formatHistogram,
  HistogramIncompatibleSchemaError,
  HistogramKahanSum,
  histogramCompactInto,
  histogramCopy,
  histogramDivInto,
  newHistogramOpNotes,
} from '../histogram/index.js';
import { quantile } from '../functions/quantile.js';
import { formatFloatF, formatFloatG } from '../../util/go-strconv.js';
import { kahanSumInc } from '../../util/kahan.js';
import { deleteLabels, getLabel, isValidLabelName, keepLabels, keyWith, keyWithout, labelsKey, METRIC_NAME, setLabel } from './labels.js';

const COUNTER_RESET = 1;
const NOT_COUNTER_RESET = 2;

/** The per-step values of an aggregation parameter (k, q, ratio). */
class Params {
  readonly values: Float64Array;
  min = Infinity;
  max = -Infinity;
  hasNaN = false;
  constructor(values: Float64Array) {
    this.values = values;
    for (const v of values) {
      if (Number.isNaN(v)) this.hasNaN = true;
      else {
        if (v < this.min) this.min = v;
        if (v > this.max) this.max = v;
      }
    }
    if (values.length === 0) this.min = this.max = 0;
  }
}

async function params(ev: Evaluator, e: Expr | null): Promise<Params> {
  const vals = new Float64Array(ev.numSteps);
  if (e === null) return new Params(vals);
  const m = await ev.eval(e);
  const s = m[0];
  vals.fill(NaN);
  if (s !== undefined) {
    for (const p of s.floats) {
      const i = Math.round((p.t - ev.start) / ev.interval);
      if (i >= 0 && i < vals.length) vals[i] = p.f;
    }
  } else {
    return new Params(new Float64Array(0));
  }
  return new Params(vals);
}

export interface Group {
  seen: boolean;
  floatValue: number;
  /** sum/avg of histograms, compensated like the float sum */
  hsum: HistogramKahanSum | null;
  /** avg: the histograms averaged (to recompute without overflow) */
  hinputs: FloatHistogram[];
  floatMean: number;
  kahanC: number;
  count: number;
  values: number[];
  hasFloat: boolean;
  hasHistogram: boolean;
  incompatible: boolean;
  incrementalMean: boolean;
  counterResetSeen: boolean;
  notCounterResetSeen: boolean;
  dropName: boolean;
  /** topk/bottomk/limitk/limit_ratio */
  heap: Sample[];
}

function newGroup(): Group {
  return {
    seen: false,
    floatValue: 0,
    hsum: null,
    hinputs: [],
    floatMean: 0,
    kahanC: 0,
    count: 0,
    values: [],
    hasFloat: false,
    hasHistogram: false,
    incompatible: false,
    incrementalMean: false,
    counterResetSeen: false,
    notCounterResetSeen: false,
    dropName: false,
    heap: [],
  };
}

const MAX_INT64 = 9223372036854774784;
const MIN_INT64 = -9223372036854775808;

export async function evalAggregate(ev: Evaluator, e: AggregateExpr): Promise<EMatrix> {
  const q = ev.q;
  const grouping = [...e.grouping].sort(compareStrings);
  if (e.op === 'count_values') return countValues(ev, e, grouping);

  const original = q.samples;
  const fp = await params(ev, e.param === null ? null : unwrapParens(e.param));
  const input = await ev.eval(e.expr);
  const result = await aggregateRange(ev, e, grouping, input, fp);
  q.samples = original + matrixSamples(result);
  return result;
}

function groupingFns(e: AggregateExpr, grouping: readonly string[]): { key: (m: Labels) => string; labels: (m: Labels) => Labels } {
  const set = new Set(grouping);
  if (e.without) {
    const drop = new Set([...grouping, METRIC_NAME]);
    return { key: (m) => keyWithout(m, drop), labels: (m) => deleteLabels(m, drop) };
  }
  if (grouping.length === 0) return { key: () => '', labels: () => [] };
  return { key: (m) => keyWith(m, set), labels: (m) => keepLabels(m, set) };
}

const K_OPS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);

async function aggregateRange(ev: Evaluator, e: AggregateExpr, grouping: readonly string[], input: EMatrix, fp: Params): Promise<EMatrix> {
  const q = ev.q;
  const op = e.op;
  const isK = K_OPS.has(op);
  const g = groupingFns(e, grouping);
  const groupIndex = new Map<string, number>();
  const seriesToGroup = new Int32Array(input.length);
  const result: EMatrix = [];
  input.forEach((s, i) => {
    const k = g.key(s.metric);
    let idx = groupIndex.get(k);
    if (idx === undefined) {
      idx = groupIndex.size;
      groupIndex.set(k, idx);
      if (!isK) result.push({ metric: g.labels(s.metric), floats: [], histograms: [], dropName: false });
    }
    seriesToGroup[i] = idx;
  });
  const groups: Group[] = Array.from({ length: groupIndex.size }, newGroup);
  const paramPos = e.param !== null ? e.param.pos : e.pos;

  switch (op) {
    case 'topk':
    case 'bottomk':
    case 'limitk':
      if (fp.hasNaN) throw new PromQLError('execution', 'Parameter value is NaN');
      if (fp.max < 1) return [];
      if (fp.min <= MIN_INT64) throw new PromQLError('execution', `Scalar value ${formatFloatG(fp.min)} underflows int64`);
      if (fp.max >= MAX_INT64) throw new PromQLError('execution', `Scalar value ${formatFloatG(fp.max)} overflows int64`);
      break;
    case 'limit_ratio':
      if (fp.hasNaN) throw new PromQLError('execution', 'Ratio value is NaN');
      if (fp.max === 0 && fp.min === 0) return [];
      if (fp.max > 1) q.annos.add('warning', `ratio value should be between -1 and 1, got ${formatFloatG(fp.max)}, capping to 1`, paramPos);
      if (fp.min < -1) q.annos.add('warning', `ratio value should be between -1 and 1, got ${formatFloatG(fp.min)}, capping to -1`, paramPos);
      break;
    case 'quantile':
      if (fp.hasNaN) q.annos.add('warning', 'quantile value should be between 0 and 1, got NaN', paramPos);
      if (fp.max > 1) q.annos.add('warning', `quantile value should be between 0 and 1, got ${formatFloatG(fp.max)}`, paramPos);
      if (fp.min < 0) q.annos.add('warning', `quantile value should be between 0 and 1, got ${formatFloatG(fp.min)}`, paramPos);
      break;
    default:
      break;
  }

  const curF = new Int32Array(input.length);
  const curH = new Int32Array(input.length);
  /** The value of input series `i` at `ts`, advancing its cursors. */
  const next = (i: number, ts: number): { f: number; h: FloatHistogram | null } | null => {
    const s = input[i] as ESeries;
    const fpnt = s.floats[curF[i] as number];
    if (fpnt !== undefined && fpnt.t === ts) {
      curF[i] = (curF[i] as number) + 1;
      return { f: fpnt.f, h: null };
    }
    const hp = s.histograms[curH[i] as number];
    if (hp !== undefined && hp.t === ts) {
      curH[i] = (curH[i] as number) + 1;
      return { f: 0, h: hp.h };
    }
    return null;
  };

  const kSeries = new Map<string, ESeries>();
  for (let step = 0; step < ev.numSteps; step++) {
    const ts = ev.start + step * ev.interval;
    await ev.tick();
    const param = fp.values.length > 0 ? (fp.values[step] as number) : 0;
    if (isK) {
      const mat = aggregationK(q, e, param, input, seriesToGroup, groups, next, ts);
      if (ev.single) return mat;
      for (const s of mat) {
        const key = labelsKey(s.metric);
        const prev = kSeries.get(key);
        if (prev === undefined) kSeries.set(key, s);
        else {
          prev.floats.push(...s.floats);
          prev.histograms.push(...s.histograms);
        }
      }
    } else {
      aggregation(q, e, param, input, result, seriesToGroup, groups, next, ts);
    }
    if (q.samples > q.maxSamples) throw new PromQLError('execution', 'query processing would load too many samples into memory in query execution');
  }
  if (isK) return [...kSeries.values()];
  return result.filter((s) => s.floats.length + s.histograms.length > 0);
}

/** hsum += h; on an exponential/custom mix the group is marked incompatible (and a warning added). */
function kahanAdd(q: QueryCtx, e: AggregateExpr, group: Group, hsum: HistogramKahanSum, h: FloatHistogram, metric: Labels): void {
  const notes = newHistogramOpNotes();
  try {
    hsum.add(h, notes);
  } catch (err) {
    if (!(err instanceof HistogramIncompatibleSchemaError)) throw err;
    q.annos.add('warning', `vector contains a mix of histograms with exponential and custom buckets schemas for metric name "${getLabel(metric, METRIC_NAME)}"`, e.expr.pos);
    group.incompatible = true;
    return;
  }
  if (notes.nhcbBoundsReconciled) q.annos.add('info', 'mismatched custom buckets were reconciled during aggregation', e.expr.pos);
}

function finiteHistogram(h: FloatHistogram): boolean {
  if (!Number.isFinite(h.count) || !Number.isFinite(h.sum) || !Number.isFinite(h.zeroCount)) return false;
  return h.positiveBuckets.every(Number.isFinite) && h.negativeBuckets.every(Number.isFinite);
}

/**
 * avg of a group's histograms: the compensated sum divided by the count; when that sum
 * overflows (and the inputs did not), the sum of each input divided by the count instead.
 */
function histogramMean(g: Group): FloatHistogram {
  const n = g.count;
  const sum = (g.hsum as HistogramKahanSum).result() as FloatHistogram;
  if (!finiteHistogram(sum) && g.hinputs.every(finiteHistogram)) {
    const scaled = new HistogramKahanSum();
    for (const h of g.hinputs) scaled.add(histogramDivInto(histogramCopy(h), n));
    return histogramCompactInto(scaled.result() as FloatHistogram, 0);
  }
  return histogramCompactInto(histogramDivInto(sum, n), 0);
}

function noteHint(group: Group, h: FloatHistogram): void {
  if (h.counterResetHint === COUNTER_RESET) group.counterResetSeen = true;
  else if (h.counterResetHint === NOT_COUNTER_RESET) group.notCounterResetSeen = true;
}

/** sum, avg, count, min, max, group, stddev, stdvar, quantile at one step. */
function aggregation(
  q: QueryCtx,
  e: AggregateExpr,
  param: number,
  input: EMatrix,
  output: EMatrix,
  seriesToGroup: Int32Array,
  groups: Group[],
  next: (i: number, ts: number) => { f: number; h: FloatHistogram | null } | null,
  ts: number,
): void {
  const op = e.op;
  const pos = e.expr.pos;
  const ignored = (): void => q.annos.add('info', `ignored histogram in ${op} aggregation`, pos);
  for (const g of groups) g.seen = false;
  for (let si = 0; si < input.length; si++) {
    const v = next(si, ts);
    if (v === null) continue;
    const { f, h } = v;
    const series = input[si] as ESeries;
    const group = groups[seriesToGroup[si] as number] as Group;
    if (!group.seen) {
      Object.assign(group, newGroup(), { seen: true, floatValue: f, floatMean: f, count: 1, dropName: series.dropName });
      switch (op) {
        case 'avg':
        case 'sum':
          if (h === null) group.hasFloat = true;
          else {
            group.hsum = new HistogramKahanSum().add(h);
            if (op === 'avg') group.hinputs.push(h);
            group.hasHistogram = true;
            noteHint(group, h);
          }
          break;
        case 'stddev':
        case 'stdvar':
          if (h !== null) {
            group.seen = false;
            ignored();
          } else group.floatValue = Number.isFinite(f) ? 0 : NaN;
          break;
        case 'quantile':
          if (h !== null) {
            group.seen = false;
            ignored();
          }
          group.values = [f];
          break;
        case 'group':
          group.floatValue = 1;
          break;
        case 'min':
        case 'max':
          if (h !== null) {
            group.seen = false;
            ignored();
          }
          break;
        default:
          break;
      }
      continue;
    }
    if (group.incompatible) continue;
    if (series.dropName) group.dropName = true;
    switch (op) {
      case 'sum':
        if (h !== null) {
          group.hasHistogram = true;
          if (group.hsum !== null) {
            noteHint(group, h);
            kahanAdd(q, e, group, group.hsum, h, series.metric);
          }
        } else {
          group.hasFloat = true;
          [group.floatValue, group.kahanC] = kahanSumInc(f, group.floatValue, group.kahanC);
        }
        break;
      case 'avg':
        group.count++;
        if (h !== null) {
          group.hasHistogram = true;
          if (group.hsum !== null) {
            noteHint(group, h);
            kahanAdd(q, e, group, group.hsum, h, series.metric);
            group.hinputs.push(h);
          }
        } else {
          group.hasFloat = true;
          if (!group.incrementalMean) {
            const [nv, nc] = kahanSumInc(f, group.floatValue, group.kahanC);
            if (nv !== Infinity && nv !== -Infinity) {
              group.floatValue = nv;
              group.kahanC = nc;
              break;
            }
            group.incrementalMean = true;
            group.floatMean = group.floatValue / (group.count - 1);
            group.kahanC /= group.count - 1;
          }
          const qq = (group.count - 1) / group.count;
          [group.floatMean, group.kahanC] = kahanSumInc(f / group.count, qq * group.floatMean, qq * group.kahanC);
        }
        break;
      case 'group':
        break;
      case 'max':
        if (h !== null) {
          ignored();
          continue;
        }
        if (group.floatValue < f || Number.isNaN(group.floatValue)) group.floatValue = f;
        break;
      case 'min':
        if (h !== null) {
          ignored();
          continue;
        }
        if (group.floatValue > f || Number.isNaN(group.floatValue)) group.floatValue = f;
        break;
      case 'count':
        group.count++;
        break;
      case 'stddev':
      case 'stdvar':
        if (h === null) {
          group.count++;
          const delta = f - group.floatMean;
          group.floatMean += delta / group.count;
          group.floatValue += delta * (f - group.floatMean);
        } else ignored();
        break;
      case 'quantile':
        if (h !== null) {
          ignored();
          continue;
        }
        group.values.push(f);
        break;
      default:
        throw new PromQLError('internal', `expected aggregation operator but got "${op}"`);
    }
  }

  groups.forEach((aggr, ri) => {
    if (!aggr.seen) return;
    let f = aggr.floatValue;
    let h: FloatHistogram | null = null;
    switch (op) {
      case 'avg':
        if (aggr.hasFloat && aggr.hasHistogram) {
          q.annos.add('warning', 'encountered a mix of histograms and floats for aggregation', e.expr.pos);
          return;
        }
        if (aggr.incompatible) return;
        if (aggr.hasHistogram) h = histogramMean(aggr);
        else if (aggr.incrementalMean) f = aggr.floatMean + aggr.kahanC;
        else f = aggr.floatValue / aggr.count + aggr.kahanC / aggr.count;
        break;
      case 'count':
        f = aggr.count;
        break;
      case 'stdvar':
        f = aggr.floatValue / aggr.count;
        break;
      case 'stddev':
        f = Math.sqrt(aggr.floatValue / aggr.count);
        break;
      case 'quantile':
        f = quantile(param, aggr.values);
        break;
      case 'sum':
        if (aggr.hasFloat && aggr.hasHistogram) {
          q.annos.add('warning', 'encountered a mix of histograms and floats for aggregation', e.expr.pos);
          return;
        }
        if (aggr.incompatible) return;
        if (aggr.hasHistogram) h = histogramCompactInto(aggr.hsum?.result() as FloatHistogram, 0);
        else f += aggr.kahanC;
        break;
      default:
        break;
    }
    if (aggr.counterResetSeen && aggr.notCounterResetSeen) {
      q.annos.add('warning', 'conflicting counter resets during histogram aggregation', e.expr.pos);
    }
    const ss = output[ri] as ESeries;
    if (h === null) {
      ss.floats.push({ t: ts, f });
      q.samples += 1;
    } else {
      ss.histograms.push({ t: ts, h });
      q.samples += histogramSize(h);
    }
    ss.dropName = aggr.dropName;
  });
}

async function countValues(ev: Evaluator, e: AggregateExpr, grouping: string[]): Promise<EMatrix> {
  const p = e.param === null ? null : unwrapParens(e.param);
  if (p === null || p.type !== 'StringLiteral') throw new PromQLError('bad_data', 'count_values: the parameter must be a string literal');
  const label = p.val;
  if (!isValidLabelName(label)) throw new PromQLError('execution', `invalid label name ${goQuoteString(label)}`);
  const keyGrouping = e.without ? grouping : [...grouping, label].sort(compareStrings);
  const g = groupingFns(e, keyGrouping);
  return ev.rangeEval([e.expr], (v, _i, ts) => {
    const groups = new Map<string, { labels: Labels; count: number }>();
    for (const s of v[0] ?? []) {
      const metric = setLabel(s.metric, label, s.h === null ? formatFloatF(s.f) : formatHistogram(s.h));
      const k = g.key(metric);
      const grp = groups.get(k);
      if (grp === undefined) groups.set(k, { labels: g.labels(metric), count: 1 });
      else grp.count++;
    }
    const out: Sample[] = [];
    for (const grp of groups.values()) out.push({ metric: grp.labels, t: ts, f: grp.count, h: null });
    return out;
  });
}
