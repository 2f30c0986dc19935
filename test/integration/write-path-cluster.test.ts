import '../harness.js';
// The write path as a cluster of real processes (test/cluster-helpers.ts): etcd, 3 ingesters
// (-target=ingester) and 2 distributors (-target=distributor), both rings in etcd, RF 3, 1 s
// heartbeats and a 5 s heartbeat timeout. The steps run in order on one cluster:
//
//   1. the rings converge: each distributor sees 3 ACTIVE ingesters and 2 distributors;
//   2. 10,000 series pushed through both distributors land on all 3 ingesters (Series RPC), with
//      exactly one sample each per ingester;
//   3. one ingester stopped (SIGTERM, unregisters): pushes still succeed and land on both others;
//      then the same one restarted (WAL replay) with -ingester.ring.unregister-on-shutdown=false
//      and stopped again, so it stays LEAVING: pushes still succeed and land on both others;
//   4. a second ingester stopped while pushes keep coming: no 4xx ever, nothing but 503 once it
//      is gone; then both restarted on their data dirs (WAL replay), and every series any push
//      acknowledged in the whole test is on at least 2 of the ingesters that were up then;
//   5. the ring pages: JSON shape of /ingester/ring and /distributor/ring; an ingester killed with
//      SIGKILL shows UNHEALTHY after the heartbeat timeout, with a Forget button on the HTML page,
//      and POST forget=<id> removes it from the ring on both distributors;
//   6. etcd away: paused, pushes go on (ring lookups never touch the store); stopped, the
//      distributors log the lost watch and keep routing on the last ring until its heartbeats
//      age past the timeout, then answer 503; etcd back, the watch recovers and pushes succeed.
//
// Skips only when there is no etcd binary (install Debian's etcd-server, or set ETCD_BIN).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { sequentialSteps } from '../steps.js';
import { etcdAvailable } from '../etcd.js';
import {
  type Cluster, type HttpAnswer, type MuninnNode, labelValue, makeSeries, pushSeries, startCluster, waitForRing, waitForRingStates,
} from '../cluster-helpers.js';
import { problemLines } from '../proc.js';

const skip = etcdAvailable() ? false : 'etcd binary not found';

const TENANT = 't1';
const METRIC = 'muninn_cluster_test';
const HEARTBEAT_TIMEOUT_MS = 5000;

let c: Cluster;
let ing: MuninnNode[];
let dist: MuninnNode[];

/** Every push of the test: which series, what it answered, which ingesters were up when it was sent. */
interface Batch {
  phase: string;
  from: number;
  count: number;
  via: string;
  status: number;
  body: string;
  up: string[];
}
const batches: Batch[] = [];
let nextSeries = 0;
let pushes = 0;

/** Pushes `count` new series through the next distributor (alternating) and records the outcome. */
async function push(phase: string, count: number, up: string[], via?: MuninnNode): Promise<HttpAnswer> {
  const d = via ?? dist[pushes++ % dist.length]!;
  const from = nextSeries;
  nextSeries += count;
  const r = await pushSeries(d.httpUrl, TENANT, makeSeries(METRIC, from, count, Date.now(), { phase }));
  batches.push({ phase, from, count, via: d.id, status: r.status, body: r.body.trim(), up });
  return r;
}

function assertAll200(rs: HttpAnswer[], what: string): void {
  const bad = rs.filter((r) => r.status !== 200);
  assert.deepEqual(bad.map((r) => `${r.status} ${r.body.trim()}`), [], `${what}: every push must answer 200`);
}

/** Series RPC on each given ingester: the `i` label of every series of METRIC it holds. */
async function held(nodes: MuninnNode[]): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  await Promise.all(nodes.map(async (n) => {
    const sets = await n.series(TENANT, [{ type: '=', name: '__name__', value: METRIC }]);
    const ids = new Set<number>();
    for (const l of sets) ids.add(Number(labelValue(l, 'i')));
    assert.equal(ids.size, sets.length, `${n.id}: Series RPC returned a series twice`);
    out.set(n.id, ids);
  }));
  return out;
}

