// topk, bottomk, limitk and limit_ratio at one step (Prometheus aggregationK): up to k series
// (or a ratio of them) per group, with their own labels.
import type { AggregateExpr } from '../ast.js';
import type { FloatHistogram, Sample } from '../value.js';
import type { Group } from './aggregate.js';
import type { EMatrix, ESeries, QueryCtx } from './context.js';
import { histogramSize } from './context.js';
import { sampleOffset } from './hash.js';

/** A binary heap on `less` (the top is the "least" element). */
function heapPush(h: Sample[], s: Sample, less: (a: Sample, b: Sample) => boolean): void {
  h.push(s);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(h[i] as Sample, h[p] as Sample)) break;
    [h[i], h[p]] = [h[p] as Sample, h[i] as Sample];
    i = p;
  }
}

function heapFixTop(h: Sample[], less: (a: Sample, b: Sample) => boolean): void {
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    let m = l;
    const r = l + 1;
    if (r < n && less(h[r] as Sample, h[l] as Sample)) m = r;
    if (!less(h[m] as Sample, h[i] as Sample)) break;
    [h[i], h[m]] = [h[m] as Sample, h[i] as Sample];
    i = m;
  }
}

/** topk heap order: NaN and small values on top. */
const topLess = (a: Sample, b: Sample): boolean => Number.isNaN(a.f) || a.f < b.f;
/** bottomk heap order: NaN and large values on top. */
const bottomLess = (a: Sample, b: Sample): boolean => Number.isNaN(a.f) || a.f > b.f;

/** topk, bottomk, limitk, limit_ratio at one step: output series in group order. */
export function aggregationK(
  q: QueryCtx,
  e: AggregateExpr,
  param: number,
  input: EMatrix,
  seriesToGroup: Int32Array,
  groups: Group[],
  next: (i: number, ts: number) => { f: number; h: FloatHistogram | null } | null,
  ts: number,
): EMatrix {
  const op = e.op;
  for (const g of groups) g.seen = false;
  let k = 0;
  let ratio = 0;
  if (op === 'limit_ratio') ratio = param < -1 ? -1 : param > 1 ? 1 : param;
  else k = Math.min(Math.trunc(param), input.length);
  const skip = (op === 'limit_ratio' && param === 0) || (op !== 'limit_ratio' && !(k >= 1));
  const ignored = (): void => q.annos.add('info', `ignored histogram in ${op} aggregation`, e.pos);
  const offsetCache = new Map<number, number>();
  const addRatio = (si: number, s: Sample): boolean => {
    let off = offsetCache.get(si);
    if (off === undefined) {
      off = sampleOffset(s.metric);
      offsetCache.set(si, off);
    }
    return (ratio >= 0 && off < ratio) || (ratio < 0 && off >= 1 + ratio);
  };
  for (let si = 0; si < input.length; si++) {
    const v = next(si, ts);
    if (v === null || skip) continue;
    const series = input[si] as ESeries;
    const s: Sample = { metric: series.metric, t: ts, f: v.f, h: v.h, dropName: series.dropName };
    const group = groups[seriesToGroup[si] as number] as Group;
    if (!group.seen) {
      group.seen = true;
      group.heap = [];
      switch (op) {
        case 'limit_ratio':
          if (addRatio(si, s)) group.heap.push(s);
          break;
        case 'limitk':
          group.heap.push(s);
          break;
        default:
          if (s.h !== null) {
            group.seen = false;
            ignored();
          } else group.heap.push(s);
      }
      continue;
    }
    switch (op) {
      case 'topk':
        if (s.h !== null) ignored();
        else if (group.heap.length < k) heapPush(group.heap, s, topLess);
        else {
          const top = group.heap[0] as Sample;
          if (top.f < s.f || (Number.isNaN(top.f) && !Number.isNaN(s.f))) {
            group.heap[0] = s;
            heapFixTop(group.heap, topLess);
          }
        }
        break;
      case 'bottomk':
        if (s.h !== null) ignored();
        else if (group.heap.length < k) heapPush(group.heap, s, bottomLess);
        else {
          const top = group.heap[0] as Sample;
          if (top.f > s.f || (Number.isNaN(top.f) && !Number.isNaN(s.f))) {
            group.heap[0] = s;
            heapFixTop(group.heap, bottomLess);
          }
        }
        break;
      case 'limitk':
        if (group.heap.length < k) group.heap.push(s);
        break;
      default:
        if (addRatio(si, s)) group.heap.push(s);
    }
  }
  const out: EMatrix = [];
  for (const aggr of groups) {
    if (!aggr.seen) continue;
    let list = aggr.heap;
    if (op === 'topk') list = list.slice().sort((a, b) => (topLess(b, a) ? -1 : topLess(a, b) ? 1 : 0));
    else if (op === 'bottomk') list = list.slice().sort((a, b) => (bottomLess(b, a) ? -1 : bottomLess(a, b) ? 1 : 0));
    for (const s of list) {
      out.push(
        s.h === null
          ? { metric: s.metric, floats: [{ t: ts, f: s.f }], histograms: [], dropName: s.dropName === true }
          : { metric: s.metric, floats: [], histograms: [{ t: ts, h: s.h }], dropName: s.dropName === true },
      );
      q.samples += s.h === null ? 1 : histogramSize(s.h);
    }
  }
  return out;
}
