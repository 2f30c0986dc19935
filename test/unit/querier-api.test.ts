// The query API over HTTP with a scripted engine and fake ingesters: routes and prefix, tenancy,
// parameter validation with Prometheus's messages, error types and statuses, limits and
// annotations, timeouts and cancellation, and the metadata endpoints.
import '../harness.js';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { MuninnError } from '../../src/errors/index.js';
import type { IngesterApi, MatcherSpec, PushResult, QueryParams, StreamSeries, TimeRange, UserStats } from '../../src/ingester/api.js';
import type { MetricMetadata } from '../../src/ingester/metadata.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import { PromQLError, type EngineOptions, type QueryResult } from '../../src/promql/engine/api.js';
import type { Queryable, QueryValue } from '../../src/promql/value.js';
import { registerQueryApi } from '../../src/querier/api/routes.js';
import { type QuerierConfig, querierConfig } from '../../src/querier/config.js';
import { defaultsOf } from '../../src/config/index.js';
import { Querier, type QueryEngine } from '../../src/querier/querier.js';
import { type InstanceDesc, Ring } from '../../src/ring/index.js';
import { HttpServer } from '../../src/server/http.js';

const NOW = 1_700_000_000_000;

// ---- a scripted engine ------------------------------------------------------------------------

interface EngineCall {
  kind: 'instant' | 'range';
  query: string;
  start: number;
  end: number;
  step: number;
  opts: EngineOptions;
  signal: AbortSignal | undefined;
  queryable: Queryable;
}

let calls: EngineCall[] = [];
/** What the engine does with a query (default: an empty vector). */
let script: (c: EngineCall) => Promise<QueryResult> = async () => ({ value: { type: 'vector', value: [] }, annotations: { warnings: [], infos: [] } });

class ScriptedEngine implements QueryEngine {
  constructor(readonly opts: EngineOptions) {}
  instantQuery(q: Queryable, query: string, timeMs: number, signal?: AbortSignal): Promise<QueryResult> {
    const c: EngineCall = { kind: 'instant', query, start: timeMs, end: timeMs, step: 0, opts: this.opts, signal, queryable: q };
    calls.push(c);
    return script(c);
  }
  rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryResult> {
    const c: EngineCall = { kind: 'range', query, start: startMs, end: endMs, step: stepMs, opts: this.opts, signal, queryable: q };
    calls.push(c);
    return script(c);
  }
}

const result = (value: QueryValue, warnings: string[] = [], infos: string[] = []): QueryResult => ({ value, annotations: { warnings, infos } });

// ---- fake ingesters ---------------------------------------------------------------------------

const SERIES: Record<string, string[][]> = {
  t1: [['__name__', 'up', 'job', 'a'], ['__name__', 'up', 'job', 'b'], ['__name__', 'http_requests_total', 'code', '200', 'job', 'a'], ['__name__', 'x', 'http.status', '404']],
  t2: [['__name__', 'secret', 'job', 'z']],
};

function matches(ls: string[], ms: MatcherSpec[]): boolean {
  return ms.every((m) => {
    const i = ls.indexOf(m.name);
    const v = i >= 0 && i % 2 === 0 ? (ls[i + 1] as string) : '';
    const re = (): boolean => new RegExp(`^(?:${m.value})$`).test(v);
    return m.type === '=' ? v === m.value : m.type === '!=' ? v !== m.value : m.type === '=~' ? re() : !re();
  });
}

const seen: Array<{ op: string; tenant: string }> = [];

const METADATA: Record<string, MetricMetadata[]> = {
  t1: [
    { metric: 'a_total', type: 'counter', help: 'A.', unit: '' },
    { metric: 'b_seconds', type: 'histogram', help: 'B one.', unit: 'seconds' },
    { metric: 'b_seconds', type: 'histogram', help: 'B two.', unit: 'seconds' },
    { metric: 'c', type: 'gauge', help: 'C "quoted" <&>.', unit: '' },
  ],
};

