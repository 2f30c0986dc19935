// Runs the rollout test's CLI (main.ts) as a child process, for the integration tests: its own
// process exits when done and its exit hooks kill whatever it started.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../proc.js';
import type { RolloutReport } from './runner.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  report: RolloutReport | null;
  stderr: string;
}

export async function runRolloutCli(args: string[]): Promise<CliRun> {
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

/** The failures and the log tail of a run, for an assertion message. */
export function describeRun(r: CliRun): string {
  return r.report === null
    ? `no report; stderr:\n${r.stderr.slice(-6000)}`
    : `failures:\n  ${r.report.failures.join('\n  ')}\nlog tail:\n${r.stderr.split('\n').slice(-40).join('\n')}`;
}
