// Emulates how a Prometheus TSDB head stores float histograms, to give each loaded histogram
// the counter-reset hint Prometheus's storage would return for it (the promqltest files are run
// against a real TSDB, and several tests depend on those hints):
//
// - A new chunk starts when the previous sample was not a histogram, on a counter reset (a count
//   or bucket going down, an explicit `counter_reset_hint:reset`), on a schema or zero-threshold
//   change, when gauge and counter histograms alternate, after a stale marker, at a 24h boundary
//   (the test storage's block range), and when the chunk exceeds 1920 bytes with >= 10 samples.
// - Read back, the first histogram of a chunk has hint "unknown", later ones "not_reset" (counter
//   chunks), and every histogram of a gauge chunk "gauge".
//
// The chunk size is estimated by counting the bits of Prometheus's float-histogram chunk encoding
// (XOR per field, varbit timestamps) over the chunk's merged bucket layout.
import type { FloatHistogram } from '../value.js';
import { CUSTOM_BUCKETS_SCHEMA, HINT_GAUGE, HINT_NOT_RESET, HINT_RESET, HINT_UNKNOWN, bucketEntries } from './hist.js';

const CHUNK_RANGE_MS = 24 * 3600 * 1000;
const TARGET_BYTES = 120 * 16;
const MIN_SAMPLES_PER_HISTOGRAM_CHUNK = 10;

interface ChunkSample {
  t: number;
  h: FloatHistogram | null; // null: a stale marker
}

export class HistogramChunkState {
  #open = false; // the series' last sample is in an open histogram chunk
  #gauge = false;
  #nextAt = 0;
  #samples: ChunkSample[] = [];
  #pos = new Set<number>();
  #neg = new Set<number>();
  #last: FloatHistogram | null = null;
  #lastStale = false;

  /** A float sample was appended (not a stale marker following a histogram): the chunk ends. */
  floatAppended(): void {
    this.#open = false;
  }

  /** Whether a stale marker at this point is stored as a histogram stale marker (in Prometheus). */
  get lastWasHistogram(): boolean {
    return this.#open && !this.#lastStale;
  }

