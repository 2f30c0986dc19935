import '../harness.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { State } from '../../src/lifecycle/index.js';
import { createLogger, type Logger } from '../../src/log/index.js';
import {
  EMPTY_RING_DESC, InMemoryKV, KVError, Lifecycler, Ring, RingError, RingWatcher,
  decodeRingDesc, decodeTokensFile, encodeRingDesc, forgetInstance, forgetUnhealthyInstances, generateTokens, ingesterRingConfig,
  ingesterRingKey, lifecyclerOptionsFromConfig, loadTokensFile, mergeRingDescs, renderRingHtml, resolveInstanceAddr, ringJson, saveTokensFile,
  type InstanceDesc, type InstanceState, type KVClient, type LifecyclerOptions, type RingDesc,
} from '../../src/ring/index.js';
import { defaultsOf } from '../../src/config/index.js';
import { labelsFromStrings, seriesToken } from '../../src/tsdb/labels/index.js';
import { mulberry32, withDeadline } from '../util.js';

// ---- helpers -------------------------------------------------------------------------------

const NOW = 1_700_000_000_000;
const TIMEOUT = 60_000;

function inst(id: string, tokens: number[], x: Partial<InstanceDesc> = {}): InstanceDesc {
  return {
    id,
    addr: `${id}:9095`,
    zone: '',
    state: 'ACTIVE',
    tokens: [...tokens].sort((a, b) => a - b),
    heartbeatMs: NOW,
    registeredMs: NOW - 1000,
    ...x,
  };
}

function ringDesc(...is: InstanceDesc[]): RingDesc {
  const instances: Record<string, InstanceDesc> = {};
  for (const i of is) instances[i.id] = i;
  return { instances };
}

function mkRing(d: RingDesc, rf = 3, zoneAware = false, now = NOW): Ring {
  return new Ring(d, { replicationFactor: rf, zoneAwarenessEnabled: zoneAware, heartbeatTimeoutMs: TIMEOUT, now: () => now });
}

const ids = (rs: { instances: readonly InstanceDesc[] }): string[] => rs.instances.map((i) => i.id);

/** Logs captured as parsed JSON lines. */
function captureLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { log, lines };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function readRing(kv: KVClient, key: string): Promise<RingDesc> {
  const d = decodeRingDesc(await kv.get(key));
  assert.ok(d.ok);
  return d.desc;
}

const tmpDirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'muninn-ring-'));
  tmpDirs.push(d);
  return d;
}
after(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

// ---- codec ---------------------------------------------------------------------------------

describe('ring codec', () => {
  test('round trip, deterministic bytes, null is the empty ring', () => {
    const d = ringDesc(inst('b', [5, 1, 3], { zone: 'z1', readOnly: true }), inst('a', [2], { state: 'LEAVING' }));
    const bytes = encodeRingDesc(d);
    const r = decodeRingDesc(bytes);
    assert.ok(r.ok);
    assert.deepEqual(r.dropped, []);
    assert.deepEqual(r.desc, d);
    // the same ring built in another order encodes to the same bytes
    assert.deepEqual(encodeRingDesc(ringDesc(d.instances['a'] as InstanceDesc, d.instances['b'] as InstanceDesc)), bytes);
    assert.equal(new TextDecoder().decode(bytes).indexOf('"a"') < new TextDecoder().decode(bytes).indexOf('"b"'), true);
    const empty = decodeRingDesc(null);
    assert.ok(empty.ok);
    assert.deepEqual(empty.desc, EMPTY_RING_DESC);
  });

  test('values that are not rings are errors, not exceptions', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const bad of ['', 'null', '[]', '42', '"x"', '{}', '{"instances":[]}', '{"instances":null}', '{"instances":', '\u0000']) {
      const r = decodeRingDesc(enc(bad));
      assert.equal(r.ok, false, bad);
    }
    assert.equal(decodeRingDesc(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d])).ok, false, 'invalid UTF-8');
  });

  test('invalid entries are dropped with a reason, the rest kept; unsorted tokens repaired', () => {
    const good = { id: 'ok', addr: 'h:1', zone: 'z', state: 'ACTIVE', tokens: [9, 3, 3, 7], heartbeatMs: 5, registeredMs: 1 };
    const raw = {
      instances: {
        ok: good,
        badState: { ...good, id: 'badState', state: 'UNHEALTHY' },
        badToken: { ...good, id: 'badToken', tokens: [1, 2 ** 32] },
        negToken: { ...good, id: 'negToken', tokens: [-1] },
        fracToken: { ...good, id: 'fracToken', tokens: [1.5] },
        strToken: { ...good, id: 'strToken', tokens: ['1'] },
        badHb: { ...good, id: 'badHb', heartbeatMs: -1 },
        nanHb: { ...good, id: 'nanHb', heartbeatMs: '1' },
        mismatch: { ...good, id: 'other' },
        noAddr: { ...good, id: 'noAddr', addr: 5 },
        badRo: { ...good, id: 'badRo', readOnly: 'yes' },
        notObj: [1, 2],
        '': { ...good, id: '' },
      },
    };
    const text = JSON.stringify(raw).replace('"ok":', '"__proto__":{"id":"__proto__","addr":"x","state":"ACTIVE","tokens":[],"heartbeatMs":1},"ok":');
    const r = decodeRingDesc(new TextEncoder().encode(text));
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.desc.instances), ['ok']);
    assert.deepEqual(r.desc.instances['ok']?.tokens, [3, 7, 9]);
    const dropped = new Map(r.dropped.map((x) => [x.id, x.reason]));
    assert.equal(dropped.size, 13);
    assert.match(dropped.get('badState') ?? '', /state/);
    assert.match(dropped.get('badToken') ?? '', /uint32/);
    assert.match(dropped.get('mismatch') ?? '', /id field/);
    assert.match(dropped.get('__proto__') ?? '', /reserved/);
    assert.equal(Object.getPrototypeOf(r.desc.instances), Object.prototype);
  });

  test('fuzz: random and mutated bytes never throw, and what decodes is a valid ring (seeded)', () => {
    const seed = 0x5eed;
    const rnd = mulberry32(seed);
    const valid = encodeRingDesc(ringDesc(inst('i-1', [1, 2, 3], { zone: 'a' }), inst('i-2', [4000000000], { state: 'JOINING' })));
    let decoded = 0;
    for (let n = 0; n < 5000; n++) {
      let bytes: Uint8Array;
      if (n % 2 === 0) {
        bytes = new Uint8Array(Math.floor(rnd() * 64));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
      } else {
        bytes = valid.slice();
        const flips = 1 + Math.floor(rnd() * 4);
        for (let f = 0; f < flips; f++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      }
      const r = decodeRingDesc(bytes);
      if (!r.ok) continue;
      decoded++;
      // whatever survived re-encodes and decodes to itself, and a Ring can be built from it
      const again = decodeRingDesc(encodeRingDesc(r.desc));
      assert.ok(again.ok, `seed ${seed} case ${n}`);
      assert.deepEqual(again.desc, r.desc, `seed ${seed} case ${n}`);
      assert.deepEqual(again.dropped, []);
      mkRing(r.desc).tokenOwnership();
    }
    assert.ok(decoded > 100, `some mutated values still decode (${decoded})`);
  });

  test('merge: union of instances, the later heartbeat wins, then the later state', () => {
    const a = ringDesc(inst('x', [1], { heartbeatMs: 10 }), inst('y', [2], { heartbeatMs: 50, state: 'JOINING' }));
    const b = ringDesc(inst('x', [1], { heartbeatMs: 20, state: 'LEAVING' }), inst('y', [2], { heartbeatMs: 50, state: 'ACTIVE' }), inst('z', [3]));
    const m = mergeRingDescs(a, b);
    assert.deepEqual(Object.keys(m.instances).sort(), ['x', 'y', 'z']);
    assert.equal(m.instances['x']?.state, 'LEAVING');
    assert.equal(m.instances['y']?.state, 'ACTIVE');
    assert.deepEqual(mergeRingDescs(b, a), m);
  });
});

