import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { XorChunk, type XorAppender, floatFromBits, floatToBits } from '../../src/tsdb/chunkenc/index.js';
import { HeadChunks, spanLen } from '../../src/tsdb/head/head-chunks.js';
import { AppendCode, MemSeries, SAMPLES_PER_CHUNK, SampleBuffer } from '../../src/tsdb/head/index.js';
import { rangeEnd } from '../../src/tsdb/head/series.js';
import { labelsFromStrings } from '../../src/tsdb/labels/index.js';
import { mulberry32 } from '../util.js';
import { SPECIAL_VALUES, type Sample, runs, samplesArb } from '../xor-samples.js';

const SEED = 20250301;

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function decodeAll(it: { next(): boolean; t: number; v: number; err(): Error | undefined }): Sample[] {
  const out: Sample[] = [];
  while (it.next()) out.push({ t: BigInt(it.t), v: floatToBits(it.v) });
  assert.equal(it.err(), undefined);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The encoder over the arena against XorChunk

test('head chunks in the arena are byte for byte XorChunk\'s: interleaved series, slot growth, cuts', () => {
  fc.assert(
    fc.property(
      fc.array(samplesArb(1, 300), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 299 }), { maxLength: 3 }),
      (seqs, cuts) => {
        const hc = new HeadChunks();
        interface Run { seq: Sample[]; slot: number; ref: XorChunk; app: XorAppender; from: number; closed: Array<{ span: number; hex: string; samples: Sample[] }> }
        const runsOf: Run[] = seqs.map((seq) => {
          const ref = new XorChunk();
          return { seq, slot: hc.addSeries(), ref, app: ref.appender(), from: 0, closed: [] };
        });
        for (const r of runsOf) hc.openHead(r.slot, Number((r.seq[0] as Sample).t));
        const longest = Math.max(...seqs.map((s) => s.length));
        // round robin, so growing chunks move past one another's slots
        for (let i = 0; i < longest; i++) {
          for (const r of runsOf) {
            const s = r.seq[i];
            if (s === undefined) continue;
            if (cuts.includes(i)) {
              // cut before sample i: the closed chunk keeps the exact bytes
              const span = hc.closeHead(r.slot);
              assert.equal(hex(hc.closedView(span)), hex(r.ref.bytes()));
              r.closed.push({ span, hex: hex(r.ref.bytes()), samples: r.seq.slice(r.from, i) });
              r.ref = new XorChunk();
              r.app = r.ref.appender();
              r.from = i;
              hc.openHead(r.slot, Number(s.t));
            }
            r.app.append(Number(s.t), floatFromBits(s.v));
            hc.append(r.slot, Number(s.t), floatFromBits(s.v));
            assert.equal(hex(hc.headView(r.slot)), hex(r.ref.bytes()), `sample ${i}`);
            assert.equal(hc.headSamples(r.slot), i - r.from + 1);
          }
        }
        for (const r of runsOf) {
          assert.deepEqual(decodeAll(hc.iterHead(r.slot)), r.seq.slice(r.from));
          // closed chunks never change, whatever happened next to them
          for (const c of r.closed) {
            assert.equal(hex(hc.closedView(c.span)), c.hex);
            assert.equal(spanLen(c.span), c.hex.length / 2);
            assert.deepEqual(decodeAll(hc.iterClosed(c.span)), c.samples);
          }
        }
      },
    ),
    runs(SEED, 150),
  );
});

test('head chunk state survives special values in the columns: stale marker, NaN payloads, -0, huge deltas', () => {
  const hc = new HeadChunks();
  const s = hc.addSeries();
  const ref = new XorChunk();
  const app = ref.appender();
  const samples: Sample[] = [];
  let t = -(1n << 53n) + 1n;
  for (const [i, v] of [...SPECIAL_VALUES, ...SPECIAL_VALUES].entries()) {
    // deltas beyond 2^53 (kept as BigInt beside the columns), then small ones
    t = i < 3 ? t + (1n << 52n) + BigInt(i) : t + BigInt(i * 7);
    samples.push({ t, v });
  }
  hc.openHead(s, Number(samples[0]?.t));
  for (const x of samples) {
    app.append(Number(x.t), floatFromBits(x.v));
    hc.append(s, Number(x.t), floatFromBits(x.v));
    // another series appending in between must not disturb the shared encoder's state
    const o = hc.addSeries();
    hc.openHead(o, 0);
    hc.append(o, 0, 1);
    hc.removeSeries(o);
  }
  assert.equal(hex(hc.headView(s)), hex(ref.bytes()));
  assert.deepEqual(decodeAll(hc.iterHead(s)), samples);
});

test('append with a timestamp that is no safe integer throws and changes nothing', () => {
  const hc = new HeadChunks();
  const s = hc.addSeries();
  hc.openHead(s, 1000);
  hc.append(s, 1000, 1);
  const before = hex(hc.headView(s));
  assert.throws(() => hc.append(s, 2 ** 53, 2), RangeError);
  assert.equal(hex(hc.headView(s)), before);
  hc.append(s, 2000, 2);
  assert.deepEqual(decodeAll(hc.iterHead(s)).map((x) => x.t), [1000n, 2000n]);
});

