// Decoder for XOR (Gorilla) chunks, bit-exact with Prometheus's tsdb/chunkenc xorIterator.
// Layout: docs/formats/xor-chunk.md. Errors are sticky: a short or corrupt chunk makes next()
// return false and err() report why; nothing throws and no call loops (at most 65535 samples).
import { MuninnError } from '../../errors/index.js';
import { F64, HI, LO, U32, int64ToBig, int64ToNumber, isSafe, isSafeBig } from './bits64.js';
import { BitReader, VARINT_EOF, VARINT_OK, readUvarint64 } from './bstream.js';

/** Size of the chunk header: the sample count as a big-endian uint16. */
export const HEADER_BYTES = 2;

/** Reads the samples of a chunk in order. Reuses its own fields: no allocation per sample. */
export interface ChunkIterator {
  /** Advances to the next sample; false when exhausted or on error (then see err()). */
  next(): boolean;
  /**
   * Advances to the first sample with timestamp >= t. If the current sample already qualifies,
   * does nothing (never moves backwards). False when no such sample exists or on error.
   */
  seek(t: number): boolean;
  /** Timestamp (int64 milliseconds) of the current sample. Unspecified before next()/seek(). */
  readonly t: number;
  /** Value of the current sample (exact float64 bit pattern, NaN payloads included). */
  readonly v: number;
  /** The sticky decoding error, if any. Check it once after next()/seek() returned false. */
  err(): Error | undefined;
}

/** A chunk's bytes do not decode: truncated, corrupted, or beyond what a JS number can hold. */
export class ChunkCorruptError extends MuninnError {
  constructor(message: string) {
    super('internal', `corrupt XOR chunk: ${message}`);
    this.name = 'ChunkCorruptError';
  }
}

// Varint results land here; decoding a varint happens at most twice per chunk.
const varintOut = new Uint32Array(2);

/** Sign-extends a dod bucket read as sz unsigned bits; values above 2^(sz-1) are negative. */
function bucketValue(bits: number, sz: number): number {
  return bits > 1 << (sz - 1) ? bits - (1 << sz) : bits;
}

export class XorIterator implements ChunkIterator {
  t = Number.MIN_SAFE_INTEGER;
  v = 0;

  // Decoder state; XorChunk.appender() copies it to continue a chunk read from bytes.
  /** @internal */ vHi = 0;
  /** @internal */ vLo = 0;
  /** @internal Delta between the last two timestamps; NaN when it lies beyond 2^53 (see tDeltaBig). */
  tDelta = 0;
  /** @internal */ tDeltaBig = 0n;
  /** @internal */ leading = 0;
  /** @internal */ trailing = 0;
  /** @internal */ numRead = 0;
  /** @internal */ numTotal = 0;

  private readonly r: BitReader;
  private error: Error | undefined = undefined;

  constructor(buf: Uint8Array, len: number) {
    this.r = new BitReader(buf, HEADER_BYTES, len);
    this.init(buf, 0, len);
  }

  /** Points the iterator at another chunk's bytes, as new. */
  reset(buf: Uint8Array, len: number): void {
    this.r.reset(buf, HEADER_BYTES, len);
    this.init(buf, 0, len);
  }

  /** Points the iterator at the chunk in buf[start, end) (a chunk inside a larger buffer), as new. */
  resetAt(buf: Uint8Array, start: number, end: number): void {
    this.r.reset(buf, start + HEADER_BYTES, end);
    this.init(buf, start, end);
  }

  private init(buf: Uint8Array, start: number, end: number): void {
    this.t = Number.MIN_SAFE_INTEGER;
    this.v = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.tDelta = 0;
    this.tDeltaBig = 0n;
    this.leading = 0;
    this.trailing = 0;
    this.numRead = 0;
    this.error = undefined;
    const len = end - start;
    if (len < HEADER_BYTES || buf.length < end) {
      this.numTotal = 0;
      this.error = new ChunkCorruptError(`${len} bytes is shorter than the 2-byte header`);
    } else {
      this.numTotal = (buf[start]! << 8) | buf[start + 1]!;
    }
  }

  err(): Error | undefined {
    return this.error;
  }

  /** @internal Bit index in buf of the end of the decoded data (valid once exhausted). */
  bitPosition(): number {
    return this.r.bitPosition();
  }

  seek(t: number): boolean {
    if (this.error !== undefined) return false;
    while (t > this.t || this.numRead === 0) {
      if (!this.next()) return false;
    }
    return true;
  }

