import '../harness.js';
// The rollout test (test/rollout/, `npm run test:rollout`), short: both variants with 45 s of
// restarts, which is one full round (a round is always finished) (3 ingesters, 2 distributors, the querier; about 8 s each)
// under the continuous test's load and a Prometheus scraping the cluster every second and
// remote-writing through HAProxy:
//   1. every process SIGTERMed in turn;
//   2. the ingesters SIGKILLed mid-load instead (replicas + WAL replay), the others SIGTERMed.
// Each run is the CLI as a child process (its own process: it exits when done, its exit hooks
// kill whatever it started); the test asserts its exit code and the report's verdict, and shows
// the failures and the report when it fails.
//
// Skips only when etcd (Debian etcd-server or $ETCD_BIN), haproxy (Debian haproxy or
// $HAPROXY_BIN) or prometheus (Debian prometheus or $PROMETHEUS_BIN) is missing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../proc.js';
import type { RolloutReport } from '../rollout/runner.js';
import { missingTools } from '../rollout/runner.js';

const MAIN = fileURLToPath(new URL('../rollout/main.js', import.meta.url));
const missing = missingTools();
const skip = missing === null ? false : `the rollout test needs etcd, haproxy and prometheus: ${missing}`;

async function run(args: string[]): Promise<{ code: number | null; report: RolloutReport | null; stderr: string }> {
  const dir = tempDir('muninn-rollout-test-');
  const out = join(dir, 'report.json');
  const child = spawn(process.execPath, [MAIN, ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const killer = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killer);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  process.removeListener('exit', killer);
  let report: RolloutReport | null = null;
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as RolloutReport;
  } catch {
    // no report: the stderr says why
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, report, stderr };
}

function check(r: { code: number | null; report: RolloutReport | null; stderr: string }, variant: string): void {
  const why = r.report === null
    ? `no report; stderr:\n${r.stderr.slice(-6000)}`
    : `failures:\n  ${r.report.failures.join('\n  ')}\nlog tail:\n${r.stderr.split('\n').slice(-40).join('\n')}`;
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
  check(await run(['--duration', '45', '--kill']), 'kill');
});
