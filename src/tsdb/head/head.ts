// A tenant's in-memory head: series found by a hash of their labels (computed over the request's
// label bytes, so series the head already has cost no strings), postings for selection, the
// per-tenant series limits, and the append rules of Prometheus's head appender.
import { isUtf8 } from 'node:buffer';
import { MuninnError } from '../../errors/index.js';
import type { DecodedWriteRequest } from '../../remotewrite/index.js';
import { histogramOf } from '../../remotewrite/objects.js';
import { MemPostings, labelNamesFor, labelValuesFor, select } from '../index/index.js';
import {
  InvalidLabelsError, type Labels, LabelsBuilder, LabelsHasher, type Matcher, METRIC_NAME, SymbolTable, labelsEqual, labelsGet,
  labelsHash, labelsToString,
} from '../labels/index.js';
import {
  type DiscardReason, instanceSeriesLimitError, invalidLabelsError, perMetricSeriesLimitError, perUserSeriesLimitError,
  sampleError,
} from './errors.js';
import { HeadChunks } from './head-chunks.js';
import { RefTable } from './ref-table.js';
import { AppendCode, MemSeries } from './series.js';
import type { WalBatch } from './wal-batch.js';

export interface HeadLimits {
  /** Local (this ingester's share) limit on series; 0 = none. */
  maxSeries: number;
  /** Local limit on series per metric name; 0 = none. */
  maxSeriesPerMetric: number;
  /** Out-of-order window in ms; 0 rejects out-of-order samples. */
  outOfOrderWindowMs: number;
  nativeHistograms: boolean;
}

export interface HeadOptions {
  tenant: string;
  /** Head chunk range (the TSDB block range): chunks are cut at its boundaries. */
  chunkRangeMs: number;
  limits: () => HeadLimits;
  /** Instance-wide series budget: asked before a series is created; returns the limit when full. */
  instanceSeriesFull?: () => number | false;
  onSeriesCreated?: (n: number) => void;
  onSeriesRemoved?: (n: number) => void;
  now?: () => number;
}

/** The outcome of one appendRequest(): counts, and the first error (Mimir returns the first). */
export class AppendStats {
  accepted = 0;
  acceptedHistograms = 0;
  newSeries = 0;
  firstError: MuninnError | null = null;
  /** Set when an instance limit refused part of the request: the push must fail retryably. */
  retryableError: MuninnError | null = null;
  readonly discarded = new Map<DiscardReason, number>();

  discard(reason: DiscardReason, n: number, err: (() => MuninnError) | null): void {
    if (n <= 0) return;
    this.discarded.set(reason, (this.discarded.get(reason) ?? 0) + n);
    if (this.firstError === null && err !== null) this.firstError = err();
  }
}

const REASONS: Record<number, DiscardReason | undefined> = {
  [AppendCode.NewValueForTimestamp]: 'new-value-for-timestamp',
  [AppendCode.OutOfOrder]: 'sample-out-of-order',
  [AppendCode.TooOld]: 'sample-too-old',
  [AppendCode.OutOfBoundsCode]: 'sample-out-of-bounds',
};

export class TenantHead {
  readonly tenant: string;
  readonly postings = new MemPostings();
  readonly symbols = new SymbolTable();
  private readonly byHash = new Map<number, MemSeries | MemSeries[]>();
  private readonly byRef = new RefTable();
  private readonly metricCounts = new Map<string, number>();
  private readonly hasher = new LabelsHasher();
  /** The series' chunk bytes and numeric state. */
  private readonly chunks = new HeadChunks();
  private readonly builder: LabelsBuilder;
  private readonly opts: HeadOptions;
  private nextRef = 1;
  /**
   * WAL replay: refs of series records whose label set the head already holds under another ref
   * (a series removed and created again), mapped to the ref that holds it.
   */
  private readonly replayAlias = new Map<number, number>();
  /** Newest sample time over all series; -Infinity when empty. */
  maxT = -Infinity;
  minT = Infinity;

  constructor(opts: HeadOptions) {
    this.opts = opts;
    this.tenant = opts.tenant;
    this.builder = new LabelsBuilder(this.symbols);
  }

