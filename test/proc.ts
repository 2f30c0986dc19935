// Spawning muninn (or a fixture) as a child process and reading its JSON log lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN_JS = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const FIXTURE_JS = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

export interface LogLine {
  level?: string;
  msg?: string;
  [k: string]: unknown;
}

export interface Proc {
  child: ChildProcess;
  lines: LogLine[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves with the first line matching, waiting up to ms. */
  waitForLine(pred: (l: LogLine) => boolean, ms: number): Promise<LogLine>;
  kill(sig?: NodeJS.Signals): void;
}

export function spawnNode(script: string, args: string[]): Proc {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const raw = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let l: LogLine;
      try {
        l = JSON.parse(raw) as LogLine;
      } catch {
        l = { msg: raw, level: 'raw' };
      }
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(pred, ms) {
      const found = lines.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<LogLine>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching log line within ${ms} ms; got:\n${lines.map((x) => JSON.stringify(x)).join('\n')}\n${stderr.join('')}`)), ms);
        const w = { pred, resolve: (l: LogLine) => { clearTimeout(t); resolve(l); } };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(t);
            reject(new Error(`process exited before a matching log line; got:\n${lines.map((x) => JSON.stringify(x)).join('\n')}\n${stderr.join('')}`));
          }
        });
      });
    },
    kill(sig = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}

/** Starts a process and waits for "Muninn started"; returns its HTTP and gRPC ports. */
export async function startMuninn(script: string, args: string[]): Promise<Proc & { httpPort: number; grpcPort: number }> {
  const dataArg = args.some((a) => a.startsWith('-blocks-storage.tsdb.dir')) ? [] : [`-blocks-storage.tsdb.dir=${tempDir('muninn-test-')}`];
  const p = spawnNode(script, [
    ...dataArg,
    '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0',
    '-server.grpc-listen-address=127.0.0.1', '-server.grpc-listen-port=0', ...args,
  ]);
  try {
    const started = await p.waitForLine((l) => l.msg === 'Muninn started', 10_000);
    const http = String(started.http);
    return Object.assign(p, { httpPort: Number(http.slice(http.lastIndexOf(':') + 1)), grpcPort: Number(started.grpcPort) });
  } catch (e) {
    p.kill('SIGKILL');
    throw e;
  }
}

/** Log lines that report a problem: errors, fatals, unhandled errors. */
export function problemLines(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => l.level === 'error' || l.level === 'fatal' || /unhandled|uncaught/i.test(String(l.msg)));
}

/** A new temporary directory (left for the OS to clean; tests that write much remove their own). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