test('compaction moves head chunks out of sparse slot slabs, keeping their bytes, and drops those slabs', () => {
  const seed = 0xc0c0;
  const rnd = mulberry32(seed);
  const hc = new HeadChunks();
  const n = 4000;
  const slots = Array.from({ length: n }, () => hc.addSeries());
  const t0 = 1_700_000_000_000;
  for (const s of slots) hc.openHead(s, t0);
  // series grow at different speeds (as counters and noisy gauges do), so slot slabs of the
  // classes they passed through are left sparse
  const speed = slots.map(() => rnd());
  for (let i = 0; i < 40; i++) {
    slots.forEach((s, k) => {
      const v = (speed[k] as number) < 0.5 ? i : rnd() * 1000;
      hc.append(s, t0 + i * 15_000, v);
    });
  }
  const before = slots.map((s) => hex(hc.headView(s)));
  const a = hc.arena;
  const wasted = a.slotReservedBytes - a.slotUsedBytes;
  assert.ok(wasted > a.slotReservedBytes / 8, `the workload leaves slabs sparse (${wasted} of ${a.slotReservedBytes} free)`);
  const moved = hc.compact();
  assert.ok(moved > 0);
  assert.deepEqual(slots.map((s) => hex(hc.headView(s))), before);
  assert.ok(a.slotReservedBytes - a.slotUsedBytes < wasted, 'compaction reclaims memory');
  // per class, no more slabs are left than the slots in use need (one of them part empty)
  const byClass = new Map<number, Array<{ bytes: number; live: number }>>();
  for (const st of a.slabStats()) if (st.slotSize > 0) byClass.set(st.slotSize, [...(byClass.get(st.slotSize) ?? []), st]);
  for (const [size, list] of byClass) {
    const free = list.reduce((f, st) => f + st.bytes / size - st.live, 0);
    const smallest = Math.min(...list.map((st) => st.bytes / size));
    assert.ok(list.length === 1 || free < smallest, `class ${size}: ${free} free slots over ${list.length} slabs`);
  }
  assert.equal(hc.compact(), 0, 'nothing more to do right after');
  // appends go on as before
  slots.forEach((s, k) => hc.append(s, t0 + 40 * 15_000, k));
  slots.forEach((s, k) => {
    const got = decodeAll(hc.iterHead(s));
    assert.equal(got.length, 41);
    assert.equal(got[40]?.v, floatToBits(k));
  });
  for (const s of slots) hc.removeSeries(s);
  assert.equal(a.slabCount, 0);
});

// ---------------------------------------------------------------------------------------------
// MemSeries over the arena against a model

interface ModelChunk { minT: number; maxT: number; samples: Array<[number, bigint]> }
interface Model {
  closed: ModelChunk[];
  head: ModelChunk | null;
  lastT: number;
  lastBits: bigint;
  ooo: Array<[number, bigint]>;
}

/** Prometheus's in-order rules and MemSeries's cut rule, written plainly. */
function modelAppend(m: Model, t: number, bits: bigint, oooMinT: number, range: number): AppendCode {
  if (t > m.lastT) {
    if (m.head === null || t >= rangeEnd(m.head.minT, range) || m.head.samples.length >= SAMPLES_PER_CHUNK) {
      if (m.head !== null) m.closed.push(m.head);
      m.head = { minT: t, maxT: t, samples: [] };
    }
    m.head.samples.push([t, bits]);
    m.head.maxT = t;
    m.lastT = t;
    m.lastBits = bits;
    return AppendCode.Ok;
  }
  if (t === m.lastT) return bits === m.lastBits ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
  if (oooMinT === Infinity) return AppendCode.OutOfOrder;
  if (t < oooMinT) return AppendCode.TooOld;
  const o = m.ooo.find(([x]) => x === t) ?? [...m.closed, ...(m.head === null ? [] : [m.head])].flatMap((c) => c.samples).find(([x]) => x === t);
  if (o !== undefined) return o[1] === bits ? AppendCode.Duplicate : AppendCode.NewValueForTimestamp;
  m.ooo.push([t, bits]);
  m.ooo.sort((x, y) => x[0] - y[0]);
  return AppendCode.OkOutOfOrder;
}

function modelTruncate(m: Model, mint: number): void {
  while (m.closed.length > 0 && (m.closed[0] as ModelChunk).maxT < mint) m.closed.shift();
  if (m.closed.length === 0 && m.head !== null && m.lastT < mint) m.head = null;
  m.ooo = m.ooo.filter(([t]) => t >= mint);
}

function samplesOf(s: MemSeries, mint: number, maxt: number): Array<[number, bigint]> {
  const buf = new SampleBuffer(4);
  s.samplesIn(mint, maxt, buf);
  return Array.from({ length: buf.length }, (_, i) => [buf.t[i] as number, floatToBits(buf.v[i] as number)]);
}

