import '../harness.js';
// The local cluster launcher (scripts/cluster.ts, the `npm run cluster` code) through its API, on
// free ports: etcd, 3 ingesters (RF 3, tokens files, no unregistering), 2 distributors, 1 querier,
// HAProxy health-checking /ready every 250 ms (fall 1, rise 1), -shutdown-delay=2s.
//
//  1. a push through HAProxy's gateway is answered 200, and the querier (through the gateway too)
//     returns the samples; HAProxy's stats show every server UP with a passing /ready check;
//  2. under continuous remote-write load through HAProxy (4 keep-alive clients), distributor-0 is
//     SIGTERMed: HAProxy takes it out of rotation while it is still running, on a check answered
//     503 (its /ready during the shutdown delay, not a refused connection), it exits 0, and every
//     push is answered 200 all along - while it shuts down and after it is gone (none reaches it
//     once it is DOWN) - without HAProxy needing a single retry or redispatch;
//  3. started again (launcher.startNode), it is UP in HAProxy and takes pushes again;
//  4. every series the load wrote is queryable through the gateway, with its last value;
//  5. stop(): every process exits 0 (distributors and querier first, then ingesters), HAProxy and
//     etcd are gone, the temporary data dir is removed.
//
// Skips only when the etcd binary (Debian etcd-server, or $ETCD_BIN) or the haproxy binary
// (Debian haproxy, or $HAPROXY_BIN) is missing: the launcher runs both.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { test } from 'node:test';
import { haproxyAvailable, start, type LaunchedCluster } from '../../scripts/cluster.js';
import { httpRequest, makeSeries, pushSeries, remoteWriteBody, waitUntil } from '../cluster-helpers.js';
import { etcdAvailable } from '../etcd.js';

const skip = !etcdAvailable()
  ? 'etcd binary not found (install etcd-server or set ETCD_BIN)'
  : !haproxyAvailable()
    ? 'haproxy binary not found (install haproxy or set HAPROXY_BIN)'
    : false;

const TENANT = 'launcher';
const METRIC = 'muninn_launcher_load';
const WORKERS = 4;
const SERIES = 5;

interface Push {
  worker: number;
  sentAt: number;
  doneAt: number;
  status: number;
  body: string;
  ts: number;
}