/** Asserts that every series of the batches is on each of `on` (and, with notOn, on none of those). */
function assertPlacement(h: Map<string, Set<number>>, bs: Batch[], on: string[], notOn: string[] = []): void {
  for (const b of bs) {
    for (const id of on) {
      const s = h.get(id)!;
      const missing: number[] = [];
      for (let i = b.from; i < b.from + b.count; i++) if (!s.has(i)) missing.push(i);
      assert.deepEqual(missing.slice(0, 10), [], `${id} lacks ${missing.length} series of phase ${b.phase} (pushed via ${b.via})`);
    }
    for (const id of notOn) {
      const s = h.get(id)!;
      for (let i = b.from; i < b.from + b.count; i++) assert.ok(!s.has(i), `${id} was down but holds series ${i} of phase ${b.phase}`);
    }
  }
}

async function tsdbSeries(n: MuninnNode): Promise<number> {
  const r = await fetch(`${n.httpUrl}/ingester/tsdb/${TENANT}`);
  assert.equal(r.status, 200, `${n.id}: /ingester/tsdb/${TENANT}`);
  return ((await r.json()) as { series: number }).series;
}

const ids = (nodes: MuninnNode[]): string[] => nodes.map((n) => n.id);
const activeAll = (nodes: MuninnNode[]): Record<string, string> => Object.fromEntries(nodes.map((n) => [n.id, 'ACTIVE']));

/** Waits until both distributors' /ingester/ring shows exactly these states. */
async function ingesterRingIs(states: Record<string, string>, timeoutMs = 10_000): Promise<void> {
  await Promise.all(dist.map((d) => waitForRingStates(d, 'ingester', states, { exact: true, timeoutMs })));
}

/**
 * One step of the scenario. The steps share the cluster, so once one fails the later ones skip;
 * the failing one prints the cluster's last warnings (push failures left out: they are expected).
 */
const step = sequentialSteps(skip, () => c?.problemSummary(15, (x) => x.component === 'push') ?? []);

before(async () => {
  if (skip !== false) return;
  c = await startCluster({
    ingesters: 3,
    distributors: 2,
    heartbeatPeriod: '1s',
    heartbeatTimeout: `${HEARTBEAT_TIMEOUT_MS / 1000}s`,
    replicationFactor: 3,
    // no rate limit in the way of 10,000 series in a few requests
    distributorArgs: () => ['-distributor.ingestion-rate-limit=10000000', '-distributor.ingestion-burst-size=10000000'],
  });
  ing = c.ingesters;
  dist = c.distributors;
});

after(async () => {
  if (skip !== false) return;
  await c?.close();
});

step('1. the rings converge: every distributor sees 3 ACTIVE ingesters and 2 distributors', async () => {
  await c.waitForRings(15_000);
});

step('2. 10,000 series pushed through both distributors are on all 3 ingesters, one sample each', async () => {
  const rs: HttpAnswer[] = [];
  for (let k = 0; k < 10; k++) rs.push(await push('b', 1000, ids(ing)));
  assertAll200(rs, 'with 3 ingesters');
  assert.equal(nextSeries, 10_000);

  const h = await held(ing);
  for (const n of ing) assert.equal(h.get(n.id)!.size, 10_000, `${n.id}: series held`);
  assertPlacement(h, batches, ids(ing));
  for (const n of ing) {
    assert.equal(await tsdbSeries(n), 10_000, `${n.id}: /ingester/tsdb series`);
    assert.equal(await n.metric('cortex_ingester_ingested_samples_total'), 10_000, `${n.id}: samples ingested`);
  }
});

