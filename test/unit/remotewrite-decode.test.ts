import '../harness.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { MuninnError } from '../../src/errors/index.js';
import {
  type DecodedWriteRequest,
  decodeWriteRequest,
  decodeWriteRequestV2,
  encodeWriteRequest,
  encodeWriteRequestV2,
  exemplarLabelsOf,
  type F64,
  type HistogramObject,
  isStaleNaN,
  labelsOf,
  metadataOf,
  type SeriesObject,
  sortSeriesLabels,
  STALE_NAN_BITS,
  toObjects,
  valueBits,
  type WriteRequestObject,
} from '../../src/remotewrite/index.js';
import { mulberry32 } from '../util.js';

// protobufjs, loaded with our .proto files, is the reference decoder/encoder (the oracle).
const protoPath = (p: string): string => fileURLToPath(new URL(`../../../proto/${p}`, import.meta.url));
const V1_FILES = [protoPath('prometheus/types.proto'), protoPath('prometheus/remote.proto')];
const V2_FILE = protoPath('io/prometheus/write/v2/types.proto');

const root1 = await protobuf.load(V1_FILES[1]!);
const root2 = await protobuf.load(V2_FILE);
const WriteRequest = root1.lookupType('prometheus.WriteRequest');
const RequestV2 = root2.lookupType('io.prometheus.write.v2.Request');
const TimeSeriesV2 = root2.lookupType('io.prometheus.write.v2.TimeSeries');

/** The same schemas with every repeated number field declared [packed = false]. */
function unpackedRoot(files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replace(/(repeated\s+(?:sint64|double|uint32)\s+\w+\s*=\s*\d+)\s*;/g, '$1 [packed = false];');
    protobuf.parse(text, root);
  }
  root.resolveAll();
  return root;
}
const unpacked1 = unpackedRoot(V1_FILES).lookupType('prometheus.WriteRequest');
const unpacked2 = unpackedRoot([V2_FILE]).lookupType('io.prometheus.write.v2.Request');

type V = 1 | 2;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Pb = any;

const decode = (v: V, b: Uint8Array): DecodedWriteRequest => (v === 1 ? decodeWriteRequest(b) : decodeWriteRequestV2(b));
const encode = (v: V, o: WriteRequestObject, packed = true): Uint8Array =>
  v === 1 ? encodeWriteRequest(o, { packed }) : encodeWriteRequestV2(o, { packed });
const pbType = (v: V): protobuf.Type => (v === 1 ? WriteRequest : RequestV2);

function bitsToNumber(b: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt.asUintN(64, b));
  return dv.getFloat64(0);
}
const num = (v: F64 | undefined): number => (v === undefined ? 0 : typeof v === 'bigint' ? bitsToNumber(v) : v);

// ---------------------------------------------------------------------------------------------
// Random requests (seeded)

type Rnd = () => number;
const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;

const SPECIAL_DOUBLES = [0, -0, 1, -1, 0.5, 1e308, -1e-308, 5e-324, Infinity, -Infinity, NaN, bitsToNumber(STALE_NAN_BITS), 123456.789];
function rndDouble(rnd: Rnd): number {
  switch (int(rnd, 4)) {
    case 0:
      return pick(rnd, SPECIAL_DOUBLES);
    case 1:
      return int(rnd, 1000) - 500;
    case 2:
      return (rnd() - 0.5) * 2 ** (int(rnd, 200) - 100);
    default: {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setUint32(0, int(rnd, 2 ** 32));
      dv.setUint32(4, int(rnd, 2 ** 32));
      return dv.getFloat64(0);
    }
  }
}

const MAX = Number.MAX_SAFE_INTEGER;
function rndInt64(rnd: Rnd): number {
  switch (int(rnd, 6)) {
    case 0:
      return 0;
    case 1:
      return int(rnd, 300) - 150;
    case 2:
      return 1_700_000_000_000 + int(rnd, 1e9);
    case 3:
      return pick(rnd, [MAX, -MAX, 2 ** 32, -(2 ** 32), 2 ** 31 - 1, -(2 ** 31), 2 ** 35, -1]);
    case 4:
      return (int(rnd, 2) === 0 ? 1 : -1) * int(rnd, MAX);
    default:
      return int(rnd, 2 ** 42);
  }
}
const rndUint64 = (rnd: Rnd): number => Math.abs(rndInt64(rnd));

const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:';
const EXOTIC = ['é', 'ü', '日本', '🙂', ' ', '.', '\n', '"', '\\'];
function rndString(rnd: Rnd): string {
  const n = int(rnd, 4) === 0 ? 0 : 1 + int(rnd, int(rnd, 10) === 0 ? 200 : 16);
  let s = '';
  for (let i = 0; i < n; i++) s += int(rnd, 12) === 0 ? pick(rnd, EXOTIC) : ALPHA[int(rnd, ALPHA.length)]!;
  return s;
}
const rndLabels = (rnd: Rnd, maxPairs: number): string[] => Array.from({ length: int(rnd, maxPairs + 1) * 2 }, () => rndString(rnd));
const rndList = <T>(rnd: Rnd, max: number, f: () => T): T[] => Array.from({ length: int(rnd, max + 1) }, f);
const maybe = (rnd: Rnd): boolean => rnd() < 0.5;