// ---- tokens --------------------------------------------------------------------------------

describe('tokens', () => {
  test('generateTokens: n sorted unique uint32s avoiding taken ones; seeded runs repeat', () => {
    const taken = new Set(generateTokens(500, new Set(), mulberry32(1)));
    const t = generateTokens(1000, taken, mulberry32(2));
    assert.equal(t.length, 1000);
    assert.equal(new Set(t).size, 1000);
    for (let i = 0; i < t.length; i++) {
      const v = t[i] as number;
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
      assert.ok(!taken.has(v));
      if (i > 0) assert.ok(v > (t[i - 1] as number));
    }
    assert.deepEqual(generateTokens(10, new Set(), mulberry32(7)), generateTokens(10, new Set(), mulberry32(7)));
    assert.throws(() => generateTokens(3, new Set(), () => 0.5), /could not generate/);
    assert.deepEqual(generateTokens(0, new Set()), []);
  });

  test('tokens file: atomic save, Mimir format, missing or corrupt -> null', async () => {
    const dir = await tmp();
    const path = join(dir, 'sub', 'tokens.json');
    assert.equal(await loadTokensFile(path), null);
    await saveTokensFile(path, [3, 1, 2].sort());
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { tokens: [1, 2, 3] });
    assert.deepEqual(await loadTokensFile(path), [1, 2, 3]);
    await saveTokensFile(path, [7]);
    assert.deepEqual(await loadTokensFile(path), [7]);
    assert.deepEqual(await readdir(join(dir, 'sub')), ['tokens.json'], 'no temp files left');
    const { log, lines } = captureLogger();
    for (const bad of ['{', '[]', '{"tokens":[-1]}', '{"tokens":"x"}', '{"tokens":[]}']) {
      await writeFile(path, bad);
      assert.equal(await loadTokensFile(path, log), null, bad);
    }
    assert.equal(lines.filter((l) => l['level'] === 'warn').length, 5);
    assert.deepEqual(decodeTokensFile('{"tokens":[5,1,5]}'), [1, 5]);
  });
});

// ---- replication ---------------------------------------------------------------------------

