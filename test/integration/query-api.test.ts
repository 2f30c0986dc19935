// The query API end to end: data pushed by remote write (snappy, POST /api/v1/push) to a real
// ingester, read back through every endpoint of <prefix>/api/v1, across tenants, by promtool, and
// (where the `prometheus` binary is installed) compared byte for byte with what a real Prometheus
// answers for the same data.
//
// Target: a `-target=all` process when its querier module serves the API; until the module is
// wired in src/app, the same routes in-process around a real Ingester (and the real push route).
import '../harness.js';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { compressSync, uncompressSync } from 'snappy';
import { defaultsOf } from '../../src/config/index.js';
import { registerPushRoute } from '../../src/distributor/push-http.js';
import type { PushTarget } from '../../src/distributor/push-types.js';
import { MuninnError } from '../../src/errors/index.js';
import type { Ingester } from '../../src/ingester/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import { registerQueryApi } from '../../src/querier/api/routes.js';
import { querierConfig } from '../../src/querier/config.js';
import { Querier } from '../../src/querier/querier.js';
import { decodeWriteRequest, encodeWriteRequest, encodeWriteRequestV2, type HistogramObject, type SeriesObject, isStaleNaN, STALE_NAN_BITS, toObjects, type WriteRequestObject } from '../../src/remotewrite/index.js';
import { WireReader } from '../../src/remotewrite/wire.js';
import { Writer } from '../../src/remotewrite/writer.js';
import { Ring } from '../../src/ring/index.js';
import { HttpServer } from '../../src/server/http.js';
import { newIngester, started, stopped } from '../ingester-helpers.js';
import { MAIN_JS, type Proc, startMuninn, tempDir } from '../proc.js';
import { startTenantProxy } from '../rollout/tenant-proxy.js';
import { withDeadline } from '../util.js';

const run = promisify(execFile);

const A = 'team-a';
const B = 'team-b';
/** 20 minutes ago, on a whole minute: every sample timestamp is a whole number of seconds. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
const T = T0 + 300_000;
const sec = (ms: number): string => String(ms / 1000);

interface Target {
  mode: 'process' | 'in-process';
  /** http://host:port */
  base: string;
  stop(): Promise<void>;
}

let target: Target;
let prefix = '';

function hist(k: number): HistogramObject {
  // schema 0, zero bucket and two positive buckets; integer counts as deltas
  return {
    countInt: 3 + 3 * k, sum: 1.5 * (k + 1), schema: 0, zeroThreshold: 0.001, zeroCountInt: 1 + k,
    positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [1 + k, 0], negativeSpans: [], negativeDeltas: [], resetHint: 0, timestamp: T0 + k * 60_000,
  };
}

function seriesOf(tenant: string): SeriesObject[] {
  const ks = Array.from({ length: 41 }, (_, k) => k);
  if (tenant === B) {
    return [{ labels: ['__name__', 'test_metric', 'job', 'secret'], samples: ks.map((k) => ({ timestamp: T0 + k * 15_000, value: 100 + k })) }];
  }
  return [
    { labels: ['__name__', 'test_metric', 'instance', 'i1', 'job', 'a'], samples: ks.map((k) => ({ timestamp: T0 + k * 15_000, value: k })) },
    { labels: ['__name__', 'test_metric', 'instance', 'i2', 'job', 'a'], samples: ks.map((k) => ({ timestamp: T0 + k * 15_000, value: 2 * k + 0.5 })) },
    {
      labels: ['__name__', 'other_metric', 'job', 'b'],
      samples: [
        { timestamp: T0, value: 1e21 }, { timestamp: T0 + 15_000, value: 1e-7 }, { timestamp: T0 + 30_000, value: -0 },
        { timestamp: T0 + 45_000, value: STALE_NAN_BITS },
      ],
    },
    { labels: ['__name__', 'test_hist', 'job', 'a'], histograms: [0, 1, 2, 3, 4, 5].map(hist) },
  ];
}

