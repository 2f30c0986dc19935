// The native-histogram arithmetic the engine needs (h+h, h-h, h*f, h/f, -h, h==h), from the
// histogram module (../histogram/): results compacted as Prometheus does after binary operators,
// operation notes (counter-reset collisions, reconciled custom buckets) returned with the result.
import {
  HistogramIncompatibleSchemaError,
  histogramAdd,
  histogramCompactInto,
  histogramDiv,
  histogramEquals,
  histogramMul,
  histogramNeg,
  histogramSub,
  newHistogramOpNotes,
} from '../histogram/index.js';
import type { FloatHistogram } from '../value.js';

export interface HistOpResult {
  h: FloatHistogram;
  /** one operand was a counter reset and the other explicitly not (Prometheus warns) */
  counterResetCollision: boolean;
  /** custom-bucket (NHCB) bounds differed and were reconciled (Prometheus adds an info) */
  nhcbBoundsReconciled: boolean;
}

/** Thrown by add/sub when the operands cannot be combined (exponential vs custom buckets). */
export class IncompatibleHistogramsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IncompatibleHistogramsError';
  }
}

export interface HistogramOps {
  /** a + b (new histogram, compacted); throws IncompatibleHistogramsError */
  add(a: FloatHistogram, b: FloatHistogram): HistOpResult;
  /** a - b (new histogram, compacted); throws IncompatibleHistogramsError */
  sub(a: FloatHistogram, b: FloatHistogram): HistOpResult;
  /** h * f (new histogram, compacted) */
  mul(h: FloatHistogram, f: number): FloatHistogram;
  /** h / f (new histogram, compacted) */
  div(h: FloatHistogram, f: number): FloatHistogram;
  /** -h (new histogram, gauge hint) */
  neg(h: FloatHistogram): FloatHistogram;
  /** exact equality of two compacted histograms */
  equals(a: FloatHistogram, b: FloatHistogram): boolean;
}

// ---- the histogram module ----------------------------------------------------------------------

function addSub(op: typeof histogramAdd): (a: FloatHistogram, b: FloatHistogram) => HistOpResult {
  return (a, b) => {
    const notes = newHistogramOpNotes();
    let h: FloatHistogram;
    try {
      h = op(a, b, notes);
    } catch (e) {
      if (e instanceof HistogramIncompatibleSchemaError) throw new IncompatibleHistogramsError(e.message, { cause: e });
      throw e;
    }
    return { h: histogramCompactInto(h, 0), counterResetCollision: notes.counterResetCollision, nhcbBoundsReconciled: notes.nhcbBoundsReconciled };
  };
}

export const HISTOGRAM_OPS: HistogramOps = {
  add: addSub(histogramAdd),
  sub: addSub(histogramSub),
  mul: (h, f) => histogramCompactInto(histogramMul(h, f), 0),
  div: (h, f) => histogramCompactInto(histogramDiv(h, f), 0),
  neg: (h) => histogramNeg(h),
  equals: (a, b) => histogramEquals(a, b),
};