const fakeIngester: IngesterApi = {
  push: (): Promise<PushResult> => Promise.reject(new Error('unused')),
  async *queryStream(tenant: string, q: QueryParams): AsyncIterable<StreamSeries[]> {
    seen.push({ op: 'queryStream', tenant });
    const t = new Float64Array([NOW - 1000]);
    const v = new Float64Array([1]);
    yield (SERIES[tenant] ?? []).filter((ls) => matches(ls, q.matchers)).map((labels) => ({ labels, chunks: [], samples: { t, v }, histograms: [] }));
  },
  async labelNames(tenant: string, q: TimeRange & { matchers: MatcherSpec[] }): Promise<string[]> {
    seen.push({ op: 'labelNames', tenant });
    const s = new Set<string>();
    for (const ls of SERIES[tenant] ?? []) if (matches(ls, q.matchers)) for (let i = 0; i < ls.length; i += 2) s.add(ls[i] as string);
    return [...s].sort();
  },
  async labelValues(tenant: string, name: string, q: TimeRange & { matchers: MatcherSpec[] }): Promise<string[]> {
    seen.push({ op: 'labelValues', tenant });
    const s = new Set<string>();
    for (const ls of SERIES[tenant] ?? []) {
      const i = ls.indexOf(name);
      if (i >= 0 && i % 2 === 0 && matches(ls, q.matchers)) s.add(ls[i + 1] as string);
    }
    return [...s].sort();
  },
  async series(tenant: string, q: TimeRange & { matcherSets: MatcherSpec[][] }): Promise<string[][]> {
    seen.push({ op: 'series', tenant });
    return (SERIES[tenant] ?? []).filter((ls) => q.matcherSets.some((m) => matches(ls, m)));
  },
  async metricsMetadata(tenant: string): Promise<MetricMetadata[]> {
    seen.push({ op: 'metricsMetadata', tenant });
    return METADATA[tenant] ?? [];
  },
  userStats: (tenant: string): Promise<UserStats> => Promise.resolve(tenant === 't1' ? { ingestionRate: 2.5, numSeries: 7 } : { ingestionRate: 0, numSeries: 0 }),
};

// ---- the server -------------------------------------------------------------------------------

let server: HttpServer;
let querier: Querier;
let base = '';

function newRing(): Ring {
  const i: InstanceDesc = { id: 'i1', addr: 'i1:9095', zone: '', state: 'ACTIVE', tokens: [1], heartbeatMs: NOW, registeredMs: 0 };
  return new Ring({ instances: { i1: i } }, { replicationFactor: 1, heartbeatTimeoutMs: 0 });
}

function config(): QuerierConfig {
  return defaultsOf({ querier: querierConfig }).querier;
}

before(async () => {
  server = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 5_000 }, silentLogger(), new RequestMetrics(createBareRegistry()));
  querier = new Querier({ config: config(), ring: newRing, clients: { get: () => fakeIngester }, engine: (o) => new ScriptedEngine(o), log: silentLogger() });
  registerQueryApi(server, {
    querier,
    prefix: '/prometheus',
    tenancy: { multitenancyEnabled: true, noAuthTenant: 'anonymous' },
    buildInfo: () => ({ version: '1.2.3', revision: 'abc' }),
    log: silentLogger(),
    now: () => NOW,
  });
  await server.listen();
  base = `http://127.0.0.1:${server.address().port}`;
  querier.startAsync();
  await querier.awaitRunning();
});

after(async () => {
  querier.stopAsync();
  await querier.awaitTerminated();
  await server.close(1000);
});

