import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MuninnError, PoolClosedError } from '../../src/errors/index.js';
import { WorkPool } from '../../src/pool/index.js';
import { mulberry32, tick, withDeadline } from '../util.js';



test('runs at most `concurrency` tasks at once and all of them', async () => {
  const pool = new WorkPool({ name: 't', concurrency: 3 });
  let running = 0;
  let peak = 0;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.submit(async () => {
    running++;
    peak = Math.max(peak, running);
    await tick();
    running--;
    return i * 2;
  })));
  assert.equal(peak, 3);
  assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * 2));
});

test('submit never throws synchronously; a throwing task rejects its promise', async () => {
  const pool = new WorkPool({ name: 't', concurrency: 1 });
  const p = pool.submit(() => {
    throw new Error('boom');
  });
  await assert.rejects(p, /boom/);
  await assert.rejects(pool.submit(() => Promise.reject(new Error('async boom'))), /async boom/);
  assert.equal(await pool.submit(() => 7), 7);
});

test('after close, submit settles with a retryable PoolClosedError and the task does not run', async () => {
  const pool = new WorkPool({ name: 'push', concurrency: 2 });
  await pool.close();
  let ran = false;
  const p = pool.submit(() => {
    ran = true;
  });
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PoolClosedError);
    assert.equal(e.code, 'pool_closed');
    assert.equal(e.retryable, true);
    assert.equal(e.httpStatus, 503);
    assert.match(e.message, /"push" is closed/);
    return true;
  });
  assert.equal(ran, false);
});

test('close waits for running and queued tasks, which still complete', async () => {
  const pool = new WorkPool({ name: 't', concurrency: 1 });
  const done: number[] = [];
  const ps = [1, 2, 3].map((n) => pool.submit(async () => {
    await tick();
    done.push(n);
    return n;
  }));
  const closed = pool.close();
  assert.equal(pool.closed, true);
  await closed;
  assert.deepEqual(done, [1, 2, 3]);
  assert.deepEqual(await Promise.all(ps), [1, 2, 3]);
  assert.equal(pool.inflight, 0);
});

test('close is idempotent and a second call joins the first', async () => {
  const pool = new WorkPool({ name: 't', concurrency: 1 });
  let release!: () => void;
  const task = pool.submit(() => new Promise<void>((r) => (release = r)));
  let firstDone = false;
  let secondDone = false;
  const a = pool.close().then(() => (firstDone = true));
  const b = pool.close().then(() => (secondDone = true));
  await tick();
  assert.equal(firstDone || secondDone, false, 'close resolved while a task was running');
  release();
  await Promise.all([a, b, task]);
  assert.ok(firstDone && secondDone);
});

test('aborting the close wait cancels running tasks and settles queued ones', async () => {
  const pool = new WorkPool({ name: 't', concurrency: 1 });
  let sawAbort = false;
  const running = pool.submit((signal) => new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => {
      sawAbort = true;
      resolve();
    });
  }));
  let queuedRan = false;
  const queued = pool.submit(() => {
    queuedRan = true;
  });
  const ac = new AbortController();
  const closed = pool.close(ac.signal);
  ac.abort(new Error('deadline'));
  await closed;
  await running;
  assert.equal(sawAbort, true);
  await assert.rejects(queued, PoolClosedError);
  assert.equal(queuedRan, false);
});

test('a full queue rejects with a retryable error', async () => {
  const pool = new WorkPool({ name: 't', concurrency: 1, maxQueued: 1 });
  let release!: () => void;
  const a = pool.submit(() => new Promise<void>((r) => (release = r)));
  const b = pool.submit(() => 'b');
  await assert.rejects(pool.submit(() => 'c'), (e: unknown) => e instanceof MuninnError && e.retryable && e.httpStatus === 503);
  release();
  await a;
  assert.equal(await b, 'b');
});

test('rejects a bad concurrency', () => {
  assert.throws(() => new WorkPool({ name: 't', concurrency: 0 }), RangeError);
});

// Regression test for the Mimir 2.13 bug class ("send on closed channel"): requests still in
// flight submit to a pool that shutdown closes. 10,000 rounds of concurrent submit() and close()
// at random moments: every task either runs exactly once and settles with its own outcome, or
// never runs and settles with PoolClosedError; nothing throws; no promise stays pending.
test('stress: 10,000 rounds of concurrent submit and close', async () => {
  const seed = 0x5eed2013;
  const rnd = mulberry32(seed);
  for (let round = 0; round < 10_000; round++) {
    const pool = new WorkPool({ name: 'stress', concurrency: 1 + Math.floor(rnd() * 4) });
    const n = 1 + Math.floor(rnd() * 12);
    const closeAt = Math.floor(rnd() * (n + 1));
    const ranCount = new Array<number>(n).fill(0);
    const outcomes: Array<Promise<'ran-ok' | 'ran-err' | 'closed'>> = [];
    const closes: Promise<void>[] = [];
    const ctx = `seed ${seed} round ${round}`;
    for (let i = 0; i < n; i++) {
      if (i === closeAt) closes.push(pool.close());
      const kind = Math.floor(rnd() * 4);
      const idx = i;
      let p: Promise<unknown>;
      try {
        p = pool.submit(async (signal) => {
          ranCount[idx] = (ranCount[idx] as number) + 1;
          assert.equal(signal.aborted, false);
          if (kind === 1) await tick();
          if (kind === 2) throw new Error(`task ${idx} failed`);
          if (kind === 3) await Promise.resolve();
          return idx;
        });
      } catch (e) {
        assert.fail(`submit threw synchronously (${ctx}): ${String(e)}`);
      }
      outcomes.push(p.then(
        (v) => {
          assert.equal(v, idx, ctx);
          return 'ran-ok' as const;
        },
        (e: unknown) => {
          if (e instanceof PoolClosedError) return 'closed' as const;
          assert.match(String(e), new RegExp(`task ${idx} failed`), ctx);
          return 'ran-err' as const;
        },
      ));
      if (rnd() < 0.3) await tick();
    }
    if (closeAt === n) closes.push(pool.close());
    if (rnd() < 0.5) closes.push(pool.close()); // a second close joins the first
    const settled = await withDeadline(Promise.all([Promise.all(outcomes), Promise.all(closes)]), 5000, `round hung (${ctx})`);
    settled[0].forEach((o, i) => {
      const ran = ranCount[i] as number;
      if (o === 'closed') assert.equal(ran, 0, `task ${i} ran although rejected as closed (${ctx})`);
      else assert.equal(ran, 1, `task ${i} ran ${ran} times (${ctx})`);
      if (i < closeAt) assert.notEqual(o, 'closed', `task ${i} was submitted before close but rejected (${ctx})`);
      else assert.equal(o, 'closed', `task ${i} was submitted after close but accepted (${ctx})`);
    });
    assert.equal(pool.inflight, 0, ctx);
    assert.equal(pool.queued, 0, ctx);
  }
});
