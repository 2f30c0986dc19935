// The HTTP and gRPC servers on their own: errors to statuses, running-state guards, timeouts,
// bounded drain with a count of what was cut, request metrics.
import '../harness.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { schema } from '../../src/app/config.js';
import { defaultsOf } from '../../src/config/index.js';
import { MuninnError, UnavailableError } from '../../src/errors/index.js';
import { BasicService } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import { GrpcServer } from '../../src/server/grpc.js';
import { grpcUnaryWhenRunning, httpWhenRunning } from '../../src/server/guard.js';
import { HttpServer, sendText } from '../../src/server/http.js';
import { routeName } from '../../src/server/router.js';
import { SLOW_SERVICE, SlowClientCtor } from '../fixtures/slow-service.js';
import { withDeadline } from '../util.js';

function newHttp(over: Partial<{ writeTimeoutMs: number }> = {}): { server: HttpServer; registry: ReturnType<typeof createBareRegistry> } {
  const registry = createBareRegistry();
  const server = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: over.writeTimeoutMs ?? 120_000, idleTimeoutMs: 120_000 },
    silentLogger(), new RequestMetrics(registry));
  return { server, registry };
}

test('route names follow Mimir', () => {
  assert.equal(routeName('/api/v1/push'), 'api_v1_push');
  assert.equal(routeName('/ready'), 'ready');
  assert.equal(routeName('/ingester/tsdb/:tenant'), 'ingester_tsdb_tenant');
  assert.equal(routeName('/'), 'root');
});

test('handler errors map to statuses; a 5xx for retryable errors, never a 4xx', async () => {
  const { server } = newHttp();
  server.route('GET', '/unavailable', () => {
    throw new UnavailableError('not now');
  });
  server.route('GET', '/bad', async () => {
    throw new MuninnError('bad_data', 'bad series');
  });
  server.route('GET', '/bug', async () => {
    throw new TypeError('oops');
  });
  server.route('GET', '/p/:name/*', (_req, res, ctx) => sendText(res, 200, `${ctx.params.name}|${ctx.params['*']}`));
  await server.listen();
  const base = `http://127.0.0.1:${server.address().port}`;
  assert.equal((await fetch(`${base}/unavailable`)).status, 503);
  const bad = await fetch(`${base}/bad`);
  assert.equal(bad.status, 400);
  assert.equal(await bad.text(), 'bad series\n');
  assert.equal((await fetch(`${base}/bug`)).status, 500);
  assert.equal(await (await fetch(`${base}/p/a%20b/x/y`)).text(), 'a b|x/y');
  await server.close(1000);
});

test('the HTTP guard answers 503 unless the service is Running', async () => {
  const { server } = newHttp();
  const svc = new BasicService('ingester');
  server.route('GET', '/x', httpWhenRunning(svc, (_req, res) => sendText(res, 200, 'ok')));
  await server.listen();
  const url = `http://127.0.0.1:${server.address().port}/x`;
  const before = await fetch(url);
  assert.equal(before.status, 503);
  assert.match(await before.text(), /ingester is not running \(state New\)/);
  svc.startAsync();
  await svc.awaitRunning();
  assert.equal((await fetch(url)).status, 200);
  svc.stopAsync();
  await svc.awaitTerminated();
  assert.equal((await fetch(url)).status, 503);
  await server.close(1000);
});

test('close() drains in-flight requests, then cuts what outlives the deadline and counts it', async () => {
  const { server } = newHttp();
  server.route('GET', '/sleep', async (_req, res, ctx) => {
    const ms = Number(ctx.url.searchParams.get('ms'));
    await new Promise((r) => setTimeout(r, ms));
    sendText(res, 200, 'done');
  });
  await server.listen();
  const port = server.address().port;
  const get = (ms: number): Promise<string> => new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: `/sleep?ms=${ms}` }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${b}`));
      res.on('error', () => resolve('cut'));
    }).on('error', () => resolve('cut'));
  });
  const fast = get(50);
  const slow = get(5000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.inflightRequests(), 2);
  const result = await server.close(300);
  assert.equal(result.cut, 1);
  assert.equal(await fast, '200 done');
  assert.equal(await slow, 'cut');
});

test('the write timeout closes a connection whose response takes too long', async () => {
  const { server } = newHttp({ writeTimeoutMs: 100 });
  server.route('GET', '/hang', () => new Promise<void>(() => undefined));
  await server.listen();
  const url = `http://127.0.0.1:${server.address().port}/hang`;
  // regression: the timer once started only when the handler consumed the request body, so a
  // GET whose handler hung was never cut (the client gave up after undici's 300 s)
  await withDeadline(assert.rejects(fetch(url)), 10_000, 'the write timeout did not close the connection');
  await server.close(100);
});

test('after setDraining responses carry Connection: close', async () => {
  const { server } = newHttp();
  server.route('GET', '/x', (_req, res) => sendText(res, 200, 'ok'));
  await server.listen();
  const url = `http://127.0.0.1:${server.address().port}/x`;
  assert.notEqual((await fetch(url)).headers.get('connection'), 'close');
  server.setDraining();
  assert.equal((await fetch(url)).headers.get('connection'), 'close');
  await server.close(1000);
});

test('gRPC: guard answers UNAVAILABLE unless Running; calls are measured; shutdown cuts calls past the deadline', async () => {
  const registry = createBareRegistry();
  const cfg = { ...defaultsOf(schema).server, grpcListenAddress: '127.0.0.1', grpcListenPort: 0 };
  const server = new GrpcServer(cfg, silentLogger(), new RequestMetrics(registry));
  const svc = new BasicService('distributor');
  server.addService(SLOW_SERVICE, {
    sleep: grpcUnaryWhenRunning<{ ms: number }, { slept: number }>(svc, (call, cb) => {
      setTimeout(() => cb(null, { slept: call.request.ms }), call.request.ms);
    }) as grpc.UntypedHandleCall,
  });
  await server.listen();
  const client = new SlowClientCtor(`127.0.0.1:${server.boundPort()}`, grpc.credentials.createInsecure());
  const call = (ms: number): Promise<string> => new Promise((resolve) => {
    client.sleep({ ms }, {}, (err, r) => resolve(err ? grpc.status[err.code] ?? String(err.code) : `ok ${String(r?.slept)}`));
  });
  assert.equal(await call(1), 'UNAVAILABLE');
  svc.startAsync();
  await svc.awaitRunning();
  assert.equal(await call(5), 'ok 5');
  const metrics = await registry.metrics();
  assert.match(metrics, /cortex_request_duration_seconds_count\{method="gRPC",route="\/muninn.test.Slow\/Sleep",status_code="success",ws="false"\} 1/);
  assert.match(metrics, /cortex_request_duration_seconds_count\{method="gRPC",route="\/muninn.test.Slow\/Sleep",status_code="error",ws="false"\} 1/);
  const fast = call(50);
  const slow = call(5000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.inflightCalls(), 2);
  const res = await server.shutdown(300);
  assert.equal(res.cut, 1);
  assert.equal(await fast, 'ok 50');
  assert.notEqual(await slow, 'ok 5000');
  client.close();
});