  /** A stale marker after a histogram: Prometheus appends it to the histogram chunk. */
  staleAppended(t: number): void {
    if (!this.#open) return;
    if (this.#gauge) {
      this.#startChunk(t, false);
      this.#gauge = false;
    }
    this.#samples.push({ t, h: null });
    this.#lastStale = true;
  }

  /** Returns the counter-reset hint Prometheus would read back for this histogram. */
  appendHistogram(t: number, h: FloatHistogram): number {
    const gauge = h.counterResetHint === HINT_GAUGE;
    let cut = !this.#open;
    if (!cut && this.#bytes() > TARGET_BYTES && this.#samples.length >= MIN_SAMPLES_PER_HISTOGRAM_CHUNK) cut = true;
    if (!cut && t >= this.#nextAt) cut = true;
    if (!cut) {
      const ok = gauge ? this.#appendableGauge(h) : this.#appendableCounter(h);
      cut = !ok;
    }
    if (cut) {
      this.#startChunk(t, gauge);
      this.#add(t, h);
      return gauge ? HINT_GAUGE : HINT_UNKNOWN;
    }
    this.#add(t, h);
    return gauge ? HINT_GAUGE : HINT_NOT_RESET;
  }

  #startChunk(t: number, gauge: boolean): void {
    this.#open = true;
    this.#gauge = gauge;
    this.#nextAt = (Math.floor(t / CHUNK_RANGE_MS) + 1) * CHUNK_RANGE_MS;
    this.#samples = [];
    this.#pos = new Set();
    this.#neg = new Set();
    this.#last = null;
    this.#lastStale = false;
  }

  #add(t: number, h: FloatHistogram): void {
    this.#samples.push({ t, h });
    for (const [idx] of bucketEntries(h.positiveSpans, h.positiveBuckets)) this.#pos.add(idx);
    for (const [idx] of bucketEntries(h.negativeSpans, h.negativeBuckets)) this.#neg.add(idx);
    this.#last = h;
    this.#lastStale = false;
  }

  /** Prometheus FloatHistogramAppender.appendable: false on a counter reset or an incompatible layout. */
  #appendableCounter(h: FloatHistogram): boolean {
    if (this.#gauge) return false;
    if (h.counterResetHint === HINT_RESET) return false;
    if (this.#lastStale) return false;
    const last = this.#last;
    if (last === null) return false;
    if (h.count < last.count) return false;
    if (h.schema !== last.schema || h.zeroThreshold !== last.zeroThreshold) return false;
    if (h.schema === CUSTOM_BUCKETS_SCHEMA && !sameValues(h.customValues, last.customValues)) return false;
    if (h.zeroCount < last.zeroCount) return false;
    return !bucketsDecreased(last, h);
  }

  #appendableGauge(h: FloatHistogram): boolean {
    if (!this.#gauge || this.#lastStale) return false;
    const last = this.#last;
    if (last === null) return false;
    if (h.schema !== last.schema || h.zeroThreshold !== last.zeroThreshold) return false;
    return h.schema !== CUSTOM_BUCKETS_SCHEMA || sameValues(h.customValues, last.customValues);
  }

  /** Estimated encoded size of the open chunk in bytes. */
  #bytes(): number {
    const pos = [...this.#pos].sort((a, b) => a - b);
    const neg = [...this.#neg].sort((a, b) => a - b);
    const first = this.#samples.find((s) => s.h !== null)?.h ?? null;
    let bits = 0;
    // layout: zero threshold, schema, spans (approximate: one span per run), custom values
    if (first !== null) {
      bits += first.zeroThreshold === 0 ? 8 : 72;
      bits += varbitIntBits(first.schema);
      bits += layoutBits(pos) + layoutBits(neg);
      if (first.schema === CUSTOM_BUCKETS_SCHEMA) bits += 8 + 64 * first.customValues.length;
    }
    const fields = 3 + pos.length + neg.length;
    const prev = new Float64Array(fields);
    const leading = new Uint8Array(fields).fill(0xff);
    const trailing = new Uint8Array(fields);
    const cur = new Float64Array(fields);
    let prevT = 0;
    let prevDelta = 0;
    this.#samples.forEach((s, i) => {
      fill(cur, s.h, pos, neg);
      if (i === 0) {
        bits += varintBytes(s.t) * 8 + 64 * fields;
      } else {
        const delta = s.t - prevT;
        bits += varbitIntBits(i === 1 ? delta : delta - prevDelta);
        prevDelta = delta;
        for (let f = 0; f < fields; f++) bits += xorBits(cur[f] as number, prev[f] as number, leading, trailing, f);
      }
      prev.set(cur);
      prevT = s.t;
    });
    return 3 + Math.ceil(bits / 8);
  }
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Whether any bucket of `prev` holds more than the same bucket of `next` (absent = 0). */
function bucketsDecreased(prev: FloatHistogram, next: FloatHistogram): boolean {
  for (const [spansP, countsP, spansN, countsN] of [
    [prev.positiveSpans, prev.positiveBuckets, next.positiveSpans, next.positiveBuckets],
    [prev.negativeSpans, prev.negativeBuckets, next.negativeSpans, next.negativeBuckets],
  ] as const) {
    const now = new Map(bucketEntries(spansN, countsN));
    for (const [idx, c] of bucketEntries(spansP, countsP)) if ((now.get(idx) ?? 0) < c) return true;
  }
  return false;
}

function fill(out: Float64Array, h: FloatHistogram | null, pos: number[], neg: number[]): void {
  out.fill(0);
  if (h === null) {
    out[2] = NaN; // stale sum
    return;
  }
  out[0] = h.count;
  out[1] = h.zeroCount;
  out[2] = h.sum;
  const p = new Map(bucketEntries(h.positiveSpans, h.positiveBuckets));
  const n = new Map(bucketEntries(h.negativeSpans, h.negativeBuckets));
  pos.forEach((idx, i) => (out[3 + i] = p.get(idx) ?? 0));
  neg.forEach((idx, i) => (out[3 + pos.length + i] = n.get(idx) ?? 0));
}

function layoutBits(indexes: number[]): number {
  let runs = 0;
  for (let i = 0; i < indexes.length; i++) if (i === 0 || indexes[i] !== (indexes[i - 1] as number) + 1) runs++;
  return 8 + runs * 16;
}

function varintBytes(v: number): number {
  let z = v >= 0 ? 2 * v : -2 * v - 1; // zigzag
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

function bitRange(x: number, nbits: number): boolean {
  const lim = 2 ** (nbits - 1);
  return -(lim - 1) <= x && x <= lim;
}

function varbitIntBits(v: number): number {
  if (v === 0) return 1;
  if (bitRange(v, 3)) return 5;
  if (bitRange(v, 6)) return 9;
  if (bitRange(v, 9)) return 13;
  if (bitRange(v, 12)) return 17;
  if (bitRange(v, 18)) return 24;
  if (bitRange(v, 25)) return 32;
  if (bitRange(v, 56)) return 64;
  return 72;
}

const F = new Float64Array(2);
const W = new Uint32Array(F.buffer);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/** Bits Prometheus's xorWrite spends on `v` after `prev`, updating the field's leading/trailing. */
function xorBits(v: number, prev: number, leading: Uint8Array, trailing: Uint8Array, f: number): number {
  F[0] = v;
  F[1] = prev;
  const hi = ((W[LE ? 1 : 0] as number) ^ (W[LE ? 3 : 2] as number)) >>> 0;
  const lo = ((W[LE ? 0 : 1] as number) ^ (W[LE ? 2 : 3] as number)) >>> 0;
  if (hi === 0 && lo === 0) return 1;
  let nl = clz64(hi, lo);
  const nt = ctz64(hi, lo);
  if (nl >= 32) nl = 31;
  const l = leading[f] as number;
  const t = trailing[f] as number;
  if (l !== 0xff && nl >= l && nt >= t) return 2 + (64 - l - t);
  leading[f] = nl;
  trailing[f] = nt;
  return 2 + 5 + 6 + (64 - nl - nt);
}
