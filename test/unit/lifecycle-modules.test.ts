import '../harness.js';
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { describe, test } from 'node:test';
import {
  BasicService, Manager, ModuleError, ModuleRegistry, type ModuleService, ServiceStateError, State,
  isTerminal, waitForAbort,
} from '../../src/lifecycle/index.js';
import { deferred, mulberry32, settledState, tick, ticks } from '../util.js';

// ---- helpers -------------------------------------------------------------------------------


function byName(services: ModuleService[]): Record<string, ModuleService> {
  return Object.fromEntries(services.map((s) => [s.name, s]));
}

interface RecOpts {
  startTicks?: number;
  stopTicks?: number;
  failStart?: Error;
  /** when given, running ends with this promise instead of waiting for the stop */
  run?: Promise<void>;
}

/**
 * A service that appends `start:x` when starting begins, `up:x` when it is Running, `stop:x` when
 * stopping begins (`stop!:x` if stopping got a failure) and `down:x` when stopping ends.
 */
function recorded(name: string, log: string[], opts: RecOpts = {}): BasicService {
  return new BasicService(name, {
    starting: async () => {
      log.push(`start:${name}`);
      await ticks(opts.startTicks ?? 0);
      if (opts.failStart !== undefined) throw opts.failStart;
      log.push(`up:${name}`);
    },
    running: (signal) => opts.run ?? waitForAbort(signal),
    stopping: async (failure) => {
      log.push(`${failure === undefined ? 'stop' : 'stop!'}:${name}`);
      await ticks(opts.stopTicks ?? 0);
      log.push(`down:${name}`);
    },
  });
}

function before(log: string[], first: string, second: string): void {
  const i = log.indexOf(first);
  const j = log.indexOf(second);
  assert.ok(i >= 0, `${first} missing from ${log.join(' ')}`);
  assert.ok(j >= 0, `${second} missing from ${log.join(' ')}`);
  assert.ok(i < j, `expected ${first} before ${second} in: ${log.join(' ')}`);
}

// ---- ModuleRegistry.orderFor ---------------------------------------------------------------

describe('ModuleRegistry.orderFor', () => {
  const noop = (): undefined => undefined;

  test('lists every needed module once, each after its dependencies', () => {
    const r = new ModuleRegistry();
    r.register('server', noop);
    r.register('ring', noop, ['server']);
    r.register('store', noop, ['server']);
    r.register('distributor', noop, ['ring', 'server']);
    r.register('querier', noop, ['store', 'ring']);
    r.register('unused', noop, ['server']);
    const order = r.orderFor(['distributor', 'querier']);
    assert.deepEqual(order, ['server', 'ring', 'distributor', 'store', 'querier']);
    assert.deepEqual(r.orderFor(['server']), ['server']);
    assert.deepEqual(r.orderFor([]), []);
    assert.deepEqual(r.orderFor(['ring', 'ring', 'server']), ['server', 'ring']);
  });

  test('addDependencies adds edges after registration', () => {
    const r = new ModuleRegistry();
    r.register('a', noop);
    r.register('b', noop);
    assert.deepEqual(r.orderFor(['a']), ['a']);
    r.addDependencies('a', 'b');
    assert.deepEqual(r.orderFor(['a']), ['b', 'a']);
    assert.throws(() => r.addDependencies('nope', 'a'), (e) => e instanceof ModuleError && /"nope"/.test(e.message));
  });

  test('registering a name twice is an error', () => {
    const r = new ModuleRegistry();
    r.register('a', noop);
    assert.throws(() => r.register('a', noop), (e) => e instanceof ModuleError && /"a"/.test(e.message));
  });

  test('userVisibleNames lists the visible modules, sorted; has() knows all', () => {
    const r = new ModuleRegistry();
    r.register('zeta', noop);
    r.register('internal', noop, [], { userVisible: false });
    r.register('alpha', noop, [], { userVisible: true });
    assert.deepEqual(r.userVisibleNames(), ['alpha', 'zeta']);
    assert.equal(r.has('internal'), true);
    assert.equal(r.has('other'), false);
  });

  test('an unknown target is an error naming it', () => {
    const r = new ModuleRegistry();
    r.register('a', noop);
    assert.throws(() => r.orderFor(['a', 'bogus']), (e) => {
      assert.ok(e instanceof ModuleError);
      assert.match(e.message, /unknown module "bogus"/);
      assert.match(e.message, /known: a/);
      assert.doesNotMatch(e.message, /dependency of/);
      return true;
    });
  });

  test('an unknown dependency is an error naming it and the module needing it', () => {
    const r = new ModuleRegistry();
    r.register('a', noop);
    r.register('b', noop, ['a', 'missing']);
    r.register('c', noop, ['b']);
    assert.throws(() => r.orderFor(['c']), (e) => {
      assert.ok(e instanceof ModuleError);
      assert.match(e.message, /unknown module "missing" \(a dependency of "b"\)/);
      return true;
    });
  });

  test('a cycle is an error naming the modules on it, in order', () => {
    const r = new ModuleRegistry();
    r.register('top', noop, ['a']);
    r.register('a', noop, ['b']);
    r.register('b', noop, ['c']);
    r.register('c', noop, ['a']);
    assert.throws(() => r.orderFor(['top']), (e) => {
      assert.ok(e instanceof ModuleError);
      assert.match(e.message, /cycle/);
      assert.match(e.message, /a -> b -> c -> a/);
      assert.doesNotMatch(e.message, /top/, 'the module leading into the cycle is not part of it');
      return true;
    });
    const self = new ModuleRegistry();
    self.register('s', noop, ['s']);
    assert.throws(() => self.orderFor(['s']), /s -> s/);
  });
});

