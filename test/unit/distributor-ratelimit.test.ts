// Distributor rate limits (src/distributor/rate-limiter.ts, instance-limits.ts) with an injected
// clock: token bucket burst and refill (golang.org/x/time/rate semantics), the global strategy's
// division by healthy distributors and its 10 s recheck, Mimir's 429 messages naming the flags,
// per-instance in-flight and ingestion-rate limits (503), and the error -> status table.
import '../harness.js';
import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { test } from 'node:test';
import {
  DistributorRateLimits,
  ErrorId,
  EwmaRate,
  IngestionBurstSizeLimitedError,
  IngestionRateLimitedError,
  InstanceLimiter,
  InstanceLimitError,
  MaxWriteMessageSizeError,
  RATE_LIMIT_RECHECK_PERIOD_MS,
  RequestRateLimitedError,
  type TenantRateLimits,
  TokenBucket,
  ValidationError,
} from '../../src/distributor/index.js';
import { grpcStatusOf, httpStatusOf, isRetryable } from '../../src/errors/index.js';

const T0 = 1_700_000_000_000;
const LIMITS: TenantRateLimits = { ingestionRate: 10_000, ingestionBurstSize: 200_000, ingestionBurstFactor: 0, requestRate: 0, requestBurstSize: 0 };

test('token bucket: starts full, n > burst never passes, a refused take takes nothing', () => {
  const b = new TokenBucket(10, 100, T0);
  assert.equal(b.tokensAt(T0), 100);
  assert.equal(b.allowN(T0, 101), false, 'more than the burst is refused even when full');
  assert.equal(b.tokensAt(T0), 100, 'and takes nothing');
  assert.equal(b.allowN(T0, 100), true);
  assert.equal(b.allowN(T0, 1), false);
  assert.equal(b.tokensAt(T0), 0);
});

test('token bucket: refills at the rate, capped at the burst', () => {
  const b = new TokenBucket(10, 100, T0);
  assert.ok(b.allowN(T0, 100));
  assert.equal(b.allowN(T0 + 99, 1), false, '0.99 tokens after 99 ms');
  assert.equal(b.allowN(T0 + 100, 1), true, '1 token after 100 ms');
  assert.equal(b.allowN(T0 + 100, 1), false);
  assert.equal(b.allowN(T0 + 1100, 10), true, '10 more after another second');
  assert.equal(b.tokensAt(T0 + 3_600_000), 100, 'never more than the burst');
  assert.equal(b.allowN(T0 + 3_600_000, 100), true);
});

test('token bucket: a clock going backwards earns nothing; an infinite rate allows everything', () => {
  const b = new TokenBucket(1000, 10, T0);
  assert.ok(b.allowN(T0, 10));
  assert.equal(b.allowN(T0 - 5000, 1), false);
  assert.equal(b.allowN(T0 - 1, 1), false, 'nothing is earned before the last take (as x/time/rate)');
  assert.equal(b.allowN(T0 + 1, 1), true, '1 ms after it, 1 token');
  const inf = new TokenBucket(Infinity, 0, T0);
  assert.equal(inf.allowN(T0, 1e9), true);
});

test('token bucket: a changed limit applies from then on, keeping the tokens earned so far', () => {
  const b = new TokenBucket(10, 100, T0);
  assert.ok(b.allowN(T0, 100));
  b.setLimitAt(T0 + 1000, 100); // 10 tokens earned at the old rate
  assert.equal(b.tokensAt(T0 + 1000), 10);
  assert.equal(b.tokensAt(T0 + 1500), 60);
  b.setBurstAt(T0 + 1500, 20);
  assert.equal(b.tokensAt(T0 + 1500), 20);
});

test('ingestion: each distributor enforces the tenant limit divided by the healthy distributors', () => {
  let healthy = 4;
  const rl = new DistributorRateLimits({ limits: () => ({ ...LIMITS, ingestionRate: 1000, ingestionBurstSize: 500 }), healthyDistributors: () => healthy });
  assert.equal(rl.ingestion.limit(T0, 't'), 250);
  assert.equal(rl.ingestion.burst(T0, 't'), 500, 'the burst is not divided');
  assert.equal(rl.checkIngestion('t', 500, T0), null);
  assert.ok(rl.checkIngestion('t', 1, T0) instanceof IngestionRateLimitedError);
  assert.equal(rl.checkIngestion('t', 250, T0 + 1000), null, '250 tokens a second');
  assert.ok(rl.checkIngestion('t', 1, T0 + 1000) instanceof IngestionRateLimitedError);

  healthy = 2;
  assert.equal(rl.ingestion.limit(T0 + RATE_LIMIT_RECHECK_PERIOD_MS - 1, 't'), 250, 'not before the recheck period');
  assert.equal(rl.ingestion.limit(T0 + RATE_LIMIT_RECHECK_PERIOD_MS, 't'), 500, 'rechecked after 10 s');
  healthy = 0;
  assert.equal(rl.ingestion.limit(T0 + 2 * RATE_LIMIT_RECHECK_PERIOD_MS, 't'), 1000, 'no healthy distributor known: the whole limit');
});

