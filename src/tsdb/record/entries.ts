// Walks the entries of a record without decoding labels into strings, reporting each entry's byte
// range with its series ref and timestamp. A checkpoint uses it to copy the entries it keeps
// verbatim: every per-entry delta is relative to the record's header (never to the previous
// entry), so any subset of entries behind the original header is again a valid record.
import { Decbuf } from './decbuf.js';
import { isHistogramRecordType, skipHistogramBody } from './histograms.js';
import { skipLabels } from './series.js';
import { RecordType } from './types.js';

/** ref: the entry's series; t: its timestamp (a tombstone's maxt; NaN for series and metadata). */
export type EntryVisitor = (start: number, end: number, ref: number, t: number) => void;

export interface WalkResult {
  /** Bytes before the first entry that every subset must keep (type byte and any base header). */
  header: number;
  error: string | null;
}

/** Walks a record's entries; null if the record type is not one it knows how to walk. */
export function walkEntries(rec: Uint8Array, visit: EntryVisitor): WalkResult | null {
  const d = new Decbuf(rec);
  const type = d.byte();
  switch (type) {
    case RecordType.Series:
      while (d.remaining > 0 && d.err === null) {
        const start = d.pos;
        const ref = d.be64u();
        skipLabels(d);
        if (d.err === null) visit(start, d.pos, ref, NaN);
      }
      return { header: 1, error: d.err };
    case RecordType.Tombstones:
      while (d.remaining > 0 && d.err === null) {
        const start = d.pos;
        const ref = d.be64u();
        d.skipVarint();
        const maxt = d.varint();
        if (d.err === null) visit(start, d.pos, ref, maxt);
      }
      return { header: 1, error: d.err };
    case RecordType.Metadata:
      while (d.remaining > 0 && d.err === null) {
        const start = d.pos;
        const ref = d.uvarint();
        d.skip(1);
        const n = d.uvarint();
        for (let i = 0; i < n * 2 && d.err === null; i++) d.skipStr();
        if (d.err === null) visit(start, d.pos, ref, NaN);
      }
      return { header: 1, error: d.err };
    case RecordType.Samples:
    case RecordType.Exemplars:
    case RecordType.HistogramSamples:
    case RecordType.FloatHistogramSamples:
    case RecordType.CustomBucketsHistogramSamples:
    case RecordType.CustomBucketsFloatHistogramSamples: {
      if (d.remaining === 0) return { header: 1, error: null };
      const baseRef = d.be64u();
      const baseT = d.be64i();
      const hist = isHistogramRecordType(type);
      while (d.remaining > 0 && d.err === null) {
        const start = d.pos;
        const ref = baseRef + d.varint();
        const t = baseT + d.varint();
        if (type === RecordType.Samples) d.skip(8);
        else if (type === RecordType.Exemplars) {
          d.skip(8);
          skipLabels(d);
        } else if (hist) skipHistogramBody(d, type);
        if (d.err === null) visit(start, d.pos, ref, t);
      }
      return { header: 17, error: d.err };
    }
    default:
      return null;
  }
}

/**
 * The record with only the entries `keep` accepts: the record itself if all are kept, null if none
 * is (or the type cannot be walked), or a string with the decoding error.
 */
export function filterRecord(rec: Uint8Array, keep: (ref: number, t: number) => boolean): Uint8Array | null | string {
  const ranges: number[] = [];
  let total = 0;
  let kept = 0;
  const res = walkEntries(rec, (start, end, ref, t) => {
    total++;
    if (!keep(ref, t)) return;
    kept++;
    const last = ranges.length - 1;
    if (last > 0 && ranges[last] === start) ranges[last] = end;
    else ranges.push(start, end);
  });
  if (res === null) return null;
  if (res.error !== null) return res.error;
  if (kept === 0) return null;
  if (kept === total) return rec;
  let size = res.header;
  for (let i = 0; i < ranges.length; i += 2) size += (ranges[i + 1] as number) - (ranges[i] as number);
  const out = new Uint8Array(size);
  out.set(rec.subarray(0, res.header), 0);
  let p = res.header;
  for (let i = 0; i < ranges.length; i += 2) {
    const s = ranges[i] as number;
    const e = ranges[i + 1] as number;
    out.set(rec.subarray(s, e), p);
    p += e - s;
  }
  return out;
}

/** The number of entries in a walkable record (0 for others). */
export function countEntries(rec: Uint8Array): { count: number; error: string | null } {
  let count = 0;
  const res = walkEntries(rec, () => {
    count++;
  });
  return { count, error: res === null ? null : res.error };
}
