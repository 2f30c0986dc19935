// Protobuf primitives for the subset encoder (subset.ts): the exact encoded size of each scalar
// and writers into a Uint8Array that was allocated at the exact size of the message beforehand
// (so writers never check bounds or grow). Every writer returns the position after what it wrote.
//
// Integers are JS numbers holding safe integers (|v| < 2^53), as the decoder produces them.
// Doubles are never read as numbers: they are copied as two 32-bit halves from a Uint32Array view
// of the Float64Array column, so NaN payloads (the stale marker) are written bit for bit.
import { LITTLE_ENDIAN } from './columns.js';

const TWO32 = 4294967296;
/** index of the low / high 32-bit half of a double in a host-order Uint32Array view */
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/** A Uint32Array over the same memory as `a` (two halves per double). */
export function bitsView(a: Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Bytes of a varint holding the non-negative integer n (n < 2^56). */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  if (n < 0x40000000000) return 6;
  if (n < 0x2000000000000) return 7;
  return 8;
}

/** Bytes of an int64 / int32 / enum varint (negative values take 10). */
export function int64Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

/** Bytes of a sint64 (zig-zag) varint. */
export function sint64Size(n: number): number {
  // -2n-1 may round to an even neighbour above 2^53, but no varint size boundary lies there
  return varintSize(n >= 0 ? n * 2 : -n * 2 - 1);
}

/** zig-zag of an int32, as an unsigned 32-bit number */
export function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Bytes of a length-delimited field with a one-byte key and `n` bytes of payload. */
export function lenFieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}

/** Writes the non-negative integer n (< 2^54, or any even n < 2^55) as a varint. */
export function writeVarint(b: Uint8Array, p: number, n: number): number {
  if (n < 0x80) {
    b[p] = n;
    return p + 1;
  }
  while (n > 0x7fffffff) {
    b[p++] = (n & 0x7f) | 0x80; // & takes n modulo 2^32 first: the low 7 bits are exact
    n = Math.floor(n / 128);
  }
  while (n > 0x7f) {
    b[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  b[p++] = n;
  return p;
}

/** Writes a 64-bit varint given as two unsigned 32-bit halves. */
function writeVarint64(b: Uint8Array, p: number, lo: number, hi: number): number {
  while (hi !== 0 || lo > 0x7f) {
    b[p++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  b[p++] = lo;
  return p;
}

/** int64 / int32 / enum: two's complement, so a negative value takes 10 bytes. */
export function writeInt64(b: Uint8Array, p: number, n: number): number {
  if (n >= 0) return writeVarint(b, p, n);
  const m = -n;
  const mlo = m % TWO32;
  const mhi = (m - mlo) / TWO32;
  const lo = (~mlo + 1) >>> 0;
  const hi = (~mhi + (lo === 0 ? 1 : 0)) >>> 0;
  return writeVarint64(b, p, lo, hi);
}

/** sint64 (zig-zag), exact over the whole safe-integer range. */
export function writeSint64(b: Uint8Array, p: number, n: number): number {
  if (n >= 0) return writeVarint(b, p, n * 2); // even, exact below 2^54
  const m = -n - 1; // exact; the zig-zag value is 2m+1
  if (m < 2 ** 52) return writeVarint(b, p, m * 2 + 1);
  const mlo = m % TWO32;
  const mhi = (m - mlo) / TWO32;
  return writeVarint64(b, p, ((mlo << 1) | 1) >>> 0, ((mhi << 1) | (mlo >>> 31)) >>> 0);
}

/** The 8 little-endian wire bytes of double i of the column whose bitsView is `u`. */
export function writeDouble(b: Uint8Array, p: number, u: Uint32Array, i: number): number {
  const lo = u[2 * i + LO]!;
  const hi = u[2 * i + HI]!;
  b[p] = lo;
  b[p + 1] = lo >>> 8;
  b[p + 2] = lo >>> 16;
  b[p + 3] = lo >>> 24;
  b[p + 4] = hi;
  b[p + 5] = hi >>> 8;
  b[p + 6] = hi >>> 16;
  b[p + 7] = hi >>> 24;
  return p + 8;
}

/** True if double i is +0 (all bits zero): proto3 leaves such a field out. -0 is written. */
export function isZeroBits(u: Uint32Array, i: number): boolean {
  return u[2 * i] === 0 && u[2 * i + 1] === 0;
}

/**
 * Copies src[s, e) to out at p. `dvo` and `dvs` are DataViews over exactly `out` and `src`. Short
 * ranges (label names and values) are copied 4 bytes at a time through the DataViews (unaligned
 * 32-bit moves, which V8 inlines: ~2x a byte loop, ~4x a subarray + set for 15 bytes); long
 * ones with one native copy.
 */
export function copyBytes(out: Uint8Array, dvo: DataView, p: number, src: Uint8Array, dvs: DataView, s: number, e: number): number {
  if (e - s > 128) {
    out.set(src.subarray(s, e), p);
    return p + (e - s);
  }
  while (e - s >= 4) {
    dvo.setUint32(p, dvs.getUint32(s, true), true);
    p += 4;
    s += 4;
  }
  while (s < e) out[p++] = src[s++]!;
  return p;
}