test('ingestion: alone (the default) a distributor enforces the whole limit; tenants are independent', () => {
  const rl = new DistributorRateLimits({ limits: (t) => ({ ...LIMITS, ingestionRate: t === 'big' ? 100 : 10, ingestionBurstSize: t === 'big' ? 100 : 10 }) });
  assert.equal(rl.ingestion.limit(T0, 'big'), 100);
  assert.equal(rl.checkIngestion('small', 10, T0), null);
  assert.notEqual(rl.checkIngestion('small', 1, T0), null);
  assert.equal(rl.checkIngestion('big', 100, T0), null, "another tenant's bucket is untouched");
});

test('ingestion: the burst factor sets the burst as a multiple of the local limit', () => {
  const rl = new DistributorRateLimits({ limits: () => ({ ...LIMITS, ingestionRate: 1000, ingestionBurstFactor: 2.5 }), healthyDistributors: () => 3 });
  assert.equal(rl.ingestion.burst(T0, 't'), Math.ceil(2.5 * (1000 / 3)));
});

test('ingestion 429: the message names the limits and both flags, and the ID', () => {
  const rl = new DistributorRateLimits({ limits: () => LIMITS, healthyDistributors: () => 2 });
  assert.equal(rl.checkIngestion('t', 200_000, T0), null);
  const e = rl.checkIngestion('t', 10, T0);
  assert.ok(e instanceof IngestionRateLimitedError);
  assert.equal(e.id, ErrorId.ingestionRateLimited);
  assert.equal(e.code, 'too_many_requests');
  assert.equal(httpStatusOf(e), 429);
  assert.equal(grpcStatusOf(e), GrpcStatus.RESOURCE_EXHAUSTED);
  assert.equal(e.reason, 'tenant_max_ingestion_rate');
  assert.equal(e.limit, 10_000, 'the configured cluster-wide rate, not the local share');
  assert.equal(e.burst, 200_000);
  for (const part of ['10000 items/s', '200000', '(err-mimir-tenant-max-ingestion-rate)', '-distributor.ingestion-rate-limit', '-distributor.ingestion-burst-size']) {
    assert.ok(e.message.includes(part), `${e.message} should contain ${part}`);
  }
});

test('ingestion 429: a request larger than the burst gets the burst-size error', () => {
  const rl = new DistributorRateLimits({ limits: () => ({ ...LIMITS, ingestionBurstSize: 1000 }) });
  const e = rl.checkIngestion('t', 1001, T0);
  assert.ok(e instanceof IngestionBurstSizeLimitedError);
  assert.equal(e.items, 1001);
  assert.equal(e.burst, 1000);
  assert.equal(httpStatusOf(e), 429);
  assert.ok(e.message.includes('-distributor.ingestion-burst-size') && e.message.includes('1001'), e.message);
  assert.equal(rl.checkIngestion('t', 1000, T0), null, 'the refused request took nothing');
});

test('request rate: unlimited at 0; otherwise limited, with its own 429', () => {
  const off = new DistributorRateLimits({ limits: () => LIMITS });
  for (let k = 0; k < 1000; k++) assert.equal(off.checkRequest('t', T0), null);
  const on = new DistributorRateLimits({ limits: () => ({ ...LIMITS, requestRate: 2, requestBurstSize: 2 }), healthyDistributors: () => 2 });
  assert.equal(on.requests.limit(T0, 't'), 1);
  assert.equal(on.checkRequest('t', T0), null);
  assert.equal(on.checkRequest('t', T0), null);
  const e = on.checkRequest('t', T0);
  assert.ok(e instanceof RequestRateLimitedError);
  assert.equal(httpStatusOf(e), 429);
  for (const part of ['(err-mimir-tenant-max-request-rate)', '-distributor.request-rate-limit', '-distributor.request-burst-size']) assert.ok(e.message.includes(part), e.message);
  assert.equal(on.checkRequest('t', T0 + 1000), null, 'one request a second per distributor');
});