step('3. one ingester down (unregistered, then LEAVING): pushes succeed and land on both others', async () => {
  const [a, b, gone] = ing as [MuninnNode, MuninnNode, MuninnNode];
  const exit = await gone.stop();
  assert.equal(exit.code, 0, `${gone.id} exit`);
  assert.ok(gone.lines.some((l) => l.msg === 'instance unregistered from the ring'), 'it unregistered');
  await ingesterRingIs(activeAll([a, b]));

  const rs: HttpAnswer[] = [];
  for (let k = 0; k < 4; k++) rs.push(await push('c', 250, [a.id, b.id]));
  assertAll200(rs, 'with 2 of 3 ingesters (third unregistered)');

  // back on its data dir (its WAL replayed), this time staying in the ring when stopped
  await gone.start(['-ingester.ring.unregister-on-shutdown=false']);
  assert.equal(await tsdbSeries(gone), 10_000, `${gone.id}: series after WAL replay`);
  await ingesterRingIs(activeAll(ing));
  assert.equal((await gone.stop()).code, 0, `${gone.id} exit`);
  assert.ok(gone.lines.some((l) => /stays in the ring as LEAVING/.test(String(l.msg))), 'it stayed in the ring');
  // LEAVING until its heartbeat ages past the timeout, UNHEALTHY after: both are out of writes
  await Promise.all(dist.map((d) => waitForRing(d, 'ingester', (s) => s.length === 3 && ['LEAVING', 'UNHEALTHY'].includes(s.find((x) => x.id === gone.id)?.state ?? ''), `${gone.id} LEAVING`)));
  for (let k = 0; k < 4; k++) rs.push(await push('c2', 250, [a.id, b.id]));
  assertAll200(rs, 'with 2 of 3 ingesters (third LEAVING)');

  const h = await held([a, b]);
  assertPlacement(h, batches.filter((x) => x.phase === 'c' || x.phase === 'c2'), [a.id, b.id]);
});

step('4. two ingesters down: 503 once the second is gone, never a 4xx; every acknowledged series is on a quorum', async (t) => {
  const [a, b, gone] = ing as [MuninnNode, MuninnNode, MuninnNode];
  // pushes keep coming while b shuts down; the ones acknowledged in the race must still be on a quorum
  let stop = false;
  let stoppedAt = Infinity;
  const duringOrAfter: Array<{ r: HttpAnswer; sentAt: number }> = [];
  const loop = (async () => {
    while (!stop) {
      const sentAt = Date.now();
      const r = await push('d', 50, [a.id, b.id]);
      duringOrAfter.push({ r, sentAt });
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 200));
    const exit = await b.stop();
    stoppedAt = exit.at;
    assert.equal(exit.code, 0, `${b.id} exit`);
    await Promise.all(dist.map((d) => waitForRing(d, 'ingester', (s) => s.length === 2 && s.find((x) => x.id === a.id)?.state === 'ACTIVE' &&
      ['LEAVING', 'UNHEALTHY'].includes(s.find((x) => x.id === gone.id)?.state ?? ''), `${b.id} gone`)));
    // a few more after the ring settled
    const more = duringOrAfter.length + 6;
    while (duringOrAfter.length < more) await new Promise((r) => setTimeout(r, 20));
  } finally {
    stop = true;
    await loop;
  }
  const statuses = duringOrAfter.map((x) => x.r.status);
  assert.ok(statuses.every((s) => s === 200 || s === 503), `only 200 (before the stop) and 503: ${JSON.stringify(duringOrAfter.map((x) => `${x.r.status} ${x.r.body.trim()}`).filter((x) => !x.startsWith('200')))}`);
  const after = duringOrAfter.filter((x) => x.sentAt > stoppedAt);
  t.diagnostic(`pushes while ${b.id} stopped: ${statuses.filter((s) => s === 200).length} x 200, ${statuses.filter((s) => s === 503).length} x 503 (${after.length} sent after its exit)`);
  assert.ok(after.length >= 6);
  assert.deepEqual(after.filter((x) => x.r.status !== 503).map((x) => `${x.r.status} ${x.r.body.trim()}`), [], 'pushes sent after the second ingester exited');
  for (const d of dist) {
    const r = await push('d', 10, [a.id], d);
    assert.equal(r.status, 503, `${d.id}: ${r.body}`);
    assert.match(r.body, /live replicas required|failed pushing to ingester/);
  }

  // back on their data dirs: what each had when it stopped (WAL replayed)
  await Promise.all([b.start(), gone.start()]);
  await ingesterRingIs(activeAll(ing));
  const h = await held(ing);
  assertPlacement(h, batches.filter((x) => x.phase === 'b'), ids(ing));
  assertPlacement(h, batches.filter((x) => (x.phase === 'c' || x.phase === 'c2')), [a.id, b.id], [gone.id]);
  let acked = 0;
  for (const x of batches) {
    if (x.status < 200 || x.status > 299) continue;
    for (let i = x.from; i < x.from + x.count; i++) {
      const holders = x.up.filter((id) => h.get(id)!.has(i));
      assert.ok(holders.length >= 2, `series ${i} (phase ${x.phase}, acknowledged via ${x.via}) is on ${holders.length} of the ingesters up then (${x.up.join(',')})`);
      acked++;
    }
  }
  assert.ok(acked >= 12_000, `acknowledged series checked: ${acked}`);
  t.diagnostic(`acknowledged series checked for a quorum: ${acked}`);
  // with everyone back, pushes succeed again
  assertAll200([await push('e', 100, ids(ing)), await push('e', 100, ids(ing))], 'after recovery');
});

