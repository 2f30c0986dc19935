import '../harness.js';
// EtcdKV against a real etcd (test/etcd.ts): basics, concurrent CAS, watch delivery, an outage
// (member paused, killed, down for seconds, restarted on the same data dir) and close() racing
// calls and watches. Watch delivery contract checked here: every change in order while the
// stream is up; after a reconnect, the latest value (no duplicates, never an older value).
// Randomized parts print their seed; replay with SEED=<n>.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { MuninnError, isRetryable } from '../../src/errors/index.js';
import { createLogger, type Logger } from '../../src/log/index.js';
import { EtcdKV, type EtcdKVOptions } from '../../src/ring/kv/etcd.js';
import { KVError } from '../../src/ring/kv/kv.js';
import { type EtcdServer, etcdAvailable, startEtcd } from '../etcd.js';
import { mulberry32, settledState, withDeadline } from '../util.js';

const skip = etcdAvailable() ? false : 'etcd binary not found';
const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));

let etcd: EtcdServer;
const open: EtcdKV[] = [];

before(async () => {
  if (skip === false) etcd = await startEtcd();
});

after(async () => {
  await Promise.allSettled(open.map((c) => c.close()));
  if (skip === false) await etcd.close();
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (v: Uint8Array | null): string | null => (v === null ? null : new TextDecoder().decode(v));
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function kv(opts: Partial<EtcdKVOptions> = {}): EtcdKV {
  const c = new EtcdKV({ endpoints: [etcd.endpoint], dialTimeoutMs: 5000, ...opts });
  open.push(c);
  return c;
}

function captureLog(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { log, lines };
}

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleepMs(10);
  }
}

/** Asserts e is the store's retryable error with the given reason. */
function assertKVError(e: unknown, reason: KVError['reason']): true {
  assert.ok(e instanceof KVError, `expected KVError(${reason}), got ${String(e)}`);
  assert.ok(e instanceof MuninnError);
  assert.equal(e.code, 'unavailable');
  assert.equal(isRetryable(e), true);
  assert.equal(e.reason, reason, e.message);
  return true;
}

/** Records a watch's deliveries as strings. */
function watchInto(c: EtcdKV, key: string, signal: AbortSignal): { seen: Array<string | null>; done: Promise<void> } {
  const seen: Array<string | null> = [];
  const done = c.watchKey(key, (v) => {
    if (v !== null) assert.equal(Object.getPrototypeOf(v), Uint8Array.prototype, 'values are plain Uint8Arrays');
    seen.push(dec(v));
  }, signal);
  return { seen, done };
}

test('get, cas and delete', { skip }, async () => {
  const a = kv({ prefix: 'basics/' });
  const other = kv({ prefix: 'other/' });
  assert.equal(await a.get('k'), null);

  const calls: Array<string | null> = [];
  await a.cas('k', (cur) => { calls.push(dec(cur)); return enc('v1'); });
  assert.deepEqual(calls, [null]);
  const got = await a.get('k');
  assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype);
  assert.equal(dec(got), 'v1');
  assert.equal(await other.get('k'), null, 'prefixes keep keys apart');

  await a.cas('k', (cur) => enc(`${dec(cur)}+v2`));
  assert.equal(dec(await a.get('k')), 'v1+v2');

  // f returning null or the same bytes writes nothing (the key's mod revision stays)
  const raw = new Etcd3({ hosts: [etcd.endpoint] });
  try {
    const rev = async (): Promise<string | undefined> => (await raw.get('basics/k').exec()).kvs[0]?.mod_revision;
    const before = await rev();
    await a.cas('k', () => null);
    await a.cas('k', (cur) => (cur === null ? null : cur.slice()));
    assert.equal(await rev(), before);
  } finally {
    raw.close();
  }

  await assert.rejects(a.cas('k', () => 'nope' as unknown as Uint8Array), TypeError);
  const boom = new Error('f failed');
  await assert.rejects(a.cas('k', () => { throw boom; }), (e) => e === boom);

  await a.delete('k');
  assert.equal(await a.get('k'), null);
  await a.delete('k'); // deleting an absent key is fine
  await a.cas('k', (cur) => { assert.equal(cur, null); return enc('again'); });
  assert.equal(dec(await a.get('k')), 'again');

  const ac = new AbortController();
  const reason = new Error('caller gave up');
  ac.abort(reason);
  await assert.rejects(a.get('k', ac.signal), (e) => e === reason);
  await assert.rejects(a.cas('k', () => enc('x'), ac.signal), (e) => e === reason);
  await assert.rejects(a.delete('k', ac.signal), (e) => e === reason);
  assert.equal(dec(await a.get('k')), 'again');
});

