// XOR (Gorilla) chunk for float samples, bit-exact with Prometheus's tsdb/chunkenc XORChunk:
// same bytes for the same appends, including the trailing zero byte Prometheus leaves after a
// write of whole bytes. Layout: docs/formats/xor-chunk.md. The encoder is xor-encoder.ts.
import { BitWriter, INITIAL_CAPACITY } from './bstream.js';
import { type XorAppender, XorEncoder } from './xor-encoder.js';
import { ChunkCorruptError, HEADER_BYTES, XorIterator } from './xor-iterator.js';
import type { ChunkIterator } from './xor-iterator.js';

export { MAX_SAMPLES_PER_CHUNK } from './xor-encoder.js';
export type { XorAppender } from './xor-encoder.js';

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
    return w.end < HEADER_BYTES ? 0 : (w.buf[0]! << 8) | w.buf[1]!;
  }

  /** The exact encoded bytes, as a view: valid until the next append or compact(). */
  bytes(): Uint8Array {
    return this.w.bytes();
  }

  get byteLength(): number {
    return this.w.end;
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
      reuse.reset(this.w.buf, this.w.end);
      return reuse;
    }
    return new XorIterator(this.w.buf, this.w.end);
  }

  /**
   * An appender continuing the chunk. On a non-empty chunk it decodes every sample to rebuild the
   * encoder state, as Prometheus does. Throws ChunkCorruptError if the chunk does not decode.
   * Only one appender may be used on a chunk at a time.
   */
  appender(): XorAppender {
    const w = this.w;
    if (w.end < HEADER_BYTES) throw new ChunkCorruptError(`${w.end} bytes is shorter than the 2-byte header`);
    if (this.numSamples() === 0) {
      this.own(HEADER_BYTES);
      this.w.buf[0] = 0;
      this.w.buf[1] = 0;
      this.w.free = 0;
      return new XorEncoder(this.w);
    }
    const it = new XorIterator(w.buf, w.end);
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
    const len = Math.min(w.end, (end & 7) === 0 ? usedBytes + 1 : usedBytes);
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
    const a = new XorEncoder(this.w);
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
      buf.set(w.buf.subarray(0, Math.min(len, w.end)));
      w.buf = buf;
      w.limit = buf.length;
      this.owned = true;
    }
    w.end = len;
  }
}
