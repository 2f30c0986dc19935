import '../harness.js';
import { INITIAL_CAPACITY } from '../../src/tsdb/chunkenc/bstream.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  ChunkCorruptError,
  MAX_SAMPLES_PER_CHUNK,
  STALE_NAN,
  STALE_NAN_BITS,
  XorChunk,
  floatFromBits,
  floatToBits,
  isStaleNaN,
} from '../../src/tsdb/chunkenc/index.js';
import type { ChunkIterator } from '../../src/tsdb/chunkenc/index.js';
import { MAX_SAFE, SPECIAL_VALUES, type Sample, runs, samplesArb } from '../xor-samples.js';

const SEED = 20240611;

function encode(samples: readonly Sample[]): XorChunk {
  const c = new XorChunk();
  const a = c.appender();
  for (const s of samples) a.append(Number(s.t), floatFromBits(s.v));
  return c;
}

interface Decoded {
  samples: Sample[];
  err: Error | undefined;
}

/** Decodes with a hard bound on next() calls, so a looping iterator fails instead of hanging. */
function decode(it: ChunkIterator, limit = MAX_SAMPLES_PER_CHUNK + 2): Decoded {
  const samples: Sample[] = [];
  let calls = 0;
  while (it.next()) {
    samples.push({ t: BigInt(it.t), v: floatToBits(it.v) });
    if (++calls > limit) throw new Error('iterator did not stop');
  }
  assert.equal(it.next(), false, 'next() after the end stays false');
  return { samples, err: it.err() };
}