interface Answer {
  status: number;
  type: string;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(path: string, opts: { method?: string; form?: Record<string, string | string[]>; tenant?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.tenant !== null) headers['X-Scope-OrgID'] = opts.tenant ?? 't1';
  let body: string | undefined;
  if (opts.form !== undefined) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
    body = p.toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(`${base}${path}`, { method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

function reset(): void {
  calls = [];
  seen.length = 0;
  script = async () => result({ type: 'vector', value: [] });
}

async function badData(path: string, message: string, form?: Record<string, string | string[]>): Promise<void> {
  const a = await call(path, form !== undefined ? { form } : {});
  assert.equal(a.status, 400, `${path}: ${a.text}`);
  assert.equal(a.type, 'application/json');
  assert.deepEqual(a.json, { status: 'error', errorType: 'bad_data', error: message }, path);
}

// ---- tests ------------------------------------------------------------------------------------

test('routes live under the prefix only; GET and form POST; label values GET only', async () => {
  reset();
  assert.equal((await call('/api/v1/query?query=up')).status, 404);
  const a = await call('/prometheus/api/v1/query?query=up&time=1.5');
  assert.equal(a.status, 200);
  assert.equal(a.type, 'application/json');
  assert.equal(a.text, '{"status":"success","data":{"resultType":"vector","result":[]}}');
  const b = await call('/prometheus/api/v1/query', { form: { query: 'up', time: '2' } });
  assert.equal(b.status, 200);
  assert.deepEqual(calls.map((c) => [c.kind, c.query, c.start]), [['instant', 'up', 1500], ['instant', 'up', 2000]]);
  assert.equal((await call('/prometheus/api/v1/label/job/values', { form: { x: '1' } })).status, 405);
  // POST body wins over the URL
  await call('/prometheus/api/v1/query?query=down&time=5', { form: { query: 'up' } });
  assert.deepEqual([calls[2]?.query, calls[2]?.start], ['up', 5000]);
});

test('tenancy: no org id is 401, several are 400, plain text as Mimir; each tenant reads only its own', async () => {
  reset();
  const none = await call('/prometheus/api/v1/query?query=up', { tenant: null });
  assert.equal(none.status, 401);
  assert.equal(none.text, 'no org id\n');
  const many = await call('/prometheus/api/v1/query?query=up', { tenant: 't1|t2' });
  assert.equal(many.status, 400);
  assert.equal(many.text, 'multiple org IDs present\n');
  assert.equal(calls.length, 0);
  const s1 = await call(`/prometheus/api/v1/series?match[]=${encodeURIComponent('{job=~".+"}')}`, { tenant: 't2' });
  assert.deepEqual(s1.json.data, [{ __name__: 'secret', job: 'z' }]);
  script = async (c) => {
    const series = await c.queryable.select([{ type: '=~', name: '__name__', value: '.+' }], 0, NOW, c.signal ?? new AbortController().signal);
    return result({ type: 'vector', value: series.map((s) => ({ metric: s.labels, t: c.start, f: s.v[0] as number, h: null })) });
  };
  const q = await call('/prometheus/api/v1/query?query=x&time=1', { tenant: 't2' });
  assert.equal(q.text, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"secret","job":"z"},"value":[1,"1"]}]}}');
  assert.ok(seen.every((s) => s.tenant === 't2'));
});

test('/api/v1/user_stats (prefixed and at the root): Mimir\'s JSON for the tenant', async () => {
  reset();
  const want = '{"ingestionRate":2.5,"numSeries":7,"APIIngestionRate":2.5,"RuleIngestionRate":0}';
  const a = await call('/prometheus/api/v1/user_stats');
  assert.equal(a.status, 200);
  assert.equal(a.text, want);
  assert.equal((await call('/api/v1/user_stats')).text, want);
  assert.equal((await call('/api/v1/user_stats', { tenant: 't2' })).text, '{"ingestionRate":0,"numSeries":0,"APIIngestionRate":0,"RuleIngestionRate":0}');
  assert.equal((await call('/api/v1/user_stats', { tenant: null })).status, 401);
});

test('a querier that is not Running answers 503 unavailable', async () => {
  const q = new Querier({ config: config(), ring: newRing, clients: { get: () => fakeIngester }, engine: (o) => new ScriptedEngine(o), log: silentLogger() });
  const s = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 5_000 }, silentLogger(), new RequestMetrics(createBareRegistry()));
  registerQueryApi(s, { querier: q, prefix: '', tenancy: { multitenancyEnabled: false, noAuthTenant: 'anonymous' }, buildInfo: () => ({}), log: silentLogger() });
  await s.listen();
  try {
    const res = await fetch(`http://127.0.0.1:${s.address().port}/api/v1/query?query=up`);
    assert.equal(res.status, 503);
    const j = (await res.json()) as { status: string; errorType: string };
    assert.equal(j.status, 'error');
    assert.equal(j.errorType, 'unavailable');
    // without a prefix, buildinfo is left to the root route every target serves
    assert.equal((await fetch(`http://127.0.0.1:${s.address().port}/api/v1/status/buildinfo`)).status, 404);
  } finally {
    await s.close(1000);
  }
});