async function push(base: string, path: string, tenant: string | null, series: SeriesObject[]): Promise<Response> {
  const body = compressSync(Buffer.from(encodeWriteRequest({ series })));
  const headers: Record<string, string> = { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' };
  if (tenant !== null) headers['X-Scope-OrgID'] = tenant;
  return fetch(`${base}${path}`, { method: 'POST', body, headers });
}

/** Pushes, retrying while the target is not ready to take writes (ring not ACTIVE yet: 5xx). */
async function pushAll(base: string): Promise<void> {
  for (const tenant of [A, B]) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await push(base, '/api/v1/push', tenant, seriesOf(tenant));
      const text = await res.text();
      if (res.status === 200) break;
      if (res.status < 500 || Date.now() > deadline) assert.fail(`push for ${tenant}: ${res.status} ${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---- targets ----------------------------------------------------------------------------------

async function startProcess(): Promise<Target | null> {
  let p: (Proc & { httpPort: number }) | undefined;
  try {
    p = await startMuninn(MAIN_JS, ['-target=all', '-ingester.ring.replication-factor=1', '-ingester.ring.instance-addr=127.0.0.1', '-ingester.native-histograms-ingestion-enabled=true']);
    const base = `http://127.0.0.1:${p.httpPort}`;
    const probe = await fetch(`${base}/prometheus/api/v1/status/buildinfo`);
    await probe.text();
    if (probe.status === 404) {
      p.kill('SIGKILL');
      await p.exited;
      return null; // the querier module does not serve the API yet
    }
    const proc = p;
    return {
      mode: 'process',
      base,
      stop: async () => {
        proc.kill('SIGTERM');
        await withDeadline(proc.exited, 30_000, 'muninn did not exit');
      },
    };
  } catch (e) {
    p?.kill('SIGKILL');
    throw e;
  }
}

async function startInProcess(): Promise<Target> {
  const ing: Ingester = await started(newIngester(tempDir('muninn-query-api-'), (c) => {
    c.limits.nativeHistogramsIngestionEnabled = true;
  }));
  const http = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 5_000 }, silentLogger(), new RequestMetrics(createBareRegistry()));
  const ring = new Ring(
    { instances: { 'ingester-1': { id: 'ingester-1', addr: 'local', zone: '', state: 'ACTIVE', tokens: [1, 2_000_000_000], heartbeatMs: Date.now(), registeredMs: Date.now() } } },
    { replicationFactor: 1, heartbeatTimeoutMs: 0 },
  );
  const querier = new Querier({ config: defaultsOf({ querier: querierConfig }).querier, ring: () => ring, clients: { get: () => ing }, log: silentLogger() });
  querier.startAsync();
  await querier.awaitRunning();
  const tenancy = { multitenancyEnabled: true, noAuthTenant: 'anonymous' };
  registerQueryApi(http, { querier, prefix: '/prometheus', tenancy, buildInfo: () => ({ application: 'Muninn', version: 'test' }), log: silentLogger() });
  const pushTarget: PushTarget = {
    admit: () => ({ addBytes: () => null, release: () => undefined }),
    push: async (tenant, req) => {
      try {
        const r = await ing.push(tenant, req.bytes);
        return { written: { samples: r.accepted, histograms: 0, exemplars: 0 }, error: null };
      } catch (e) {
        return { written: { samples: 0, histograms: 0, exemplars: 0 }, error: e instanceof MuninnError ? e : new MuninnError('internal', String(e)) };
      }
    },
  };
  registerPushRoute(http, pushTarget, { maxRecvMsgSize: 100 << 20, tenancy, log: silentLogger() });
  await http.listen();
  return {
    mode: 'in-process',
    base: `http://127.0.0.1:${http.address().port}`,
    stop: async () => {
      await http.close(1000);
      querier.stopAsync();
      await querier.awaitTerminated();
      await stopped(ing);
    },
  };
}

before(async () => {
  target = (await startProcess()) ?? (await startInProcess());
  prefix = `${target.base}/prometheus`;
  await pushAll(target.base);
});

after(async () => {
  await target?.stop();
});

// ---- helpers ----------------------------------------------------------------------------------

interface Answer {
  status: number;
  type: string;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function get(path: string, tenant: string | null = A, init: RequestInit = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (tenant !== null) headers['X-Scope-OrgID'] = tenant;
  const res = await fetch(`${prefix}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

function q(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

function sortByMetric<T extends { metric: Record<string, string> }>(r: T[]): T[] {
  return [...r].sort((x, y) => JSON.stringify(x.metric).localeCompare(JSON.stringify(y.metric)));
}

// ---- the API ----------------------------------------------------------------------------------

test('instant query: pushed values, Prometheus JSON, tenant isolation', async () => {
  const a = await get(`/api/v1/query?${q({ query: 'test_metric', time: sec(T) })}`);
  assert.equal(a.status, 200, a.text);
  assert.equal(a.type, 'application/json');
  assert.equal(a.json.status, 'success');
  assert.equal(a.json.data.resultType, 'vector');
  assert.deepEqual(sortByMetric(a.json.data.result), [
    { metric: { __name__: 'test_metric', instance: 'i1', job: 'a' }, value: [T / 1000, '20'] },
    { metric: { __name__: 'test_metric', instance: 'i2', job: 'a' }, value: [T / 1000, '40.5'] },
  ]);
  const b = await get(`/api/v1/query?${q({ query: 'test_metric', time: sec(T) })}`, B);
  assert.deepEqual(b.json.data.result, [{ metric: { __name__: 'test_metric', job: 'secret' }, value: [T / 1000, '120'] }]);
  const none = await get(`/api/v1/query?${q({ query: 'test_metric', time: sec(T) })}`, 'team-c');
  assert.deepEqual(none.json, { status: 'success', data: { resultType: 'vector', result: [] } });
  // RFC 3339 time and form POST
  const c = await get('/api/v1/query', A, { method: 'POST', body: q({ query: 'sum(test_metric)', time: new Date(T).toISOString() }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(c.text, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[${T / 1000},"60.5"]}]}}`);
});

