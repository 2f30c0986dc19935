// Builds, from one decoded remote-write request (1.0 or 2.0), a `prometheus.WriteRequest` (1.0,
// uncompressed protobuf) holding a subset of its series: what a distributor sends each ingester.
//
// Fast path: a 1.0 series that still has all the labels it had on the wire (validation may have
// reordered them: the receiver sorts) and none of whose sample, histogram or exemplar rows is
// masked out is copied byte for byte from its original TimeSeries field (`seriesSpans`); runs of
// such series that were adjacent in the request are copied at once. Every other series (2.0
// series always) is re-encoded from the columns as canonical proto3, in the field order of
// Prometheus' (gogo) encoder: an unchanged canonical series re-encodes to its original bytes.
//
// The output is sized exactly before it is written (a first pass computes every message length),
// so each call makes one allocation, of the final size, and returns it: a fresh Buffer that the
// caller owns (it may be sent asynchronously; later calls do not touch it). Format and rules:
// docs/formats/remote-write.md, "Subset encoder".
import { Buffer } from 'node:buffer';
import type { DecodedWriteRequest } from './decoded.js';
import { type Ctx, makeContext, type RowMasks, seriesPayloadSize, setOutput, strSize, writeSeries, writeStr } from './subset-series.js';
import { copyBytes, int64Size, lenFieldSize, writeInt64, writeVarint } from './subset-wire.js';

/**
 * Which rows of the request's columns to write, as in the distributor's ValidationResult (which
 * can be passed as is): a row whose mask entry is 0 is left out, a null (or absent) mask keeps
 * every row. Masks are indexed by row of the request (sample row k, histogram row h, ...).
 */
export interface SubsetMasks extends RowMasks {
  /** filters the listed metadata rows (a listed row whose entry is 0 is not written) */
  readonly metadataMask?: Uint8Array | null;
}

/** Masks that keep every row. */
export const KEEP_ALL_ROWS: SubsetMasks = { sampleMask: null, histogramMask: null, exemplarMask: null, metadataMask: null };

export interface SubsetEncoderOptions {
  /** false: re-encode every series, never copy original bytes (benchmarks, tests). Default true. */
  copySpans?: boolean;
}

/** Scratch arrays above this many entries are dropped after the call instead of being kept. */
const MAX_SCRATCH = 1 << 20;
const SKIPPED = 0xffffffff;
const NAME = Buffer.from('__name__');

function grown(a: Uint32Array, n: number): Uint32Array {
  if (a.length >= n) return a;
  let c = a.length * 2;
  while (c < n) c *= 2;
  return new Uint32Array(c);
}

function allKept(mask: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (mask[k] === 0) return false;
  return true;
}

export class SubsetEncoder {
  /** Series copied from their original bytes, since construction. */
  copiedSeries = 0;
  /** Series re-encoded from the columns, since construction. */
  reencodedSeries = 0;
  private readonly copySpans: boolean;
  // Reused between calls (contents are per call). Per listed series: payload size, or SKIPPED
  // for a copied series. Per histogram row: payload size, negative and positive delta bytes.
  // Per listed metadata row: payload size (SKIPPED: masked out), family name start, end.
  private seriesSize: Uint32Array = new Uint32Array(1024);
  private histSize: Uint32Array = new Uint32Array(64);
  private metaSize: Uint32Array = new Uint32Array(64);

  constructor(opts: SubsetEncoderOptions = {}) {
    this.copySpans = opts.copySpans ?? true;
  }

  /**
   * Encodes series[0 .. count) of `req` (series indexes, a Uint32Array or a number[]; written in
   * this order) with their current labels (req.labelRanges, possibly shortened and sorted by
   * validation) and the rows `masks` keep, then metadataRows[0 .. metadataCount) (rows of
   * req.metadata; null when metadataCount is 0) as 1.0 MetricMetadata. A 2.0 metadata row takes
   * its metric_family_name from its series' current `__name__` label ("" if none). 2.0-only data
   * (start timestamps, created timestamp) has no place in 1.0 and is not written.
   *
   * Returns a new Buffer of exactly the message's size, owned by the caller: it stays valid after
   * later calls and after `req.bytes` is reused. Throws RangeError for an index outside the
   * request. Synchronous; `req` must not change during the call.
   */
  encode(
    req: DecodedWriteRequest,
    series: ArrayLike<number>,
    count: number,
    masks: SubsetMasks,
    metadataRows: ArrayLike<number> | null,
    metadataCount: number,
  ): Buffer {
    if (count > series.length) throw new RangeError(`count ${count} exceeds the ${series.length} series indexes given`);
    if (metadataCount > (metadataRows?.length ?? 0)) throw new RangeError(`metadataCount ${metadataCount} exceeds the metadata rows given`);
    this.seriesSize = grown(this.seriesSize, count);
    this.metaSize = grown(this.metaSize, metadataCount * 3);
    this.histSize = grown(this.histSize, req.histograms.count * 3);
    const c = makeContext(req, masks, this.histSize);
    const sizes = this.seriesSize;
    const spans = this.copySpans ? req.seriesSpans : null;

    // pass 1: sizes
    let total = 0;
    let copied = 0;
    for (let k = 0; k < count; k++) {
      const i = series[k]!;
      if (!(i >>> 0 === i && i < req.seriesCount)) throw new RangeError(`series index ${i} out of range (${req.seriesCount} series)`);
      if (spans !== null && copyable(c, spans, i)) {
        sizes[k] = SKIPPED;
        total += spans[2 * i + 1]! - spans[2 * i]!;
        copied++;
      } else {
        const n = seriesPayloadSize(c, i);
        sizes[k] = n;
        total += lenFieldSize(n);
      }
    }
    if (metadataCount > 0) total += this.metadataSizes(c, metadataRows!, metadataCount, masks.metadataMask ?? null);

    // pass 2: bytes
    // every byte is written below (checked at the end), so uninitialized memory is fine
    const result = Buffer.allocUnsafe(total);
    const out = new Uint8Array(result.buffer, result.byteOffset, total);
    setOutput(c, out);
    const b = c.b;
    let p = 0;
    let runS = 0; // a pending run of copied series: request bytes [runS, runE)
    let runE = 0;
    for (let k = 0; k < count; k++) {
      const i = series[k]!;
      const n = sizes[k]!;
      if (n === SKIPPED) {
        const s = spans![2 * i]!;
        const e = spans![2 * i + 1]!;
        if (s === runE && runE > runS) runE = e;
        else {
          if (runE > runS) p = copyBytes(out, c.ov, p, b, c.bv, runS, runE);
          runS = s;
          runE = e;
        }
        continue;
      }
      if (runE > runS) {
        p = copyBytes(out, c.ov, p, b, c.bv, runS, runE);
        runE = runS;
      }
      out[p++] = 0x0a;
      p = writeVarint(out, p, n);
      p = writeSeries(c, p, i);
    }
    if (runE > runS) p = copyBytes(out, c.ov, p, b, c.bv, runS, runE);
    if (metadataCount > 0) p = this.writeMetadata(c, out, p, metadataRows!, metadataCount);
    if (p !== total) throw new Error(`SubsetEncoder: wrote ${p} bytes of a ${total}-byte message`); // a bug, not bad input

    this.copiedSeries += copied;
    this.reencodedSeries += count - copied;
    if (this.seriesSize.length > MAX_SCRATCH) this.seriesSize = new Uint32Array(1024);
    if (this.histSize.length > MAX_SCRATCH) this.histSize = new Uint32Array(64);
    if (this.metaSize.length > MAX_SCRATCH) this.metaSize = new Uint32Array(64);
    return result;
  }