describe('Ring', () => {
  test('token ownership sums to 1; an instance without tokens owns nothing', () => {
    const rnd = mulberry32(42);
    const taken = new Set<number>();
    const is: InstanceDesc[] = [];
    for (let i = 0; i < 7; i++) {
      const t = generateTokens(1 + Math.floor(rnd() * 64), taken, rnd);
      t.forEach((x) => taken.add(x));
      is.push(inst(`i${i}`, t));
    }
    is.push(inst('pending', [], { state: 'PENDING' }));
    const own = mkRing(ringDesc(...is)).tokenOwnership();
    const sum = [...own.values()].reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, `sum ${sum}`);
    assert.equal(own.get('pending'), 0);
    assert.equal(mkRing(ringDesc(inst('solo', [12345]))).tokenOwnership().get('solo'), 1);
    const two = mkRing(ringDesc(inst('a', [0]), inst('b', [2 ** 31]))).tokenOwnership();
    assert.equal(two.get('a'), 0.5);
    assert.equal(two.get('b'), 0.5);
    // ranges: a owns (2^31, 2^32) and 0, b owns (0, 2^31]
    const skew = mkRing(ringDesc(inst('a', [100]), inst('b', [200]))).tokenOwnership();
    assert.equal(skew.get('b'), 100 / 2 ** 32);
  });

  test('RF 3 over 3 and 5 instances: clockwise from the first token >= key, distinct instances', () => {
    const three = mkRing(ringDesc(inst('a', [100]), inst('b', [200]), inst('c', [300])));
    for (const key of [0, 100, 150, 301, 2 ** 32 - 1]) {
      const rs = three.get(key, 'write');
      assert.equal(rs.instances.length, 3);
      assert.equal(rs.minSuccess, 2);
      assert.equal(rs.maxErrors, 1);
    }
    assert.deepEqual(ids(three.get(150, 'write')), ['b', 'c', 'a']);
    const five = mkRing(ringDesc(inst('a', [100, 600]), inst('b', [200]), inst('c', [300]), inst('d', [400]), inst('e', [500])));
    assert.deepEqual(ids(five.get(150, 'write')), ['b', 'c', 'd']);
    assert.deepEqual(ids(five.get(100, 'write')), ['a', 'b', 'c'], 'a token equal to the key owns it');
    assert.deepEqual(ids(five.get(450, 'read')), ['e', 'a', 'b'], 'a second token of a taken instance is skipped');
    assert.deepEqual(ids(five.get(601, 'write')), ['a', 'b', 'c'], 'wraps around');
  });

  test('zone-aware RF 3: one instance per zone; without zones the plain walk', () => {
    // clockwise: a1(z1) 100, a2(z1) 200, b1(z2) 300, b2(z2) 400, c1(z3) 500, c2(z3) 600
    const d = ringDesc(
      inst('a1', [100], { zone: 'z1' }), inst('a2', [200], { zone: 'z1' }),
      inst('b1', [300], { zone: 'z2' }), inst('b2', [400], { zone: 'z2' }),
      inst('c1', [500], { zone: 'z3' }), inst('c2', [600], { zone: 'z3' }),
    );
    assert.deepEqual(ids(mkRing(d, 3, true).get(50, 'write')), ['a1', 'b1', 'c1']);
    assert.deepEqual(ids(mkRing(d, 3, true).get(450, 'write')), ['c1', 'a1', 'b1']);
    assert.deepEqual(mkRing(d, 3, true).get(50, 'write').zones, ['z1', 'z2', 'z3']);
    assert.deepEqual(ids(mkRing(d, 3, false).get(50, 'write')), ['a1', 'a2', 'b1']);
    assert.deepEqual(mkRing(d, 3, true).zones(), ['z1', 'z2', 'z3']);
    // two zones only, RF 3: two instances, quorum still 2 of 3
    const two = ringDesc(inst('a1', [100], { zone: 'z1' }), inst('a2', [200], { zone: 'z1' }), inst('b1', [300], { zone: 'z2' }));
    const rs = mkRing(two, 3, true).get(50, 'write');
    assert.deepEqual(ids(rs), ['a1', 'b1']);
    assert.equal(rs.minSuccess, 2);
    assert.equal(rs.maxErrors, 0);
  });

  test('write: non-ACTIVE instances extend the set and are skipped; their absence uses the error budget', () => {
    const base = [inst('a', [100]), inst('b', [200]), inst('c', [300]), inst('d', [400]), inst('e', [500])];
    for (const state of ['LEAVING', 'JOINING', 'PENDING'] as InstanceState[]) {
      const d = ringDesc(...base.map((i) => (i.id === 'b' ? { ...i, state } : i)));
      const rs = mkRing(d).get(50, 'write');
      // walk a, b (extends), c, d: 4 taken, quorum of 4 is 3, b is not written
      assert.deepEqual(ids(rs), ['a', 'c', 'd'], state);
      assert.equal(rs.minSuccess, 3, state);
      assert.equal(rs.maxErrors, 0, state);
    }
  });

  test('read: LEAVING serves reads without extending; PENDING extends but serves; JOINING extends and is skipped', () => {
    const base = [inst('a', [100]), inst('b', [200]), inst('c', [300]), inst('d', [400]), inst('e', [500])];
    const with_ = (state: InstanceState) => mkRing(ringDesc(...base.map((i) => (i.id === 'b' ? { ...i, state } : i))));
    const leaving = with_('LEAVING').get(50, 'read');
    assert.deepEqual(ids(leaving), ['a', 'b', 'c']);
    assert.deepEqual([leaving.minSuccess, leaving.maxErrors], [2, 1]);
    const pending = with_('PENDING').get(50, 'read');
    assert.deepEqual(ids(pending), ['a', 'b', 'c', 'd']);
    assert.deepEqual([pending.minSuccess, pending.maxErrors], [3, 1]);
    const joining = with_('JOINING').get(50, 'read');
    assert.deepEqual(ids(joining), ['a', 'c', 'd']);
    assert.deepEqual([joining.minSuccess, joining.maxErrors], [3, 0]);
  });

  test('a stale heartbeat keeps its place (no extension) and costs the error budget', () => {
    const stale = NOW - TIMEOUT - 1;
    const d1 = ringDesc(inst('a', [100]), inst('b', [200], { heartbeatMs: stale }), inst('c', [300]), inst('d', [400]));
    for (const op of ['write', 'read'] as const) {
      const rs = mkRing(d1).get(50, op);
      assert.deepEqual(ids(rs), ['a', 'c'], op);
      assert.deepEqual([rs.minSuccess, rs.maxErrors], [2, 0]);
    }
    // exactly at the timeout is still healthy
    assert.equal(mkRing(ringDesc(inst('b', [200], { heartbeatMs: NOW - TIMEOUT }))).healthyInstanceCount(), 1);
    const d2 = ringDesc(inst('a', [100]), inst('b', [200], { heartbeatMs: stale }), inst('c', [300], { heartbeatMs: stale }), inst('d', [400]));
    assert.throws(() => mkRing(d2).get(50, 'write'), (e: unknown) => {
      assert.ok(e instanceof RingError);
      assert.equal(e.reason, 'too_many_unhealthy');
      assert.equal(e.httpStatus, 503);
      assert.match(e.message, /at least 2 live replicas required, could only find 1 - unhealthy instances: b:9095,c:9095/);
      return true;
    });
    // time passing turns a snapshot's instances unhealthy without a new snapshot
    let now = NOW;
    const r = new Ring(ringDesc(inst('a', [1])), { replicationFactor: 1, heartbeatTimeoutMs: TIMEOUT, now: () => now });
    assert.equal(r.healthyInstanceCount(), 1);
    now += TIMEOUT + 1;
    assert.equal(r.healthyInstanceCount(), 0);
    assert.throws(() => r.get(1, 'write'), RingError);
    assert.throws(() => mkRing(EMPTY_RING_DESC).get(1, 'write'), (e: unknown) => e instanceof RingError && e.reason === 'empty_ring');
  });

  test('zone-aware: a LEAVING instance is replaced by another instance of its zone', () => {
    const d = ringDesc(
      inst('a1', [100], { zone: 'z1', state: 'LEAVING' }), inst('b1', [200], { zone: 'z2' }),
      inst('a2', [300], { zone: 'z1' }), inst('c1', [400], { zone: 'z3' }), inst('b2', [500], { zone: 'z2' }),
    );
    const rs = mkRing(d, 3, true).get(50, 'write');
    assert.deepEqual(ids(rs), ['b1', 'a2', 'c1']);
    assert.deepEqual([rs.minSuccess, rs.maxErrors], [3, 0]);
  });

  test('read-only instances are left out of writes entirely but serve reads', () => {
    const d = ringDesc(inst('a', [100]), inst('b', [200], { readOnly: true }), inst('c', [300]), inst('d', [400]));
    const w = mkRing(d).get(50, 'write');
    assert.deepEqual(ids(w), ['a', 'c', 'd']);
    assert.deepEqual([w.minSuccess, w.maxErrors], [2, 1]);
    assert.deepEqual(ids(mkRing(d).get(50, 'read')), ['a', 'b', 'c']);
  });

  test('quorum table: RF 1..5 over 1..6 healthy instances, and with unhealthy ones', () => {
    for (let rf = 1; rf <= 5; rf++) {
      for (let n = 1; n <= 6; n++) {
        const d = ringDesc(...Array.from({ length: n }, (_, i) => inst(`i${i}`, [(i + 1) * 1000])));
        const quorum = Math.floor(rf / 2) + 1;
        const size = Math.min(rf, n);
        const label = `RF ${rf}, ${n} instances`;
        if (size < quorum) {
          assert.throws(() => mkRing(d, rf).get(0, 'write'), RingError, label);
          continue;
        }
        const rs = mkRing(d, rf).get(0, 'write');
        assert.equal(rs.instances.length, size, label);
        assert.equal(rs.minSuccess, quorum, label);
        assert.equal(rs.maxErrors, size - quorum, label);
      }
    }
    // RF 5 over 5 instances with u unhealthy: quorum 3 of the 5 it should have
    for (let u = 0; u <= 5; u++) {
      const d = ringDesc(...Array.from({ length: 5 }, (_, i) => inst(`i${i}`, [(i + 1) * 1000], { heartbeatMs: i < u ? 0 : NOW })));
      if (5 - u < 3) {
        assert.throws(() => mkRing(d, 5).get(0, 'write'), RingError);
      } else {
        const rs = mkRing(d, 5).get(0, 'write');
        assert.deepEqual([rs.instances.length, rs.minSuccess, rs.maxErrors], [5 - u, 3, 2 - u], `u=${u}`);
      }
    }
  });

  test('getAllHealthy: max(instances, RF) - RF/2 must answer; zone-aware drops failing zones', () => {
    const is = Array.from({ length: 5 }, (_, i) => inst(`i${i}`, [(i + 1) * 1000]));
    const ok = mkRing(ringDesc(...is)).getAllHealthy('read');
    assert.deepEqual([ok.instances.length, ok.maxErrors], [5, 1]);
    const one = mkRing(ringDesc(...is.map((x, i) => (i === 0 ? { ...x, heartbeatMs: 0 } : x)))).getAllHealthy('read');
    assert.deepEqual([one.instances.length, one.maxErrors], [4, 0]);
    assert.throws(() => mkRing(ringDesc(...is.map((x, i) => (i < 2 ? { ...x, heartbeatMs: 0 } : x)))).getAllHealthy('read'), RingError);
    // fewer instances than RF: RF - RF/2 required
    const small = mkRing(ringDesc(inst('a', [1]), inst('b', [2]))).getAllHealthy('read');
    assert.deepEqual([small.instances.length, small.maxErrors], [2, 0]);

    const z = [
      inst('a1', [1], { zone: 'z1' }), inst('a2', [2], { zone: 'z1' }), inst('b1', [3], { zone: 'z2' }),
      inst('b2', [4], { zone: 'z2' }), inst('c1', [5], { zone: 'z3' }), inst('c2', [6], { zone: 'z3' }),
    ];
    const all = mkRing(ringDesc(...z), 3, true).getAllHealthy('read');
    assert.deepEqual([all.instances.length, all.maxErrors, all.maxUnavailableZones], [6, 0, 1]);
    const b1down = mkRing(ringDesc(...z.map((x) => (x.id === 'b1' ? { ...x, heartbeatMs: 0 } : x))), 3, true).getAllHealthy('read');
    assert.deepEqual(ids(b1down), ['a1', 'a2', 'c1', 'c2']);
    assert.equal(b1down.maxUnavailableZones, 0);
    assert.deepEqual(b1down.zones, ['z1', 'z3']);
    assert.throws(() => mkRing(ringDesc(...z.map((x) => (x.id === 'b1' || x.id === 'c2' ? { ...x, heartbeatMs: 0 } : x))), 3, true).getAllHealthy('read'), RingError);
    // LEAVING serves reads, not writes
    const leaving = mkRing(ringDesc(...is.map((x, i) => (i === 0 ? { ...x, state: 'LEAVING' as const } : x))));
    assert.equal(leaving.getAllHealthy('read').instances.length, 5);
    assert.equal(leaving.getAllHealthy('write').instances.length, 4);
    assert.equal(leaving.healthyInstanceCount(), 4);
  });

  test('series tokens: seriesToken is FNV-1 32 over tenant and sorted labels (independent reference)', () => {
    // FNV-1 32 with BigInt arithmetic over Buffer's UTF-8: shares no code with the implementation
    const ref = (s: string): number => {
      let h = 0x811c9dc5n;
      for (const b of Buffer.from(s, 'utf8')) h = ((h * 0x01000193n) & 0xffffffffn) ^ BigInt(b);
      return Number(h);
    };
    const cases: Array<[string, string[]]> = [
      ['', []],
      ['a', []],
      ['foo', ['b', 'ar']],
      ['user-1', ['__name__', 'up', 'job', 'node', 'instance', 'h:9100']],
      ['tenant-ü', ['__name__', 'temp_°C', 'room', '東京', 'emoji', '🦉']],
    ];
    for (const [tenant, kv] of cases) {
      const ls = labelsFromStrings(...kv);
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < kv.length; i += 2) pairs.push([kv[i] as string, kv[i + 1] as string]);
      pairs.sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])));
      assert.equal(seriesToken(tenant, ls), ref(tenant + pairs.map(([n, v]) => n + v).join('')), `${tenant} ${kv.join(',')}`);
    }
    assert.equal(seriesToken('foo', labelsFromStrings('b', 'ar')), 0x31f0b262);
    // and a token drives a lookup like any key
    const r = mkRing(ringDesc(inst('a', [0x40000000]), inst('b', [0x80000000]), inst('c', [0xc0000000])), 1);
    const t = seriesToken('foo', labelsFromStrings('b', 'ar')); // 0x31f0b262 < 0x40000000
    assert.deepEqual(ids(r.get(t, 'write')), ['a']);
  });

  test('randomized: RF distinct instances, distinct zones when zone-aware, stable under instance order', () => {
    const seed = 20240611;
    const rnd = mulberry32(seed);
    for (let round = 0; round < 150; round++) {
      const n = 1 + Math.floor(rnd() * 12);
      const nz = Math.floor(rnd() * 4); // 0: no zones
      const rf = 1 + Math.floor(rnd() * 4);
      const zoneAware = nz > 0 && rnd() < 0.7;
      const taken = new Set<number>();
      const is: InstanceDesc[] = [];
      for (let i = 0; i < n; i++) {
        const t = generateTokens(1 + Math.floor(rnd() * 16), taken, rnd);
        t.forEach((x) => taken.add(x));
        is.push(inst(`inst-${i}`, t, { zone: nz > 0 ? `z${i % nz}` : '' }));
      }
      const ring = mkRing(ringDesc(...is), rf, zoneAware);
      const shuffled = [...is];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j] as InstanceDesc, shuffled[i] as InstanceDesc];
      }
      const permuted = mkRing(ringDesc(...shuffled), rf, zoneAware);
      const zoneCount = new Set(is.map((i) => i.zone)).size;
      const expect = zoneAware ? Math.min(rf, zoneCount) : Math.min(rf, n);
      const quorumOk = expect >= Math.floor(rf / 2) + 1;
      for (let k = 0; k < 40; k++) {
        const key = Math.floor(rnd() * 2 ** 32);
        const label = `seed ${seed} round ${round} key ${key}`;
        if (!quorumOk) {
          assert.throws(() => ring.get(key, 'write'), RingError, label);
          continue;
        }
        const rs = ring.get(key, 'write');
        assert.equal(rs.instances.length, expect, label);
        assert.equal(new Set(ids(rs)).size, expect, label);
        if (zoneAware) assert.equal(new Set(rs.instances.map((i) => i.zone)).size, expect, label);
        assert.deepEqual(ids(permuted.get(key, 'write')), ids(rs), label);
        assert.deepEqual(ids(permuted.get(key, 'read')), ids(ring.get(key, 'read')), label);
        // the first replica owns the first token >= key (wrapping)
        let owner: string | undefined;
        let best = Infinity;
        let min = Infinity;
        let minOwner = '';
        for (const i of is) {
          for (const t of i.tokens) {
            if (t >= key && (t < best || (t === best && i.id < (owner ?? '')))) [best, owner] = [t, i.id];
            if (t < min) [min, minOwner] = [t, i.id];
          }
        }
        assert.equal(rs.instances[0]?.id, owner ?? minOwner, label);
      }
    }
  });
});