test('values keep Prometheus formatting and staleness ends a series', async () => {
  const at = async (ms: number): Promise<unknown> => (await get(`/api/v1/query?${q({ query: 'other_metric', time: sec(ms) })}`)).json.data.result;
  assert.deepEqual(await at(T0), [{ metric: { __name__: 'other_metric', job: 'b' }, value: [T0 / 1000, '1e+21'] }]);
  assert.deepEqual(await at(T0 + 15_000), [{ metric: { __name__: 'other_metric', job: 'b' }, value: [(T0 + 15_000) / 1000, '1e-07'] }]);
  assert.deepEqual(await at(T0 + 30_000), [{ metric: { __name__: 'other_metric', job: 'b' }, value: [(T0 + 30_000) / 1000, '-0'] }]);
  assert.deepEqual(await at(T0 + 50_000), []);
  const s = await get(`/api/v1/query?${q({ query: 'scalar(other_metric)', time: sec(T0) })}`);
  assert.equal(s.text, `{"status":"success","data":{"resultType":"scalar","result":[${T0 / 1000},"1000000000000000000000"]}}`);
});

test('range query: matrix of the pushed samples, rate', async () => {
  const r = await get(`/api/v1/query_range?${q({ query: 'test_metric{instance="i1"}', start: sec(T0), end: sec(T0 + 120_000), step: '30s' })}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.data, {
    resultType: 'matrix',
    result: [{ metric: { __name__: 'test_metric', instance: 'i1', job: 'a' }, values: [0, 1, 2, 3, 4].map((i) => [(T0 + i * 30_000) / 1000, String(2 * i)]) }],
  });
  const rate = await get(`/api/v1/query?${q({ query: 'rate(test_metric{instance="i1"}[1m])', time: sec(T) })}`);
  // 4 samples in (T-1m, T], increase 3 over 45s extrapolated to 1m: 4/60 per second
  assert.deepEqual(rate.json.data.result[0].metric, { instance: 'i1', job: 'a' });
  assert.equal(rate.json.data.result[0].value[0], T / 1000);
  assert.ok(Math.abs(Number(rate.json.data.result[0].value[1]) - 4 / 60) < 1e-12, rate.text);
});

test('native histograms come back in Prometheus\'s histogram JSON', async () => {
  const r = await get(`/api/v1/query?${q({ query: 'test_hist', time: sec(T0 + 60_000) })}`);
  assert.equal(r.status, 200, r.text);
  // k = 1: count 6, sum 3, zero bucket 2, buckets (0.5,1]: 2 and (1,2]: 2
  assert.equal(
    r.text,
    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"test_hist","job":"a"},"histogram":[${(T0 + 60_000) / 1000},` +
      '{"count":"6","sum":"3","buckets":[[3,"-0.001","0.001","2"],[0,"0.5","1","2"],[0,"1","2","2"]]}]}]}}',
  );
});

test('series, labels, label values: per tenant', async () => {
  const s = await get(`/api/v1/series?${q({ 'match[]': 'test_metric' })}`);
  assert.equal(s.text, '{"status":"success","data":[{"__name__":"test_metric","instance":"i1","job":"a"},{"__name__":"test_metric","instance":"i2","job":"a"}]}');
  const sb = await get(`/api/v1/series?${q({ 'match[]': '{__name__=~".+"}' })}`, B);
  assert.deepEqual(sb.json.data, [{ __name__: 'test_metric', job: 'secret' }]);
  assert.deepEqual((await get('/api/v1/labels')).json, { status: 'success', data: ['__name__', 'instance', 'job'] });
  assert.deepEqual((await get('/api/v1/labels', B)).json.data, ['__name__', 'job']);
  assert.deepEqual((await get('/api/v1/label/job/values')).json.data, ['a', 'b']);
  assert.deepEqual((await get('/api/v1/label/__name__/values')).json.data, ['other_metric', 'test_hist', 'test_metric']);
  assert.deepEqual((await get('/api/v1/label/job/values', B)).json.data, ['secret']);
  assert.deepEqual((await get(`/api/v1/label/instance/values?${q({ 'match[]': 'test_metric{instance="i2"}' })}`)).json.data, ['i2']);
  const lim = await get(`/api/v1/label/__name__/values?${q({ limit: '1' })}`);
  assert.deepEqual(lim.json, { status: 'success', data: ['other_metric'], warnings: ['results truncated due to limit'] });
});

test('user stats: the tenant\'s in-memory series through /api/v1/user_stats', async () => {
  const res = await fetch(`${target.base}/api/v1/user_stats`, { headers: { 'X-Scope-OrgID': B } });
  assert.equal(res.status, 200);
  const j = (await res.json()) as { numSeries: number; ingestionRate: number; APIIngestionRate: number; RuleIngestionRate: number };
  assert.equal(j.numSeries, 1);
  assert.ok(j.ingestionRate >= 0 && j.RuleIngestionRate === 0, JSON.stringify(j));
  assert.equal((await get('/api/v1/user_stats', A)).json.numSeries, 4);
});