  get numSeries(): number {
    return this.byRef.size;
  }

  /** Memory of the chunk arena: bytes of slabs held, bytes in use by chunks, slabs held. */
  chunkMemory(): { reservedBytes: number; usedBytes: number; slabs: number } {
    const a = this.chunks.arena;
    return { reservedBytes: a.reservedBytes, usedBytes: a.usedBytes, slabs: a.slabCount };
  }

  /** The series with this ref (or, after WAL replay, the series a replayed ref was merged into). */
  series(ref: number): MemSeries | undefined {
    const s = this.byRef.get(ref);
    if (s !== undefined || this.replayAlias.size === 0) return s;
    const to = this.replayAlias.get(ref);
    return to === undefined ? undefined : this.byRef.get(to);
  }

  /**
   * Appends every series of a decoded request. Valid samples are stored even when others are
   * refused; refusals are counted in stats and the first becomes stats.firstError. Series created
   * and samples stored are added to `wal` for the caller to log. Synchronous, so concurrent
   * requests see each other's effects in the order their WAL records are logged.
   */
  appendRequest(req: DecodedWriteRequest, wal: WalBatch, stats: AppendStats): void {
    const limits = this.opts.limits();
    const window = limits.outOfOrderWindowMs;
    const halfRange = this.opts.chunkRangeMs / 2;
    const now = (this.opts.now ?? Date.now)();
    // As Prometheus's headAppender, the head's bounds are fixed for the whole request: its max
    // time (for the out-of-order window) and the oldest time an in-order sample may have (max
    // time - chunk range / 2). An empty head takes them from the request's first sample.
    let headMaxT = this.maxT;
    let minValid = headMaxT - halfRange;
    for (let i = 0; i < req.seriesCount; i++) {
      const s0 = req.sampleOffsets[i] as number;
      const s1 = req.sampleOffsets[i + 1] as number;
      const h0 = req.histogramOffsets[i] as number;
      let h1 = req.histogramOffsets[i + 1] as number;
      if (s0 === s1 && h0 === h1) continue;
      if (h1 > h0 && !limits.nativeHistograms) {
        // As Mimir's ingester: skipped without an error (a client could not fix it by retrying or
        // dropping the batch), only counted.
        stats.discard('native-histogram-disabled', h1 - h0, null);
        if (s0 === s1) continue;
        h1 = h0; // the histograms are dealt with
      }
      if (headMaxT === -Infinity) {
        headMaxT = s0 < s1 ? (req.timestamps[s0] as number) : (req.histograms.timestamps[h0] as number);
        minValid = headMaxT - halfRange;
      }
      if (window <= 0 && allBefore(req.timestamps, s0, s1, minValid) && allBefore(req.histograms.timestamps, h0, h1, minValid)) {
        // Every sample is out of bounds: refused before the series is looked up, so no series is
        // created for them (Prometheus's appender fails fast the same way).
        const t = s0 < s1 ? (req.timestamps[s0] as number) : (req.histograms.timestamps[h0] as number);
        stats.discard('sample-out-of-bounds', s1 - s0 + h1 - h0, () => sampleError('sample-out-of-bounds', t, this.requestLabelsString(req, i)));
        continue;
      }
      const series = this.getOrCreate(req, i, limits, wal, stats, s1 - s0 + h1 - h0);
      if (series === null) continue;
      let appended = false;
      for (let k = s0; k < s1; k++) {
        const t = req.timestamps[k] as number;
        const v = req.values[k] as number;
        const code = this.appendOne(series, t, v, window, headMaxT, minValid);
        if (code === AppendCode.Ok || code === AppendCode.OkOutOfOrder) {
          wal.addSample(series.ref, t, v);
          stats.accepted++;
          appended = true;
        } else if (code === AppendCode.Duplicate) {
          stats.accepted++; // accepted silently, as Prometheus does; nothing new to log
        } else {
          const reason = REASONS[code] as DiscardReason;
          stats.discard(reason, 1, () => sampleError(reason, t, series.labels));
        }
      }
      for (let h = h0; h < h1; h++) {
        const t = req.histograms.timestamps[h] as number;
        let code = boundsCode(t, window, headMaxT, minValid);
        let obj: unknown;
        if (code === AppendCode.Ok) {
          obj = histogramOf(req, h);
          code = series.appendHistogram(t, obj);
        }
        if (code === AppendCode.Ok) {
          wal.addHistogram(series.ref, t, obj);
          this.noteTime(t);
          stats.acceptedHistograms++;
          appended = true;
        } else if (code === AppendCode.Duplicate) {
          stats.acceptedHistograms++;
        } else {
          const reason = REASONS[code] as DiscardReason;
          stats.discard(reason, 1, () => sampleError(reason, t, series.labels));
        }
      }
      if (appended) series.lastAppendAt = now;
    }
    this.chunks.maybeCompact();
  }