function rndHistogram(rnd: Rnd, v: V): HistogramObject {
  const h: HistogramObject = {};
  const c = int(rnd, 3);
  if (c === 1) h.countInt = rndUint64(rnd);
  else if (c === 2) h.countFloat = rndDouble(rnd);
  if (maybe(rnd)) h.sum = rndDouble(rnd);
  if (maybe(rnd)) h.schema = pick(rnd, [0, -4, 8, -53, 3, 2 ** 31 - 1, -(2 ** 31)]);
  if (maybe(rnd)) h.zeroThreshold = rndDouble(rnd);
  const z = int(rnd, 3);
  if (z === 1) h.zeroCountInt = rndUint64(rnd);
  else if (z === 2) h.zeroCountFloat = rndDouble(rnd);
  const span = (): { offset: number; length: number } => ({
    offset: pick(rnd, [0, 1, -1, 5, -300, 2 ** 31 - 1, -(2 ** 31)]),
    length: pick(rnd, [0, 1, 2, 10, 2 ** 32 - 1]),
  });
  if (maybe(rnd)) h.negativeSpans = rndList(rnd, 3, span);
  if (maybe(rnd)) h.negativeDeltas = rndList(rnd, 5, () => rndInt64(rnd));
  if (maybe(rnd)) h.negativeCounts = rndList(rnd, 5, () => rndDouble(rnd));
  if (maybe(rnd)) h.positiveSpans = rndList(rnd, 3, span);
  if (maybe(rnd)) h.positiveDeltas = rndList(rnd, 5, () => rndInt64(rnd));
  if (maybe(rnd)) h.positiveCounts = rndList(rnd, 5, () => rndDouble(rnd));
  if (maybe(rnd)) h.resetHint = int(rnd, 4);
  if (maybe(rnd)) h.timestamp = rndInt64(rnd);
  if (maybe(rnd)) h.customValues = rndList(rnd, 5, () => rndDouble(rnd));
  if (v === 2 && maybe(rnd)) h.startTimestamp = rndInt64(rnd);
  return h;
}

function rndSeries(rnd: Rnd, v: V): SeriesObject {
  const s: SeriesObject = { labels: rndLabels(rnd, 5) };
  if (maybe(rnd)) s.samples = rndList(rnd, 4, () => (v === 2 && maybe(rnd) ? { value: rndDouble(rnd), timestamp: rndInt64(rnd), startTimestamp: rndInt64(rnd) } : { value: rndDouble(rnd), timestamp: rndInt64(rnd) }));
  if (int(rnd, 3) === 0) s.histograms = rndList(rnd, 2, () => rndHistogram(rnd, v));
  if (int(rnd, 3) === 0) s.exemplars = rndList(rnd, 2, () => ({ labels: rndLabels(rnd, 2), value: rndDouble(rnd), timestamp: rndInt64(rnd) }));
  if (v === 2 && maybe(rnd)) s.metadata = { type: int(rnd, 8), help: int(rnd, 3) === 0 ? '' : rndString(rnd), unit: int(rnd, 3) === 0 ? '' : rndString(rnd) };
  if (v === 2 && int(rnd, 4) === 0) s.createdTimestamp = rndInt64(rnd);
  return s;
}

function rndRequest(rnd: Rnd, v: V, maxSeries = 6): WriteRequestObject {
  const req: WriteRequestObject = { series: rndList(rnd, maxSeries, () => rndSeries(rnd, v)) };
  if (v === 1 && maybe(rnd)) req.metadata = rndList(rnd, 3, () => ({ type: int(rnd, 8), metricFamilyName: rndString(rnd), help: rndString(rnd), unit: rndString(rnd) }));
  return req;
}

// ---------------------------------------------------------------------------------------------
// Canonical object form (what toObjects returns) from generator input and from protobufjs

function canonHistogram(h: HistogramObject, v: V): HistogramObject {
  const o: HistogramObject = {};
  if (h.countInt !== undefined) o.countInt = h.countInt;
  else if (h.countFloat !== undefined) o.countFloat = num(h.countFloat);
  o.sum = num(h.sum);
  o.schema = h.schema ?? 0;
  o.zeroThreshold = num(h.zeroThreshold);
  if (h.zeroCountInt !== undefined) o.zeroCountInt = h.zeroCountInt;
  else if (h.zeroCountFloat !== undefined) o.zeroCountFloat = num(h.zeroCountFloat);
  const spans = (s?: Array<{ offset: number; length: number }>): Array<{ offset: number; length: number }> => (s ?? []).map((x) => ({ offset: x.offset, length: x.length }));
  o.negativeSpans = spans(h.negativeSpans);
  o.negativeDeltas = [...(h.negativeDeltas ?? [])];
  o.negativeCounts = (h.negativeCounts ?? []).map(num);
  o.positiveSpans = spans(h.positiveSpans);
  o.positiveDeltas = [...(h.positiveDeltas ?? [])];
  o.positiveCounts = (h.positiveCounts ?? []).map(num);
  o.resetHint = h.resetHint ?? 0;
  o.timestamp = h.timestamp ?? 0;
  o.customValues = (h.customValues ?? []).map(num);
  if (v === 2) o.startTimestamp = h.startTimestamp ?? 0;
  return o;
}

function canon(req: WriteRequestObject, v: V): WriteRequestObject {
  const series = req.series.map((s) => {
    const o: SeriesObject = {
      labels: [...s.labels],
      samples: (s.samples ?? []).map((x) => (v === 2 ? { value: num(x.value), timestamp: x.timestamp, startTimestamp: x.startTimestamp ?? 0 } : { value: num(x.value), timestamp: x.timestamp })),
      histograms: (s.histograms ?? []).map((h) => canonHistogram(h, v)),
      exemplars: (s.exemplars ?? []).map((e) => ({ labels: [...e.labels], value: num(e.value), timestamp: e.timestamp })),
    };
    if (v === 2) {
      if (s.metadata !== undefined) o.metadata = { ...s.metadata };
      o.createdTimestamp = s.createdTimestamp ?? 0;
    }
    return o;
  });
  return v === 1 ? { series, metadata: (req.metadata ?? []).map((m) => ({ ...m })) } : { series };
}

const TO_OBJECT = { longs: Number, enums: Number, defaults: true, arrays: true, oneofs: true };

