import '../harness.js';
// Native histogram WAL records (types 7-10, Prometheus's tsdb/record encoding): byte layout
// against a record built by hand from the format, randomized round trips of integer and float
// histograms (exponential and custom buckets), exact float bits, and the walker that checkpoints
// use agreeing with the decoders.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BucketSpanObject, F64, HistogramObject } from '../../src/remotewrite/index.js';
import { STALE_NAN, STALE_NAN_BITS } from '../../src/tsdb/chunkenc/index.js';
import {
  countEntries, decodeFloatHistogramSamples, decodeHistogramSamples, decodeRecord, encodeFloatHistogramSamples, encodeHistogramSamples,
  encodeSamples, filterRecord, RecordType, type RefHistogramSample,
} from '../../src/tsdb/record/index.js';
import { mulberry32 } from '../util.js';

// ---- helpers -------------------------------------------------------------------------------

const T0 = 1_700_000_000_000;

/** The IEEE-754 bits of a double given as a number or as a bigint of its bits. */
function bitsOf(v: F64): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
}

/** A histogram with every double replaced by its bits, so deepEqual compares bit patterns. */
function canon(h: HistogramObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === 'countFloat' || k === 'sum' || k === 'zeroThreshold' || k === 'zeroCountFloat') out[k] = bitsOf(v as F64);
    else if (k === 'positiveCounts' || k === 'negativeCounts' || k === 'customValues') out[k] = (v as F64[]).map(bitsOf);
    else out[k] = v;
  }
  return out;
}

function canonAll(es: readonly RefHistogramSample[]): Array<{ ref: number; t: number; h: Record<string, unknown> }> {
  return es.map((e) => ({ ref: e.ref, t: e.t, h: canon(e.h) }));
}

/** What a decoder gives for an entry: the histogram in full shape with timestamp = t. */
function expected(es: readonly RefHistogramSample[]): Array<{ ref: number; t: number; h: Record<string, unknown> }> {
  return es.map((e) => ({ ref: e.ref, t: e.t, h: canon({ ...e.h, timestamp: e.t }) }));
}

/** Odd doubles a float field may hold; bigints are exact bit patterns (NaNs with payloads). */
const SPECIAL: F64[] = [
  0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, Number.MAX_VALUE, 2 ** -1074, 1e-300,
  STALE_NAN_BITS, 0xfff8000000000001n, 0x7ff4000000000000n, 0x7ff8000000000001n, 0xffffffffffffffffn,
];

