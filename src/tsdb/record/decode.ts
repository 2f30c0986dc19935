// decodeRecord: one entry point that turns any WAL record into a DecodedRecord, never throwing.
import { countEntries } from './entries.js';
import { decodeExemplars } from './exemplars.js';
import { isHistogramRecordType } from './histograms.js';
import { decodeMetadata } from './metadata.js';
import { decodeSamples } from './samples.js';
import { decodeSeries } from './series.js';
import { decodeTombstones } from './tombstones.js';
import { RecordType, type DecodedRecord } from './types.js';

/** The record's type byte, or -1 for an empty record. */
export function recordType(rec: Uint8Array): number {
  return rec.length === 0 ? -1 : (rec[0] as number);
}

export function decodeRecord(rec: Uint8Array): DecodedRecord {
  const type = recordType(rec);
  const invalid = (error: string): DecodedRecord => ({ type: 'invalid', recordType: type, error });
  switch (type) {
    case RecordType.Series: {
      const r = decodeSeries(rec);
      return r.error !== null ? invalid(r.error) : { type: 'series', series: r.series };
    }
    case RecordType.Samples: {
      const r = decodeSamples(rec);
      return r.error !== null ? invalid(r.error) : { type: 'samples', refs: r.refs, ts: r.ts, vs: r.vs };
    }
    case RecordType.Tombstones: {
      const r = decodeTombstones(rec);
      return r.error !== null ? invalid(r.error) : { type: 'tombstones', tombstones: r.tombstones };
    }
    case RecordType.Exemplars: {
      const r = decodeExemplars(rec);
      return r.error !== null ? invalid(r.error) : { type: 'exemplars', exemplars: r.exemplars };
    }
    case RecordType.Metadata: {
      const r = decodeMetadata(rec);
      return r.error !== null ? invalid(r.error) : { type: 'metadata', metadata: r.metadata };
    }
    default:
      if (isHistogramRecordType(type)) {
        const r = countEntries(rec);
        return r.error !== null ? invalid(r.error) : { type: 'histograms', recordType: type, count: r.count };
      }
      if (type === -1) return invalid('empty record');
      return { type: 'unknown', recordType: type };
  }
}