// ---- InMemoryKV ----------------------------------------------------------------------------

describe('InMemoryKV', () => {
  test('cas, get, delete, watch (initial value, coalesced changes), close', async () => {
    const kv = new InMemoryKV();
    const enc = (s: string) => new TextEncoder().encode(s);
    const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
    assert.equal(await kv.get('k'), null);
    const seen: Array<string | null> = [];
    const ctl = new AbortController();
    const w = kv.watchKey('k', (v) => seen.push(dec(v)), ctl.signal);
    await until(() => seen.length === 1, 'initial value');
    assert.deepEqual(seen, [null]);
    await kv.cas('k', (cur) => (assert.equal(cur, null), enc('1')));
    await until(() => seen.length === 2, 'first change');
    await kv.cas('k', () => null); // no change
    await kv.cas('k', () => enc('1')); // same bytes: no notification
    // two changes in one turn: watchers get one call with the latest value
    await Promise.all([kv.cas('k', (cur) => enc(`${dec(cur)}2`)), kv.cas('k', (cur) => enc(`${dec(cur)}3`))]);
    await until(() => seen.length === 3, 'coalesced change');
    assert.deepEqual(seen, [null, '1', '123']);
    const got = await kv.get('k');
    got?.fill(0); // callers get copies
    assert.equal(dec(await kv.get('k')), '123');
    await kv.delete('k');
    await until(() => seen.length === 4, 'delete');
    assert.equal(seen[3], null);
    await assert.rejects(kv.cas('k', () => { throw new Error('from f'); }), /from f/);
    ctl.abort();
    await withDeadline(w, 1000, 'watch ends on abort');
    const aborted = AbortSignal.abort(new Error('gone'));
    await assert.rejects(kv.get('k', aborted), /gone/);
    const w2 = kv.watchKey('k', () => undefined, new AbortController().signal);
    await kv.close();
    await kv.close();
    await withDeadline(w2, 1000, 'close ends watches');
    await assert.rejects(kv.get('k'), (e: unknown) => e instanceof KVError && e.reason === 'closed' && e.retryable);
  });
});

