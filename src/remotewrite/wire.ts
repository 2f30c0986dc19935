// Protobuf wire reading over a Uint8Array with a sticky error (docs/formats/remote-write.md).
//
// The reader never throws. A read that runs past the end of the current message, a varint longer
// than 10 bytes, a length that does not fit, an integer outside JS's safe range or an unsupported
// wire type records the first error (`err`, `errPos`, `errWhere`) and moves `pos` to the end of
// the whole buffer, so that every `while (r.pos < r.limit)` loop of every enclosing message ends
// at once. Decoders check `err` once, when the top-level message is done. `pos` only ever moves
// forward, and every loop iteration consumes at least one byte or fails, so decoding ends in
// time linear in the input.
//
// Doubles are never read as JS numbers: their 8 bytes are copied into the backing bytes of a
// Float64Array column, so NaN payloads (the stale marker 0x7ff0000000000002) survive exactly.

/** Wire types (the low 3 bits of a field key). */
export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_SGROUP = 3;
export const WT_EGROUP = 4;
export const WT_I32 = 5;

const TWO32 = 4294967296;
/** hi words at or above this give a magnitude of at least 2^53 */
const HI_UNSAFE = 0x200000;

export class WireReader {
  readonly buf: Uint8Array;
  pos = 0;
  /** end (exclusive) of the message being read */
  limit: number;
  /** name of the message being read, for error messages */
  where = '';
  err: string | null = null;
  errPos = 0;
  errWhere = '';
  // the two halves of the last 64-bit varint read by varint64()
  private lo = 0;
  private hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.limit = buf.length;
  }

  /** Records the first error and ends every read loop. */
  fail(msg: string): void {
    if (this.err === null) {
      this.err = msg;
      this.errPos = this.pos;
      this.errWhere = this.where;
    }
    this.pos = this.buf.length;
  }

  /** Reads a length prefix and makes the sub-message it announces current; returns the old limit. */
  enter(where: string): number {
    const n = this.len();
    const prev = this.limit;
    this.limit = this.pos + n;
    this.where = where;
    return prev;
  }

  /** Leaves the current sub-message (which the caller has read to its end). */
  leave(prevLimit: number, where: string): void {
    if (this.pos !== this.limit) this.fail(`sub-message not read to its end`);
    this.limit = prevLimit;
    this.where = where;
  }

  /** A varint, returned as its low 32 bits (uint32 semantics; `| 0` gives int32/enum). */
  u32(): number {
    const pos = this.pos;
    const buf = this.buf;
    if (pos + 1 < this.limit) {
      const b0 = buf[pos]!;
      if (b0 < 0x80) {
        this.pos = pos + 1;
        return b0;
      }
      const b1 = buf[pos + 1]!;
      if (b1 < 0x80) {
        this.pos = pos + 2;
        return (b0 & 0x7f) | (b1 << 7);
      }
    } else if (pos < this.limit) {
      const b0 = buf[pos]!;
      if (b0 < 0x80) {
        this.pos = pos + 1;
        return b0;
      }
    }
    this.varint64();
    return this.lo;
  }

  /** A length prefix: at most 5 bytes and no more than the bytes left in the current message. */
  len(): number {
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    if (pos < limit) {
      const b = buf[pos]!;
      if (b < 0x80 && b < limit - pos) {
        this.pos = pos + 1;
        return b;
      }
    }
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (pos >= limit) {
        this.fail('truncated length prefix');
        return 0;
      }
      const b = buf[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (v > limit - pos) {
          this.fail(`length ${v} exceeds the ${limit - pos} bytes left`);
          return 0;
        }
        this.pos = pos;
        return v;
      }
      mul *= 128;
    }
    this.fail('length prefix longer than 5 bytes');
    return 0;
  }

  /**
   * int64 as a JS number. Values outside [-(2^53-1), 2^53-1] are an error: they cannot be held
   * exactly. Fast path: non-negative values of up to 7 bytes (< 2^49), which covers every
   * millisecond timestamp up to the year 19800.
   */
  i64(): number {
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7 && pos < limit; i++) {
      const b = buf[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      mul *= 128;
    }
    this.varint64();
    const lo = this.lo;
    const hi = this.hi;
    if (hi >= 0x80000000) {
      // negative: take the two's complement magnitude
      const mlo = (~lo + 1) >>> 0;
      const mhi = (~hi + (mlo === 0 ? 1 : 0)) >>> 0;
      if (mhi >= HI_UNSAFE) return this.unsafe('int64');
      return -(mhi * TWO32 + mlo);
    }
    if (hi >= HI_UNSAFE) return this.unsafe('int64');
    return hi * TWO32 + lo;
  }

  /** uint64 as a JS number; values >= 2^53 are an error. */
  u64(): number {
    this.varint64();
    if (this.hi >= HI_UNSAFE) return this.unsafe('uint64');
    return this.hi * TWO32 + this.lo;
  }

  /** sint64 (zig-zag) as a JS number; magnitudes >= 2^53 are an error. */
  s64(): number {
    this.varint64();
    const lo = this.lo;
    const hi = this.hi;
    const hlo = ((lo >>> 1) | (hi << 31)) >>> 0;
    const hhi = hi >>> 1;
    if (hhi >= HI_UNSAFE) return this.unsafe('sint64');
    const m = hhi * TWO32 + hlo;
    if ((lo & 1) === 0) return m;
    if (m + 1 > Number.MAX_SAFE_INTEGER) return this.unsafe('sint64');
    return -(m + 1);
  }

  /** sint32 (zig-zag over the low 32 bits). */
  s32(): number {
    const u = this.u32();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Checks that 8 bytes are left; returns their offset and steps over them (-1 when truncated). */
  fixed64(): number {
    const pos = this.pos;
    if (pos + 8 > this.limit) {
      this.fail('truncated 64-bit field');
      return -1;
    }
    this.pos = pos + 8;
    return pos;
  }

  /** Skips one field value of wire type `wt`. Groups and the undefined wire types 6, 7 fail. */
  skip(wt: number): void {
    switch (wt) {
      case WT_VARINT:
        this.varint64();
        return;
      case WT_I64:
        this.fixed64();
        return;
      case WT_LEN: {
        const n = this.len();
        this.pos += n;
        return;
      }
      case WT_I32:
        if (this.pos + 4 > this.limit) this.fail('truncated 32-bit field');
        else this.pos += 4;
        return;
      case WT_SGROUP:
      case WT_EGROUP:
        this.fail(`unsupported wire type ${wt} (group)`);
        return;
      default:
        this.fail(`invalid wire type ${wt}`);
    }
  }

  /** A field key: field number 1 .. 2^29-1 and wire type; anything else is an error. */
  key(): number {
    const pos = this.pos;
    if (pos < this.limit) {
      const b = this.buf[pos]!;
      if (b >= 8 && b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    this.varint64();
    if (this.hi !== 0) this.fail('field number above 2^29-1');
    else if (this.lo < 8) this.fail('invalid field number 0');
    return this.lo;
  }

  private unsafe(kind: string): number {
    this.fail(`${kind} value outside the safe integer range (|v| < 2^53)`);
    return 0;
  }

  /**
   * Reads a varint of up to 10 bytes into lo/hi (bits beyond 64 in the 10th byte are dropped,
   * as Go's protobuf readers do); an 11th byte is an error.
   */
  private varint64(): void {
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= limit) {
        this.fail('truncated varint');
        this.lo = 0;
        this.hi = 0;
        return;
      }
      const b = buf[pos++]!;
      const v = b & 0x7f;
      if (i < 4) lo |= v << (7 * i);
      else if (i === 4) {
        lo |= v << 28;
        hi = v >>> 4;
      } else hi |= v << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint longer than 10 bytes');
    this.lo = 0;
    this.hi = 0;
  }
}
