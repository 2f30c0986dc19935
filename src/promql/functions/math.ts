// Instant-vector math: abs, ceil, floor, exp, sqrt, ln/log2/log10, the trigonometric functions,
// deg/rad, sgn, round, clamp*, plus the scalar helpers time(), pi(), scalar(), vector() and
// timestamp(). Histogram samples are skipped silently; outputs drop the metric name.
import type { Vector } from '../value.js';
import type { FnArg, FnContext, FunctionImpl } from './types.js';
import { EMPTY_LABELS, floatSample, scalarArg, vectorArg } from './util.js';

/** Applies f to every float sample of argument 0 (Prometheus simpleFloatFunc). */
export function mapFloats(v: Vector, t: number, f: (x: number) => number): Vector {
  const out: Vector = [];
  for (const s of v) if (s.h === null) out.push(floatSample(s.metric, t, f(s.f), true));
  return out;
}

function simple(f: (x: number) => number): FunctionImpl {
  return (args, ctx) => mapFloats(vectorArg(args, 0), ctx.t, f);
}

// Go's math.Frexp: x = frac * 2^exp with |frac| in [0.5, 1); 0, ±Inf and NaN come back as they are.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the high word
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let e = 0;
  let y = x;
  if (Math.abs(y) < 2.2250738585072014e-308) {
    y *= 2 ** 52; // normalise a subnormal
    e = -52;
  }
  f64[0] = y;
  const hi = u32[HI] as number;
  e += ((hi >>> 20) & 0x7ff) - 1022;
  u32[HI] = (hi & ~(0x7ff << 20)) | (1022 << 20);
  return [f64[0] as number, e];
}

/** Go's math.Log2: exact for powers of two. */
export function goLog2(x: number): number {
  const [frac, exp] = frexp(x);
  if (frac === 0.5) return exp - 1;
  return Math.log(frac) * Math.LOG2E + exp;
}

/** Go's math.Log10: log(x) * (1/ln 10). */
export function goLog10(x: number): number {
  return Math.log(x) * Math.LOG10E;
}

function sgn(v: number): number {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v; // ±0 and NaN stay as they are
}

const round: FunctionImpl = (args, ctx) => {
  const toNearest = args.length >= 2 ? scalarArg(args, 1) : 1;
  // Prometheus divides by the inverse: fewer floating point surprises for fractions like 0.1.
  const inv = 1 / toNearest;
  return mapFloats(vectorArg(args, 0), ctx.t, (f) => Math.floor(f * inv + 0.5) / inv);
};

function clampVector(v: Vector, t: number, min: number, max: number): Vector {
  if (max < min) return [];
  return mapFloats(v, t, (f) => Math.max(min, Math.min(max, f)));
}

const clamp: FunctionImpl = (args, ctx) => clampVector(vectorArg(args, 0), ctx.t, scalarArg(args, 1), scalarArg(args, 2));
const clampMax: FunctionImpl = (args, ctx) => clampVector(vectorArg(args, 0), ctx.t, -Infinity, scalarArg(args, 1));
const clampMin: FunctionImpl = (args, ctx) => clampVector(vectorArg(args, 0), ctx.t, scalarArg(args, 1), Infinity);

/** scalar(): the value of the only float sample, else NaN. */
const scalar: FunctionImpl = (args) => {
  let value = NaN;
  let found = false;
  for (const s of vectorArg(args, 0)) {
    if (s.h !== null) continue;
    if (found) return NaN;
    found = true;
    value = s.f;
  }
  return value;
};

const vector: FunctionImpl = (args, ctx) => [floatSample(EMPTY_LABELS, ctx.t, scalarArg(args, 0), false)];

const time: FunctionImpl = (_args, ctx) => ctx.t / 1000;

const pi: FunctionImpl = () => Math.PI;

// max_of/min_of (experimental): Go's math.Max/Min, NaN if either is NaN.
const maxOf: FunctionImpl = (args) => Math.max(scalarArg(args, 0), scalarArg(args, 1));
const minOf: FunctionImpl = (args) => Math.min(scalarArg(args, 0), scalarArg(args, 1));

/** timestamp(): each sample's own timestamp in seconds (the engine passes it in `t`); floats and histograms alike. */
const timestamp: FunctionImpl = (args: readonly FnArg[], ctx: FnContext) => {
  const out: Vector = [];
  for (const s of vectorArg(args, 0)) out.push(floatSample(s.metric, ctx.t, s.t / 1000, true));
  return out;
};

export const MATH_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['abs', simple(Math.abs)],
  ['ceil', simple(Math.ceil)],
  ['floor', simple(Math.floor)],
  ['exp', simple(Math.exp)],
  ['sqrt', simple(Math.sqrt)],
  ['ln', simple(Math.log)],
  ['log2', simple(goLog2)],
  ['log10', simple(goLog10)],
  ['sin', simple(Math.sin)],
  ['cos', simple(Math.cos)],
  ['tan', simple(Math.tan)],
  ['asin', simple(Math.asin)],
  ['acos', simple(Math.acos)],
  ['atan', simple(Math.atan)],
  ['sinh', simple(Math.sinh)],
  ['cosh', simple(Math.cosh)],
  ['tanh', simple(Math.tanh)],
  ['asinh', simple(Math.asinh)],
  ['acosh', simple(Math.acosh)],
  ['atanh', simple(Math.atanh)],
  ['rad', simple((v) => (v * Math.PI) / 180)],
  ['deg', simple((v) => (v * 180) / Math.PI)],
  ['sgn', simple(sgn)],
  ['round', round],
  ['clamp', clamp],
  ['clamp_max', clampMax],
  ['clamp_min', clampMin],
  ['scalar', scalar],
  ['vector', vector],
  ['time', time],
  ['pi', pi],
  ['max_of', maxOf],
  ['min_of', minOf],
  ['timestamp', timestamp],
];