  /** Prometheus's memSeries.appendable() and append, with the request's bounds. */
  private appendOne(series: MemSeries, t: number, v: number, window: number, headMaxT: number, minValid: number): number {
    const bounds = boundsCode(t, window, headMaxT, minValid);
    if (bounds !== AppendCode.Ok) return bounds;
    // Below minValid (window on) Prometheus puts the sample in the out-of-order chunk even when
    // it is newer than the series' last sample; it goes in order here, which reads the same.
    const code = series.appendFloat(t, v, window > 0 ? headMaxT - window : Infinity, this.opts.chunkRangeMs);
    if (code === AppendCode.Ok || code === AppendCode.OkOutOfOrder) this.noteTime(t);
    return code;
  }

  private noteTime(t: number): void {
    if (t > this.maxT) this.maxT = t;
    if (t < this.minT) this.minT = t;
  }

  /** The request's series i in this head, created if new and allowed; null when refused. */
  private getOrCreate(req: DecodedWriteRequest, i: number, limits: HeadLimits, wal: WalBatch, stats: AppendStats, nSamples: number): MemSeries | null {
    const b = req.bytes;
    const r = req.labelRanges;
    const l0 = req.labelOffsets[i] as number;
    const l1 = req.labelOffsets[i + 1] as number;
    const h = this.hasher.reset();
    let sorted = true;
    let prev = -1; // quad index of the previous label with a value
    for (let l = l0; l < l1; l++) {
      const q = l * 4;
      if ((r[q + 3] as number) === (r[q + 2] as number)) continue; // empty value = no label
      // compared with the previous label that counts: an empty-valued label between two others
      // must not hide that they are out of order (the hash below is over wire order)
      if (prev >= 0 && compareBytes(b, r[prev] as number, r[prev + 1] as number, r[q] as number, r[q + 1] as number) >= 0) sorted = false;
      prev = q;
      h.addBytes(b, r[q] as number, r[q + 1] as number);
      h.addBytes(b, r[q + 2] as number, r[q + 3] as number);
    }
    let hash = h.sum();
    let labels: Labels | undefined;
    if (!sorted) {
      // unsorted (or duplicate) names: build the label set to sort and check it
      const built = this.buildLabels(req, l0, l1, stats, nSamples);
      if (built === null) return null;
      labels = built;
      hash = labelsHash(labels);
      const found = this.lookup(hash, labels);
      if (found !== undefined) return found;
    } else {
      const found = this.lookupBytes(hash, req, l0, l1);
      if (found !== undefined) return found;
      const built = this.buildLabels(req, l0, l1, stats, nSamples);
      if (built === null) return null;
      labels = built;
    }
    const full = this.opts.instanceSeriesFull?.() ?? false;
    if (full !== false) {
      // an instance limit is not a property of the data: the push fails retryably, uncounted
      stats.retryableError ??= instanceSeriesLimitError(full);
      return null;
    }
    const refusal = this.checkCreate(labels, limits);
    if (refusal !== null) {
      stats.discard(refusal.reason, Math.max(1, nSamples), () => refusal.err);
      return null;
    }
    const s = this.insert(this.nextRef++, labels, hash);
    wal.addSeries(s.ref, labels);
    stats.newSeries++;
    return s;
  }

