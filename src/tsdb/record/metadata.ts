// Metadata records (type 6): repeated { ref <uvarint>, metric type <1 byte>, n <uvarint>,
// n x (name, value) uvarint-prefixed strings }. Prometheus writes the fields UNIT and HELP; other
// field names are read past and ignored.
import { Decbuf } from './decbuf.js';
import { Encbuf } from './encbuf.js';
import { RecordType, type RefMetadata } from './types.js';

export function encodeMetadata(metadata: readonly RefMetadata[]): Uint8Array {
  const e = new Encbuf(1 + metadata.length * 64);
  e.byte(RecordType.Metadata);
  for (const m of metadata) {
    e.uvarint(m.ref);
    e.byte(m.metricType);
    e.uvarint(2);
    e.str('UNIT');
    e.str(m.unit);
    e.str('HELP');
    e.str(m.help);
  }
  return e.finish();
}

export function decodeMetadata(rec: Uint8Array): { metadata: RefMetadata[]; error: string | null } {
  const d = new Decbuf(rec);
  const metadata: RefMetadata[] = [];
  if (d.byte() !== RecordType.Metadata) return { metadata, error: 'not a metadata record' };
  while (d.remaining > 0 && d.err === null) {
    const ref = d.uvarint();
    const metricType = d.byte();
    const n = d.uvarint();
    let unit = '';
    let help = '';
    for (let i = 0; i < n && d.err === null; i++) {
      const name = d.str();
      const value = d.str();
      if (name === 'UNIT') unit = value;
      else if (name === 'HELP') help = value;
    }
    if (d.err === null) metadata.push({ ref, metricType, unit, help });
  }
  return { metadata, error: d.err };
}
