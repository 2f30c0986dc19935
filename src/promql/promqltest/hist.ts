// The little native-histogram arithmetic the script language needs: building histograms from
// `{{...}}` literals, `{{A}}+{{B}}xN` / `{{A}}-{{B}}xN` sequences (bucket-aligned addition with
// schema and zero-threshold reconciliation, as Prometheus FloatHistogram.Add/Sub), the
// canonical (compacted) form results are compared in, and the `{{...}}` notation for messages.
import type { BucketSpan, FloatHistogram } from '../value.js';

export const HINT_UNKNOWN = 0;
export const HINT_RESET = 1;
export const HINT_NOT_RESET = 2;
export const HINT_GAUGE = 3;
export const CUSTOM_BUCKETS_SCHEMA = -53;

export const HINT_NAMES = ['unknown', 'reset', 'not_reset', 'gauge'] as const;

export function emptyHistogram(): FloatHistogram {
  return {
    counterResetHint: HINT_UNKNOWN,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 0,
    sum: 0,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: [],
    negativeBuckets: [],
    customValues: [],
  };
}

/** (bucket index, count) pairs of a span layout, in index order, empty buckets included. */
export function bucketEntries(spans: readonly BucketSpan[], counts: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  let idx = 0;
  let bi = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++, idx++, bi++) out.push([idx, counts[bi] ?? 0]);
  }
  return out;
}

/** Spans and counts for (index, count) pairs sorted by index; consecutive indexes share a span. */
export function layoutOf(entries: readonly (readonly [number, number])[]): { spans: BucketSpan[]; counts: number[] } {
  const spans: BucketSpan[] = [];
  const counts: number[] = [];
  let next = 0; // index just past the last bucket
  for (const [idx, c] of entries) {
    const last = spans[spans.length - 1];
    if (last !== undefined && idx === next) last.length++;
    else spans.push({ offset: spans.length === 0 ? idx : idx - next, length: 1 });
    counts.push(c);
    next = idx + 1;
  }
  return { spans, counts };
}

/** Upper bound of exponential bucket idx (schema > -53). */
function upperBound(idx: number, schema: number): number {
  return schema < 0 ? 2 ** (idx * 2 ** -schema) : 2 ** (idx / 2 ** schema);
}

function reduceIndex(idx: number, from: number, to: number): number {
  return from === to ? idx : ((idx - 1) >> (from - to)) + 1;
}

interface Sparse {
  pos: Map<number, number>;
  neg: Map<number, number>;
  zeroCount: number;
}

function sparse(h: FloatHistogram, schema: number, zt: number): Sparse {
  const out: Sparse = { pos: new Map(), neg: new Map(), zeroCount: h.zeroCount };
  const custom = h.schema === CUSTOM_BUCKETS_SCHEMA;
  for (const [side, spans, counts] of [
    [out.pos, h.positiveSpans, h.positiveBuckets],
    [out.neg, h.negativeSpans, h.negativeBuckets],
  ] as const) {
    for (const [idx, c] of bucketEntries(spans, counts)) {
      if (!custom && zt > h.zeroThreshold && upperBound(idx, h.schema) <= zt) {
        out.zeroCount += c;
        continue;
      }
      const target = custom ? idx : reduceIndex(idx, h.schema, schema);
      side.set(target, (side.get(target) ?? 0) + c);
    }
  }
  return out;
}

function combineHint(a: number, b: number): number {
  if (a === b) return a;
  if (a === HINT_GAUGE) return HINT_GAUGE;
  if (b === HINT_GAUGE) return HINT_GAUGE;
  return HINT_UNKNOWN;
}