function sameSamples(a: readonly Sample[], b: readonly Sample[]): boolean {
  return a.length === b.length && a.every((s, i) => s.t === b[i]!.t && s.v === b[i]!.v);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function fromHex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** Bytes of a Go interpreted string literal body (octal escapes etc.), as printed by Go tests. */
function goString(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const n = s[++i]!;
    if (n >= '0' && n <= '7') {
      out.push(parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else {
      const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, '"': 34 };
      const code = simple[n];
      if (code === undefined) throw new Error(`unsupported escape \\${n}`);
      out.push(code);
    }
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// Reference encoder: a direct, slow BigInt transcription of the rules in
// docs/formats/xor-chunk.md and Prometheus's bstream (writeBit appends a byte when none is free;
// writeByte always appends the next byte; writeBits(u, n) writes n/8 bytes then n%8 single bits).
// Used to check our bytes for arbitrary inputs, not just the fixed vectors.

class RefStream {
  bytes: number[] = [0, 0];
  count = 0;
  writeBit(bit: boolean): void {
    if (this.count === 0) {
      this.bytes.push(0);
      this.count = 8;
    }
    if (bit) this.bytes[this.bytes.length - 1]! |= 1 << (this.count - 1);
    this.count--;
  }
  writeByte(byte: number): void {
    if (this.count === 0) {
      this.bytes.push(0);
      this.count = 8;
    }
    this.bytes[this.bytes.length - 1]! |= byte >> (8 - this.count);
    this.bytes.push((byte << this.count) & 0xff);
  }
  writeBits(u: bigint, n: number): void {
    let x = BigInt.asUintN(64, u << BigInt(64 - n));
    for (; n >= 8; n -= 8) {
      this.writeByte(Number(x >> 56n));
      x = BigInt.asUintN(64, x << 8n);
    }
    for (; n > 0; n--) {
      this.writeBit(x >> 63n === 1n);
      x = BigInt.asUintN(64, x << 1n);
    }
  }
  writeUvarint(u: bigint): void {
    let x = BigInt.asUintN(64, u);
    while (x >= 0x80n) {
      this.writeByte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.writeByte(Number(x));
  }
}

function leadingZeros64(x: bigint): number {
  return x === 0n ? 64 : 64 - x.toString(2).length;
}

function trailingZeros64(x: bigint): number {
  let n = 0;
  while (n < 64 && ((x >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

function bitRange(x: bigint, nbits: number): boolean {
  const h = 1n << BigInt(nbits - 1);
  return -(h - 1n) <= x && x <= h;
}

/**
 * Bytes Prometheus produces for these appends. With reloadAt = k, the appender is rebuilt from a
 * decoder after k samples (as XorChunk.appender() on a chunk read from bytes): the decoder's
 * window is (0, 0) when none was ever written, where a fresh appender has "no window".
 */
function refEncode(samples: readonly Sample[], reloadAt = -1): Uint8Array {
  const b = new RefStream();
  let t = 0n;
  let v = 0n;
  let tDelta = 0n;
  let leading = 0xff;
  let trailing = 0;
  const writeValue = (nv: bigint): void => {
    const delta = nv ^ v;
    if (delta === 0n) {
      b.writeBit(false);
      return;
    }
    b.writeBit(true);
    let lz = leadingZeros64(delta);
    if (lz >= 32) lz = 31;
    const tz = trailingZeros64(delta);
    if (leading !== 0xff && lz >= leading && tz >= trailing) {
      b.writeBit(false);
      b.writeBits(delta >> BigInt(trailing), 64 - leading - trailing);
    } else {
      leading = lz;
      trailing = tz;
      b.writeBit(true);
      b.writeBits(BigInt(lz), 5);
      const sig = 64 - lz - tz;
      b.writeBits(BigInt(sig), 6); // 64 -> 0 in 6 bits
      b.writeBits(delta >> BigInt(tz), sig);
    }
  };
  samples.forEach((s, i) => {
    if (i === reloadAt && i > 0 && leading === 0xff) {
      leading = 0;
      trailing = 0;
    }
    if (i === 0) {
      b.writeUvarint(s.t >= 0n ? s.t << 1n : ~(s.t << 1n)); // zigzag
      b.writeBits(s.v, 64);
      tDelta = 0n;
    } else if (i === 1) {
      tDelta = BigInt.asUintN(64, s.t - t);
      b.writeUvarint(tDelta);
      writeValue(s.v);
    } else {
      const td = BigInt.asUintN(64, s.t - t);
      const dod = BigInt.asIntN(64, td - tDelta);
      if (dod === 0n) {
        b.writeBit(false);
      } else if (bitRange(dod, 14)) {
        b.writeBits(0b10n, 2);
        b.writeBits(dod, 14);
      } else if (bitRange(dod, 17)) {
        b.writeBits(0b110n, 3);
        b.writeBits(dod, 17);
      } else if (bitRange(dod, 20)) {
        b.writeBits(0b1110n, 4);
        b.writeBits(dod, 20);
      } else {
        b.writeBits(0b1111n, 4);
        b.writeBits(dod, 64);
      }
      tDelta = td;
      writeValue(s.v);
    }
    t = s.t;
    v = s.v;
    b.bytes[0] = ((i + 1) >> 8) & 0xff;
    b.bytes[1] = (i + 1) & 0xff;
  });
  return Uint8Array.from(b.bytes);
}

// ---------------------------------------------------------------------------------------------
// Generators.

function assertRoundTrip(samples: readonly Sample[]): XorChunk {
  const c = encode(samples);
  assert.equal(c.numSamples(), samples.length);
  assert.equal(c.byteLength, c.bytes().length);
  const got = decode(c.iterator());
  assert.equal(got.err, undefined);
  assert.deepEqual(got.samples, samples);
  // The same from a copy of the bytes.
  const again = decode(XorChunk.fromBytes(c.bytes().slice()).iterator());
  assert.equal(again.err, undefined);
  assert.deepEqual(again.samples, samples);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Fixed vectors.

test('hand-computed chunk: exact bytes and samples', () => {
  const samples: Sample[] = [
    { t: 1000n, v: floatToBits(1) },
    { t: 1010n, v: floatToBits(1) },
    { t: 1020n, v: floatToBits(2) },
    { t: 1035n, v: floatToBits(4) },
    { t: 1045n, v: floatToBits(4) },
  ];
  // Derived from the rules in docs/formats/xor-chunk.md:
  //   00 05                     num_samples = 5
  //   d0 0f                     t0: zigzag(1000) = 2000 = 0b1111_1010000 -> 0x50|0x80, 0x0f
  //   3f f0 00 00 00 00 00 00   v0: 1.0; this write of whole bytes ends aligned, so Prometheus's
  //                             writer appends a zero byte, which the next field fills
  //   0a                        t1 - t0 = 10 as uvarint (again followed by a fresh zero byte)
  // then the bit fields:
  //   0                                      v1: 1.0 ^ 1.0 = 0
  //   0                                      dod2 = (1020-1010) - 10 = 0
  //   11 00001 001011 11111111111            v2: 1.0 ^ 2.0 = 0x7ff0000000000000, 1 leading and
  //                                          52 trailing zeros, 11 significant bits; no window
  //                                          yet, so a new one: '11', lz=1, m=11, x>>52 = 0x7ff
  //   10 00000000000101                      dod3 = (1035-1020) - 10 = 5 in the 14-bit bucket
  //   10 00000000001                         v3: 2.0 ^ 4.0 = 0x0010000000000000, lz 11 >= 1 and
  //                                          tz 52 >= 52: reuse the window, 11 bits of x>>52 = 1
  //   10 11111111111011                      dod4 = (1045-1035) - 15 = -5 -> 2^14 - 5 = 16379
  //   0                                      v4 unchanged
  // = 72 bits = 9 whole bytes; the last write was one bit, so no extra zero byte.
  const bits =
    '0' + '0' + '11' + '00001' + '001011' + '11111111111' + '10' + '00000000000101' + '10' + '00000000001' + '10' + '11111111111011' + '0';
  assert.equal(bits.length, 72);
  const tail = Array.from({ length: 9 }, (_, i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2));
  assert.deepEqual(tail, [0x30, 0x97, 0xff, 0xe0, 0x01, 0x60, 0x03, 0x7f, 0xf6]);
  const want = fromHex('0005 d00f 3ff0000000000000 0a 3097ffe00160037ff6');
  assert.deepEqual([...want.subarray(13)], tail);

  const c = encode(samples);
  assert.equal(hex(c.bytes()), hex(want));
  assert.deepEqual(refEncode(samples), want);
  const got = decode(XorChunk.fromBytes(want).iterator());
  assert.equal(got.err, undefined);
  assert.deepEqual(got.samples, samples);
});

// Bytes from Prometheus's own test TestStreamReadEndpoint in
// prometheus/prometheus storage/remote/read_handler_test.go (XOR chunks served by remote read for
// series loaded with `load 1m` ... `0+100x119`, `0+100x120` and `0+100x240`: sample i at i*60000 ms
// with value 100*i, cut into chunks of 120 samples).
const PROM_CHUNK_0_119 = String.raw`\000x\000\000\000\000\000\000\000\000\000\340\324\003\302|\005\224\000\301\254}\351z2\320O\355\264n[\007\316\224\243md\371\320\375\032Pm\nS\235\016Q\255\006P\275\250\277\312\201Z\003(3\240R\207\332\005(\017\240\322\201\332=(\023\2402\203Z\007(w\2402\201Z\017(\023\265\227\364P\033@\245\007\364\nP\033C\245\002t\036P+@e\036\364\016Pk@e\002t:P;A\245\001\364\nS\373@\245\006t\006P+C\345\002\364\006Pk@\345\036t\nP\033A\245\003\364:P\033@\245\006t\016ZJ\377\\\205\313\210\327\270\017\345+F[\310\347E)\355\024\241\366\342}(v\215(N\203)\326\207(\336\203(V\332W\362\202t4\240m\005(\377AJ\006\320\322\202t\374\240\255\003(oA\312:\3202`;
const PROM_CHUNK_120_239 = String.raw`\000x\200\364\356\006@\307p\000\000\000\000\000\340\324\003\340>\224\355\260\277\322\200\372\005(=\240R\207:\003(\025\240\362\201z\003(\365\240r\203:\005(\r\241\322\201\372\r(\r\240R\237:\007(5\2402\201z\037(\025\2402\203:\005(\375\240R\200\372\r(\035\241\322\201:\003(5\240r\326g\364\271\213\227!\253q\037\312N\340GJ\033E)\375\024\241\266\362}(N\217(V\203)\336\207(\326\203(N\334W\322\203\2644\240}\005(\373AJ\031\3202\202\264\374\240\275\003(kA\3129\320R\201\2644\240\375\264\277\322\200\332\005(3\240r\207Z\003(\027\240\362\201Z\003(\363\240R\203\332\005(\017\241\322\201\332\r(\023\2402\237Z\007(7\2402\201Z\037(\023\240\322\200\332\005(\377\240R\200\332\r `;
const PROM_CHUNK_120 = String.raw`\000\001\200\364\356\006@\307p\000\000\000\000\000\000`;
const PROM_CHUNK_240 = String.raw`\000\001\200\350\335\r@\327p\000\000\000\000\000\000`;

function promSeries(from: number, to: number): Sample[] {
  const out: Sample[] = [];
  for (let i = from; i <= to; i++) out.push({ t: BigInt(i * 60000), v: floatToBits(i * 100) });
  return out;
}

test('Prometheus vectors from storage/remote/read_handler_test.go', () => {
  const cases: Array<[string, string, Sample[]]> = [
    ['samples 0..119', PROM_CHUNK_0_119, promSeries(0, 119)],
    ['samples 120..239', PROM_CHUNK_120_239, promSeries(120, 239)],
    ['sample 120 alone', PROM_CHUNK_120, promSeries(120, 120)],
    ['sample 240 alone', PROM_CHUNK_240, promSeries(240, 240)],
  ];
  for (const [name, literal, samples] of cases) {
    const want = goString(literal);
    assert.equal(hex(encode(samples).bytes()), hex(want), `${name}: encode`);
    assert.deepEqual(refEncode(samples), want, `${name}: reference encoder`);
    const got = decode(XorChunk.fromBytes(want).iterator());
    assert.equal(got.err, undefined, name);
    assert.deepEqual(got.samples, samples, `${name}: decode`);
  }
});

// ---------------------------------------------------------------------------------------------
// Properties.

test('round trip and Prometheus bytes for arbitrary sample sequences', () => {
  fc.assert(
    fc.property(samplesArb(1, 300), (samples) => {
      const c = assertRoundTrip(samples);
      assert.equal(hex(c.bytes()), hex(refEncode(samples)));
    }),
    runs(SEED, 250),
  );
});

test('round trip with exactly 1, 120 and 240 samples', () => {
  for (const n of [1, 120, 240]) {
    fc.assert(
      fc.property(samplesArb(n, n), (samples) => {
        assert.equal(samples.length, n);
        const c = assertRoundTrip(samples);
        assert.equal(hex(c.bytes()), hex(refEncode(samples)));
      }),
      runs(SEED + n, n === 1 ? 200 : 40),
    );
  }
});

test('delta-of-delta bucket boundaries', () => {
  // Each bucket of n bits holds -(2^(n-1) - 1) .. 2^(n-1); one past either end needs the next one.
  const dods = [0n, 1n, -1n];
  for (const n of [14n, 17n, 20n]) {
    const h = 1n << (n - 1n);
    dods.push(h, h + 1n, -(h - 1n), -h);
  }
  dods.push(1n << 40n, -(1n << 40n));
  for (const dod of dods) {
    // Deltas 1000, 1000 + dod: the third sample carries this dod.
    const samples: Sample[] = [
      { t: 5_000_000n, v: floatToBits(1) },
      { t: 5_001_000n, v: floatToBits(2) },
      { t: 5_002_000n + dod, v: floatToBits(3) },
      { t: 5_003_000n + dod * 2n, v: floatToBits(3) },
    ];
    const c = assertRoundTrip(samples);
    assert.equal(hex(c.bytes()), hex(refEncode(samples)), `dod ${dod}`);
  }
});

test('special values keep their exact bit patterns', () => {
  const samples: Sample[] = SPECIAL_VALUES.map((v, i) => ({ t: BigInt(i * 15000), v }));
  samples.push(...SPECIAL_VALUES.map((v, i) => ({ t: BigInt((i + SPECIAL_VALUES.length) * 15000), v })).reverse());
  assertRoundTrip(samples);
  const c = encode([{ t: 1n, v: floatToBits(5) }, { t: 2n, v: STALE_NAN_BITS }]);
  const it = c.iterator();
  assert.ok(it.next() && !isStaleNaN(it.v));
  assert.ok(it.next() && isStaleNaN(it.v));
});

test('NaN payloads survive optimized code paths', () => {
  // Enough iterations for V8 to optimize append/next; an optimizing compiler that silenced
  // signalling NaNs (0x7ff0000000000002 -> 0x7ff8000000000002) would break stale markers.
  const pats = [STALE_NAN_BITS, 0x7ff0000000000001n, 0xfff0000000000123n, 0x7ff8000000000001n];
  let bad = 0;
  for (let round = 0; round < 3000; round++) {
    const c = new XorChunk();
    const a = c.appender();
    for (let i = 0; i < 40; i++) a.append(i * 1000, i % 3 === 0 ? floatFromBits(pats[i % 4]!) : i);
    const it = c.iterator();
    for (let i = 0; it.next(); i++) {
      if (i % 3 === 0 && floatToBits(it.v) !== pats[i % 4]) bad++;
      if (i % 3 === 0 && (i % 4 === 0) !== isStaleNaN(it.v)) bad++;
    }
  }
  assert.equal(bad, 0);
});

test('stale marker helpers', () => {
  assert.equal(floatToBits(STALE_NAN), STALE_NAN_BITS);
  assert.ok(Number.isNaN(STALE_NAN));
  assert.ok(isStaleNaN(STALE_NAN));
  assert.ok(isStaleNaN(floatFromBits(0x7ff0000000000002n)));
  assert.ok(!isStaleNaN(NaN));
  assert.ok(!isStaleNaN(floatFromBits(0x7ff8000000000002n)));
  assert.ok(!isStaleNaN(floatFromBits(0xfff0000000000002n)));
  assert.ok(!isStaleNaN(0));
  assert.ok(!isStaleNaN(Infinity));
});

test('appending after fromBytes(bytes()) continues the chunk exactly', () => {
  fc.assert(
    fc.property(samplesArb(1, 200), fc.nat(), (samples, cut) => {
      const k = cut % (samples.length + 1);
      const first = encode(samples.slice(0, k));
      const original = first.bytes().slice();
      const c = XorChunk.fromBytes(original);
      const a = c.appender();
      for (const s of samples.slice(k)) a.append(Number(s.t), floatFromBits(s.v));
      const got = decode(c.iterator());
      assert.equal(got.err, undefined);
      assert.deepEqual(got.samples, samples);
      assert.equal(hex(c.bytes()), hex(refEncode(samples, k)));
      assert.equal(hex(original), hex(first.bytes()), 'the source bytes are not modified');
      // And the same through a second reload at the end.
      const again = decode(XorChunk.fromBytes(c.bytes().slice()).iterator());
      assert.deepEqual(again.samples, samples);
    }),
    runs(SEED + 1, 200),
  );
});

test('appending to bytes with set padding bits clears them first', () => {
  // Prometheus leaves padding bits zero, but bytes from elsewhere may not: the appender ORs new
  // bits into the last byte, so it must clear them.
  for (let n = 1; n <= 30; n++) {
    const samples = promSeries(0, n - 1).map((s, i) => ({ t: s.t + BigInt(i % 3), v: floatToBits(i * 1.25) }));
    const bytes = encode(samples).bytes().slice();
    const last = bytes.length - 1;
    let j = 0; // how many low bits of the last byte are padding: setting them changes nothing
    while (j < 8) {
      const probe = bytes.slice();
      probe[last] = probe[last]! | ((1 << (j + 1)) - 1);
      const got = decode(XorChunk.fromBytes(probe).iterator());
      if (got.err !== undefined || !sameSamples(got.samples, samples)) break;
      j++;
    }
    if (j === 0) continue;
    bytes[last] = bytes[last]! | ((1 << j) - 1);
    const c = XorChunk.fromBytes(bytes);
    const more: Sample[] = [{ t: 10_000_000n, v: floatToBits(-3.5) }, { t: 10_015_000n, v: floatToBits(7) }];
    const a = c.appender();
    for (const s of more) a.append(Number(s.t), floatFromBits(s.v));
    const got = decode(c.iterator());
    assert.equal(got.err, undefined, `n=${n}`);
    assert.deepEqual(got.samples, [...samples, ...more], `n=${n}`);
  }
});

test('appender() twice on an in-memory chunk continues like Prometheus', () => {
  const samples = promSeries(0, 9);
  const c = encode(samples.slice(0, 5));
  const a = c.appender(); // rebuilt from decoding 5 samples
  for (const s of samples.slice(5)) a.append(Number(s.t), floatFromBits(s.v));
  assert.deepEqual(decode(c.iterator()).samples, samples);
  assert.equal(hex(c.bytes()), hex(refEncode(samples, 5)));
});

test('fromBytes over a view with a byte offset', () => {
  const samples = promSeries(3, 40);
  const bytes = encode(samples).bytes();
  const big = new Uint8Array(bytes.length + 20).fill(0xaa);
  big.set(bytes, 7);
  const view = big.subarray(7, 7 + bytes.length);
  assert.deepEqual(decode(XorChunk.fromBytes(view).iterator()).samples, samples);
  const c = XorChunk.fromBytes(view);
  c.appender().append(41 * 60000, 4100);
  assert.deepEqual(decode(c.iterator()).samples, promSeries(3, 41));
  assert.equal(big[6], 0xaa);
  assert.equal(big[7 + bytes.length], 0xaa);
});

// ---------------------------------------------------------------------------------------------
// Seek.

test('seek semantics', () => {
  const ts = [10, 20, 20, 30, 45];
  const samples: Sample[] = ts.map((t, i) => ({ t: BigInt(t), v: floatToBits(i) }));
  const c = encode(samples);
  const at = (it: ChunkIterator): [number, number] => [it.t, it.v];

  let it = c.iterator();
  assert.ok(it.seek(-1000)); // before the first: lands on the first
  assert.deepEqual(at(it), [10, 0]);
  assert.ok(it.seek(10)); // current already qualifies: no move
  assert.deepEqual(at(it), [10, 0]);
  assert.ok(it.seek(15)); // between: the next greater
  assert.deepEqual(at(it), [20, 1]);
  assert.ok(it.seek(20)); // equal timestamps: stays on the first of them
  assert.deepEqual(at(it), [20, 1]);
  assert.ok(it.seek(5)); // never moves backwards
  assert.deepEqual(at(it), [20, 1]);
  assert.ok(it.next());
  assert.deepEqual(at(it), [20, 2]);
  assert.ok(it.seek(45));
  assert.deepEqual(at(it), [45, 4]);
  assert.ok(!it.seek(46)); // past the end
  assert.ok(!it.next());
  assert.equal(it.err(), undefined);

  it = c.iterator();
  assert.ok(it.seek(30));
  assert.deepEqual(at(it), [30, 3]);
  assert.ok(it.next());
  assert.deepEqual(at(it), [45, 4]);

  it = c.iterator();
  assert.ok(!it.seek(1000));
  assert.equal(it.err(), undefined);

  assert.ok(!new XorChunk().iterator().seek(0));
  assert.ok(!new XorChunk().iterator().next());

  // Property: seek(t) lands on the first sample with timestamp >= t (sorted timestamps).
  fc.assert(
    fc.property(samplesArb(1, 150), fc.array(fc.bigInt(-MAX_SAFE, MAX_SAFE), { maxLength: 4 }), (raw, probes) => {
      const sorted = raw.map((s) => s.t).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const ss: Sample[] = sorted.map((t, i) => ({ t, v: BigInt(i) }));
      const chunk = encode(ss);
      for (const p of [...probes, ...sorted.slice(0, 3)]) {
        const i = ss.findIndex((s) => s.t >= p);
        const si = chunk.iterator();
        assert.equal(si.seek(Number(p)), i >= 0);
        if (i >= 0) assert.equal(floatToBits(si.v), BigInt(i));
      }
    }),
    runs(SEED + 2, 100),
  );
});

test('iterator reuse and snapshot semantics', () => {
  const c = new XorChunk();
  const a = c.appender();
  for (let i = 0; i < 10; i++) a.append(i * 1000, i);
  const before = c.iterator();
  for (let i = 10; i < 300; i++) a.append(i * 1000, i); // grows the buffer
  assert.equal(decode(before).samples.length, 10);
  const other = encode(promSeries(0, 5));
  const it = other.iterator();
  assert.equal(decode(it).samples.length, 6);
  const reused = c.iterator(it);
  assert.equal(reused, it);
  const all = decode(reused).samples;
  assert.equal(all.length, 300);
  assert.equal(all[299]!.t, 299000n);
});

// ---------------------------------------------------------------------------------------------
// Damaged input: errors are reported, never thrown, and iteration always ends.

test('truncated chunks report an error after a correct prefix', () => {
  fc.assert(
    fc.property(samplesArb(1, 60), (samples) => {
      const full = encode(samples).bytes().slice();
      // Where the data ends: Prometheus's writer may leave one trailing all-zero byte.
      const ref = refEncode(samples.slice(0, samples.length));
      assert.deepEqual(full, ref);
      let dataEnd = full.length;
      const withoutLast = decode(XorChunk.fromBytes(full.subarray(0, full.length - 1)).iterator());
      if (withoutLast.err === undefined) dataEnd = full.length - 1;
      for (let len = 0; len < full.length; len++) {
        const got = decode(XorChunk.fromBytes(full.slice(0, len)).iterator());
        assert.deepEqual(got.samples, samples.slice(0, got.samples.length), 'decoded a prefix');
        if (len < dataEnd) {
          assert.ok(got.err instanceof ChunkCorruptError, `len ${len} of ${full.length}: error expected`);
          assert.ok(got.samples.length < samples.length);
          assert.throws(() => XorChunk.fromBytes(full.slice(0, len)).appender(), ChunkCorruptError);
        } else {
          assert.equal(got.err, undefined);
          assert.equal(got.samples.length, samples.length);
        }
      }
      // Dropping a byte can only be harmless when it is the all-zero byte after a whole-byte write.
      if (dataEnd < full.length) assert.equal(full[full.length - 1], 0);
    }),
    runs(SEED + 3, 40),
  );
});

test('corrupted chunks never throw and never loop', () => {
  fc.assert(
    fc.property(
      samplesArb(1, 120),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }),
      (samples, flips) => {
        const bytes = encode(samples).bytes().slice();
        for (const [pos, bit] of flips) {
          const i = pos % bytes.length;
          bytes[i] = bytes[i]! ^ (1 << bit);
        }
        const c = XorChunk.fromBytes(bytes);
        const got = decode(c.iterator());
        assert.ok(got.err === undefined || got.err instanceof ChunkCorruptError);
        assert.ok(got.samples.length <= c.numSamples());
        const s = c.iterator();
        s.seek(Number.MAX_SAFE_INTEGER);
        try {
          c.appender();
        } catch (e) {
          assert.ok(e instanceof ChunkCorruptError);
        }
      },
    ),
    runs(SEED + 4, 300),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const got = decode(XorChunk.fromBytes(bytes).iterator());
      assert.ok(got.err === undefined || got.err instanceof ChunkCorruptError);
    }),
    runs(SEED + 5, 500),
  );
});

test('specific malformed chunks', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /shorter than the 2-byte header/],
    ['one byte', Uint8Array.of(0), /shorter than the 2-byte header/],
    ['count without data', Uint8Array.of(0, 1), /unexpected end of data/],
    ['more samples than data', (() => {
      const b = encode(promSeries(0, 9)).bytes().slice();
      b[0] = 0xff;
      return b;
    })(), /unexpected end of data/],
    // First timestamp 2^60 (zigzag 2^61: varint ff.. with 9 bytes) is no safe integer.
    ['timestamp beyond 2^53', Uint8Array.of(0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0), /outside the safe integer range/],
    ['varint overflow', Uint8Array.of(0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0), /overflows 64 bits/],
    // Sample 2 opens a window with 31 leading zeros and 40 significant bits: 71 > 64.
    // Three samples: t0 = 0 (varint 00), v0 = 0.0, t1 - t0 = 1, v1 unchanged ('0'); then sample 2:
    // dod '0', value '11' (new window), lz 11111 = 31, sigbits 101000 = 40: 31 + 40 > 64.
    // Bits 0 0 11 11111 101000 (15 bits) = 0011 1111 1101 000x = 3f d0, then 40 data bits.
    ['impossible window', Uint8Array.of(0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x3f, 0xd0, 0, 0, 0, 0, 0), /31 leading zeros with 40 significant bits/],
  ];
  for (const [name, bytes, re] of cases) {
    const it = XorChunk.fromBytes(bytes).iterator();
    const got = decode(it);
    assert.ok(got.err instanceof ChunkCorruptError, name);
    assert.match(got.err.message, re, name);
    assert.equal(it.next(), false, `${name}: sticky`);
    assert.equal(it.seek(0), false, `${name}: sticky seek`);
    assert.equal(it.err(), got.err, `${name}: same error`);
  }
});

// ---------------------------------------------------------------------------------------------
// Limits and buffer management.

test('append rejects unsafe timestamps and a 65536th sample', () => {
  const a = new XorChunk().appender();
  assert.throws(() => a.append(2 ** 53, 1), RangeError);
  assert.throws(() => a.append(1.5, 1), RangeError);
  const c = new XorChunk();
  const b = c.appender();
  for (let i = 0; i < MAX_SAMPLES_PER_CHUNK; i++) b.append(i, 1);
  assert.equal(c.numSamples(), MAX_SAMPLES_PER_CHUNK);
  assert.throws(() => b.append(MAX_SAMPLES_PER_CHUNK, 1), RangeError);
  const got = decode(c.iterator());
  assert.equal(got.samples.length, MAX_SAMPLES_PER_CHUNK);
  assert.equal(got.samples.at(-1)!.t, BigInt(MAX_SAMPLES_PER_CHUNK - 1));
});

test('buffer starts small, grows by doubling, and compact() trims it', () => {
  const c = new XorChunk();
  assert.equal(c.byteLength, 2);
  assert.equal(c.bytes().buffer.byteLength, INITIAL_CAPACITY);
  const a = c.appender();
  const samples = promSeries(0, 200);
  let n = 0;
  const seen = [INITIAL_CAPACITY];
  while (c.bytes().buffer.byteLength < INITIAL_CAPACITY * 4) {
    const s = samples[n++]!;
    a.append(Number(s.t), floatFromBits(s.v));
    if (c.bytes().buffer.byteLength !== seen.at(-1)) seen.push(c.bytes().buffer.byteLength);
  }
  assert.deepEqual(seen, [INITIAL_CAPACITY, INITIAL_CAPACITY * 2, INITIAL_CAPACITY * 4], 'doubled');
  const len = c.byteLength;
  const before = hex(c.bytes());
  c.compact();
  assert.equal(c.bytes().buffer.byteLength, len, 'trimmed to the exact length');
  assert.equal(hex(c.bytes()), before);
  c.compact(); // idempotent
  assert.equal(c.bytes().buffer.byteLength, len);
  for (const s of samples.slice(n)) a.append(Number(s.t), floatFromBits(s.v)); // appending after compact
  assert.deepEqual(decode(c.iterator()).samples, samples);

  // Spare capacity under 32 bytes is kept, as Prometheus does: 120 samples take 228 of 256 bytes.
  const full = encode(promSeries(0, 119));
  assert.equal(full.byteLength, 228);
  full.compact();
  assert.equal(full.bytes().buffer.byteLength, 256);
});
