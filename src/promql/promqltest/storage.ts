// In-memory storage for promqltest scripts: the series of `load` blocks, read by the engine
// through the Queryable interface. Float values sit in Float64Arrays and are copied by their bits,
// so stale markers (NaN 0x7ff0000000000002) reach the engine exactly. Appends follow the TSDB's
// rules (in order per series; a repeated timestamp only with the identical value), and
// histograms get the counter-reset hints a Prometheus TSDB would read back (chunk-emulation.ts).
import { Matcher, compareStrings, labelsCompare, labelsGet } from '../../tsdb/labels/index.js';
import type { Labels as TsdbLabels } from '../../tsdb/labels/index.js';
import type { FloatHistogram, HPoint, Labels, Queryable, StorageMatcher, StorageSeries } from '../value.js';
import { HistogramChunkState } from './chunk-emulation.js';
import { histogramCopy } from '../histogram/index.js';
import type { Sequence } from './sequence.js';

export class AppendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppendError';
  }
}

class MemSeries {
  readonly labels: Labels;
  t = new Float64Array(16);
  v = new Float64Array(16);
  vw = new Uint32Array(this.v.buffer);
  n = 0;
  readonly hist: HPoint[] = [];
  maxT = -Infinity;
  readonly chunks = new HistogramChunkState();

  constructor(labels: Labels) {
    this.labels = labels;
  }

  #grow(): void {
    if (this.n < this.t.length) return;
    const t = new Float64Array(this.t.length * 2);
    t.set(this.t);
    const v = new Float64Array(this.v.length * 2);
    new Uint32Array(v.buffer).set(this.vw);
    this.t = t;
    this.v = v;
    this.vw = new Uint32Array(v.buffer);
  }

  appendFloat(ts: number, src: Sequence, i: number): void {
    if (ts < this.maxT) throw new AppendError(`out of order sample at ${ts} for ${fmt(this.labels)}`);
    if (ts === this.maxT) {
      // Same timestamp: accepted (as a no-op) only if it repeats the last float bit for bit.
      const j = this.n - 1;
      if (j >= 0 && this.t[j] === ts) {
        const scratch = new Uint32Array(2);
        src.copyFloatTo(i, scratch, 0);
        if (scratch[0] === this.vw[2 * j] && scratch[1] === this.vw[2 * j + 1]) return;
      }
      throw new AppendError(`duplicate sample for timestamp ${ts} for ${fmt(this.labels)}`);
    }
    this.#grow();
    this.t[this.n] = ts;
    src.copyFloatTo(i, this.vw, this.n);
    if (src.isStale(i) && this.chunks.lastWasHistogram) this.chunks.staleAppended(ts);
    else this.chunks.floatAppended();
    this.n++;
    this.maxT = ts;
  }

  appendHistogram(ts: number, h: FloatHistogram): void {
    if (ts < this.maxT) throw new AppendError(`out of order sample at ${ts} for ${fmt(this.labels)}`);
    if (ts === this.maxT) throw new AppendError(`duplicate sample for timestamp ${ts} for ${fmt(this.labels)}`);
    const stored = histogramCopy(h);
    stored.counterResetHint = this.chunks.appendHistogram(ts, h);
    this.hist.push({ t: ts, h: stored });
    this.maxT = ts;
  }

  /** The samples in [mint, maxt] (bit-exact copies), or null if there are none. */
  read(mint: number, maxt: number): StorageSeries | null {
    const lo = lowerBound(this.t, this.n, mint);
    const hi = lowerBound(this.t, this.n, maxt + 1);
    const hist: HPoint[] = [];
    for (const p of this.hist) if (p.t >= mint && p.t <= maxt) hist.push({ t: p.t, h: histogramCopy(p.h) });
    if (hi <= lo && hist.length === 0) return null;
    const v = new Float64Array(hi - lo);
    new Uint32Array(v.buffer).set(this.vw.subarray(2 * lo, 2 * hi));
    return { labels: this.labels, t: this.t.slice(lo, hi), v, histograms: hist };
  }

  hasSamplesIn(mint: number, maxt: number): boolean {
    const lo = lowerBound(this.t, this.n, mint);
    if (lo < this.n && (this.t[lo] as number) <= maxt) return true;
    return this.hist.some((p) => p.t >= mint && p.t <= maxt);
  }
}