function histFromPb(h: Pb, v: V): HistogramObject {
  const o: HistogramObject = {};
  if (h.count === 'countInt') o.countInt = h.countInt;
  else if (h.count === 'countFloat') o.countFloat = h.countFloat;
  o.sum = h.sum;
  o.schema = h.schema;
  o.zeroThreshold = h.zeroThreshold;
  if (h.zeroCount === 'zeroCountInt') o.zeroCountInt = h.zeroCountInt;
  else if (h.zeroCount === 'zeroCountFloat') o.zeroCountFloat = h.zeroCountFloat;
  o.negativeSpans = h.negativeSpans.map((s: Pb) => ({ offset: s.offset, length: s.length }));
  o.negativeDeltas = h.negativeDeltas;
  o.negativeCounts = h.negativeCounts;
  o.positiveSpans = h.positiveSpans.map((s: Pb) => ({ offset: s.offset, length: s.length }));
  o.positiveDeltas = h.positiveDeltas;
  o.positiveCounts = h.positiveCounts;
  o.resetHint = h.resetHint;
  o.timestamp = h.timestamp;
  o.customValues = h.customValues;
  if (v === 2) o.startTimestamp = h.startTimestamp;
  return o;
}

/** protobufjs' decoding of `bytes`, in the canonical object form. */
function oracleDecode(v: V, bytes: Uint8Array): WriteRequestObject {
  const o: Pb = pbType(v).toObject(pbType(v).decode(bytes), TO_OBJECT);
  if (v === 1) {
    const flat = (ls: Pb[]): string[] => ls.flatMap((l) => [l.name, l.value]);
    return {
      series: o.timeseries.map((ts: Pb) => ({
        labels: flat(ts.labels),
        samples: ts.samples.map((s: Pb) => ({ value: s.value, timestamp: s.timestamp })),
        histograms: ts.histograms.map((h: Pb) => histFromPb(h, 1)),
        exemplars: ts.exemplars.map((e: Pb) => ({ labels: flat(e.labels), value: e.value, timestamp: e.timestamp })),
      })),
      metadata: o.metadata.map((m: Pb) => ({ type: m.type, metricFamilyName: m.metricFamilyName, help: m.help, unit: m.unit })),
    };
  }
  const sym = (r: number): string => {
    assert.ok(r < o.symbols.length, `oracle: ref ${r} out of range`);
    return o.symbols[r];
  };
  return {
    series: o.timeseries.map((ts: Pb) => {
      const s: SeriesObject = {
        labels: ts.labelsRefs.map(sym),
        samples: ts.samples.map((x: Pb) => ({ value: x.value, timestamp: x.timestamp, startTimestamp: x.startTimestamp })),
        histograms: ts.histograms.map((h: Pb) => histFromPb(h, 2)),
        exemplars: ts.exemplars.map((e: Pb) => ({ labels: e.labelsRefs.map(sym), value: e.value, timestamp: e.timestamp })),
      };
      if (ts.metadata !== null) s.metadata = { type: ts.metadata.type, help: sym(ts.metadata.helpRef), unit: sym(ts.metadata.unitRef) };
      s.createdTimestamp = ts.createdTimestamp;
      return s;
    }),
  };
}

/** protobufjs' encoding of a request (v2: with a shuffled symbol table). */
function oracleEncode(v: V, req: WriteRequestObject, rnd: Rnd, type: protobuf.Type = pbType(v)): Uint8Array {
  const c = canon(req, v);
  let msg: Pb;
  if (v === 1) {
    const lbl = (ls: string[]): Pb[] => {
      const out: Pb[] = [];
      for (let i = 0; i < ls.length; i += 2) out.push({ name: ls[i], value: ls[i + 1] });
      return out;
    };
    msg = {
      timeseries: c.series.map((s) => ({
        labels: lbl(s.labels),
        samples: s.samples,
        histograms: s.histograms!.map((h) => canonHistogram(h, 1)),
        exemplars: s.exemplars!.map((e) => ({ labels: lbl(e.labels), value: e.value, timestamp: e.timestamp })),
      })),
      metadata: c.metadata,
    };
  } else {
    const all = new Set<string>();
    for (const s of c.series) {
      for (const l of s.labels) all.add(l);
      for (const e of s.exemplars!) for (const l of e.labels) all.add(l);
      if (s.metadata) all.add(s.metadata.help).add(s.metadata.unit);
    }
    all.delete('');
    const symbols = [...all];
    for (let i = symbols.length - 1; i > 0; i--) {
      const j = int(rnd, i + 1);
      [symbols[i], symbols[j]] = [symbols[j]!, symbols[i]!];
    }
    symbols.unshift('');
    const idx = new Map(symbols.map((s, i) => [s, i]));
    const refs = (ls: string[]): number[] => ls.map((l) => idx.get(l)!);
    msg = {
      symbols,
      timeseries: c.series.map((s) => ({
        labelsRefs: refs(s.labels),
        samples: s.samples,
        histograms: s.histograms!.map((h) => canonHistogram(h, 2)),
        exemplars: s.exemplars!.map((e) => ({ labelsRefs: refs(e.labels), value: e.value, timestamp: e.timestamp })),
        metadata: s.metadata ? { type: s.metadata.type, helpRef: idx.get(s.metadata.help), unitRef: idx.get(s.metadata.unit) } : undefined,
        createdTimestamp: s.createdTimestamp,
      })),
    };
  }
  return type.encode(type.fromObject(msg)).finish();
}

function assertBadData(f: () => unknown, re?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof MuninnError, `expected MuninnError, got ${String(e)}`);
    assert.equal(e.code, 'bad_data');
    assert.match(e.message, / at byte \d+/);
    if (re) assert.match(e.message, re);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Wire helpers for hand-made and mutated messages