test('instant query parameters: Prometheus\'s messages', async () => {
  reset();
  await badData('/prometheus/api/v1/query?query=up&time=abc', 'invalid parameter "time": Invalid time value for \'time\': cannot parse "abc" to a valid timestamp');
  await badData('/prometheus/api/v1/query?query=up&limit=x', 'invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax');
  await badData('/prometheus/api/v1/query?query=up&timeout=abc', 'invalid parameter "timeout": cannot parse "abc" to a valid duration');
  await badData('/prometheus/api/v1/query?query=up&lookback_delta=abc', 'error parsing lookback delta duration: cannot parse "abc" to a valid duration');
  // Prometheus 3's position text for an empty query (2.x wrote "1:1")
  await badData('/prometheus/api/v1/query?query=', 'invalid parameter "query": unknown position: parse error: no expression found in input');
  await badData('/prometheus/api/v1/query?query=up(', 'invalid parameter "query": 1:4: parse error: unclosed left parenthesis');
  assert.equal(calls.length, 0);
  // time defaults to now
  await call('/prometheus/api/v1/query?query=up');
  assert.equal(calls[0]?.start, NOW);
  await call('/prometheus/api/v1/query?query=up&time=2015-07-01T20:10:51.781Z');
  assert.equal(calls[1]?.start, 1435781451781);
});