/** a + b (sign 1) or a - b (sign -1), bucket-aligned; throws on incompatible custom buckets. */
export function combineHistograms(a: FloatHistogram, b: FloatHistogram, sign: 1 | -1): FloatHistogram {
  const aCustom = a.schema === CUSTOM_BUCKETS_SCHEMA;
  const bCustom = b.schema === CUSTOM_BUCKETS_SCHEMA;
  if (aCustom !== bCustom) throw new Error('cannot apply this operation on histograms with a mix of exponential and custom bucket schemas');
  if (aCustom && (a.customValues.length !== b.customValues.length || a.customValues.some((v, i) => v !== b.customValues[i]))) {
    throw new Error('histogram custom bounds mismatch');
  }
  const schema = aCustom ? CUSTOM_BUCKETS_SCHEMA : Math.min(a.schema, b.schema);
  const zt = Math.max(a.zeroThreshold, b.zeroThreshold);
  const sa = sparse(a, schema, zt);
  const sb = sparse(b, schema, zt);
  const merge = (x: Map<number, number>, y: Map<number, number>): [number, number][] => {
    const m = new Map(x);
    for (const [k, v] of y) m.set(k, (m.get(k) ?? 0) + sign * v);
    return [...m.entries()].sort((p, q) => p[0] - q[0]);
  };
  const pos = layoutOf(merge(sa.pos, sb.pos));
  const neg = layoutOf(merge(sa.neg, sb.neg));
  return {
    counterResetHint: combineHint(a.counterResetHint, b.counterResetHint),
    schema,
    zeroThreshold: zt,
    zeroCount: sa.zeroCount + sign * sb.zeroCount,
    count: a.count + sign * b.count,
    sum: a.sum + sign * b.sum,
    positiveSpans: pos.spans,
    negativeSpans: neg.spans,
    positiveBuckets: pos.counts,
    negativeBuckets: neg.counts,
    customValues: aCustom ? a.customValues.slice() : [],
  };
}

/** Non-empty buckets only, in index order: the compacted layout Prometheus compares. */
export function nonEmptyBuckets(spans: readonly BucketSpan[], counts: readonly number[]): [number, number][] {
  return bucketEntries(spans, counts).filter(([, c]) => c !== 0);
}

// ---- printing ----------------------------------------------------------------------------------

/** Go's %g for a float64 (shortest representation), with +Inf/-Inf/NaN. */
export function formatG(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, e] = Math.abs(f).toExponential().split('e') as [string, string];
  const exp = Number(e);
  const sign = f < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const ae = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  return String(f);
}

/** The `{{...}}` notation of a histogram (like Prometheus TestExpression: one span per side). */
export function histogramExpression(h: FloatHistogram): string {
  const res: string[] = [];
  if (h.schema !== 0) res.push(`schema:${h.schema}`);
  if (h.count !== 0) res.push(`count:${formatG(h.count)}`);
  if (h.sum !== 0) res.push(`sum:${formatG(h.sum)}`);
  if (h.zeroCount !== 0) res.push(`z_bucket:${formatG(h.zeroCount)}`);
  if (h.zeroThreshold !== 0) res.push(`z_bucket_w:${formatG(h.zeroThreshold)}`);
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) res.push(`custom_values:[${h.customValues.map(formatG).join(' ')}]`);
  if (h.counterResetHint !== HINT_UNKNOWN) res.push(`counter_reset_hint:${HINT_NAMES[h.counterResetHint] ?? h.counterResetHint}`);
  const side = (spans: readonly BucketSpan[], counts: readonly number[], bucketsKey: string, offsetKey: string): void => {
    const entries = nonEmptyBuckets(spans, counts);
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return;
    const dense = new Array<number>(last[0] - first[0] + 1).fill(0);
    for (const [idx, c] of entries) dense[idx - first[0]] = c;
    if (first[0] !== 0) res.push(`${offsetKey}:${first[0]}`);
    res.push(`${bucketsKey}:[${dense.map(formatG).join(' ')}]`);
  };
  side(h.positiveSpans, h.positiveBuckets, 'buckets', 'offset');
  side(h.negativeSpans, h.negativeBuckets, 'n_buckets', 'n_offset');
  return `{{${res.join(' ')}}}`;
}