function varintBytes(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const key = (field: number, wt: number): number[] => varintBytes(field * 8 + wt);
const lenField = (field: number, payload: ArrayLike<number>): number[] => [...key(field, 2), ...varintBytes(payload.length), ...Array.from(payload)];
const concat = (...parts: ArrayLike<number>[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

function readVarint(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let mul = 1;
  let x: number;
  do {
    x = b[p++]!;
    v += (x & 0x7f) * mul;
    mul *= 128;
  } while (x & 0x80);
  return [v, p];
}

function unknownField(type: protobuf.Type, rnd: Rnd): number[] {
  let field: number;
  do field = pick(rnd, [1 + int(rnd, 40), 1000 + int(rnd, 1000), 2 ** 29 - 1, 19000 + int(rnd, 1000)]);
  while (type.fieldsById[field] !== undefined);
  const wt = pick(rnd, [0, 1, 2, 5]);
  const bytes = (n: number): number[] => Array.from({ length: n }, () => int(rnd, 256));
  switch (wt) {
    case 0: {
      const n = 1 + int(rnd, 10);
      const v = Array.from({ length: n }, (_, i) => (i < n - 1 ? 0x80 | int(rnd, 128) : n === 10 ? int(rnd, 2) : int(rnd, 128)));
      return [...key(field, 0), ...v];
    }
    case 1:
      return [...key(field, 1), ...bytes(8)];
    case 5:
      return [...key(field, 5), ...bytes(4)];
    default:
      return lenField(field, bytes(int(rnd, 13)));
  }
}

/** Re-encodes `b` (a valid `type` message) with unknown fields inserted at random positions of every message in it. */
function withUnknownFields(b: Uint8Array, type: protobuf.Type, rnd: Rnd): Uint8Array {
  const parts: number[][] = [];
  let p = 0;
  while (p < b.length) {
    const start = p;
    const [k, p1] = readVarint(b, p);
    p = p1;
    const field = Math.floor(k / 8);
    const wt = k & 7;
    if (wt === 0) {
      while (b[p++]! & 0x80);
    } else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else if (wt === 2) {
      const [len, p2] = readVarint(b, p);
      p = p2 + len;
      const f = type.fieldsById[field];
      if (f?.resolvedType instanceof protobuf.Type) {
        parts.push(lenField(field, withUnknownFields(b.subarray(p2, p), f.resolvedType, rnd)));
        continue;
      }
    } else throw new Error(`unexpected wire type ${wt}`);
    parts.push(Array.from(b.subarray(start, p)));
  }
  const n = int(rnd, 4);
  for (let i = 0; i < n; i++) parts.splice(int(rnd, parts.length + 1), 0, unknownField(type, rnd));
  return concat(...parts);
}

// ---------------------------------------------------------------------------------------------
// Tests

test('protobufjs-encoded random requests decode identically (1.0 and 2.0)', () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0x5eed + v);
    for (let i = 0; i < 400; i++) {
      const req = rndRequest(rnd, v);
      const bytes = oracleEncode(v, req, rnd);
      assert.deepStrictEqual(toObjects(decode(v, bytes)), canon(req, v), `v${v} case ${i}`);
    }
  }
});

test('our encoder output decodes identically with protobufjs (packed and unpacked)', () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0xe4c0de + v);
    for (let i = 0; i < 300; i++) {
      const req = rndRequest(rnd, v);
      for (const packed of [true, false]) {
        const bytes = encode(v, req, packed);
        assert.deepStrictEqual(oracleDecode(v, bytes), canon(req, v), `v${v} case ${i} packed=${packed}`);
        assert.deepStrictEqual(toObjects(decode(v, bytes)), canon(req, v), `v${v} case ${i} packed=${packed} (ours)`);
      }
    }
  }
});

test('unpacked repeated numbers written by protobufjs are accepted', () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0xacc + v);
    for (let i = 0; i < 150; i++) {
      const req = rndRequest(rnd, v);
      const bytes = oracleEncode(v, req, rnd, v === 1 ? unpacked1 : unpacked2);
      assert.deepStrictEqual(toObjects(decode(v, bytes)), canon(req, v), `v${v} case ${i}`);
    }
  }
});

test('unknown fields of every wire type, anywhere in any message, are skipped', () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0x0dd + v);
    for (let i = 0; i < 300; i++) {
      const req = rndRequest(rnd, v);
      const bytes = withUnknownFields(oracleEncode(v, req, rnd), pbType(v), rnd);
      assert.deepStrictEqual(oracleDecode(v, bytes), canon(req, v), `oracle, v${v} case ${i}`);
      assert.deepStrictEqual(toObjects(decode(v, bytes)), canon(req, v), `v${v} case ${i}`);
    }
  }
});

test('every truncation decodes as the oracle does or fails with bad_data', { timeout: 10_000 }, () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0x7a11 + v);
    let ok = 0;
    let bad = 0;
    for (let i = 0; i < 25; i++) {
      const bytes = oracleEncode(v, rndRequest(rnd, v, 3), rnd);
      for (let n = 0; n < bytes.length; n++) {
        const prefix = bytes.slice(0, n);
        let got: DecodedWriteRequest;
        try {
          got = decode(v, prefix);
        } catch (e) {
          assert.ok(e instanceof MuninnError && e.code === 'bad_data', `v${v} case ${i} prefix ${n}: ${String(e)}`);
          bad++;
          continue;
        }
        ok++;
        assert.deepStrictEqual(toObjects(got), oracleDecode(v, prefix), `v${v} case ${i} prefix ${n}`);
      }
    }
    assert.ok(ok > 0 && bad > 0, `both outcomes seen (ok ${ok}, bad ${bad})`);
  }
});

test('random corruption never throws anything but bad_data', () => {
  const rnd = mulberry32(0xbadda7a);
  for (let i = 0; i < 3000; i++) {
    const v: V = i % 2 === 0 ? 1 : 2;
    const bytes = encode(v, rndRequest(rnd, v, 3));
    if (bytes.length === 0) continue;
    const b = bytes.slice();
    const edits = 1 + int(rnd, 4);
    for (let k = 0; k < edits; k++) b[int(rnd, b.length)] = pick(rnd, [0, 0xff, 0x80, 0x7f, int(rnd, 256)]);
    try {
      decode(v, b);
    } catch (e) {
      assert.ok(e instanceof MuninnError && e.code === 'bad_data', `case ${i}: ${String(e)}`);
    }
  }
});

