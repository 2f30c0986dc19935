// Bucket boundaries. Exponential schema s (-4..8): bucket index i covers (b(i-1), b(i)] with
// b(i) = 2^(i * 2^-s); 1 is the upper bound of bucket 0 in every schema. Custom buckets (schema
// -53): bucket i covers (customValues[i-1], customValues[i]], with -Inf and +Inf at the ends.
//
// Prometheus computes b(i) as frac * 2^exp with frac taken from a precomputed table of
// 2^(k/2^s - 1), k < 2^s. We compute that table here, each entry correctly rounded (exact
// integer arithmetic on BigInt), once per schema on first use. Prometheus's table was made
// differently and some entries differ from ours in the last one or two bits; see
// docs/promql.md "Native histograms".
import { CUSTOM_BUCKETS_SCHEMA } from './types.js';

let pow2Table: Float64Array | null = null;

/** 2^e for e in -1074..1023 (subnormals included), built from the bits once. */
function pow2s(): Float64Array {
  if (pow2Table === null) {
    const t = new Float64Array(1074 + 1024);
    const view = new DataView(new ArrayBuffer(8));
    for (let e = -1074; e <= 1023; e++) {
      view.setBigUint64(0, e >= -1022 ? BigInt(e + 1023) << 52n : 1n << BigInt(e + 1074));
      t[e + 1074] = view.getFloat64(0);
    }
    pow2Table = t;
  }
  return pow2Table;
}

/** 2^e exactly for an integer e (0 below the smallest subnormal, +Inf above the largest float). */
export function pow2(e: number): number {
  if (e > 1023) return Infinity;
  if (e < -1074) return 0;
  return pow2s()[e + 1074] as number;
}

const fracTables: Array<Float64Array | undefined> = [];

/** 2^(k/n - 1) rounded to the nearest float, n = 2^schema, 0 <= k < n. */
function roundedFrac(k: number, schema: number): number {
  const n = 1 << schema;
  if (k === 0) return 0.5;
  // Start near the answer, then move to the float whose rounding interval holds the exact
  // value: x = M / 2^53 with 2^52 <= M < 2^53, the exact value v satisfies v^n = 2^(k-n), so
  // v lies above the midpoint (2M+1) / 2^54 iff (2M+1)^n < 2^(54n + k - n).
  let m = BigInt(Math.round((Math.pow(2, k / n) / 2) * 2 ** 53));
  const bn = BigInt(n);
  const target = 1n << BigInt(54 * n + k - n);
  for (;;) {
    if ((2n * m + 1n) ** bn < target) {
      m++;
      continue;
    }
    if ((2n * m - 1n) ** bn > target) {
      m--;
      continue;
    }
    return Number(m) / 2 ** 53;
  }
}

function fracTable(schema: number): Float64Array {
  let t = fracTables[schema];
  if (t === undefined) {
    const n = 1 << schema;
    t = new Float64Array(n);
    for (let k = 0; k < n; k++) t[k] = roundedFrac(k, schema);
    fracTables[schema] = t;
  }
  return t;
}

/**
 * The upper bound of bucket `idx` in exponential schema `schema`. The last bucket for finite
 * values ends at Number.MAX_VALUE (its bound would otherwise come out as +Inf, which belongs to
 * the bucket after it, the one for ±Inf observations).
 */
export function getBoundExponential(idx: number, schema: number): number {
  if (schema < 0) {
    const exp = idx * 2 ** -schema;
    if (exp === 1024) return Number.MAX_VALUE;
    return pow2(exp);
  }
  const frac = fracTable(schema)[idx & ((1 << schema) - 1)] as number;
  const exp = (idx >> schema) + 1;
  if (frac === 0.5 && exp === 1025) return Number.MAX_VALUE;
  // frac * 2^exp, as (2 frac) * 2^(exp-1) so that 2^1024 does not overflow on the way
  return frac * 2 * pow2(exp - 1);
}

/**
 * The upper bound of bucket `idx` (its lower bound is getBound(idx - 1, ...)). For custom
 * buckets, idx -1 is -Inf and idx customValues.length is +Inf.
 */
export function getBound(idx: number, schema: number, customValues: readonly number[]): number {
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    if (idx === customValues.length) return Infinity;
    if (idx === -1) return -Infinity;
    const b = customValues[idx];
    if (b === undefined) throw new RangeError(`bucket index ${idx} out of range for ${customValues.length} custom bounds`);
    return b;
  }
  return getBoundExponential(idx, schema);
}

/** The index in targetSchema (<= originSchema) of the bucket holding bucket idx of originSchema. */
export function targetIdx(idx: number, originSchema: number, targetSchema: number): number {
  return ((idx - 1) >> (originSchema - targetSchema)) + 1;
}

/** Whether two custom bound lists are the same (Prometheus CustomBucketBoundsMatch). */
export function customBoundsMatch(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The bounds present in both sorted lists (Prometheus intersectCustomBucketBounds). */
export function intersectCustomBounds(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}
