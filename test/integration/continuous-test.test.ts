// The continuous test against a real Muninn (`-target=all` in a child process):
//
// - the smoke test, the service instantiated in this process;
// - the continuous mode under load (short write interval, concurrent writers), then checkAll;
// - a restart of Muninn on the same port and data while the test writes: writes fail and are
//   retried through the outage, and every acked sample is there afterwards (WAL replay);
// - `muninn -target=continuous-test -tests.smoke-test` as its own process: exit code 0 when the
//   test passes, 1 when it fails (skipped until the module is wired in src/app).
import '../harness.js';
import assert from 'node:assert/strict';
import { freePort } from '../../src/util/net.js';
import { after, before, test } from 'node:test';
import { defaultsOf } from '../../src/config/index.js';
import { type ContinuousTestConfig, continuousTestConfig, ContinuousTest } from '../../src/continuoustest/index.js';
import { State } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, type Registry } from '../../src/metrics/index.js';
import { MAIN_JS, problemLines, type Proc, spawnNode, startMuninn, tempDir } from '../proc.js';
import { withDeadline } from '../util.js';


const MUNINN_ARGS = [
  '-target=all',
  '-ingester.ring.replication-factor=1',
  '-ingester.ring.instance-addr=127.0.0.1',
  '-auth.multitenancy-enabled=true',
  '-distributor.ingestion-rate-limit=10000000',
  '-distributor.ingestion-burst-size=10000000',
];

let muninn: Proc & { httpPort: number };
let base: string;

before(async () => {
  muninn = await startMuninn(MAIN_JS, MUNINN_ARGS);
  base = `http://127.0.0.1:${muninn.httpPort}`;
});

after(async () => {
  muninn?.kill('SIGTERM');
  if (muninn !== undefined) await withDeadline(muninn.exited, 30_000, 'muninn did not exit');
});

function cfg(over: Partial<ContinuousTestConfig>): ContinuousTestConfig {
  return { ...defaultsOf({ ct: continuousTestConfig }).ct, writeEndpoint: base, readEndpoint: `${base}/prometheus`, ...over };
}

async function counter(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  return m === undefined ? 0 : (await m.get()).values.reduce((a, v) => a + v.value, 0);
}

test('smoke test against -target=all, in-process: passes', { timeout: 90_000 }, async () => {
  let passed = false;
  const registry = createBareRegistry();
  const ct: ContinuousTest = new ContinuousTest({
    config: cfg({ smokeTest: true, tenantId: 'ct-smoke', numSeries: 1234, writeInterval: 1000, writeBatchSize: 300, writeConcurrency: 2 }),
    log: silentLogger(),
    registry,
    onSmokeTestPassed: () => {
      passed = true;
      ct.stopAsync();
    },
  });
  ct.startAsync();
  await withDeadline(ct.awaitTerminated(), 80_000, 'the smoke test did not end');
  assert.equal(ct.state(), State.Terminated);
  assert.ok(passed);
  assert.equal(await counter(registry, 'muninn_continuous_test_acked_samples_total'), 1234);
  assert.equal(await counter(registry, 'mimir_continuous_test_query_result_checks_failed_total'), 0);
  assert.equal(await counter(registry, 'mimir_continuous_test_queries_failed_total'), 0);
  // a second smoke test into the same tenant at once (same tick): duplicates are accepted
  const again = new ContinuousTest({ config: cfg({ smokeTest: true, tenantId: 'ct-smoke', numSeries: 1234, writeInterval: 1000, writeBatchSize: 300 }), log: silentLogger(), registry: createBareRegistry() });
  again.startAsync();
  await withDeadline(again.awaitTerminated(), 80_000, 'the second smoke test did not end');
});

test('continuous mode under load: every acked sample read back exactly', { timeout: 120_000 }, async () => {
  const registry = createBareRegistry();
  const ct = new ContinuousTest({
    config: cfg({ tenantId: 'ct-load', numSeries: 3000, writeInterval: 100, writeConcurrency: 4, writeBatchSize: 500, runInterval: 1000 }),
    log: silentLogger(),
    registry,
  });
  ct.startAsync();
  try {
    await ct.awaitRunning();
    // ten ticks of every series and three periodic checks, however long this machine takes
    await withDeadline((async () => {
      while (await counter(registry, 'muninn_continuous_test_acked_samples_total') < 3000 * 10 || await counter(registry, 'mimir_continuous_test_query_result_checks_total') < 3) {
        await new Promise((r) => setTimeout(r, 100));
      }
    })(), 60_000, 'too few writes or checks');
    const c = await ct.checkAll();
    assert.equal(c.missing, 0, c.details.join('\n'));
    assert.equal(c.mismatched, 0, c.details.join('\n'));
    assert.equal(c.queriesFailed, 0);
    assert.ok(c.acked >= 3000 * 10, `only ${c.acked} samples acked`);
    assert.equal(await counter(registry, 'mimir_continuous_test_query_result_checks_failed_total'), 0);
    assert.equal(await counter(registry, 'muninn_continuous_test_dropped_samples_total'), 0);
  } finally {
    ct.stopAsync();
    await withDeadline(ct.awaitTerminated(), 10_000, 'the test did not stop');
  }
  assert.deepEqual(problemLines(muninn.lines), []);
});