  next(): boolean {
    if (this.error !== undefined || this.numRead >= this.numTotal) return false;
    if (this.numRead === 0) return this.readFirst();
    if (this.numRead === 1) return this.readSecond();

    const r = this.r;
    let dod = 0;
    if (r.readBit() !== 0) {
      if (r.readBit() === 0) {
        dod = bucketValue(r.readBits(14), 14);
      } else if (r.readBit() === 0) {
        dod = bucketValue(r.readBits(17), 17);
      } else if (r.readBit() === 0) {
        dod = bucketValue(r.readBits(20), 20);
      } else {
        const hi = r.readBits(32);
        const lo = r.readBits(32);
        dod = int64ToNumber(hi, lo);
        if (dod !== dod) {
          if (r.eof) return this.fail('unexpected end of data');
          if (!this.advanceBig(int64ToBig(hi, lo))) return false;
          return this.readValue();
        }
      }
    }
    const tDelta = this.tDelta + dod;
    const t = this.t + tDelta;
    if (isSafe(tDelta) && isSafe(t)) {
      this.tDelta = tDelta;
      this.t = t;
    } else {
      if (r.eof) return this.fail('unexpected end of data');
      if (!this.advanceBig(BigInt(dod))) return false;
    }
    return this.readValue();
  }

  private readFirst(): boolean {
    const r = this.r;
    const st = readUvarint64(r, varintOut);
    if (st !== VARINT_OK) {
      return this.fail(st === VARINT_EOF ? 'unexpected end of data' : 'first timestamp varint overflows 64 bits');
    }
    // Zigzag: x = (u >>> 1) ^ -(u & 1).
    const uHi = varintOut[0]!;
    const uLo = varintOut[1]!;
    let hi = uHi >>> 1;
    let lo = (uLo >>> 1) | (uHi << 31);
    if ((uLo & 1) !== 0) {
      hi = ~hi;
      lo = ~lo;
    }
    const t = int64ToNumber(hi, lo);
    if (t !== t) return this.fail(`timestamp ${int64ToBig(hi, lo)} is outside the safe integer range`);
    this.vHi = r.readBits(32) | 0;
    this.vLo = r.readBits(32) | 0;
    if (r.eof) return this.fail('unexpected end of data');
    this.t = t;
    this.tDelta = 0;
    return this.emit();
  }

  private readSecond(): boolean {
    const st = readUvarint64(this.r, varintOut);
    if (st !== VARINT_OK) {
      return this.fail(st === VARINT_EOF ? 'unexpected end of data' : 'second timestamp delta overflows 64 bits');
    }
    const hi = varintOut[0]!;
    const lo = varintOut[1]!;
    const tDelta = int64ToNumber(hi, lo);
    const t = this.t + tDelta;
    if (isSafe(tDelta) && isSafe(t)) {
      this.tDelta = tDelta;
      this.t = t;
    } else if (!this.advanceBig(int64ToBig(hi, lo))) {
      return false; // tDelta is still 0 here, so advanceBig adds the delta itself
    }
    return this.readValue();
  }

  /** Timestamp arithmetic in int64 (wrapping, as Go) for deltas beyond 2^53. Rare. */
  private advanceBig(dod: bigint): boolean {
    const prev = this.tDelta !== this.tDelta ? this.tDeltaBig : BigInt(this.tDelta);
    const tDelta = BigInt.asIntN(64, prev + dod);
    const t = BigInt.asIntN(64, BigInt(this.t) + tDelta);
    if (!isSafeBig(t)) return this.fail(`timestamp ${t} is outside the safe integer range`);
    this.t = Number(t);
    if (isSafeBig(tDelta)) {
      this.tDelta = Number(tDelta);
    } else {
      this.tDelta = NaN;
      this.tDeltaBig = tDelta;
    }
    return true;
  }

  private readValue(): boolean {
    const r = this.r;
    if (r.readBit() !== 0) {
      let leading = this.leading;
      let trailing = this.trailing;
      if (r.readBit() !== 0) {
        leading = r.readBits(5);
        let sig = r.readBits(6);
        if (sig === 0) sig = 64; // 64 significant bits do not fit in 6 bits and are written as 0
        if (leading + sig > 64) {
          return this.fail(r.eof ? 'unexpected end of data' : `${leading} leading zeros with ${sig} significant bits`);
        }
        trailing = 64 - leading - sig;
        this.leading = leading;
        this.trailing = trailing;
      }
      const sig = 64 - leading - trailing;
      let hi = 0;
      let lo: number;
      if (sig > 32) {
        hi = r.readBits(sig - 32);
        lo = r.readBits(32);
      } else {
        lo = r.readBits(sig);
      }
      if (trailing >= 32) {
        hi = lo << (trailing - 32);
        lo = 0;
      } else if (trailing > 0) {
        hi = (hi << trailing) | (lo >>> (32 - trailing));
        lo <<= trailing;
      }
      this.vHi ^= hi;
      this.vLo ^= lo;
    }
    if (r.eof) return this.fail('unexpected end of data');
    return this.emit();
  }

  private emit(): boolean {
    U32[HI] = this.vHi;
    U32[LO] = this.vLo;
    this.v = F64[0]!;
    this.numRead++;
    return true;
  }

  private fail(message: string): false {
    this.error = new ChunkCorruptError(`sample ${this.numRead} of ${this.numTotal}: ${message}`);
    return false;
  }
}
