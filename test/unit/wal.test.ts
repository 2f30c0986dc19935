import '../harness.js';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { UnavailableError } from '../../src/errors/index.js';
import {
  PAGE_SIZE, RecordType, SampleBatch, Wal, checkpoint, checkpointName, decodeRecord, decodeSamplesInto, encodeExemplars, encodeMetadata,
  encodeSamples, encodeSeries, encodeTombstones, listSegments, replayWal, segmentName, snappyDecode, type ReplayResult,
} from '../../src/tsdb/wal/index.js';
import { filterRecord } from '../../src/tsdb/record/index.js';
import { mulberry32, withDeadline } from '../util.js';

// ---- helpers -------------------------------------------------------------------------------

const root = mkdtempSync(join(tmpdir(), 'muninn-wal-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirSeq = 0;
function freshDir(): string {
  const d = join(root, `d${dirSeq++}`);
  mkdirSync(d);
  return d;
}

/** A record whose first 4 bytes hold id and whose body is `size` bytes derived from it. */
function rec(id: number, size: number): Uint8Array {
  const b = new Uint8Array(Math.max(4, size));
  new DataView(b.buffer).setUint32(0, id);
  for (let i = 4; i < b.length; i++) b[i] = (id * 31 + i * 7) & 0xff;
  return b;
}
function idOf(r: Uint8Array): number {
  return new DataView(r.buffer, r.byteOffset, r.byteLength).getUint32(0);
}

async function replayAll(dir: string, repair = true): Promise<{ recs: Uint8Array[]; segs: number[]; res: ReplayResult }> {
  const recs: Uint8Array[] = [];
  const segs: number[] = [];
  const res = await replayWal(dir, (r, s) => {
    recs.push(r.slice());
    segs.push(s);
  }, { repair });
  return { recs, segs, res };
}

async function writeAll(dir: string, records: Uint8Array[], opts: { segmentSize?: number } = {}): Promise<void> {
  const w = await Wal.open(dir, { syncMode: 'batch', ...opts });
  for (const r of records) await w.log([r]);
  await w.close();
}

/** Fragment headers of a segment file: [offset, type, length]. */
function fragments(file: Uint8Array): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let page = 0; page < file.length; page += PAGE_SIZE) {
    let p = page;
    const end = Math.min(page + PAGE_SIZE, file.length);
    while (p + 7 <= end && file[p] !== 0) {
      const len = dv.getUint16(p + 1);
      out.push([p, file[p] as number, len]);
      p += 7 + len;
    }
  }
  return out;
}

function bitsOf(f: Float64Array, i: number): string {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return dv.getBigUint64(i * 8, true).toString(16);
}

const STALE_BITS = 0x7ff0000000000002n;
const isUnavailable = (e: unknown): boolean => e instanceof UnavailableError && e.retryable && e.code === 'unavailable';

// ---- record codecs -------------------------------------------------------------------------

