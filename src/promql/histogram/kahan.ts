// Compensated (Kahan-Babuska-Neumaier) summation of histograms (floats: ../../util/kahan.ts): an
// accumulator that sums histograms with a compensation term for every count, for sum_over_time,
// avg_over_time, sum and avg where many histograms of very different magnitudes are added.
import type { FloatHistogram } from '../value.js';
import { combineCounterResetHints } from './hints.js';
import { customBoundsMatch, getBoundExponential, intersectCustomBounds, targetIdx } from './bounds.js';
import { type BucketList, decodeBuckets, encodeBuckets, reduceBucketList } from './buckets.js';
import { HistogramIncompatibleSchemaError } from './errors.js';
import type { HistogramOpNotes } from './arith.js';
import { usesCustomBuckets } from './types.js';
import { zeroCountForLargerThreshold } from './zero-bucket.js';
import { kahanSumInc } from '../../util/kahan.js';

/** A sum and its compensation. */
type Cell = [number, number];

function inc(cell: Cell, v: number): void {
  const [s, c] = kahanSumInc(v, cell[0], cell[1]);
  cell[0] = s;
  cell[1] = c;
}

/** Adds cell b (sum and compensation) into a. */
function merge(a: Cell, b: Cell): void {
  inc(a, b[0]);
  a[1] += b[1];
}

function cellAt(m: Map<number, Cell>, i: number): Cell {
  let c = m.get(i);
  if (c === undefined) {
    c = [0, 0];
    m.set(i, c);
  }
  return c;
}

/**
 * Sums histograms with compensated summation of the count, the sum, the zero count and every
 * bucket. Layouts are reconciled as by histogramAdd: the lowest schema wins, the zero bucket is
 * widened as needed, custom-bucket histograms with different bounds are summed on the bounds
 * they share (notes.nhcbBoundsReconciled), counter reset hints are combined likewise.
 */
export class HistogramKahanSum {
  private started = false;
  private custom = false;
  private hint = 0;
  private schema = 0;
  private zeroThreshold = 0;
  private customValues: number[] = [];
  private readonly count: Cell = [0, 0];
  private readonly sum: Cell = [0, 0];
  private readonly zero: Cell = [0, 0];
  private pos = new Map<number, Cell>();
  private neg = new Map<number, Cell>();

  get empty(): boolean {
    return !this.started;
  }

  /** Adds h. @throws HistogramIncompatibleSchemaError (nothing added) when mixing exponential and custom buckets. */
  add(h: FloatHistogram, notes?: HistogramOpNotes): this {
    return this.addSigned(h, 1, notes);
  }

  /** Subtracts h. @throws HistogramIncompatibleSchemaError (nothing subtracted) when mixing exponential and custom buckets. */
  sub(h: FloatHistogram, notes?: HistogramOpNotes): this {
    return this.addSigned(h, -1, notes);
  }

  /** The sum so far (null if nothing was added): each value is its sum plus its compensation. */
  result(): FloatHistogram | null {
    if (!this.started) return null;
    const side = (m: Map<number, Cell>) => {
      const idx = [...m.keys()].sort((a, b) => a - b);
      const cnt = idx.map((i) => {
        const c = m.get(i) as Cell;
        return c[0] + c[1];
      });
      return encodeBuckets({ idx, cnt });
    };
    const p = side(this.pos);
    const n = side(this.neg);
    return {
      counterResetHint: this.hint,
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: this.zero[0] + this.zero[1],
      count: this.count[0] + this.count[1],
      sum: this.sum[0] + this.sum[1],
      positiveSpans: p.spans,
      positiveBuckets: p.buckets,
      negativeSpans: n.spans,
      negativeBuckets: n.buckets,
      customValues: this.customValues.slice(),
    };
  }