  /**
   * The label set of the request's labels [l0, l1), or null (counted as invalid-labels, with all
   * nSamples of the series) when it cannot be a series. Invalid UTF-8 is refused: the strings
   * would not hash as the bytes do, and the series could not be found again.
   */
  private buildLabels(req: DecodedWriteRequest, l0: number, l1: number, stats: AppendStats, nSamples: number): Labels | null {
    const b = req.bytes;
    const r = req.labelRanges;
    const lb = this.builder.reset();
    let refusal: MuninnError | null = null;
    for (let l = l0; l < l1 && refusal === null; l++) {
      const q = l * 4;
      const name = b.toString('utf8', r[q], r[q + 1]);
      const value = b.toString('utf8', r[q + 2], r[q + 3]);
      if (!isUtf8(b.subarray(r[q], r[q + 1])) || !isUtf8(b.subarray(r[q + 2], r[q + 3]))) {
        refusal = invalidLabelsError(`label ${JSON.stringify(name)} of series ${this.rangesString(req, l0, l1)} is not valid UTF-8`, 'err-mimir-label-value-invalid');
      }
      lb.add(name, value);
    }
    if (refusal === null) {
      try {
        const labels = lb.labels();
        if (labels.length > 0) return labels;
        refusal = invalidLabelsError('received a series with no labels', 'err-mimir-missing-metric-name');
      } catch (e) {
        if (e instanceof InvalidLabelsError) {
          refusal = e.reason === 'duplicate_label_name'
            ? invalidLabelsError(`received a series with ${e.message}`, 'err-mimir-duplicate-label-names')
            : invalidLabelsError(`received a series with ${e.message}`, 'err-mimir-label-invalid');
        } else {
          refusal = e instanceof MuninnError ? e : new MuninnError('bad_data', String(e));
        }
      }
    }
    const err = refusal;
    stats.discard('invalid-labels', Math.max(1, nSamples), () => err);
    return null;
  }

  private checkCreate(labels: Labels, limits: HeadLimits): { reason: DiscardReason; err: MuninnError } | null {
    if (limits.maxSeries > 0 && this.byRef.size >= limits.maxSeries) {
      return { reason: 'per_user_series_limit', err: perUserSeriesLimitError(limits.maxSeries) };
    }
    if (limits.maxSeriesPerMetric > 0) {
      const name = labelsGet(labels, METRIC_NAME);
      if ((this.metricCounts.get(name) ?? 0) >= limits.maxSeriesPerMetric) {
        return { reason: 'per_metric_series_limit', err: perMetricSeriesLimitError(limits.maxSeriesPerMetric, labels) };
      }
    }
    return null;
  }

  private insert(ref: number, labels: Labels, hash: number): MemSeries {
    const s = new MemSeries(ref, labels, this.chunks);
    this.byRef.set(ref, s);
    const prev = this.byHash.get(hash);
    if (prev === undefined) this.byHash.set(hash, s);
    else if (Array.isArray(prev)) prev.push(s);
    else this.byHash.set(hash, [prev, s]);
    this.postings.add(ref, labels);
    const name = labelsGet(labels, METRIC_NAME);
    this.metricCounts.set(name, (this.metricCounts.get(name) ?? 0) + 1);
    this.opts.onSeriesCreated?.(1);
    return s;
  }

  /**
   * Creates (or finds) a series with a given ref, as WAL replay does. A label set the head already
   * holds under another ref (the WAL logged it again after the series was removed and created
   * anew) is not created twice: samples logged under the new ref go to the existing series.
   * Refs seen are never handed out again.
   */
  replaySeries(ref: number, labels: Labels): MemSeries {
    if (ref >= this.nextRef) this.nextRef = ref + 1;
    const hash = labelsHash(labels);
    const found = this.lookup(hash, labels);
    if (found !== undefined) {
      if (found.ref !== ref) this.replayAlias.set(ref, found.ref);
      return found;
    }
    const interned = this.builder.reset();
    for (let k = 0; k < labels.length; k += 2) interned.add(labels[k] as string, labels[k + 1] as string);
    let at = ref;
    if (this.byRef.has(ref)) {
      // the ref names another series already (a corrupt or reused ref): keep both
      at = this.nextRef++;
      this.replayAlias.set(ref, at);
    } else {
      this.replayAlias.delete(ref);
    }
    return this.insert(at, interned.labels(), hash);
  }