test('randomized: many series appending, cutting, truncating and removed, against a model; the arena ends empty', () => {
  const seed = 0x5e71e5;
  const rnd = mulberry32(seed);
  const RANGE = 60_000;
  const hc = new HeadChunks();
  interface Entry { s: MemSeries; m: Model; step: number; held: Array<{ data: Uint8Array; hex: string }> }
  const all: Entry[] = [];
  let ref = 1;
  const newEntry = (): Entry => ({
    s: new MemSeries(ref, labelsFromStrings('__name__', `s${ref++}`), hc),
    m: { closed: [], head: null, lastT: -Infinity, lastBits: 0n, ooo: [] },
    step: 1 + Math.floor(rnd() * 4000),
    held: [],
  });
  for (let i = 0; i < 300; i++) all.push(newEntry());
  let now = 1_000_000;
  const values = [...SPECIAL_VALUES, 0x4059000000000000n, 0x4059100000000000n];
  const check = (where: string): void => {
    for (const e of all) {
      const what = `${where}, series ${e.s.ref} (seed ${seed})`;
      const want = [...e.m.closed, ...(e.m.head === null ? [] : [e.m.head])].flatMap((c) => c.samples);
      const merged = [...want, ...e.m.ooo].sort((x, y) => x[0] - y[0]);
      assert.deepEqual(samplesOf(e.s, -Infinity, Infinity), merged, what);
      const lo = now - 40_000;
      const hi = now - 10_000;
      assert.deepEqual(samplesOf(e.s, lo, hi), merged.filter(([t]) => t >= lo && t <= hi), `${what}: [${lo}, ${hi}]`);
      const chunks: Array<{ minT: number; maxT: number; data: Uint8Array }> = [];
      e.s.chunksIn(-Infinity, Infinity, chunks);
      const mc = [...e.m.closed, ...(e.m.head === null ? [] : [e.m.head])];
      assert.deepEqual(chunks.map((c) => [c.minT, c.maxT]), mc.map((c) => [c.minT, c.maxT]), `${what}: chunk ranges`);
      chunks.forEach((c, k) => {
        const it = XorChunk.fromBytes(c.data).iterator();
        const got: Array<[number, bigint]> = [];
        while (it.next()) got.push([it.t, floatToBits(it.v)]);
        assert.deepEqual(got, (mc[k] as ModelChunk).samples, `${what}: chunk ${k}`);
      });
      assert.equal(e.s.closedCount, e.m.closed.length, what);
      assert.equal(e.s.chunkBytes(), chunks.reduce((n, c) => n + c.data.length, 0), what);
      assert.equal(e.s.isEmpty(), e.m.head === null && e.m.closed.length === 0 && e.m.ooo.length === 0, what);
      // views of closed chunks taken earlier still hold their bytes, even after truncation
      for (const h of e.held) assert.equal(hex(h.data), h.hex, `${what}: a held view changed`);
      if (chunks.length > 1 && rnd() < 0.1) {
        const c = chunks[0] as { data: Uint8Array };
        e.held.push({ data: c.data, hex: hex(c.data) });
      }
    }
  };
  for (let round = 0; round < 400; round++) {
    now += 1000;
    for (const e of all) {
      if (rnd() < 0.3) continue;
      const n = 1 + Math.floor(rnd() * 8);
      const window = rnd() < 0.5 ? Infinity : now - 30_000;
      for (let k = 0; k < n; k++) {
        const late = rnd() < 0.1;
        const t = late ? now - Math.floor(rnd() * 40_000) : Math.max(e.m.lastT, now - 200_000) + (rnd() < 0.05 ? 0 : e.step);
        const bits = rnd() < 0.2 ? (values[Math.floor(rnd() * values.length)] as bigint) : floatToBits(Math.round(rnd() * 1000) / 10);
        const want = modelAppend(e.m, t, bits, window, RANGE);
        assert.equal(e.s.appendFloat(t, floatFromBits(bits), window, RANGE), want, `series ${e.s.ref} t=${t} (seed ${seed})`);
      }
    }
    if (round % 10 === 5) hc.compact();
    if (round % 25 === 24) {
      const mint = now - 100_000 - Math.floor(rnd() * 100_000);
      for (const e of all) {
        e.s.truncateBefore(mint);
        modelTruncate(e.m, mint);
      }
      // some series go, new ones come (slots and arena memory are reused)
      for (let i = all.length - 1; i >= 0; i--) {
        if (rnd() < 0.1) {
          const [gone] = all.splice(i, 1) as [Entry];
          gone.s.release();
          assert.ok(gone.s.isEmpty());
          assert.deepEqual(samplesOf(gone.s, -Infinity, Infinity), []);
          for (const h of gone.held) assert.equal(hex(h.data), h.hex, 'a held view of a removed series changed');
          all.push(newEntry());
        }
      }
      check(`round ${round}`);
    }
  }
  check('end');
  assert.equal(hc.size, all.length);
  for (const e of all) e.s.release();
  assert.equal(hc.size, 0);
  assert.equal(hc.arena.slabCount, 0, 'every slab was dropped');
  assert.equal(hc.arena.usedBytes, 0);
});