// ---- Lifecycler ----------------------------------------------------------------------------

const KEY = 'collectors/ring';

/** Records every ring value the lifecycler writes, decoded. */
class RecordingKV implements KVClient {
  readonly writes: RingDesc[] = [];
  failCas = false;
  constructor(readonly inner: KVClient) {}
  get(key: string, signal?: AbortSignal) { return this.inner.get(key, signal); }
  async cas(key: string, f: (c: Uint8Array | null) => Uint8Array | null, signal?: AbortSignal) {
    if (this.failCas) throw new KVError('unavailable', 'injected: store down');
    let last: Uint8Array | null = null;
    await this.inner.cas(key, (c) => (last = f(c)), signal);
    if (last !== null) {
      const d = decodeRingDesc(last);
      assert.ok(d.ok);
      this.writes.push(d.desc);
    }
  }
  watchKey(key: string, onValue: (v: Uint8Array | null) => void, signal: AbortSignal) { return this.inner.watchKey(key, onValue, signal); }
  delete(key: string, signal?: AbortSignal) { return this.inner.delete(key, signal); }
  close() { return this.inner.close(); }
}

function lifecycler(kv: KVClient, x: Partial<LifecyclerOptions> = {}): Lifecycler {
  return new Lifecycler({
    kv,
    ringKey: KEY,
    instanceId: 'ing-1',
    addr: '10.0.0.1:9095',
    zone: 'z1',
    numTokens: 16,
    heartbeatPeriodMs: 10,
    unregisterOnShutdown: true,
    log: captureLogger().log,
    rnd: mulberry32(99),
    ...x,
  });
}

async function run(l: Lifecycler): Promise<void> {
  l.startAsync();
  await withDeadline(l.awaitRunning(), 3000, 'lifecycler running');
}

async function stop(l: { stopAsync(): void; awaitTerminated(): Promise<void> }): Promise<void> {
  l.stopAsync();
  await withDeadline(l.awaitTerminated(), 3000, 'service terminated');
}

