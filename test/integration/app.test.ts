// The process in-process: status endpoints, module failures, the shutdown phases.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { App } from '../../src/app/app.js';
import { type MuninnConfig, schema } from '../../src/app/config.js';
import { defaultsOf } from '../../src/config/index.js';
import { BasicService } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry } from '../../src/metrics/index.js';
import { tempDir } from '../proc.js';
import { withDeadline } from '../util.js';

function config(over: { root?: Partial<MuninnConfig['root']>; server?: Partial<MuninnConfig['server']> } = {}): MuninnConfig {
  const c = defaultsOf(schema);
  Object.assign(c.root, over.root);
  c.tsdb.dir = tempDir('muninn-app-test-');
  Object.assign(c.server, { httpListenAddress: '127.0.0.1', httpListenPort: 0, grpcListenAddress: '127.0.0.1', grpcListenPort: 0 }, over.server);
  return c;
}

async function startApp(cfg: MuninnConfig, setup?: (app: App) => void): Promise<{ app: App; base: string; done: Promise<number> }> {
  const app = new App({ config: cfg, log: silentLogger(), registry: createBareRegistry() });
  setup?.(app);
  const done = app.run();
  await withDeadline(new Promise<void>((resolve) => {
    const check = (): void => {
      if (app.currentPhase() === 'serving') resolve();
      else if (app.currentPhase() !== 'starting') resolve();
      else setTimeout(check, 5);
    };
    check();
  }), 5000, 'app did not start');
  const base = app.http.listening ? `http://127.0.0.1:${app.http.address().port}` : '';
  return { app, base, done };
}

test('status endpoints', async () => {
  const { app, base, done } = await startApp(config({ server: { httpListenPort: 0 } }));
  try {
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'ready\n');

    const svcJson = await fetch(`${base}/services`, { headers: { accept: 'application/json' } });
    assert.equal(svcJson.headers.get('content-type'), 'application/json');
    const { services } = (await svcJson.json()) as { services: Array<{ name: string; state: string }> };
    assert.deepEqual(services.map((s) => s.name).sort(), ['distributor', 'distributor-ring', 'ingester', 'ingester-ring', 'querier', 'runtime-config', 'server']);
    assert.ok(services.every((s) => s.state === 'Running'));
    const svcHtml = await fetch(`${base}/services`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.match(svcHtml.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await svcHtml.text(), /<td>ingester<\/td><td>Running<\/td>/);

    const full = await (await fetch(`${base}/config`)).text();
    assert.match(full, /^target: all$/m);
    assert.match(full, /^ {2}http_listen_port: 0$/m);
    assert.match(full, /^ {2}graceful_shutdown_timeout: 30s$/m);
    const diff = await (await fetch(`${base}/config?mode=diff`)).text();
    assert.match(diff, /http_listen_address: 127\.0\.0\.1/);
    assert.doesNotMatch(diff, /graceful_shutdown_timeout/);
    const defaults = await (await fetch(`${base}/config?mode=defaults`)).text();
    assert.match(defaults, /http_listen_port: 8080/);
    assert.equal((await fetch(`${base}/config?mode=nonsense`)).status, 400);

    const bi = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()) as { status: string; data: Record<string, unknown> };
    assert.equal(bi.status, 'success');
    assert.equal(typeof bi.data.version, 'string');
    assert.equal(typeof bi.data.revision, 'string');

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /cortex_request_duration_seconds_count\{method="GET",route="ready",status_code="200",ws="false"\} 1/);
    assert.match(metrics, /# TYPE cortex_inflight_requests gauge/);
    assert.match(metrics, /muninn_shutdown_phase\{phase="serving"\} 1/);

    assert.equal((await fetch(`${base}/no/such/path`)).status, 404);
    assert.equal((await fetch(`${base}/ready`, { method: 'POST' })).status, 405);

    // gRPC health answers SERVING
    const health = await grpcHealth(app.grpc.boundPort());
    assert.equal(health, 'SERVING');
  } finally {
    void app.shutdown('test over');
    assert.equal(await done, 0);
  }
});