function randomDouble(rnd: () => number): F64 {
  const r = rnd();
  if (r < 0.15) return SPECIAL[Math.floor(rnd() * SPECIAL.length)] as F64;
  if (r < 0.3) {
    // any 64-bit pattern, as bits (covers subnormals and arbitrary NaN payloads)
    return (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
  }
  return (rnd() - 0.3) * 10 ** Math.floor(rnd() * 12);
}

function randomSpans(rnd: () => number): { spans: BucketSpanObject[]; buckets: number } {
  const n = rnd() < 0.25 ? 0 : 1 + Math.floor(rnd() * 4);
  const spans: BucketSpanObject[] = [];
  let buckets = 0;
  for (let i = 0; i < n; i++) {
    const offset = i === 0 ? Math.floor(rnd() * 200) - 100 : Math.floor(rnd() * 5);
    const length = Math.floor(rnd() * 6);
    spans.push({ offset, length });
    buckets += length;
  }
  return { spans, buckets };
}

function randomInt(rnd: () => number, max: number): number {
  return rnd() < 0.1 ? Math.floor(rnd() * 2 ** 52) : Math.floor(rnd() * max);
}

function randomSchema(rnd: () => number, customShare: number): number {
  return rnd() < customShare ? -53 : Math.floor(rnd() * 13) - 4;
}

function randomCustomValues(rnd: () => number, schema: number): F64[] {
  if (schema !== -53) return [];
  const n = Math.floor(rnd() * 8);
  const vs: number[] = [];
  let v = rnd() - 0.5;
  for (let i = 0; i < n; i++) vs.push((v += rnd() * 10));
  return vs;
}

/** An integer histogram in histogramOf's full shape (without timestamp). */
function randomIntHistogram(rnd: () => number, customShare = 0): HistogramObject {
  const schema = randomSchema(rnd, customShare);
  const pos = randomSpans(rnd);
  const neg = schema === -53 ? { spans: [], buckets: 0 } : randomSpans(rnd);
  const deltas = (n: number): number[] => Array.from({ length: n }, () => (rnd() < 0.05 ? -1 : 1) * randomInt(rnd, 2000) - 1000);
  return {
    countInt: randomInt(rnd, 1e6), sum: randomDouble(rnd), schema,
    zeroThreshold: [0, 2 ** -128, 0.001, rnd()][Math.floor(rnd() * 4)] as number,
    zeroCountInt: rnd() < 0.3 ? 0 : randomInt(rnd, 1e4),
    negativeSpans: neg.spans, negativeDeltas: deltas(neg.buckets), negativeCounts: [],
    positiveSpans: pos.spans, positiveDeltas: deltas(pos.buckets), positiveCounts: [],
    resetHint: Math.floor(rnd() * 4), customValues: randomCustomValues(rnd, schema),
  };
}

/** A float histogram in histogramOf's full shape (without timestamp). */
function randomFloatHistogram(rnd: () => number, customShare = 0): HistogramObject {
  const schema = randomSchema(rnd, customShare);
  const pos = randomSpans(rnd);
  const neg = schema === -53 ? { spans: [], buckets: 0 } : randomSpans(rnd);
  const counts = (n: number): F64[] => Array.from({ length: n }, () => randomDouble(rnd));
  return {
    countFloat: randomDouble(rnd), sum: randomDouble(rnd), schema, zeroThreshold: randomDouble(rnd), zeroCountFloat: randomDouble(rnd),
    negativeSpans: neg.spans, negativeDeltas: [], negativeCounts: counts(neg.buckets),
    positiveSpans: pos.spans, positiveDeltas: [], positiveCounts: counts(pos.buckets),
    resetHint: Math.floor(rnd() * 4), customValues: randomCustomValues(rnd, schema),
  };
}

function randomEntries(rnd: () => number, n: number, make: () => HistogramObject): RefHistogramSample[] {
  const out: RefHistogramSample[] = [];
  for (let i = 0; i < n; i++) {
    // refs and times jump both ways (negative deltas from the record's base), now and then far
    const ref = rnd() < 0.05 ? 2 ** 40 + Math.floor(rnd() * 1000) : 1 + Math.floor(rnd() * 100_000);
    const t = T0 + Math.floor((rnd() - 0.5) * (rnd() < 0.05 ? 1e12 : 1e6));
    out.push({ ref, t, h: make() });
  }
  return out;
}

function decodeAll(recs: readonly Uint8Array[], float: boolean): RefHistogramSample[] {
  const out: RefHistogramSample[] = [];
  for (const rec of recs) {
    const r = float ? decodeFloatHistogramSamples(rec) : decodeHistogramSamples(rec);
    assert.equal(r.error, null);
    out.push(...r.histograms);
  }
  return out;
}

/** The entries in the order the encoder writes them: exponential schemas first, then custom buckets. */
function recordOrder(es: readonly RefHistogramSample[]): RefHistogramSample[] {
  return [...es.filter((e) => e.h.schema !== -53), ...es.filter((e) => e.h.schema === -53)];
}

// ---- byte layout -------------------------------------------------------------------------------

describe('integer histogram record layout', () => {
  const entries: RefHistogramSample[] = [
    {
      ref: 5, t: 1000,
      h: {
        countInt: 4, sum: 4.5, schema: 3, zeroThreshold: 2 ** -7, zeroCountInt: 1,
        positiveSpans: [{ offset: -2, length: 2 }], positiveDeltas: [2, -1], negativeSpans: [], negativeDeltas: [], resetHint: 2,
      },
    },
    { ref: 3, t: 1300, h: { countInt: 0, sum: 0 } },
  ];
  // Built from docs/formats/wal.md and Prometheus's record.EncodeHistogram, field by field.
  const bytes = Uint8Array.from([
    0x07, //                                           type = 7 (HistogramSamples)
    0, 0, 0, 0, 0, 0, 0, 0x05, //                      base ref <be64> = 5 (the first entry's)
    0, 0, 0, 0, 0, 0, 0x03, 0xe8, //                   base t <be64> = 1000
    // entry 1
    0x00, //                                           ref - base <varint, zig-zag> = 0
    0x00, //                                           t - base <varint> = 0
    0x02, //                                           counter reset hint <1b> = 2 (NotCounterReset)
    0x06, //                                           schema <varint> = 3 -> zig-zag 6
    0x3f, 0x80, 0, 0, 0, 0, 0, 0, //                   zero threshold <be64 float> = 2^-7
    0x01, //                                           zero count <uvarint> = 1
    0x04, //                                           count <uvarint> = 4
    0x40, 0x12, 0, 0, 0, 0, 0, 0, //                   sum <be64 float> = 4.5
    0x01, //                                           positive spans: 1
    0x03, 0x02, //                                       offset <varint> -2 -> 3, length <uvarint> 2
    0x00, //                                           negative spans: 0
    0x02, //                                           positive buckets: 2
    0x04, 0x01, //                                       deltas <varint> 2 -> 4, -1 -> 1
    0x00, //                                           negative buckets: 0 (no custom bounds: schema != -53)
    // entry 2: every field at its default
    0x03, //                                           ref - base = -2 -> zig-zag 3
    0xd8, 0x04, //                                     t - base = 300 -> zig-zag 600 = 0x58 | 0x80, 600 >> 7 = 4
    0x00, 0x00, //                                     reset hint 0, schema 0
    0, 0, 0, 0, 0, 0, 0, 0, //                         zero threshold 0
    0x00, 0x00, //                                     zero count 0, count 0
    0, 0, 0, 0, 0, 0, 0, 0, //                         sum 0
    0x00, 0x00, 0x00, 0x00, //                         no spans, no buckets
  ]);

  test('encodes to the bytes of the format', () => {
    assert.deepEqual(encodeHistogramSamples(entries), [bytes]);
  });

  test('decodes the bytes into histograms in full shape', () => {
    const r = decodeHistogramSamples(bytes);
    assert.equal(r.error, null);
    assert.deepEqual(r.histograms, [
      {
        ref: 5, t: 1000,
        h: {
          countInt: 4, sum: 4.5, schema: 3, zeroThreshold: 2 ** -7, zeroCountInt: 1,
          negativeSpans: [], negativeDeltas: [], negativeCounts: [],
          positiveSpans: [{ offset: -2, length: 2 }], positiveDeltas: [2, -1], positiveCounts: [],
          resetHint: 2, timestamp: 1000, customValues: [],
        },
      },
      {
        ref: 3, t: 1300,
        h: {
          countInt: 0, sum: 0, schema: 0, zeroThreshold: 0, zeroCountInt: 0,
          negativeSpans: [], negativeDeltas: [], negativeCounts: [], positiveSpans: [], positiveDeltas: [], positiveCounts: [],
          resetHint: 0, timestamp: 1300, customValues: [],
        },
      },
    ]);
  });

  test('custom buckets go to a type 9 record, with their bounds after the negative buckets', () => {
    const recs = encodeHistogramSamples([{ ref: 1, t: 10, h: { countInt: 1, sum: 0.5, schema: -53, positiveSpans: [{ offset: 0, length: 1 }], positiveDeltas: [1], customValues: [0.25, 1] } }]);
    assert.equal(recs.length, 1);
    assert.deepEqual(Array.from((recs[0] as Uint8Array).subarray(0, 1)), [RecordType.CustomBucketsHistogramSamples]);
    assert.deepEqual(Array.from((recs[0] as Uint8Array).subarray(17 + 2)), [
      0x00, 0x69, //                                    reset hint 0, schema -53 -> zig-zag 105
      0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, //            zero threshold 0, zero count 0, count 1
      0x3f, 0xe0, 0, 0, 0, 0, 0, 0, //                  sum 0.5
      0x01, 0x00, 0x01, 0x00, //                        one positive span (0, 1), no negative spans
      0x01, 0x02, 0x00, //                              one positive bucket (delta 1), no negative buckets
      0x02, //                                          custom values: 2
      0x3f, 0xd0, 0, 0, 0, 0, 0, 0, //                  0.25
      0x3f, 0xf0, 0, 0, 0, 0, 0, 0, //                  1
    ]);
  });

  test('float histogram fields are be64 floats (type 8)', () => {
    const recs = encodeFloatHistogramSamples([{ ref: 1, t: 10, h: { countFloat: 3, sum: 2, zeroCountFloat: 1, schema: -1, positiveSpans: [{ offset: 1, length: 1 }], positiveCounts: [2] } }]);
    assert.equal(recs.length, 1);
    const rec = recs[0] as Uint8Array;
    assert.equal(rec[0], RecordType.FloatHistogramSamples);
    assert.deepEqual(Array.from(rec.subarray(17 + 2)), [
      0x00, 0x01, //                                    reset hint 0, schema -1 -> zig-zag 1
      0, 0, 0, 0, 0, 0, 0, 0, //                        zero threshold 0
      0x3f, 0xf0, 0, 0, 0, 0, 0, 0, //                  zero count 1.0
      0x40, 0x08, 0, 0, 0, 0, 0, 0, //                  count 3.0
      0x40, 0x00, 0, 0, 0, 0, 0, 0, //                  sum 2.0
      0x01, 0x02, 0x01, 0x00, //                        one positive span (1, 1), no negative spans
      0x01, 0x40, 0x00, 0, 0, 0, 0, 0, 0, //            one positive bucket: 2.0
      0x00, //                                          no negative buckets
    ]);
  });
});

// ---- round trips -------------------------------------------------------------------------------

describe('round trips', () => {
  test('integer histograms: random spans, deltas, schemas -4..8, zero buckets', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rnd = mulberry32(seed);
      const entries = randomEntries(rnd, 1 + Math.floor(rnd() * 60), () => randomIntHistogram(rnd));
      const recs = encodeHistogramSamples(entries);
      assert.deepEqual(recs.map((r) => r[0]), [RecordType.HistogramSamples], `seed ${seed}`);
      assert.deepEqual(canonAll(decodeAll(recs, false)), expected(entries), `seed ${seed}`);
    }
  });

  test('float histograms: random counts with any bit pattern', () => {
    for (const seed of [5, 6, 7, 99, 4321]) {
      const rnd = mulberry32(seed);
      const entries = randomEntries(rnd, 1 + Math.floor(rnd() * 60), () => randomFloatHistogram(rnd));
      const recs = encodeFloatHistogramSamples(entries);
      assert.deepEqual(recs.map((r) => r[0]), [RecordType.FloatHistogramSamples], `seed ${seed}`);
      assert.deepEqual(canonAll(decodeAll(recs, true)), expected(entries), `seed ${seed}`);
    }
  });

  test('custom buckets (schema -53) split into records 9 and 10 and come back with their bounds', () => {
    for (const seed of [11, 12, 13]) {
      const rnd = mulberry32(seed);
      const ints = randomEntries(rnd, 40, () => randomIntHistogram(rnd, 0.4));
      const floats = randomEntries(rnd, 40, () => randomFloatHistogram(rnd, 0.4));
      const intRecs = encodeHistogramSamples(ints);
      const floatRecs = encodeFloatHistogramSamples(floats);
      assert.deepEqual(intRecs.map((r) => r[0]), [RecordType.HistogramSamples, RecordType.CustomBucketsHistogramSamples]);
      assert.deepEqual(floatRecs.map((r) => r[0]), [RecordType.FloatHistogramSamples, RecordType.CustomBucketsFloatHistogramSamples]);
      assert.deepEqual(canonAll(decodeAll(intRecs, false)), expected(recordOrder(ints)), `seed ${seed}`);
      assert.deepEqual(canonAll(decodeAll(floatRecs, true)), expected(recordOrder(floats)), `seed ${seed}`);
      // only custom-bucket ones: just the custom-bucket record
      const only = ints.filter((e) => e.h.schema === -53);
      assert.deepEqual(encodeHistogramSamples(only).map((r) => r[0]), [RecordType.CustomBucketsHistogramSamples]);
    }
  });

  test('sparse input: missing fields encode as their defaults', () => {
    const [rec] = encodeHistogramSamples([{ ref: 9, t: T0, h: { countInt: 2, positiveSpans: [{ offset: 0, length: 1 }], positiveDeltas: [2] } }]);
    assert.ok(rec !== undefined);
    assert.deepEqual(decodeHistogramSamples(rec).histograms[0]?.h, {
      countInt: 2, sum: 0, schema: 0, zeroThreshold: 0, zeroCountInt: 0,
      negativeSpans: [], negativeDeltas: [], negativeCounts: [],
      positiveSpans: [{ offset: 0, length: 1 }], positiveDeltas: [2], positiveCounts: [],
      resetHint: 0, timestamp: T0, customValues: [],
    });
    const [frec] = encodeFloatHistogramSamples([{ ref: 9, t: T0, h: { countFloat: 0 } }]);
    assert.ok(frec !== undefined);
    assert.deepEqual(decodeFloatHistogramSamples(frec).histograms[0]?.h, {
      countFloat: 0, sum: 0, schema: 0, zeroThreshold: 0, zeroCountFloat: 0,
      negativeSpans: [], negativeDeltas: [], negativeCounts: [], positiveSpans: [], positiveDeltas: [], positiveCounts: [],
      resetHint: 0, timestamp: T0, customValues: [],
    });
  });

  test('no entries: no records', () => {
    assert.deepEqual(encodeHistogramSamples([]), []);
    assert.deepEqual(encodeFloatHistogramSamples([]), []);
    // a type byte alone (as Prometheus writes for none) decodes to nothing
    assert.deepEqual(decodeHistogramSamples(Uint8Array.of(7)), { histograms: [], error: null });
    assert.deepEqual(decodeFloatHistogramSamples(Uint8Array.of(10)), { histograms: [], error: null });
  });
});