test('metadata, exemplars, format_query, buildinfo', async () => {
  assert.equal((await get('/api/v1/metadata')).text, '{"status":"success","data":{}}');
  assert.equal((await get(`/api/v1/query_exemplars?${q({ query: 'test_metric', start: sec(T0), end: sec(T) })}`)).text, '{"status":"success","data":[]}');
  assert.equal((await get(`/api/v1/format_query?${q({ query: 'sum(rate(foo[5m]))by(job)' })}`)).json.data, 'sum by (job) (rate(foo[5m]))');
  const bi = await get('/api/v1/status/buildinfo');
  assert.equal(bi.json.status, 'success');
  assert.equal(typeof bi.json.data.version, 'string');
});

test('metric metadata sent with remote write (1.0 and 2.0) comes back from /api/v1/metadata, per tenant', async () => {
  const M = 'team-metadata';
  const v1 = compressSync(Buffer.from(encodeWriteRequest({
    series: [{ labels: ['__name__', 'md_requests_total', 'job', 'x'], samples: [{ timestamp: T, value: 1 }] }],
    metadata: [{ type: 1, metricFamilyName: 'md_requests_total', help: 'Requests <served>.', unit: '' }],
  })));
  const headers = { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'X-Scope-OrgID': M };
  assert.equal((await fetch(`${target.base}/api/v1/push`, { method: 'POST', body: v1, headers })).status, 200);
  const v2 = compressSync(Buffer.from(encodeWriteRequestV2({
    series: [{ labels: ['__name__', 'md_latency_seconds', 'job', 'x'], samples: [{ timestamp: T, value: 0.5 }], metadata: { type: 2, help: 'Latency.', unit: 'seconds' } }],
  })));
  const r2 = await fetch(`${target.base}/api/v1/push`, { method: 'POST', body: v2, headers: { ...headers, 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'X-Prometheus-Remote-Write-Version': '2.0.0' } });
  assert.equal(r2.status, 204, await r2.text());
  const md = await get('/api/v1/metadata', M);
  assert.equal(md.text, '{"status":"success","data":{"md_latency_seconds":[{"type":"gauge","help":"Latency.","unit":"seconds"}],' +
    '"md_requests_total":[{"type":"counter","help":"Requests \\u003cserved\\u003e.","unit":""}]}}');
  assert.deepEqual((await get(`/api/v1/metadata?${q({ metric: 'md_requests_total' })}`, M)).json.data, { md_requests_total: [{ type: 'counter', help: 'Requests <served>.', unit: '' }] });
  // other tenants see none of it
  assert.deepEqual((await get('/api/v1/metadata')).json.data, {});
});