step('5. ring pages: JSON shape, a SIGKILLed ingester turns UNHEALTHY, the Forget button removes it', async (t) => {
  const [a, b, victim] = ing as [MuninnNode, MuninnNode, MuninnNode];
  const d0 = dist[0]!;
  const ringJ = await d0.ring('ingester');
  assert.ok(!Number.isNaN(Date.parse(ringJ.now)));
  assert.deepEqual(ringJ.shards.map((s) => s.id).sort(), ids(ing).sort());
  let owned = 0;
  for (const n of ing) {
    const s = ringJ.shards.find((x) => x.id === n.id)!;
    assert.deepEqual(Object.keys(s).sort(), ['address', 'id', 'ownership', 'read_only', 'registered_timestamp', 'state', 'timestamp', 'tokens', 'zone']);
    assert.equal(s.state, 'ACTIVE');
    assert.equal(s.address, n.grpcAddr);
    assert.equal(s.zone, '');
    assert.equal(s.read_only, false);
    assert.equal(s.tokens.length, 128, 'default -ingester.ring.num-tokens');
    assert.ok(s.tokens.every((t, k) => Number.isInteger(t) && t >= 0 && t < 2 ** 32 && (k === 0 || t > s.tokens[k - 1]!)), 'tokens sorted, uint32');
    assert.ok(s.ownership > 0 && s.ownership < 1, `ownership ${s.ownership}`);
    assert.ok(Date.now() - Date.parse(s.timestamp) < HEARTBEAT_TIMEOUT_MS, 'fresh heartbeat');
    assert.ok(Date.parse(s.registered_timestamp) <= Date.parse(s.timestamp));
    owned += s.ownership;
  }
  assert.ok(Math.abs(owned - 1) < 1e-9, `ownership sums to ${owned}`);
  const distJ = await d0.ring('distributor');
  assert.deepEqual(distJ.shards.map((s) => [s.id, s.state, s.address, s.tokens.length]).sort(), dist.map((d) => [d.id, 'ACTIVE', d.grpcAddr, 1]).sort());

  const killedAt = Date.now();
  await victim.kill();
  // the last heartbeat it wrote, as the distributors see it once the watch delivered it
  await new Promise((r) => setTimeout(r, 300));
  const lastBeat = Date.parse((await d0.ring('ingester')).shards.find((x) => x.id === victim.id)!.timestamp);
  await Promise.all(dist.map((d) => waitForRing(d, 'ingester', (s) => s.find((x) => x.id === victim.id)?.state === 'UNHEALTHY', `${victim.id} UNHEALTHY`, HEARTBEAT_TIMEOUT_MS + 10_000)));
  const seenAt = Date.now();
  t.diagnostic(`${victim.id} UNHEALTHY on both distributors ${seenAt - killedAt} ms after SIGKILL, ${seenAt - lastBeat} ms after its last heartbeat`);
  assert.ok(seenAt - lastBeat > HEARTBEAT_TIMEOUT_MS, 'not unhealthy before the heartbeat timeout');
  for (const d of dist) {
    const s = (await d.ring('ingester')).shards;
    assert.deepEqual(s.filter((x) => x.state === 'ACTIVE').map((x) => x.id).sort(), [a.id, b.id].sort(), `${d.id}: the others stay ACTIVE`);
  }
  // still a quorum (2 of the 3 the series map to): pushes succeed
  assertAll200([await push('f', 100, [a.id, b.id]), await push('f', 100, [a.id, b.id])], 'with one ingester unhealthy');

  const html = await (await fetch(`${d0.httpUrl}/ingester/ring`)).text();
  assert.match(html, /<html/);
  const forms = [...html.matchAll(/<input type="hidden" name="forget" value="([^"]*)"><button type="submit">Forget<\/button>/g)].map((m) => m[1]);
  assert.deepEqual(forms, [victim.id], 'a Forget button on the unhealthy instance only');
  assert.match(html, new RegExp(`UNHEALTHY \\(ACTIVE\\)`));

  assert.equal(await d0.forget('ingester', 'no-such-ingester'), 404);
  assert.equal(await d0.forget('ingester', victim.id), 303);
  await ingesterRingIs(activeAll([a, b]));
  assertAll200([await push('f', 100, [a.id, b.id]), await push('f', 100, [a.id, b.id])], 'after the forget');
});