// ---- ModuleRegistry.initServices -----------------------------------------------------------

describe('ModuleRegistry.initServices', () => {
  test('inits each needed module once, dependencies first, and returns wrapped services in order', async () => {
    const inits: string[] = [];
    const r = new ModuleRegistry();
    for (const [name, deps] of [['a', []], ['b', ['a']], ['c', ['a']], ['d', ['b', 'c']], ['e', []]] as const) {
      r.register(name, () => {
        inits.push(name);
        return new BasicService(name);
      }, [...deps]);
    }
    const services = await r.initServices(['d']);
    assert.deepEqual(inits, ['a', 'b', 'c', 'd']);
    assert.deepEqual(services.map((s) => s.name), ['a', 'b', 'c', 'd']);
    const s = byName(services);
    assert.deepEqual(s.a?.dependencyNames(), []);
    assert.deepEqual(s.b?.dependencyNames(), ['a']);
    assert.deepEqual(s.d?.dependencyNames(), ['b', 'c']);
    assert.equal(s.a?.inner.name, 'a');
  });

  test('async inits are awaited one after the other', async () => {
    const events: string[] = [];
    const r = new ModuleRegistry();
    r.register('a', async () => {
      events.push('a begin');
      await ticks(2);
      events.push('a end');
      return new BasicService('a');
    });
    r.register('b', async () => {
      events.push('b begin');
      return new BasicService('b');
    }, ['a']);
    await r.initServices(['b']);
    assert.deepEqual(events, ['a begin', 'a end', 'b begin']);
  });

  test('modules without a service are left out and their dependants wait on the services below them', async () => {
    const log: string[] = [];
    const r = new ModuleRegistry();
    r.register('base', () => recorded('base', log, { startTicks: 4, stopTicks: 4 }));
    r.register('other', () => recorded('other', log, { startTicks: 2, stopTicks: 2 }));
    r.register('config', () => undefined, ['base']);
    r.register('glue', async () => undefined, ['config', 'other']);
    r.register('top', () => recorded('top', log), ['glue', 'base']);
    const services = await r.initServices(['top']);
    assert.deepEqual(services.map((s) => s.name), ['base', 'other', 'top']);
    const s = byName(services);
    assert.deepEqual(s.top?.dependencyNames().sort(), ['base', 'other']);

    const m = new Manager([...services].reverse());
    m.startAsync();
    await m.awaitHealthy();
    before(log, 'up:base', 'start:top');
    before(log, 'up:other', 'start:top');
    m.stopAsync();
    await m.awaitStopped();
    before(log, 'down:top', 'stop:base');
    before(log, 'down:top', 'stop:other');
    assert.deepEqual(m.states(), { top: State.Terminated, other: State.Terminated, base: State.Terminated });
  });

  test('an init that throws or rejects is a ModuleError naming the module; later modules are not inited', async () => {
    let laterInited = false;
    const r = new ModuleRegistry();
    r.register('ok', () => new BasicService('ok'));
    r.register('broken', () => {
      throw new Error('bad config');
    }, ['ok']);
    r.register('later', () => {
      laterInited = true;
      return new BasicService('later');
    }, ['broken']);
    await assert.rejects(r.initServices(['later']), (e) => {
      assert.ok(e instanceof ModuleError);
      assert.match(e.message, /module "broken"/);
      assert.match(e.message, /bad config/);
      return true;
    });
    assert.equal(laterInited, false);

    const r2 = new ModuleRegistry();
    r2.register('async-broken', () => Promise.reject('not an Error'));
    await assert.rejects(r2.initServices(['async-broken']), (e) => e instanceof ModuleError && /"async-broken"/.test(e.message) && /not an Error/.test(e.message));
  });

  test('initServices reports unknown modules and cycles before initing anything', async () => {
    let inited = false;
    const r = new ModuleRegistry();
    r.register('a', () => {
      inited = true;
      return new BasicService('a');
    }, ['b']);
    r.register('b', () => new BasicService('b'), ['a']);
    await assert.rejects(r.initServices(['a']), /cycle/);
    await assert.rejects(r.initServices(['zzz']), /unknown module "zzz"/);
    assert.equal(inited, false);
  });
});

