import '../harness.js';
// Ingesters restarted under continuous write load, as in a rolling update or a crash: a cluster of
// real processes (test/cluster-helpers.ts): etcd, 3 ingesters, 2 distributors, RF 3, 1 s
// heartbeats, 5 s heartbeat timeout, both distributors pushed to back to back the whole time.
// What is measured is the distributors' own count of failed appends per ingester address
// (cortex_distributor_ingester_append_failures_total{ingester="<addr>"}).
//
//   1. Rolling SIGTERMs (ingesters run with -shutdown-delay=1s): each ingester in turn is stopped
//      cleanly and started again. Not one append to the stopping ingester may fail: it goes
//      LEAVING in the ring (writers skip it) before its gRPC listener closes, which its log must
//      show in that order. Regression test for the LEAVING-before-listener-close fix (app.ts
//      shutdown hooks, Lifecycler.markLeaving): before it, the listener closed while the ring
//      still said ACTIVE, and each stop cost about one failed append.
//   2. A crash: one ingester SIGKILLed, left down ~18.5 s (past the heartbeat timeout, long
//      enough for a gRPC client's reconnect backoff to grow), started again on the same data dir
//      and port. From 1 s after both distributors see it ACTIVE, for 4 s, no append to it may fail
//      and appends to it must succeed. Regression test for the ingester client pool fix (clients
//      of ACTIVE and LEAVING ingesters only, so the old client with its backoff is dropped while
//      the ingester passes PENDING/JOINING; dskit's 1 s..5 s connect backoff; a subchannel pool of
//      its own per client): before it, the old client kept failing every call until its next
//      reconnect attempt, up to grpc-js's 120 s backoff later (measured: ~5 s, 149 failures).
//
// Why 18.5 s down and a 1 s margin: grpc-js reconnects after 1, 1.6, 2.56, 4.1, 6.55, 10.5 s
// (x1.6, +-20 % jitter), i.e. attempts at ~0, 1, 2.6, 5.2, 9.3, 15.8 (+-~1), 26.3 (+-~1.6) s after
// the connection broke. Restarted at 18.5 s, the ingester is ACTIVE by ~19.5 s; an old client then
// waits for the attempt at ~26 s, so it fails all through the measured window (20.5..24.5 s). A
// fresh client connects on its first call (which waits while connecting), so with the fix no
// failure is expected even right at ACTIVE; the 1 s margin only covers the gap between the
// distributors' ring change and this test's poll seeing it, and pushes already in flight then.
//
// Skips only when there is no etcd binary (install Debian's etcd-server, or set ETCD_BIN).
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { etcdAvailable } from '../etcd.js';
import {
  type Cluster, type MuninnNode, PushLoad, ingesterAppends, startCluster, waitForRingStates, waitUntil,
} from '../cluster-helpers.js';

const skip = etcdAvailable() ? false : 'etcd binary not found';

const TENANT = 'rolling';
const METRIC = 'muninn_rolling_test';
const DOWN_MS = 18_500;
const SETTLE_MS = 1_000;
const WINDOW_MS = 4_000;

let c: Cluster;
let ing: MuninnNode[];
let dist: MuninnNode[];
let load: PushLoad;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const allActive = (): Record<string, string> => Object.fromEntries(ing.map((n) => [n.id, 'ACTIVE']));

/** Waits until every distributor's /ingester/ring shows these states (null: absent); returns when. */
async function distributorsSee(states: Record<string, string | null>, timeoutMs = 10_000): Promise<number> {
  await Promise.all(dist.map((d) => waitForRingStates(d, 'ingester', states, { timeoutMs })));
  return Date.now();
}

/** Polls fast (20 ms) until every distributor shows `id` in `state`; returns when the last one did. */
async function distributorsSeeFast(id: string, state: string, timeoutMs: number): Promise<number> {
  const seen = new Map<string, string>();
  await waitUntil(async () => {
    const rs = await Promise.all(dist.map(async (d) => [d.id, (await d.ring('ingester')).shards.find((s) => s.id === id)?.state ?? 'absent'] as const));
    for (const [d, s] of rs) seen.set(d, s);
    return rs.every(([, s]) => s === state);
  }, { timeoutMs, intervalMs: 20, what: `every distributor to see ${id} ${state}`, describe: () => JSON.stringify([...seen]) });
  return Date.now();
}

/**
 * One scenario. They share the cluster but not their outcome: each starts by bringing every
 * ingester back up (an earlier failure may have left one down), and on failure prints the
 * cluster's last warnings (push failures left out).
 */
function scenario(name: string, fn: (t: TestContext) => Promise<void>): void {
  test(name, { skip, timeout: 60_000 }, async (t) => {
    try {
      await Promise.all(ing.filter((n) => !n.running).map((n) => n.start()));
      await distributorsSee(allActive());
      await fn(t);
    } catch (e) {
      for (const l of c?.problemSummary(15, (x) => x.component === 'push') ?? []) t.diagnostic(l);
      throw e;
    }
  });
}

