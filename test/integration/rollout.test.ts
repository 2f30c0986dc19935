import '../harness.js';
// The rollout test (test/rollout/, `npm run test:rollout`), short: both variants with 45 s of
// restarts, which is one full round (a round is always finished) (3 ingesters, 2 distributors, the querier; about 8 s each)
// under the continuous test's load and a Prometheus scraping the cluster every second and
// remote-writing through HAProxy:
//   1. every process SIGTERMed in turn;
//   2. the ingesters SIGKILLed mid-load instead (replicas + WAL replay), then all three at once
//      (WAL replay alone), the others SIGTERMed.
// test/integration/rollout-teeth.test.ts shows that the same runs fail on a deliberately broken
// build.
// Each run is the CLI as a child process (its own process: it exits when done, its exit hooks
// kill whatever it started); the test asserts its exit code and the report's verdict, and shows
// the failures and the report when it fails.
//
// Skips only when etcd (Debian etcd-server or $ETCD_BIN), haproxy (Debian haproxy or
// $HAPROXY_BIN) or prometheus (Debian prometheus or $PROMETHEUS_BIN) is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CliRun, describeRun, runRolloutCli as run } from '../rollout/run-cli.js';
import { missingTools } from '../rollout/runner.js';

const missing = missingTools();
const skip = missing === null ? false : `the rollout test needs etcd, haproxy and prometheus: ${missing}`;

function check(r: CliRun, variant: string): void {
  const why = describeRun(r);
  assert.ok(r.report !== null, why);
  assert.equal(r.report.variant, variant);
  assert.deepEqual(r.report.failures, [], why);
  assert.equal(r.code, 0, why);
  assert.ok(r.report.ok);
  // one full round at least: every process restarted
  const restarted = new Set(r.report.restarts.map((x) => x.node));
  assert.deepEqual([...restarted].sort(), ['distributor-0', 'distributor-1', 'ingester-0', 'ingester-1', 'ingester-2', 'querier-0']);
  assert.ok((r.report.continuousTest.check?.acked ?? 0) > 0);
  assert.ok((r.report.prometheus?.samplesSent ?? 0) > 0);
  assert.ok(r.report.comparison !== null && r.report.comparison.metrics.every((m) => m.series > 0 && m.mismatches === 0));
}

test('rollout: every process SIGTERMed in turn under load loses nothing and fails nothing', { skip, timeout: 280_000 }, async () => {
  check(await run(['--duration', '45']), 'sigterm');
});

test('rollout --kill: ingesters SIGKILLed under load lose nothing acknowledged', { skip, timeout: 280_000 }, async () => {
  const r = await run(['--duration', '45', '--kill']);
  check(r, 'kill');
  // the round also crashed every ingester at once (WAL replay alone kept what was acknowledged)
  const allAtOnce = r.report!.restarts.filter((x) => x.action === 'SIGKILL' && r.report!.restarts.filter((y) => y.at === x.at && y.action === 'SIGKILL').length === 3);
  assert.equal(allAtOnce.length, 3, describeRun(r));
});
