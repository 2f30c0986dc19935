import '../harness.js';
// The test of the rollout test (issue 6's acceptance): on a deliberately broken build the rollout
// test must fail, for the reason the break causes. Each break is a hidden debug flag:
//
//   1. -debug.distributor.close-push-pool-first: Mimir 2.13's order. The distributor closes its
//      ingester push pool at SIGTERM while HAProxy still routes remote writes to it (it notices
//      the /ready 503 within its 1 s check) and before in-flight pushes finish; a push reaching
//      the closed pool panics as Go's send on a closed channel did (fatal line, exit code 2).
//      Distributor restarts only, two rounds: the rollout test must report the non-zero exits
//      and the fatal lines.
//   2. -debug.ingester.ack-before-wal-write=2s: ingesters acknowledge a push before its WAL
//      records are written (they are written 2 s later). The kill variant's crash of every
//      ingester at once (WAL replay alone) then loses the last 2 s of acknowledged samples: the
//      rollout test must report acknowledged samples missing.
//
// The controls are test/integration/rollout.test.ts: the same steps (distributors SIGTERMed in
// turn; every ingester SIGKILLed at once) pass there without the flags.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRun, runRolloutCli } from '../rollout/run-cli.js';
import { missingTools } from '../rollout/runner.js';

const missing = missingTools();
const skip = missing === null ? false : `the rollout test needs etcd, haproxy and prometheus: ${missing}`;

test('test of the rollout test: Mimir 2.13\'s shutdown order (push pool closed before draining) fails it', { skip, timeout: 200_000 }, async () => {
  const r = await runRolloutCli(['--duration', '0', '--rounds', '2', '--steps', 'distributors', '--distributor-flag=-debug.distributor.close-push-pool-first']);
  const why = describeRun(r);
  assert.ok(r.report !== null, why);
  assert.equal(r.code, 1, why);
  assert.equal(r.report.ok, false, why);
  // the distributors were restarted 4 times; under load a push reaches the closed pool in each
  // shutdown, so (nearly) every SIGTERM ends in the panic's exit code 2 instead of 0
  const dist = r.report.restarts.filter((x) => x.role === 'distributor');
  assert.equal(dist.length, 4, why);
  const panicked = dist.filter((x) => x.exit.code === 2);
  assert.ok(panicked.length >= 1, why);
  for (const p of panicked) assert.ok(r.report.failures.some((f) => f.startsWith(`${p.node}: SIGTERM -> exit {"code":2`)), why);
  assert.ok(r.report.logs.problemSamples.some((l) => l.includes('panic: send on closed channel')), why);
  assert.ok(r.report.failures.some((f) => /fatal/.test(f)), why);
});

test('test of the rollout test: acknowledging before the WAL write fails it (every ingester SIGKILLed at once)', { skip, timeout: 200_000 }, async () => {
  const r = await runRolloutCli(['--duration', '0', '--kill', '--steps', 'all-ingesters', '--ingester-flag=-debug.ingester.ack-before-wal-write=2s']);
  const why = describeRun(r);
  assert.ok(r.report !== null, why);
  assert.equal(r.code, 1, why);
  assert.equal(r.report.ok, false, why);
  assert.equal(r.report.restarts.filter((x) => x.action === 'SIGKILL').length, 3, why);
  const chk = r.report.continuousTest.check;
  assert.ok(chk !== null, why);
  assert.ok(chk.missing > 0, why);
  assert.ok(r.report.failures.some((f) => /^continuous test: [1-9]\d* acked samples missing/.test(f)), why);
  // every process still exited cleanly: the loss is the only thing wrong
  assert.ok(r.report.finalStop.every((x) => x.ok), why);
});
