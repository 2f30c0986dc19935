// Collects the columns of a DecodedWriteRequest while a decoder walks the wire bytes.
import { Buffer } from 'node:buffer';
import { MuninnError } from '../errors/index.js';
import { Arena, type Column, F64Col, I32Col, U32Col, U8Col } from './columns.js';
import type { DecodedWriteRequest, HistogramColumns, NumberLists, SpanLists } from './decoded.js';
import type { WireReader } from './wire.js';

/** Every column a Builder owns, so that it can empty them and measure them. */
class Columns {
  readonly all: Column[] = [];
  u32(cap: number): U32Col {
    return this.add(new U32Col(cap));
  }
  i32(cap: number): I32Col {
    return this.add(new I32Col(cap));
  }
  u8(cap: number): U8Col {
    return this.add(new U8Col(cap));
  }
  f64(cap: number): F64Col {
    return this.add(new F64Col(cap));
  }
  private add<T extends Column>(c: T): T {
    this.all.push(c);
    return c;
  }
}

export class NumberListBuilder {
  readonly offsets: U32Col;
  readonly values: F64Col;
  constructor(c: Columns) {
    this.offsets = c.u32(64);
    this.values = c.f64(64);
  }
  finish(a: Arena): NumberLists {
    return { offsets: this.offsets.copy(a), values: this.values.copy(a) };
  }
}

export class SpanListBuilder {
  readonly offsets: U32Col;
  readonly spanOffset: I32Col;
  readonly spanLength: U32Col;
  constructor(c: Columns) {
    this.offsets = c.u32(64);
    this.spanOffset = c.i32(64);
    this.spanLength = c.u32(64);
  }
  push(offset: number, length: number): void {
    this.spanOffset.push(offset);
    this.spanLength.push(length);
  }
  finish(a: Arena): SpanLists {
    return { offsets: this.offsets.copy(a), spanOffset: this.spanOffset.copy(a), spanLength: this.spanLength.copy(a) };
  }
}

export class HistogramBuilder {
  count = 0;
  readonly countKind: U8Col;
  readonly countValue: F64Col;
  readonly sum: F64Col;
  readonly schema: I32Col;
  readonly zeroThreshold: F64Col;
  readonly zeroCountKind: U8Col;
  readonly zeroCount: F64Col;
  readonly resetHint: I32Col;
  readonly timestamps: F64Col;
  readonly startTimestamps: F64Col;
  readonly negativeSpans: SpanListBuilder;
  readonly negativeDeltas: NumberListBuilder;
  readonly negativeCounts: NumberListBuilder;
  readonly positiveSpans: SpanListBuilder;
  readonly positiveDeltas: NumberListBuilder;
  readonly positiveCounts: NumberListBuilder;
  readonly customValues: NumberListBuilder;

  constructor(c: Columns) {
    this.countKind = c.u8(64);
    this.countValue = c.f64(64);
    this.sum = c.f64(64);
    this.schema = c.i32(64);
    this.zeroThreshold = c.f64(64);
    this.zeroCountKind = c.u8(64);
    this.zeroCount = c.f64(64);
    this.resetHint = c.i32(64);
    this.timestamps = c.f64(64);
    this.startTimestamps = c.f64(64);
    this.negativeSpans = new SpanListBuilder(c);
    this.negativeDeltas = new NumberListBuilder(c);
    this.negativeCounts = new NumberListBuilder(c);
    this.positiveSpans = new SpanListBuilder(c);
    this.positiveDeltas = new NumberListBuilder(c);
    this.positiveCounts = new NumberListBuilder(c);
    this.customValues = new NumberListBuilder(c);
  }

  /** Opens a histogram row: its lists start at the current ends. */
  begin(): void {
    this.negativeSpans.offsets.push(this.negativeSpans.spanOffset.n);
    this.negativeDeltas.offsets.push(this.negativeDeltas.values.n);
    this.negativeCounts.offsets.push(this.negativeCounts.values.n);
    this.positiveSpans.offsets.push(this.positiveSpans.spanOffset.n);
    this.positiveDeltas.offsets.push(this.positiveDeltas.values.n);
    this.positiveCounts.offsets.push(this.positiveCounts.values.n);
    this.customValues.offsets.push(this.customValues.values.n);
    this.count++;
  }