async function grpcHealth(port: number): Promise<string> {
  const { service } = await import('grpc-health-check');
  const Client = grpc.makeGenericClientConstructor(service, 'Health');
  const c = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
    check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
    close(): void;
  };
  try {
    return await new Promise<string>((resolve, reject) => c.check({ service: '' }, (err, res) => (err ? reject(err) : resolve(String(res?.status)))));
  } finally {
    c.close();
  }
}

test('during the shutdown delay: /ready 503, gRPC health NOT_SERVING, Connection: close, other routes served', async () => {
  const { app, base, done } = await startApp(config({ root: { shutdownDelay: 400 } }));
  const shut = app.shutdown('test');
  assert.equal(app.currentPhase(), 'delay');
  const r = await fetch(`${base}/ready`);
  assert.equal(r.status, 503);
  assert.match(await r.text(), /shutting down/);
  const m = await fetch(`${base}/metrics`);
  assert.equal(m.status, 200);
  assert.equal(m.headers.get('connection'), 'close');
  assert.match(await m.text(), /muninn_shutdown_phase\{phase="delay"\} 1/);
  assert.equal(await grpcHealth(app.grpc.boundPort()), 'NOT_SERVING');
  await shut;
  assert.equal(await done, 0);
  assert.equal(app.currentPhase(), 'stopped');
  await assert.rejects(fetch(`${base}/ready`)); // listener closed
});

test('a module failing while running stops the process with exit code 1', async () => {
  let fail!: (e: Error) => void;
  const { app, done } = await startApp(config({ root: { target: ['all', 'flaky'] } }), (a) => {
    a.modules.register('flaky', () => new BasicService('flaky', {
      running: () => new Promise<void>((_, reject) => (fail = reject)),
    }), ['server']);
  });
  assert.equal(app.currentPhase(), 'serving');
  fail(new Error('disk on fire'));
  assert.equal(await withDeadline(done, 5000, 'no exit after module failure'), 1);
});

test('a module failing to start: exit code 1, other modules stopped', async () => {
  const { app, done } = await startApp(config({ root: { target: ['all', 'broken'] } }), (a) => {
    a.modules.register('broken', () => new BasicService('broken', {
      starting: () => Promise.reject(new Error('cannot open data dir')),
    }), ['server']);
  });
  assert.equal(await withDeadline(done, 5000, 'no exit after start failure'), 1);
  assert.equal(app.currentPhase(), 'stopped');
  assert.equal(app.http.listening, false);
});

test('an unknown target or a dependency cycle fails the start', async () => {
  const { done } = await startApp(config({ root: { target: ['nosuchmodule'] } }));
  assert.equal(await withDeadline(done, 5000, 'no exit'), 1);
  const { done: d2 } = await startApp(config({ root: { target: ['a'] } }), (app) => {
    app.modules.register('a', () => new BasicService('a'), ['b']);
    app.modules.register('b', () => new BasicService('b'), ['a']);
  });
  assert.equal(await withDeadline(d2, 5000, 'no exit'), 1);
});

test('modules stop in reverse dependency order after the servers drain', async () => {
  const events: string[] = [];
  const { app, done } = await startApp(config({ root: { target: ['top'] } }), (a) => {
    const svc = (name: string): BasicService => new BasicService(name, {
      starting: async () => void events.push(`start ${name}`),
      stopping: async () => {
        events.push(`stop ${name} (http listening: ${a.http.listening})`);
      },
    });
    a.modules.register('bottom', () => svc('bottom'), ['server']);
    a.modules.register('middle', () => svc('middle'), ['bottom']);
    a.modules.register('top', () => svc('top'), ['middle']);
  });
  await app.shutdown('test');
  assert.equal(await done, 0);
  assert.deepEqual(events, [
    'start bottom', 'start middle', 'start top',
    'stop top (http listening: false)', 'stop middle (http listening: false)', 'stop bottom (http listening: false)',
  ]);
});