step('6. etcd away: distributors route on the last ring they saw and log it; then 503 once heartbeats age out', async (t) => {
  const [a, b] = ing as [MuninnNode, MuninnNode];
  const up = [a.id, b.id];

  // paused: calls to it hang, but a push needs no call to the store
  await c.etcd.pause();
  try {
    assertAll200([await push('g', 100, up), await push('g', 100, up)], 'etcd paused');
  } finally {
    c.etcd.resume();
  }
  await ingesterRingIs(activeAll([a, b]));

  // gone: the watch breaks at once, and the distributors say so
  await c.etcd.stop();
  const t0 = Date.now();
  await Promise.all(dist.map((d) => d.proc.waitForLine((l) => l.component === 'etcd-kv' && l.msg === 'etcd watch lost the store; retrying' && l.key === 'collectors/ring', 3000)));
  const rs = [await push('h', 100, up), await push('h', 100, up)];
  // (a machine too slow to get here well within the heartbeat timeout cannot check this)
  if (Date.now() - t0 < HEARTBEAT_TIMEOUT_MS - 2000) assertAll200(rs, 'etcd stopped, last ring still fresh');
  else t.diagnostic(`pushes with etcd stopped not checked: ${Date.now() - t0} ms passed since the stop`);
  for (const d of dist) assert.equal((await d.ring('ingester')).shards.length, 2, `${d.id} keeps the last ring`);
  // the ring's heartbeats go stale: nothing is healthy any more, pushes answer 503 (never 4xx)
  await Promise.all(dist.map((d) => waitForRing(d, 'ingester', (s) => s.every((x) => x.state === 'UNHEALTHY'), 'every ingester UNHEALTHY', HEARTBEAT_TIMEOUT_MS + 5000)));
  for (const d of dist) {
    const r = await push('h2', 10, up, d);
    assert.equal(r.status, 503, `${d.id}: ${r.body}`);
  }

  // back: the watch is re-established, heartbeats land, pushes succeed
  await c.etcd.restart();
  await Promise.all(dist.map((d) => d.proc.waitForLine((l) => l.component === 'etcd-kv' && l.msg === 'etcd watch re-established' && l.key === 'collectors/ring', 10_000)));
  await ingesterRingIs(activeAll([a, b]));
  assertAll200([await push('i', 100, up), await push('i', 100, up)], 'etcd back');

  // every acknowledged series of this test is on a quorum of the ingesters up then
  const h = await held([a, b]);
  for (const x of batches.filter((y) => ['f', 'g', 'h', 'i'].includes(y.phase) && y.status === 200)) {
    for (let i = x.from; i < x.from + x.count; i++) assert.ok(up.every((id) => h.get(id)!.has(i)), `series ${i} of phase ${x.phase}`);
  }
  for (const n of [...dist, a, b]) assert.deepEqual(problemLines(n.lines), [], `${n.id}: error lines`);
});