describe('Lifecycler', () => {
  test('registers PENDING -> JOINING -> ACTIVE with its tokens, heartbeats, then LEAVING and unregisters', async () => {
    const kv = new RecordingKV(new InMemoryKV());
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const l = lifecycler(kv);
    await run(l);
    assert.equal(timers(), baseline, 'the heartbeat timer does not keep the process alive');
    assert.equal(l.ringState(), 'ACTIVE');
    assert.ok(l.isReady());
    const states = kv.writes.map((d) => d.instances['ing-1']?.state);
    assert.deepEqual(states.slice(0, 3), ['PENDING', 'JOINING', 'ACTIVE']);
    const ring = await readRing(kv, KEY);
    const me = ring.instances['ing-1'] as InstanceDesc;
    assert.equal(me.tokens.length, 16);
    assert.deepEqual(me.tokens, l.tokens());
    assert.equal(me.addr, '10.0.0.1:9095');
    assert.equal(me.zone, 'z1');
    const hb0 = me.heartbeatMs;
    const writes = kv.writes.length;
    await until(() => kv.writes.length >= writes + 3, 'heartbeats');
    assert.ok(kv.writes.every((d) => d.instances['ing-1']?.registeredMs === me.registeredMs));
    assert.ok((kv.writes.at(-1)?.instances['ing-1']?.heartbeatMs ?? 0) >= hb0);
    await stop(l);
    const tail = kv.writes.slice(-2);
    assert.equal(tail[0]?.instances['ing-1']?.state, 'LEAVING');
    assert.equal(tail[1]?.instances['ing-1'], undefined);
    assert.equal(l.ringState(), null);
    assert.deepEqual((await readRing(kv, KEY)).instances, {});
    assert.equal(timers(), baseline);
  });

  test('unregister off: stays LEAVING with its tokens, and a restart takes them back', async () => {
    const kv = new InMemoryKV();
    const l1 = lifecycler(kv, { unregisterOnShutdown: false });
    await run(l1);
    const tokens = [...l1.tokens()];
    const registered = (await readRing(kv, KEY)).instances['ing-1']?.registeredMs;
    await stop(l1);
    const left = (await readRing(kv, KEY)).instances['ing-1'];
    assert.equal(left?.state, 'LEAVING');
    assert.deepEqual(left?.tokens, tokens);
    const l2 = lifecycler(kv, { unregisterOnShutdown: false, rnd: mulberry32(12345) });
    await run(l2);
    assert.deepEqual([...l2.tokens()], tokens);
    const back = (await readRing(kv, KEY)).instances['ing-1'];
    assert.equal(back?.state, 'ACTIVE');
    assert.equal(back?.registeredMs, registered);
    await stop(l2);
  });

  test('tokens file: saved on join, reused after an unregistering restart; corrupt -> new tokens', async () => {
    const dir = await tmp();
    const path = join(dir, 'tokens');
    const kv = new InMemoryKV();
    const l1 = lifecycler(kv, { tokensFilePath: path });
    await run(l1);
    const tokens = [...l1.tokens()];
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { tokens });
    await stop(l1);
    assert.equal((await readRing(kv, KEY)).instances['ing-1'], undefined);
    const l2 = lifecycler(kv, { tokensFilePath: path, rnd: mulberry32(777) });
    await run(l2);
    assert.deepEqual([...l2.tokens()], tokens);
    await stop(l2);

    await writeFile(path, '{"tokens": [1, 2');
    const { log, lines } = captureLogger();
    const l3 = lifecycler(kv, { tokensFilePath: path, rnd: mulberry32(5), log });
    await run(l3);
    assert.notDeepEqual([...l3.tokens()], tokens);
    assert.equal(l3.tokens().length, 16);
    assert.ok(lines.some((x) => /corrupt tokens file/.test(String(x['msg']))));
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { tokens: [...l3.tokens()] });
    await stop(l3);
  });

  test('reused tokens another instance holds are given up; extra ones trimmed', async () => {
    const dir = await tmp();
    const path = join(dir, 'tokens');
    const mine = generateTokens(20, new Set(), mulberry32(3));
    await saveTokensFile(path, mine);
    const kv = new InMemoryKV();
    const theirs = [mine[0] as number, mine[5] as number];
    await kv.cas(KEY, () => encodeRingDesc(ringDesc(inst('other', theirs, { heartbeatMs: Date.now() }))));
    const l = lifecycler(kv, { tokensFilePath: path });
    await run(l);
    const got = l.tokens();
    assert.equal(got.length, 16);
    for (const t of theirs) assert.ok(!got.includes(t));
    assert.ok(got.every((t) => mine.includes(t)), 'only file tokens, the conflicting ones dropped, trimmed to 16');
    await stop(l);
  });

  test('a forgotten instance re-registers at the next heartbeat; heartbeat failures do not stop it', async () => {
    const kv = new RecordingKV(new InMemoryKV());
    const { log, lines } = captureLogger();
    const l = lifecycler(kv, { log });
    await run(l);
    assert.ok(await forgetInstance(kv, KEY, 'ing-1'));
    await until(() => (kv.writes.at(-1)?.instances['ing-1']?.state === 'ACTIVE'), 're-registration');
    assert.ok(lines.some((x) => /missing from the ring/.test(String(x['msg']))));
    kv.failCas = true;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(l.state(), State.Running);
    assert.equal(lines.filter((x) => /heartbeat failed/.test(String(x['msg']))).length, 1, 'logged once per streak');
    kv.failCas = false;
    await until(() => lines.some((x) => /heartbeat recovered/.test(String(x['msg']))), 'recovery');
    await stop(l);
  });

  test('auto-forget and forget helpers remove silent instances only', async () => {
    const kv = new InMemoryKV();
    const now = Date.now();
    await kv.cas(KEY, () => encodeRingDesc(ringDesc(inst('old', [1], { heartbeatMs: now - 600_000 }), inst('fresh', [2], { heartbeatMs: now }))));
    assert.deepEqual(await forgetUnhealthyInstances(kv, KEY, 300_000, now), ['old']);
    assert.deepEqual(Object.keys((await readRing(kv, KEY)).instances), ['fresh']);
    assert.equal(await forgetInstance(kv, KEY, 'nope'), false);
    await kv.cas(KEY, () => encodeRingDesc(ringDesc(inst('ghost', [9], { heartbeatMs: 1 }))));
    const l = lifecycler(kv, { autoForgetUnhealthyPeriodMs: 60_000 });
    await run(l);
    await until(async () => (await readRing(kv, KEY)).instances['ghost'] === undefined, 'ghost forgotten');
    await stop(l);
  });

  test('a value that is not a ring is replaced; invalid entries are cleaned out on the next write', async () => {
    const kv = new InMemoryKV();
    await kv.cas(KEY, () => new TextEncoder().encode('\u0000not a ring'));
    const { log, lines } = captureLogger();
    const l = lifecycler(kv, { log });
    await run(l);
    assert.deepEqual(Object.keys((await readRing(kv, KEY)).instances), ['ing-1']);
    assert.ok(lines.some((x) => /not a ring; replacing it/.test(String(x['msg']))));
    await kv.cas(KEY, (cur) => {
      const o = JSON.parse(new TextDecoder().decode(cur as Uint8Array)) as { instances: Record<string, unknown> };
      o.instances['bad'] = { addr: 'x', state: 'SLEEPING', tokens: [], heartbeatMs: 1 };
      return new TextEncoder().encode(JSON.stringify(o));
    });
    await until(async () => new TextDecoder().decode((await kv.get(KEY)) as Uint8Array).includes('SLEEPING') === false, 'bad entry cleaned');
    assert.ok(lines.some((x) => x['instance'] === 'bad' && /dropping an invalid instance/.test(String(x['msg']))));
    await stop(l);
  });

  test('markLeaving: a no-op before registration; LEAVING at once, kept by heartbeats; stopping does not write it again and unregisters', async () => {
    const kv = new RecordingKV(new InMemoryKV());
    const { log, lines } = captureLogger();
    const leavingLogs = (): Array<Record<string, unknown>> => lines.filter((x) => x['msg'] === 'instance is LEAVING the ring');
    // no heartbeat of its own during the test: every write below is one the test caused
    const l = lifecycler(kv, { log, heartbeatPeriodMs: 3_600_000 });

    await l.markLeaving(AbortSignal.timeout(1000));
    assert.equal(l.ringState(), null, 'not registered: nothing to leave');
    assert.equal(kv.writes.length, 0);
    assert.equal(await kv.get(KEY), null);
    assert.equal(leavingLogs().length, 0);

    await run(l);
    assert.equal(l.ringState(), 'ACTIVE');
    const registered = kv.writes.length;
    const active = (await readRing(kv, KEY)).instances['ing-1'] as InstanceDesc;

    await l.markLeaving(AbortSignal.timeout(1000));
    assert.equal(l.ringState(), 'LEAVING');
    assert.equal(l.isReady(), false);
    assert.equal(kv.writes.length, registered + 1, 'one write');
    const leaving = (await readRing(kv, KEY)).instances['ing-1'] as InstanceDesc;
    assert.equal(leaving.state, 'LEAVING');
    assert.deepEqual(leaving.tokens, active.tokens, 'keeps its tokens');
    assert.equal(leaving.addr, active.addr);
    assert.equal(leaving.registeredMs, active.registeredMs);
    assert.equal(leavingLogs().length, 1);
    assert.equal(leavingLogs()[0]?.['from'], 'ACTIVE');

    await l.markLeaving(AbortSignal.timeout(1000));
    assert.equal(kv.writes.length, registered + 1, 'a second markLeaving writes nothing');

    assert.ok(await l.heartbeat());
    assert.equal(kv.writes.length, registered + 2);
    const beat = kv.writes.at(-1)?.instances['ing-1'];
    assert.equal(beat?.state, 'LEAVING', 'a heartbeat keeps LEAVING');
    assert.ok((beat?.heartbeatMs ?? 0) >= leaving.heartbeatMs);

    await stop(l);
    assert.equal(kv.writes.length, registered + 3, 'stopping: only the removal, no second LEAVING write');
    assert.equal(kv.writes.at(-1)?.instances['ing-1'], undefined);
    assert.deepEqual((await readRing(kv, KEY)).instances, {});
    assert.equal(l.ringState(), null);
    assert.equal(leavingLogs().length, 1, 'LEAVING logged once');
    assert.ok(lines.some((x) => x['msg'] === 'instance unregistered from the ring'));

    await l.markLeaving(AbortSignal.timeout(1000));
    assert.equal(kv.writes.length, registered + 3, 'after unregistering: a no-op');
    assert.deepEqual((await readRing(kv, KEY)).instances, {});
  });

  test('markLeaving with unregister off: the heartbeat loop keeps LEAVING, stopping writes nothing more and leaves it LEAVING', async () => {
    const kv = new RecordingKV(new InMemoryKV());
    const { log, lines } = captureLogger();
    const l = lifecycler(kv, { log, unregisterOnShutdown: false, heartbeatPeriodMs: 5 });
    await run(l);
    const tokens = [...l.tokens()];
    await l.markLeaving(AbortSignal.timeout(1000));
    const marked = kv.writes.length;
    assert.equal(kv.writes.at(-1)?.instances['ing-1']?.state, 'LEAVING');
    await until(() => kv.writes.length >= marked + 3, 'heartbeats after markLeaving');
    assert.deepEqual(kv.writes.slice(marked - 1).map((d) => d.instances['ing-1']?.state), Array(kv.writes.length - marked + 1).fill('LEAVING'), 'every write since is LEAVING');
    assert.equal(l.ringState(), 'LEAVING');

    const beforeStop = kv.writes.length;
    await stop(l);
    // a heartbeat already under way when the stop came may still land; nothing else does
    assert.ok(kv.writes.length <= beforeStop + 1, `stopping wrote ${kv.writes.length - beforeStop} times`);
    assert.ok(kv.writes.slice(beforeStop).every((d) => d.instances['ing-1']?.state === 'LEAVING'));
    const left = (await readRing(kv, KEY)).instances['ing-1'];
    assert.equal(left?.state, 'LEAVING');
    assert.deepEqual(left?.tokens, tokens);
    assert.equal(lines.filter((x) => x['msg'] === 'instance is LEAVING the ring').length, 1);
    assert.ok(lines.some((x) => /stays in the ring as LEAVING/.test(String(x['msg']))));
  });

  test('stop while the store hangs during start: terminates, nothing pending', async () => {
    const inner = new InMemoryKV();
    const hanging: KVClient = {
      get: (k, s) => inner.get(k, s),
      cas: (_k, _f, signal) => new Promise<void>((_, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
      watchKey: (k, f, s) => inner.watchKey(k, f, s),
      delete: (k, s) => inner.delete(k, s),
      close: () => inner.close(),
    };
    const l = lifecycler(hanging, { kvTimeoutMs: 50 });
    l.startAsync();
    await new Promise((r) => setTimeout(r, 10));
    await stop(l);
    assert.equal(l.state(), State.Terminated);
  });
});