test('NaN payloads and the stale marker survive exactly (values, histograms, exemplars)', () => {
  const PATTERNS = [STALE_NAN_BITS, 0x7ff8000000000001n, 0xfff8000000000000n, 0x7ff4000000000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 1n, 0x7ff0000000000000n];
  for (const v of [1, 2] as const) {
    const req: WriteRequestObject = {
      series: [
        {
          labels: ['__name__', 'm'],
          samples: PATTERNS.map((value, i) => ({ value, timestamp: i + 1 })),
          exemplars: PATTERNS.map((value, i) => ({ labels: [], value, timestamp: i + 1 })),
        },
        { labels: ['__name__', 'h'], histograms: PATTERNS.map((bits) => ({ countFloat: bits, sum: bits, zeroThreshold: bits, zeroCountFloat: bits, positiveCounts: [bits, bits], customValues: [bits] })) },
      ],
    };
    for (const packed of [true, false]) {
      const d = decode(v, encode(v, req, packed));
      const h = d.histograms;
      PATTERNS.forEach((bits, i) => {
        assert.equal(valueBits(d.values, i), bits);
        assert.equal(valueBits(d.exemplars.values, i), bits);
        for (const col of [h.countValue, h.sum, h.zeroThreshold, h.zeroCount]) assert.equal(valueBits(col, i), bits);
        assert.equal(valueBits(h.positiveCounts.values, 2 * i + 1), bits);
        assert.equal(valueBits(h.customValues.values, i), bits);
        assert.equal(isStaleNaN(d.values, i), bits === STALE_NAN_BITS);
        assert.equal(isStaleNaN(h.sum, i), bits === STALE_NAN_BITS);
      });
    }
  }
  // and a stale marker written by protobufjs (as a plain NaN number) is at least a NaN
  const b = WriteRequest.encode(WriteRequest.fromObject({ timeseries: [{ samples: [{ value: NaN, timestamp: 1 }] }] })).finish();
  assert.ok(Number.isNaN(decodeWriteRequest(b).values[0]));
});

test('int64 outside the safe-integer range is bad_data; the range edges decode exactly', () => {
  const ts = (t: string | number): Uint8Array => WriteRequest.encode(WriteRequest.fromObject({ timeseries: [{ samples: [{ value: 1, timestamp: t }] }] })).finish();
  assert.equal(decodeWriteRequest(ts(MAX)).timestamps[0], MAX);
  assert.equal(decodeWriteRequest(ts(-MAX)).timestamps[0], -MAX);
  assert.equal(decodeWriteRequest(ts(-1)).timestamps[0], -1);
  for (const t of ['9007199254740992', '-9007199254740992', '9223372036854775807', '-9223372036854775808', '18014398509481984']) {
    assertBadData(() => decodeWriteRequest(ts(t)), /int64 value outside the safe integer range/);
  }
  const hist = (h: Pb): Uint8Array => WriteRequest.encode(WriteRequest.fromObject({ timeseries: [{ histograms: [h] }] })).finish();
  assert.equal(decodeWriteRequest(hist({ countInt: MAX })).histograms.countValue[0], MAX);
  assertBadData(() => decodeWriteRequest(hist({ countInt: '9007199254740992' })), /uint64/);
  assertBadData(() => decodeWriteRequest(hist({ zeroCountInt: '18446744073709551615' })), /uint64/);
  assert.deepEqual(Array.from(decodeWriteRequest(hist({ positiveDeltas: [MAX, -MAX] })).histograms.positiveDeltas.values), [MAX, -MAX]);
  assertBadData(() => decodeWriteRequest(hist({ positiveDeltas: ['-9007199254740992'] })), /sint64/);
  assertBadData(() => decodeWriteRequest(hist({ timestamp: '-9007199254740992' })), /int64/);
  const v2 = (ts: Pb): Uint8Array => RequestV2.encode(RequestV2.fromObject({ symbols: [''], timeseries: [ts] })).finish();
  assertBadData(() => decodeWriteRequestV2(v2({ samples: [{ startTimestamp: '9007199254740992' }] })), /int64/);
  assertBadData(() => decodeWriteRequestV2(v2({ createdTimestamp: '-9223372036854775808' })), /int64/);
  assertBadData(() => decodeWriteRequestV2(v2({ histograms: [{ startTimestamp: '9007199254740993' }] })), /int64/);
});

