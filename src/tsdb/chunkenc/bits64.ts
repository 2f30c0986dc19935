// 64-bit patterns as two 32-bit words (hi, lo) held in JS numbers: float64 bit patterns through a
// shared scratch buffer, and int64 timestamps/deltas to and from safe-integer numbers. Hot paths use
// these instead of BigInt; BigInt appears only on rare paths (deltas beyond 2^53).

/** Shared scratch: write F64[0], read U32[HI] / U32[LO] (or the reverse). Single-threaded use only. */
export const F64 = new Float64Array(1);
export const U32 = new Uint32Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index in U32 of the high (sign/exponent) word of F64[0]. */
export const HI = LITTLE_ENDIAN ? 1 : 0;
/** Index in U32 of the low word of F64[0]. */
export const LO = LITTLE_ENDIAN ? 0 : 1;

/** Prometheus's stale marker: a NaN with this exact bit pattern (value.StaleNaN). */
export const STALE_NAN_BITS = 0x7ff0000000000002n;
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

/** The stale marker as a number. Keep it out of regular arrays: V8 may canonicalize NaNs there. */
export const STALE_NAN: number = floatFromWords(STALE_HI, STALE_LO);

/** Whether v is exactly the stale-marker NaN (not just any NaN). */
export function isStaleNaN(v: number): boolean {
  F64[0] = v;
  return U32[HI] === STALE_HI && U32[LO] === STALE_LO;
}

/** The float64 whose bit pattern is hi:lo. */
export function floatFromWords(hi: number, lo: number): number {
  U32[HI] = hi;
  U32[LO] = lo;
  return F64[0]!;
}

/** The bit pattern of v as an unsigned 64-bit bigint (for tests and diagnostics, not hot paths). */
export function floatToBits(v: number): bigint {
  F64[0] = v;
  return (BigInt(U32[HI]!) << 32n) | BigInt(U32[LO]!);
}

/** The float64 with the given 64-bit pattern (for tests and diagnostics, not hot paths). */
export function floatFromBits(bits: bigint): number {
  const b = BigInt.asUintN(64, bits);
  return floatFromWords(Number(b >> 32n), Number(b & 0xffffffffn));
}

export const TWO_32 = 4294967296;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** High word (signed int32) of the two's-complement int64 of a safe integer x. */
export function hiOf(x: number): number {
  return Math.floor(x / TWO_32) | 0;
}

/** Low word (as uint32) of the two's-complement int64 of a safe integer x. */
export function loOf(x: number): number {
  return x >>> 0;
}

/**
 * The int64 with pattern hi:lo as a number, or NaN if it is not a safe integer. Exact: a result
 * of magnitude <= MAX_SAFE cannot have been rounded.
 */
export function int64ToNumber(hi: number, lo: number): number {
  const x = (hi | 0) * TWO_32 + (lo >>> 0);
  return x <= MAX_SAFE && x >= -MAX_SAFE ? x : NaN;
}

/** The int64 with pattern hi:lo as a bigint. */
export function int64ToBig(hi: number, lo: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

export function isSafeBig(x: bigint): boolean {
  return x <= MAX_SAFE_BIG && x >= -MAX_SAFE_BIG;
}

/** Whether |x| <= MAX_SAFE (false for NaN): the test that a sum or difference was exact. */
export function isSafe(x: number): boolean {
  return x <= MAX_SAFE && x >= -MAX_SAFE;
}

/** Count of trailing zero bits of a 32-bit word (32 for 0). */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}
