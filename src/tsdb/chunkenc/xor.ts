// XOR (Gorilla) chunk for float samples, bit-exact with Prometheus's tsdb/chunkenc XORChunk:
// same bytes for the same appends, including the trailing zero byte Prometheus leaves after a
// write of whole bytes. Layout: docs/formats/xor-chunk.md.
import { F64, HI, LO, U32, ctz32, hiOf, isSafe, isSafeBig, loOf } from './bits64.js';
import { BitWriter, INITIAL_CAPACITY, writeUvarint64 } from './bstream.js';
import { ChunkCorruptError, HEADER_BYTES, XorIterator } from './xor-iterator.js';
import type { ChunkIterator } from './xor-iterator.js';

/** Largest sample count the uint16 header can hold. */
export const MAX_SAMPLES_PER_CHUNK = 0xffff;

/** Appends samples to a chunk. Timestamps are int64 milliseconds as safe-integer numbers. */
export interface XorAppender {
  append(t: number, v: number): void;
}

const UNSET = 0xff; // leading-zeros value meaning "no leading/trailing window yet"

export class XorChunk {
  private w: BitWriter;
  /** False while the buffer is a caller's array (fromBytes): copy before writing into it. */
  private owned: boolean;

  /** An empty chunk, or (with bytes) a chunk over existing encoded bytes, which are not copied. */
  constructor(bytes?: Uint8Array) {
    if (bytes === undefined) {
      this.w = new BitWriter(new Uint8Array(INITIAL_CAPACITY), HEADER_BYTES, 0);
      this.owned = true;
    } else {
      // free is unknown until appender() decodes the chunk.
      this.w = new BitWriter(bytes, bytes.length, 0);
      this.owned = false;
    }
  }

  /** A chunk over existing encoded bytes (not copied; appending copies first). */
  static fromBytes(b: Uint8Array): XorChunk {
    return new XorChunk(b);
  }

  numSamples(): number {
    const w = this.w;
    return w.len < HEADER_BYTES ? 0 : (w.buf[0]! << 8) | w.buf[1]!;
  }

  /** The exact encoded bytes, as a view: valid until the next append or compact(). */
  bytes(): Uint8Array {
    return this.w.bytes();
  }

  get byteLength(): number {
    return this.w.len;
  }

  /** Drops spare capacity (when it exceeds 32 bytes); call when the chunk is cut. */
  compact(): void {
    if (this.owned) this.w.trim();
  }

  /**
   * An iterator over the samples present now; later appends are not seen by it. Pass an iterator
   * from an earlier call to reuse it instead of allocating.
   */
  iterator(reuse?: ChunkIterator): ChunkIterator {
    if (reuse instanceof XorIterator) {
      reuse.reset(this.w.buf, this.w.len);
      return reuse;
    }
    return new XorIterator(this.w.buf, this.w.len);
  }

  /**
   * An appender continuing the chunk. On a non-empty chunk it decodes every sample to rebuild the
   * encoder state, as Prometheus does. Throws ChunkCorruptError if the chunk does not decode.
   * Only one appender may be used on a chunk at a time.
   */
  appender(): XorAppender {
    const w = this.w;
    if (w.len < HEADER_BYTES) throw new ChunkCorruptError(`${w.len} bytes is shorter than the 2-byte header`);
    if (this.numSamples() === 0) {
      this.own(HEADER_BYTES);
      this.w.buf[0] = 0;
      this.w.buf[1] = 0;
      this.w.free = 0;
      return new Appender(this.w);
    }
    const it = new XorIterator(w.buf, w.len);
    while (it.next()) {
      // decode to the end
    }
    const err = it.err();
    if (err !== undefined) throw err;
    // Where the data ends decides how many bits of the last byte are free; Prometheus keeps this
    // count in memory, so a chunk read from bytes must recover it. At most one spare whole byte
    // (free == 8) is kept, as Prometheus's writer leaves; anything beyond it is dropped.
    const end = it.bitPosition();
    const usedBytes = Math.ceil(end / 8);
    const len = Math.min(w.len, (end & 7) === 0 ? usedBytes + 1 : usedBytes);
    this.own(len);
    const free = len * 8 - end;
    if (free > 0 && free < 8) {
      // Prometheus leaves unwritten bits zero; make sure, since appends OR into them.
      const last = len - 1;
      this.w.buf[last] = this.w.buf[last]! & ~((1 << free) - 1) & 0xff;
    } else if (free === 8) {
      this.w.buf[len - 1] = 0;
    }
    this.w.free = free;
    const a = new Appender(this.w);
    a.t = it.t;
    a.vHi = it.vHi;
    a.vLo = it.vLo;
    a.tDelta = it.tDelta;
    a.tDeltaBig = it.tDeltaBig;
    a.leading = it.leading;
    a.trailing = it.trailing;
    return a;
  }