test('error shapes: statuses, types, messages, JSON', async () => {
  const cases: Array<[string, number, string, string]> = [
    [`/api/v1/query_range?${q({ query: 'up', end: '1', step: '1' })}`, 400, 'bad_data', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
    [`/api/v1/query_range?${q({ query: 'up', start: '2', end: '1', step: '1' })}`, 400, 'bad_data', 'invalid parameter "end": end timestamp must not be before start time'],
    [`/api/v1/query_range?${q({ query: 'up', start: '1', end: '2', step: '0' })}`, 400, 'bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    [`/api/v1/query_range?${q({ query: 'up', start: '0', end: '110000', step: '9' })}`, 400, 'bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    [`/api/v1/query?${q({ query: 'sum(rate(x))' })}`, 400, 'bad_data', 'invalid parameter "query": 1:10: parse error: expected type range vector in call to function "rate", got instant vector'],
    [`/api/v1/query?${q({ query: 'up', time: 'yesterday' })}`, 400, 'bad_data', 'invalid parameter "time": Invalid time value for \'time\': cannot parse "yesterday" to a valid timestamp'],
    ['/api/v1/series', 400, 'bad_data', 'no match[] parameter provided'],
    [`/api/v1/query?${q({ query: 'label_replace(test_metric, "instance", "x", "", "")', time: sec(T) })}`, 422, 'execution', 'vector cannot contain metrics with the same labelset'],
  ];
  for (const [path, status, type, msg] of cases) {
    const a = await get(path);
    assert.equal(a.status, status, `${path}: ${a.text}`);
    assert.equal(a.type, 'application/json');
    assert.deepEqual(a.json, { status: 'error', errorType: type, error: msg }, path);
  }
  const noTenant = await get('/api/v1/query?query=up', null);
  assert.equal(noTenant.status, 401);
  assert.equal(noTenant.text, 'no org id\n');
  // the routes are served under the prefix only
  assert.equal((await fetch(`${target.base}/api/v1/query?query=up`, { headers: { 'X-Scope-OrgID': A } })).status, 404);
});

// ---- promtool ---------------------------------------------------------------------------------

/** A proxy adding X-Scope-OrgID (promtool 2.42's `query instant` cannot send headers). */
async function tenantProxy(tenant: string): Promise<{ url: string; close: () => Promise<void> }> {
  const upstream = new URL(target.base);
  const srv: Server = createServer((req, res) => {
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-scope-orgid': tenant } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/prometheus`, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

async function hasBinary(name: string): Promise<boolean> {
  try {
    await run(name, ['--version']);
    return true;
  } catch {
    return false;
  }
}

test('promtool query instant / range / series / labels read the pushed data', async (t) => {
  if (!(await hasBinary('promtool'))) {
    t.skip('promtool is not installed');
    return;
  }
  const proxy = await tenantProxy(A);
  try {
    const inst = await run('promtool', ['query', 'instant', '-o', 'json', `--time=${sec(T)}`, proxy.url, 'test_metric']);
    const v = JSON.parse(inst.stdout) as Array<{ metric: Record<string, string>; value: [number, string] }>;
    assert.deepEqual(sortByMetric(v), [
      { metric: { __name__: 'test_metric', instance: 'i1', job: 'a' }, value: [T / 1000, '20'] },
      { metric: { __name__: 'test_metric', instance: 'i2', job: 'a' }, value: [T / 1000, '40.5'] },
    ]);
    const promql = await run('promtool', ['query', 'instant', `--time=${sec(T)}`, proxy.url, 'test_metric{instance="i1"}']);
    assert.equal(promql.stdout.trim(), `test_metric{instance="i1", job="a"} => 20 @[${T / 1000}]`);
    // range: the tenant as a header, straight to the target
    const range = await run('promtool', [
      'query', 'range', '-o', 'json', `--header=X-Scope-OrgID:${A}`, `--start=${sec(T0)}`, `--end=${sec(T0 + 60_000)}`, '--step=30s', `${target.base}/prometheus`, 'test_metric{instance="i2"}',
    ]);
    assert.deepEqual(JSON.parse(range.stdout), [
      { metric: { __name__: 'test_metric', instance: 'i2', job: 'a' }, values: [[T0 / 1000, '0.5'], [(T0 + 30_000) / 1000, '4.5'], [(T0 + 60_000) / 1000, '8.5']] },
    ]);
    const series = await run('promtool', ['query', 'series', '--match=test_metric', proxy.url]);
    assert.deepEqual(series.stdout.trim().split('\n'), ['{__name__="test_metric", instance="i1", job="a"}', '{__name__="test_metric", instance="i2", job="a"}']);
    const labels = await run('promtool', ['query', 'labels', proxy.url, 'job']);
    assert.deepEqual(labels.stdout.trim().split('\n'), ['a', 'b']);
    // the other tenant through its own proxy sees only its series
    const proxyB = await tenantProxy(B);
    try {
      const other = await run('promtool', ['query', 'instant', '-o', 'json', `--time=${sec(T)}`, proxyB.url, 'test_metric']);
      assert.deepEqual(JSON.parse(other.stdout), [{ metric: { __name__: 'test_metric', job: 'secret' }, value: [T / 1000, '120'] }]);
    } finally {
      await proxyB.close();
    }
  } finally {
    await proxy.close();
  }
});

// ---- a real Prometheus as the reference ----------------------------------------------------------

/** A real Prometheus on loopback with `extraConfig` appended to its YAML; ready when this resolves. */
async function startReferencePrometheus(extraConfig = ''): Promise<{ url: string; stop: () => void }> {
  const dir = tempDir('muninn-prom-ref-');
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(cfg, `global:\n  scrape_interval: 1h\n${extraConfig}`);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn('prometheus', [
    `--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver', '--enable-feature=native-histograms',
  ], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const stop = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await withDeadline((async () => {
      for (;;) {
        try {
          if ((await fetch(`${url}/-/ready`)).status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })(), 30_000, 'prometheus did not become ready');
  } catch (e) {
    stop();
    throw e;
  }
  return { url, stop };
}

test('byte-for-byte the same answers as a real Prometheus for the same data', async (t) => {
  if (!(await hasBinary('prometheus'))) {
    t.skip('prometheus is not installed');
    return;
  }
  const prom = await startReferencePrometheus();
  const ref = prom.url;
  try {
    const res = await push(ref, '/api/v1/write', null, seriesOf(A));
    assert.equal(res.status, 204, await res.text());
    // two metrics that differ only in their names, one after the other (name_a's last sample is
    // out of the lookback window before name_b's first): where a name is dropped, Prometheus
    // (without delayed name removal, the default) merges them per step or fails
    const named = (name: string, from: number): SeriesObject => ({ labels: ['__name__', name, 'job', 'n'], samples: [0, 1, 2].map((k) => ({ timestamp: from + k * 15_000, value: 1000 + 10 * k })) });
    const extra = [named('name_a', T0), named('name_b', T0 + 400_000)];
    assert.equal((await push(ref, '/api/v1/write', null, extra)).status, 204);
    assert.equal((await push(target.base, '/api/v1/push', A, extra)).status, 200);
    const late = T0 + 400_500;
    const range = (query: string): string => `/api/v1/query_range?${q({ query, start: sec(T0 + 500), end: sec(T0 + 430_500), step: '15' })}`;
    const paths = [
      `/api/v1/query?${q({ query: 'test_metric{instance="i1"}', time: sec(T) })}`,
      `/api/v1/query?${q({ query: 'sum(test_metric)', time: sec(T + 1) })}`,
      `/api/v1/query?${q({ query: 'other_metric', time: sec(T0) })}`,
      `/api/v1/query?${q({ query: 'other_metric', time: sec(T0 + 15_000) })}`,
      `/api/v1/query?${q({ query: 'other_metric', time: sec(T0 + 30_000) })}`,
      `/api/v1/query?${q({ query: 'scalar(other_metric)', time: sec(T0) })}`,
      `/api/v1/query?${q({ query: 'scalar(other_metric)', time: sec(T0 + 15_000) })}`,
      `/api/v1/query?${q({ query: '"a<b>&c"', time: '1.5' })}`,
      `/api/v1/query?${q({ query: 'test_hist', time: sec(T0 + 120_500) })}`,
      `/api/v1/query_range?${q({ query: 'test_metric{instance="i2"}', start: sec(T0 + 500), end: sec(T0 + 100_000), step: '10.25' })}`,
      `/api/v1/query_range?${q({ query: 'test_hist', start: sec(T0), end: sec(T0 + 180_000), step: '1m' })}`,
      `/api/v1/series?${q({ 'match[]': 'test_metric' })}`,
      `/api/v1/label/job/values?${q({ 'match[]': 'test_metric' })}`,
      `/api/v1/query_range?${q({ query: 'up', start: '2', end: '1', step: '1' })}`,
      `/api/v1/query_range?${q({ query: 'up', start: '1', end: '2', step: '-5' })}`,
      `/api/v1/query_range?${q({ query: 'up', start: 'x', end: '2', step: '1' })}`,
      `/api/v1/query?${q({ query: 'up', time: '2015-02-30T00:00:00Z' })}`,
      `/api/v1/query?${q({ query: 'up(' })}`,
      `/api/v1/series?${q({ 'match[]': '{a=""}' })}`,
      `/api/v1/label/a-b/values`,
      `/api/v1/query_exemplars?${q({ query: 'test_metric', start: sec(T0), end: sec(T) })}`,
      // name removal (see `extra` above)
      `/api/v1/query?${q({ query: 'abs({job="n"})', time: sec(late) })}`,
      `/api/v1/query?${q({ query: 'label_replace(abs({job="n"}), "was", "$1", "__name__", "(.*)")', time: sec(late) })}`,
      `/api/v1/query?${q({ query: 'label_replace({job="n"}, "was", "$1", "__name__", "(.*)")', time: sec(late) })}`,
      range('{job="n"} * 2'),
      range('abs({job="n"})'),
      range('-{job="n"}'),
      range('sum_over_time({job="n"}[1m])'),
      range('last_over_time({job="n"}[1m])'),
      range('sum by (__name__) ({job="n"} + 1)'),
    ];
    for (const p of paths) {
      const want = await fetch(`${ref}${p}`);
      const wantText = await want.text();
      const got = await get(p);
      assert.equal(got.status, want.status, `${p}\nmuninn: ${got.text}\nprometheus: ${wantText}`);
      assert.equal(got.text, wantText, p);
    }
  } finally {
    prom.stop();
  }
});

test('remote read: a real Prometheus reading Muninn through /prometheus/api/v1/read answers what Muninn answers', async (t) => {
  if (!(await hasBinary('prometheus'))) {
    t.skip('prometheus is not installed');
    return;
  }
  // Debian's Prometheus 2.42 does not send a remote section's `headers:`; the hop adds the tenant
  const proxy = await startTenantProxy(`${target.base}/prometheus/api/v1/read`, A);
  const prom = await startReferencePrometheus(`remote_read:\n  - url: ${proxy.url}\n    read_recent: true\n`);
  try {
    // times half a second off every sample, window edge and step (Prometheus 2.42's windows are
    // closed on the left, 3.x's and Muninn's open), counters read away from their start
    const paths = [
      `/api/v1/query?${q({ query: 'test_metric', time: sec(T + 500) })}`,
      `/api/v1/query?${q({ query: 'other_metric', time: sec(T0 + 15_500) })}`,
      `/api/v1/query?${q({ query: 'other_metric', time: sec(T0 + 50_500) })}`,
      `/api/v1/query?${q({ query: 'count_over_time(other_metric[1m])', time: sec(T0 + 50_500) })}`,
      `/api/v1/query_range?${q({ query: 'test_metric{instance="i2"}', start: sec(T0 + 500), end: sec(T0 + 100_000), step: '10.25' })}`,
      `/api/v1/query_range?${q({ query: 'sum by (job) (rate(test_metric[1m]))', start: sec(T0 + 120_500), end: sec(T0 + 300_500), step: '15' })}`,
      // (no native histograms: Prometheus 2.42's remote-read client keeps only the float samples
      // of an answer; the histogram test below reads Muninn's answer directly)
      `/api/v1/query?${q({ query: 'test_metric{job="secret"}', time: sec(T + 500) })}`,
    ];
    for (const p of paths) {
      const want = await get(p);
      const got = await fetch(`${prom.url}${p}`);
      const gotText = await got.text();
      assert.equal(got.status, want.status, `${p}\nprometheus via remote read: ${gotText}\nmuninn: ${want.text}`);
      assert.deepEqual(JSON.parse(gotText).data, want.json.data, p);
    }
    assert.ok((proxy.statuses['200'] ?? 0) >= paths.length - 1, JSON.stringify(proxy.statuses));
  } finally {
    prom.stop();
    await proxy.close();
  }
});

/** A prometheus.ReadRequest with one query per [start, end, name] (matcher __name__ = name). */
function readRequest(queries: Array<[number, number, string]>): Buffer {
  const w = new Writer();
  for (const [start, end, name] of queries) {
    const qm = w.begin(1);
    w.optInt64(1, start, 'start');
    w.optInt64(2, end, 'end');
    const m = w.begin(3);
    w.string(2, '__name__');
    w.string(3, name);
    w.end(m);
    w.end(qm);
  }
  return compressSync(Buffer.from(w.finish()));
}

/** The query results of a ReadResponse, each decoded as the TimeSeries it holds. */
function readResults(body: Buffer): Array<WriteRequestObject & { decoded: ReturnType<typeof decodeWriteRequest> }> {
  const r = new WireReader(uncompressSync(body, { asBuffer: true }) as Buffer);
  const out: Array<WriteRequestObject & { decoded: ReturnType<typeof decodeWriteRequest> }> = [];
  while (r.pos < r.limit) {
    assert.equal(r.key(), 0x0a, 'ReadResponse.results');
    const n = r.len();
    const decoded = decodeWriteRequest(r.buf.subarray(r.pos, r.pos + n));
    out.push({ ...toObjects(decoded), decoded });
    r.pos += n;
  }
  assert.equal(r.err, null);
  return out;
}

test('remote read answers directly: raw samples with their bits (stale markers), native histograms, several queries, tenants', async () => {
  const res = await fetch(`${target.base}/prometheus/api/v1/read`, {
    method: 'POST',
    body: readRequest([[T0, T0 + 60_000, 'other_metric'], [T0, T0 + 10 * 60_000, 'test_hist'], [T0, T0 + 60_000, 'nope']]),
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Scope-OrgID': A },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-encoding'), 'snappy');
  const [other, hist6, none] = readResults(Buffer.from(await res.arrayBuffer()));
  assert.deepEqual(other!.series?.map((x) => x.labels), [['__name__', 'other_metric', 'job', 'b']]);
  const vals = other!.series![0]!.samples!;
  assert.deepEqual(vals.map((x) => x.timestamp), [T0, T0 + 15_000, T0 + 30_000, T0 + 45_000]);
  assert.equal(vals[0]!.value, 1e21);
  assert.ok(Object.is(vals[2]!.value, -0));
  assert.ok(isStaleNaN(other!.decoded.values, 3), 'the stale marker keeps its bits');
  const hs = hist6!.series![0]!.histograms!;
  assert.deepEqual(hs.map((h) => h.timestamp), [0, 1, 2, 3, 4, 5].map((k) => T0 + k * 60_000));
  assert.deepEqual(hs.map((h) => [h.countFloat, h.sum, h.zeroCountFloat, h.positiveCounts]), [0, 1, 2, 3, 4, 5].map((k) => [3 + 3 * k, 1.5 * (k + 1), 1 + k, [1 + k, 1 + k]]));
  assert.deepEqual(none!.series ?? [], []);
  // tenant B sees its own data only
  const rb = await fetch(`${target.base}/prometheus/api/v1/read`, { method: 'POST', body: readRequest([[T0, T, 'other_metric']]), headers: { 'X-Scope-OrgID': B } });
  assert.deepEqual(readResults(Buffer.from(await rb.arrayBuffer()))[0]!.series ?? [], []);
});

test('remote read: bad requests get 400 with a message; unsupported response types; no tenant 401', async () => {
  const url = `${target.base}/prometheus/api/v1/read`;
  const post = (body: Buffer, tenant: string | null = A): Promise<Response> =>
    fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', ...(tenant !== null ? { 'X-Scope-OrgID': tenant } : {}) } });
  const r1 = await post(compressSync(Buffer.from([0x0a, 0x05, 0x08])));
  assert.equal(r1.status, 400);
  assert.match(await r1.text(), /malformed prometheus.ReadRequest/);
  const r2 = await post(Buffer.from('not snappy'));
  assert.equal(r2.status, 400);
  // accepted_response_types: [STREAMED_XOR_CHUNKS] only
  const r3 = await post(compressSync(Buffer.from([0x12, 0x01, 0x01])));
  assert.equal(r3.status, 400);
  assert.match(await r3.text(), /does not support any of the requested response types/);
  const r4 = await post(compressSync(Buffer.from([])), null);
  assert.equal(r4.status, 401);
  // a query without matchers
  const r5 = await post(compressSync(Buffer.from([0x0a, 0x04, 0x08, 0x01, 0x10, 0x02])));
  assert.equal(r5.status, 400);
  assert.match(await r5.text(), /at least one matcher/);
});

// ---- replicas over gRPC -------------------------------------------------------------------------

test('three ingesters over gRPC (RF 3): replicas merged and deduplicated, histograms and stale markers intact, one ingester down tolerated', async () => {
  const { schema } = await import('../../src/app/config.js');
  const { GrpcServer } = await import('../../src/server/grpc.js');
  const { IngesterClient, ingesterHandlers, ingesterServiceDefinition } = await import('../../src/ingester/index.js');
  const { IngesterQuerier } = await import('../../src/querier/ingester-queryable.js');
  const { isStaleNaN } = await import('../../src/tsdb/chunkenc/index.js');
  const nodes: Array<{ id: string; ing: Ingester; server: InstanceType<typeof GrpcServer>; client: InstanceType<typeof IngesterClient>; addr: string }> = [];
  try {
    for (const id of ['ingester-1', 'ingester-2', 'ingester-3']) {
      const ing = await started(newIngester(tempDir('muninn-query-grpc-'), (c) => {
        c.limits.nativeHistogramsIngestionEnabled = true;
      }));
      const server = new GrpcServer({ ...defaultsOf(schema).server, grpcListenAddress: '127.0.0.1', grpcListenPort: 0 }, silentLogger(), new RequestMetrics(createBareRegistry()));
      server.addService(ingesterServiceDefinition(), ingesterHandlers(ing));
      await server.listen();
      const addr = `127.0.0.1:${server.boundPort()}`;
      nodes.push({ id, ing, server, client: new IngesterClient(addr), addr });
    }
    const instances: Record<string, import('../../src/ring/index.js').InstanceDesc> = {};
    nodes.forEach((n, i) => (instances[n.id] = { id: n.id, addr: n.addr, zone: '', state: 'ACTIVE', tokens: [(i + 1) * 1_000_000], heartbeatMs: Date.now(), registeredMs: 0 }));
    const ring = new Ring({ instances }, { replicationFactor: 3, heartbeatTimeoutMs: 0 });
    const byAddr = new Map(nodes.map((n) => [n.addr, n.client]));
    const querier = new IngesterQuerier({ ring: () => ring, clients: { get: (a) => byAddr.get(a) as InstanceType<typeof IngesterClient> }, log: silentLogger() });
    const labels = ['__name__', 'm', 'job', 'x'];
    const pushTo = async (n: number, samples: Array<{ timestamp: number; value: number | bigint }>, histograms: HistogramObject[] = []): Promise<void> => {
      await nodes[n]!.client.push(A, encodeWriteRequest({ series: [{ labels, samples, histograms }] }));
    };
    // replicas that each missed something, and disagree at T0 + 2s (the first ingester wins)
    await pushTo(0, [{ timestamp: T0, value: 1 }, { timestamp: T0 + 2000, value: 3 }], [hist(0)]);
    await pushTo(1, [{ timestamp: T0, value: 1 }, { timestamp: T0 + 1000, value: 2 }, { timestamp: T0 + 2000, value: 99 }, { timestamp: T0 + 3000, value: STALE_NAN_BITS }], [hist(0), hist(1)]);
    await pushTo(2, [{ timestamp: T0 + 4000, value: 5 }]);
    const read = async (): Promise<import('../../src/promql/value.js').StorageSeries[]> =>
      querier.select(A, [{ type: '=', name: '__name__', value: 'm' }], T0, T0 + 3_600_000, new AbortController().signal);
    const [s] = await read();
    assert.ok(s !== undefined);
    assert.deepEqual(s.labels, labels);
    assert.deepEqual([...s.t], [T0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000]);
    assert.deepEqual([...s.v.subarray(0, 3)], [1, 2, 3]);
    assert.equal(isStaleNaN(s.v[3] as number), true);
    assert.equal(s.v[4], 5);
    // histograms came through gRPC as protobuf objects: same float form as pushed
    assert.deepEqual(s.histograms.map((h) => h.t), [T0, T0 + 60_000]);
    assert.deepEqual(s.histograms[1]!.h, {
      counterResetHint: 0, schema: 0, zeroThreshold: 0.001, zeroCount: 2, count: 6, sum: 3,
      positiveSpans: [{ offset: 0, length: 2 }], negativeSpans: [], positiveBuckets: [2, 2], negativeBuckets: [], customValues: [],
    });
    // one ingester down: its data is missed, the query still answers
    await nodes[2]!.server.shutdown(1000);
    const [s2] = await read();
    assert.deepEqual([...(s2?.t ?? [])], [T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    // two down: a retryable error
    await nodes[1]!.server.shutdown(1000);
    await assert.rejects(read(), (e: unknown) => e instanceof MuninnError && e.code === 'unavailable');
  } finally {
    for (const n of nodes) {
      n.client.close();
      await n.server.shutdown(1000);
      await stopped(n.ing);
    }
  }
});

test('target', (t) => {
  t.diagnostic(`served by: ${target.mode}`);
});