test('range query parameters: Prometheus\'s messages and order', async () => {
  reset();
  const R = '/prometheus/api/v1/query_range?query=up';
  await badData(R, 'invalid parameter "start": cannot parse "" to a valid timestamp');
  await badData(`${R}&start=abc&end=1&step=1`, 'invalid parameter "start": cannot parse "abc" to a valid timestamp');
  await badData(`${R}&start=1&end=x&step=1`, 'invalid parameter "end": cannot parse "x" to a valid timestamp');
  await badData(`${R}&start=2&end=1&step=1`, 'invalid parameter "end": end timestamp must not be before start time');
  await badData(`${R}&start=1&end=2`, 'invalid parameter "step": cannot parse "" to a valid duration');
  await badData(`${R}&start=1&end=2&step=0`, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  await badData(`${R}&start=1&end=2&step=-1`, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  await badData(`${R}&start=1&end=2&step=NaN`, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  await badData(`${R}&start=1&end=2&step=1h2`, 'invalid parameter "step": cannot parse "1h2" to a valid duration');
  await badData(`${R}&start=0&end=11001&step=1`, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  await badData(`${R}&start=1&end=2&step=1&timeout=x`, 'invalid parameter "timeout": cannot parse "x" to a valid duration');
  await badData('/prometheus/api/v1/query_range?query=up(&start=1&end=2&step=1', 'invalid parameter "query": 1:4: parse error: unclosed left parenthesis');
  assert.equal(calls.length, 0);
  script = async () => result({ type: 'matrix', value: [{ metric: ['__name__', 'up'], floats: [{ t: 0, f: 1 }, { t: 11_000_000, f: 2 }], histograms: [] }] });
  const ok = await call(`${R}&start=0&end=11000&step=1`);
  assert.equal(ok.text, '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[0,"1"],[11000,"2"]]}]}}');
  await call(`${R}&start=2015-07-01T20:10:30.781Z&end=2015-07-01T20:11:00.781Z&step=15s`);
  await call(`${R}&start=1&end=2&step=0.5`);
  assert.deepEqual(calls.map((c) => [c.start, c.end, c.step]), [[0, 11_000_000, 1000], [1435781430781, 1435781460781, 15_000], [1000, 2000, 500]]);
});

test('engine errors become Prometheus error types and statuses', async () => {
  reset();
  const cases: Array<[unknown, number, string, string]> = [
    [new PromQLError('execution', 'vector cannot contain metrics with the same labelset'), 422, 'execution', 'vector cannot contain metrics with the same labelset'],
    [new PromQLError('bad_data', 'invalid expression type "range vector" for range query, must be Scalar or instant Vector'), 400, 'bad_data', 'invalid expression type "range vector" for range query, must be Scalar or instant Vector'],
    [new PromQLError('timeout', 'query timed out in expression evaluation'), 503, 'timeout', 'query timed out in expression evaluation'],
    [new PromQLError('internal', 'boom'), 500, 'internal', 'boom'],
    [new MuninnError('unavailable', 'too many unhealthy instances in the ring'), 503, 'unavailable', 'too many unhealthy instances in the ring'],
    [new Error('unexpected'), 500, 'internal', 'unexpected'],
  ];
  for (const [err, status, type, msg] of cases) {
    script = () => Promise.reject(err);
    const a = await call('/prometheus/api/v1/query?query=up');
    assert.equal(a.status, status, msg);
    assert.equal(a.type, 'application/json');
    assert.deepEqual(a.json, { status: 'error', errorType: type, error: msg });
  }
});

test('limit truncates vectors and matrices with a warning; annotations are capped at 10', async () => {
  reset();
  const vec: QueryValue = { type: 'vector', value: [1, 2, 3].map((i) => ({ metric: ['__name__', 'm', 'i', String(i)], t: 1000, f: i, h: null })) };
  script = async () => result(vec, ['w1'], ['i1']);
  const a = await call('/prometheus/api/v1/query?query=m&limit=2');
  assert.equal(a.json.data.result.length, 2);
  assert.deepEqual(a.json.warnings, ['w1', 'results truncated due to limit']);
  assert.deepEqual(a.json.infos, ['i1']);
  const b = await call('/prometheus/api/v1/query?query=m&limit=3');
  assert.equal(b.json.data.result.length, 3);
  assert.deepEqual(b.json.warnings, ['w1']);
  script = async () => result({ type: 'scalar', value: { t: 1000, v: 1 } }, Array.from({ length: 13 }, (_, i) => `w${i}`));
  const c = await call('/prometheus/api/v1/query?query=1&limit=1');
  assert.equal(c.json.data.resultType, 'scalar');
  assert.equal(c.json.warnings.length, 11);
  assert.equal(c.json.warnings[10], '3 more warning annotations omitted');
  assert.equal(c.json.infos, undefined);
});

test('timeout parameter: a query past its deadline is a 503 timeout and its signal is aborted', async () => {
  reset();
  let sawAbort = false;
  script = (c) => new Promise((_, reject) => {
    c.signal?.addEventListener('abort', () => {
      sawAbort = true;
      reject(new PromQLError('canceled', 'query was canceled in expression evaluation'));
    }, { once: true });
  });
  const t0 = Date.now();
  const a = await call('/prometheus/api/v1/query?query=up&timeout=50ms');
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(a.status, 503);
  assert.deepEqual(a.json, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
  assert.ok(sawAbort);
  // the engine is built with the shorter timeout; a longer one is capped at -querier.timeout
  assert.equal(calls[0]?.opts.timeoutMs, 50);
  script = async () => result({ type: 'vector', value: [] });
  await call('/prometheus/api/v1/query?query=up&timeout=1h');
  assert.equal(calls[1]?.opts.timeoutMs, 120_000);
  await call('/prometheus/api/v1/query?query=up&lookback_delta=1m');
  assert.equal(calls[2]?.opts.lookbackDeltaMs, 60_000);
  await call('/prometheus/api/v1/query?query=up');
  assert.equal(calls[3]?.opts.lookbackDeltaMs, 300_000);
  assert.equal(calls[3]?.opts.maxSamples, 50_000_000);
});

test('a client that goes away cancels the query', async () => {
  reset();
  let aborted: (() => void) | undefined;
  const sawAbort = new Promise<void>((r) => (aborted = r));
  let started: (() => void) | undefined;
  const running = new Promise<void>((r) => (started = r));
  script = (c) => new Promise((_, reject) => {
    started?.();
    c.signal?.addEventListener('abort', () => {
      aborted?.();
      reject(new PromQLError('canceled', 'query was canceled in expression evaluation'));
    }, { once: true });
  });
  const req = request(`${base}/prometheus/api/v1/query?query=up`, { headers: { 'X-Scope-OrgID': 't1' } });
  req.on('error', () => undefined);
  req.end();
  await running;
  req.destroy();
  await sawAbort;
});

test('series: match[] required and validated; sorted; limit', async () => {
  reset();
  await badData('/prometheus/api/v1/series', 'no match[] parameter provided');
  await badData(`/prometheus/api/v1/series?match[]=${encodeURIComponent('rate(x[5m])')}`, 'invalid parameter "match[]": 1:5: parse error: unexpected "("');
  await badData(`/prometheus/api/v1/series?match[]=${encodeURIComponent('up offset 5m')}`, 'invalid parameter "match[]": 1:4: parse error: unexpected <offset>');
  await badData('/prometheus/api/v1/series?match[]={a=""}', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher');
  await badData('/prometheus/api/v1/series?match[]=up&start=abc', 'invalid parameter "start": Invalid time value for \'start\': cannot parse "abc" to a valid timestamp');
  await badData('/prometheus/api/v1/series?match[]=up&limit=-2', 'invalid parameter "limit": limit must be non-negative');
  const a = await call('/prometheus/api/v1/series?match[]=up&match[]=http_requests_total');
  assert.equal(a.text, '{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"a"},{"__name__":"up","job":"a"},{"__name__":"up","job":"b"}]}');
  const b = await call('/prometheus/api/v1/series', { form: { 'match[]': ['up', 'http_requests_total'], limit: '1' } });
  assert.deepEqual(b.json, { status: 'success', data: [{ __name__: 'http_requests_total', code: '200', job: 'a' }], warnings: ['results truncated due to limit'] });
});

test('labels and label values: union over match[], sorted, limit; U__ names; invalid names', async () => {
  reset();
  assert.deepEqual((await call('/prometheus/api/v1/labels')).json, { status: 'success', data: ['__name__', 'code', 'http.status', 'job'] });
  assert.deepEqual((await call('/prometheus/api/v1/labels?match[]=up')).json.data, ['__name__', 'job']);
  assert.deepEqual((await call('/prometheus/api/v1/labels', { form: { 'match[]': ['up', 'http_requests_total'] } })).json.data, ['__name__', 'code', 'job']);
  assert.deepEqual((await call('/prometheus/api/v1/labels?limit=1')).json, { status: 'success', data: ['__name__'], warnings: ['results truncated due to limit'] });
  assert.deepEqual((await call('/prometheus/api/v1/label/job/values')).json.data, ['a', 'b']);
  assert.deepEqual((await call('/prometheus/api/v1/label/job/values?match[]=up{job="b"}')).json.data, ['b']);
  assert.deepEqual((await call('/prometheus/api/v1/label/__name__/values?limit=2')).json, { status: 'success', data: ['http_requests_total', 'up'], warnings: ['results truncated due to limit'] });
  await badData('/prometheus/api/v1/label/a-b/values', 'invalid label name: "a-b"');
  // U__ escaping (legacy names: the unescaped "http.status" is still refused)
  await badData('/prometheus/api/v1/label/U__http_2e_status/values', 'invalid label name: "http.status"');
  assert.deepEqual((await call('/prometheus/api/v1/label/U__job/values')).json.data, ['a', 'b']);
  assert.deepEqual((await call('/prometheus/api/v1/label/nope/values')).json, { status: 'success', data: [] });
  await badData('/prometheus/api/v1/labels?match[]={x=~".*"}', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher');
  await badData('/prometheus/api/v1/labels?end=xyz', 'invalid parameter "end": Invalid time value for \'end\': cannot parse "xyz" to a valid timestamp');
});

test('metadata, exemplars, format_query, buildinfo', async () => {
  reset();
  const md = async (qs: string): Promise<string> => (await call(`/prometheus/api/v1/metadata${qs}`)).text;
  assert.equal(await md(''), '{"status":"success","data":{"a_total":[{"type":"counter","help":"A.","unit":""}],' +
    '"b_seconds":[{"type":"histogram","help":"B one.","unit":"seconds"},{"type":"histogram","help":"B two.","unit":"seconds"}],' +
    '"c":[{"type":"gauge","help":"C \\"quoted\\" \\u003c\\u0026\\u003e.","unit":""}]}}');
  assert.deepEqual(Object.keys((await call('/prometheus/api/v1/metadata?limit=2')).json.data), ['a_total', 'b_seconds']);
  assert.deepEqual((await call('/prometheus/api/v1/metadata?limit=0')).json.data, {});
  assert.deepEqual(Object.keys((await call('/prometheus/api/v1/metadata?limit=-1')).json.data), ['a_total', 'b_seconds', 'c']);
  assert.deepEqual((await call('/prometheus/api/v1/metadata?limit_per_metric=1&metric=b_seconds')).json.data, { b_seconds: [{ type: 'histogram', help: 'B one.', unit: 'seconds' }] });
  assert.deepEqual((await call('/prometheus/api/v1/metadata?metric=nope')).json.data, {});
  assert.deepEqual((await call('/prometheus/api/v1/metadata', { tenant: 't2' })).json.data, {});
  await badData('/prometheus/api/v1/metadata?limit=x', 'limit must be a number');
  await badData('/prometheus/api/v1/metadata?limit_per_metric=x', 'limit_per_metric must be a number');
  assert.equal((await call('/prometheus/api/v1/query_exemplars?query=up')).text, '{"status":"success","data":[]}');
  const none = await call('/prometheus/api/v1/query_exemplars?query=1');
  assert.equal(none.status, 204);
  assert.equal(none.text, '');
  await badData('/prometheus/api/v1/query_exemplars?query=up&start=2&end=1', 'end timestamp must not be before start timestamp');
  await badData('/prometheus/api/v1/query_exemplars?query=up(', '1:4: parse error: unclosed left parenthesis');
  assert.equal((await call('/prometheus/api/v1/format_query?query=foo/bar', { tenant: null })).text, '{"status":"success","data":"foo / bar"}');
  await badData('/prometheus/api/v1/format_query?query=foo/', 'invalid parameter "query": 1:5: parse error: unexpected end of input');
  const bi = await call('/prometheus/api/v1/status/buildinfo', { tenant: null });
  assert.deepEqual(bi.json, { status: 'success', data: { version: '1.2.3', revision: 'abc' } });
});

test('POST bodies over 10 MiB are refused', async () => {
  reset();
  const a = await call('/prometheus/api/v1/query', { form: { query: 'x'.repeat((10 << 20) + 10) } });
  assert.equal(a.status, 400);
  assert.deepEqual(a.json, { status: 'error', errorType: 'bad_data', error: 'error parsing form values: http: POST too large' });
});

test('timeout=0 and negative timeouts fail at once as Prometheus does; sub-millisecond steps are refused', async () => {
  reset();
  assert.deepEqual((await call('/prometheus/api/v1/query?query=up&timeout=0')).json, { status: 'error', errorType: 'timeout', error: 'query timed out in query queue' });
  assert.deepEqual((await call('/prometheus/api/v1/query?query=up&timeout=-1')).json, { status: 'error', errorType: 'timeout', error: 'query timed out in query execution' });
  await badData('/prometheus/api/v1/query_range?query=up&start=0&end=0.001&step=0.0005', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  await call('/prometheus/api/v1/query_range?query=up&start=0&end=1&step=0.0015');
  assert.deepEqual(calls.map((c) => c.step), [1]);
});

test('metadata reads run under -querier.timeout: a hung ingester is a 503 timeout, and its call is cancelled', async () => {
  let cancelled = 0;
  const hung: IngesterApi = {
    ...fakeIngester,
    series: (_t, _q, signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => {
      cancelled++;
      reject(new MuninnError('canceled', 'call canceled'));
    }, { once: true })),
  };
  const q = new Querier({ config: { ...config(), timeout: 50 }, ring: newRing, clients: { get: () => hung }, engine: (o) => new ScriptedEngine(o), log: silentLogger() });
  const s = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 5_000 }, silentLogger(), new RequestMetrics(createBareRegistry()));
  registerQueryApi(s, { querier: q, prefix: '/p', tenancy: { multitenancyEnabled: false, noAuthTenant: 'anonymous' }, buildInfo: () => ({}), log: silentLogger() });
  await s.listen();
  q.startAsync();
  await q.awaitRunning();
  try {
    const res = await fetch(`http://127.0.0.1:${s.address().port}/p/api/v1/series?match[]=up`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'error', errorType: 'timeout', error: 'query timed out in query execution' });
    assert.equal(cancelled, 1);
  } finally {
    q.stopAsync();
    await q.awaitTerminated();
    await s.close(1000);
  }
});

test('-querier.enable-delayed-name-removal reaches the engine (off by default, as in Prometheus and Mimir)', () => {
  const seenOpts: EngineOptions[] = [];
  const make = (c: QuerierConfig): Querier => new Querier({ config: c, ring: newRing, clients: { get: () => fakeIngester }, engine: (o) => {
    seenOpts.push(o);
    return new ScriptedEngine(o);
  }, log: silentLogger() });
  make(config()).engine();
  make({ ...config(), enableDelayedNameRemoval: true }).engine();
  assert.deepEqual(seenOpts.map((o) => o.enableDelayedNameRemoval), [false, true]);
  assert.equal(config().enableDelayedNameRemoval, false);
  // per tenant (runtime overrides): each tenant's own engine
  seenOpts.length = 0;
  const q = new Querier({ config: config(), ring: newRing, clients: { get: () => fakeIngester }, engine: (o) => {
    seenOpts.push(o);
    return new ScriptedEngine(o);
  }, log: silentLogger(), tenantLimits: (t) => ({ maxQueryLookback: 0, enableDelayedNameRemoval: t === 'delayed' }) });
  q.engine({ tenant: 'delayed' });
  q.engine({ tenant: 'other' });
  q.engine({ tenant: 'delayed' });
  assert.deepEqual(seenOpts.map((o) => o.enableDelayedNameRemoval), [true, false]);
});
