// A sticky-error reader over a byte range, for the WAL record encodings (docs/formats/wal.md).
//
// Every read past the end or of a value JS numbers cannot hold exactly sets `err` once and from
// then on returns 0, so a decoder reads a whole record without checking each call and looks at
// `err` once at the end (the habit of Prometheus's encoding.Decbuf).
//
// 64-bit integers become JS numbers: refs and timestamps must lie within +-(2^53 - 1), which holds
// for every ref Muninn hands out and every millisecond timestamp of the next 285,000 years. A value
// outside that range is an error rather than a silently rounded number.

const TWO32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Highest value of the upper 32 bits of a safe unsigned integer (2^21 - 1). */
const MAX_SAFE_HI = 0x1fffff;

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class Decbuf {
  readonly b: Uint8Array;
  private readonly dv: DataView;
  pos: number;
  readonly end: number;
  /** The first error met, or null. */
  err: string | null = null;

  constructor(b: Uint8Array, start = 0, end = b.length) {
    this.b = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(msg: string): void {
    if (this.err === null) this.err = `${msg} at offset ${this.pos}`;
    this.pos = this.end;
  }

  private need(n: number): boolean {
    if (this.err !== null) return false;
    if (this.end - this.pos < n) {
      this.fail(`unexpected end of record (need ${n} bytes, have ${this.end - this.pos})`);
      return false;
    }
    return true;
  }

  byte(): number {
    if (!this.need(1)) return 0;
    return this.b[this.pos++] as number;
  }

  /** Big-endian uint64 as a number; an error above 2^53 - 1. */
  be64u(): number {
    if (!this.need(8)) return 0;
    const hi = this.dv.getUint32(this.pos);
    const lo = this.dv.getUint32(this.pos + 4);
    if (hi > MAX_SAFE_HI) {
      this.fail('uint64 beyond 2^53 - 1');
      return 0;
    }
    this.pos += 8;
    return hi * TWO32 + lo;
  }

  /** Big-endian int64 as a number; an error outside +-(2^53 - 1). */
  be64i(): number {
    if (!this.need(8)) return 0;
    const hi = this.dv.getInt32(this.pos);
    const lo = this.dv.getUint32(this.pos + 4);
    const v = hi * TWO32 + lo;
    if (v > MAX_SAFE || v < -MAX_SAFE) {
      this.fail('int64 beyond +-(2^53 - 1)');
      return 0;
    }
    this.pos += 8;
    return v;
  }

  /** A big-endian float64 as a number (NaN payloads may not survive engine moves; see be64fInto). */
  be64f(): number {
    if (!this.need(8)) return 0;
    const v = this.dv.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * Copies a big-endian float64's exact bits into `dst` (a byte view of a Float64Array) at byte
   * offset dstOff, so NaN payloads such as Prometheus's stale marker survive bit for bit.
   */
  be64fInto(dst: Uint8Array, dstOff: number): void {
    if (!this.need(8)) {
      dst.fill(0, dstOff, dstOff + 8);
      return;
    }
    const b = this.b;
    const p = this.pos;
    if (LITTLE_ENDIAN_HOST) {
      for (let i = 0; i < 8; i++) dst[dstOff + i] = b[p + 7 - i] as number;
    } else {
      for (let i = 0; i < 8; i++) dst[dstOff + i] = b[p + i] as number;
    }
    this.pos += 8;
  }

  /** Unsigned LEB128 varint; an error above 2^53 - 1 or past 10 bytes. */
  uvarint(): number {
    if (this.err !== null) return 0;
    const b = this.b;
    if (this.pos < this.end) {
      const c = b[this.pos] as number;
      if (c < 0x80) {
        this.pos++;
        return c;
      }
    }
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        this.fail('unexpected end of record in varint');
        return 0;
      }
      const c = b[this.pos++] as number;
      if (c < 0x80) {
        x += c * mul;
        if (x > MAX_SAFE) {
          this.fail('varint beyond 2^53 - 1');
          return 0;
        }
        return x;
      }
      x += (c & 0x7f) * mul;
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes');
    return 0;
  }

  /** Signed (zig-zag) varint, as Go's binary.Varint; an error outside +-(2^53 - 1). */
  varint(): number {
    if (this.err !== null) return 0;
    // Up to 7 bytes (u < 2^49) the zig-zag value is exact in a double; longer ones go through BigInt.
    let n = 0;
    while (n < 7 && this.pos + n < this.end && (this.b[this.pos + n] as number) >= 0x80) n++;
    if (n < 7) {
      const u = this.uvarint();
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
    let u = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        this.fail('unexpected end of record in varint');
        return 0;
      }
      const c = this.b[this.pos++] as number;
      u |= BigInt(c & 0x7f) << shift;
      shift += 7n;
      if (c < 0x80) {
        const v = (u >> 1n) ^ -(u & 1n);
        if (v > BigInt(MAX_SAFE) || v < -BigInt(MAX_SAFE)) {
          this.fail('varint beyond +-(2^53 - 1)');
          return 0;
        }
        return Number(v);
      }
    }
    this.fail('varint longer than 10 bytes');
    return 0;
  }

  /** Skips a varint of any magnitude (for fields we walk over but do not need). */
  skipVarint(): void {
    if (this.err !== null) return;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        this.fail('unexpected end of record in varint');
        return;
      }
      if ((this.b[this.pos++] as number) < 0x80) return;
    }
    this.fail('varint longer than 10 bytes');
  }

  skip(n: number): void {
    if (this.need(n)) this.pos += n;
  }

  /** A uvarint-length-prefixed UTF-8 string. */
  str(): string {
    const n = this.uvarint();
    if (!this.need(n)) return '';
    const s = n === 0 ? '' : utf8.decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  /** Skips a uvarint-length-prefixed string without creating it. */
  skipStr(): void {
    const n = this.uvarint();
    this.skip(n);
  }
}
