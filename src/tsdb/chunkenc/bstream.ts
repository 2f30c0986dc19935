// Bit streams for the chunk encodings: a writer over a growable Uint8Array and a reader over a
// fixed byte range. Bits are packed most significant first. Values travel as unsigned 32-bit
// words held in JS numbers; 64-bit quantities are two words (hi, lo). No BigInt, no allocation per
// call except when the writer's buffer grows. Layout notes: docs/formats/xor-chunk.md.

/** Initial capacity of a new chunk buffer, as Prometheus's chunkAllocationSize. */
export const INITIAL_CAPACITY = 32;
/** compact() copies only if more than this many bytes would be saved (Prometheus's threshold). */
export const COMPACT_THRESHOLD = 32;

/**
 * Appends bits to a byte buffer. The stream is buf[base, end); the last of its bytes has `free`
 * low-order bits not yet written (0..8), which are always zero. Bytes [end, limit) are room to
 * write into; when a write needs more, grow() makes room (by default a new buffer of double the
 * size; a subclass may move the stream elsewhere, changing buf, base, end and limit).
 *
 * Byte-exactness with Prometheus's bstream: a write of a whole number of bytes (n >= 8, n % 8 == 0)
 * that ends on a byte boundary leaves one extra all-zero byte at the end with free = 8, because
 * Prometheus's writeByte always appends the next byte. Only the state after the last write is
 * visible in bytes(), so the writer applies that rule once per call, on the call's total width.
 */
export class BitWriter {
  buf: Uint8Array;
  /** Index in buf of the stream's first byte. */
  base: number;
  /** Index in buf just after the stream's last byte. */
  end: number;
  /** Index in buf up to which the stream may grow without grow(). */
  limit: number;
  free: number;

  /** A writer whose stream is buf[0, end), with the whole of buf to grow into. */
  constructor(buf: Uint8Array, end: number, free: number) {
    this.buf = buf;
    this.base = 0;
    this.end = end;
    this.limit = buf.length;
    this.free = free;
  }

  /** The written stream, as a view on the buffer (valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(this.base, this.end);
  }

  writeBit(bit: number): void {
    let free = this.free;
    if (free === 0) {
      this.appendZeroByte();
      free = 8;
    }
    free--;
    if (bit !== 0) {
      const i = this.end - 1;
      this.buf[i] = this.buf[i]! | (1 << free);
    }
    this.free = free;
  }

  /** Writes the low n bits of u (n in 1..32), most significant first. */
  writeBits(u: number, n: number): void {
    this.put(u, n);
    if (this.free === 0 && (n & 7) === 0) this.appendZeroByte();
  }

  /** Writes the low n bits (n in 1..64) of the 64-bit value hi:lo, most significant first. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.put(hi, n - 32);
      this.put(lo, 32);
    } else {
      this.put(lo, n);
    }
    if (this.free === 0 && (n & 7) === 0) this.appendZeroByte();
  }

  /**
   * Copies the stream into an exact-size buffer if that saves more than COMPACT_THRESHOLD bytes.
   * For a writer over its own buffer (base 0).
   */
  trim(): void {
    if (this.limit > this.end + COMPACT_THRESHOLD) {
      this.buf = this.buf.slice(0, this.end);
      this.limit = this.end;
    }
  }

  private put(u: number, n: number): void {
    let free = this.free;
    if (n > free) {
      const need = this.end + ((n - free + 7) >> 3);
      if (need > this.limit) this.grow(need);
    }
    const buf = this.buf;
    let end = this.end;
    if (free > 0) {
      // Fill the free low bits of the last byte.
      const take = n < free ? n : free;
      n -= take;
      free -= take;
      buf[end - 1] = buf[end - 1]! | (((u >>> n) & ((1 << take) - 1)) << free);
    }
    while (n >= 8) {
      n -= 8;
      buf[end++] = (u >>> n) & 0xff;
    }
    if (n > 0) {
      free = 8 - n;
      buf[end++] = (u << free) & 0xff;
    }
    this.end = end;
    this.free = free;
  }

