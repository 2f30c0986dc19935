// The XOR (Gorilla) encoder, bit-exact with Prometheus's tsdb/chunkenc xorAppender. It writes
// through a BitWriter, so the same code appends to an XorChunk's own buffer and to a chunk placed
// in a shared slab (src/tsdb/head/head-chunks.ts). Layout: docs/formats/xor-chunk.md.
import { F64, HI, LO, U32, ctz32, hiOf, isSafe, isSafeBig, loOf } from './bits64.js';
import { type BitWriter, writeUvarint64 } from './bstream.js';

/** Largest sample count the uint16 header can hold. */
export const MAX_SAMPLES_PER_CHUNK = 0xffff;

/** Value of XorEncoder.leading meaning "no leading/trailing window yet". */
export const UNSET_LEADING = 0xff;

/** Appends samples to a chunk. Timestamps are int64 milliseconds as safe-integer numbers. */
export interface XorAppender {
  append(t: number, v: number): void;
}

/**
 * The XOR encoder: appends samples to the chunk whose stream a BitWriter holds (the 2-byte header
 * at w.base, the sample count in it). Its state is public so that a holder of many chunks can
 * keep it elsewhere between appends (see src/tsdb/head/head-chunks.ts) and load it into one
 * shared encoder for each append; XorChunk keeps one encoder per appender.
 */
export class XorEncoder implements XorAppender {
  t = Number.MIN_SAFE_INTEGER;
  vHi = 0;
  vLo = 0;
  /** Delta between the last two timestamps; NaN when beyond 2^53, then tDeltaBig holds it. */
  tDelta = 0;
  tDeltaBig = 0n;
  /** Leading zeros of the current XOR window, or UNSET_LEADING before the first window. */
  leading = UNSET_LEADING;
  trailing = 0;

  constructor(readonly w: BitWriter) {}

  /** Forgets the previous sample: the next append starts a chunk (its count must be 0). */
  resetState(): void {
    this.t = Number.MIN_SAFE_INTEGER;
    this.vHi = 0;
    this.vLo = 0;
    this.tDelta = 0;
    this.tDeltaBig = 0n;
    this.leading = UNSET_LEADING;
    this.trailing = 0;
  }

  append(t: number, v: number): void {
    const w = this.w;
    const num = (w.buf[w.base]! << 8) | w.buf[w.base + 1]!;
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
    // w.base may have moved while writing (a writer that relocates the stream to grow it)
    w.buf[w.base] = n >>> 8;
    w.buf[w.base + 1] = n & 0xff;
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
    if (this.leading !== UNSET_LEADING && leading >= this.leading && trailing >= this.trailing) {
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
