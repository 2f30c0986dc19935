import '../harness.js';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { after, test } from 'node:test';
import { compressSync } from 'snappy';
import { ErrorId, InstanceLimitError, ValidationError } from '../../src/distributor/errors.js';
import {
  EXEMPLARS_WRITTEN_HEADER,
  HISTOGRAMS_WRITTEN_HEADER,
  negotiate,
  PROTO_V1,
  PROTO_V2,
  PUSH_PATH,
  PUSH_ROUTE_NAME,
  registerPushRoute,
  SAMPLES_WRITTEN_HEADER,
  snappyUncompressedLength,
} from '../../src/distributor/push-http.js';
import type { PushAdmission, PushOutcome, PushTarget } from '../../src/distributor/push-types.js';
import { MuninnError } from '../../src/errors/index.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import {
  type DecodedWriteRequest,
  encodeWriteRequest,
  encodeWriteRequestV2,
  labelsOf,
  type WriteRequestObject,
} from '../../src/remotewrite/index.js';
import { HttpServer } from '../../src/server/http.js';
import { deferred, tick, withDeadline } from '../util.js';

const LIMIT = 64 * 1024;
const CT_V1 = 'application/x-protobuf';
const CT_V2 = `application/x-protobuf;proto=${PROTO_V2}`;

// ---------------------------------------------------------------------------------------------
// A recording PushTarget (the seam between HTTP ingress and the distributor)

interface SeenPush {
  tenant: string;
  version: 1 | 2;
  series: number;
  firstLabels: string[];
}

class FakeTarget implements PushTarget {
  admits = 0;
  admitRefusals = 0;
  releaseCalls = 0;
  bytes: number[] = [];
  pushes: SeenPush[] = [];
  admitError: MuninnError | null = null;
  bytesError: MuninnError | null = null;
  /** The outcome of push() from the decoded request; default: everything written. */
  outcome: (req: DecodedWriteRequest) => PushOutcome | Promise<PushOutcome> = (req) => ({ written: counts(req), error: null });
  onAdmit: (() => void) | undefined;

  admit(): PushAdmission | MuninnError {
    if (this.admitError !== null) {
      this.admitRefusals++;
      return this.admitError;
    }
    this.admits++;
    this.onAdmit?.();
    return {
      addBytes: (n) => {
        this.bytes.push(n);
        return this.bytesError;
      },
      release: () => {
        this.releaseCalls++;
      },
    };
  }

  async push(tenant: string, req: DecodedWriteRequest, signal: AbortSignal): Promise<PushOutcome> {
    assert.ok(signal instanceof AbortSignal);
    this.pushes.push({ tenant, version: req.version, series: req.seriesCount, firstLabels: req.seriesCount > 0 ? labelsOf(req, 0) : [] });
    return this.outcome(req);
  }
}

function counts(req: DecodedWriteRequest): PushOutcome['written'] {
  const n = req.seriesCount;
  return { samples: req.sampleOffsets[n] ?? 0, histograms: req.histogramOffsets[n] ?? 0, exemplars: req.exemplarOffsets[n] ?? 0 };
}

// ---------------------------------------------------------------------------------------------
// Server and client helpers

interface Env {
  port: number;
  target: FakeTarget;
  server: HttpServer;
  logLines: Array<Record<string, unknown>>;
}

const servers: HttpServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close(1000)));
});

