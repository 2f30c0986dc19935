// One series of the in-memory head: its label set, its closed XOR chunks, the open head chunk,
// and (when the out-of-order window is on) the out-of-order samples waiting beside them. The
// chunks' bytes and the series' numeric state are kept by the head's HeadChunks (head-chunks.ts),
// so that a series costs one small object. Append rules follow Prometheus's head appender; see
// appendFloat().
import { isDeepStrictEqual } from 'node:util';
import type { ChunkIterator } from '../chunkenc/index.js';
import { F64, HI, LO, U32 } from '../chunkenc/bits64.js';
import type { Labels } from '../labels/index.js';
import { type HeadChunks, spanLen } from './head-chunks.js';
import { SampleBuffer } from './sample-buffer.js';

/** Samples per chunk before a new one is cut (Prometheus's target). */
export const SAMPLES_PER_CHUNK = 120;

/** The outcome of appending one sample; numbers, so the hot path allocates nothing. */
export const enum AppendCode {
  Ok = 0,
  /** Same timestamp and same value (bit for bit) as the last sample: accepted silently, not stored again. */
  Duplicate = 1,
  /** Accepted into the out-of-order buffer. */
  OkOutOfOrder = 2,
  /** Same timestamp, different value. */
  NewValueForTimestamp = 3,
  /** Older than the series' newest sample, and out-of-order samples are not accepted. */
  OutOfOrder = 4,
  /** Older than the out-of-order window allows. */
  TooOld = 5,
  /** Too far behind the head's newest sample for an in-order append (decided by the head). */
  OutOfBoundsCode = 6,
}

/** Start of the next chunk range after t (ranges aligned to multiples of rangeMs). */
export function rangeEnd(t: number, rangeMs: number): number {
  return (Math.floor(t / rangeMs) + 1) * rangeMs;
}

/** A native histogram sample, stored as decoded (histogram chunk encoding comes with blocks). */
export interface HistogramSample {
  t: number;
  /** The histogram as the remote-write decoder gave it. */
  h: unknown;
}

/**
 * A series' in-memory data. Its numbers (newest sample, encoder state, head chunk address) live in
 * the head's HeadChunks columns under the series' slot, and its chunk bytes in the head's arena;
 * the object itself holds only references. Values are compared and kept by bit pattern: V8 may
 * canonicalize NaNs held in plain numbers, so the stale marker is compared as two 32-bit words.
 */
