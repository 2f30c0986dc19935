// Tombstone records (type 3): repeated { ref <be64>, mint <varint>, maxt <varint> }.
import { Decbuf } from './decbuf.js';
import { Encbuf } from './encbuf.js';
import { RecordType, type Tombstone } from './types.js';

export function encodeTombstones(stones: readonly Tombstone[]): Uint8Array {
  const e = new Encbuf(1 + stones.length * 16);
  e.byte(RecordType.Tombstones);
  for (const s of stones) {
    e.be64u(s.ref);
    e.varint(s.mint);
    e.varint(s.maxt);
  }
  return e.finish();
}

export function decodeTombstones(rec: Uint8Array): { tombstones: Tombstone[]; error: string | null } {
  const d = new Decbuf(rec);
  const tombstones: Tombstone[] = [];
  if (d.byte() !== RecordType.Tombstones) return { tombstones, error: 'not a tombstones record' };
  while (d.remaining > 0 && d.err === null) {
    const ref = d.be64u();
    const mint = d.varint();
    const maxt = d.varint();
    if (d.err === null) tombstones.push({ ref, mint, maxt });
  }
  return { tombstones, error: d.err };
}