test('malformed wire data: groups, bad wire types, long varints, bad lengths are bad_data', () => {
  const label = lenField(1, [...lenField(1, [0x61]), ...lenField(2, [0x62])]);
  const ok = lenField(1, label);
  assert.equal(decodeWriteRequest(concat(ok)).seriesCount, 1);
  // [name, body, expected message, also an error when nested in a 2.0 Sample (wire-level faults)]
  const cases: Array<[string, Uint8Array, RegExp, boolean]> = [
    ['start group', concat(ok, key(7, 3), key(7, 4)), /wire type 3 \(group\)/, true],
    ['end group', concat(key(7, 4)), /wire type 4 \(group\)/, true],
    ['group inside a Label', concat(lenField(1, lenField(1, [...key(9, 3), ...key(9, 4)]))), /group.*\(in Label\)/, false],
    ['wire type 6', concat(key(9, 6)), /invalid wire type 6/, true],
    ['wire type 7', concat(key(9, 7)), /invalid wire type 7/, true],
    ['field number 0', concat([0x00]), /field number 0/, true],
    ['field number 0, 2-byte key', concat([0x80, 0x00]), /field number 0/, true],
    ['key wider than 32 bits', concat(varintBytes(2n ** 32n + 0x0an), [0x00]), /field number above 2\^29-1/, true],
    ['11-byte varint', concat(key(9, 0), Array(10).fill(0xff), [0x01]), /varint longer than 10 bytes/, true],
    ['truncated varint', concat(key(9, 0), [0x80]), /truncated varint/, true],
    ['truncated key', concat([0x80]), /truncated varint/, true],
    ['length past the end', concat(key(1, 2), [0x05, 0x0a]), /length 5 exceeds the 1 bytes left/, true],
    ['huge length', concat(key(1, 2), [0xff, 0xff, 0xff, 0xff, 0x0f]), /exceeds/, true],
    ['6-byte length', concat(key(1, 2), [0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), /length prefix longer than 5 bytes/, true],
    ['sub-message overrun', concat(lenField(1, [...key(1, 2), 0x03, 0x0a, 0x01])), /length 3 exceeds the 2 bytes left.*\(in TimeSeries\)/, false],
    ['truncated double', concat(lenField(1, lenField(2, [0x09, 1, 2, 3]))), /truncated 64-bit field.*\(in Sample\)/, false],
    ['truncated fixed32', concat(key(9, 5), [1, 2]), /truncated 32-bit field/, true],
    ['packed doubles not a multiple of 8', concat(lenField(1, lenField(4, lenField(13, [1, 2, 3, 4, 5, 6, 7])))), /multiple of 8.*\(in Histogram\)/, false],
    ['packed sint64 overrun', concat(lenField(1, lenField(4, lenField(12, [0x80])))), /truncated varint.*\(in Histogram\)/, false],
  ];
  for (const [name, bytes, re, anywhere] of cases) {
    assertBadData(() => decodeWriteRequest(bytes), re);
    if (anywhere) assertBadData(() => decodeWriteRequestV2(concat(lenField(5, lenField(2, bytes)))), re);
    void name;
  }
});

test('a known field with an unexpected wire type is skipped like an unknown field', () => {
  // Sample{value as varint 5, timestamp as fixed64}: both skipped, the sample keeps its defaults
  const sample = [...key(1, 0), 5, ...key(2, 1), 1, 2, 3, 4, 5, 6, 7, 8, ...key(2, 0), 42];
  const d = decodeWriteRequest(concat(lenField(1, lenField(2, sample))));
  assert.equal(d.values[0], 0);
  assert.equal(d.timestamps[0], 42);
  // TimeSeries.labels as varint: skipped
  const d2 = decodeWriteRequest(concat(lenField(1, [...key(1, 0), 7])));
  assert.equal(d2.seriesCount, 1);
  assert.deepEqual(labelsOf(d2, 0), []);
});

test('fast paths (common Label and Sample layouts) fall back to the general decoder exactly', () => {
  const dbl = (v: number): number[] => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return Array.from(b);
  };
  const sample = (...f: number[][]): number[] => lenField(2, f.flat());
  const label = (...f: number[][]): number[] => lenField(1, f.flat());
  const str = (field: number, s: string): number[] => lenField(field, Array.from(Buffer.from(s)));
  const cases: Array<[string, number[], number[], number[], string[]]> = [
    // [name, series body, expected values, expected timestamps, expected labels]
    ['common layout', [...label(str(1, 'a'), str(2, 'b')), ...sample([0x09, ...dbl(1.5)], [0x10, ...varintBytes(2 ** 48)])], [1.5], [2 ** 48], ['a', 'b']],
    ['8-byte timestamp', sample([0x09, ...dbl(2)], [0x10, ...varintBytes(2 ** 49)]), [2], [2 ** 49], []],
    ['negative timestamp', sample([0x09, ...dbl(2)], [0x10, ...varintBytes(-3)]), [2], [-3], []],
    ['fields reversed', [...label(str(2, 'v'), str(1, 'n')), ...sample([0x10, 7], [0x09, ...dbl(3)])], [3], [7], ['n', 'v']],
    ['trailing unknown field', [...label(str(1, 'n'), str(2, 'v'), [...key(9, 0), 1]), ...sample([0x09, ...dbl(4)], [0x10, 8], [...key(9, 0), 1])], [4], [8], ['n', 'v']],
    ['repeated field, last wins', [...label(str(1, 'x'), str(1, 'n'), str(2, 'v')), ...sample([0x09, ...dbl(4)], [0x10, 8], [0x10, 9])], [4], [9], ['n', 'v']],
    ['long name and value', label(str(1, 'n'.repeat(200)), str(2, 'v'.repeat(300))), [], [], ['n'.repeat(200), 'v'.repeat(300)]],
    ['empty label and sample', [...label(), ...sample()], [0], [0], ['', '']],
  ];
  for (const [name, body, values, timestamps, labels] of cases) {
    const d = decodeWriteRequest(concat(lenField(1, body)));
    assert.deepEqual(Array.from(d.values), values, name);
    assert.deepEqual(Array.from(d.timestamps), timestamps, name);
    assert.deepEqual(labelsOf(d, 0), labels, name);
  }
  // an unterminated timestamp varint that fills the Sample exactly is malformed, not a fast-path value
  assertBadData(() => decodeWriteRequest(concat(lenField(1, sample([0x09, ...dbl(1)], [0x10, 0x81, 0x82])))), /truncated varint.*\(in Sample\)/);
});

test('2.0: refs of three bytes and more (over 16383 symbols) resolve; truncated refs are bad_data', () => {
  const series: SeriesObject[] = [];
  for (let i = 0; i < 9000; i++) series.push({ labels: ['__name__', `m${i}`, 'id', `v${i}`], samples: [{ value: i, timestamp: i + 1 }] });
  const bytes = encodeWriteRequestV2({ series });
  const d = decodeWriteRequestV2(bytes);
  assert.equal(d.symbolCount, 1 + 1 + 1 + 18000);
  assert.deepEqual(labelsOf(d, 8999), ['__name__', 'm8999', 'id', 'v8999']);
  assert.deepStrictEqual(toObjects(d), oracleDecode(2, bytes));
  const big = (refs: number[]): Uint8Array => concat(lenField(4, []), lenField(5, lenField(1, refs)));
  assertBadData(() => decodeWriteRequestV2(big([0x80])), /truncated varint/);
  assertBadData(() => decodeWriteRequestV2(big([0x00, 0xff, 0xff])), /truncated varint/);
  assertBadData(() => decodeWriteRequestV2(big([0x00, 0xff, 0xff, 0x7f])), /label ref 2097151 out of range \(1 symbols\)/);
  assertBadData(() => decodeWriteRequestV2(big([0x00, 0x80, 0x01])), /label ref 128 out of range/);
});