async function start(tenancy = { multitenancyEnabled: true, noAuthTenant: 'anonymous' }): Promise<Env> {
  const logLines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', { write: (s: string) => { logLines.push(JSON.parse(s) as Record<string, unknown>); } });
  const server = new HttpServer(
    { listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 5_000 },
    silentLogger(),
    new RequestMetrics(createBareRegistry()),
  );
  const target = new FakeTarget();
  registerPushRoute(server, target, { maxRecvMsgSize: LIMIT, tenancy, log });
  await server.listen();
  servers.push(server);
  return { port: server.address().port, target, server, logLines };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface PostOptions {
  headers?: OutgoingHttpHeaders;
  /** The whole body (sent with Content-Length unless chunked). */
  body?: Uint8Array;
  /** Send the body without Content-Length (chunked), in pieces of this size. */
  chunked?: number;
  /** Write only these bytes and keep the request open (the reply must come without the rest). */
  partial?: Uint8Array;
}

/** One POST; resolves with the reply. Errors on the request after the reply (EPIPE) are ignored. */
function post(port: number, o: PostOptions): Promise<Reply> {
  return withDeadline(
    new Promise<Reply>((resolve, reject) => {
      let answered = false;
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: PUSH_PATH, agent: false, headers: o.headers }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => {});
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
          if (o.partial !== undefined) req.destroy();
        });
      });
      req.on('error', (e) => {
        if (!answered) reject(e);
      });
      if (o.partial !== undefined) {
        req.flushHeaders();
        req.write(o.partial);
      } else if (o.chunked !== undefined && o.body !== undefined) {
        const body = o.body;
        const step = o.chunked;
        let off = 0;
        const pump = (): void => {
          if (answered || req.destroyed) return;
          if (off >= body.length) {
            req.end();
            return;
          }
          req.write(body.subarray(off, off + step), () => setImmediate(pump));
          off += step;
        };
        pump();
      } else {
        req.end(o.body === undefined ? undefined : Buffer.from(o.body));
      }
    }),
    10_000,
    'no reply from the push endpoint',
  );
}

const v1Headers = (tenant = 'team-a', ct: string | undefined = CT_V1): OutgoingHttpHeaders => ({
  ...(ct === undefined ? {} : { 'Content-Type': ct }),
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'X-Scope-OrgID': tenant,
});
const v2Headers = (tenant = 'team-a'): OutgoingHttpHeaders => ({
  'Content-Type': CT_V2,
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '2.0.0',
  'X-Scope-OrgID': tenant,
});

const REQ: WriteRequestObject = {
  series: [
    {
      labels: ['__name__', 'up', 'job', 'node'],
      samples: [{ value: 1, timestamp: 1_700_000_000_000 }, { value: 0, timestamp: 1_700_000_015_000 }],
      exemplars: [{ labels: ['trace_id', 'abc'], value: 1, timestamp: 1_700_000_000_000 }],
    },
    {
      labels: ['__name__', 'rpc_seconds', 'job', 'api'],
      histograms: [{ countInt: 3, sum: 1.5, schema: 1, zeroThreshold: 0.001, zeroCountInt: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [1, 0], timestamp: 1_700_000_000_000 }],
    },
  ],
};
const v1Body = (): Buffer => compressSync(encodeWriteRequest(REQ));
const v2Body = (): Buffer => compressSync(encodeWriteRequestV2(REQ));