// ---- RingWatcher ---------------------------------------------------------------------------

/** Wraps a KV: watchKey can be made to fail (store down), and values can be replaced with garbage. */
class FlakyKV implements KVClient {
  down = false;
  private failWatch: (() => void) | undefined;
  watchCalls = 0;
  constructor(readonly inner: KVClient) {}
  get(key: string, signal?: AbortSignal) { return this.inner.get(key, signal); }
  cas(key: string, f: (c: Uint8Array | null) => Uint8Array | null, signal?: AbortSignal) { return this.inner.cas(key, f, signal); }
  delete(key: string, signal?: AbortSignal) { return this.inner.delete(key, signal); }
  close() { return this.inner.close(); }
  /** Breaks the current watch and every new one until up() (a store outage the client gave up on). */
  goDown(): void {
    this.down = true;
    this.failWatch?.();
  }
  up(): void {
    this.down = false;
  }
  watchKey(key: string, onValue: (v: Uint8Array | null) => void, signal: AbortSignal): Promise<void> {
    this.watchCalls++;
    if (this.down) return Promise.reject(new Error('injected: connection refused'));
    const ctl = new AbortController();
    const both = AbortSignal.any([signal, ctl.signal]);
    return new Promise<void>((resolve, reject) => {
      this.failWatch = () => {
        ctl.abort();
        reject(new Error('injected: watch stream broken'));
      };
      this.inner.watchKey(key, onValue, both).then(resolve, reject);
    });
  }
}