  /**
   * Re-applies a logged sample (WAL replay). The WAL holds only samples the head accepted, so the
   * out-of-order window (which may have changed since) is not applied again; the same timestamp
   * with another value is still refused. Returns false if the series is unknown or the sample refused.
   */
  replaySample(ref: number, t: number, v: number): boolean {
    const s = this.series(ref);
    if (s === undefined) return false;
    const code = s.appendFloat(t, v, -Infinity, this.opts.chunkRangeMs);
    if (code === AppendCode.Ok || code === AppendCode.OkOutOfOrder) {
      this.noteTime(t);
      s.lastAppendAt = (this.opts.now ?? Date.now)();
      return true;
    }
    return code === AppendCode.Duplicate;
  }

  replayHistogram(ref: number, t: number, h: unknown): boolean {
    const s = this.series(ref);
    if (s === undefined) return false;
    const code = s.appendHistogram(t, h);
    if (code === AppendCode.Ok) this.noteTime(t);
    return code === AppendCode.Ok || code === AppendCode.Duplicate;
  }

  private lookup(hash: number, labels: Labels): MemSeries | undefined {
    const e = this.byHash.get(hash);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return labelsEqual(e.labels, labels) ? e : undefined;
    return e.find((s) => labelsEqual(s.labels, labels));
  }

  private lookupBytes(hash: number, req: DecodedWriteRequest, l0: number, l1: number): MemSeries | undefined {
    const e = this.byHash.get(hash);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return labelsMatchBytes(e.labels, req, l0, l1) ? e : undefined;
    return e.find((s) => labelsMatchBytes(s.labels, req, l0, l1));
  }

  /** Series i of the request as labelsToString() prints a label set (for error messages). */
  private requestLabelsString(req: DecodedWriteRequest, i: number): string {
    return this.rangesString(req, req.labelOffsets[i] as number, req.labelOffsets[i + 1] as number);
  }

  private rangesString(req: DecodedWriteRequest, l0: number, l1: number): string {
    const b = req.bytes;
    const r = req.labelRanges;
    const lb = new LabelsBuilder();
    const parts: string[] = [];
    for (let l = l0; l < l1; l++) {
      const q = l * 4;
      const name = b.toString('utf8', r[q], r[q + 1]);
      const value = b.toString('utf8', r[q + 2], r[q + 3]);
      lb.add(name, value);
      parts.push(`${name}=${JSON.stringify(value)}`);
    }
    try {
      return labelsToString(lb.labels());
    } catch {
      return `{${parts.join(', ')}}`; // duplicate or empty names: as sent
    }
  }

  /** Series matching every matcher that hold data in [mint, maxt], in postings (ref) order. */
  select(matchers: readonly Matcher[], mint: number, maxt: number): MemSeries[] {
    const refs = select(this.postings, matchers);
    const out: MemSeries[] = [];
    for (let k = 0; k < refs.length; k++) {
      const s = this.byRef.get(refs[k] as number);
      // an empty series (its data truncated, the series not yet removed) has nothing to give
      if (s === undefined || s.isEmpty()) continue;
      if (s.maxTime() < mint || s.minTime() > maxt) continue;
      out.push(s);
    }
    return out;
  }

  labelNames(matchers: readonly Matcher[]): string[] {
    return labelNamesFor(this.postings, matchers, (ref) => this.byRef.get(ref)?.labels);
  }

  labelValues(name: string, matchers: readonly Matcher[]): string[] {
    return labelValuesFor(this.postings, name, matchers);
  }

