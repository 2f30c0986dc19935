// Exemplar records (type 4): base { ref <be64>, t <be64> } of the first exemplar, then for every
// exemplar { ref - baseRef <varint>, t - baseT <varint>, value <be64 float bits>, labels }, labels
// being a uvarint count and uvarint-prefixed strings as in series records.
import { Decbuf } from './decbuf.js';
import { Encbuf } from './encbuf.js';
import { getLabels, putLabels } from './series.js';
import { RecordType, type RefExemplar } from './types.js';

export function encodeExemplars(exemplars: readonly RefExemplar[]): Uint8Array {
  const e = new Encbuf(17 + exemplars.length * 48);
  e.byte(RecordType.Exemplars);
  const first = exemplars[0];
  if (first === undefined) return e.finish();
  e.be64u(first.ref);
  e.be64i(first.t);
  for (const x of exemplars) {
    e.varint(x.ref - first.ref);
    e.varint(x.t - first.t);
    e.be64f(x.v);
    putLabels(e, x.labels);
  }
  return e.finish();
}

export function decodeExemplars(rec: Uint8Array): { exemplars: RefExemplar[]; error: string | null } {
  const d = new Decbuf(rec);
  const exemplars: RefExemplar[] = [];
  if (d.byte() !== RecordType.Exemplars) return { exemplars, error: 'not an exemplars record' };
  if (d.remaining === 0) return { exemplars, error: null };
  const baseRef = d.be64u();
  const baseT = d.be64i();
  while (d.remaining > 0 && d.err === null) {
    const ref = baseRef + d.varint();
    const t = baseT + d.varint();
    const v = d.be64f();
    const labels = getLabels(d);
    if (d.err === null) exemplars.push({ ref, t, v, labels });
  }
  return { exemplars, error: d.err };
}
