// A real etcd for tests: one member on loopback, free ports, a temporary data dir. It can be
// stopped (SIGTERM), killed (SIGKILL), paused (SIGSTOP, to make calls hang rather than fail) and
// restarted on the same ports and data dir, so tests can take the store away and bring it back.
//
//   const etcd = await startEtcd();
//   ... new EtcdKV({ endpoints: [etcd.endpoint], ... })
//   await etcd.stop(); await etcd.restart(); await etcd.close();
//
// The binary is $ETCD_BIN, else `etcd` on PATH, else /usr/bin/etcd (Debian `etcd-server`).
import { findBinary, killOnExit } from './binaries.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { freePort } from '../src/util/net.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The etcd binary to run, or null if there is none. */
export function etcdBinary(): string | null {
  return findBinary('etcd', 'ETCD_BIN', ['/usr/bin/etcd']);
}

/** Whether tests can start etcd. Tests skip with `{ skip: 'etcd binary not found' }` only when false. */
export function etcdAvailable(): boolean {
  return etcdBinary() !== null;
}

export interface EtcdServer {
  /** http://127.0.0.1:<client port> */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** Whether the process is up (it may be paused). */
  readonly running: boolean;
  /** The last lines etcd wrote (stderr and stdout), for failure messages. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. No-op when not running. */
  kill(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets but answers nothing, so calls hang until their deadline. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts etcd again on the same ports and data dir (stopping it first if running); waits until healthy. */
  restart(): Promise<void>;
  /** Stops etcd (SIGKILL) and removes the data dir. Idempotent. */
  close(): Promise<void>;
}

export interface StartEtcdOptions {
  /** How long to wait for /health to answer true. Default 15 s. */
  readyTimeoutMs?: number;
}



function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET /health once, without connection reuse (no pooled socket outlives the check). */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

class EtcdProcess implements EtcdServer {
  readonly endpoint: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  private closed = false;
  private readonly lines: string[] = [];

  constructor(
    private readonly bin: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
  ) {
    this.endpoint = `http://127.0.0.1:${clientPort}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  output(): string {
    return this.lines.join('');
  }

  /** Spawns etcd and waits until it reports healthy; rejects (process killed) if it exits or times out. */
  async start(readyTimeoutMs: number): Promise<void> {
    if (this.closed) throw new Error('etcd helper is closed');
    if (this.child !== null) throw new Error('etcd is already running');
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(this.bin, [
      '--name', 't',
      '--data-dir', this.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `t=${peer}`,
      '--log-level', 'warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const untrack = killOnExit(child);
    this.child = child;
    this.paused = false;
    let exitedEarly = false;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        untrack();
        if (this.child === child) this.child = null;
        exitedEarly = true;
        resolve();
      });
      child.once('error', (e) => {
        this.keep(`spawn error: ${e.message}\n`);
        untrack();
        if (this.child === child) this.child = null;
        exitedEarly = true;
        resolve();
      });
    });
    const keep = (c: Buffer): void => this.keep(c.toString('utf8'));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    const until = Date.now() + readyTimeoutMs;
    while (Date.now() < until) {
      if (exitedEarly) throw new Error(`etcd exited during startup:\n${this.output()}`);
      if (await healthy(this.clientPort)) return;
      await sleep(50);
    }
    await this.signalAndWait('SIGKILL', 0);
    throw new Error(`etcd not healthy within ${readyTimeoutMs} ms:\n${this.output()}`);
  }

  private keep(s: string): void {
    this.lines.push(s);
    if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
  }

  private async signalAndWait(sig: NodeJS.Signals, escalateAfterMs: number): Promise<void> {
    const child = this.child;
    if (child === null) return;
    if (this.paused && sig !== 'SIGKILL') child.kill('SIGCONT');
    this.paused = false;
    child.kill(sig);
    if (escalateAfterMs > 0) {
      let t: NodeJS.Timeout | undefined;
      const escalate = new Promise<void>((r) => {
        t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, escalateAfterMs);
      });
      await Promise.race([this.exited, escalate]);
      clearTimeout(t);
    }
    await this.exited;
  }

  stop(): Promise<void> {
    return this.signalAndWait('SIGTERM', 5000);
  }

  kill(): Promise<void> {
    return this.signalAndWait('SIGKILL', 0);
  }

  async pause(): Promise<void> {
    if (this.child === null || this.paused) return;
    const pid = this.child.pid as number;
    this.child.kill('SIGSTOP');
    this.paused = true;
    // the signal is delivered asynchronously: wait until every thread is stopped (state T), or a
    // request sent right after pause() may still be answered
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      let state = '';
      try {
        state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '';
      } catch {
        return;
      }
      if (state === 'T' || state === 't') return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  resume(): void {
    if (this.child === null || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  async restart(readyTimeoutMs = 15_000): Promise<void> {
    await this.stop();
    await this.start(readyTimeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Starts a single-member etcd on free loopback ports and waits until it is healthy. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdServer> {
  const bin = etcdBinary();
  if (bin === null) throw new Error('etcd binary not found (install etcd-server or set ETCD_BIN)');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  let last: unknown;
  // The free ports can be taken between probing and binding: try a few pairs.
  for (let attempt = 0; attempt < 3; attempt++) {
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'muninn-etcd-'));
    const p = new EtcdProcess(bin, clientPort, peerPort, dataDir);
    try {
      await p.start(readyTimeoutMs);
      return p;
    } catch (e) {
      last = e;
      await p.close();
    }
  }
  throw last;
}
