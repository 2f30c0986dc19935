// Hand-written decoder for remote write 2.0 (`io.prometheus.write.v2.Request`) into the same
// columnar DecodedWriteRequest as 1.0: symbol references are resolved to byte ranges of the
// symbol strings, so consumers see labels the same way for both versions.
//
// Request{4: repeated string symbols, 5: repeated TimeSeries}   (1..3 reserved)
// TimeSeries{1: packed uint32 labels_refs, 2: Sample, 3: Histogram, 4: Exemplar, 5: Metadata,
//            6: int64 created_timestamp (legacy, before 2.0-rc.4)}
//
// The symbol table is read first (a quick pass over the top-level fields, which skips each
// TimeSeries by its length), because protobuf does not promise that field 4 precedes field 5.
// A label, exemplar or metadata ref >= symbols.length, or an odd number of label refs, is
// MuninnError('bad_data'), like any other malformed input.
import { type Builder, decodeError, releaseBuilder, takeBuilder } from './builder.js';
import { U32Col } from './columns.js';
import type { DecodedWriteRequest } from './decoded.js';
import { decodeHistogram, decodeSample, fastSample } from './messages.js';
import { WireReader } from './wire.js';

const MESSAGE = 'io.prometheus.write.v2.Request';

interface Symbols {
  /** 2 per symbol: start, end (byte offsets into the body) */
  readonly ranges: Uint32Array;
  readonly count: number;
}

/** Decodes an uncompressed `io.prometheus.write.v2.Request`. The result points into `body`. */
export function decodeWriteRequestV2(body: Uint8Array): DecodedWriteRequest {
  const sym = readSymbols(body);
  const r = new WireReader(body);
  const b = takeBuilder(2);
  try {
    b.symbolCount = sym.count;
    while (r.pos < r.limit) {
      const k = r.key();
      if (k === 0x2a) decodeSeries(r, b, sym);
      else r.skip(k & 7);
    }
    if (r.err !== null) throw decodeError(r, MESSAGE);
    return b.finish(body);
  } finally {
    releaseBuilder(b);
  }
}

function readSymbols(body: Uint8Array): Symbols {
  const r = new WireReader(body);
  const col = new U32Col(256);
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x22) {
      const n = r.len();
      const s = r.pos;
      r.pos = s + n;
      col.push2(s, s + n);
    } else r.skip(k & 7);
  }
  if (r.err !== null) throw decodeError(r, MESSAGE);
  return { ranges: col.view(), count: col.n >>> 1 };
}

function badRef(r: WireReader, sym: Symbols, ref: number): void {
  r.fail(`label ref ${ref} out of range (${sym.count} symbols)`);
}

/**
 * A repeated uint32 of symbol refs, packed (wire type 2) or one value (wire type 0), appended
 * to `out` as the byte ranges of those symbols. The packed loop is the 2.0 hot path: a field of
 * n bytes holds at most n refs, so room is made once and refs of one or two bytes are read inline.
 */
function refs(r: WireReader, out: U32Col, sym: Symbols, packed: boolean): void {
  const ranges = sym.ranges;
  const count = sym.count;
  if (!packed) {
    const ref = r.u32();
    if (ref >= count) badRef(r, sym, ref);
    else out.push2(ranges[2 * ref]!, ranges[2 * ref + 1]!);
    return;
  }
  const n = r.len();
  const end = r.pos + n;
  out.reserve(2 * n);
  const a = out.a;
  const buf = r.buf;
  let o = out.n;
  let pos = r.pos;
  while (pos < end) {
    let ref = buf[pos++]!;
    if (ref >= 0x80) {
      if (pos < end && buf[pos]! < 0x80) ref = (ref & 0x7f) | (buf[pos++]! << 7);
      else {
        // three bytes or more, or truncated: the general reader, bounded by the field
        const prev = r.limit;
        r.pos = pos - 1;
        r.limit = end;
        ref = r.u32();
        r.limit = prev;
        if (r.err !== null) break;
        pos = r.pos;
      }
    }
    if (ref >= count) {
      r.pos = pos;
      badRef(r, sym, ref);
      break;
    }
    a[o] = ranges[2 * ref]!;
    a[o + 1] = ranges[2 * ref + 1]!;
    o += 2;
  }
  out.n = o;
  if (r.err === null) r.pos = end;
}