  /** Sizes of the listed metadata rows (recorded in metaSize with their family name); their total. */
  private metadataSizes(c: Ctx, rows: ArrayLike<number>, count: number, mask: Uint8Array | null): number {
    const md = c.req.metadata;
    const s = md.strings;
    const ms = this.metaSize;
    let total = 0;
    for (let k = 0; k < count; k++) {
      const m = rows[k]!;
      if (!(m >>> 0 === m && m < md.count)) throw new RangeError(`metadata row ${m} out of range (${md.count} rows)`);
      if (mask !== null && mask[m] === 0) {
        ms[3 * k] = SKIPPED;
        continue;
      }
      let ns = s[6 * m]!;
      let ne = s[6 * m + 1]!;
      const series = md.series[m]!;
      if (series >= 0) {
        // 2.0: the family name is the series' metric name
        const at = nameLabel(c, series);
        ns = at < 0 ? 0 : c.req.labelRanges[4 * at + 2]!;
        ne = at < 0 ? 0 : c.req.labelRanges[4 * at + 3]!;
      }
      const type = md.type[m]!;
      const n = (type !== 0 ? 1 + int64Size(type) : 0) + strSize(ne - ns) + strSize(s[6 * m + 3]! - s[6 * m + 2]!) + strSize(s[6 * m + 5]! - s[6 * m + 4]!);
      ms[3 * k] = n;
      ms[3 * k + 1] = ns;
      ms[3 * k + 2] = ne;
      total += lenFieldSize(n);
    }
    return total;
  }

  private writeMetadata(c: Ctx, out: Uint8Array, p: number, rows: ArrayLike<number>, count: number): number {
    const md = c.req.metadata;
    const s = md.strings;
    const ms = this.metaSize;
    for (let k = 0; k < count; k++) {
      const n = ms[3 * k]!;
      if (n === SKIPPED) continue;
      const m = rows[k]!;
      out[p++] = 0x1a;
      p = writeVarint(out, p, n);
      const type = md.type[m]!;
      if (type !== 0) {
        out[p++] = 0x08;
        p = writeInt64(out, p, type);
      }
      p = writeStr(c, p, 0x12, ms[3 * k + 1]!, ms[3 * k + 2]!);
      p = writeStr(c, p, 0x22, s[6 * m + 2]!, s[6 * m + 3]!);
      p = writeStr(c, p, 0x2a, s[6 * m + 4]!, s[6 * m + 5]!);
    }
    return p;
  }
}

/** True if series i can be copied from its original TimeSeries field. */
function copyable(c: Ctx, spans: Uint32Array, i: number): boolean {
  const req = c.req;
  if (spans[2 * i + 1]! <= spans[2 * i]!) return false;
  if (req.wireLabelCounts![i] !== req.labelOffsets[i + 1]! - req.labelOffsets[i]!) return false;
  if (c.sm !== null && !allKept(c.sm, req.sampleOffsets[i]!, req.sampleOffsets[i + 1]!)) return false;
  if (c.hm !== null && !allKept(c.hm, req.histogramOffsets[i]!, req.histogramOffsets[i + 1]!)) return false;
  if (c.em !== null && !allKept(c.em, req.exemplarOffsets[i]!, req.exemplarOffsets[i + 1]!)) return false;
  return true;
}

/** The label row of series i named `__name__`, or -1. */
function nameLabel(c: Ctx, i: number): number {
  const r = c.req.labelRanges;
  const b = c.b;
  for (let l = c.req.labelOffsets[i]!, end = c.req.labelOffsets[i + 1]!; l < end; l++) {
    const ns = r[4 * l]!;
    if (r[4 * l + 1]! - ns !== 8) continue;
    let k = 0;
    while (k < 8 && b[ns + k] === NAME[k]) k++;
    if (k === 8) return l;
  }
  return -1;
}