// ---- exact float bits ----------------------------------------------------------------------------

describe('float bits', () => {
  const stale = (sum: F64, float: boolean): HistogramObject => (float ? { countFloat: 0, sum } : { countInt: 0, sum });

  for (const float of [false, true]) {
    const kind = float ? 'float' : 'integer';
    const encode = float ? encodeFloatHistogramSamples : encodeHistogramSamples;
    const decode = float ? decodeFloatHistogramSamples : decodeHistogramSamples;

    test(`${kind}: the stale marker in sum keeps its bits, given as bigint or as number`, () => {
      for (const sum of [STALE_NAN_BITS, STALE_NAN]) {
        const [rec] = encode([{ ref: 1, t: T0, h: stale(sum, float) }]);
        assert.ok(rec !== undefined);
        // on disk: the stale marker's exact bytes
        assert.deepEqual(Array.from(rec.subarray(rec.length - 12, rec.length - 4)), [0x7f, 0xf0, 0, 0, 0, 0, 0, 0x02]);
        // 'exact' (default): a bigint of the bits
        const exact = decode(rec).histograms[0]?.h.sum;
        assert.equal(typeof exact, 'bigint');
        assert.equal(exact, STALE_NAN_BITS);
        // 'number': a NaN number whose bits are the stale marker's while it sits in the object
        const num = decode(rec, { floats: 'number' }).histograms[0]?.h.sum;
        assert.equal(typeof num, 'number');
        assert.equal(bitsOf(num as number), STALE_NAN_BITS);
        // and re-encoding either form gives the same record
        assert.deepEqual(encode([{ ref: 1, t: T0, h: stale(exact as bigint, float) }]), [rec]);
        assert.deepEqual(encode([{ ref: 1, t: T0, h: stale(num as number, float) }]), [rec]);
      }
    });

    test(`${kind}: JS's own NaN and ordinary values decode as numbers, other NaNs as bigints`, () => {
      for (const [sum, want] of [[NaN, 'number'], [1.5, 'number'], [-0, 'number'], [Infinity, 'number'], [0x7ff8000000000001n, 'bigint'], [0xfff8000000000000n, 'bigint']] as const) {
        const [rec] = encode([{ ref: 1, t: T0, h: stale(sum, float) }]);
        const got = decode(rec as Uint8Array).histograms[0]?.h.sum;
        assert.equal(typeof got, want, String(sum));
        assert.equal(bitsOf(got as F64), bitsOf(sum), String(sum));
      }
    });
  }
});