describe('record codecs', () => {
  test('series round-trip: flat and paired labels, UTF-8, empty label sets, refs up to 2^53-1', () => {
    const series = [
      { ref: 1, labels: ['__name__', 'up', 'job', 'node'] },
      { ref: 2 ** 53 - 1, labels: [['__name__', 'métrique_ü'], ['instance', 'ホスト:9090']] as Array<[string, string]> },
      { ref: 0, labels: [] as string[] },
      { ref: 77, labels: ['long', 'x'.repeat(300)] },
    ];
    const d = decodeRecord(encodeSeries(series));
    assert.equal(d.type, 'series');
    if (d.type !== 'series') return;
    assert.deepEqual(d.series, [
      { ref: 1, labels: ['__name__', 'up', 'job', 'node'] },
      { ref: 2 ** 53 - 1, labels: ['__name__', 'métrique_ü', 'instance', 'ホスト:9090'] },
      { ref: 0, labels: [] },
      { ref: 77, labels: ['long', 'x'.repeat(300)] },
    ]);
  });

  test('series layout is the spec: type 1, ref uint64 BE, uvarint count, uvarint-prefixed strings', () => {
    const b = encodeSeries([{ ref: 0x0102030405, labels: ['a', 'bc'] }]);
    assert.deepEqual([...b], [1, 0, 0, 0, 1, 2, 3, 4, 5, 1, 1, 0x61, 2, 0x62, 0x63]);
  });

  test('samples round-trip preserves NaN payloads and the stale marker bit for bit', () => {
    const vs = new Float64Array(8);
    const bits = new DataView(vs.buffer);
    bits.setBigUint64(0, STALE_BITS, true);
    bits.setBigUint64(8, 0x7ff8000000000001n, true);
    bits.setBigUint64(16, 0xfff0000000000abcn, true);
    vs[3] = -0;
    vs[4] = Infinity;
    vs[5] = -Infinity;
    vs[6] = 1.5e-300;
    vs[7] = 42;
    const refs = [10, 3, 2 ** 53 - 1, 0, 10, 11, 12, 13];
    const ts = [1_700_000_000_000, 1_600_000_000_000, -5, 0, 2 ** 52, 1, 2, 3];
    const enc = encodeSamples({ refs, ts, vs });
    const d = decodeRecord(enc);
    assert.equal(d.type, 'samples');
    if (d.type !== 'samples') return;
    assert.deepEqual([...d.refs], refs);
    assert.deepEqual([...d.ts], ts);
    for (let i = 0; i < vs.length; i++) assert.equal(bitsOf(d.vs, i), bitsOf(vs, i), `value ${i}`);
    assert.equal(bitsOf(d.vs, 0), STALE_BITS.toString(16));
    assert.ok(Object.is(d.vs[3], -0));
    // Layout: type, first ref and first ts as 8-byte BE, then per sample zig-zag varint deltas + BE float bits.
    const dv = new DataView(enc.buffer, enc.byteOffset);
    assert.equal(enc[0], RecordType.Samples);
    assert.equal(dv.getBigUint64(1), 10n);
    assert.equal(dv.getBigInt64(9), 1_700_000_000_000n);
    assert.deepEqual([...enc.subarray(17, 19)], [0, 0]);
    assert.equal(dv.getBigUint64(19), STALE_BITS);
    assert.equal(enc[27], 13); // ref delta -7, zig-zag
  });

  test('decodeSamplesInto reuses its columns; empty samples records decode to nothing', () => {
    const batch = new SampleBatch(2);
    assert.equal(decodeSamplesInto(encodeSamples({ refs: [1, 2, 3], ts: [5, 6, 7], vs: new Float64Array([1, 2, 3]) }), batch), null);
    assert.equal(batch.count, 3);
    assert.deepEqual([...batch.ts.subarray(0, 3)], [5, 6, 7]);
    assert.equal(decodeSamplesInto(encodeSamples({ refs: [], ts: [], vs: [] }), batch), null);
    assert.equal(batch.count, 0);
    const d = decodeRecord(encodeSamples({ refs: [], ts: [], vs: [] }));
    assert.equal(d.type, 'samples');
  });

  test('every truncation of a record decodes to "invalid", never throws', () => {
    const recs = [
      encodeSeries([{ ref: 5, labels: ['a', 'b', 'c', 'd'] }, { ref: 6, labels: ['e', 'f'] }]),
      encodeSamples({ refs: [1, 200, 3], ts: [1000, 999, 5000], vs: new Float64Array([1, 2, 3]) }),
      encodeTombstones([{ ref: 1, mint: -5, maxt: 100 }]),
      encodeExemplars([{ ref: 1, t: 10, v: 1, labels: ['trace_id', 'abc'] }]),
      encodeMetadata([{ ref: 3, metricType: 1, unit: 'seconds', help: 'h' }]),
    ];
    for (const r of recs) {
      for (let n = 1; n < r.length; n++) {
        const d = decodeRecord(r.subarray(0, n));
        // A cut that happens to fall between entries is a shorter valid record; anything else is invalid.
        assert.ok(d.type === 'invalid' || d.type === decodeRecord(r).type, `type ${r[0]} cut at ${n}: ${d.type}`);
      }
    }
    assert.equal(decodeRecord(new Uint8Array(0)).type, 'invalid');
  });

  test('tombstones, exemplars and metadata decode; unknown types are reported, not fatal', () => {
    const t = decodeRecord(encodeTombstones([{ ref: 9, mint: -100, maxt: 2 ** 40 }, { ref: 10, mint: 0, maxt: 1 }]));
    assert.deepEqual(t, { type: 'tombstones', tombstones: [{ ref: 9, mint: -100, maxt: 2 ** 40 }, { ref: 10, mint: 0, maxt: 1 }] });
    const e = decodeRecord(encodeExemplars([{ ref: 4, t: 100, v: 0.5, labels: ['trace_id', 'x'] }, { ref: 2, t: 90, v: 2, labels: [] }]));
    assert.deepEqual(e, { type: 'exemplars', exemplars: [{ ref: 4, t: 100, v: 0.5, labels: ['trace_id', 'x'] }, { ref: 2, t: 90, v: 2, labels: [] }] });
    const m = decodeRecord(encodeMetadata([{ ref: 300, metricType: 2, unit: '', help: 'Help ü' }]));
    assert.deepEqual(m, { type: 'metadata', metadata: [{ ref: 300, metricType: 2, unit: '', help: 'Help ü' }] });
    assert.deepEqual(decodeRecord(new Uint8Array([11, 1, 2, 3])), { type: 'unknown', recordType: 11 });
    assert.deepEqual(decodeRecord(new Uint8Array([200])), { type: 'unknown', recordType: 200 });
  });

  test('histogram records are walked and counted; filterRecord keeps entries behind the original header', () => {
    const h = histogramRecord([[7, 1000], [8, 2000], [9, 3000]], true);
    assert.deepEqual(decodeRecord(h), { type: 'histograms', recordType: RecordType.FloatHistogramSamples, count: 3 });
    const kept = filterRecord(h, (_ref, t) => t >= 2000);
    assert.ok(kept instanceof Uint8Array);
    assert.deepEqual(decodeRecord(kept), { type: 'histograms', recordType: RecordType.FloatHistogramSamples, count: 2 });
    const s = filterRecord(encodeSamples({ refs: [1, 2, 3], ts: [10, 20, 30], vs: new Float64Array([1, 2, 3]) }), (ref) => ref !== 1);
    assert.ok(s instanceof Uint8Array);
    const d = decodeRecord(s);
    assert.ok(d.type === 'samples');
    assert.deepEqual([...d.refs], [2, 3]);
    assert.deepEqual([...d.ts], [20, 30]);
  });
});