  /** Makes the first len bytes live in a buffer this chunk owns (copying a fromBytes array). */
  private own(len: number): void {
    const w = this.w;
    if (!this.owned) {
      const buf = new Uint8Array(Math.max(INITIAL_CAPACITY, len * 2));
      buf.set(w.buf.subarray(0, Math.min(len, w.len)));
      w.buf = buf;
      this.owned = true;
    }
    w.len = len;
  }
}

class Appender implements XorAppender {
  t = Number.MIN_SAFE_INTEGER;
  vHi = 0;
  vLo = 0;
  /** Delta between the last two timestamps; NaN when beyond 2^53, then tDeltaBig holds it. */
  tDelta = 0;
  tDeltaBig = 0n;
  leading = UNSET;
  trailing = 0;

  constructor(private readonly w: BitWriter) {}

  append(t: number, v: number): void {
    const w = this.w;
    const num = (w.buf[0]! << 8) | w.buf[1]!;
    if (num === MAX_SAMPLES_PER_CHUNK) throw new RangeError(`XOR chunk already holds ${num} samples`);
    if (!Number.isSafeInteger(t)) throw new RangeError(`timestamp ${t} is not a safe integer`);
    F64[0] = v;
    const vHi = U32[HI]! | 0;
    const vLo = U32[LO]! | 0;

    if (num === 0) {
      // Zigzag varint of t, then the 64 value bits.
      const hi = hiOf(t);
      const lo = loOf(t);
      let zHi = (hi << 1) | (lo >>> 31);
      let zLo = lo << 1;
      if (t < 0) {
        zHi = ~zHi;
        zLo = ~zLo;
      }
      writeUvarint64(w, zHi, zLo);
      w.writeBits64(vHi, vLo, 64);
      this.vHi = vHi;
      this.vLo = vLo;
      this.tDelta = 0;
    } else if (num === 1) {
      const d = t - this.t;
      if (isSafe(d)) {
        writeUvarint64(w, hiOf(d), loOf(d));
        this.tDelta = d;
      } else {
        const big = BigInt.asUintN(64, BigInt(t) - BigInt(this.t));
        writeUvarint64(w, Number(big >> 32n), Number(big & 0xffffffffn));
        this.setDeltaBig(BigInt.asIntN(64, big));
      }
      this.writeValue(vHi, vLo, 0, 0);
    } else {
      const d = t - this.t;
      const dod = d - this.tDelta; // NaN if tDelta is NaN
      // The dod's code (prefix + payload) goes out together with the value's control bits.
      let code = 0;
      let codeLen = 0;
      if (isSafe(d) && isSafe(dod)) {
        this.tDelta = d;
        if (dod === 0) {
          codeLen = 1; // '0'
        } else if (dod >= -8191 && dod <= 8192) {
          code = (0b10 << 14) | (dod & 0x3fff);
          codeLen = 16;
        } else if (dod >= -65535 && dod <= 65536) {
          code = (0b110 << 17) | (dod & 0x1ffff);
          codeLen = 20;
        } else if (dod >= -524287 && dod <= 524288) {
          code = (0b1110 << 20) | (dod & 0xfffff);
          codeLen = 24;
        } else {
          w.writeBits(0b1111, 4);
          w.writeBits64(hiOf(dod), loOf(dod), 64);
        }
      } else {
        this.writeDodBig(t);
      }
      this.writeValue(vHi, vLo, code, codeLen);
    }

    this.t = t;
    const n = num + 1;
    w.buf[0] = n >>> 8;
    w.buf[1] = n & 0xff;
  }