test(`concurrent CAS from several clients lands every increment (seed ${SEED})`, { skip }, async () => {
  const rnd = mulberry32(SEED);
  const clients = [kv({ prefix: 'cas/', maxCasRetries: 200 }), kv({ prefix: 'cas/', maxCasRetries: 200 }), kv({ prefix: 'cas/', maxCasRetries: 200 }), kv({ prefix: 'cas/', maxCasRetries: 200 })];
  const lanesPerClient = 2;
  const perLane = 15;
  // draw every delay up front so a seed replays the same schedule
  const plan = clients.map(() => Array.from({ length: lanesPerClient }, () => Array.from({ length: perLane }, () => Math.floor(rnd() * 4))));
  let fCalls = 0;
  const inc = (cur: Uint8Array | null): Uint8Array => {
    fCalls++;
    return enc(String(Number(dec(cur) ?? '0') + 1));
  };
  await withDeadline(Promise.all(clients.flatMap((c, i) => (plan[i] ?? []).map(async (delays) => {
    for (const d of delays) {
      if (d > 0) await sleepMs(d);
      await c.cas('counter', inc);
    }
  }))), 20_000, `CAS workers did not finish (seed ${SEED})`);
  const total = clients.length * lanesPerClient * perLane;
  assert.equal(dec(await clients[0]!.get('counter')), String(total), `seed ${SEED}`);
  assert.ok(fCalls >= total, `f ran ${fCalls} times for ${total} increments`);
});

test('watch delivers the initial value, then every change in order', { skip }, async () => {
  const w = kv({ prefix: 'watch/' });
  const writer = kv({ prefix: 'watch/', maxCasRetries: 200 }); // 20 concurrent writers below
  const ac = new AbortController();

  const absent = watchInto(w, 'missing', ac.signal);
  await writer.cas('k', () => enc('v0'));
  const seenK = watchInto(w, 'k', ac.signal);
  await waitFor(() => seenK.seen.length === 1 && absent.seen.length === 1, 5000, 'initial values');
  assert.deepEqual(seenK.seen, ['v0']);
  assert.deepEqual(absent.seen, [null]);

  // sequential writes, then a burst of concurrent ones (each its own revision), then a delete
  const expected = ['v0'];
  for (let i = 1; i <= 5; i++) {
    await writer.cas('k', () => enc(`s${i}`));
    expected.push(`s${i}`);
  }
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => writer.cas('k', (cur) => enc(`${dec(cur)}|b${i}`)).then(() => i)));
  assert.equal(burst.length, 20);
  const finalBurst = dec(await writer.get('k'));
  await writer.delete('k');
  await writer.cas('k', () => enc('after-delete'));
  await waitFor(() => seenK.seen.at(-1) === 'after-delete', 5000, 'the last write');

  // every change, in order: the 5 sequential values, 20 burst values each extending the
  // previous one, the delete, the re-create
  const s = seenK.seen;
  assert.deepEqual(s.slice(0, 6), expected);
  const burstSeen = s.slice(6, 26);
  assert.equal(burstSeen.length, 20);
  for (let i = 0; i < burstSeen.length; i++) {
    const prev = i === 0 ? 's5' : burstSeen[i - 1]!;
    assert.ok(burstSeen[i]!.startsWith(`${prev}|b`), `burst value ${i} extends the previous one: ${burstSeen[i]}`);
  }
  assert.equal(burstSeen.at(-1), finalBurst);
  assert.deepEqual(s.slice(26), [null, 'after-delete']);
  assert.deepEqual(absent.seen, [null], 'a watch on another key sees nothing');

  ac.abort();
  await withDeadline(Promise.all([seenK.done, absent.done]), 1000, 'watches end on abort');
  const count = seenK.seen.length;
  await writer.cas('k', () => enc('unseen'));
  await sleepMs(100);
  assert.equal(seenK.seen.length, count, 'nothing delivered after abort');
});