  /**
   * Drops data older than mint and removes series left empty that have had no append for idleMs.
   * Returns the number of series removed.
   */
  truncate(mint: number, idleMs: number): number {
    const now = (this.opts.now ?? Date.now)();
    const dead: number[] = [];
    let newMin = Infinity;
    for (const s of this.byRef.values()) {
      s.truncateBefore(mint);
      if (s.isEmpty() && now - s.lastAppendAt >= idleMs) dead.push(s.ref);
      else newMin = Math.min(newMin, s.minTime());
    }
    this.minT = newMin;
    this.chunks.maybeCompact(); // (the dead series hold no chunks)
    if (dead.length === 0) return 0;
    this.postings.deleteMany(dead, (ref) => this.byRef.get(ref)?.labels);
    for (const ref of dead) {
      const s = this.byRef.get(ref) as MemSeries;
      this.byRef.delete(ref);
      s.release();
      const hash = labelsHash(s.labels);
      const e = this.byHash.get(hash);
      if (Array.isArray(e)) {
        const rest = e.filter((x) => x !== s);
        if (rest.length === 1) this.byHash.set(hash, rest[0] as MemSeries);
        else this.byHash.set(hash, rest);
      } else if (e === s) this.byHash.delete(hash);
      const name = labelsGet(s.labels, METRIC_NAME);
      const c = (this.metricCounts.get(name) ?? 1) - 1;
      if (c <= 0) this.metricCounts.delete(name);
      else this.metricCounts.set(name, c);
    }
    if (this.replayAlias.size > 0) {
      for (const [from, to] of this.replayAlias) if (!this.byRef.has(to)) this.replayAlias.delete(from);
    }
    this.symbols.retainOnly((function* (m: RefTable) {
      for (const s of m.values()) yield s.labels;
    })(this.byRef));
    this.opts.onSeriesRemoved?.(dead.length);
    return dead.length;
  }

  /** Series refs and labels, for a WAL checkpoint. */
  *allSeries(): IterableIterator<MemSeries> {
    yield* this.byRef.values();
  }
}

/** Whether every timestamp in ts[from, to) is below t (true for an empty range). */
function allBefore(ts: Float64Array, from: number, to: number, t: number): boolean {
  for (let k = from; k < to; k++) if ((ts[k] as number) >= t) return false;
  return true;
}

/**
 * The head-wide bounds of Prometheus's appender: with no out-of-order window nothing older than
 * minValid is accepted; with one, a sample older than minValid must still be within the window.
 */
function boundsCode(t: number, window: number, headMaxT: number, minValid: number): number {
  if (t >= minValid) return AppendCode.Ok;
  if (window <= 0) return AppendCode.OutOfBoundsCode;
  return t < headMaxT - window ? AppendCode.TooOld : AppendCode.Ok;
}

function compareBytes(b: Uint8Array, a0: number, a1: number, c0: number, c1: number): number {
  const n = Math.min(a1 - a0, c1 - c0);
  for (let k = 0; k < n; k++) {
    const d = (b[a0 + k] as number) - (b[c0 + k] as number);
    if (d !== 0) return d;
  }
  return (a1 - a0) - (c1 - c0);
}

/** Whether a series' labels equal the request's label ranges (sorted, empty values skipped). */
function labelsMatchBytes(ls: Labels, req: DecodedWriteRequest, l0: number, l1: number): boolean {
  const b = req.bytes;
  const r = req.labelRanges;
  let k = 0;
  for (let l = l0; l < l1; l++) {
    const q = l * 4;
    if ((r[q + 3] as number) === (r[q + 2] as number)) continue;
    if (k + 1 >= ls.length) return false;
    if (!stringEqualsBytes(ls[k] as string, b, r[q] as number, r[q + 1] as number)) return false;
    if (!stringEqualsBytes(ls[k + 1] as string, b, r[q + 2] as number, r[q + 3] as number)) return false;
    k += 2;
  }
  return k === ls.length;
}

function stringEqualsBytes(s: string, b: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (s.length > n) return false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x80) return s === b.toString('utf8', start, end); // non-ASCII: compare decoded
    if (c !== b[start + k]) return false;
  }
  return s.length === n;
}
