// Native histogram sample records (types 7-10). Not decoded yet: this walks their layout so the
// WAL can count them and a checkpoint can keep the samples newer than its mint. Each sample is
// { ref - baseRef <varint>, t - baseT <varint>, histogram } after a { baseRef <be64>, baseT <be64> }
// header; the histogram body is
//   counter reset hint <1 byte>, schema <varint>, zero threshold <be64 float>,
//   integer (7, 9): zero count <uvarint>, count <uvarint>, sum <be64 float>
//   float (8, 10):  zero count, count, sum <be64 float each>
//   positive spans: n <uvarint>, n x (offset <varint>, length <uvarint>); negative spans likewise
//   positive buckets: n <uvarint>, n x (<varint> deltas | <be64 float>); negative buckets likewise
//   custom bucket bounds when schema == -53: n <uvarint>, n x <be64 float>
import type { Decbuf } from './decbuf.js';
import { RecordType } from './types.js';

const CUSTOM_BUCKETS_SCHEMA = -53;

export function isHistogramRecordType(t: number): boolean {
  return t === RecordType.HistogramSamples || t === RecordType.FloatHistogramSamples
    || t === RecordType.CustomBucketsHistogramSamples || t === RecordType.CustomBucketsFloatHistogramSamples;
}

function skipSpans(d: Decbuf): void {
  const n = d.uvarint();
  if (n * 2 > d.remaining) return d.fail(`span count ${n} exceeds record size`);
  for (let i = 0; i < n && d.err === null; i++) {
    d.skipVarint();
    d.skipVarint();
  }
}

function skipBuckets(d: Decbuf, float: boolean): void {
  const n = d.uvarint();
  if (n > d.remaining) return d.fail(`bucket count ${n} exceeds record size`);
  if (float) d.skip(n * 8);
  else for (let i = 0; i < n && d.err === null; i++) d.skipVarint();
}

/** Reads past one histogram body (after its ref and timestamp deltas). */
export function skipHistogramBody(d: Decbuf, recordType: number): void {
  const float = recordType === RecordType.FloatHistogramSamples || recordType === RecordType.CustomBucketsFloatHistogramSamples;
  d.skip(1); // counter reset hint
  const schema = d.varint();
  d.skip(8); // zero threshold
  if (float) {
    d.skip(24); // zero count, count, sum
  } else {
    d.skipVarint(); // zero count
    d.skipVarint(); // count
    d.skip(8); // sum
  }
  skipSpans(d);
  skipSpans(d);
  skipBuckets(d, float);
  skipBuckets(d, float);
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    const n = d.uvarint();
    if (n * 8 > d.remaining) return d.fail(`custom bound count ${n} exceeds record size`);
    d.skip(n * 8);
  }
}