function decodeSeries(r: WireReader, b: Builder, sym: Symbols): void {
  const prev = r.enter('TimeSeries');
  const series = b.seriesCount;
  b.beginSeries();
  const labels = b.labelRanges;
  const start = labels.n;
  let metaRow = -1;
  let created = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    switch (k) {
      case 0x0a:
        refs(r, labels, sym, true);
        break;
      case 0x08:
        refs(r, labels, sym, false);
        break;
      case 0x12:
        if (!fastSample(r, b, true)) decodeSample(r, b, true);
        break;
      case 0x1a:
        decodeHistogram(r, b.h, true, 'TimeSeries');
        break;
      case 0x22:
        decodeExemplar(r, b, sym);
        break;
      case 0x2a:
        metaRow = decodeMetadata(r, b, sym, series, metaRow);
        break;
      case 0x30:
        created = r.i64();
        break;
      default:
        r.skip(k & 7);
    }
  }
  if (((labels.n - start) & 3) !== 0) r.fail('odd number of labels_refs');
  r.leave(prev, '');
  b.seriesMetadata.push(metaRow);
  b.createdTimestamps.push(created);
}

/** Exemplar{1: packed uint32 labels_refs, 2: double value, 3: int64 timestamp}. */
function decodeExemplar(r: WireReader, b: Builder, sym: Symbols): void {
  const prev = r.enter('Exemplar');
  b.beginExemplar();
  const labels = b.exLabelRanges;
  const start = labels.n;
  let vp = -1;
  let ts = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x0a) refs(r, labels, sym, true);
    else if (k === 0x08) refs(r, labels, sym, false);
    else if (k === 0x11) vp = r.fixed64();
    else if (k === 0x18) ts = r.i64();
    else r.skip(k & 7);
  }
  if (((labels.n - start) & 3) !== 0) r.fail('odd number of exemplar labels_refs');
  r.leave(prev, 'TimeSeries');
  b.exValues.pushWire(r.buf, vp);
  b.exTimestamps.push(ts);
}

/**
 * Metadata{1: enum type, 3: uint32 help_ref, 4: uint32 unit_ref}. A second Metadata field in the
 * same series merges into the first (protobuf semantics for a repeated singular message field).
 * Ref 0 means "not set" and resolves to symbols[0] (which must be "") or to "" if there are none.
 */
function decodeMetadata(r: WireReader, b: Builder, sym: Symbols, series: number, row: number): number {
  const prev = r.enter('Metadata');
  if (row < 0) {
    const z0 = sym.count > 0 ? sym.ranges[0]! : 0;
    const z1 = sym.count > 0 ? sym.ranges[1]! : 0;
    row = b.addMetadata(series, 0, 0, 0, z0, z1, z0, z1);
  }
  const strings = b.metaStrings.a;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x08) b.metaType.a[row] = r.u32() | 0;
    else if (k === 0x18 || k === 0x20) {
      const ref = r.u32();
      const at = row * 6 + (k === 0x18 ? 2 : 4);
      if (ref >= sym.count) {
        if (ref !== 0) r.fail(`metadata ${k === 0x18 ? 'help' : 'unit'} ref ${ref} out of range (${sym.count} symbols)`);
        strings[at] = 0;
        strings[at + 1] = 0;
      } else {
        strings[at] = sym.ranges[2 * ref]!;
        strings[at + 1] = sym.ranges[2 * ref + 1]!;
      }
    } else r.skip(k & 7);
  }
  r.leave(prev, 'TimeSeries');
  return row;
}