  private addSigned(h: FloatHistogram, sign: 1 | -1, notes: HistogramOpNotes | undefined): this {
    if (!this.started) return this.start(h, sign);
    if (usesCustomBuckets(h) !== this.custom) throw new HistogramIncompatibleSchemaError();
    const { hint, collision } = combineCounterResetHints(this.hint, h.counterResetHint);
    this.hint = hint;
    if (collision && notes !== undefined) notes.counterResetCollision = true;
    inc(this.count, sign * h.count);
    inc(this.sum, sign * h.sum);

    if (usesCustomBuckets(h)) {
      let list = decodeBuckets(h.positiveSpans, h.positiveBuckets);
      if (!customBoundsMatch(this.customValues, h.customValues)) {
        const common = intersectCustomBounds(this.customValues, h.customValues);
        this.pos = remapCustom(this.pos, this.customValues, common);
        list = remapCustomList(list, h.customValues, common);
        this.customValues = common;
        if (notes !== undefined) notes.nhcbBoundsReconciled = true;
      }
      for (let k = 0; k < list.idx.length; k++) inc(cellAt(this.pos, list.idx[k] as number), sign * (list.cnt[k] as number));
      return this;
    }

    if (h.schema < this.schema) {
      this.pos = remapSchema(this.pos, this.schema, h.schema);
      this.neg = remapSchema(this.neg, this.schema, h.schema);
      this.schema = h.schema;
    }
    let otherZero = h.zeroCount;
    let otherThreshold = h.zeroThreshold;
    while (otherThreshold !== this.zeroThreshold && !Number.isNaN(otherThreshold) && !Number.isNaN(this.zeroThreshold)) {
      if (this.zeroThreshold > otherThreshold) ({ count: otherZero, threshold: otherThreshold } = zeroCountForLargerThreshold(h, this.zeroThreshold));
      if (otherThreshold > this.zeroThreshold) this.widenZeroBucket(otherThreshold);
    }
    inc(this.zero, sign * otherZero);
    const sides: Array<[Map<number, Cell>, BucketList]> = [
      [this.pos, reduceBucketList(decodeBuckets(h.positiveSpans, h.positiveBuckets), h.schema, this.schema)],
      [this.neg, reduceBucketList(decodeBuckets(h.negativeSpans, h.negativeBuckets), h.schema, this.schema)],
    ];
    for (const [m, list] of sides) {
      let k = 0;
      while (k < list.idx.length && getBoundExponential(list.idx[k] as number, this.schema) <= this.zeroThreshold) k++;
      for (; k < list.idx.length; k++) inc(cellAt(m, list.idx[k] as number), sign * (list.cnt[k] as number));
    }
    return this;
  }

  /** The first histogram, taken as it is (buckets inside its zero bucket included, as histogramAdd keeps them). */
  private start(h: FloatHistogram, sign: 1 | -1): this {
    this.started = true;
    this.custom = usesCustomBuckets(h);
    this.hint = h.counterResetHint;
    this.schema = h.schema;
    this.zeroThreshold = this.custom ? 0 : h.zeroThreshold;
    this.customValues = this.custom ? h.customValues.slice() : [];
    inc(this.count, sign * h.count);
    inc(this.sum, sign * h.sum);
    if (!this.custom) inc(this.zero, sign * h.zeroCount);
    const sides: Array<[Map<number, Cell>, BucketList]> = [
      [this.pos, decodeBuckets(h.positiveSpans, h.positiveBuckets)],
      [this.neg, this.custom ? { idx: [], cnt: [] } : decodeBuckets(h.negativeSpans, h.negativeBuckets)],
    ];
    for (const [m, list] of sides) for (let k = 0; k < list.idx.length; k++) inc(cellAt(m, list.idx[k] as number), sign * (list.cnt[k] as number));
    return this;
  }

  /** Widens the zero bucket to at least `threshold` (further if that is inside a populated bucket). */
  private widenZeroBucket(threshold: number): void {
    const value = (c: Cell): number => c[0] + c[1];
    const posIdx = [...this.pos.keys()].sort((a, b) => a - b);
    const negIdx = [...this.neg.keys()].sort((a, b) => a - b);
    let t = threshold;
    for (let again = true; again; ) {
      again = false;
      for (const i of posIdx) {
        if (getBoundExponential(i - 1, this.schema) >= t) break;
        const upper = getBoundExponential(i, this.schema);
        if (upper > t) {
          if (value(this.pos.get(i) as Cell) !== 0) t = upper;
          break;
        }
      }
      for (const i of negIdx) {
        if (getBoundExponential(i - 1, this.schema) >= t) break;
        const absLower = getBoundExponential(i, this.schema);
        if (absLower > t) {
          if (value(this.neg.get(i) as Cell) !== 0) {
            t = absLower;
            again = true;
          }
          break;
        }
      }
    }
    for (const m of [this.pos, this.neg]) {
      for (const [i, cell] of [...m]) {
        if (getBoundExponential(i - 1, this.schema) < t) {
          merge(this.zero, cell);
          m.delete(i);
        }
      }
    }
    this.zeroThreshold = t;
  }
}

function remapSchema(m: Map<number, Cell>, from: number, to: number): Map<number, Cell> {
  const out = new Map<number, Cell>();
  for (const i of [...m.keys()].sort((a, b) => a - b)) merge(cellAt(out, targetIdx(i, from, to)), m.get(i) as Cell);
  return out;
}

/** The bucket of `common` (a subset of `bounds`) that bucket i of `bounds` falls into. */
function customTarget(i: number, bounds: readonly number[], common: readonly number[]): number {
  if (i >= bounds.length) return common.length;
  const b = bounds[i] as number;
  let t = 0;
  while (t < common.length && (common[t] as number) < b) t++;
  return t;
}

function remapCustom(m: Map<number, Cell>, bounds: readonly number[], common: readonly number[]): Map<number, Cell> {
  const out = new Map<number, Cell>();
  for (const i of [...m.keys()].sort((a, b) => a - b)) merge(cellAt(out, customTarget(i, bounds, common)), m.get(i) as Cell);
  return out;
}

function remapCustomList(list: BucketList, bounds: readonly number[], common: readonly number[]): BucketList {
  return { idx: list.idx.map((i) => customTarget(i, bounds, common)), cnt: list.cnt };
}