before(async () => {
  if (skip !== false) return;
  c = await startCluster({
    ingesters: 3,
    distributors: 2,
    heartbeatPeriod: '1s',
    heartbeatTimeout: '5s',
    replicationFactor: 3,
    idPrefix: 'roll-',
    ingesterArgs: () => ['-shutdown-delay=1s'],
    distributorArgs: () => ['-distributor.ingestion-rate-limit=100000000', '-distributor.ingestion-burst-size=100000000'],
  });
  ing = c.ingesters;
  dist = c.distributors;
  await c.waitForRings();
  load = new PushLoad(dist, { tenant: TENANT, metric: METRIC, seriesPerPush: 10, workersPerTarget: 2 });
  load.start();
});

after(async () => {
  if (skip !== false) return;
  await load?.stop();
  await c?.close();
});

scenario('rolling SIGTERMs under load: no append to a stopping ingester fails; LEAVING precedes the listener close', async (t) => {
  const from = Date.now();
  const failures: Record<string, number> = {};
  for (const n of ing) {
    const addr = n.grpcAddr;
    const earlier = await ingesterAppends(dist, addr);
    await sleep(300);
    const before = await ingesterAppends(dist, addr);
    assert.ok(before.appends - earlier.appends > 0, `${n.id} was being written to right before its SIGTERM`);
    const sentAt = Date.now();
    const exit = await n.stop();
    const exitedAt = Date.now();
    assert.equal(exit.code, 0, `${n.id} exits 0`);
    // the distributors have dropped it (it unregistered), and pushes went on a little longer
    await distributorsSee({ [n.id]: null });
    await sleep(300);
    const afterStop = await ingesterAppends(dist, addr);
    const pushesDuring = load.succeeded(sentAt, exitedAt);
    failures[`${n.id} (${addr})`] = afterStop.failures - before.failures;
    t.diagnostic(`${n.id} (${addr}): stopped in ${exitedAt - sentAt} ms, ${pushesDuring} pushes answered 200 meanwhile; appends to it +${afterStop.appends - before.appends}, failed +${afterStop.failures - before.failures} ${JSON.stringify(afterStop.perDistributor)}`);
    assert.ok(pushesDuring >= 20, `pushes kept coming while ${n.id} stopped (${pushesDuring})`);

    // its log: LEAVING (from ACTIVE, by the shutdown hook) before the listeners closed
    const lines = n.lines;
    const leaving = lines.findIndex((l) => l.msg === 'instance is LEAVING the ring');
    const closed = lines.findIndex((l) => String(l.msg).startsWith('shutdown: listeners closed'));
    assert.ok(leaving >= 0, `${n.id} logged "instance is LEAVING the ring"`);
    assert.ok(closed >= 0, `${n.id} logged "shutdown: listeners closed..."`);
    assert.ok(leaving < closed, `${n.id} went LEAVING (log line ${leaving}) before its listeners closed (log line ${closed})`);
    assert.equal(lines[leaving]?.from, 'ACTIVE');

    await n.start();
    assert.equal(n.grpcAddr, addr, `${n.id} restarted at its old address`);
    await distributorsSee(allActive());
    await sleep(300);
  }
  assert.deepEqual(failures, Object.fromEntries(Object.keys(failures).map((k) => [k, 0])), 'failed appends to each ingester during its own shutdown');
  assert.deepEqual(load.failed(from), [], 'every push answered 200');
});

scenario('SIGKILL, down past the heartbeat timeout, restart at the same address: no append fails once it is ACTIVE again', async (t) => {
  const from = Date.now();
  const n = ing[1]!;
  const addr = n.grpcAddr;
  await n.kill();
  const killedAt = Date.now();
  // stale on both distributors (no longer written to), then left down for the client backoff to grow
  await distributorsSeeFast(n.id, 'UNHEALTHY', 10_000);
  await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));

  await n.start();
  assert.equal(n.grpcAddr, addr, `${n.id} restarted at its old address (else the test proves nothing)`);
  const activeAt = await distributorsSeeFast(n.id, 'ACTIVE', 10_000);
  const atActive = await ingesterAppends(dist, addr);
  await sleep(Math.max(0, activeAt + SETTLE_MS - Date.now()));
  const settled = await ingesterAppends(dist, addr);
  await sleep(WINDOW_MS);
  const end = await ingesterAppends(dist, addr);

  t.diagnostic(`${n.id} (${addr}): ACTIVE on both distributors ${activeAt - killedAt} ms after the kill; within ${SETTLE_MS} ms of that: appends +${settled.appends - atActive.appends}, failures +${settled.failures - atActive.failures}; in the next ${WINDOW_MS} ms: appends +${end.appends - settled.appends}, failures +${end.failures - settled.failures}`);
  assert.equal(end.failures - settled.failures, 0, `appends to ${n.id} (${addr}) failed from ${SETTLE_MS} ms after it was ACTIVE again: ${JSON.stringify({ settled: settled.perDistributor, end: end.perDistributor })}`);
  const ok = (end.appends - settled.appends) - (end.failures - settled.failures);
  assert.ok(ok > 0, `${n.id} received appends after it was ACTIVE again (${ok})`);
  for (const d of dist) {
    const g = end.perDistributor[d.id]!;
    const s = settled.perDistributor[d.id]!;
    assert.ok(g.appends - s.appends > 0, `${d.id} wrote to ${n.id} after it was ACTIVE again`);
  }
  // every push got a quorum all along (one replica down of three)
  assert.deepEqual(load.failed(from), [], 'every push answered 200');
});