function assertBalanced(t: FakeTarget): void {
  assert.equal(t.releaseCalls, t.admits, `release() calls (${t.releaseCalls}) != admissions (${t.admits})`);
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------------------------
// Success

test('the route is POST /api/v1/push with the metrics route name api_v1_push; other methods get 405', async () => {
  const env = await start();
  const r = env.server.router.list().find((x) => x.pattern === PUSH_PATH);
  assert.ok(r);
  assert.deepEqual(r.methods, ['POST']);
  assert.equal(r.name, 'api_v1_push');
  assert.equal(PUSH_ROUTE_NAME, 'api_v1_push');
  const res = await fetch(`http://127.0.0.1:${env.port}${PUSH_PATH}`);
  assert.equal(res.status, 405);
  await res.text();
});

test('1.0 push: 200, empty body, no -Written headers; the target sees the tenant and the series', async () => {
  const env = await start();
  for (const ct of [CT_V1, `${CT_V1};proto=${PROTO_V1}`, `Application/X-Protobuf; proto="${PROTO_V1}"`, undefined]) {
    const body = v1Body();
    const r = await post(env.port, { headers: v1Headers('team-a', ct), body });
    assert.equal(r.status, 200, `${ct}: ${r.body}`);
    assert.equal(r.body, '');
    assert.equal(r.headers[SAMPLES_WRITTEN_HEADER.toLowerCase()], undefined);
    assert.equal(env.target.bytes.at(-1), body.length);
  }
  assert.equal(env.target.pushes.length, 4);
  for (const p of env.target.pushes) assert.deepEqual(p, { tenant: 'team-a', version: 1, series: 2, firstLabels: ['__name__', 'up', 'job', 'node'] });
  assertBalanced(env.target);
});

test('a missing Content-Encoding is accepted as snappy (as Prometheus and Mimir)', async () => {
  const env = await start();
  const h = v1Headers();
  delete h['Content-Encoding'];
  const r = await post(env.port, { headers: h, body: v1Body() });
  assert.equal(r.status, 200, r.body);
  assert.equal(env.target.pushes.length, 1);
  assertBalanced(env.target);
});

test('2.0 push: 204 with the three -Written headers from the outcome', async () => {
  const env = await start();
  const r = await post(env.port, { headers: v2Headers(), body: v2Body() });
  assert.equal(r.status, 204, r.body);
  assert.equal(r.body, '');
  assert.equal(r.headers[SAMPLES_WRITTEN_HEADER.toLowerCase()], '2');
  assert.equal(r.headers[HISTOGRAMS_WRITTEN_HEADER.toLowerCase()], '1');
  assert.equal(r.headers[EXEMPLARS_WRITTEN_HEADER.toLowerCase()], '1');
  assert.deepEqual(env.target.pushes, [{ tenant: 'team-a', version: 2, series: 2, firstLabels: ['__name__', 'up', 'job', 'node'] }]);
  assertBalanced(env.target);
});

test('multitenancy off: every push belongs to the no-auth tenant, X-Scope-OrgID ignored', async () => {
  const env = await start({ multitenancyEnabled: false, noAuthTenant: 'anonymous' });
  const h = v1Headers();
  delete h['X-Scope-OrgID'];
  assert.equal((await post(env.port, { headers: h, body: v1Body() })).status, 200);
  assert.equal((await post(env.port, { headers: v1Headers('../x'), body: v1Body() })).status, 200);
  assert.equal((await post(env.port, { headers: v2Headers('other'), body: v2Body() })).status, 204);
  assert.deepEqual(env.target.pushes.map((p) => p.tenant), ['anonymous', 'anonymous', 'anonymous']);
  assertBalanced(env.target);
});

// ---------------------------------------------------------------------------------------------
// Refusals before the body

test('tenancy: 401 without X-Scope-OrgID, 400 for invalid or several tenants; nothing admitted', async () => {
  const env = await start();
  const cases: Array<[string, OutgoingHttpHeaders, number, RegExp]> = [
    ['missing', { ...v1Headers(), 'X-Scope-OrgID': undefined }, 401, /^no org id$/],
    ['empty', v1Headers(''), 401, /^no org id$/],
    ['../x', v1Headers('../x'), 400, /unsupported characters/],
    ['.', v1Headers('.'), 400, /not allowed/],
    ['151 bytes', v1Headers('a'.repeat(151)), 400, /too long/],
    ['a|b', v1Headers('a|b'), 400, /multiple org IDs present/],
    ['two headers', { ...v1Headers(), 'X-Scope-OrgID': ['a', 'b'] }, 400, /multiple org IDs present/],
  ];
  for (const [name, headers, status, msg] of cases) {
    for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
    const r = await post(env.port, { headers, body: v1Body() });
    assert.equal(r.status, status, name);
    assert.match(r.body.trim(), msg, name);
  }
  assert.equal(env.target.admits, 0);
  assert.equal(env.target.pushes.length, 0);
  // 150 bytes is still fine
  assert.equal((await post(env.port, { headers: v1Headers('a'.repeat(150)), body: v1Body() })).status, 200);
  assertBalanced(env.target);
});

test('415 for unsupported Content-Type or Content-Encoding, naming what is supported', async () => {
  const env = await start();
  const cases: Array<[string, OutgoingHttpHeaders, RegExp]> = [
    ['text/plain', { ...v1Headers(), 'Content-Type': 'text/plain' }, /unsupported Content-Type.*application\/x-protobuf.*io\.prometheus\.write\.v2\.Request/],
    ['proto=foo', { ...v1Headers(), 'Content-Type': 'application/x-protobuf;proto=foo' }, /unsupported remote-write message "foo".*prometheus\.WriteRequest/],
    ['json', { ...v1Headers(), 'Content-Type': 'application/json' }, /unsupported Content-Type/],
    ['bad parameter', { ...v1Headers(), 'Content-Type': 'application/x-protobuf;proto' }, /malformed Content-Type/],
    ['gzip', { ...v1Headers(), 'Content-Encoding': 'gzip' }, /unsupported Content-Encoding "gzip".*snappy/],
    ['snappy, gzip', { ...v2Headers(), 'Content-Encoding': 'snappy, gzip' }, /unsupported Content-Encoding/],
  ];
  for (const [name, headers, msg] of cases) {
    const r = await post(env.port, { headers, body: v1Body() });
    assert.equal(r.status, 415, `${name}: ${r.body}`);
    assert.match(r.body, msg, name);
    assert.equal(r.headers[SAMPLES_WRITTEN_HEADER.toLowerCase()], undefined, name);
  }
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

test('admit() refused: 503 with its message before the body is read; no push, nothing to release', async () => {
  const env = await start();
  env.target.admitError = InstanceLimitError.maxInflightPushRequests(10);
  // only 10 of the announced 1000 bytes are sent: the answer must not wait for the rest
  const r = await post(env.port, { headers: { ...v1Headers(), 'Content-Length': '1000' }, partial: Buffer.alloc(10) });
  assert.equal(r.status, 503);
  assert.match(r.body, /max-inflight-push-requests/);
  assert.equal(r.headers.connection, 'close');
  assert.equal(env.target.admitRefusals, 1);
  assert.equal(env.target.bytes.length, 0);
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

// ---------------------------------------------------------------------------------------------
// The body

test('body over the limit by Content-Length: 413 at once, without reading', async () => {
  const env = await start();
  const r = await post(env.port, { headers: { ...v1Headers(), 'Content-Length': String(LIMIT + 1) }, partial: Buffer.alloc(100) });
  assert.equal(r.status, 413);
  assert.match(r.body, new RegExp(`size of ${LIMIT + 1} bytes is over the limit of ${LIMIT} bytes.*-distributor\\.max-recv-msg-size`));
  assert.equal(env.target.bytes.length, 0);
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

test('body over the limit without Content-Length (chunked): 413 as soon as the limit is passed', async () => {
  const env = await start();
  // LIMIT + 1 bytes written, then the request is kept open: the 413 must come without its end
  const r = await post(env.port, { headers: v1Headers(), partial: Buffer.alloc(LIMIT + 1) });
  assert.equal(r.status, 413);
  assert.match(r.body, /over the limit of 65536 bytes/);
  // and a chunked body that ends, a little over the limit
  const r2 = await post(env.port, { headers: v1Headers(), body: Buffer.alloc(LIMIT + 10), chunked: 4096 });
  assert.equal(r2.status, 413);
  // exactly at the limit is read (and then fails as snappy, not as size)
  const r3 = await post(env.port, { headers: v1Headers(), body: Buffer.alloc(LIMIT, 0xff), chunked: 4096 });
  assert.equal(r3.status, 400, r3.body);
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

test('empty body, not snappy, truncated protobuf: 400 with a clear message; 2.0 answers carry -Written: 0', async () => {
  const env = await start();
  const truncated = encodeWriteRequest(REQ);
  const cases: Array<[string, OutgoingHttpHeaders, Uint8Array, RegExp]> = [
    ['empty', v1Headers(), Buffer.alloc(0), /request body is empty/],
    ['not snappy', v1Headers(), Buffer.from('hello, this is not snappy'), /not valid snappy-compressed data/],
    ['raw protobuf', v1Headers(), encodeWriteRequest(REQ), /snappy/],
    ['bad length prefix', v1Headers(), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /malformed length prefix/],
    ['truncated protobuf', v1Headers(), compressSync(truncated.subarray(0, truncated.length - 3)), /malformed prometheus\.WriteRequest/],
    ['truncated v2 protobuf', v2Headers(), compressSync(encodeWriteRequestV2(REQ).subarray(0, 20)), /malformed/],
  ];
  for (const [name, headers, body, msg] of cases) {
    const r = await post(env.port, { headers, body });
    assert.equal(r.status, 400, `${name}: ${r.body}`);
    assert.match(r.body, msg, name);
    const v2 = headers['Content-Type'] === CT_V2;
    assert.equal(r.headers[SAMPLES_WRITTEN_HEADER.toLowerCase()], v2 ? '0' : undefined, name);
  }
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

test('snappy length prefix over the limit: 413 without decompressing', async () => {
  const env = await start();
  // a prefix announcing LIMIT + 1 bytes followed by garbage: decompressing would give a 400
  const prefix = [];
  for (let v = LIMIT + 1; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      prefix.push(v);
      break;
    }
    prefix.push((v & 0x7f) | 0x80);
  }
  assert.equal(snappyUncompressedLength(Buffer.from(prefix)), LIMIT + 1);
  const r = await post(env.port, { headers: v1Headers(), body: Buffer.from([...prefix, 1, 2, 3]) });
  assert.equal(r.status, 413, r.body);
  assert.match(r.body, new RegExp(`size of ${LIMIT + 1} bytes`));
  // a real bomb: 10 x LIMIT zero bytes compress to far below the limit
  const bomb = compressSync(Buffer.alloc(10 * LIMIT));
  assert.ok(bomb.length < LIMIT);
  const r2 = await post(env.port, { headers: v2Headers(), body: bomb });
  assert.equal(r2.status, 413);
  assert.equal(r2.headers[SAMPLES_WRITTEN_HEADER.toLowerCase()], '0');
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

test('in-flight bytes limit (addBytes) refused: 503, no push', async () => {
  const env = await start();
  env.target.bytesError = InstanceLimitError.maxInflightPushRequestsBytes(10);
  const r = await post(env.port, { headers: v1Headers(), body: v1Body() });
  assert.equal(r.status, 503);
  assert.match(r.body, /max-inflight-push-requests-bytes/);
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);
});

// ---------------------------------------------------------------------------------------------
// The outcome

test('target outcome errors: 400 with its message and -Written counts; retryable -> 503 logged at warn', async () => {
  const env = await start();
  env.target.outcome = () => ({ written: { samples: 1, histograms: 0, exemplars: 0 }, error: new ValidationError(ErrorId.invalidLabel, 'received a series with an invalid label: "x-y"') });
  const r = await post(env.port, { headers: v2Headers(), body: v2Body() });
  assert.equal(r.status, 400);
  assert.equal(r.body, 'received a series with an invalid label: "x-y"\n');
  assert.equal(r.headers[SAMPLES_WRITTEN_HEADER.toLowerCase()], '1');
  assert.equal(r.headers[HISTOGRAMS_WRITTEN_HEADER.toLowerCase()], '0');

  env.target.outcome = () => ({ written: { samples: 0, histograms: 0, exemplars: 0 }, error: new MuninnError('unavailable', 'at least 2 live replicas required, could only find 1') });
  const r2 = await post(env.port, { headers: v1Headers(), body: v1Body() });
  assert.equal(r2.status, 503);
  assert.match(r2.body, /live replicas/);

  env.target.outcome = () => ({ written: { samples: 0, histograms: 0, exemplars: 0 }, error: new MuninnError('too_many_requests', 'slow down') });
  assert.equal((await post(env.port, { headers: v1Headers(), body: v1Body() })).status, 429);

  assert.equal(env.target.pushes.length, 3);
  const warns = env.logLines.filter((l) => l['level'] === 'warn');
  assert.equal(warns.length, 1);
  assert.equal(warns[0]!['status'], 503);
  assert.equal(warns[0]!['tenant'], 'team-a');
  assert.ok(!JSON.stringify(warns[0]).includes('stack'), 'no stack trace in the warn line');
  assert.ok(env.logLines.some((l) => l['level'] === 'debug' && l['status'] === 400));
  assertBalanced(env.target);
});

test('a target that breaks its contract (rejects) gives a 500, not a crash', async () => {
  const env = await start();
  env.target.outcome = () => Promise.reject(new Error('boom'));
  const r = await post(env.port, { headers: v1Headers(), body: v1Body() });
  assert.equal(r.status, 500);
  assert.match(r.body, /boom/);
  assertBalanced(env.target);
  assert.equal((await post(env.port, { headers: v1Headers(), body: v1Body() })).status, 500);
  env.target.outcome = (req) => ({ written: counts(req), error: null });
  assert.equal((await post(env.port, { headers: v1Headers(), body: v1Body() })).status, 200);
});

test('client aborts mid-body: no crash, no push, the permit released once', async () => {
  const env = await start();
  const admitted = deferred();
  env.target.onAdmit = () => admitted.resolve();
  const req = request({ host: '127.0.0.1', port: env.port, method: 'POST', path: PUSH_PATH, agent: false, headers: { ...v1Headers(), 'Content-Length': '5000' } });
  req.on('error', () => {});
  req.on('response', () => assert.fail('no response expected'));
  req.flushHeaders();
  req.write(Buffer.alloc(100));
  await withDeadline(admitted.promise, 5_000, 'the request was not admitted');
  await tick();
  req.destroy();
  await waitFor(() => env.target.releaseCalls === 1, 'release()');
  await waitFor(() => env.server.inflightRequests() === 0, 'the request to end');
  assert.equal(env.target.pushes.length, 0);
  assertBalanced(env.target);

  // the same while the target is pushing: the push sees an aborted signal, the permit is released
  const pushing = deferred<AbortSignal>();
  const finish = deferred();
  env.target.outcome = async (r) => {
    await finish.promise;
    return { written: counts(r), error: null };
  };
  const origPush = env.target.push.bind(env.target);
  env.target.push = (tenant, r, signal) => {
    pushing.resolve(signal);
    return origPush(tenant, r, signal);
  };
  const body = v1Body();
  const req2 = request({ host: '127.0.0.1', port: env.port, method: 'POST', path: PUSH_PATH, agent: false, headers: { ...v1Headers(), 'Content-Length': String(body.length) } });
  req2.on('error', () => {});
  req2.end(body);
  const signal = await withDeadline(pushing.promise, 5_000, 'no push');
  req2.destroy();
  await waitFor(() => signal.aborted, 'the push signal to abort');
  finish.resolve();
  await waitFor(() => env.target.releaseCalls === 2, 'release()');
  await waitFor(() => env.server.inflightRequests() === 0, 'the request to end');
  assertBalanced(env.target);
  // still serving
  env.target.push = origPush;
  assert.equal((await post(env.port, { headers: v2Headers(), body: v2Body() })).status, 204);
  assertBalanced(env.target);
});

test('negotiate(): the content negotiation table', () => {
  const ok: Array<[string | undefined, string | undefined, 1 | 2]> = [
    [undefined, undefined, 1],
    ['', 'snappy', 1],
    ['application/x-protobuf', 'snappy', 1],
    ['application/x-protobuf;proto=prometheus.WriteRequest', 'SNAPPY', 1],
    ['application/x-protobuf; charset=utf-8', '', 1],
    ['application/x-protobuf;proto=io.prometheus.write.v2.Request', 'snappy', 2],
    ['application/x-protobuf ; proto="io.prometheus.write.v2.Request"', ' snappy ', 2],
  ];
  for (const [ct, ce, v] of ok) assert.equal(negotiate(ct, ce), v, `${ct} / ${ce}`);
  const bad: Array<[string | undefined, string | undefined]> = [
    ['text/plain', 'snappy'],
    ['application/x-protobuf;proto=io.prometheus.write.v2.request', 'snappy'],
    ['application/x-protobuf;proto=prometheus.WriteRequestX', 'snappy'],
    ['application/protobuf', 'snappy'],
    [undefined, 'gzip'],
    [undefined, 'identity'],
    ['application/x-protobuf', 'zstd'],
  ];
  for (const [ct, ce] of bad) {
    assert.throws(() => negotiate(ct, ce), (e: unknown) => e instanceof MuninnError && e.code === 'unsupported_media_type' && e.httpStatus === 415, `${ct} / ${ce}`);
  }
});

test('snappyUncompressedLength reads the uvarint prefix, -1 when malformed', () => {
  assert.equal(snappyUncompressedLength(Buffer.from([0])), 0);
  assert.equal(snappyUncompressedLength(Buffer.from([0x17, 1])), 23);
  assert.equal(snappyUncompressedLength(Buffer.from([0x80, 0x01])), 128);
  assert.equal(snappyUncompressedLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 0xffffffff);
  assert.equal(snappyUncompressedLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])), -1);
  assert.equal(snappyUncompressedLength(Buffer.from([0x80, 0x80])), -1);
  assert.equal(snappyUncompressedLength(Buffer.from([])), -1);
  for (const n of [0, 1, 1000, LIMIT, 1 << 20]) assert.equal(snappyUncompressedLength(compressSync(Buffer.alloc(n, 7))), n);
});