/** A float (type 8) or integer (type 7) histogram record by hand, with one span and two buckets. */
function histogramRecord(samples: Array<[number, number]>, float: boolean): Uint8Array {
  const out: number[] = [float ? 8 : 7];
  const be64 = (v: number): void => {
    const b = new DataView(new ArrayBuffer(8));
    b.setBigInt64(0, BigInt(v));
    out.push(...new Uint8Array(b.buffer));
  };
  const f64 = (v: number): void => {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, v);
    out.push(...new Uint8Array(b.buffer));
  };
  const zz = (v: number): void => {
    out.push(...varintBytes(v));
  };
  const [ref0, t0] = samples[0] as [number, number];
  be64(ref0);
  be64(t0);
  for (const [ref, t] of samples) {
    zz(ref - ref0);
    zz(t - t0);
    out.push(0); // counter reset hint
    zz(3); // schema
    f64(0.001); // zero threshold
    if (float) {
      f64(1); // zero count
      f64(5); // count
      f64(12.5); // sum
    } else {
      out.push(1, 5); // zero count, count (uvarints)
      f64(12.5);
    }
    out.push(1); // one positive span
    zz(0); // offset
    out.push(2); // length
    out.push(0); // no negative spans
    out.push(2); // two positive buckets
    if (float) {
      f64(2);
      f64(2);
    } else {
      zz(2);
      zz(0);
    }
    out.push(0); // no negative buckets
  }
  return new Uint8Array(out);
}
function varintBytes(v: number): number[] {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  const out: number[] = [];
  while (u >= 0x80) {
    out.push((u % 128) | 0x80);
    u = Math.floor(u / 128);
  }
  out.push(u);
  return out;
}

// ---- writing and replaying -----------------------------------------------------------------