  /** Delta-of-delta (here at most 2^53): 0 | 10+14 bits | 110+17 | 1110+20 | 1111+64. */
  private writeDod(dod: number): void {
    const w = this.w;
    if (dod === 0) {
      w.writeBit(0);
    } else if (dod >= -8191 && dod <= 8192) {
      w.writeBits((0b10 << 14) | (dod & 0x3fff), 16);
    } else if (dod >= -65535 && dod <= 65536) {
      w.writeBits((0b110 << 17) | (dod & 0x1ffff), 20);
    } else if (dod >= -524287 && dod <= 524288) {
      w.writeBits((0b1110 << 20) | (dod & 0xfffff), 24);
    } else {
      w.writeBits(0b1111, 4);
      w.writeBits64(hiOf(dod), loOf(dod), 64);
    }
  }

  /** The timestamp arithmetic in int64 (wrapping, as Go) when a delta exceeds 2^53. Rare. */
  private writeDodBig(t: number): void {
    const d = BigInt(t) - BigInt(this.t);
    const prev = this.tDelta !== this.tDelta ? this.tDeltaBig : BigInt(this.tDelta);
    const dod = BigInt.asIntN(64, d - prev);
    if (isSafeBig(dod)) {
      this.writeDod(Number(dod));
    } else {
      const u = BigInt.asUintN(64, dod);
      this.w.writeBits(0b1111, 4);
      this.w.writeBits64(Number(u >> 32n), Number(u & 0xffffffffn), 64);
    }
    this.setDeltaBig(d);
  }

  private setDeltaBig(d: bigint): void {
    if (isSafeBig(d)) {
      this.tDelta = Number(d);
    } else {
      this.tDelta = NaN;
      this.tDeltaBig = d;
    }
  }

  /**
   * The value as XOR with the previous one: 0 | 10+window reuse | 11+leading(5)+sigbits(6)+bits.
   * The first `codeLen` bits of `code` (the timestamp's field, up to 24 bits) are written first,
   * merged with the control bits into one write. Merging never changes the bytes: only a whole-
   * byte write at the end of an append adds Prometheus's spare zero byte, and a merged write is
   * never the end of an append unless its width (codeLen + 1: 1, 2, 17, 21 or 25) is no multiple
   * of 8, which is also the case for Prometheus's separate writes.
   */
  private writeValue(vHi: number, vLo: number, code: number, codeLen: number): void {
    const w = this.w;
    const xHi = vHi ^ this.vHi;
    const xLo = vLo ^ this.vLo;
    this.vHi = vHi;
    this.vLo = vLo;
    if ((xHi | xLo) === 0) {
      w.writeBits(code << 1, codeLen + 1); // '0'
      return;
    }
    let leading = xHi !== 0 ? Math.clz32(xHi) : 32 + Math.clz32(xLo);
    if (leading >= 32) leading = 31; // the 5-bit field cannot hold 32
    const trailing = xLo !== 0 ? ctz32(xLo) : 32 + ctz32(xHi);

    let shift: number;
    let sig: number;
    if (this.leading !== UNSET && leading >= this.leading && trailing >= this.trailing) {
      shift = this.trailing;
      sig = 64 - this.leading - shift;
      w.writeBits((code << 2) | 0b10, codeLen + 2);
    } else {
      this.leading = leading;
      this.trailing = trailing;
      shift = trailing;
      sig = 64 - leading - trailing;
      // 64 significant bits are written as 0 in the 6-bit field.
      const head = (0b11 << 11) | (leading << 6) | (sig & 63);
      if (codeLen <= 19) {
        w.writeBits((code << 13) | head, codeLen + 13);
      } else {
        w.writeBits(code, codeLen);
        w.writeBits(head, 13);
      }
    }
    let hi = xHi;
    let lo = xLo;
    if (shift >= 32) {
      lo = hi >>> (shift - 32);
      hi = 0;
    } else if (shift > 0) {
      lo = (lo >>> shift) | (hi << (32 - shift));
      hi >>>= shift;
    }
    w.writeBits64(hi, lo, sig);
  }
}
