// A growable writer for the WAL record encodings (docs/formats/wal.md): big-endian fixed-width
// integers, LEB128 varints (zig-zag for signed ones, as Go's encoding/binary), uvarint-prefixed
// UTF-8 strings and float64s copied bit for bit.
import { LITTLE_ENDIAN_HOST } from './decbuf.js';

const TWO32 = 4294967296;

export class Encbuf {
  buf: Buffer;
  private dv: DataView;
  len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initial));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Ensures room for n more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** A copy of the written bytes, owned by the caller. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    out.set(this.buf.subarray(0, this.len));
    return out;
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Big-endian uint64 from a non-negative safe integer. */
  be64u(v: number): void {
    this.be64i(v);
  }

  /** Big-endian int64 (two's complement) from a safe integer. */
  be64i(v: number): void {
    this.reserve(8);
    const hi = Math.floor(v / TWO32);
    const lo = v - hi * TWO32;
    this.dv.setInt32(this.len, hi);
    this.dv.setUint32(this.len + 4, lo);
    this.len += 8;
  }

  /** Big-endian float64 from a number (engines may quieten signalling NaNs held in plain arrays). */
  be64f(v: number): void {
    this.reserve(8);
    this.dv.setFloat64(this.len, v);
    this.len += 8;
  }

  /** Big-endian float64 copied bit for bit from a byte view of a Float64Array at byte offset off. */
  be64fFrom(src: Uint8Array, off: number): void {
    this.reserve(8);
    const b = this.buf;
    const p = this.len;
    if (LITTLE_ENDIAN_HOST) {
      for (let i = 0; i < 8; i++) b[p + i] = src[off + 7 - i] as number;
    } else {
      for (let i = 0; i < 8; i++) b[p + i] = src[off + i] as number;
    }
    this.len += 8;
  }

  uvarint(v: number): void {
    this.reserve(10);
    const b = this.buf;
    let p = this.len;
    if (v < 0x80000000) {
      let x = v >>> 0;
      while (x >= 0x80) {
        b[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      b[p++] = x;
    } else {
      let x = v;
      while (x >= 0x80) {
        b[p++] = (x % 128) | 0x80;
        x = Math.floor(x / 128);
      }
      b[p++] = x;
    }
    this.len = p;
  }

  /** Zig-zag signed varint, as Go's binary.PutVarint (v a safe integer). */
  varint(v: number): void {
    if (v < 2 ** 51 && v > -(2 ** 51)) {
      this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
      return;
    }
    // 2|v| would not be exact in a double: zig-zag through BigInt.
    const b = BigInt(v);
    let u = b >= 0n ? b << 1n : ((-b) << 1n) - 1n;
    this.reserve(10);
    while (u >= 0x80n) {
      this.buf[this.len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.len++] = Number(u);
  }

  /** A uvarint-length-prefixed UTF-8 string. */
  str(s: string): void {
    if (s.length < 43) {
      // At most 126 UTF-8 bytes: the length fits one varint byte, so write the string first.
      this.reserve(1 + s.length * 3);
      const n = this.buf.write(s, this.len + 1, 'utf8');
      this.buf[this.len] = n;
      this.len += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uvarint(n);
    this.reserve(n);
    this.buf.write(s, this.len, 'utf8');
    this.len += n;
  }
}