describe('write and replay', () => {
  test('replay gives back every record exactly, in order, with its segment', async () => {
    const dir = freshDir();
    const rnd = mulberry32(1);
    const records = Array.from({ length: 400 }, (_, i) => rec(i, Math.floor(rnd() ** 3 * 20_000)));
    records.push(new Uint8Array(0));
    const w = await Wal.open(dir, { syncMode: 'batch' });
    for (let i = 0; i < records.length; i += 7) await w.log(records.slice(i, i + 7));
    assert.deepEqual(w.segmentRange(), { first: 0, last: 0 });
    await w.close();
    const { recs, segs, res } = await replayAll(dir);
    assert.equal(recs.length, records.length);
    for (let i = 0; i < records.length; i++) assert.deepEqual(recs[i], records[i], `record ${i}`);
    assert.ok(segs.every((s) => s === 0));
    assert.equal(res.repair, null);
    assert.deepEqual(res.warnings, []);
  });

  test('a record larger than a page spans first/middle/last fragments', async () => {
    const dir = freshDir();
    const big = rec(1, 3 * PAGE_SIZE + 100);
    await writeAll(dir, [rec(0, 100), big, rec(2, 10)]);
    const file = readFileSync(join(dir, segmentName(0)));
    const frags = fragments(file).map(([, type, len]) => [type, len]);
    assert.deepEqual(frags, [
      [1, 100],
      [2, PAGE_SIZE - 7 - 107],
      [3, PAGE_SIZE - 7],
      [3, PAGE_SIZE - 7],
      [4, 3 * PAGE_SIZE + 100 - (PAGE_SIZE - 114) - 2 * (PAGE_SIZE - 7)],
      [1, 10],
    ]);
    // Checksums are CRC32C (Castagnoli) of each fragment's data, big-endian.
    const [off, , len] = fragments(file)[0] as [number, number, number];
    assert.equal(file.readUInt32BE(off + 3), crc32c(file.subarray(off + 7, off + 7 + len)));
    const { recs } = await replayAll(dir);
    assert.deepEqual(recs, [rec(0, 100), big, rec(2, 10)]);
  });

  test('segments roll over: no record crosses a segment, full segments are page-padded, nextSegment and truncateBefore work', async () => {
    const dir = freshDir();
    const segmentSize = 2 * PAGE_SIZE;
    const w = await Wal.open(dir, { syncMode: 'always', segmentSize });
    const records = Array.from({ length: 60 }, (_, i) => rec(i, 1000 + ((i * 977) % 9000)));
    for (const r of records) await w.log([r]);
    const huge = rec(999, 3 * segmentSize);
    await w.log([huge]);
    await w.log([rec(1000, 10)]);
    const cut = await w.nextSegment();
    await w.log([rec(1001, 10)]);
    assert.equal(cut, w.segmentRange().last);
    await w.close();
    const segs = await listSegments(dir);
    assert.deepEqual(segs, Array.from({ length: cut + 1 }, (_, i) => i));
    for (const s of segs.slice(0, -1)) {
      const size = statSync(join(dir, segmentName(s))).size;
      assert.equal(size % PAGE_SIZE, 0, `segment ${s} is padded to a page`);
    }
    const { recs, segs: recSegs } = await replayAll(dir);
    assert.deepEqual(recs, [...records, huge, rec(1000, 10), rec(1001, 10)]);
    const progress: string[] = [];
    await replayWal(dir, () => undefined, { onProgress: (p) => progress.push(`${p.phase} ${p.segment} ${p.index}/${p.total}`) });
    assert.deepEqual(progress, segs.map((s, i) => `segment ${s} ${i + 1}/${segs.length}`));
    for (let i = 1; i < recSegs.length; i++) assert.ok((recSegs[i] as number) >= (recSegs[i - 1] as number));
    const hugeSeg = recSegs[records.length] as number;
    assert.equal(recSegs.filter((s) => s === hugeSeg).length, 1, 'the oversized record has a segment of its own');
    assert.ok(statSync(join(dir, segmentName(hugeSeg))).size > segmentSize);
    assert.equal(recSegs.at(-1), cut);

    const w2 = await Wal.open(dir, { syncMode: 'batch', segmentSize });
    assert.deepEqual(w2.segmentRange(), { first: 0, last: cut });
    assert.equal(await w2.truncateBefore(cut + 5), cut, 'never deletes the segment being written');
    assert.deepEqual(await listSegments(dir), [cut]);
    assert.deepEqual(w2.segmentRange(), { first: cut, last: cut });
    await w2.close();
  });

  test('a file truncated at every byte offset of its last record replays up to the last whole record', async () => {
    const src = freshDir();
    // The last record starts near the end of page 0 and ends in page 1 (two fragments).
    const records = [rec(0, 200), rec(1, PAGE_SIZE - 207 - 7 - 150), rec(2, 300)];
    await writeAll(src, records);
    const full = readFileSync(join(src, segmentName(0)));
    const lastStart = PAGE_SIZE - 150;
    assert.deepEqual(fragments(full).slice(-2).map(([o, t]) => [o, t]), [[lastStart, 2], [PAGE_SIZE, 4]]);
    const dir = freshDir();
    const seg = join(dir, segmentName(0));
    for (let cut = lastStart; cut <= full.length; cut++) {
      writeFileSync(seg, full.subarray(0, cut));
      const { recs, res } = await replayAll(dir);
      const whole = cut === full.length ? 3 : 2;
      assert.equal(recs.length, whole, `cut at ${cut}`);
      assert.deepEqual(recs, records.slice(0, whole));
      assert.equal(statSync(seg).size, whole === 3 ? full.length : lastStart, `file cut back at ${cut}`);
      assert.equal(res.repair !== null, cut > lastStart && cut < full.length, `repair reported at ${cut}`);
      if (res.repair !== null) assert.equal(res.repair.torn, true);
      if (cut % 41 === 0 || cut === lastStart + 1) {
        // New writes append after the good data, and a second replay sees old + new.
        const w = await Wal.open(dir, { syncMode: 'batch' });
        await w.log([rec(9, 5000)]);
        await w.close();
        const again = await replayAll(dir);
        assert.deepEqual(again.recs, [...records.slice(0, whole), rec(9, 5000)]);
        assert.equal(again.res.repair, null);
      }
    }
  });

  test('Wal.open alone cuts a torn tail before appending', async () => {
    const dir = freshDir();
    await writeAll(dir, [rec(0, 100), rec(1, 100)]);
    const seg = join(dir, segmentName(0));
    const full = readFileSync(seg);
    writeFileSync(seg, full.subarray(0, full.length - 20));
    const w = await Wal.open(dir, { syncMode: 'batch' });
    await w.log([rec(2, 100)]);
    await w.close();
    const { recs, res } = await replayAll(dir);
    assert.deepEqual(recs, [rec(0, 100), rec(2, 100)]);
    assert.equal(res.repair, null);
  });

  test('zero padding and garbage after the last record are cut off without losing records', async () => {
    const dir = freshDir();
    const records = [rec(0, 100), rec(1, 40_000)];
    await writeAll(dir, records);
    const seg = join(dir, segmentName(0));
    const size = statSync(seg).size;
    appendFileSync(seg, new Uint8Array(PAGE_SIZE + 123));
    let r = await replayAll(dir);
    assert.deepEqual(r.recs, records);
    assert.equal(r.res.repair, null, 'zero padding is valid');
    assert.equal(statSync(seg).size, size);
    appendFileSync(seg, Uint8Array.from({ length: 1000 }, (_, i) => (i * 13 + 1) & 0xff));
    r = await replayAll(dir);
    assert.deepEqual(r.recs, records);
    assert.ok(r.res.repair !== null && r.res.warnings.length === 1);
    assert.equal(statSync(seg).size, size);
  });

  test('a flipped byte is caught by the checksum; replay stops before it and repairs; new writes follow the good data', async () => {
    const src = freshDir();
    const records = Array.from({ length: 6 }, (_, i) => rec(i, 300 + i));
    await writeAll(src, records);
    const full = readFileSync(join(src, segmentName(0)));
    const frags = fragments(full);
    const [victimOff, , victimLen] = frags[3] as [number, number, number];
    const dir = freshDir();
    const seg = join(dir, segmentName(0));
    for (let i = victimOff; i < victimOff + 7 + victimLen; i++) {
      const bad = Buffer.from(full);
      bad[i] = (bad[i] as number) ^ 0xff;
      writeFileSync(seg, bad);
      const { recs, res } = await replayAll(dir);
      assert.deepEqual(recs, records.slice(0, 3), `flip at ${i}`);
      assert.ok(res.repair !== null && res.repair.offset === victimOff && !res.repair.torn, `repair at ${i}: ${JSON.stringify(res.repair)}`);
      assert.equal(statSync(seg).size, victimOff);
    }
    const w = await Wal.open(dir, { syncMode: 'always' });
    await w.log([rec(100, 50), rec(101, 70_000)]);
    await w.close();
    const again = await replayAll(dir);
    assert.deepEqual(again.recs, [...records.slice(0, 3), rec(100, 50), rec(101, 70_000)]);
    assert.equal(again.res.repair, null);
  });

  test('corruption in a non-last segment cuts there and deletes the later segments, with a warning', async () => {
    const dir = freshDir();
    const records = Array.from({ length: 40 }, (_, i) => rec(i, 5000));
    await writeAll(dir, records, { segmentSize: 2 * PAGE_SIZE });
    const before = await listSegments(dir);
    assert.ok(before.length >= 4);
    const seg1 = join(dir, segmentName(1));
    const bytes = readFileSync(seg1);
    const [off] = fragments(bytes)[2] as [number, number, number];
    bytes[off + 20] = (bytes[off + 20] as number) ^ 1;
    writeFileSync(seg1, bytes);
    const dry = await replayAll(dir, false);
    assert.ok(dry.res.repair !== null && !dry.res.repair.applied);
    assert.deepEqual(await listSegments(dir), before, 'repair: false changes nothing');
    const { recs, segs, res } = await replayAll(dir);
    const inSeg0 = segs.filter((s) => s === 0).length;
    assert.deepEqual(recs, records.slice(0, recs.length));
    assert.equal(segs.filter((s) => s === 1).length, 2);
    assert.equal(recs.length, inSeg0 + 2);
    assert.ok(res.repair !== null);
    assert.deepEqual(res.repair.deletedSegments, before.slice(2));
    assert.equal(res.warnings.length, 1);
    assert.deepEqual(await listSegments(dir), [0, 1]);
    await writeAll(dir, [rec(500, 10)], { segmentSize: 2 * PAGE_SIZE });
    const again = await replayAll(dir);
    assert.deepEqual(again.recs, [...recs, rec(500, 10)]);
  });

  test('snappy-compressed records (Prometheus --storage.tsdb.wal-compression) are decompressed', async () => {
    const plain = new TextEncoder().encode('abcabcabcabcabXYZ');
    // literal "abc"; copy of 11 bytes from offset 3 (1-byte-offset tag); literal "XYZ"
    const snappy = new Uint8Array([17, (3 - 1) << 2, 0x61, 0x62, 0x63, 1 | ((11 - 4) << 2), 3, (3 - 1) << 2, 0x58, 0x59, 0x5a]);
    assert.deepEqual(snappyDecode(snappy), plain);
    assert.equal(typeof snappyDecode(snappy.subarray(0, 6)), 'string');
    const dir = freshDir();
    const frag = Buffer.alloc(7 + snappy.length);
    frag[0] = 1 | 0x08;
    frag.writeUInt16BE(snappy.length, 1);
    frag.writeUInt32BE(crc32c(snappy), 3);
    frag.set(snappy, 7);
    writeFileSync(join(dir, segmentName(0)), frag);
    const { recs } = await replayAll(dir);
    assert.deepEqual(recs, [plain]);
  });
});

