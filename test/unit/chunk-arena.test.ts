import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkArena, SLAB_SPAN, SLOT_SIZES, slotClassFor } from '../../src/tsdb/head/chunk-arena.js';
import { mulberry32 } from '../util.js';

test('slot classes: 32, then four per doubling; slotClassFor picks the smallest that fits', () => {
  assert.deepEqual(SLOT_SIZES.slice(0, 14), [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]);
  assert.equal(SLOT_SIZES[SLOT_SIZES.length - 1], SLAB_SPAN);
  for (let n = 1; n <= 5000; n++) {
    const c = slotClassFor(n);
    assert.ok((SLOT_SIZES[c] as number) >= n, `class of ${n}`);
    if (c > 0) assert.ok((SLOT_SIZES[c - 1] as number) < n, `class of ${n} is the smallest`);
  }
  assert.equal(SLOT_SIZES[slotClassFor(SLAB_SPAN)], SLAB_SPAN);
});

test('slots: sizes by class, free slots reused, a slab dropped with its last slot', () => {
  const a = new ChunkArena();
  const x = a.allocSlot(32);
  const y = a.allocSlot(20);
  assert.equal(a.slotSizeAt(x), 32);
  assert.equal(a.slotSizeAt(y), 32);
  assert.equal(y - x, 32, 'slots of a class are packed in their slab');
  const z = a.allocSlot(33);
  assert.equal(a.slotSizeAt(z), 40);
  assert.notEqual(Math.floor(z / SLAB_SPAN), Math.floor(x / SLAB_SPAN), 'each class has its own slabs');
  assert.equal(a.slabCount, 2);
  assert.equal(a.usedBytes, 32 + 32 + 40);
  a.freeSlot(x);
  assert.equal(a.allocSlot(1), x, 'a freed slot is handed out again');
  a.freeSlot(z);
  assert.equal(a.slabCount, 1, 'the 40-byte slab went with its last slot');
  a.freeSlot(x);
  a.freeSlot(y);
  assert.equal(a.slabCount, 0);
  assert.equal(a.reservedBytes, 0);
  assert.equal(a.usedBytes, 0);
  assert.throws(() => a.freeSlot(y), /not a slot/);
  assert.throws(() => a.allocSlot(SLAB_SPAN + 1), RangeError);
});

test('slots: every freed slot of a full slab is handed out again before a new slab is made', () => {
  const a = new ChunkArena();
  const first = a.allocSlot(32);
  const perSlab = (a.slabStats()[0]?.bytes ?? 0) / 32;
  const addrs = [first];
  while (addrs.length < perSlab) addrs.push(a.allocSlot(32));
  assert.equal(a.slabCount, 1);
  const freed = addrs.filter((_, i) => i % 3 === 1);
  for (const x of freed) a.freeSlot(x);
  const again = freed.map(() => a.allocSlot(32));
  assert.equal(a.slabCount, 1);
  assert.deepEqual([...again].sort((x, y) => x - y), freed);
});

test('slabs start small and double per pool up to SLAB_SPAN', () => {
  const a = new ChunkArena();
  const sizes: number[] = [];
  for (let i = 0; i < 40_000; i++) {
    const before = a.slabCount;
    a.allocSlot(32);
    if (a.slabCount > before) sizes.push(a.slabStats().at(-1)?.bytes ?? 0);
  }
  assert.deepEqual(sizes.slice(0, 8), [4096, 4096, 8192, 16384, 32768, 65536, 131072, 262144]);
  assert.ok(sizes.slice(8).every((s) => s === SLAB_SPAN));
});

test('closed chunks: placed one after another; a slab goes when all its chunks are freed, and views keep their bytes', () => {
  const a = new ChunkArena();
  const p = a.allocClosed(100);
  const q = a.allocClosed(50);
  assert.equal(q, p + 100);
  a.view(p, 100).fill(7);
  a.view(q, 50).fill(9);
  const held = a.view(p, 100);
  a.freeClosed(p, 100);
  assert.equal(a.slabCount, 1, 'half the slab is still in use');
  a.freeClosed(q, 50);
  assert.equal(a.slabCount, 0);
  // the dropped slab is not reused: new chunks do not write over a view a query may hold
  const r = a.allocClosed(100);
  a.view(r, 100).fill(1);
  assert.ok(held.every((b) => b === 7));
  assert.throws(() => a.freeClosed(r, 101), /more than the slab holds/);
  // a chunk that does not fit the current slab starts a new one
  const big = a.allocClosed(SLAB_SPAN);
  assert.equal(big % SLAB_SPAN, 0);
  assert.equal(a.view(big, SLAB_SPAN).length, SLAB_SPAN);
  assert.throws(() => a.allocClosed(SLAB_SPAN + 1), RangeError);
});

test('randomized: live allocations never overlap nor change, and freeing everything drops every slab', () => {
  const seed = 0xa11c;
  const rnd = mulberry32(seed);
  const a = new ChunkArena();
  interface Live { addr: number; len: number; slot: boolean; tag: number }
  const live: Live[] = [];
  let tag = 0;
  const check = (where: string): void => {
    // pairwise: sorted by address, each ends before the next begins
    const sorted = [...live].sort((x, y) => x.addr - y.addr);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as Live;
      const cur = sorted[i] as Live;
      const prevEnd = prev.addr + (prev.slot ? a.slotSizeAt(prev.addr) : prev.len);
      assert.ok(prevEnd <= cur.addr, `${where} (seed ${seed}): ${prev.addr}+${prevEnd - prev.addr} overlaps ${cur.addr}`);
    }
    for (const l of live) {
      const v = a.view(l.addr, l.len);
      for (let k = 0; k < v.length; k++) assert.equal(v[k], (l.tag + k) & 0xff, `${where} (seed ${seed}): bytes of allocation ${l.tag} changed`);
    }
  };
  for (let step = 0; step < 20_000; step++) {
    const r = rnd();
    if (r < 0.55 || live.length === 0) {
      const slot = rnd() < 0.6;
      const len = 1 + Math.floor(rnd() ** 3 * 3000);
      const addr = slot ? a.allocSlot(len) : a.allocClosed(len);
      const l = { addr, len, slot, tag: tag++ & 0xff };
      const v = a.view(addr, len);
      for (let k = 0; k < len; k++) v[k] = (l.tag + k) & 0xff;
      live.push(l);
    } else {
      // free one, the oldest more often (as truncation frees closed chunks)
      const i = rnd() < 0.5 ? 0 : Math.floor(rnd() * live.length);
      const [l] = live.splice(i, 1) as [Live];
      if (l.slot) a.freeSlot(l.addr);
      else a.freeClosed(l.addr, l.len);
    }
    if (step % 1000 === 999) check(`step ${step}`);
  }
  check('end');
  const used = live.reduce((n, l) => n + (l.slot ? a.slotSizeAt(l.addr) : l.len), 0);
  assert.equal(a.usedBytes, used);
  assert.ok(a.reservedBytes >= used);
  for (const l of live.splice(0)) {
    if (l.slot) a.freeSlot(l.addr);
    else a.freeClosed(l.addr, l.len);
  }
  assert.equal(a.slabCount, 0);
  assert.equal(a.reservedBytes, 0);
  assert.equal(a.usedBytes, 0);
});