test('stale tenants are forgotten', () => {
  const rl = new DistributorRateLimits({ limits: () => ({ ...LIMITS, ingestionBurstSize: 10 }) });
  assert.equal(rl.checkIngestion('t', 10, T0), null);
  assert.notEqual(rl.checkIngestion('t', 1, T0), null);
  rl.removeStaleEntries(T0 + 60_000);
  assert.equal(rl.checkIngestion('t', 10, T0 + 60_000), null, 'a new, full bucket');
});

test('instance: in-flight push requests over the limit get a retryable 503; release is idempotent', () => {
  const il = new InstanceLimiter(() => ({ maxIngestionRate: 0, maxInflightPushRequests: 2, maxInflightPushRequestsBytes: 100 }));
  const a = il.startPush();
  const b = il.startPush();
  assert.ok(!(a instanceof InstanceLimitError) && !(b instanceof InstanceLimitError));
  const c = il.startPush();
  assert.ok(c instanceof InstanceLimitError);
  assert.equal(c.id, ErrorId.maxInflightPushRequests);
  assert.equal(httpStatusOf(c), 503);
  assert.equal(grpcStatusOf(c), GrpcStatus.UNAVAILABLE);
  assert.equal(isRetryable(c), true);
  assert.ok(c.message.includes('-distributor.instance-limits.max-inflight-push-requests') && c.message.includes('(err-mimir-distributor-max-inflight-push-requests)'), c.message);
  assert.equal(il.inflight, 2);

  assert.equal(a.addBytes(60), null);
  const tooBig = b.addBytes(41);
  assert.ok(tooBig instanceof InstanceLimitError);
  assert.equal(tooBig.id, ErrorId.maxInflightPushRequestsBytes);
  assert.equal(il.inflightBytes, 60, 'refused bytes are not counted');
  a.release();
  a.release();
  assert.equal(il.inflight, 1);
  assert.equal(il.inflightBytes, 0);
  assert.ok(!(il.startPush() instanceof InstanceLimitError));
});

test('instance: the ingestion rate is a moving average; at or over the maximum, pushes get a 503', () => {
  const il = new InstanceLimiter(() => ({ maxIngestionRate: 500, maxInflightPushRequests: 0, maxInflightPushRequestsBytes: 0 }));
  il.addIngested(1000);
  assert.ok(!(il.startPush() instanceof InstanceLimitError), 'the rate moves on ticks only');
  il.ingestionRate.tick();
  assert.equal(il.ingestionRate.rate(), 1000);
  const e = il.startPush();
  assert.ok(e instanceof InstanceLimitError);
  assert.equal(e.id, ErrorId.maxIngestionRate);
  assert.ok(e.message.includes('-distributor.instance-limits.max-ingestion-rate'));
  const r = new EwmaRate(0.2, 1000);
  r.add(1000);
  r.tick();
  r.tick();
  assert.equal(r.rate(), 800);
  r.tick();
  assert.ok(Math.abs(r.rate() - 640) < 1e-9);
  for (let k = 0; k < 3; k++) il.ingestionRate.tick(); // 1000 -> 800 -> 640 -> 512
  assert.ok(il.startPush() instanceof InstanceLimitError);
  il.ingestionRate.tick(); // 409.6
  assert.ok(!(il.startPush() instanceof InstanceLimitError));
  const stop = il.startTicker();
  stop();
});

test('errors: one table maps causes to statuses', () => {
  const rows: Array<[Error, number, GrpcStatus, boolean]> = [
    [new ValidationError(ErrorId.missingMetricName, 'x'), 400, GrpcStatus.INVALID_ARGUMENT, false],
    [new MaxWriteMessageSizeError(200, 100), 413, GrpcStatus.INVALID_ARGUMENT, false],
    [new IngestionRateLimitedError(1, 1), 429, GrpcStatus.RESOURCE_EXHAUSTED, true],
    [new RequestRateLimitedError(1, 1), 429, GrpcStatus.RESOURCE_EXHAUSTED, true],
    [InstanceLimitError.maxInflightPushRequests(1), 503, GrpcStatus.UNAVAILABLE, true],
  ];
  for (const [e, http, grpc, retry] of rows) {
    assert.equal(httpStatusOf(e), http, e.name);
    assert.equal(grpcStatusOf(e), grpc, e.name);
    assert.equal(isRetryable(e), retry, e.name);
  }
  const size = new MaxWriteMessageSizeError(200, 100);
  assert.ok(size.message.includes('of 200 bytes') && size.message.includes('-distributor.max-recv-msg-size') && size.message.includes('(err-mimir-distributor-max-write-message-size)'), size.message);
});
