// Span and bucket primitives for one side (positive or negative) of a histogram. A side is a
// list of spans plus the counts of the buckets they describe, in order; here it is also
// handled as a BucketList: the indices and counts of every described bucket, ascending.
import type { BucketSpan } from '../value.js';
import { getBoundExponential, targetIdx } from './bounds.js';
import { isExponentialSchema } from './types.js';

/** The buckets of one side: indices ascending, counts as stored (empty buckets included). */
export interface BucketList {
  idx: number[];
  cnt: number[];
}

export interface SpansAndBuckets {
  spans: BucketSpan[];
  buckets: number[];
}

/** The buckets the spans describe. Stops early where buckets run out (an invalid histogram). */
export function decodeBuckets(spans: readonly BucketSpan[], buckets: readonly number[]): BucketList {
  const idx: number[] = [];
  const cnt: number[] = [];
  let i = 0;
  let b = 0;
  for (const s of spans) {
    i += s.offset;
    for (let j = 0; j < s.length; j++) {
      if (b >= buckets.length) return { idx, cnt };
      idx.push(i);
      cnt.push(buckets[b] as number);
      i++;
      b++;
    }
  }
  return { idx, cnt };
}

/** Spans for ascending, distinct indices: one span per run of consecutive indices. */
export function encodeBuckets(list: BucketList): SpansAndBuckets {
  const spans: BucketSpan[] = [];
  let prevEnd = 0; // index after the previous span's last bucket
  for (let k = 0; k < list.idx.length; k++) {
    const i = list.idx[k] as number;
    const last = spans[spans.length - 1];
    if (last !== undefined && i === prevEnd) last.length++;
    else spans.push({ offset: spans.length === 0 ? i : i - prevEnd, length: 1 });
    prevEnd = i + 1;
  }
  return { spans, buckets: list.cnt.slice() };
}

/**
 * The buckets merged into targetSchema (<= origin schema, both exponential): buckets that fall
 * into the same target bucket are summed. Empty buckets stay (as empty target buckets).
 */
export function reduceBucketList(list: BucketList, originSchema: number, targetSchema: number): BucketList {
  if (originSchema === targetSchema) return { idx: list.idx.slice(), cnt: list.cnt.slice() };
  const idx: number[] = [];
  const cnt: number[] = [];
  for (let k = 0; k < list.idx.length; k++) {
    const t = targetIdx(list.idx[k] as number, originSchema, targetSchema);
    const n = idx.length;
    if (n > 0 && idx[n - 1] === t) cnt[n - 1] = (cnt[n - 1] as number) + (list.cnt[k] as number);
    else {
      idx.push(t);
      cnt.push(list.cnt[k] as number);
    }
  }
  return { idx, cnt };
}

/** One side reduced to a lower resolution (Prometheus reduceResolution on absolute counts). */
export function reduceResolution(spans: readonly BucketSpan[], buckets: readonly number[], originSchema: number, targetSchema: number): SpansAndBuckets {
  return encodeBuckets(reduceBucketList(decodeBuckets(spans, buckets), originSchema, targetSchema));
}

/**
 * a plus b (minus b if `negate`), both in `schema`: buckets of b not in a are inserted. For
 * exponential schemas, the leading buckets of b whose upper bound is <= threshold are skipped
 * (they are inside the zero bucket, whose count the caller has already taken over).
 */
export function addBucketLists(schema: number, threshold: number, negate: boolean, a: BucketList, b: BucketList): BucketList {
  let kb = 0;
  if (isExponentialSchema(schema)) {
    while (kb < b.idx.length && getBoundExponential(b.idx[kb] as number, schema) <= threshold) kb++;
  }
  const idx: number[] = [];
  const cnt: number[] = [];
  let ka = 0;
  while (ka < a.idx.length || kb < b.idx.length) {
    const ia = ka < a.idx.length ? (a.idx[ka] as number) : Infinity;
    const ib = kb < b.idx.length ? (b.idx[kb] as number) : Infinity;
    if (ia < ib) {
      idx.push(ia);
      cnt.push(a.cnt[ka++] as number);
    } else {
      const vb = negate ? -(b.cnt[kb] as number) : (b.cnt[kb] as number);
      idx.push(ib);
      if (ia === ib) cnt.push((a.cnt[ka++] as number) + vb);
      else cnt.push(vb);
      kb++;
    }
  }
  return { idx, cnt };
}

/**
 * Prometheus's Compact(maxEmptyBuckets) on one side: empty buckets are dropped, except runs of at
 * most maxEmptyBuckets empty or absent buckets between two populated ones, which are kept (as
 * explicit empty buckets) so that both populated ones stay in one span.
 */
export function compactBuckets(spans: readonly BucketSpan[], buckets: readonly number[], maxEmptyBuckets: number): SpansAndBuckets {
  const all = decodeBuckets(spans, buckets);
  const idx: number[] = [];
  const cnt: number[] = [];
  let lastKept = -1; // position in `all` of the last populated bucket taken
  for (let k = 0; k < all.idx.length; k++) {
    if (all.cnt[k] === 0) continue;
    const i = all.idx[k] as number;
    if (lastKept >= 0) {
      const prev = all.idx[lastKept] as number;
      if (i - prev - 1 <= maxEmptyBuckets) {
        // keep the gap as empty buckets (the stored ones as they are, absent ones as 0)
        let p = lastKept + 1;
        for (let j = prev + 1; j < i; j++) {
          while (p < k && (all.idx[p] as number) < j) p++;
          idx.push(j);
          cnt.push(p < k && all.idx[p] === j ? (all.cnt[p] as number) : 0);
        }
      }
    }
    idx.push(i);
    cnt.push(all.cnt[k] as number);
    lastKept = k;
  }
  return encodeBuckets({ idx, cnt });
}

/** Spans with every zero-length span folded into the next span's offset, trailing ones dropped. */
function foldEmptySpans(spans: readonly BucketSpan[]): BucketSpan[] {
  const out: BucketSpan[] = [];
  let carry = 0;
  for (const s of spans) {
    if (s.length === 0) {
      carry += s.offset;
      continue;
    }
    out.push({ offset: s.offset + carry, length: s.length });
    carry = 0;
  }
  return out;
}

/**
 * Whether two span lists describe the same bucket layout, zero-length spans aside (Prometheus
 * spansMatch): spans that merely touch (offset 0) are still compared as separate spans.
 */
export function spansMatch(a: readonly BucketSpan[], b: readonly BucketSpan[]): boolean {
  const fa = foldEmptySpans(a);
  const fb = foldEmptySpans(b);
  if (fa.length !== fb.length) return false;
  for (let i = 0; i < fa.length; i++) {
    const x = fa[i] as BucketSpan;
    const y = fb[i] as BucketSpan;
    if (x.offset !== y.offset || x.length !== y.length) return false;
  }
  return true;
}

/** Number of buckets the spans describe. */
export function spansBucketCount(spans: readonly BucketSpan[]): number {
  let n = 0;
  for (const s of spans) n += s.length;
  return n;
}