export class MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  private readonly hc: HeadChunks;
  /** The series' slot in hc; -1 once released. */
  private slot: number;
  /**
   * Closed chunks, oldest first, as triples (span, minT, maxT) in an exact-size array of doubles;
   * null until the first cut. A span is the chunk's place in the arena (see head-chunks.ts).
   */
  private chunks: number[] | null = null;
  /** Out-of-order samples, sorted by time; null until the first one. */
  ooo: SampleBuffer | null = null;
  histograms: HistogramSample[] | null = null;

  constructor(ref: number, labels: Labels, hc: HeadChunks) {
    this.ref = ref;
    this.labels = labels;
    this.hc = hc;
    this.slot = hc.addSeries();
  }

  /** Newest in-order sample time (-Infinity before the first). */
  get lastT(): number {
    return this.slot < 0 ? -Infinity : (this.hc.lastT[this.slot] as number);
  }

  /** Wall-clock time of the last accepted append, for garbage collection of idle series. */
  get lastAppendAt(): number {
    return this.slot < 0 ? 0 : (this.hc.lastAppendAt[this.slot] as number);
  }

  set lastAppendAt(now: number) {
    if (this.slot >= 0) this.hc.lastAppendAt[this.slot] = now;
  }

  /** Number of closed (cut) chunks. */
  get closedCount(): number {
    return this.chunks === null ? 0 : this.chunks.length / 3;
  }

  /** Whether the series has an open head chunk. */
  get hasHeadChunk(): boolean {
    return this.slot >= 0 && this.hc.hasHead(this.slot);
  }

  /** Closed chunks plus the head chunk. */
  chunkCount(): number {
    return this.closedCount + (this.hasHeadChunk ? 1 : 0);
  }

  /** Encoded bytes of all chunks (closed and head). */
  chunkBytes(): number {
    if (this.slot < 0) return 0;
    let n = this.hc.headBytes(this.slot);
    const c = this.chunks;
    if (c !== null) for (let i = 0; i < c.length; i += 3) n += spanLen(c[i] as number);
    return n;
  }

  /**
   * Appends a float sample, following Prometheus's rules. `oooMinT` is the oldest timestamp an
   * out-of-order sample may have (head max time minus the window), or Infinity when out-of-order
   * samples are not accepted. Throws RangeError for a timestamp that is no safe integer.
   */
  appendFloat(t: number, v: number, oooMinT: number, chunkRangeMs: number): AppendCode {
    const hc = this.hc;
    const s = this.slot;
    const lastT = hc.lastT[s] as number;
    if (t > lastT) {
      this.appendInOrder(t, v, chunkRangeMs);
      return AppendCode.Ok;
    }
    if (t === lastT) {
      F64[0] = v;
      return (U32[HI]! | 0) === hc.vHi[s] && (U32[LO]! | 0) === hc.vLo[s] ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
    }
    if (oooMinT === Infinity) return AppendCode.OutOfOrder;
    if (t < oooMinT) return AppendCode.TooOld;
    return this.insertOutOfOrder(t, v);
  }

  private appendInOrder(t: number, v: number, chunkRangeMs: number): void {
    const hc = this.hc;
    const s = this.slot;
    if (!Number.isSafeInteger(t)) throw new RangeError(`timestamp ${t} is not a safe integer`);
    if (!hc.hasHead(s) || t >= rangeEnd(hc.headMinT[s] as number, chunkRangeMs) || hc.headSamples(s) >= SAMPLES_PER_CHUNK) this.cut(t);
    hc.append(s, t, v);
  }

  private cut(t: number): void {
    const hc = this.hc;
    const s = this.slot;
    if (hc.hasHead(s)) {
      const minT = hc.headMinT[s] as number;
      const maxT = hc.lastT[s] as number;
      this.chunks = withChunk(this.chunks, hc.closeHead(s), minT, maxT);
    }
    hc.openHead(s, t);
  }

  private insertOutOfOrder(t: number, v: number): AppendCode {
    const ooo = (this.ooo ??= new SampleBuffer(4));
    const at = ooo.lowerBound(t);
    if (at < ooo.length && ooo.t[at] === t) {
      return sameValueBits(ooo.v[at] as number, v) ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
    }
    // an out-of-order sample may still repeat one of the in-order chunks' samples
    const existing = this.inOrderValueAt(t);
    if (existing !== undefined) return sameValueBits(existing, v) ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
    ooo.insertAt(at, t, v);
    return AppendCode.OkOutOfOrder;
  }

  /** The in-order sample at exactly t, if any (decodes one chunk). */
  private inOrderValueAt(t: number): number | undefined {
    const hc = this.hc;
    const s = this.slot;
    let it: ChunkIterator | null = null;
    if (hc.hasHead(s) && t >= (hc.headMinT[s] as number)) {
      it = hc.iterHead(s);
    } else if (this.chunks !== null) {
      const c = this.chunks;
      for (let i = c.length - 3; i >= 0; i -= 3) {
        if (t >= (c[i + 1] as number) && t <= (c[i + 2] as number)) {
          it = hc.iterClosed(c[i] as number);
          break;
        }
        if (t > (c[i + 2] as number)) break;
      }
    }
    if (it === null || !it.seek(t)) return undefined;
    return it.t === t ? it.v : undefined;
  }

  /**
   * Appends a native histogram sample: in order only; the same timestamp is a silent duplicate
   * only when the histogram is the same (as Prometheus compares with Histogram.Equals).
   */
  appendHistogram(t: number, h: unknown): AppendCode {
    const hs = (this.histograms ??= []);
    const last = hs[hs.length - 1];
    if (last !== undefined) {
      if (t === last.t) return isDeepStrictEqual(last.h, h) ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
      if (t < last.t) return AppendCode.OutOfOrder;
    }
    hs.push({ t, h });
    return AppendCode.Ok;
  }

  /** Oldest timestamp held, or Infinity when empty. */
  minTime(): number {
    let m = Infinity;
    if (this.chunks !== null) m = this.chunks[1] as number;
    else if (this.hasHeadChunk) m = this.hc.headMinT[this.slot] as number;
    if (this.ooo !== null && this.ooo.length > 0) m = Math.min(m, this.ooo.t[0] as number);
    if (this.histograms !== null && this.histograms.length > 0) m = Math.min(m, (this.histograms[0] as HistogramSample).t);
    return m;
  }

  maxTime(): number {
    let m = this.lastT;
    if (this.ooo !== null && this.ooo.length > 0) m = Math.max(m, this.ooo.t[this.ooo.length - 1] as number);
    if (this.histograms !== null && this.histograms.length > 0) m = Math.max(m, (this.histograms[this.histograms.length - 1] as HistogramSample).t);
    return m;
  }

  /** Drops data older than mint: whole closed chunks, out-of-order samples, histograms. */
  truncateBefore(mint: number): void {
    if (this.slot < 0) return;
    const hc = this.hc;
    const c = this.chunks;
    if (c !== null) {
      let n = 0;
      while (n < c.length && (c[n + 2] as number) < mint) {
        hc.freeClosed(c[n] as number);
        n += 3;
      }
      if (n > 0) this.chunks = n === c.length ? null : c.slice(n);
    }
    if (this.chunks === null && hc.hasHead(this.slot) && (hc.lastT[this.slot] as number) < mint) {
      hc.dropHead(this.slot); // lastT stays: a sample older than the last one is still out of order
    }
    if (this.ooo !== null) {
      this.ooo.dropBefore(mint);
      if (this.ooo.length === 0) this.ooo = null;
    }
    if (this.histograms !== null) {
      let k = 0;
      while (k < this.histograms.length && (this.histograms[k] as HistogramSample).t < mint) k++;
      if (k > 0) this.histograms.splice(0, k);
      if (this.histograms.length === 0) this.histograms = null;
    }
  }

  isEmpty(): boolean {
    return !this.hasHeadChunk && this.chunks === null && this.ooo === null && this.histograms === null;
  }

  /**
   * Frees the series' chunks and slot, when the head removes it. The object stays safe to read
   * (a query may still hold it): it reads as empty. It must not be appended to.
   */
  release(): void {
    if (this.slot < 0) return;
    const c = this.chunks;
    if (c !== null) for (let i = 0; i < c.length; i += 3) this.hc.freeClosed(c[i] as number);
    this.hc.removeSeries(this.slot);
    this.slot = -1;
    this.chunks = null;
    this.ooo = null;
    this.histograms = null;
  }

  /**
   * The in-order chunks overlapping [mint, maxt]: closed chunks as views of their (immutable)
   * bytes; the head chunk's bytes copied, since appends go on changing them.
   */
  chunksIn(mint: number, maxt: number, out: Array<{ minT: number; maxT: number; data: Uint8Array }>): void {
    if (this.slot < 0) return;
    const hc = this.hc;
    const c = this.chunks;
    if (c !== null) {
      for (let i = 0; i < c.length; i += 3) {
        const lo = c[i + 1] as number;
        const hi = c[i + 2] as number;
        if (hi < mint || lo > maxt) continue;
        out.push({ minT: lo, maxT: hi, data: hc.closedView(c[i] as number) });
      }
    }
    const s = this.slot;
    const lastT = hc.lastT[s] as number;
    const headMinT = hc.headMinT[s] as number;
    if (hc.headSamples(s) > 0 && lastT >= mint && headMinT <= maxt) {
      out.push({ minT: headMinT, maxT: lastT, data: hc.headView(s).slice() });
    }
  }

  /** Every float sample in [mint, maxt], in-order and out-of-order merged, in time order. */
  samplesIn(mint: number, maxt: number, out: SampleBuffer): void {
    if (this.slot < 0) return;
    const hc = this.hc;
    const o = this.ooo;
    const on = o === null ? 0 : o.length;
    let j = o === null ? 0 : o.lowerBound(mint);
    const scan = (it: ChunkIterator): void => {
      if (!it.seek(mint)) return;
      do {
        const t = it.t;
        if (t > maxt) return;
        while (o !== null && j < on && (o.t[j] as number) < t) {
          out.push(o.t[j] as number, o.v[j] as number);
          j++;
        }
        out.push(t, it.v);
      } while (it.next());
    };
    const c = this.chunks;
    if (c !== null) {
      for (let i = 0; i < c.length; i += 3) {
        if ((c[i + 2] as number) < mint || (c[i + 1] as number) > maxt) continue;
        scan(hc.iterClosed(c[i] as number));
      }
    }
    const s = this.slot;
    if (hc.hasHead(s) && (hc.lastT[s] as number) >= mint && (hc.headMinT[s] as number) <= maxt) scan(hc.iterHead(s));
    while (o !== null && j < on && (o.t[j] as number) <= maxt) {
      out.push(o.t[j] as number, o.v[j] as number);
      j++;
    }
  }
}

/** chunks with the triple (span, minT, maxT) added, as a new exact-size array. */
function withChunk(chunks: number[] | null, span: number, minT: number, maxT: number): number[] {
  const n = chunks === null ? 0 : chunks.length;
  const out = new Array<number>(n + 3);
  for (let i = 0; i < n; i++) out[i] = (chunks as number[])[i] as number;
  out[n] = span;
  out[n + 1] = minT;
  out[n + 2] = maxT;
  return out;
}

function sameValueBits(a: number, b: number): boolean {
  F64[0] = a;
  const ah = U32[HI];
  const al = U32[LO];
  F64[0] = b;
  return U32[HI] === ah && U32[LO] === al;
}
