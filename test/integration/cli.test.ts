// The muninn binary's config handling, end to end: a real process per case, judged on exit code,
// stdout and stderr. None of these cases starts the servers; a hang fails the case after a timeout.
import '../harness.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

// the test runs from dist/test/integration; the binary is dist/src/cli/main.js
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const GOLDEN = new URL('../../../test/golden/help.txt', import.meta.url);
const TIMEOUT_MS = 15_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function muninn(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`muninn ${args.join(' ')} did not exit within ${TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'muninn-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const show = (r: Run): string => `exit ${r.code} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('-help prints the golden help text and exits 0', async () => {
  const golden = readFileSync(GOLDEN, 'utf8');
  // also when the other flags would not run (regression: validation used to stop -help)
  for (const args of [['-help'], ['-h'], ['-help', '-server.graceful-shutdown-timeout=0']]) {
    const r = await muninn(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${show(r)}`);
    assert.equal(r.stdout, golden, `${args.join(' ')}: stdout differs from test/golden/help.txt (see config-help.test)`);
    assert.equal(r.stderr, '', args.join(' '));
  }
});

test('-version prints the version and exits 0', async () => {
  const r = await muninn(['-version']);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^muninn, version \d+\.\d+\.\d+/);
  assert.equal(r.stderr, '');
});

test('-modules lists the modules and exits 0', async () => {
  const r = await muninn(['-modules']);
  assert.equal(r.code, 0, show(r));
  const names = r.stdout.trim().split('\n');
  for (const m of ['all', 'distributor', 'ingester', 'querier']) assert.ok(names.includes(m), `${m} in ${JSON.stringify(names)}`);
});

test('config errors exit 1 and say what is wrong on stderr', async () => {
  const unknownKey = file('unknown-key.yaml', 'server:\n  http_listen_port: 0\n  no_such_key: 1\n');
  const budget = file('budget.yaml', 'shutdown_delay: 5s\nshutdown:\n  termination_grace_period: 10s\nserver:\n  graceful_shutdown_timeout: 1m\n');
  const budgetParts = [
    'shutdown budget exceeded',
    '-shutdown-delay (5s)',
    '-server.graceful-shutdown-timeout (5s)',
    '-shutdown.termination-grace-period (10s)',
    'Lower -shutdown-delay or -server.graceful-shutdown-timeout, or raise the termination grace period',
  ];
  const cases: Array<[args: string[], parts: string[]]> = [
    [['-unknown.flag'], ['-unknown.flag']],
    [['-server.http-listen-port=x'], ['-server.http-listen-port']],
    [['-target=all', 'extra'], ['unexpected argument "extra"']],
    [['-shutdown.termination-grace-period=10s', '-shutdown-delay=5s', '-server.graceful-shutdown-timeout=5s'], budgetParts],
    // the file and a flag together: the flag's 5s replaces the file's 1m in the budget
    [[`-config.file=${budget}`, '-server.graceful-shutdown-timeout=5s'], budgetParts],
    [['-server.graceful-shutdown-timeout=0'], ['invalid server config', '-server.graceful-shutdown-timeout must be greater than 0']],
    [[`-config.file=${unknownKey}`], ['unknown key server.no_such_key (line 3)', unknownKey]],
    [[`-config.file=${join(dir, 'missing.yaml')}`], ['-config.file', 'missing.yaml']],
  ];
  for (const [args, parts] of cases) {
    const r = await muninn(args);
    const label = args.join(' ');
    assert.equal(r.code, 1, `${label}: ${show(r)}`);
    assert.equal(r.stdout, '', `${label}: ${show(r)}`);
    assert.ok(r.stderr.startsWith('error: '), `${label}: ${show(r)}`);
    for (const p of parts) assert.ok(r.stderr.includes(p), `${label}: stderr should contain ${JSON.stringify(p)}\n${show(r)}`);
    assert.ok(!r.stderr.includes('    at '), `${label}: a config error is not a crash\n${show(r)}`);
  }
});
