// Series records (type 1): repeated { ref <be64>, n <uvarint>, 2n x (len <uvarint>, utf-8 bytes) }.
import { Decbuf } from './decbuf.js';
import { Encbuf } from './encbuf.js';
import { RecordType, type FlatLabels, type RefSeries, type RefSeriesInput } from './types.js';

function flatten(labels: RefSeriesInput['labels']): FlatLabels {
  if (labels.length === 0 || typeof labels[0] === 'string') return labels as FlatLabels;
  const out: string[] = [];
  for (const p of labels as ReadonlyArray<readonly [string, string]>) out.push(p[0], p[1]);
  return out;
}

/** Writes labels as uvarint count + uvarint-prefixed strings (shared by series and exemplars). */
export function putLabels(e: Encbuf, flat: FlatLabels): void {
  if (flat.length % 2 !== 0) throw new RangeError('labels: odd number of strings in a flat label list');
  e.uvarint(flat.length / 2);
  for (const s of flat) e.str(s);
}

export function getLabels(d: Decbuf): FlatLabels {
  const n = d.uvarint();
  if (n * 2 > d.remaining) {
    d.fail(`label count ${n} exceeds record size`);
    return [];
  }
  const out: string[] = new Array<string>(n * 2);
  for (let i = 0; i < n * 2; i++) out[i] = d.str();
  return out;
}

export function skipLabels(d: Decbuf): void {
  const n = d.uvarint();
  if (n * 2 > d.remaining) {
    d.fail(`label count ${n} exceeds record size`);
    return;
  }
  for (let i = 0; i < n * 2 && d.err === null; i++) d.skipStr();
}

export function encodeSeries(series: readonly RefSeriesInput[]): Uint8Array {
  const e = new Encbuf(1 + series.length * 64);
  e.byte(RecordType.Series);
  for (const s of series) {
    e.be64u(s.ref);
    putLabels(e, flatten(s.labels));
  }
  return e.finish();
}

/**
 * Calls fn for each series in a series record, in order; returns null or the decoding error.
 * The labels array is fresh per series (the caller may keep it).
 */
export function forEachSeries(rec: Uint8Array, fn: (ref: number, labels: FlatLabels) => void): string | null {
  const d = new Decbuf(rec);
  if (d.byte() !== RecordType.Series) return 'not a series record';
  while (d.remaining > 0 && d.err === null) {
    const ref = d.be64u();
    const labels = getLabels(d);
    if (d.err !== null) break;
    fn(ref, labels);
  }
  return d.err;
}

export function decodeSeries(rec: Uint8Array): { series: RefSeries[]; error: string | null } {
  const series: RefSeries[] = [];
  const error = forEachSeries(rec, (ref, labels) => series.push({ ref, labels }));
  return { series, error };
}