describe('RingWatcher', () => {
  const ringOpts = { replicationFactor: 1, heartbeatTimeoutMs: TIMEOUT };

  test('follows the ring; keeps the last ring through a store outage, logs it once, logs recovery', async () => {
    const inner = new InMemoryKV();
    const kv = new FlakyKV(inner);
    const { log, lines } = captureLogger();
    const w = new RingWatcher({ kv, ringKey: KEY, ring: ringOpts, log, minBackoffMs: 5, maxBackoffMs: 20 });
    w.startAsync();
    await withDeadline(w.awaitRunning(), 2000, 'watcher running');
    assert.ok(w.hasValue());
    assert.equal(w.ring().instanceCount, 0);
    const changes: number[] = [];
    w.onChange((r) => changes.push(r.instanceCount));

    await inner.cas(KEY, () => encodeRingDesc(ringDesc(inst('a', [1], { heartbeatMs: Date.now() }))));
    await until(() => w.ring().instanceCount === 1, 'first instance');
    const before = w.ring();

    kv.goDown();
    await until(() => kv.watchCalls >= 4, 'several failed watch attempts');
    assert.ok(w.isStale());
    assert.equal(w.ring(), before, 'the last ring is kept');
    assert.equal(w.ring().get(1, 'write').instances[0]?.id, 'a', 'and still answers lookups');
    await inner.cas(KEY, () => encodeRingDesc(ringDesc(inst('a', [1], { heartbeatMs: Date.now() }), inst('b', [2], { heartbeatMs: Date.now() }))));
    assert.equal(w.ring().instanceCount, 1, 'no updates while down');
    assert.equal(lines.filter((x) => /ring watch failed/.test(String(x['msg']))).length, 1, 'logged once');

    kv.up();
    await until(() => w.ring().instanceCount === 2, 'catch-up after recovery');
    assert.ok(!w.isStale());
    assert.equal(lines.filter((x) => /ring watch recovered/.test(String(x['msg']))).length, 1);
    assert.deepEqual(changes, [1, 2]);

    // a value that is not a ring: keep the last one
    await inner.cas(KEY, () => new TextEncoder().encode('garbage'));
    await until(() => w.isStale(), 'undecodable value noticed');
    assert.equal(w.ring().instanceCount, 2);
    await inner.cas(KEY, () => encodeRingDesc(ringDesc(inst('c', [3], { heartbeatMs: Date.now() }))));
    await until(() => !w.isStale() && w.ring().instanceCount === 1, 'good value again');

    await stop(w);
    assert.equal(w.state(), State.Terminated);
  });

  test('stopping before the first value arrives terminates promptly', async () => {
    const kv = new FlakyKV(new InMemoryKV());
    kv.goDown();
    const w = new RingWatcher({ kv, ringKey: KEY, ring: ringOpts, log: captureLogger().log, minBackoffMs: 1000 });
    w.startAsync();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(w.state(), State.Starting);
    await stop(w);
  });

  test('lifecycler + watcher over one InMemoryKV (-target=all): the watcher sees the instance ACTIVE, then gone', async () => {
    const kv = new InMemoryKV();
    const w = new RingWatcher({ kv, ringKey: KEY, ring: { replicationFactor: 1, heartbeatTimeoutMs: TIMEOUT }, log: captureLogger().log });
    w.startAsync();
    await w.awaitRunning();
    const l = lifecycler(kv);
    await run(l);
    await until(() => w.ring().instance('ing-1')?.state === 'ACTIVE', 'watcher sees ACTIVE');
    assert.equal(w.ring().healthyInstanceCount(), 1);
    assert.equal(w.ring().get(12345, 'write').instances[0]?.id, 'ing-1');
    await stop(l);
    await until(() => w.ring().instanceCount === 0, 'watcher sees it gone');
    await stop(w);
    await kv.close();
  });
});

// ---- ring page and config ------------------------------------------------------------------

describe('ring page and config', () => {
  test('renderRingHtml: a row per instance, escaped, forget only for unhealthy ones; ringJson', () => {
    const d = ringDesc(
      inst('<b>evil</b>', [0], { zone: 'z"1' }),
      inst('dead', [2 ** 31], { heartbeatMs: NOW - 2 * TIMEOUT, state: 'ACTIVE' }),
    );
    const r = mkRing(d);
    const html = renderRingHtml(r, NOW);
    assert.ok(!html.includes('<b>evil</b>'));
    assert.ok(html.includes('&#60;b&#62;evil&#60;/b&#62;'));
    assert.equal((html.match(/name="forget"/g) ?? []).length, 1);
    assert.ok(html.includes('value="dead"'));
    assert.ok(html.includes('UNHEALTHY (ACTIVE)'));
    assert.ok(html.includes('2m0s ago'));
    assert.ok(html.includes('50.00%'));
    const j = ringJson(r, NOW);
    assert.equal(j.shards.length, 2);
    assert.equal(j.shards[1]?.state, 'UNHEALTHY');
    assert.equal(j.shards[0]?.ownership, 0.5);
    assert.equal(j.now, new Date(NOW).toISOString());
    assert.doesNotThrow(() => JSON.stringify(j));
  });

  test('config: Mimir names and defaults; helpers', () => {
    const cfg = defaultsOf({ ring: ingesterRingConfig }).ring;
    assert.equal(cfg.store, 'inmemory');
    assert.equal(cfg.prefix, 'collectors/');
    assert.equal(cfg.numTokens, 128);
    assert.equal(cfg.replicationFactor, 3);
    assert.equal(cfg.heartbeatPeriod, 15_000);
    assert.equal(cfg.heartbeatTimeout, 60_000);
    assert.equal(cfg.etcdDialTimeout, 10_000);
    assert.equal(cfg.unregisterOnShutdown, true);
    assert.equal(ingesterRingConfig.options.replicationFactor.yaml, 'ingester.ring.replication_factor');
    assert.equal(ingesterRingConfig.options.etcdEndpoints.yaml, 'ingester.ring.kvstore.etcd.endpoints');
    assert.equal(ingesterRingConfig.options.store.flag, 'ingester.ring.store');
    assert.equal(ingesterRingKey(cfg), 'collectors/ring');
    assert.equal(resolveInstanceAddr({ ...cfg, instanceAddr: '10.1.2.3' }, 9095), '10.1.2.3:9095');
    assert.equal(resolveInstanceAddr({ ...cfg, instanceAddr: '::1', instancePort: 7 }, 9095), '[::1]:7');
    assert.throws(() => ingesterRingConfig.validate?.({ ...cfg, store: 'etcd' }), /etcd.endpoints/);
    assert.doesNotThrow(() => ingesterRingConfig.validate?.(cfg));
    assert.throws(() => lifecyclerOptionsFromConfig({ ...cfg, zoneAwarenessEnabled: true }, { kv: new InMemoryKV(), grpcPort: 1, log: captureLogger().log }), /availability-zone/);
    const lo = lifecyclerOptionsFromConfig({ ...cfg, instanceId: 'x' }, { kv: new InMemoryKV(), grpcPort: 9095, log: captureLogger().log });
    assert.equal(lo.instanceId, 'x');
    assert.ok(lo.addr.endsWith(':9095'));
  });
});