  /** Closes the list offsets (the sentinel entry after the last histogram). */
  close(): void {
    this.negativeSpans.offsets.push(this.negativeSpans.spanOffset.n);
    this.negativeDeltas.offsets.push(this.negativeDeltas.values.n);
    this.negativeCounts.offsets.push(this.negativeCounts.values.n);
    this.positiveSpans.offsets.push(this.positiveSpans.spanOffset.n);
    this.positiveDeltas.offsets.push(this.positiveDeltas.values.n);
    this.positiveCounts.offsets.push(this.positiveCounts.values.n);
    this.customValues.offsets.push(this.customValues.values.n);
  }

  finish(a: Arena): HistogramColumns {
    return {
      count: this.count,
      countKind: this.countKind.copy(a),
      countValue: this.countValue.copy(a),
      sum: this.sum.copy(a),
      schema: this.schema.copy(a),
      zeroThreshold: this.zeroThreshold.copy(a),
      zeroCountKind: this.zeroCountKind.copy(a),
      zeroCount: this.zeroCount.copy(a),
      resetHint: this.resetHint.copy(a),
      timestamps: this.timestamps.copy(a),
      startTimestamps: this.startTimestamps.copy(a),
      negativeSpans: this.negativeSpans.finish(a),
      negativeDeltas: this.negativeDeltas.finish(a),
      negativeCounts: this.negativeCounts.finish(a),
      positiveSpans: this.positiveSpans.finish(a),
      positiveDeltas: this.positiveDeltas.finish(a),
      positiveCounts: this.positiveCounts.finish(a),
      customValues: this.customValues.finish(a),
    };
  }
}

/**
 * The columns of one decode. Decoders take the module's scratch Builder (takeBuilder), fill it,
 * copy the result out (finish) and hand it back (releaseBuilder), so steady-state decoding
 * writes into warm, already-grown arrays and allocates each result array once at its exact size.
 * Decoding is synchronous, so one scratch Builder per thread is enough; a nested take (which
 * cannot happen today) would simply get a fresh one.
 */
export class Builder {
  version: 1 | 2 = 1;
  seriesCount = 0;
  exemplarCount = 0;
  metaCount = 0;
  symbolCount = 0;
  private readonly cols = new Columns();
  readonly labelOffsets = this.cols.u32(1024);
  readonly labelRanges = this.cols.u32(16384);
  readonly sampleOffsets = this.cols.u32(1024);
  readonly timestamps = this.cols.f64(1024);
  readonly values = this.cols.f64(1024);
  readonly startTimestamps = this.cols.f64(64);
  readonly histogramOffsets = this.cols.u32(1024);
  readonly h = new HistogramBuilder(this.cols);
  readonly exemplarOffsets = this.cols.u32(1024);
  readonly exLabelOffsets = this.cols.u32(64);
  readonly exLabelRanges = this.cols.u32(256);
  readonly exValues = this.cols.f64(64);
  readonly exTimestamps = this.cols.f64(64);
  readonly metaSeries = this.cols.i32(64);
  readonly metaType = this.cols.i32(64);
  readonly metaStrings = this.cols.u32(384);
  readonly seriesMetadata = this.cols.i32(64);
  readonly createdTimestamps = this.cols.f64(64);
  /** 1.0: 2 per series, [start, end) of its whole TimeSeries field; unused for 2.0 */
  readonly seriesSpans = this.cols.u32(2048);
  /** 1.0: filled by finish() from labelOffsets; unused for 2.0 */
  readonly wireLabelCounts = this.cols.u32(1024);

  reset(version: 1 | 2): void {
    this.version = version;
    this.seriesCount = 0;
    this.exemplarCount = 0;
    this.metaCount = 0;
    this.symbolCount = 0;
    this.h.count = 0;
    for (const c of this.cols.all) c.n = 0;
  }

  /** Bytes allocated by all columns. */
  capacityBytes(): number {
    let n = 0;
    for (const c of this.cols.all) n += c.a.byteLength;
    return n;
  }