test('a member that does not answer: calls time out with the retryable error, aborts are prompt', { skip }, async () => {
  const c = kv({ prefix: 'pause/', dialTimeoutMs: 800 });
  await c.cas('k', () => enc('v'));
  await etcd.pause();
  try {
    let t = Date.now();
    await assert.rejects(withDeadline(c.get('k'), 5000, 'get hung'), (e) => assertKVError(e, 'unavailable'));
    const getMs = Date.now() - t;
    assert.ok(getMs >= 700 && getMs < 3000, `get failed after ${getMs} ms (deadline 800 ms)`);

    t = Date.now();
    await assert.rejects(withDeadline(c.cas('k', () => enc('w')), 5000, 'cas hung'), (e) => assertKVError(e, 'unavailable'));
    assert.ok(Date.now() - t < 3000);

    const ac = new AbortController();
    const p = c.delete('k', ac.signal);
    setTimeout(() => ac.abort(new Error('stop')), 50);
    t = Date.now();
    await assert.rejects(p, /stop/);
    assert.ok(Date.now() - t < 500, `abort took ${Date.now() - t} ms`);
  } finally {
    etcd.resume();
  }
  // A timed-out or aborted write is not a failed write: the paused member already holds the
  // requests, and runs them when it resumes (the delete above lands in practice).
  const after = dec(await c.get('k'));
  assert.ok(after === 'v' || after === 'w' || after === null, `value after resume: ${after}`);
});

test('etcd down for seconds: in-flight calls fail retryably, the watch resumes with the value written after restart', { skip, timeout: 30_000 }, async (t) => {
  const { log, lines } = captureLog();
  const w = kv({ prefix: 'outage/', log, watchBackoff: { minMs: 50, maxMs: 500 } });
  // retries every 1.5-3 s: usually reconnects after the writes below, so it gets only the latest
  const slowW = kv({ prefix: 'outage/', watchBackoff: { minMs: 3000, maxMs: 3000 } });
  const c = kv({ prefix: 'outage/', dialTimeoutMs: 3000 });
  const ac = new AbortController();
  await c.cas('k', () => enc('before'));
  const watch = watchInto(w, 'k', ac.signal);
  const slow = watchInto(slowW, 'k', ac.signal);
  await waitFor(() => watch.seen.at(-1) === 'before' && slow.seen.at(-1) === 'before', 5000, 'initial value');

  // calls truly in flight: the member holds them (paused), then dies (SIGKILL)
  await etcd.pause();
  const inflight = [c.get('k'), c.cas('k', () => enc('lost?')), c.delete('other')];
  await sleepMs(200);
  for (const p of inflight) assert.equal(await settledState(p), 'pending');
  const killedAt = Date.now();
  await etcd.kill();
  const results = await withDeadline(Promise.allSettled(inflight), 5000, 'in-flight calls hung after the member died');
  const inflightMs = Date.now() - killedAt;
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    if (r.status === 'rejected') assertKVError(r.reason, 'unavailable');
  }

  // while down: calls fail fast, watch keeps retrying
  const downAt = Date.now();
  await assert.rejects(c.get('k'), (e) => assertKVError(e, 'unavailable'));
  const downCallMs = Date.now() - downAt;
  await sleepMs(2500);
  await waitFor(() => lines.some((l) => l.msg === 'etcd watch lost the store; retrying'), 3000, 'the "lost" log line');
  assert.equal(await settledState(watch.done), 'pending', 'the watch outlives the outage');

  await etcd.restart();
  const upAt = Date.now();
  // the first write that succeeds after the restart (the client reconnects on its own)
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await c.cas('k', () => enc('after-1'));
      break;
    } catch (e) {
      assertKVError(e, 'unavailable');
      if (Date.now() - upAt > 10_000) throw e;
      await sleepMs(50);
    }
  }
  const firstWriteMs = Date.now() - upAt;
  await c.cas('k', () => enc('after-2'));
  await c.cas('k', () => enc('after'));
  await waitFor(() => watch.seen.at(-1) === 'after', 10_000, 'the watch to deliver the value written after restart');
  const watchMs = Date.now() - upAt;
  await waitFor(() => slow.seen.at(-1) === 'after', 10_000, 'the slow watch to deliver the latest value');
  const slowMs = Date.now() - upAt;
  await waitFor(() => lines.some((l) => l.msg === 'etcd watch re-established'), 3000, 'the "re-established" log line');
  // Each watch saw an ordered subsequence of the values, starting with the initial one and ending
  // with the latest: no duplicate, nothing older after newer. ('lost?' was in flight when the
  // member died: it did not commit.)
  const order = ['before', 'lost?', 'after-1', 'after-2', 'after'];
  for (const seen of [watch.seen, slow.seen]) {
    const idx = seen.map((v) => order.indexOf(v ?? ''));
    assert.ok(idx.every((x, i) => x >= 0 && (i === 0 || x > idx[i - 1]!)), `ordered, no duplicates: ${JSON.stringify(seen)}`);
    assert.equal(seen[0], 'before');
    assert.equal(seen.at(-1), 'after');
  }
  t.diagnostic(`in-flight calls rejected ${inflightMs} ms after SIGKILL; a call while down failed in ${downCallMs} ms; ` +
    `first write ${firstWriteMs} ms after healthy (${attempts} attempts); watch delivered the last write ${watchMs} ms after healthy, ` +
    `slow-backoff watch ${slowMs} ms; seen ${JSON.stringify(watch.seen)}, slow watch seen ${JSON.stringify(slow.seen)}`);

  ac.abort();
  await withDeadline(Promise.all([watch.done, slow.done]), 1000, 'watches end on abort');
});