/** Remote-write load through one URL with keep-alive connections (as Prometheus sends it). */
class GatewayLoad {
  readonly pushes: Push[] = [];
  /** The timestamp of each worker's last acknowledged push. */
  readonly lastAcked = new Map<number, number>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });

  constructor(private readonly url: string) {}

  start(): void {
    this.running = true;
    for (let w = 0; w < WORKERS; w++) this.loops.push(this.loop(w));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }

  failed(): string[] {
    return this.pushes.filter((p) => p.status !== 200).map((p) => `w${p.worker} ${p.status} ${p.body.trim().slice(0, 200)} at +${p.sentAt}`);
  }

  private async loop(w: number): Promise<void> {
    let last = 0;
    while (this.running) {
      const ts = Math.max(Date.now(), last + 1);
      last = ts;
      const sentAt = Date.now();
      const r = await this.post(remoteWriteBody(makeSeries(METRIC, 0, SERIES, ts, { w: String(w) })));
      this.pushes.push({ worker: w, sentAt, doneAt: Date.now(), status: r.status, body: r.body, ts });
      if (r.status === 200) this.lastAcked.set(w, ts);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  private post(body: Uint8Array): Promise<{ status: number; body: string }> {
    return new Promise((resolve) => {
      const req = http.request(this.url, {
        method: 'POST',
        agent: this.agent,
        timeout: 10_000,
        headers: {
          'Content-Type': 'application/x-protobuf',
          'Content-Encoding': 'snappy',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
          'X-Scope-OrgID': TENANT,
        },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (e) => resolve({ status: 0, body: `response error: ${e.message}` }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', (e) => resolve({ status: 0, body: `request error: ${e.message}` }));
      req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }
}

interface VectorAnswer {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

async function query(c: LaunchedCluster, promql: string): Promise<VectorAnswer> {
  const r = await httpRequest('GET', `${c.endpoints.query}/api/v1/query?query=${encodeURIComponent(promql)}`, { headers: { 'X-Scope-OrgID': TENANT } });
  assert.equal(r.status, 200, `query ${promql}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as VectorAnswer;
}

test('npm run cluster launcher: push and query through HAProxy; a distributor SIGTERMed and restarted under load', { skip, timeout: 90_000 }, async (t) => {
  const t0 = Date.now();
  const c = await start({
    ports: 'auto',
    shutdownDelay: '2s',
    gracefulShutdownTimeout: '5s',
    terminationGracePeriod: '10s',
    healthCheck: { intervalMs: 250, timeoutMs: 1000 },
  });
  t.diagnostic(`cluster up in ${Date.now() - t0} ms: gateway ${c.endpoints.gateway}, stats ${c.endpoints.stats}`);
  let load: GatewayLoad | undefined;
  try {
    // endpoints
    assert.equal(c.nodes.length, 6);
    assert.deepEqual(c.endpoints.nodes.map((n) => n.id), ['ingester-0', 'ingester-1', 'ingester-2', 'distributor-0', 'distributor-1', 'querier-0']);
    assert.equal(c.endpoints.write, `${c.endpoints.gateway}/api/v1/push`);
    assert.equal(c.endpoints.query, `${c.endpoints.gateway}/prometheus`);
    for (const n of c.ingesters) {
      assert.ok(n.args.includes('-ingester.ring.unregister-on-shutdown=false'), n.id);
      assert.ok(n.args.some((a) => a.startsWith('-ingester.ring.tokens-file-path=')), n.id);
    }

    // 1. push and query through the gateway; stats
    const ts = Date.now();
    const p = await pushSeries(c.endpoints.gateway, TENANT, makeSeries('muninn_launcher_first', 0, 3, ts));
    assert.equal(p.status, 200, p.body);
    const first = await query(c, 'sum(muninn_launcher_first)');
    assert.equal(first.status, 'success');
    assert.equal(first.data.result[0]?.value[1], '3', JSON.stringify(first)); // 0 + 1 + 2
    const stats = await c.haproxy.servers();
    assert.deepEqual(stats.map((s) => `${s.backend}/${s.server}`).sort(), ['distributors/distributor-0', 'distributors/distributor-1', 'queriers/querier-0']);
    for (const s of stats) {
      assert.equal(s.status, 'UP', JSON.stringify(s));
      assert.equal(s.checkStatus, 'L7OK', JSON.stringify(s));
    }
    const d0 = c.distributors[0]!;
    const d1 = c.distributors[1]!;
    for (const n of c.ingesters) assert.ok(existsSync(`${c.dataDir}/${n.id}/tokens`), `${n.id} wrote its tokens file`);

    // 2. SIGTERM distributor-0 under load through the gateway
    load = new GatewayLoad(c.endpoints.write);
    load.start();
    await waitUntil(async () => (await c.haproxy.server('distributors', 'distributor-0')).lbtot > 5, { timeoutMs: 5000, what: 'pushes reaching distributor-0 through HAProxy' });
    const stopping = c.stopNode(d0);
    await c.haproxy.waitForServer('distributors', 'distributor-0', 'DOWN', 5000);
    const atDown = await c.haproxy.server('distributors', 'distributor-0');
    assert.ok(d0.running, 'HAProxy took distributor-0 out of rotation before it exited');
    // ... because /ready answered 503 during the shutdown delay, not because the listener was gone
    assert.deepEqual([atDown.checkStatus, atDown.checkCode], ['L7STS', '503'], `the check that took distributor-0 out: ${JSON.stringify(atDown)}`);
    const lbAtDown = atDown.lbtot;
    const exit = await stopping;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.ok(d0.lines.some((l) => l.msg === 'shutdown: complete'), 'distributor-0 ran its whole shutdown');
    const goneAt = Date.now();
    await waitUntil(() => load!.pushes.filter((x) => x.sentAt > goneAt && x.status === 200).length >= 20, { timeoutMs: 10_000, what: 'pushes answered after distributor-0 is gone' });
    assert.equal((await c.haproxy.server('distributors', 'distributor-0')).lbtot, lbAtDown, 'no push was sent to distributor-0 once it was DOWN');
    assert.deepEqual(load.failed(), [], 'every push through HAProxy answered 200 while distributor-0 shut down and after');

    // 3. back in rotation
    await c.startNode(d0);
    const lbBack = (await c.haproxy.server('distributors', 'distributor-0')).lbtot;
    await waitUntil(async () => (await c.haproxy.server('distributors', 'distributor-0')).lbtot > lbBack + 5, { timeoutMs: 5000, what: 'pushes reaching the restarted distributor-0' });
    assert.ok(await d0.metric('cortex_distributor_requests_in_total') > 0, 'the restarted distributor-0 took pushes');
    assert.ok(await d1.metric('cortex_distributor_requests_in_total') > 0);
    await load.stop();
    assert.deepEqual(load.failed(), [], 'every push through HAProxy answered 200');
    const acked = load.pushes.filter((x) => x.status === 200).length;
    t.diagnostic(`${load.pushes.length} pushes through HAProxy, ${acked} answered 200; distributor-0 DOWN after SIGTERM with ${lbAtDown} picks`);
    assert.ok(acked > 50, `enough load (${acked} pushes)`);
    // nothing needed HAProxy's retries: no connection was refused or closed unanswered (a
    // Kubernetes Service does not retry)
    const totals = (await c.haproxy.servers()).filter((s) => s.backend === 'distributors');
    assert.ok(totals.every((s) => s.hrsp5xx === 0 && s.econ === 0 && s.wretr === 0 && s.wredis === 0), `no 5xx, connection error, retry or redispatch: ${JSON.stringify(totals)}`);

    // 4. every acknowledged series queryable through the gateway, with its last acknowledged value's timestamp
    const all = await query(c, `count(${METRIC})`);
    assert.equal(all.data.result[0]?.value[1], String(WORKERS * SERIES), JSON.stringify(all));
    const lastTs = await query(c, `max by (w) (timestamp(${METRIC}))`);
    for (const r of lastTs.data.result) {
      const w = Number(r.metric.w);
      assert.equal(Math.round(Number(r.value[1]) * 1000), load.lastAcked.get(w), `worker ${w}: newest sample is the last acknowledged push`);
    }
    load = undefined;

    // 5. clean stop
    const dataDir = c.dataDir;
    const report = await c.stop();
    assert.equal(report.clean, true, JSON.stringify(report.exits));
    assert.deepEqual(Object.keys(report.exits).sort(), c.nodes.map((n) => n.id).sort());
    const byId = (id: string): number => report.exits[id]!.at;
    const lastFront = Math.max(byId('distributor-0'), byId('distributor-1'), byId('querier-0'));
    for (const n of c.ingesters) assert.ok(byId(n.id) >= lastFront, `${n.id} stopped after the distributors and the querier`);
    assert.equal(c.haproxy.running, false);
    assert.equal(c.etcd.running, false);
    assert.equal(existsSync(dataDir), false, 'temporary data dir removed');
    t.diagnostic(`whole test ${Date.now() - t0} ms`);
  } finally {
    await load?.stop();
    await c.kill();
  }
});