function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function fmt(ls: Labels): string {
  const parts: string[] = [];
  for (let i = 0; i < ls.length; i += 2) parts.push(`${ls[i]}=${JSON.stringify(ls[i + 1])}`);
  return `{${parts.join(', ')}}`;
}

function keyOf(ls: Labels): string {
  return ls.join('\xff');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

export class TestStorage implements Queryable {
  #series = new Map<string, MemSeries>();
  /** Set by loads with `@st` start-timestamp lines (until the next clear). */
  hasStartTimestamps = false;

  clear(): void {
    this.#series = new Map();
    this.hasStartTimestamps = false;
  }

  #get(labels: Labels): MemSeries {
    const k = keyOf(labels);
    let s = this.#series.get(k);
    if (s === undefined) {
      s = new MemSeries(labels);
      this.#series.set(k, s);
    }
    return s;
  }

  /** Appends position i of `values` (a float) at time t. Throws AppendError like the TSDB. */
  appendFloat(labels: Labels, t: number, values: Sequence, i: number): void {
    this.#get(labels).appendFloat(t, values, i);
  }

  appendHistogram(labels: Labels, t: number, h: FloatHistogram): void {
    this.#get(labels).appendHistogram(t, h);
  }

  /** Every series' labels (sorted), for tests and diagnostics. */
  allLabels(): Labels[] {
    return [...this.#series.values()].map((s) => s.labels).sort((a, b) => labelsCompare(a as TsdbLabels, b as TsdbLabels));
  }

  /** The raw samples of a series, for tests and diagnostics. */
  rawSeries(labels: Labels): StorageSeries | null {
    return this.#series.get(keyOf(labels))?.read(-Infinity, Infinity) ?? null;
  }

  #matching(matchers: readonly StorageMatcher[]): MemSeries[] {
    const ms = matchers.map((m) => new Matcher(m.type, m.name, m.value));
    const out: MemSeries[] = [];
    for (const s of this.#series.values()) {
      if (ms.every((m) => m.matches(labelsGet(s.labels as TsdbLabels, m.name)))) out.push(s);
    }
    return out.sort((a, b) => labelsCompare(a.labels as TsdbLabels, b.labels as TsdbLabels));
  }

  async select(matchers: readonly StorageMatcher[], mint: number, maxt: number, signal?: AbortSignal): Promise<StorageSeries[]> {
    throwIfAborted(signal);
    const out: StorageSeries[] = [];
    for (const s of this.#matching(matchers)) {
      const r = s.read(mint, maxt);
      if (r !== null) out.push(r);
    }
    return out;
  }

  async labelNames(matchers: readonly StorageMatcher[], mint: number, maxt: number, signal?: AbortSignal): Promise<string[]> {
    throwIfAborted(signal);
    const names = new Set<string>();
    for (const s of this.#matching(matchers)) {
      if (!s.hasSamplesIn(mint, maxt)) continue;
      for (let i = 0; i < s.labels.length; i += 2) names.add(s.labels[i] as string);
    }
    return [...names].sort(compareStrings);
  }

  async labelValues(name: string, matchers: readonly StorageMatcher[], mint: number, maxt: number, signal?: AbortSignal): Promise<string[]> {
    throwIfAborted(signal);
    const values = new Set<string>();
    for (const s of this.#matching(matchers)) {
      if (!s.hasSamplesIn(mint, maxt)) continue;
      const v = labelsGet(s.labels as TsdbLabels, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort(compareStrings);
  }
}