  /**
   * Makes room for the stream to reach index `need` (counted from the current base): afterwards
   * end - base is unchanged and limit - base >= need - (old base). This one moves the stream to a
   * new buffer of double the size (at least INITIAL_CAPACITY) at base 0.
   */
  protected grow(need: number): void {
    const len = this.end - this.base;
    const want = need - this.base;
    let cap = Math.max(INITIAL_CAPACITY, (this.limit - this.base) * 2);
    while (cap < want) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(this.base, this.end));
    this.buf = next;
    this.base = 0;
    this.end = len;
    this.limit = cap;
  }

  private appendZeroByte(): void {
    if (this.end === this.limit) this.grow(this.end + 1);
    this.buf[this.end++] = 0;
    this.free = 8;
  }
}

/**
 * Reads bits from buf[start, end). Reading past the end sets the sticky `eof` flag and yields
 * zeros from then on; callers check `eof` once per decoded record rather than after every read.
 * Reads index the bytes directly by bit position (no refill buffer): at most five byte loads per
 * read, no branches on buffer state.
 */
export class BitReader {
  private buf: Uint8Array;
  private pos: number; // absolute bit index of the next unread bit
  private endBit: number;
  private endByte: number;
  eof = false;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.pos = start * 8;
    this.endByte = end;
    this.endBit = end * 8;
  }

  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start * 8;
    this.endByte = end;
    this.endBit = end * 8;
    this.eof = false;
  }

  /** Absolute index in buf of the next unread bit. */
  bitPosition(): number {
    return this.pos;
  }

  readBit(): number {
    const p = this.pos;
    if (p >= this.endBit) return this.hitEnd();
    this.pos = p + 1;
    return (this.buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  /** Reads n bits (n in 1..32) as an unsigned number. */
  readBits(n: number): number {
    const p = this.pos;
    const e = p + n;
    if (e > this.endBit) return this.hitEnd();
    this.pos = e;
    const i = p >>> 3;
    if (i + 4 > this.endByte) return this.readTail(p, n);
    const b = this.buf;
    const off = p & 7;
    const w = (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
    const r = (w << off) >>> (32 - n);
    // Bits reaching into a fifth byte; it exists because e <= endBit.
    return off + n > 32 ? (r | (b[i + 4]! >>> (40 - off - n))) >>> 0 : r;
  }

  /** The last few bytes of the range: bit by bit. */
  private readTail(p: number, n: number): number {
    const b = this.buf;
    let r = 0;
    for (let k = p; k < p + n; k++) r = r * 2 + ((b[k >>> 3]! >>> (7 - (k & 7))) & 1);
    return r;
  }

  private hitEnd(): number {
    this.eof = true;
    this.pos = this.endBit;
    return 0;
  }
}

/** Error codes of readUvarint64. */
export const VARINT_OK = 0;
export const VARINT_EOF = 1;
export const VARINT_OVERFLOW = 2;

/**
 * Reads a Go-style unsigned LEB128 varint of up to 64 bits, byte by byte from the bit stream
 * (which need not be byte aligned). The value is left in out[0] (hi word) and out[1] (lo word).
 * Returns VARINT_OK, VARINT_EOF or VARINT_OVERFLOW (more than 10 bytes, or a 10th byte above 1),
 * as Go's binary.ReadUvarint.
 */
export function readUvarint64(r: BitReader, out: Uint32Array): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0, s = 0; i < 10; i++, s += 7) {
    const b = r.readBits(8);
    if (r.eof) return VARINT_EOF;
    const bits = b & 0x7f;
    if (s < 32) {
      lo = (lo | (bits << s)) >>> 0;
      if (s + 7 > 32) hi = (hi | (bits >>> (32 - s))) >>> 0;
    } else {
      hi = (hi | (bits << (s - 32))) >>> 0;
    }
    if (b < 0x80) {
      if (i === 9 && b > 1) return VARINT_OVERFLOW;
      out[0] = hi;
      out[1] = lo;
      return VARINT_OK;
    }
  }
  return VARINT_OVERFLOW;
}

/** Writes the 64-bit unsigned value hi:lo as a Go-style uvarint, one writeBits(_, 8) per byte. */
export function writeUvarint64(w: BitWriter, hi: number, lo: number): void {
  hi >>>= 0;
  lo >>>= 0;
  while (hi !== 0 || lo >= 0x80) {
    w.writeBits((lo & 0x7f) | 0x80, 8);
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  w.writeBits(lo, 8);
}