// ---- ModuleService ordering ------------------------------------------------------------------

async function diamond(log: string[], opts: Partial<Record<'a' | 'b' | 'c' | 'd', RecOpts>> = {}) {
  const r = new ModuleRegistry();
  // slow bottom, fast top: without ordering, d would start and stop first
  r.register('a', () => recorded('a', log, { startTicks: 6, stopTicks: 1, ...opts.a }));
  r.register('b', () => recorded('b', log, { startTicks: 3, stopTicks: 1, ...opts.b }), ['a']);
  r.register('c', () => recorded('c', log, { startTicks: 0, stopTicks: 5, ...opts.c }), ['a']);
  r.register('d', () => recorded('d', log, { startTicks: 0, stopTicks: 3, ...opts.d }), ['b', 'c']);
  const services = await r.initServices(['d']);
  return { services, s: byName(services) };
}

describe('ModuleService ordering', () => {
  test('diamond: starts in dependency order and stops in reverse, when all are started and stopped at once', async () => {
    const log: string[] = [];
    const { services, s } = await diamond(log);
    const m = new Manager([...services].reverse());
    m.startAsync();
    await m.awaitHealthy();
    before(log, 'up:a', 'start:b');
    before(log, 'up:a', 'start:c');
    before(log, 'up:b', 'start:d');
    before(log, 'up:c', 'start:d');
    for (const x of ['a', 'b', 'c', 'd']) assert.equal(s[x]?.inner.state(), State.Running, x);

    const stopStates: Record<string, string> = {};
    for (const svc of services) {
      // when a module's inner service begins stopping, every module above it must be Terminated
      svc.inner.addListener((_f, to) => {
        if (to === State.Stopping) stopStates[svc.name] = JSON.stringify(m.states());
      });
    }
    m.stopAsync();
    await m.awaitStopped();
    before(log, 'down:d', 'stop:b');
    before(log, 'down:d', 'stop:c');
    before(log, 'down:b', 'stop:a');
    before(log, 'down:c', 'stop:a');
    assert.deepEqual(JSON.parse(stopStates.a ?? '{}'), { d: 'Terminated', c: 'Terminated', b: 'Terminated', a: 'Stopping' });
    assert.equal(JSON.parse(stopStates.b ?? '{}').d, 'Terminated');
    assert.equal(JSON.parse(stopStates.c ?? '{}').d, 'Terminated');
    for (const svc of services) {
      assert.equal(svc.state(), State.Terminated, svc.name);
      assert.equal(svc.inner.state(), State.Terminated, svc.name);
    }
  });

  test('a module is stopped only after its dependants are Terminated, even if stopped individually first', async () => {
    const log: string[] = [];
    const { services, s } = await diamond(log);
    const m = new Manager(services);
    m.startAsync();
    await m.awaitHealthy();
    s.a?.stopAsync(); // the bottom module first, alone
    await ticks(5);
    assert.equal(s.a?.inner.state(), State.Running, 'a keeps running while b, c and d run');
    assert.ok(!log.includes('stop:a'));
    m.stopAsync();
    await m.awaitStopped();
    before(log, 'down:b', 'stop:a');
    before(log, 'down:c', 'stop:a');
  });

  test('a dependency failing to start makes its dependants fail, naming it, without a stop request', async () => {
    const log: string[] = [];
    const boom = new Error('a cannot bind');
    const { services, s } = await diamond(log, { a: { failStart: boom } });
    const m = new Manager(services);
    const failed: string[] = [];
    m.onFailure((svc) => failed.push(svc.name));
    m.startAsync();
    await assert.rejects(m.awaitHealthy());
    // every module ends Failed by itself: nobody called stopAsync
    for (const x of ['a', 'b', 'c', 'd']) await assert.rejects(s[x]!.awaitTerminated(), x);
    assert.deepEqual(failed.sort(), ['a', 'b', 'c', 'd']);
    assert.equal(s.a?.failureCase(), boom);
    assert.match(s.b?.failureCase()?.message ?? '', /module "b": dependency "a" did not start: a cannot bind/);
    assert.ok(s.b?.failureCase() instanceof ModuleError);
    assert.match(s.c?.failureCase()?.message ?? '', /dependency "a"/);
    assert.match(s.d?.failureCase()?.message ?? '', /module "d": dependency "(b|c)" did not start/);
    assert.deepEqual(log, ['start:a'], 'no dependant inner service was started');
    m.stopAsync();
    await m.awaitStopped();
    for (const x of ['b', 'c', 'd']) {
      assert.ok(isTerminal(s[x]!.inner.state()), `inner ${x} is left ${s[x]!.inner.state()}, not in a final state`);
    }
  });

  test('an inner service failing while Running makes its ModuleService fail', async () => {
    const run = deferred();
    const boom = new Error('disk gone');
    const r = new ModuleRegistry();
    const log: string[] = [];
    r.register('store', () => recorded('store', log, { run: run.promise }));
    const services = await r.initServices(['store']);
    const m = new Manager(services);
    const failures: Array<[string, Error]> = [];
    m.onFailure((svc, err) => failures.push([svc.name, err]));
    m.startAsync();
    await m.awaitHealthy();
    run.reject(boom);
    await assert.rejects(services[0]!.awaitTerminated(), (e) => e === boom);
    assert.deepEqual(failures, [['store', boom]]);
    assert.deepEqual(log, ['start:store', 'up:store', 'stop!:store', 'down:store']);
    m.stopAsync();
    await m.awaitStopped();
  });

  test('an inner service failing while its dependants run is reported without waiting for them (regression)', async () => {
    // The app stops everything when the manager reports a failure; if the failed module waited
    // for its (still running) dependants before reaching Failed, nobody would ever stop them.
    const run = deferred();
    const boom = new Error('pool closed');
    const log: string[] = [];
    const r = new ModuleRegistry();
    r.register('pool', () => recorded('pool', log, { run: run.promise }));
    r.register('api', () => recorded('api', log), ['pool']);
    const services = await r.initServices(['api']);
    const s = byName(services);
    const m = new Manager(services);
    const reported = deferred<string>();
    m.onFailure((svc) => reported.resolve(svc.name));
    m.startAsync();
    await m.awaitHealthy();
    run.reject(boom);
    const r1 = await settledState(reported.promise, 5);
    assert.equal(r1, 'resolved', `failure not reported; states ${JSON.stringify(m.states())}`);
    assert.equal(s.pool?.state(), State.Failed);
    assert.equal(s.pool?.failureCase(), boom);
    assert.equal(s.api?.state(), State.Running, 'a failure elsewhere does not stop the dependant by itself');
    m.stopAsync();
    await m.awaitStopped();
    assert.equal(s.api?.inner.state(), State.Terminated);
    assert.ok(log.includes('stop:api'));
  });

  test('an inner service whose running returns on its own makes its ModuleService fail', async () => {
    const run = deferred();
    const r = new ModuleRegistry();
    r.register('loop', () => new BasicService('loop', { running: () => run.promise }));
    r.register('user', () => new BasicService('user'), ['loop']);
    const services = await r.initServices(['user']);
    const s = byName(services);
    const m = new Manager(services);
    m.startAsync();
    await m.awaitHealthy();
    run.resolve();
    const st = await settledState(s.loop!.awaitTerminated(), 5);
    assert.ok(typeof st === 'object' && st.rejected instanceof ModuleError && /"loop" stopped unexpectedly/.test((st.rejected as Error).message),
      `got ${JSON.stringify(st)} in state ${s.loop?.state()}`);
    m.stopAsync();
    await m.awaitStopped();
  });

  test('a dependency leaving Running while a dependant waits for another one keeps the dependant from starting (regression)', async () => {
    const log: string[] = [];
    const bRun = deferred();
    const cStart = deferred();
    const r = new ModuleRegistry();
    r.register('b', () => recorded('b', log, { run: bRun.promise }));
    r.register('c', () => new BasicService('c', { starting: () => cStart.promise }));
    r.register('d', () => recorded('d', log), ['b', 'c']);
    const services = await r.initServices(['d']);
    const s = byName(services);
    const m = new Manager(services);
    m.startAsync();
    await s.b!.awaitRunning();
    await ticks(2); // d now waits for c
    bRun.reject(new Error('b died'));
    await assert.rejects(s.b!.awaitTerminated());
    cStart.resolve();
    await assert.rejects(s.d!.awaitTerminated(), /dependency "b"/);
    assert.ok(!log.includes('start:d'), `d started while b was ${s.b?.state()}: ${log.join(' ')}`);
    m.stopAsync();
    await m.awaitStopped();
  });

  test('a stop requested just as the last dependency comes up does not start the module\'s service', async () => {
    const log: string[] = [];
    const aStart = deferred();
    const r = new ModuleRegistry();
    r.register('a', () => new BasicService('a', { starting: () => aStart.promise }));
    r.register('b', () => recorded('b', log), ['a']);
    const s = byName(await r.initServices(['b']));
    const m = new Manager([s.b!, s.a!]);
    m.startAsync();
    // b already waits for a; the stop comes in the very transition that lets b go on
    s.a!.addListener((_f, to) => {
      if (to === State.Running) m.stopAsync();
    });
    aStart.resolve();
    await m.awaitStopped();
    assert.deepEqual(log, [], 'b\'s service must not start after the stop request');
    assert.equal(s.b!.inner.state(), State.Terminated);
    assert.equal(s.b!.state(), State.Terminated);
  });

  test('an inner service failing to start fails its ModuleService with that failure', async () => {
    const boom = new Error('no port');
    const r = new ModuleRegistry();
    r.register('srv', () => new BasicService('srv', { starting: () => Promise.reject(boom) }));
    const [svc] = await r.initServices(['srv']);
    const m = new Manager([svc!]);
    m.startAsync();
    await assert.rejects(svc!.awaitTerminated(), (e) => e === boom);
    await m.awaitStopped();
  });

  test('stopping before starting leaves no inner service behind in New (regression)', async () => {
    const log: string[] = [];
    const { services } = await diamond(log);
    const m = new Manager(services);
    m.stopAsync();
    m.startAsync(); // nothing New left: a no-op
    await m.awaitStopped();
    await ticks(2);
    assert.deepEqual(log, []);
    for (const svc of services) {
      assert.equal(svc.state(), State.Terminated);
      assert.ok(isTerminal(svc.inner.state()), `inner ${svc.name} is ${svc.inner.state()}`);
      await svc.inner.awaitTerminated(); // must not hang
    }
  });

  test('stopping during start: nothing starts after the stop, everything ends final', async () => {
    for (let wait = 0; wait < 12; wait++) {
      const log: string[] = [];
      const { services } = await diamond(log);
      const m = new Manager([...services].reverse());
      m.startAsync();
      await ticks(wait);
      m.stopAsync();
      const startsAtStop = log.filter((e) => e.startsWith('start:')).length;
      await m.awaitStopped();
      assert.equal(log.filter((e) => e.startsWith('start:')).length, startsAtStop, `wait=${wait}: ${log.join(' ')}`);
      for (const svc of services) {
        assert.ok(isTerminal(svc.state()), `wait=${wait} ${svc.name}`);
        assert.ok(isTerminal(svc.inner.state()), `wait=${wait} inner ${svc.name} is ${svc.inner.state()}`);
      }
      // stops in reverse order for those that started
      for (const [lo, hi] of [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']] as const) {
        if (log.includes(`stop:${lo}`) && log.includes(`start:${hi}`)) before(log, `down:${hi}`, `stop:${lo}`);
      }
    }
  });

  test('awaitRunning of a ModuleService rejects (not hangs) when stopped while waiting for a dependency', async () => {
    const aStart = deferred();
    const r = new ModuleRegistry();
    r.register('a', () => new BasicService('a', { starting: () => aStart.promise }));
    r.register('b', () => new BasicService('b'), ['a']);
    const s = byName(await r.initServices(['b']));
    const m = new Manager(Object.values(s));
    m.startAsync();
    const bRunning = s.b!.awaitRunning();
    await ticks(2);
    m.stopAsync();
    await assert.rejects(bRunning, ServiceStateError);
    aStart.resolve();
    await m.awaitStopped();
    assert.equal(s.b!.inner.state(), State.Terminated);
  });
});

// ---- randomized stress -----------------------------------------------------------------------


/** A pause: none, a microtask, a macrotask turn, or (rarely) a 0-2 ms timer. */
type Pause = { kind: 'none' } | { kind: 'micro' } | { kind: 'immediate' } | { kind: 'timer'; ms: number };

function randomPause(rnd: () => number): Pause {
  const x = rnd();
  if (x < 0.25) return { kind: 'none' };
  if (x < 0.55) return { kind: 'micro' };
  if (x < 0.93) return { kind: 'immediate' };
  return { kind: 'timer', ms: Math.floor(rnd() * 3) };
}

async function pause(p: Pause): Promise<void> {
  switch (p.kind) {
    case 'none':
      return;
    case 'micro':
      await new Promise<void>((r) => queueMicrotask(r));
      return;
    case 'immediate':
      await new Promise<void>((r) => setImmediate(r));
      return;
    case 'timer':
      await new Promise<void>((r) => setTimeout(r, p.ms));
  }
}

async function pauses(ps: Pause[]): Promise<void> {
  for (const p of ps) await pause(p);
}

interface Spec {
  name: string;
  deps: string[];
  hasService: boolean;
  startPauses: Pause[];
  stopPauses: Pause[];
  runPauses: Pause[];
  failStart: boolean;
  failRun: boolean;
  failStop: boolean;
}

const STRESS_ROUNDS = 2000;
const STRESS_PARALLEL = 8;
const STRESS_SEED = Number(process.env.LIFECYCLE_STRESS_SEED ?? 0x5eed1ce);
const HANG_GUARD_MS = 5000;
const STOP_MOMENTS = ['before start', 'during start', 'after healthy', 'on the first failure, as the app does'] as const;

/** Runs one randomized round; returns what went wrong (empty when all is well). */
async function stressRound(seed: number, round: number): Promise<string[]> {
  const rnd = mulberry32((seed ^ Math.imul(round + 1, 0x9e3779b9)) >>> 0);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const somePauses = (max: number): Pause[] => Array.from({ length: pick(max + 1) }, () => randomPause(rnd));
  const problems: string[] = [];

  const n = 2 + pick(7);
  const specs: Spec[] = [];
  for (let i = 0; i < n; i++) {
    const deps: string[] = [];
    for (let j = 0; j < i; j++) if (rnd() < 0.4) deps.push(`m${j}`);
    const hasService = rnd() < 0.85;
    specs.push({
      name: `m${i}`, deps, hasService,
      startPauses: somePauses(3), stopPauses: somePauses(3), runPauses: somePauses(4),
      failStart: hasService && rnd() < 0.07, failRun: hasService && rnd() < 0.07, failStop: hasService && rnd() < 0.04,
    });
  }
  const spec = new Map(specs.map((s) => [s.name, s]));
  // the nearest dependencies that have a service (through service-less modules), worked out here
  const svcDeps = (name: string): string[] => {
    const out = new Set<string>();
    for (const d of spec.get(name)!.deps) {
      if (spec.get(d)!.hasService) out.add(d);
      else for (const x of svcDeps(d)) out.add(x);
    }
    return [...out];
  };
  const allDeps = (name: string): string[] => [...new Set(spec.get(name)!.deps.flatMap((d) => [d, ...allDeps(d)]))];
  const injected = (sp: Spec): boolean => sp.failStart || sp.failRun || sp.failStop;

  const inners = new Map<string, BasicService>();
  const stoppedOrderly = new Set<string>();
  const startedInner = new Set<string>();
  // (among the modules the targets need, i.e. those inited)
  const svcDependants = (name: string): string[] => specs.filter((s) => inners.has(s.name) && svcDeps(s.name).includes(name)).map((s) => s.name);
  const reg = new ModuleRegistry();
  for (const sp of specs) {
    reg.register(sp.name, () => {
      if (!sp.hasService) return rnd() < 0.5 ? undefined : Promise.resolve(undefined);
      const inner = new BasicService(sp.name, {
        starting: async () => {
          // runs synchronously inside startAsync(): the dependencies must be Running right now
          if (stopRequested) problems.push(`${sp.name} started after the stop request`);
          startedInner.add(sp.name);
          for (const d of svcDeps(sp.name)) {
            const st = inners.get(d)?.state();
            if (st !== State.Running) problems.push(`${sp.name} started while its dependency ${d} was ${st}`);
          }
          await pauses(sp.startPauses);
          if (sp.failStart) throw new Error(`${sp.name}: injected start failure`);
        },
        running: async (signal) => {
          if (sp.failRun) {
            await pauses(sp.runPauses);
            throw new Error(`${sp.name}: injected run failure`);
          }
          await waitForAbort(signal);
        },
        stopping: async (failure) => {
          if (failure === undefined) {
            // an orderly stop (not a service failing by itself): everything above must be final
            if (stoppedOrderly.has(sp.name)) problems.push(`${sp.name} stopped twice`);
            stoppedOrderly.add(sp.name);
            for (const d of svcDependants(sp.name)) {
              const st = inners.get(d)?.state();
              if (st === undefined || !isTerminal(st)) problems.push(`${sp.name} stopped while its dependant ${d} was ${st}`);
            }
          }
          await pauses(sp.stopPauses);
          if (sp.failStop) throw new Error(`${sp.name}: injected stop failure`);
        },
      });
      inners.set(sp.name, inner);
      return inner;
    }, sp.deps);
  }

  const targets = specs.map((s) => s.name).filter(() => rnd() < 0.6);
  if (targets.length === 0) targets.push(specs[specs.length - 1]!.name);
  const services = await reg.initServices(targets);
  // all at once, in a random order
  for (let i = services.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [services[i], services[j]] = [services[j]!, services[i]!];
  }
  const manager = new Manager(services);
  // (a start or run failure is certain when any inited service has one injected: the lowest such
  // service's dependencies all start fine, so it starts and fails)
  const failureCertain = services.some((s) => spec.get(s.name)!.failStart || spec.get(s.name)!.failRun);
  let stopRequested = false;
  const stop = (): void => {
    stopRequested = true;
    manager.stopAsync();
  };
  const guard = new AbortController();
  setMaxListeners(64, guard.signal); // one listener per service and await, from both awaits
  const timer = setTimeout(() => guard.abort(new Error('hang guard')), HANG_GUARD_MS);
  const when = pick(STOP_MOMENTS.length);
  try {
    if (when === 0) {
      stop();
      manager.startAsync();
    } else if (when === 1) {
      manager.startAsync();
      await pauses(somePauses(6));
      stop();
    } else if (when === 2) {
      manager.startAsync();
      let healthy = true;
      await manager.awaitHealthy(guard.signal).catch(() => {
        healthy = false;
      });
      if (guard.signal.aborted) problems.push(`awaitHealthy hung: ${JSON.stringify(manager.states())}`);
      if (!healthy && !services.some((s) => injected(spec.get(s.name)!))) problems.push('awaitHealthy rejected without any injected failure');
      await pauses(somePauses(2));
      stop();
    } else {
      // like the app: the first failure reported stops everything; without one, stop once healthy
      manager.onFailure(() => stop());
      manager.startAsync();
      if (!failureCertain) {
        await manager.awaitHealthy(guard.signal).catch(() => undefined);
        stop();
      }
    }
    try {
      await manager.awaitStopped(guard.signal);
    } catch {
      problems.push(`awaitStopped hung: ${JSON.stringify(manager.states())} inner ${JSON.stringify(Object.fromEntries([...inners].map(([k, v]) => [k, v.state()])))}`);
    }
  } finally {
    clearTimeout(timer);
  }
  if (problems.length === 0) {
    for (const svc of services) {
      const sp = spec.get(svc.name)!;
      if (!isTerminal(svc.state())) problems.push(`module ${svc.name} ended ${svc.state()}`);
      if (!isTerminal(svc.inner.state())) problems.push(`inner ${svc.name} ended ${svc.inner.state()}`);
      if (svc.inner.state() === State.Terminated && startedInner.has(svc.name) && !stoppedOrderly.has(svc.name)) {
        problems.push(`inner ${svc.name} Terminated without an orderly stop`);
      }
      if (svc.inner.state() === State.Failed && !injected(sp)) problems.push(`inner ${svc.name} Failed with nothing injected`);
      // a module fails only through a failure injected in it or in something below it
      if (svc.state() === State.Failed && !injected(sp) && !allDeps(svc.name).some((d) => inners.has(d) && injected(spec.get(d)!))) {
        problems.push(`module ${svc.name} Failed for no reason: ${svc.failureCase()?.message}`);
      }
    }
  }
  if (problems.length > 0) {
    const flags = (s: Spec): string => `${s.hasService ? '' : '(none)'}${s.failStart ? '[fs]' : ''}${s.failRun ? '[fr]' : ''}${s.failStop ? '[fx]' : ''}`;
    problems.push(`graph: ${specs.map((s) => `${s.name}${flags(s)}<-[${s.deps.join(',')}]`).join(' ')}; targets ${targets.join(',')}; stop ${STOP_MOMENTS[when]}`);
  }
  return problems;
}

test(`stress: ${STRESS_ROUNDS} random module graphs, failures and stop moments`, async () => {
  const unhandled: string[] = [];
  const onUnhandled = (r: unknown): void => {
    unhandled.push(r instanceof Error ? (r.stack ?? r.message) : String(r));
  };
  process.on('unhandledRejection', onUnhandled);
  const failed: Array<{ round: number; problems: string[] }> = [];
  try {
    for (let base = 0; base < STRESS_ROUNDS && failed.length < 20; base += STRESS_PARALLEL) {
      const rounds = Array.from({ length: Math.min(STRESS_PARALLEL, STRESS_ROUNDS - base) }, (_, k) => base + k);
      const results = await Promise.all(rounds.map((r) => stressRound(STRESS_SEED, r)));
      await tick();
      rounds.forEach((round, k) => {
        if (results[k]!.length > 0) failed.push({ round, problems: results[k]! });
      });
      assert.deepEqual(unhandled, [], `seed=${STRESS_SEED} (LIFECYCLE_STRESS_SEED) rounds ${rounds[0]}..${rounds[rounds.length - 1]}: unhandled rejections`);
    }
    const report = failed.slice(0, 5).map((f) => `round ${f.round}:\n  ${f.problems.join('\n  ')}`).join('\n');
    assert.equal(failed.length, 0, `seed=${STRESS_SEED} (LIFECYCLE_STRESS_SEED): ${failed.length}${failed.length >= 20 ? '+' : ''} failing rounds, first ones:\n${report}`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