test('close during watch and CAS settles everything; later calls get the closed error', { skip }, async () => {
  // against a member that holds every call (paused): only close() can settle them
  const c = kv({ prefix: 'close/', dialTimeoutMs: 10_000 });
  await c.cas('k', () => enc('v'));
  const ac = new AbortController();
  const established = watchInto(c, 'k', ac.signal);
  await waitFor(() => established.seen.length === 1, 5000, 'initial value');
  await etcd.pause();
  try {
    const cas = c.cas('k', () => enc('w'));
    const get = c.get('k');
    const watching = watchInto(c, 'k2', ac.signal); // stuck in its first read
    await sleepMs(100);
    assert.equal(await settledState(cas), 'pending');
    const t0 = Date.now();
    const p1 = c.close();
    const p2 = c.close();
    assert.equal(p1, p2, 'close() joins a close in progress');
    await withDeadline(p1, 2000, 'close hung');
    const [casR, getR, w1, w2] = await withDeadline(Promise.allSettled([cas, get, established.done, watching.done]), 1000, 'calls hung after close');
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(casR.status, 'rejected');
    if (casR.status === 'rejected') assertKVError(casR.reason, 'closed');
    assert.equal(getR.status, 'rejected');
    if (getR.status === 'rejected') assertKVError(getR.reason, 'closed');
    assert.equal(w1.status, 'fulfilled', 'an established watch ends (resolves) on close');
    assert.equal(w2.status, 'fulfilled', 'a watch still connecting ends on close');
    assert.deepEqual(watching.seen, []);
  } finally {
    etcd.resume();
  }
  await assert.rejects(c.get('k'), (e) => assertKVError(e, 'closed'));
  await assert.rejects(c.cas('k', () => enc('x')), (e) => assertKVError(e, 'closed'));
  await assert.rejects(c.delete('k'), (e) => assertKVError(e, 'closed'));
  await withDeadline(c.watchKey('k', () => assert.fail('no delivery after close'), ac.signal), 500, 'watchKey after close');
  await c.close();
});

test(`close at random moments during CAS loops and watches (seed ${SEED})`, { skip }, async () => {
  const rnd = mulberry32(SEED ^ 0x5eed);
  const outcomes = { ok: 0, closed: 0 };
  let completed = 0; // increments whose cas() resolved
  for (let round = 0; round < 15; round++) {
    const c = kv({ prefix: 'close-stress/', maxCasRetries: 1000 });
    const ac = new AbortController();
    const w = watchInto(c, 'n', ac.signal);
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < 6; i++) {
      ops.push((async () => {
        for (let j = 0; j < 20; j++) {
          await c.cas('n', (cur) => enc(String(Number(dec(cur) ?? '0') + 1)));
          completed++;
        }
      })());
    }
    const all = Promise.allSettled([...ops, w.done]); // handles the rejections as they come
    await sleepMs(Math.floor(rnd() * 40));
    await withDeadline(c.close(), 2000, `close hung (seed ${SEED}, round ${round})`);
    const settled = await withDeadline(all, 2000, `calls hung after close (seed ${SEED}, round ${round})`);
    for (const s of settled) {
      if (s.status === 'fulfilled') outcomes.ok++;
      else {
        assertKVError(s.reason, 'closed');
        outcomes.closed++;
      }
    }
  }
  // every CAS that resolved is in the counter; a CAS cut off by close() may or may not have
  // landed (its transaction can commit after the caller was told 'closed'), at most one per loop
  const check = kv({ prefix: 'close-stress/' });
  const n = Number(dec(await check.get('n')) ?? '0');
  assert.ok(n >= completed && n <= completed + outcomes.closed, `counter ${n}, completed ${completed}, interrupted ${outcomes.closed} (seed ${SEED})`);
  assert.ok(outcomes.closed > 0, `close interrupted something (${JSON.stringify(outcomes)})`);
});
