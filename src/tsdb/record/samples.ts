// Float sample records (type 2): base { ref <be64>, t <be64> } of the first sample, then for every
// sample (the first included) { ref - baseRef <varint>, t - baseT <varint>, value <be64 float bits> }.
// The deltas are zig-zag *signed* varints (Prometheus writes them with PutVarint64), although
// the upstream format document draws them as uvarints.
import { Decbuf } from './decbuf.js';
import { Encbuf } from './encbuf.js';
import { RecordType, type SamplesColumns } from './types.js';

/** Smallest encoded sample: two one-byte varints and the 8-byte value. */
const MIN_SAMPLE_BYTES = 10;

/** Encodes `count` samples (default: all of refs) from parallel columns. */
export function encodeSamples(cols: SamplesColumns, count = cols.refs.length): Uint8Array {
  if (cols.ts.length < count || cols.vs.length < count || cols.refs.length < count) {
    throw new RangeError('encodeSamples: columns shorter than count');
  }
  const e = new Encbuf(17 + count * 12);
  e.byte(RecordType.Samples);
  if (count === 0) return e.finish();
  const baseRef = cols.refs[0] as number;
  const baseT = cols.ts[0] as number;
  e.be64u(baseRef);
  e.be64i(baseT);
  const vs = cols.vs;
  const bits = vs instanceof Float64Array ? new Uint8Array(vs.buffer, vs.byteOffset, vs.byteLength) : null;
  for (let i = 0; i < count; i++) {
    e.varint((cols.refs[i] as number) - baseRef);
    e.varint((cols.ts[i] as number) - baseT);
    if (bits !== null) e.be64fFrom(bits, i * 8);
    else e.be64f(vs[i] as number);
  }
  return e.finish();
}

/** Reusable columns for decoding sample records without allocating per sample. */
export class SampleBatch {
  refs: Float64Array;
  ts: Float64Array;
  vs: Float64Array;
  count = 0;

  constructor(capacity = 1024) {
    this.refs = new Float64Array(capacity);
    this.ts = new Float64Array(capacity);
    this.vs = new Float64Array(capacity);
  }

  ensure(n: number): void {
    if (n <= this.refs.length) return;
    const cap = Math.max(n, this.refs.length * 2);
    this.refs = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.vs = new Float64Array(cap);
  }
}

/**
 * Decodes a samples record into `out` (overwriting it; out.count is set). Returns null or the
 * decoding error, in which case out.count holds the samples decoded before it.
 */
export function decodeSamplesInto(rec: Uint8Array, out: SampleBatch): string | null {
  out.count = 0;
  const d = new Decbuf(rec);
  if (d.byte() !== RecordType.Samples) return 'not a samples record';
  if (d.remaining === 0) return null;
  const baseRef = d.be64u();
  const baseT = d.be64i();
  out.ensure(Math.floor(d.remaining / MIN_SAMPLE_BYTES));
  const { refs, ts } = out;
  const vbits = new Uint8Array(out.vs.buffer, out.vs.byteOffset, out.vs.byteLength);
  let n = 0;
  while (d.remaining > 0 && d.err === null) {
    const ref = baseRef + d.varint();
    const t = baseT + d.varint();
    d.be64fInto(vbits, n * 8);
    if (d.err !== null) break;
    if (ref < 0 || ref > Number.MAX_SAFE_INTEGER) {
      d.fail(`sample ref ${ref} out of range`);
      break;
    }
    refs[n] = ref;
    ts[n] = t;
    n++;
  }
  out.count = n;
  return d.err;
}

/** Decodes a samples record into fresh, exactly sized columns. */
export function decodeSamples(rec: Uint8Array): { refs: Float64Array; ts: Float64Array; vs: Float64Array; error: string | null } {
  const b = new SampleBatch(Math.max(1, Math.floor(rec.length / MIN_SAMPLE_BYTES)));
  const error = decodeSamplesInto(rec, b);
  return { refs: b.refs.slice(0, b.count), ts: b.ts.slice(0, b.count), vs: b.vs.slice(0, b.count), error };
}