test('Muninn restarted under the writers: writes retried through the outage, no acked sample lost', { timeout: 180_000 }, async () => {
  const dir = tempDir('ct-restart-');
  const port = await freePort();
  const args = [...MUNINN_ARGS, `-blocks-storage.tsdb.dir=${dir}`, `-server.http-listen-port=${port}`];
  let p = await startMuninn(MAIN_JS, args);
  const registry = createBareRegistry();
  const target = `http://127.0.0.1:${port}`;
  const ct = new ContinuousTest({
    config: cfg({ writeEndpoint: target, readEndpoint: `${target}/prometheus`, tenantId: 'ct-restart', numSeries: 1000, writeInterval: 200, writeConcurrency: 2, writeBatchSize: 250, runInterval: 60_000, writeRetryTimeout: 0, writeMaxBackoff: 500 }),
    log: silentLogger(),
    registry,
  });
  ct.startAsync();
  try {
    await ct.awaitRunning();
    await new Promise((r) => setTimeout(r, 1500));
    p.kill('SIGTERM');
    assert.equal((await withDeadline(p.exited, 30_000, 'muninn did not stop')).code, 0);
    const failedBefore = await counter(registry, 'mimir_continuous_test_writes_failed_total');
    await new Promise((r) => setTimeout(r, 500));
    p = await startMuninn(MAIN_JS, args);
    // the writers get through again
    const ackedAt = await counter(registry, 'muninn_continuous_test_acked_samples_total');
    const deadline = Date.now() + 30_000;
    while ((await counter(registry, 'muninn_continuous_test_acked_samples_total')) < ackedAt + 5000) {
      assert.ok(Date.now() < deadline, 'writes did not resume after the restart');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(await counter(registry, 'mimir_continuous_test_writes_failed_total') > failedBefore, 'the outage caused no failed write');
    const c = await ct.checkAll();
    assert.equal(c.missing, 0, c.details.join('\n'));
    assert.equal(c.mismatched, 0, c.details.join('\n'));
    assert.ok(c.acked >= 5000);
    assert.equal(await counter(registry, 'muninn_continuous_test_dropped_samples_total'), 0);
  } finally {
    ct.stopAsync();
    await withDeadline(ct.awaitTerminated(), 10_000, 'the test did not stop');
    p.kill('SIGTERM');
    await withDeadline(p.exited, 30_000, 'muninn did not exit');
  }
});


test('muninn -target=continuous-test -tests.smoke-test: exit code 0 on success, 1 on failure', { timeout: 120_000 }, async (t) => {
  const common = ['-target=continuous-test', '-tests.smoke-test', '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0',
    '-server.grpc-listen-address=127.0.0.1', '-server.grpc-listen-port=0', '-tests.tenant-id=ct-proc', '-tests.write-read-series-test.num-series=200',
    `-tests.write-endpoint=${base}`];
  const ok = spawnNode(MAIN_JS, [...common, `-tests.read-endpoint=${base}/prometheus`]);
  const r1 = await withDeadline(ok.exited, 90_000, 'the smoke test process did not exit');
  assert.equal(r1.code, 0, ok.lines.map((l) => JSON.stringify(l)).join('\n') + ok.stderr.join(''));
  assert.ok(ok.lines.some((l) => l.msg === 'Test passed'));

  // queries to a path that does not exist: every query fails, so the test does
  const bad = spawnNode(MAIN_JS, [...common, `-tests.read-endpoint=${base}/nowhere`]);
  const r2 = await withDeadline(bad.exited, 90_000, 'the failing smoke test process did not exit');
  assert.equal(r2.code, 1, bad.lines.map((l) => JSON.stringify(l)).join('\n') + bad.stderr.join(''));
  assert.ok(bad.lines.some((l) => l.msg === 'Test failed'));

  // no endpoint: a start-up error naming the flag
  const none = spawnNode(MAIN_JS, ['-target=continuous-test', '-tests.smoke-test', '-server.http-listen-port=0', '-server.grpc-listen-port=0']);
  const r3 = await withDeadline(none.exited, 30_000, 'the misconfigured process did not exit');
  assert.equal(r3.code, 1);
  assert.ok(none.lines.some((l) => /tests\.write-endpoint/.test(JSON.stringify(l))) || /tests\.write-endpoint/.test(none.stderr.join('')));
});