  /** Opens series row `seriesCount`: its labels, samples, histograms and exemplars start here. */
  beginSeries(): void {
    this.labelOffsets.push(this.labelRanges.n >>> 2);
    this.sampleOffsets.push(this.values.n);
    this.histogramOffsets.push(this.h.count);
    this.exemplarOffsets.push(this.exemplarCount);
    this.seriesCount++;
  }

  /** Opens an exemplar row. */
  beginExemplar(): void {
    this.exLabelOffsets.push(this.exLabelRanges.n >>> 2);
    this.exemplarCount++;
  }

  /** Adds a metadata row with the given string ranges; returns its index. */
  addMetadata(series: number, type: number, nameS: number, nameE: number, helpS: number, helpE: number, unitS: number, unitE: number): number {
    this.metaSeries.push(series);
    this.metaType.push(type);
    this.metaStrings.push2(nameS, nameE);
    this.metaStrings.push2(helpS, helpE);
    this.metaStrings.push2(unitS, unitE);
    return this.metaCount++;
  }

  /** Fills wireLabelCounts from the (closed) labelOffsets. */
  private countWireLabels(): void {
    const n = this.seriesCount;
    const wl = this.wireLabelCounts;
    wl.reserve(n);
    const lo = this.labelOffsets.a;
    const out = wl.a;
    for (let i = 0; i < n; i++) out[i] = lo[i + 1]! - lo[i]!;
    wl.n = n;
  }

  /** The decoded request, copied into one allocation of its own (the Builder can be reused afterwards). */
  finish(body: Uint8Array): DecodedWriteRequest {
    this.labelOffsets.push(this.labelRanges.n >>> 2);
    this.sampleOffsets.push(this.values.n);
    this.histogramOffsets.push(this.h.count);
    this.exemplarOffsets.push(this.exemplarCount);
    this.exLabelOffsets.push(this.exLabelRanges.n >>> 2);
    this.h.close();
    const v2 = this.version === 2;
    if (!v2) this.countWireLabels();
    const a = new Arena(this.cols.all);
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return {
      version: this.version,
      bytes,
      seriesCount: this.seriesCount,
      labelOffsets: this.labelOffsets.copy(a),
      labelRanges: this.labelRanges.copy(a),
      sampleOffsets: this.sampleOffsets.copy(a),
      timestamps: this.timestamps.copy(a),
      values: this.values.copy(a),
      startTimestamps: v2 ? this.startTimestamps.copy(a) : null,
      histogramOffsets: this.histogramOffsets.copy(a),
      histograms: this.h.finish(a),
      exemplarOffsets: this.exemplarOffsets.copy(a),
      exemplars: {
        count: this.exemplarCount,
        labelOffsets: this.exLabelOffsets.copy(a),
        labelRanges: this.exLabelRanges.copy(a),
        values: this.exValues.copy(a),
        timestamps: this.exTimestamps.copy(a),
      },
      metadata: {
        count: this.metaCount,
        series: this.metaSeries.copy(a),
        type: this.metaType.copy(a),
        strings: this.metaStrings.copy(a),
      },
      seriesMetadata: v2 ? this.seriesMetadata.copy(a) : null,
      createdTimestamps: v2 ? this.createdTimestamps.copy(a) : null,
      symbolCount: this.symbolCount,
      seriesSpans: v2 ? null : this.seriesSpans.copy(a),
      wireLabelCounts: v2 ? null : this.wireLabelCounts.copy(a),
    };
  }
}

/** Scratch columns above this size are dropped after the decode instead of being kept. */
const MAX_SCRATCH_BYTES = 64 << 20;
let scratch: Builder | null = null;

export function takeBuilder(version: 1 | 2): Builder {
  const b = scratch ?? new Builder();
  scratch = null;
  b.reset(version);
  return b;
}

export function releaseBuilder(b: Builder): void {
  if (b.capacityBytes() <= MAX_SCRATCH_BYTES) scratch = b;
}

/** The typed error for a message that failed to decode (HTTP 400, gRPC INVALID_ARGUMENT). */
export function decodeError(r: WireReader, message: string): MuninnError {
  const where = r.errWhere !== '' ? ` (in ${r.errWhere})` : '';
  return new MuninnError('bad_data', `malformed ${message}: ${r.err ?? 'unknown error'} at byte ${r.errPos}${where}`);
}
