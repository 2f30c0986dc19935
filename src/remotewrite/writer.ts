// A small protobuf writer for the remote-write encoder (tests, load generators). Sub-messages
// reserve one byte for their length and move their content only when it turns out to need more
// (messages of 128 bytes or more), so nesting costs little.
import type { F64 } from './objects.js';

const TWO32 = 4294967296;
const utf8 = new TextEncoder();

function checkSafe(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a safe integer, got ${n}`);
}

export class Writer {
  private buf: Uint8Array;
  private dv: DataView;
  pos = 0;

  constructor(cap = 1024) {
    this.buf = new Uint8Array(cap);
    this.dv = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  /** A non-negative integer below 2^64 given as a safe integer (or an even number below 2^54). */
  varint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (n >= 0x80) {
      b[p++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[p++] = n;
    this.pos = p;
  }

  /** A 64-bit varint from its two unsigned 32-bit halves. */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0 || lo >= 0x80) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  tag(field: number, wt: number): void {
    this.varint(field * 8 + wt);
  }

  /** int64 (two's complement: a negative value takes 10 bytes). */
  int64(n: number): void {
    if (n >= 0) {
      this.varint(n);
      return;
    }
    const m = -n;
    const mlo = m % TWO32;
    const mhi = Math.floor(m / TWO32);
    const lo = (~mlo + 1) >>> 0;
    const hi = (~mhi + (lo === 0 ? 1 : 0)) >>> 0;
    this.varint64(lo, hi);
  }

  /** sint64 (zig-zag). */
  sint64(n: number): void {
    if (n >= 0) this.varint(n * 2); // even, so exact up to 2^54
    else if (n > -(2 ** 52)) this.varint(-n * 2 - 1);
    else {
      const z = (-BigInt(n) << 1n) - 1n; // odd and above 2^53: beyond float precision
      this.varint64(Number(z & 0xffffffffn), Number(z >> 32n));
    }
  }

  double(v: F64): void {
    this.ensure(8);
    if (typeof v === 'bigint') this.dv.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    else this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Opens a length-delimited field; pass the result to end(). */
  begin(field: number): number {
    this.tag(field, 2);
    this.ensure(1);
    this.pos++;
    return this.pos;
  }

  end(start: number): void {
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    let k = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 128)) k++;
    this.ensure(k - 1);
    const b = this.buf;
    b.copyWithin(start + k - 1, start, this.pos);
    let p = start - 1;
    let v = len;
    while (v >= 0x80) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p] = v;
    this.pos += k - 1;
  }

  /** A length-delimited field holding `b` as it is (e.g. a sub-message encoded on its own). */
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(field: number, s: string): void {
    const start = this.begin(field);
    this.ensure(s.length * 3);
    const b = this.buf;
    let p = this.pos;
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[p++] = c;
    }
    if (i < s.length) p += utf8.encodeInto(s.slice(i), b.subarray(p)).written;
    this.pos = p;
    this.end(start);
  }

  // Proto3 fields that are skipped when they hold their default value.

  optString(field: number, s: string): void {
    if (s !== '') this.string(field, s);
  }

  optDouble(field: number, v: F64 | undefined): void {
    if (v === undefined || v === 0n || Object.is(v, 0)) return;
    this.tag(field, 1);
    this.double(v);
  }

  optInt64(field: number, n: number | undefined, what: string): void {
    if (n === undefined || n === 0) return;
    checkSafe(n, what);
    this.tag(field, 0);
    this.int64(n);
  }

  optUint32(field: number, n: number | undefined, what: string): void {
    if (n === undefined || n === 0) return;
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} must be a uint32, got ${n}`);
    this.tag(field, 0);
    this.varint(n);
  }

  /** int32 and enums (negative values take 10 bytes, as protobuf writes them). */
  optInt32(field: number, n: number | undefined, what: string): void {
    if (n === undefined || n === 0) return;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`${what} must be an int32, got ${n}`);
    this.tag(field, 0);
    this.int64(n);
  }

  optSint32(field: number, n: number | undefined, what: string): void {
    if (n === undefined || n === 0) return;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`${what} must be an int32, got ${n}`);
    this.tag(field, 0);
    this.varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  /** A uint64 written even when 0 (a oneof member). */
  uint64Field(field: number, n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
    this.tag(field, 0);
    this.varint(n);
  }

  /** A double written even when 0 (a oneof member). */
  doubleField(field: number, v: F64): void {
    this.tag(field, 1);
    this.double(v);
  }

  repeatedDouble(field: number, vs: readonly F64[] | undefined, packed: boolean): void {
    if (vs === undefined || vs.length === 0) return;
    if (packed) {
      this.tag(field, 2);
      this.varint(vs.length * 8);
      for (const v of vs) this.double(v);
    } else {
      for (const v of vs) {
        this.tag(field, 1);
        this.double(v);
      }
    }
  }

  repeatedSint64(field: number, vs: readonly number[] | undefined, packed: boolean, what: string): void {
    if (vs === undefined || vs.length === 0) return;
    for (const v of vs) checkSafe(v, what);
    if (packed) {
      const start = this.begin(field);
      for (const v of vs) this.sint64(v);
      this.end(start);
    } else {
      for (const v of vs) {
        this.tag(field, 0);
        this.sint64(v);
      }
    }
  }

  repeatedUint32(field: number, vs: readonly number[], packed: boolean): void {
    if (vs.length === 0) return;
    if (packed) {
      const start = this.begin(field);
      for (const v of vs) this.varint(v);
      this.end(start);
    } else {
      for (const v of vs) {
        this.tag(field, 0);
        this.varint(v);
      }
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