// ---- walker, filter and errors -------------------------------------------------------------------

describe('walker and errors', () => {
  test('the entry walker (checkpoints, counting) agrees with the decoders; filtered records decode', () => {
    const rnd = mulberry32(77);
    const ints = randomEntries(rnd, 50, () => randomIntHistogram(rnd, 0.3));
    const floats = randomEntries(rnd, 50, () => randomFloatHistogram(rnd, 0.3));
    for (const [recs, float] of [[encodeHistogramSamples(ints), false], [encodeFloatHistogramSamples(floats), true]] as const) {
      for (const rec of recs) {
        const all = decodeAll([rec], float);
        assert.deepEqual(countEntries(rec), { count: all.length, error: null });
        assert.deepEqual(decodeRecord(rec), { type: 'histograms', recordType: rec[0], count: all.length });
        const kept = filterRecord(rec, (_ref, t) => t >= T0);
        const want = all.filter((e) => e.t >= T0);
        if (want.length === 0) assert.equal(kept, null);
        else {
          assert.ok(kept instanceof Uint8Array);
          assert.deepEqual(canonAll(decodeAll([kept], float)), canonAll(want));
        }
      }
    }
  });

  test('a truncated record never throws: only whole entries before the cut, an error unless the cut is between entries', () => {
    const rnd = mulberry32(8);
    for (const float of [false, true]) {
      const entries = randomEntries(rnd, 6, () => (float ? randomFloatHistogram(rnd, 0.3) : randomIntHistogram(rnd, 0.3)));
      const recs = float ? encodeFloatHistogramSamples(entries) : encodeHistogramSamples(entries);
      for (const rec of recs) {
        const full = canonAll(decodeAll([rec], float));
        for (let n = 2; n < rec.length; n++) {
          const r = float ? decodeFloatHistogramSamples(rec.subarray(0, n)) : decodeHistogramSamples(rec.subarray(0, n));
          // a cut right after an entry is a valid record of fewer entries; anywhere else, an error
          assert.ok(r.error !== null || r.histograms.length < full.length, `prefix ${n}`);
          assert.deepEqual(canonAll(r.histograms), full.slice(0, r.histograms.length), `prefix ${n}`);
        }
      }
    }
  });

  test('wrong record types are errors; a histogram of the other kind is a TypeError', () => {
    const [intRec] = encodeHistogramSamples([{ ref: 1, t: 1, h: { countInt: 1 } }]);
    const [floatRec] = encodeFloatHistogramSamples([{ ref: 1, t: 1, h: { countFloat: 1 } }]);
    assert.match(decodeFloatHistogramSamples(intRec as Uint8Array).error ?? '', /not a float histogram record/);
    assert.match(decodeHistogramSamples(floatRec as Uint8Array).error ?? '', /not an integer histogram record/);
    assert.match(decodeHistogramSamples(encodeSamples({ refs: [1], ts: [1], vs: [1] })).error ?? '', /not an integer histogram record/);
    assert.match(decodeHistogramSamples(new Uint8Array(0)).error ?? '', /not an integer histogram record/);
    assert.throws(() => encodeHistogramSamples([{ ref: 1, t: 1, h: { countFloat: 1 } }]), TypeError);
    assert.throws(() => encodeFloatHistogramSamples([{ ref: 1, t: 1, h: { countInt: 1 } }]), TypeError);
  });

  test('absurd counts fail without allocating', () => {
    // a span count of 2^40 in an otherwise short record
    const rec = Uint8Array.from([7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...new Array<number>(8).fill(0), 0, 0, ...new Array<number>(8).fill(0), 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    assert.match(decodeHistogramSamples(rec).error ?? '', /span count \d+ exceeds record size/);
  });
});
