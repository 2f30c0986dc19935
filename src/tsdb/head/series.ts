// One series of the in-memory head: its label set, its closed XOR chunks, the open head chunk,
// and (when the out-of-order window is on) the out-of-order samples waiting beside them.
// Append rules follow Prometheus's head appender; see appendFloat().
import { isDeepStrictEqual } from 'node:util';
import { type XorAppender, XorChunk } from '../chunkenc/index.js';
import { F64, HI, LO, U32 } from '../chunkenc/bits64.js';
import type { Labels } from '../labels/index.js';
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

// Values are compared and kept by bit pattern: V8 may canonicalize NaNs stored in plain arrays and
// double fields, which would turn the stale marker into an ordinary NaN. Float64Arrays keep bits.
function hiOf(v: number): number {
  F64[0] = v;
  return U32[HI] as number;
}

const NO_CHUNKS: XorChunk[] = Object.freeze([]) as unknown as XorChunk[];
const NO_TIMES: number[] = Object.freeze([]) as unknown as number[];

/** A native histogram sample, stored as decoded (histogram chunk encoding comes with blocks). */
export interface HistogramSample {
  t: number;
  /** The histogram as the remote-write decoder gave it. */
  h: unknown;
}

export class MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  /** Closed chunks, oldest first, with their time ranges in parallel arrays. */
  // Shared frozen empties until the first cut: most series of a young head have no closed chunk,
  // and three empty arrays per series cost ~100 bytes each time.
  closed: XorChunk[] = NO_CHUNKS;
  closedMinT: number[] = NO_TIMES;
  closedMaxT: number[] = NO_TIMES;
  head: XorChunk | null = null;
  private app: XorAppender | null = null;
  headMinT = 0;
  private headEnd = 0;
  /** Newest in-order sample. */
  lastT = -Infinity;
  /** Bit pattern of the newest in-order value. */
  private lastVHi = 0;
  private lastVLo = 0;
  /** Out-of-order samples, sorted by time; null until the first one. */
  ooo: SampleBuffer | null = null;
  histograms: HistogramSample[] | null = null;
  /** Wall-clock time of the last accepted append, for garbage collection of idle series. */
  lastAppendAt = 0;

  constructor(ref: number, labels: Labels) {
    this.ref = ref;
    this.labels = labels;
  }

  /**
   * Appends a float sample, following Prometheus's rules. `oooMinT` is the oldest timestamp an
   * out-of-order sample may have (head max time minus the window), or Infinity when out-of-order
   * samples are not accepted.
   */
  appendFloat(t: number, v: number, oooMinT: number, chunkRangeMs: number): AppendCode {
    if (t > this.lastT) {
      this.appendInOrder(t, v, chunkRangeMs);
      return AppendCode.Ok;
    }
    if (t === this.lastT) return hiOf(v) === this.lastVHi && U32[LO] === this.lastVLo ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
    if (oooMinT === Infinity) return AppendCode.OutOfOrder;
    if (t < oooMinT) return AppendCode.TooOld;
    return this.insertOutOfOrder(t, v);
  }

  private appendInOrder(t: number, v: number, chunkRangeMs: number): void {
    if (this.head === null || t >= this.headEnd || this.head.numSamples() >= SAMPLES_PER_CHUNK) this.cut(t, chunkRangeMs);
    (this.app as XorAppender).append(t, v);
    this.lastT = t;
    this.lastVHi = hiOf(v);
    this.lastVLo = U32[LO] as number;
  }

  private cut(t: number, chunkRangeMs: number): void {
    if (this.head !== null) {
      this.head.compact();
      if (this.closed === NO_CHUNKS) {
        this.closed = [];
        this.closedMinT = [];
        this.closedMaxT = [];
      }
      this.closed.push(this.head);
      this.closedMinT.push(this.headMinT);
      this.closedMaxT.push(this.lastT);
    }
    this.head = new XorChunk();
    this.app = this.head.appender();
    this.headMinT = t;
    this.headEnd = rangeEnd(t, chunkRangeMs);
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
    let chunk: XorChunk | null = null;
    if (this.head !== null && t >= this.headMinT) chunk = this.head;
    else {
      for (let i = this.closed.length - 1; i >= 0; i--) {
        if (t >= (this.closedMinT[i] as number) && t <= (this.closedMaxT[i] as number)) {
          chunk = this.closed[i] as XorChunk;
          break;
        }
        if (t > (this.closedMaxT[i] as number)) break;
      }
    }
    if (chunk === null) return undefined;
    const it = chunk.iterator();
    if (!it.seek(t)) return undefined;
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
    if (this.closed.length > 0) m = this.closedMinT[0] as number;
    else if (this.head !== null) m = this.headMinT;
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
    let n = 0;
    while (n < this.closed.length && (this.closedMaxT[n] as number) < mint) n++;
    if (n > 0) {
      this.closed.splice(0, n);
      this.closedMinT.splice(0, n);
      this.closedMaxT.splice(0, n);
    }
    if (this.head !== null && this.closed.length === 0 && this.lastT < mint) {
      this.head = null;
      this.app = null;
      // lastT stays: a sample older than the last one is still out of order
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
    return this.head === null && this.closed.length === 0 && this.ooo === null && this.histograms === null;
  }

  /**
   * The in-order chunks overlapping [mint, maxt]: closed chunks are immutable and shared; the head
   * chunk's bytes are copied, since appends go on changing it.
   */
  chunksIn(mint: number, maxt: number, out: Array<{ minT: number; maxT: number; data: Uint8Array }>): void {
    for (let i = 0; i < this.closed.length; i++) {
      const lo = this.closedMinT[i] as number;
      const hi = this.closedMaxT[i] as number;
      if (hi < mint || lo > maxt) continue;
      out.push({ minT: lo, maxT: hi, data: (this.closed[i] as XorChunk).bytes() });
    }
    if (this.head !== null && this.head.numSamples() > 0 && this.lastT >= mint && this.headMinT <= maxt) {
      out.push({ minT: this.headMinT, maxT: this.lastT, data: this.head.bytes().slice() });
    }
  }

  /** Every float sample in [mint, maxt], in-order and out-of-order merged, in time order. */
  samplesIn(mint: number, maxt: number, out: SampleBuffer): void {
    const o = this.ooo;
    const on = o === null ? 0 : o.length;
    let j = o === null ? 0 : o.lowerBound(mint);
    const scan = (c: XorChunk): void => {
      const it = c.iterator();
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
    for (let i = 0; i < this.closed.length; i++) {
      if ((this.closedMaxT[i] as number) < mint || (this.closedMinT[i] as number) > maxt) continue;
      scan(this.closed[i] as XorChunk);
    }
    if (this.head !== null && this.lastT >= mint && this.headMinT <= maxt) scan(this.head);
    while (o !== null && j < on && (o.t[j] as number) <= maxt) {
      out.push(o.t[j] as number, o.v[j] as number);
      j++;
    }
  }
}

function sameValueBits(a: number, b: number): boolean {
  const ah = hiOf(a);
  const al = U32[LO] as number;
  return hiOf(b) === ah && U32[LO] === al;
}
