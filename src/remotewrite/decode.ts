// Hand-written decoder for remote write 1.0 (`prometheus.WriteRequest`) into the columnar
// DecodedWriteRequest (src/remotewrite/decoded.ts; layout in docs/formats/remote-write.md).
//
// WriteRequest{1: repeated TimeSeries, 3: repeated MetricMetadata}
// TimeSeries{1: repeated Label, 2: repeated Sample, 3: repeated Exemplar, 4: repeated Histogram}
//
// A malformed body throws MuninnError('bad_data') (HTTP 400) naming the problem and its byte
// offset; nothing else is thrown. The decoder allocates no object per label, sample, exemplar or
// histogram and creates no strings.
import { type Builder, decodeError, releaseBuilder, takeBuilder } from './builder.js';
import type { U32Col } from './columns.js';
import type { DecodedWriteRequest } from './decoded.js';
import { decodeHistogram, decodeLabel, decodeSample, fastSample } from './messages.js';
import { WireReader } from './wire.js';

/** Decodes an uncompressed `prometheus.WriteRequest`. The result points into `body`. */
export function decodeWriteRequest(body: Uint8Array): DecodedWriteRequest {
  const r = new WireReader(body);
  const b = takeBuilder(1);
  try {
    while (r.pos < r.limit) {
      const at = r.pos;
      const k = r.key();
      if (k === 0x0a) decodeSeries(r, b, at);
      else if (k === 0x1a) decodeMetricMetadata(r, b);
      else r.skip(k & 7);
    }
    if (r.err !== null) throw decodeError(r, 'prometheus.WriteRequest');
    return b.finish(body);
  } finally {
    releaseBuilder(b);
  }
}

/** One TimeSeries field, whose key starts at byte `at` (recorded with its end in seriesSpans). */
function decodeSeries(r: WireReader, b: Builder, at: number): void {
  const prev = r.enter('TimeSeries');
  b.beginSeries();
  const labels = b.labelRanges;
  while (r.pos < r.limit) {
    const k = r.key();
    switch (k) {
      case 0x0a:
        if (!fastLabel(r, labels)) decodeLabel(r, labels, 'TimeSeries');
        break;
      case 0x12:
        if (!fastSample(r, b, false)) decodeSample(r, b, false);
        break;
      case 0x1a:
        decodeExemplar(r, b);
        break;
      case 0x22:
        decodeHistogram(r, b.h, false, 'TimeSeries');
        break;
      default:
        r.skip(k & 7);
    }
  }
  r.leave(prev, '');
  b.seriesSpans.push2(at, r.pos);
}

/**
 * The Label layout every sender writes: `len 0x0a n name 0x12 m value` with one-byte lengths
 * and nothing else. Returns false (having consumed nothing) for anything else, which then goes
 * through the general decodeLabel.
 */
function fastLabel(r: WireReader, out: U32Col): boolean {
  const buf = r.buf;
  const p = r.pos;
  if (p >= r.limit) return false;
  const len = buf[p]!;
  const end = p + 1 + len;
  if (len >= 0x80 || end > r.limit || len < 4 || buf[p + 1] !== 0x0a) return false;
  const n = buf[p + 2]!;
  const ns = p + 3;
  const ne = ns + n;
  if (n >= 0x80 || ne + 2 > end || buf[ne] !== 0x12) return false;
  const m = buf[ne + 1]!;
  if (ne + 2 + m !== end) return false;
  const a = out.a;
  const o = out.n;
  if (o + 4 > a.length) return false; // full: decodeLabel grows the column
  a[o] = ns;
  a[o + 1] = ne;
  a[o + 2] = ne + 2;
  a[o + 3] = end;
  out.n = o + 4;
  r.pos = end;
  return true;
}

/** Exemplar{1: repeated Label, 2: double value, 3: int64 timestamp}. */
function decodeExemplar(r: WireReader, b: Builder): void {
  const prev = r.enter('Exemplar');
  b.beginExemplar();
  let vp = -1;
  let ts = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x0a) decodeLabel(r, b.exLabelRanges, 'Exemplar');
    else if (k === 0x11) vp = r.fixed64();
    else if (k === 0x18) ts = r.i64();
    else r.skip(k & 7);
  }
  r.leave(prev, 'TimeSeries');
  b.exValues.pushWire(r.buf, vp);
  b.exTimestamps.push(ts);
}

/** MetricMetadata{1: enum type, 2: metric_family_name, 4: help, 5: unit}. */
function decodeMetricMetadata(r: WireReader, b: Builder): void {
  const prev = r.enter('MetricMetadata');
  let type = 0;
  let ns = 0;
  let ne = 0;
  let hs = 0;
  let he = 0;
  let us = 0;
  let ue = 0;
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x08) type = r.u32() | 0;
    else if (k === 0x12) {
      const n = r.len();
      ns = r.pos;
      ne = ns + n;
      r.pos = ne;
    } else if (k === 0x22) {
      const n = r.len();
      hs = r.pos;
      he = hs + n;
      r.pos = he;
    } else if (k === 0x2a) {
      const n = r.len();
      us = r.pos;
      ue = us + n;
      r.pos = ue;
    } else r.skip(k & 7);
  }
  r.leave(prev, '');
  b.addMetadata(-1, type, ns, ne, hs, he, us, ue);
}
