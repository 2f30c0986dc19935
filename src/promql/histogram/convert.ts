// Conversion from the forms histograms are stored and shipped in to FloatHistogram:
//  - HistogramObject (remotewrite/objects.ts histogramOf): what the ingester head stores and what
//    Ingester.queryStream returns in StreamSeries.histograms[].h when called in-process;
//  - the same message after the gRPC query path (ingester/grpc.ts: protobufjs with longs as
//    numbers and enums as strings, so resetHint is "UNKNOWN" | "YES" | "NO" | "GAUGE", 64-bit
//    integers may come as strings or Long objects with other loader options).
// Integer histograms (deltas) become absolute float counts (Prometheus ToFloatHistogram).
import type { BucketSpanObject, F64, HistogramObject } from '../../remotewrite/index.js';
import type { BucketSpan, FloatHistogram, HPoint } from '../value.js';
import { InvalidHistogramError } from './errors.js';
import { CounterResetHint, CUSTOM_BUCKETS_SCHEMA } from './types.js';

const bits = new DataView(new ArrayBuffer(8));

/** A double from a number, or from a bigint holding its IEEE-754 bits (remotewrite F64). */
function f64(v: F64 | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  bits.setBigUint64(0, BigInt.asUintN(64, v));
  return bits.getFloat64(0);
}

/** An integer as protobufjs may give it: number, bigint, decimal string or Long ({low, high}). */
function int(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number; unsigned?: boolean };
    const high = l.unsigned === true ? l.high >>> 0 : l.high | 0;
    return high * 4294967296 + (l.low >>> 0);
  }
  throw new InvalidHistogramError(`histogram field is not an integer: ${String(v)}`);
}

const RESET_HINTS: Record<string, number> = {
  UNKNOWN: CounterResetHint.Unknown,
  YES: CounterResetHint.CounterReset,
  NO: CounterResetHint.NotCounterReset,
  GAUGE: CounterResetHint.Gauge,
};

function resetHint(v: unknown): number {
  if (v === undefined || v === null) return CounterResetHint.Unknown;
  if (typeof v === 'string') {
    const h = RESET_HINTS[v];
    if (h === undefined) throw new InvalidHistogramError(`unknown histogram reset hint ${v}`);
    return h;
  }
  const n = int(v);
  if (n < 0 || n > 3) throw new InvalidHistogramError(`unknown histogram reset hint ${n}`);
  return n;
}

function spans(s: readonly BucketSpanObject[] | undefined): BucketSpan[] {
  return (s ?? []).map((x) => ({ offset: int(x.offset), length: int(x.length) }));
}

/** Absolute counts from deltas (each bucket's count minus the previous bucket's). */
function deltasToCounts(d: readonly unknown[] | undefined): number[] {
  const out: number[] = [];
  let cur = 0;
  for (const x of d ?? []) {
    cur += int(x);
    out.push(cur);
  }
  return out;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Whether o is a float histogram (Prometheus: the count oneof holds count_float). */
function isFloat(o: HistogramObject): boolean {
  if (!present(o.countFloat)) return false;
  if (!present(o.countInt)) return true;
  // both set (a decoder filling oneof defaults): the bucket fields in use decide
  return (o.positiveCounts?.length ?? 0) + (o.negativeCounts?.length ?? 0) > 0 || (o.positiveDeltas?.length ?? 0) + (o.negativeDeltas?.length ?? 0) === 0;
}

/**
 * The float form of a remote-write histogram (integer or float): deltas become absolute counts;
 * everything else is copied as it is (custom values only for schema -53).
 */
export function fromHistogramObject(o: HistogramObject): FloatHistogram {
  const schema = int(o.schema);
  const float = isFloat(o);
  return {
    counterResetHint: resetHint(o.resetHint),
    schema,
    zeroThreshold: f64(o.zeroThreshold),
    zeroCount: float ? f64(o.zeroCountFloat) : int(o.zeroCountInt),
    count: float ? f64(o.countFloat) : int(o.countInt),
    sum: f64(o.sum),
    positiveSpans: spans(o.positiveSpans),
    negativeSpans: spans(o.negativeSpans),
    positiveBuckets: float ? (o.positiveCounts ?? []).map(f64) : deltasToCounts(o.positiveDeltas),
    negativeBuckets: float ? (o.negativeCounts ?? []).map(f64) : deltasToCounts(o.negativeDeltas),
    customValues: schema === CUSTOM_BUCKETS_SCHEMA ? (o.customValues ?? []).map(f64) : [],
  };
}

/**
 * A histogram from the ingester's query results (StreamSeries.histograms[].h, typed unknown):
 * the in-process HistogramObject or its gRPC-decoded form (see the top of this file).
 * @throws InvalidHistogramError if it is neither.
 */
export function fromStoredHistogram(h: unknown): FloatHistogram {
  if (typeof h !== 'object' || h === null) throw new InvalidHistogramError('stored histogram is not an object');
  return fromHistogramObject(h as HistogramObject);
}

/** StreamSeries.histograms (ingester queryStream) as the engine's HPoints, in the same order. */
export function fromStreamHistograms(hs: ReadonlyArray<{ t: number; h: unknown }>): HPoint[] {
  return hs.map((x) => ({ t: x.t, h: fromStoredHistogram(x.h) }));
}
