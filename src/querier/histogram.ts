// The ingester stores native histograms as the remote-write decoder gives them (a HistogramObject:
// integer histograms with bucket deltas, float histograms with absolute counts; doubles as numbers
// or as bigint bit patterns). Over gRPC they arrive as proto-loader objects of prometheus.Histogram
// (the same field names; the reset hint may be an enum name). This converts either to the
// engine's FloatHistogram (Prometheus Histogram.ToFloat: deltas summed to absolute counts).
import { MuninnError } from '../errors/index.js';
import type { BucketSpan, FloatHistogram } from '../promql/value.js';

/** Schema of native histograms with custom bucket boundaries (NHCB). */
export const CUSTOM_BUCKETS_SCHEMA = -53;

const RESET_HINTS: Record<string, number> = { UNKNOWN: 0, YES: 1, NO: 2, GAUGE: 3 };

const scratch = new DataView(new ArrayBuffer(8));

/** A double given as a number, a bigint bit pattern, or absent (0). */
function f64(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') {
    scratch.setBigUint64(0, BigInt.asUintN(64, v));
    return scratch.getFloat64(0);
  }
  if (typeof v === 'string') return Number(v);
  throw new MuninnError('internal', `histogram field: expected a number, got ${typeof v}`);
}

function int(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  throw new MuninnError('internal', `histogram field: expected an integer, got ${typeof v}`);
}

function spans(v: unknown): BucketSpan[] {
  if (!Array.isArray(v)) return [];
  return v.map((s: { offset?: unknown; length?: unknown }) => ({ offset: int(s.offset), length: int(s.length) }));
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Absolute counts from delta-encoded integer buckets. */
function fromDeltas(deltas: unknown[]): number[] {
  const out = new Array<number>(deltas.length);
  let c = 0;
  for (let i = 0; i < deltas.length; i++) {
    c += int(deltas[i]);
    out[i] = c;
  }
  return out;
}

function has(o: Record<string, unknown>, k: string): boolean {
  return o[k] !== undefined && o[k] !== null;
}

/** The ingester's histogram object as a FloatHistogram. */
export function storedHistogramToFloat(h: unknown): FloatHistogram {
  if (typeof h !== 'object' || h === null) throw new MuninnError('internal', 'histogram sample is not an object');
  const o = h as Record<string, unknown>;
  const isFloat = has(o, 'countFloat') && !has(o, 'countInt');
  const hintRaw = o.resetHint;
  const hint = typeof hintRaw === 'string' ? (RESET_HINTS[hintRaw] ?? 0) : int(hintRaw);
  const schema = int(o.schema);
  return {
    counterResetHint: hint,
    schema,
    zeroThreshold: f64(o.zeroThreshold),
    zeroCount: isFloat || has(o, 'zeroCountFloat') ? f64(o.zeroCountFloat) : int(o.zeroCountInt),
    count: isFloat ? f64(o.countFloat) : int(o.countInt),
    sum: f64(o.sum),
    positiveSpans: spans(o.positiveSpans),
    negativeSpans: spans(o.negativeSpans),
    positiveBuckets: isFloat ? list(o.positiveCounts).map(f64) : fromDeltas(list(o.positiveDeltas)),
    negativeBuckets: isFloat ? list(o.negativeCounts).map(f64) : fromDeltas(list(o.negativeDeltas)),
    customValues: schema === CUSTOM_BUCKETS_SCHEMA ? list(o.customValues).map(f64) : [],
  };
}