test('2.0: symbol refs resolve, even with the symbol table after the series', () => {
  const series = { labelsRefs: [3, 1, 2, 4], samples: [{ value: 2, timestamp: 5 }], exemplars: [{ labelsRefs: [5, 1], value: 1, timestamp: 6 }], metadata: { type: 1, helpRef: 6, unitRef: 0 } };
  const symbols = ['', 'x', 'job', '__name__', 'api', 'trace_id', 'Requests.'];
  const ts = RequestV2.encode(RequestV2.fromObject({ timeseries: [series] })).finish();
  const sy = RequestV2.encode(RequestV2.fromObject({ symbols })).finish();
  for (const bytes of [concat(sy, ts), concat(ts, sy)]) {
    const d = decodeWriteRequestV2(bytes);
    assert.equal(d.symbolCount, 7);
    assert.deepEqual(labelsOf(d, 0), ['__name__', 'x', 'job', 'api']);
    assert.deepEqual(exemplarLabelsOf(d, 0), ['trace_id', 'x']);
    assert.deepEqual(metadataOf(d, d.seriesMetadata![0]!), { series: 0, type: 1, metricFamilyName: '', help: 'Requests.', unit: '' });
  }
});

test('2.0: out-of-range refs and odd label refs are bad_data', () => {
  const req = (symbols: string[], ts: Pb): Uint8Array => RequestV2.encode(RequestV2.fromObject({ symbols, timeseries: [ts] })).finish();
  const S = ['', 'a', 'b'];
  assert.equal(decodeWriteRequestV2(req(S, { labelsRefs: [1, 2] })).seriesCount, 1);
  assertBadData(() => decodeWriteRequestV2(req(S, { labelsRefs: [1, 3] })), /label ref 3 out of range \(3 symbols\).*\(in TimeSeries\)/);
  assertBadData(() => decodeWriteRequestV2(req(S, { labelsRefs: [4294967295, 1] })), /label ref 4294967295 out of range/);
  assertBadData(() => decodeWriteRequestV2(req([], { labelsRefs: [0, 0] })), /label ref 0 out of range \(0 symbols\)/);
  assertBadData(() => decodeWriteRequestV2(req(S, { labelsRefs: [1, 2, 1] })), /odd number of labels_refs/);
  assertBadData(() => decodeWriteRequestV2(req(S, { exemplars: [{ labelsRefs: [1, 7] }] })), /label ref 7 out of range.*\(in Exemplar\)/);
  assertBadData(() => decodeWriteRequestV2(req(S, { exemplars: [{ labelsRefs: [1] }] })), /odd number of exemplar labels_refs/);
  assertBadData(() => decodeWriteRequestV2(req(S, { metadata: { helpRef: 3 } })), /metadata help ref 3 out of range/);
  assertBadData(() => decodeWriteRequestV2(req(S, { metadata: { unitRef: 9 } })), /metadata unit ref 9 out of range/);
  assertBadData(() => decodeWriteRequestV2(req(S, { labelsRefs: [1, 2], histograms: [{}], exemplars: [{ labelsRefs: [9, 9] }] })), /out of range/);
  // unpacked refs are checked too
  assertBadData(() => decodeWriteRequestV2(concat(lenField(4, []), lenField(5, [...key(1, 0), 1]))), /label ref 1 out of range \(1 symbols\)/);
  // ref 0 in metadata means "not set" even without a symbol table
  const d = decodeWriteRequestV2(req([], { metadata: { type: 2 } }));
  assert.deepEqual(metadataOf(d, 0), { series: 0, type: 2, metricFamilyName: '', help: '', unit: '' });
});

test('2.0: a repeated Metadata field merges; legacy created_timestamp is kept', () => {
  const a = TimeSeriesV2.encode(TimeSeriesV2.fromObject({ labelsRefs: [1, 2], metadata: { type: 1, helpRef: 1 }, createdTimestamp: 99 })).finish();
  const b = TimeSeriesV2.encode(TimeSeriesV2.fromObject({ metadata: { unitRef: 2 } })).finish();
  const bytes = concat(lenField(4, []), lenField(4, [0x61]), lenField(4, [0x62]), lenField(5, concat(a, b)));
  const d = decodeWriteRequestV2(bytes);
  assert.equal(d.metadata.count, 1);
  assert.deepEqual(metadataOf(d, 0), { series: 0, type: 1, metricFamilyName: '', help: 'a', unit: 'b' });
  assert.equal(d.createdTimestamps![0], 99);
});

test('a body of the other version decodes as an empty request (reserved field numbers)', () => {
  const rnd = mulberry32(42);
  for (let i = 0; i < 50; i++) {
    const r1 = rndRequest(rnd, 1);
    const r2 = rndRequest(rnd, 2);
    const d2as1 = decodeWriteRequest(encode(2, r2));
    assert.equal(d2as1.seriesCount + d2as1.metadata.count, 0);
    const d1as2 = decodeWriteRequestV2(encode(1, r1));
    assert.equal(d1as2.seriesCount + d1as2.symbolCount, 0);
  }
});

