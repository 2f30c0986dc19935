import '../harness.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BasicService, Manager, type Service, ServiceStateError, State, isTerminal, sleep, waitForAbort,
} from '../../src/lifecycle/index.js';
import { deferred, settledState, tick, ticks } from '../util.js';

// ---- helpers -------------------------------------------------------------------------------


/** Resolves when the service enters `to` (immediately if it is already there). */
function reach(svc: Service, to: State): Promise<void> {
  if (svc.state() === to) return Promise.resolve();
  return new Promise((resolve) => {
    const off = svc.addListener((_f, t) => {
      if (t === to) {
        off();
        resolve();
      }
    });
  });
}

function recordTransitions(svc: Service): string[] {
  const log: string[] = [];
  svc.addListener((from, to) => log.push(`${from}->${to}`));
  return log;
}

/** A service whose every phase is driven by the test. */
function controlled(name = 'svc') {
  const calls = { starting: 0, running: 0, stopping: 0 };
  const stoppingArgs: Array<Error | undefined> = [];
  const start = deferred();
  const stop = deferred();
  let startSignal: AbortSignal | undefined;
  let runSignal: AbortSignal | undefined;
  const svc = new BasicService(name, {
    starting: (signal) => {
      calls.starting++;
      startSignal = signal;
      return start.promise;
    },
    running: (signal) => {
      calls.running++;
      runSignal = signal;
      return waitForAbort(signal);
    },
    stopping: (failure) => {
      calls.stopping++;
      stoppingArgs.push(failure);
      return stop.promise;
    },
  });
  const log = recordTransitions(svc);
  return {
    svc, calls, stoppingArgs, start, stop, log,
    startSignal: () => startSignal, runSignal: () => runSignal,
  };
}

// ---- BasicService ----------------------------------------------------------------------------

