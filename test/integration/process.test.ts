// The muninn process as a whole: the Quick start config, signals and process hygiene.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIXTURE_JS, MAIN_JS, problemLines, startMuninn } from '../proc.js';
import { withDeadline } from '../util.js';

const LOCAL_YAML = fileURLToPath(new URL('../../../config/local.yaml', import.meta.url));

test('the Quick start config starts, becomes ready, and exits 0 on SIGTERM with every step logged', async () => {
  // ports overridden by flags (flags win over the file) so the test does not need 8080 free
  const t0 = Date.now();
  const p = await startMuninn(MAIN_JS, [`-config.file=${LOCAL_YAML}`]);
  const r = await fetch(`http://127.0.0.1:${p.httpPort}/ready`);
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 < 10_000);
  const cfg = await (await fetch(`http://127.0.0.1:${p.httpPort}/config`)).text();
  assert.match(cfg, /^target: all$/m);
  p.kill('SIGTERM');
  const exit = await withDeadline(p.exited, 10_000, 'no exit after SIGTERM');
  assert.equal(exit.code, 0);
  const steps = p.lines.filter((l) => l.component === 'shutdown').map((l) => l.step ?? l.msg);
  assert.deepEqual(steps, ['shutdown: started', 'not-ready', 'drain', 'stop-modules', 'shutdown: complete']);
  for (const l of p.lines.filter((x) => x.step !== undefined)) assert.equal(typeof l.durationMs, 'number');
  assert.deepEqual(problemLines(p.lines), []);
});

test('a second signal during shutdown exits at once with a non-zero code and a log line', async () => {
  const p = await startMuninn(MAIN_JS, ['-shutdown-delay=30s']);
  p.kill('SIGTERM');
  await p.waitForLine((l) => l.msg === 'shutdown: reporting not ready', 5000);
  const sentAt = Date.now();
  p.kill('SIGINT');
  const exit = await withDeadline(p.exited, 5000, 'no exit after the second signal');
  assert.equal(exit.code, 1);
  assert.ok(exit.at - sentAt < 5000);
  assert.ok(p.lines.some((l) => l.level === 'error' && /second signal/.test(String(l.msg))), 'no log line about the second signal');
});

test('unhandled rejections and uncaught exceptions are logged with stack, counted, and survived', async () => {
  const p = await startMuninn(FIXTURE_JS('load-target'), ['-target=all,loadtest']);
  const base = `http://127.0.0.1:${p.httpPort}`;
  try {
    assert.equal((await fetch(`${base}/test/unhandled`)).status, 200);
    await p.waitForLine((l) => l.kind === 'uncaughtException', 5000);
    await p.waitForLine((l) => l.kind === 'unhandledRejection', 5000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /muninn_unhandled_errors_total\{kind="unhandledRejection"\} 1/);
    assert.match(metrics, /muninn_unhandled_errors_total\{kind="uncaughtException"\} 1/);
    assert.equal((await fetch(`${base}/ready`)).status, 200, 'the process must keep serving');
    const logged = p.lines.filter((l) => l.kind !== undefined);
    for (const l of logged) assert.match(String((l.err as { stack?: string } | undefined)?.stack), /deliberate .* at /s);
  } finally {
    p.kill('SIGTERM');
  }
  assert.equal((await p.exited).code, 0);
});