// ---- sync modes, group commit, close ------------------------------------------------------

describe('sync modes and lifecycle', () => {
  test("'always' mode: concurrent log() calls share fsyncs (group commit) and all replay", async (t) => {
    const dir = freshDir();
    const w = await Wal.open(dir, { syncMode: 'always' });
    const calls: Array<Promise<void>> = [];
    let id = 0;
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < 50; i++) {
        calls.push(w.log([rec(id, 64 + (id % 300))]));
        id++;
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(calls);
    const { fsyncs, batches } = w.stats;
    await w.close();
    t.diagnostic(`${calls.length} log() calls, ${batches} batches, ${fsyncs} fsyncs`);
    assert.ok(fsyncs <= calls.length / 10, `${fsyncs} fsyncs for ${calls.length} calls`);
    assert.ok(batches < calls.length / 10, `${batches} batches`);
    const { recs } = await replayAll(dir);
    assert.deepEqual(recs.map(idOf), Array.from({ length: id }, (_, i) => i));
  });

  test("'always' mode: a steady stream of writers does not starve the fsync of earlier callers", async () => {
    const w = await Wal.open(freshDir(), { syncMode: 'always' });
    let stop = false;
    let streamed = 0;
    const stream = (async () => {
      const started = performance.now();
      while (!stop && performance.now() - started < 2000) {
        w.log([rec(streamed++, 100)]).catch(() => undefined);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await w.log([rec(1e6, 100)]);
    const waited = performance.now() - t0;
    stop = true;
    await stream;
    await w.close();
    assert.ok(waited < 500, `a caller waited ${waited.toFixed(0)} ms while ${streamed} others streamed`);
  });

  test("'always' mode resolves only after an fsync; 'batch' mode fsyncs on its timer and on sync()", async () => {
    const a = await Wal.open(freshDir(), { syncMode: 'always' });
    await a.log([rec(1, 10)]);
    assert.equal(a.stats.fsyncs, 1);
    await a.close();
    const b = await Wal.open(freshDir(), { syncMode: 'batch', syncIntervalMs: 5 });
    await b.log([rec(1, 10)]);
    assert.equal(b.stats.fsyncs, 0, 'batch mode does not wait for fsync');
    const deadline = Date.now() + 5000;
    while (b.stats.fsyncs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(b.stats.fsyncs, 1, 'the timer fsynced once, and only once for one write');
    await b.log([rec(2, 10)]);
    await b.sync();
    assert.equal(b.stats.fsyncs, 2);
    await b.sync();
    assert.equal(b.stats.fsyncs, 2, 'nothing new to sync');
    await b.close();
  });

  test("'batch' mode keeps fsyncing on its interval under a load that never pauses", async () => {
    const w = await Wal.open(freshDir(), { syncMode: 'batch', syncIntervalMs: 10 });
    const started = performance.now();
    let n = 0;
    while (performance.now() - started < 200) {
      w.log([rec(n++, 200)]).catch(() => undefined);
      await new Promise((r) => setImmediate(r));
    }
    const during = w.stats.fsyncs;
    await w.close();
    assert.ok(during >= 3, `${during} fsyncs in 200 ms of continuous writes (${n} records)`);
  });

  test('after close, log/nextSegment reject with a retryable UnavailableError; close is idempotent and joins', async () => {
    const w = await Wal.open(freshDir(), { syncMode: 'batch', syncIntervalMs: 10_000 });
    const pending = w.log([rec(1, 10)]);
    const c1 = w.close();
    const c2 = w.close();
    assert.equal(c1, c2);
    await assert.rejects(w.log([rec(2, 10)]), isUnavailable);
    await pending;
    await c1;
    assert.equal(w.stats.fsyncs, 1, 'close synced the accepted record');
    await assert.rejects(w.log([rec(3, 10)]), isUnavailable);
    await assert.rejects(w.nextSegment(), isUnavailable);
    await w.sync();
    await w.close();
    const { recs } = await replayAll(w.dir);
    assert.deepEqual(recs, [rec(1, 10)]);
  });

  test('close() during concurrent log() calls: each call resolves and replays, or rejects retryably (randomized)', async (t) => {
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const seed = 20240601;
    const rnd = mulberry32(seed);
    let resolvedCalls = 0;
    let rejectedCalls = 0;
    for (let round = 0; round < 300; round++) {
      const dir = freshDir();
      const w = await Wal.open(dir, {
        syncMode: rnd() < 0.5 ? 'always' : 'batch', segmentSize: 2 * PAGE_SIZE, syncIntervalMs: rnd() < 0.5 ? 0 : 3,
      });
      const outcomes: Array<{ ids: number[]; p: Promise<unknown> }> = [];
      const others: Array<Promise<unknown>> = [];
      // Callers await at once; here outcomes are collected first, so mark them handled right away.
      const track = <T>(p: Promise<T>): Promise<T> => {
        p.catch(() => undefined);
        return p;
      };
      let id = 0;
      const steps = 10 + Math.floor(rnd() * 40);
      const closeAt = Math.floor(rnd() * steps);
      let closed: Promise<void> | undefined;
      for (let step = 0; step < steps; step++) {
        if (step === closeAt) closed = w.close();
        const a = rnd();
        if (a < 0.55) {
          const n = 1 + Math.floor(rnd() * 3);
          const ids = Array.from({ length: n }, () => id++);
          outcomes.push({ ids, p: track(w.log(ids.map((i) => rec(i, Math.floor(rnd() * 12_000))))) });
        } else if (a < 0.8) {
          await (rnd() < 0.5 ? Promise.resolve() : new Promise((r) => setImmediate(r)));
        } else if (a < 0.9) {
          others.push(track(w.nextSegment()));
        } else if (a < 0.95) {
          others.push(track(w.sync()));
        } else {
          others.push(w.close());
        }
      }
      await (closed ?? w.close());
      const settled = await withDeadline(Promise.allSettled(outcomes.map((o) => o.p)), 5000, `round ${round}: a log() call hung`);
      const rest = await withDeadline(Promise.allSettled(others), 5000, `round ${round}: a call hung`);
      const acked: number[] = [];
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') resolvedCalls++;
        else rejectedCalls++;
        if (s.status === 'fulfilled') acked.push(...(outcomes[i] as { ids: number[] }).ids);
        else assert.ok(isUnavailable(s.reason), `round ${round} (seed ${seed}): unexpected rejection ${String(s.reason)}`);
      });
      for (const r of rest) if (r.status === 'rejected') assert.ok(isUnavailable(r.reason), `round ${round}: ${String(r.reason)}`);
      const { recs, res } = await replayAll(dir);
      assert.equal(res.repair, null, `round ${round}: clean log`);
      assert.deepEqual(recs.map(idOf), acked, `round ${round} (seed ${seed}): replay holds exactly the acknowledged records`);
      for (const r of recs) assert.deepEqual(r, rec(idOf(r), r.length));
    }
    t.diagnostic(`seed ${seed}: 300 rounds, ${resolvedCalls} log() calls resolved, ${rejectedCalls} rejected retryably`);
    assert.ok(resolvedCalls > 500 && rejectedCalls > 500, `both outcomes exercised: ${resolvedCalls} resolved, ${rejectedCalls} rejected`);
    assert.equal(readdirSync('/proc/self/fd').length, fdsBefore, 'no file descriptors leaked');
  });
});

// ---- checkpoints ---------------------------------------------------------------------------

describe('checkpoints', () => {
  test('checkpoint then replay yields the kept series and the recent samples; older checkpoints go', async () => {
    const dir = freshDir();
    const w = await Wal.open(dir, { syncMode: 'batch', segmentSize: 2 * PAGE_SIZE });
    const refs = Array.from({ length: 200 }, (_, i) => i + 1);
    await w.log([encodeSeries(refs.map((ref) => ({ ref, labels: ['__name__', `m${ref}`, 'pad', 'x'.repeat(50)] })))]);
    const samplesAt = (t: number): Uint8Array => {
      const vs = new Float64Array(refs.length).fill(t);
      if (t === 29) new DataView(vs.buffer).setBigUint64(0, STALE_BITS, true);
      return encodeSamples({ refs, ts: refs.map(() => t * 1000), vs });
    };
    for (let t = 0; t < 30; t++) {
      if (t === 10 || t === 20) await w.nextSegment();
      await w.log([samplesAt(t)]);
    }
    await w.log([
      encodeTombstones([{ ref: 2, mint: 0, maxt: 100 }, { ref: 4, mint: 0, maxt: 25_000 }]),
      histogramRecord([[6, 1000], [8, 26_000]], false),
      encodeMetadata([{ ref: 2, metricType: 1, unit: '', help: 'old' }, { ref: 3, metricType: 1, unit: '', help: 'odd' }]),
      encodeMetadata([{ ref: 2, metricType: 1, unit: 's', help: 'new' }]),
      new Uint8Array([99, 1, 2]),
    ]);
    const last = await w.nextSegment();
    await w.log([encodeSeries([{ ref: 1000, labels: ['__name__', 'late'] }]), encodeSamples({ refs: [1000], ts: [5], vs: new Float64Array([7]) })]);
    assert.ok(last >= 3, `wrote ${last} segments`);

    const keep = (ref: number): boolean => ref % 2 === 0;
    const mint = 25_000;
    const first = await checkpoint(dir, 0, 1, keep, mint);
    assert.equal(first.index, 1);
    assert.equal(first.totalSeries, 200);
    assert.equal(first.droppedSeries, 100);
    assert.equal(first.totalSamples, 20 * 200);
    assert.equal(first.droppedSamples, 20 * 200);
    await assert.rejects(checkpoint(dir, 0, 1, keep, mint), /already covers/);
    const stats = await checkpoint(dir, 0, last - 1, keep, mint);
    assert.deepEqual(stats.deletedCheckpoints, [1]);
    assert.equal(stats.totalSeries, 100, 'the previous checkpoint is read again, with only its kept series');
    assert.equal(stats.droppedSeries, 0);
    assert.equal(stats.droppedRecords, 1);
    assert.equal(stats.totalMetadata, 3);
    assert.equal(stats.droppedMetadata, 2);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('checkpoint')), [checkpointName(last - 1)]);
    assert.equal(await w.truncateBefore(last), last);
    await w.log([encodeSamples({ refs: [1000], ts: [6], vs: new Float64Array([8]) })]);
    await w.close();

    const series: number[] = [];
    const samples: Array<[number, number]> = [];
    const staleBits: string[] = [];
    const other: string[] = [];
    const res = await replayWal(dir, (r, _seg, fromCheckpoint) => {
      const d = decodeRecord(r);
      switch (d.type) {
        case 'series':
          series.push(...d.series.map((s) => s.ref));
          break;
        case 'samples':
          for (let i = 0; i < d.refs.length; i++) {
            samples.push([d.refs[i] as number, d.ts[i] as number]);
            if (d.refs[i] === 1 && d.ts[i] === 29_000) staleBits.push(bitsOf(d.vs, i));
          }
          break;
        case 'tombstones':
          other.push(`tombstones:${d.tombstones.map((t) => t.ref).join(',')}`);
          break;
        case 'histograms':
          other.push(`histograms:${d.count}`);
          break;
        case 'metadata':
          other.push(`metadata:${d.metadata.map((m) => `${m.ref}=${m.help}`).join(',')}`);
          break;
        default:
          other.push(`${d.type}:${String(fromCheckpoint)}`);
      }
    });
    assert.equal(res.checkpoint, last - 1);
    assert.equal(res.repair, null);
    assert.deepEqual(series, [...refs.filter(keep), 1000]);
    const expected: Array<[number, number]> = [];
    for (let t = 25; t < 30; t++) for (const ref of refs) expected.push([ref, t * 1000]);
    expected.push([1000, 5], [1000, 6]);
    assert.deepEqual(samples, expected);
    assert.deepEqual(staleBits, [STALE_BITS.toString(16)], 'the stale marker survives the checkpoint');
    assert.deepEqual(other, ['tombstones:4', 'histograms:1', 'metadata:2=new']);
  });
});