describe('BasicService transitions', () => {
  test('New -> Starting -> Running -> Stopping -> Terminated, each phase run once', async () => {
    const c = controlled();
    assert.equal(c.svc.state(), State.New);
    c.svc.startAsync();
    assert.equal(c.svc.state(), State.Starting);
    await tick();
    assert.equal(c.svc.state(), State.Starting, 'stays Starting while starting() is pending');
    assert.equal(c.calls.running, 0);

    c.start.resolve();
    await c.svc.awaitRunning();
    assert.equal(c.svc.state(), State.Running);
    assert.equal(c.calls.running, 1);
    assert.equal(c.runSignal()?.aborted, false);

    c.svc.stopAsync();
    assert.equal(c.runSignal()?.aborted, true, 'stopAsync aborts the running signal');
    await reach(c.svc, State.Stopping);
    await tick();
    assert.equal(c.svc.state(), State.Stopping, 'stays Stopping while stopping() is pending');

    c.stop.resolve();
    await c.svc.awaitTerminated();
    assert.equal(c.svc.state(), State.Terminated);
    assert.equal(c.svc.failureCase(), undefined);
    assert.deepEqual(c.calls, { starting: 1, running: 1, stopping: 1 });
    assert.deepEqual(c.stoppingArgs, [undefined]);
    assert.deepEqual(c.log, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Terminated']);
  });

  test('a service without functions runs until stopped', async () => {
    const svc = new BasicService('empty');
    const log = recordTransitions(svc);
    svc.startAsync();
    await svc.awaitRunning();
    assert.equal(await settledState(svc.awaitTerminated()), 'pending', 'default running() waits for the stop');
    svc.stopAsync();
    await svc.awaitTerminated();
    assert.deepEqual(log, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Terminated']);
  });

  test('a failure in starting goes to Failed without running or stopping', async () => {
    const c = controlled();
    const boom = new Error('start boom');
    c.svc.startAsync();
    c.start.reject(boom);
    await assert.rejects(c.svc.awaitTerminated(), (e) => e === boom);
    assert.equal(c.svc.state(), State.Failed);
    assert.equal(c.svc.failureCase(), boom);
    assert.deepEqual(c.calls, { starting: 1, running: 0, stopping: 0 });
    assert.deepEqual(c.log, ['New->Starting', 'Starting->Failed']);
    assert.equal(c.startSignal()?.aborted, true, 'the starting signal is aborted once Failed');
  });

  test('a synchronous throw or a non-Error rejection in starting is a failure too', async () => {
    const sync = new BasicService('sync', {
      starting: () => {
        throw new Error('sync boom');
      },
    });
    sync.startAsync();
    await assert.rejects(sync.awaitTerminated(), /sync boom/);
    assert.equal(sync.state(), State.Failed);

    const str = new BasicService('str', { starting: () => Promise.reject('just a string') });
    str.startAsync();
    await assert.rejects(str.awaitTerminated(), (e) => e instanceof Error && e.message === 'just a string');
    assert.ok(str.failureCase() instanceof Error);
  });

  test('a failure in running goes Running -> Stopping -> Failed and stopping gets the failure', async () => {
    const boom = new Error('run boom');
    const run = deferred();
    const stoppingArgs: Array<Error | undefined> = [];
    let runSignal: AbortSignal | undefined;
    const svc = new BasicService('r', {
      running: (signal) => {
        runSignal = signal;
        return run.promise;
      },
      stopping: async (failure) => {
        stoppingArgs.push(failure);
      },
    });
    const log = recordTransitions(svc);
    svc.startAsync();
    await svc.awaitRunning();
    run.reject(boom);
    await assert.rejects(svc.awaitTerminated(), (e) => e === boom);
    assert.equal(svc.failureCase(), boom);
    assert.deepEqual(stoppingArgs, [boom]);
    assert.deepEqual(log, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Failed']);
    assert.equal(runSignal?.aborted, true, 'the running signal is aborted once Failed');
  });

  test('a failure in running keeps the first failure even if stopping fails too', async () => {
    const first = new Error('first');
    const svc = new BasicService('r2', {
      running: () => Promise.reject(first),
      stopping: () => Promise.reject(new Error('second')),
    });
    svc.startAsync();
    await assert.rejects(svc.awaitTerminated(), (e) => e === first);
    assert.equal(svc.failureCase(), first);
    assert.equal(svc.state(), State.Failed);
  });

  test('a failure in stopping goes Stopping -> Failed', async () => {
    const c = controlled();
    const boom = new Error('stop boom');
    c.svc.startAsync();
    c.start.resolve();
    await c.svc.awaitRunning();
    c.svc.stopAsync();
    await reach(c.svc, State.Stopping);
    c.stop.reject(boom);
    await assert.rejects(c.svc.awaitTerminated(), (e) => e === boom);
    assert.equal(c.svc.state(), State.Failed);
    assert.equal(c.svc.failureCase(), boom);
    assert.deepEqual(c.stoppingArgs, [undefined]);
    assert.deepEqual(c.log, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Failed']);
  });

  test('running returning on its own stops the service (stopping runs, ends Terminated)', async () => {
    const run = deferred();
    const stoppingArgs: Array<Error | undefined> = [];
    const svc = new BasicService('self-stop', {
      running: () => run.promise,
      stopping: async (f) => {
        stoppingArgs.push(f);
      },
    });
    const log = recordTransitions(svc);
    svc.startAsync();
    await svc.awaitRunning();
    run.resolve();
    await svc.awaitTerminated();
    assert.equal(svc.state(), State.Terminated);
    assert.deepEqual(stoppingArgs, [undefined]);
    assert.deepEqual(log, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Terminated']);
  });
});

describe('BasicService stop semantics', () => {
  test('stopAsync on New goes straight to Terminated without running anything', async () => {
    const c = controlled();
    c.svc.stopAsync();
    assert.equal(c.svc.state(), State.Terminated, 'synchronously');
    assert.deepEqual(c.log, ['New->Terminated']);
    await c.svc.awaitTerminated();
    await assert.rejects(c.svc.awaitRunning(), ServiceStateError);
    assert.throws(() => c.svc.startAsync(), ServiceStateError);
    await tick();
    assert.deepEqual(c.calls, { starting: 0, running: 0, stopping: 0 });
  });

  test('startAsync outside New throws ServiceStateError naming the service and state', async () => {
    const c = controlled('named');
    c.svc.startAsync();
    assert.throws(() => c.svc.startAsync(), (e) => e instanceof ServiceStateError && /"named"/.test(e.message) && /Starting/.test(e.message));
    c.start.resolve();
    await c.svc.awaitRunning();
    assert.throws(() => c.svc.startAsync(), ServiceStateError);
    c.svc.stopAsync();
    c.stop.resolve();
    await c.svc.awaitTerminated();
    assert.throws(() => c.svc.startAsync(), (e) => e instanceof ServiceStateError && /Terminated/.test(e.message));
    assert.equal(c.svc.state(), State.Terminated);
    assert.equal(c.calls.starting, 1);
  });

  test('terminal states are final: Terminated and Failed ignore stopAsync and startAsync', async () => {
    const ok = controlled('ok');
    ok.svc.startAsync();
    ok.start.resolve();
    ok.stop.resolve();
    await ok.svc.awaitRunning();
    ok.svc.stopAsync();
    await ok.svc.awaitTerminated();
    const okLog = [...ok.log];
    ok.svc.stopAsync();
    ok.svc.stopAsync();
    assert.throws(() => ok.svc.startAsync(), ServiceStateError);
    await ticks(2);
    assert.equal(ok.svc.state(), State.Terminated);
    assert.deepEqual(ok.log, okLog, 'no transitions after Terminated');
    assert.equal(ok.calls.stopping, 1);

    const bad = controlled('bad');
    bad.svc.startAsync();
    bad.start.reject(new Error('x'));
    await assert.rejects(bad.svc.awaitTerminated());
    const badLog = [...bad.log];
    bad.svc.stopAsync();
    assert.throws(() => bad.svc.startAsync(), ServiceStateError);
    await ticks(2);
    assert.equal(bad.svc.state(), State.Failed);
    assert.deepEqual(bad.log, badLog, 'no transitions after Failed');
    assert.equal(bad.calls.stopping, 0);
  });

  test('stopAsync is non-blocking and idempotent while stopping hangs', async () => {
    const c = controlled();
    c.svc.startAsync();
    c.start.resolve();
    await c.svc.awaitRunning();
    c.svc.stopAsync(); // returns although stopping() never resolves
    c.svc.stopAsync();
    await reach(c.svc, State.Stopping);
    c.svc.stopAsync();
    await ticks(3);
    assert.equal(c.svc.state(), State.Stopping);
    assert.equal(c.calls.stopping, 1, 'stopping runs once however often stopAsync is called');
    assert.deepEqual(c.log, ['New->Starting', 'Starting->Running', 'Running->Stopping']);
    c.stop.resolve();
    await c.svc.awaitTerminated();
    assert.deepEqual(c.log, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Terminated']);
  });

  test('stopAsync during Starting aborts the starting signal and never enters Running', async () => {
    const c = controlled();
    c.svc.startAsync();
    await tick();
    assert.equal(c.startSignal()?.aborted, false);
    c.svc.stopAsync();
    assert.equal(c.startSignal()?.aborted, true, 'aborted synchronously');
    const running = c.svc.awaitRunning();
    c.start.resolve(); // starting completes normally after the abort
    c.stop.resolve();
    await c.svc.awaitTerminated();
    await assert.rejects(running, ServiceStateError);
    assert.equal(c.calls.running, 0);
    assert.deepEqual(c.stoppingArgs, [undefined], 'stopping still runs to clean up the start');
    assert.deepEqual(c.log, ['New->Starting', 'Starting->Stopping', 'Stopping->Terminated']);
    assert.ok(!c.log.some((t) => t.includes('Running')));
  });

  test('a starting function that rejects on abort makes the stopped service Failed, not Running', async () => {
    let seen: AbortSignal | undefined;
    const svc = new BasicService('abortable', {
      starting: (signal) => {
        seen = signal;
        return new Promise((_res, rej) => signal.addEventListener('abort', () => rej(signal.reason)));
      },
    });
    const log = recordTransitions(svc);
    svc.startAsync();
    svc.stopAsync();
    await assert.rejects(svc.awaitTerminated());
    assert.equal(seen?.aborted, true);
    assert.deepEqual(log, ['New->Starting', 'Starting->Failed']);
  });

  test('stopAsync from a listener of the Starting transition still never runs', async () => {
    let ran = false;
    const svc = new BasicService('reentrant', {
      running: async () => {
        ran = true;
      },
    });
    svc.addListener((_f, to) => {
      if (to === State.Starting) svc.stopAsync();
    });
    svc.startAsync();
    await svc.awaitTerminated();
    assert.equal(ran, false);
    assert.equal(svc.state(), State.Terminated);
  });
});

describe('BasicService awaits', () => {
  test('awaitRunning rejects when the service fails while starting', async () => {
    const c = controlled('f');
    c.svc.startAsync();
    const p = c.svc.awaitRunning();
    assert.equal(await settledState(p), 'pending');
    c.start.reject(new Error('nope'));
    await assert.rejects(p, (e) => e instanceof ServiceStateError && /"f"/.test(e.message) && /Failed/.test(e.message));
  });

  test('awaitRunning rejects when the service terminates without running', async () => {
    const c = controlled('t');
    const p1 = c.svc.awaitRunning(); // while New
    c.svc.startAsync();
    const p2 = c.svc.awaitRunning(); // while Starting
    c.svc.stopAsync();
    c.start.resolve();
    c.stop.resolve();
    await assert.rejects(p1, ServiceStateError);
    await assert.rejects(p2, ServiceStateError);
    assert.equal(c.svc.state(), State.Terminated);
  });

  test('awaitRunning resolves once Running, and a late awaitRunning rejects after stop', async () => {
    const c = controlled();
    const early = c.svc.awaitRunning();
    c.svc.startAsync();
    c.start.resolve();
    await early;
    await c.svc.awaitRunning(); // already Running: immediately
    c.svc.stopAsync();
    await reach(c.svc, State.Stopping);
    await assert.rejects(c.svc.awaitRunning(), ServiceStateError, 'Stopping can no longer get to Running');
    c.stop.resolve();
    await c.svc.awaitTerminated();
    await assert.rejects(c.svc.awaitRunning(), ServiceStateError);
  });

  test('awaitTerminated rejects with the failure on Failed (pending and late awaits alike)', async () => {
    const boom = new Error('boom');
    const run = deferred();
    const svc = new BasicService('x', { running: () => run.promise });
    const pendingBefore = svc.awaitTerminated();
    svc.startAsync();
    await svc.awaitRunning();
    const pendingRunning = svc.awaitTerminated();
    assert.equal(await settledState(pendingRunning), 'pending');
    run.reject(boom);
    await assert.rejects(pendingBefore, (e) => e === boom);
    await assert.rejects(pendingRunning, (e) => e === boom);
    await assert.rejects(svc.awaitTerminated(), (e) => e === boom);
  });

  test('awaits settle immediately in a final state, even with an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('aborted before'));

    const done = new BasicService('done');
    done.stopAsync();
    assert.equal(await settledState(done.awaitTerminated(ac.signal), 0), 'resolved');
    const r1 = await settledState(done.awaitRunning(ac.signal), 0);
    assert.ok(typeof r1 === 'object' && r1.rejected instanceof ServiceStateError, 'final state wins over the aborted signal');

    const boom = new Error('failed');
    const failed = new BasicService('failed', { starting: () => Promise.reject(boom) });
    failed.startAsync();
    await assert.rejects(failed.awaitTerminated());
    const r2 = await settledState(failed.awaitTerminated(ac.signal), 0);
    assert.ok(typeof r2 === 'object' && r2.rejected === boom);
    const r3 = await settledState(failed.awaitRunning(), 0);
    assert.ok(typeof r3 === 'object' && r3.rejected instanceof ServiceStateError);

    const running = new BasicService('running');
    running.startAsync();
    await running.awaitRunning();
    assert.equal(await settledState(running.awaitRunning(ac.signal), 0), 'resolved');
    running.stopAsync();
    await running.awaitTerminated();
  });

  test('awaitRunning rejects promptly with the abort reason when its signal aborts', async () => {
    const c = controlled();
    c.svc.startAsync();
    const ac = new AbortController();
    const p = c.svc.awaitRunning(ac.signal);
    assert.equal(await settledState(p), 'pending');
    const reason = new Error('gave up');
    ac.abort(reason);
    const r = await settledState(p, 1);
    assert.ok(typeof r === 'object' && r.rejected === reason, `expected rejection with the reason, got ${String(r)}`);
    assert.equal(c.svc.state(), State.Starting, 'aborting an await does not touch the service');
    // the service goes on normally, and another await still works
    c.start.resolve();
    await c.svc.awaitRunning();
    c.svc.stopAsync();
    c.stop.resolve();
    await c.svc.awaitTerminated();
  });

  test('awaitTerminated rejects promptly when its signal aborts; an already-aborted signal rejects at once', async () => {
    const c = controlled();
    c.svc.startAsync();
    c.start.resolve();
    await c.svc.awaitRunning();
    const ac = new AbortController();
    const p = c.svc.awaitTerminated(ac.signal);
    assert.equal(await settledState(p), 'pending');
    ac.abort(); // default reason (a DOMException, not an Error)
    const r = await settledState(p, 1);
    assert.ok(typeof r === 'object' && r.rejected instanceof Error, 'rejects with an Error');

    const pre = AbortSignal.abort(new Error('pre'));
    const r2 = await settledState(c.svc.awaitTerminated(pre), 0);
    assert.ok(typeof r2 === 'object' && (r2.rejected as Error).message === 'pre');
    const r3 = await settledState(c.svc.awaitRunning(AbortSignal.abort()), 0);
    assert.equal(r3, 'resolved', 'Running: awaitRunning resolves regardless of the signal');

    assert.equal(c.svc.state(), State.Running);
    c.svc.stopAsync();
    c.stop.resolve();
    await c.svc.awaitTerminated();
  });

  test('an await that settled by state is not disturbed by a later abort', async () => {
    const svc = new BasicService('s');
    const ac = new AbortController();
    const p = svc.awaitTerminated(ac.signal);
    svc.startAsync();
    await svc.awaitRunning();
    svc.stopAsync();
    await p;
    ac.abort(new Error('late')); // must not throw or cause an unhandled rejection
    await tick();
  });

  test('many concurrent awaits all settle', async () => {
    const c = controlled();
    const runs = Array.from({ length: 50 }, () => c.svc.awaitRunning());
    const terms = Array.from({ length: 50 }, () => c.svc.awaitTerminated());
    c.svc.startAsync();
    c.start.resolve();
    await Promise.all(runs);
    c.svc.stopAsync();
    c.stop.resolve();
    await Promise.all(terms);
  });
});

describe('BasicService listeners', () => {
  test('listeners see every transition in order, with the failure', async () => {
    const boom = new Error('boom');
    const svc = new BasicService('l', { running: () => Promise.reject(boom) });
    const seen: Array<[State, State, Error | undefined]> = [];
    svc.addListener((from, to, failure) => {
      seen.push([from, to, failure]);
      assert.equal(svc.state(), to, 'state() already reports the new state inside the listener');
    });
    svc.startAsync();
    await assert.rejects(svc.awaitTerminated());
    assert.deepEqual(seen, [
      [State.New, State.Starting, undefined],
      [State.Starting, State.Running, undefined],
      [State.Running, State.Stopping, boom],
      [State.Stopping, State.Failed, boom],
    ]);
  });

  test('a throwing listener does not break the state machine or other listeners', async () => {
    const svc = new BasicService('t');
    svc.addListener(() => {
      throw new Error('listener boom');
    });
    const after: string[] = [];
    svc.addListener((f, t) => after.push(`${f}->${t}`));
    svc.addListener(() => {
      throw 'not even an Error';
    });
    svc.startAsync();
    await svc.awaitRunning();
    svc.stopAsync();
    await svc.awaitTerminated();
    assert.equal(svc.state(), State.Terminated);
    assert.deepEqual(after, ['New->Starting', 'Starting->Running', 'Running->Stopping', 'Stopping->Terminated']);
  });

  test('removed listeners are not called; a listener may remove itself during a transition', async () => {
    const svc = new BasicService('rm');
    const a: State[] = [];
    const b: State[] = [];
    const offA = svc.addListener((_f, to) => a.push(to));
    const offB = svc.addListener((_f, to) => {
      b.push(to);
      offB();
    });
    svc.startAsync();
    await svc.awaitRunning();
    offA();
    svc.stopAsync();
    await svc.awaitTerminated();
    assert.deepEqual(a, [State.Starting, State.Running]);
    assert.deepEqual(b, [State.Starting]);
  });
});

describe('helpers', () => {
  test('isTerminal', () => {
    const terminal = Object.values(State).filter((s) => isTerminal(s));
    assert.deepEqual(terminal.sort(), [State.Failed, State.Terminated].sort());
  });

  test('waitForAbort resolves on abort and at once when already aborted', async () => {
    const ac = new AbortController();
    const p = waitForAbort(ac.signal);
    assert.equal(await settledState(p), 'pending');
    ac.abort();
    assert.equal(await settledState(p, 1), 'resolved');
    assert.equal(await settledState(waitForAbort(ac.signal), 0), 'resolved');
  });

  test('sleep resolves early on abort, without rejecting', async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    assert.equal(await settledState(p), 'pending');
    ac.abort(new Error('x'));
    assert.equal(await settledState(p, 1), 'resolved');
    assert.equal(await settledState(sleep(60_000, ac.signal), 0), 'resolved');
    // sleep's timer is unref'd: keep the loop alive with a timer of our own while it runs
    const keepAlive = setTimeout(() => undefined, 10_000);
    try {
      await sleep(1);
    } finally {
      clearTimeout(keepAlive);
    }
  });
});

// ---- Manager ---------------------------------------------------------------------------------

describe('Manager', () => {
  test('awaitHealthy resolves once every service is Running', async () => {
    const a = controlled('a');
    const b = controlled('b');
    const m = new Manager([a.svc, b.svc]);
    assert.deepEqual(m.list().map((s) => s.name), ['a', 'b']);
    m.startAsync();
    const healthy = m.awaitHealthy();
    a.start.resolve();
    assert.equal(await settledState(healthy), 'pending', 'b is still Starting');
    assert.equal(m.isHealthy(), false);
    b.start.resolve();
    await healthy;
    assert.equal(m.isHealthy(), true);
    assert.deepEqual(m.states(), { a: State.Running, b: State.Running });
    a.stop.resolve();
    b.stop.resolve();
    m.stopAsync();
    await m.awaitStopped();
    assert.equal(m.isStopped(), true);
    assert.deepEqual(m.states(), { a: State.Terminated, b: State.Terminated });
  });

  test('awaitHealthy rejects as soon as one service cannot get to Running', async () => {
    const a = controlled('a'); // never finishes starting
    const b = controlled('b');
    const m = new Manager([a.svc, b.svc]);
    m.startAsync();
    const healthy = m.awaitHealthy();
    b.start.reject(new Error('b broke'));
    const r = await settledState(healthy);
    assert.ok(typeof r === 'object' && r.rejected instanceof ServiceStateError && /"b"/.test((r.rejected as Error).message));
    a.start.resolve();
    m.stopAsync();
    a.stop.resolve();
    await m.awaitStopped();
  });

  test('awaitHealthy rejects when its signal aborts', async () => {
    const a = controlled('a');
    const m = new Manager([a.svc]);
    m.startAsync();
    const ac = new AbortController();
    const healthy = m.awaitHealthy(ac.signal);
    assert.equal(await settledState(healthy), 'pending');
    ac.abort(new Error('deadline'));
    const r = await settledState(healthy, 1);
    assert.ok(typeof r === 'object' && (r.rejected as Error).message === 'deadline');
    m.stopAsync();
    a.start.resolve();
    a.stop.resolve();
    await m.awaitStopped();
  });

  test('onFailure is called once per failed service with its failure; unsubscribing works', async () => {
    const boom1 = new Error('boom1');
    const boom2 = new Error('boom2');
    const run1 = deferred();
    const s1 = new BasicService('s1', { running: () => run1.promise });
    const s2 = new BasicService('s2', { starting: () => Promise.reject(boom2) });
    const s3 = new BasicService('s3');
    const m = new Manager([s1, s2, s3]);
    const seen: Array<[string, Error]> = [];
    const seenLate: string[] = [];
    const off = m.onFailure((svc, err) => seen.push([svc.name, err]));
    const offLate = m.onFailure((svc) => seenLate.push(svc.name));
    m.startAsync();
    await assert.rejects(s2.awaitTerminated());
    assert.deepEqual(seen, [['s2', boom2]]);
    offLate();
    await s1.awaitRunning();
    run1.reject(boom1);
    await assert.rejects(s1.awaitTerminated());
    assert.deepEqual(seen, [['s2', boom2], ['s1', boom1]]);
    assert.deepEqual(seenLate, ['s2']);
    off();
    m.stopAsync();
    await m.awaitStopped();
    assert.equal(seen.length, 2, 'a clean stop is no failure');
  });

  test('a throwing onFailure listener does not keep the others from being told', async () => {
    const s = new BasicService('s', { starting: () => Promise.reject(new Error('x')) });
    const m = new Manager([s]);
    const seen: string[] = [];
    m.onFailure(() => {
      throw new Error('listener boom');
    });
    m.onFailure((svc) => seen.push(svc.name));
    m.startAsync();
    await assert.rejects(s.awaitTerminated());
    assert.equal(s.state(), State.Failed);
    assert.deepEqual(seen, ['s']);
  });

  test('stopAsync/awaitStopped resolve even if services failed, in any phase', async () => {
    const failStart = new BasicService('failStart', { starting: () => Promise.reject(new Error('a')) });
    const failRun = new BasicService('failRun', { running: () => Promise.reject(new Error('b')) });
    const failStop = new BasicService('failStop', { stopping: () => Promise.reject(new Error('c')) });
    const fine = new BasicService('fine');
    const neverStarted = new BasicService('neverStarted');
    const m = new Manager([failStart, failRun, failStop, fine]);
    const m2 = new Manager([neverStarted]);
    m.startAsync();
    await assert.rejects(m.awaitHealthy());
    await Promise.all([failStop.awaitRunning(), fine.awaitRunning()]);
    m.stopAsync();
    m2.stopAsync();
    await m.awaitStopped();
    await m2.awaitStopped();
    assert.deepEqual(m.states(), {
      failStart: State.Failed, failRun: State.Failed, failStop: State.Failed, fine: State.Terminated,
    });
    assert.equal(m.isStopped(), true);
    assert.deepEqual(m2.states(), { neverStarted: State.Terminated });
  });

  test('awaitStopped waits for slow stops and rejects only when its own signal aborts', async () => {
    const a = controlled('a');
    const m = new Manager([a.svc]);
    m.startAsync();
    a.start.resolve();
    await m.awaitHealthy();
    m.stopAsync();
    const stopped = m.awaitStopped();
    const ac = new AbortController();
    const bounded = m.awaitStopped(ac.signal);
    assert.equal(await settledState(stopped), 'pending');
    assert.equal(m.isStopped(), false);
    ac.abort(new Error('grace period over'));
    const r = await settledState(bounded, 1);
    assert.ok(typeof r === 'object' && (r.rejected as Error).message === 'grace period over');
    assert.equal(await settledState(stopped, 1), 'pending');
    a.stop.reject(new Error('stop failed'));
    await stopped; // resolves although the service failed
    assert.equal(a.svc.state(), State.Failed);
  });

  test('startAsync leaves services that are not New alone', async () => {
    const started = new BasicService('started');
    const stopped = new BasicService('stopped');
    started.startAsync();
    stopped.stopAsync();
    const m = new Manager([started, stopped]);
    m.startAsync(); // would throw ServiceStateError if it started them again
    await started.awaitRunning();
    assert.equal(stopped.state(), State.Terminated);
    m.stopAsync();
    await m.awaitStopped();
  });
});