test('concatenated 1.0 bodies decode as one request (protobuf merge)', () => {
  const rnd = mulberry32(7);
  for (let i = 0; i < 50; i++) {
    const a = rndRequest(rnd, 1);
    const b = rndRequest(rnd, 1);
    const got = toObjects(decodeWriteRequest(concat(encode(1, a), encode(1, b))));
    const ca = canon(a, 1);
    const cb = canon(b, 1);
    assert.deepStrictEqual(got, { series: [...ca.series, ...cb.series], metadata: [...ca.metadata!, ...cb.metadata!] });
  }
});

test('1.0: seriesSpans hold each whole TimeSeries field, wireLabelCounts its label count; 2.0: null', () => {
  for (const v of [1, 2] as const) {
    const rnd = mulberry32(0x5a4 + v);
    for (let n = 0; n < 200; n++) {
      const bytes = withUnknownFields(oracleEncode(v, rndRequest(rnd, v), rnd), pbType(v), rnd);
      const d = decode(v, bytes);
      if (v === 2) {
        assert.equal(d.seriesSpans, null);
        assert.equal(d.wireLabelCounts, null);
        continue;
      }
      const spans = d.seriesSpans!;
      assert.equal(spans.length, 2 * d.seriesCount);
      assert.equal(d.wireLabelCounts!.length, d.seriesCount);
      const all = toObjects(d);
      let prev = 0;
      for (let i = 0; i < d.seriesCount; i++) {
        const s = spans[2 * i]!;
        const e = spans[2 * i + 1]!;
        assert.ok(s >= prev && e > s && e <= bytes.length, `case ${n} series ${i}: span ${s}..${e}`);
        prev = e;
        assert.equal(bytes[s], 0x0a);
        // the span alone is a WriteRequest holding just that series
        const one = decodeWriteRequest(bytes.subarray(s, e));
        assert.equal(one.seriesCount, 1);
        assert.deepStrictEqual(toObjects(one).series[0], all.series[i], `case ${n} series ${i}`);
        assert.equal(d.wireLabelCounts![i], all.series[i]!.labels.length / 2);
      }
    }
  }
  // a body that is a view into a larger buffer: spans are offsets into the body (req.bytes)
  const body = encodeWriteRequest({ series: [{ labels: ['a', 'b'] }, { labels: ['c', 'd', 'e', ''] }] });
  const padded = new Uint8Array(body.length + 9);
  padded.set(body, 5);
  const d = decodeWriteRequest(padded.subarray(5, 5 + body.length));
  assert.deepEqual(Array.from(d.seriesSpans!), [0, 10, 10, body.length]);
  assert.deepEqual(Array.from(d.wireLabelCounts!), [1, 2]);
  assert.equal(d.bytes[d.seriesSpans![2]!], 0x0a);
});

test('sortSeriesLabels sorts by name bytes, leaves sorted series alone', () => {
  const req: WriteRequestObject = {
    series: [
      { labels: ['b', '1', 'é', '2', 'Z', '3', '__name__', 'm', 'aa', '4', 'a', '5'] },
      { labels: ['__name__', 'm', 'a', '1', 'b', '2'] },
    ],
  };
  for (const v of [1, 2] as const) {
    const d = decode(v, encode(v, req));
    sortSeriesLabels(d);
    assert.deepEqual(labelsOf(d, 0), ['Z', '3', '__name__', 'm', 'a', '5', 'aa', '4', 'b', '1', 'é', '2']);
    assert.deepEqual(labelsOf(d, 1), ['__name__', 'm', 'a', '1', 'b', '2']);
  }
});

test('a 2000-series request shaped like rwload matches the oracle; label strings are lazy', () => {
  const rnd = mulberry32(2000);
  const series: SeriesObject[] = [];
  for (let i = 0; i < 2000; i++) {
    const labels = ['__name__', `rwbench_metric_${i % 100}`, 'cluster', `cluster-${i % 12}`, 'env', 'prod', 'instance', `node-${i}.bench.internal:9100`, 'job', 'api-server'];
    for (const n of ['namespace', 'pod', 'region', 'zone', 'zz']) labels.push(n, rndString(rnd) || 'x');
    series.push({ labels, samples: [{ value: rndDouble(rnd), timestamp: 1_700_000_000_000 + i }] });
  }
  for (const v of [1, 2] as const) {
    const bytes = encode(v, { series });
    const d = decode(v, bytes);
    assert.equal(d.seriesCount, 2000);
    assert.equal(d.labelRanges.length, 2000 * 10 * 4);
    assert.deepStrictEqual(toObjects(d), oracleDecode(v, bytes));
    assert.deepEqual(labelsOf(d, 1234), series[1234]!.labels);
    // a body that is a view at an offset into a larger buffer (as HTTP layers hand them out)
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 7);
    assert.deepStrictEqual(toObjects(decode(v, padded.subarray(7, 7 + bytes.length))), toObjects(d));
    assert.deepStrictEqual(toObjects(decode(v, Buffer.from(padded.buffer, 7, bytes.length))), toObjects(d));
  }
});

test('decoded memory stays proportional to the input', () => {
  // worst cases: many empty sub-messages (2 bytes each on the wire)
  const emptySamples = concat(lenField(1, Array.from({ length: 50_000 }, () => [0x12, 0x00]).flat()));
  const emptyHists = concat(lenField(1, Array.from({ length: 20_000 }, () => [0x22, 0x00]).flat()));
  for (const b of [emptySamples, emptyHists]) {
    const d = decodeWriteRequest(b);
    let bytes = 0;
    const seen = new Set<ArrayBufferLike>();
    const walk = (o: unknown): void => {
      if (ArrayBuffer.isView(o)) {
        if (!seen.has(o.buffer) && o !== d.bytes) {
          seen.add(o.buffer);
          bytes += o.buffer.byteLength;
        }
      } else if (o !== null && typeof o === 'object') for (const x of Object.values(o)) walk(x);
    };
    walk(d);
    assert.ok(bytes < b.length * 200 + 65536, `${bytes} bytes of columns for ${b.length} input bytes`);
  }
});
