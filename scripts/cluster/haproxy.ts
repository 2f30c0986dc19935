// HAProxy in front of the distributors and queriers of a local cluster (scripts/cluster.ts), as a
// Kubernetes Service or a Mimir gateway would be: one HTTP port that sends remote writes
// (/api/v1/push, /otlp/, /distributor/) to the distributors and everything else (the Prometheus
// API under /prometheus) to the queriers, and a stats page. Every server is health-checked on
// GET /ready, often and with fall 1 / rise 1, so a process that starts its shutdown (its /ready
// answers 503 from the SIGTERM on, while it keeps serving for -shutdown-delay) leaves the rotation
// within one check interval, as a pod that is not ready leaves its Service's endpoints.
//
// The binary is $HAPROXY_BIN, else `haproxy` on PATH, else /usr/sbin/haproxy (Debian `haproxy`).
import { findBinary, killOnExit } from '../../test/binaries.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { httpRequest, waitUntil } from '../../test/cluster-helpers.js';

/** The haproxy binary to run, or null if there is none. */
export function haproxyBinary(): string | null {
  return findBinary('haproxy', 'HAPROXY_BIN', ['/usr/sbin/haproxy']);
}

export function haproxyAvailable(): boolean {
  return haproxyBinary() !== null;
}

/** The backends the gateway routes to. */
export type Backend = 'distributors' | 'queriers';

export interface BackendServer {
  /** The server's name in HAProxy: the node's instance id. */
  name: string;
  host: string;
  port: number;
}

export interface HealthCheck {
  /** Time between two checks of a server, ms (HAProxy `inter`, also `fastinter` and `downinter`). */
  intervalMs: number;
  /** Consecutive failed checks that take a server out of rotation (`fall`). */
  fall: number;
  /** Consecutive passed checks that put it back (`rise`). */
  rise: number;
  /** How long a check may take, ms (`timeout check`). */
  timeoutMs: number;
}

export const DEFAULT_HEALTH_CHECK: HealthCheck = { intervalMs: 1000, fall: 1, rise: 1, timeoutMs: 1000 };

export interface HaproxyConfig {
  gatewayPort: number;
  statsPort: number;
  /** Unix socket of the runtime API (admin level), used to move a server to a new port. */
  socketPath: string;
  distributors: readonly BackendServer[];
  queriers: readonly BackendServer[];
  check: HealthCheck;
  /** Address the gateway and stats listen on. Default 127.0.0.1. */
  bindAddress?: string;
}

/** The haproxy.cfg of a cluster. */
export function renderHaproxyConfig(c: HaproxyConfig): string {
  const bind = c.bindAddress ?? '127.0.0.1';
  const ms = (n: number): string => `${Math.max(1, Math.round(n))}ms`;
  const servers = (list: readonly BackendServer[]): string => list.map((s) => `  server ${s.name} ${s.host}:${s.port}\n`).join('');
  const backend = (name: Backend, list: readonly BackendServer[]): string => `backend ${name}
  balance roundrobin
  # a server is in rotation only while GET /ready answers 200: a Muninn process answers 503 from
  # its SIGTERM on (while still serving for -shutdown-delay), and while it is starting
  option httpchk GET /ready
  http-check expect status 200
${servers(list)}`;
  return `# Written by scripts/cluster.ts; regenerated at every start.
global
  log stdout format raw local0 info
  stats socket ${c.socketPath} mode 600 level admin
  maxconn 4096

defaults
  mode http
  log global
  option httplog
  option dontlognull
  # keep-alive on both sides; a server's Connection: close (a Muninn process in its shutdown
  # delay) closes that server connection after the answer, and the client's stays open
  option http-keep-alive
  timeout connect 1s
  timeout client 2m
  timeout server 2m
  timeout http-request 30s
  timeout http-keep-alive 10s
  timeout check ${ms(c.check.timeoutMs)}
  # a connection refused or closed without an answer (a process that just closed its listener) is
  # retried on another server; remote write is safe to repeat (same samples, same values)
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response
  default-server check inter ${ms(c.check.intervalMs)} fastinter ${ms(c.check.intervalMs)} downinter ${ms(c.check.intervalMs)} fall ${c.check.fall} rise ${c.check.rise}

frontend gateway
  bind ${bind}:${c.gatewayPort}
  acl is_write path /api/v1/push
  acl is_write path_beg /otlp/ /distributor/
  use_backend distributors if is_write
  default_backend queriers

${backend('distributors', c.distributors)}
${backend('queriers', c.queriers)}
frontend stats
  bind ${bind}:${c.statsPort}
  http-request set-log-level silent
  stats enable
  stats uri /stats
  stats refresh 2s
  stats show-legends
`;
}

/** One server row of the stats CSV (`GET /stats;csv`). */
export interface ServerStat {
  backend: string;
  server: string;
  /** UP, DOWN, MAINT, `UP 1/2` (going down), `DOWN 1/2` (going up), NOLB, no check. */
  status: string;
  /** Last check's status (L7OK, L7STS, L4CON, ...) and HTTP code (0 while a check runs). */
  checkStatus: string;
  checkCode: string;
  /** A check is running (HAProxy shows the last status with a `* ` in front). */
  checkRunning: boolean;
  /** Times the server was picked by the load balancer. */
  lbtot: number;
  /** Responses by class, as HAProxy counted them for this server. */
  hrsp2xx: number;
  hrsp5xx: number;
  /** Connection errors, retries and redispatches. */
  econ: number;
  wretr: number;
  wredis: number;
}

/** Parses HAProxy's stats CSV into its server rows. */
export function parseStatsCsv(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined || !header.startsWith('# ')) throw new Error(`not a stats CSV: ${csv.slice(0, 200)}`);
  const cols = header.slice(2).split(',');
  const idx = (name: string): number => cols.indexOf(name);
  const out: ServerStat[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const get = (name: string): string => f[idx(name)] ?? '';
    const num = (name: string): number => (get(name) === '' ? 0 : Number(get(name)));
    if (get('type') !== '2') continue; // 0 frontend, 1 backend, 2 server
    out.push({
      backend: get('pxname'),
      server: get('svname'),
      status: get('status'),
      checkStatus: get('check_status').replace(/^\* /, ''),
      checkRunning: get('check_status').startsWith('* '),
      checkCode: get('check_code'),
      lbtot: num('lbtot'),
      hrsp2xx: num('hrsp_2xx'),
      hrsp5xx: num('hrsp_5xx'),
      econ: num('econ'),
      wretr: num('wretr'),
      wredis: num('wredis'),
    });
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


export interface HaproxyStartOptions {
  config: HaproxyConfig;
  /** Where haproxy.cfg is written. */
  configPath: string;
  /** Every output line of HAProxy (access log, server state changes, alerts), as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How long to wait for the stats page to answer. Default 10 s. */
  readyTimeoutMs?: number;
}

/** A running HAProxy (started with -db: in the foreground, logging to its stdout). */
export class Haproxy {
  private child: ChildProcess | null = null;
  private exitedP: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  private readonly lines: string[] = [];
  private config: HaproxyConfig;

  constructor(private readonly bin: string, private readonly o: HaproxyStartOptions) {
    this.config = o.config;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.config.gatewayPort}`;
  }

  get statsUrl(): string {
    return `http://127.0.0.1:${this.config.statsPort}/stats`;
  }

  get configPath(): string {
    return this.o.configPath;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines HAProxy wrote, for failure messages. */
  output(): string {
    return this.lines.join('\n');
  }

  /** Writes the config, spawns HAProxy (a bad config or a taken port makes it exit: rejects) and waits until its stats page answers. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error('haproxy is already running');
    writeFileSync(this.o.configPath, renderHaproxyConfig(this.config));
    const child = spawn(this.bin, ['-db', '-f', this.o.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const untrack = killOnExit(child);
    this.child = child;
    let exited = false;
    this.exitedP = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        untrack();
        if (this.child === child) this.child = null;
        exited = true;
        resolve({ code, signal });
      };
      child.once('exit', done);
      child.once('error', (e) => {
        this.keep(`spawn error: ${e.message}`, 'stderr');
        done(null, null);
      });
    });
    for (const [stream, name] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']] as const) {
      let buf = '';
      stream?.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.keep(buf.slice(0, nl), name);
          buf = buf.slice(nl + 1);
        }
      });
    }
    const until = Date.now() + (this.o.readyTimeoutMs ?? 10_000);
    while (Date.now() < until) {
      if (exited) throw new Error(`haproxy exited during startup:\n${this.output()}`);
      const r = await httpRequest('GET', `${this.statsUrl};csv`, { timeoutMs: 1000 });
      if (r.status === 200) return;
      await sleep(50);
    }
    await this.kill();
    throw new Error(`haproxy stats page not answering within ${this.o.readyTimeoutMs ?? 10_000} ms:\n${this.output()}`);
  }

  private keep(line: string, stream: 'stdout' | 'stderr'): void {
    this.lines.push(line);
    if (this.lines.length > 300) this.lines.splice(0, this.lines.length - 300);
    this.o.onLine?.(line, stream);
  }

  /** The server rows of the stats page. */
  async servers(): Promise<ServerStat[]> {
    const r = await httpRequest('GET', `${this.statsUrl};csv`, { timeoutMs: 2000 });
    if (r.status !== 200) throw new Error(`haproxy stats answered ${r.status}: ${r.body.slice(0, 200)}`);
    return parseStatsCsv(r.body);
  }

  /** One server's row. */
  async server(backend: Backend, name: string): Promise<ServerStat> {
    const s = (await this.servers()).find((x) => x.backend === backend && x.server === name);
    if (s === undefined) throw new Error(`haproxy has no server ${backend}/${name}`);
    return s;
  }

  /**
   * Waits until the server's status is `status` (exactly, not a transition like `DOWN 1/2`); UP
   * also needs a passed check (HAProxy starts servers UP before their first check, `INI`).
   */
  async waitForServer(backend: Backend, name: string, status: 'UP' | 'DOWN', timeoutMs = 15_000): Promise<void> {
    let last = '';
    await waitUntil(async () => {
      const s = await this.server(backend, name);
      last = `${s.status} (check ${s.checkStatus} ${s.checkCode})`;
      return s.status === status && (status === 'DOWN' || s.checkStatus === 'L7OK');
    }, { timeoutMs, intervalMs: 50, what: `haproxy ${backend}/${name} ${status}`, describe: () => last });
  }

  /** One command on the runtime API (the stats socket); resolves with its answer. */
  command(cmd: string, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.config.socketPath);
      let out = '';
      const t = setTimeout(() => sock.destroy(new Error(`haproxy runtime API: no answer to "${cmd}" within ${timeoutMs} ms`)), timeoutMs);
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.end(`${cmd}\n`));
      sock.on('data', (c: string) => { out += c; });
      sock.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      sock.on('close', () => {
        clearTimeout(t);
        resolve(out);
      });
    });
  }

  /** Points a server at a new address (a restarted process that had to take another port). */
  async setServerAddress(backend: Backend, name: string, host: string, port: number): Promise<void> {
    const answer = await this.command(`set server ${backend}/${name} addr ${host} port ${port}`);
    if (!/changed|no need to change/i.test(answer)) throw new Error(`haproxy: set server ${backend}/${name} addr ${host} port ${port}: ${answer.trim()}`);
    const list = backend === 'distributors' ? this.config.distributors : this.config.queriers;
    const updated = list.map((s) => (s.name === name ? { ...s, host, port } : s));
    this.config = backend === 'distributors' ? { ...this.config, distributors: updated } : { ...this.config, queriers: updated };
    // keep the file in step, for whoever reads it (and a later restart)
    writeFileSync(this.o.configPath, renderHaproxyConfig(this.config));
  }

  private async signalAndWait(sig: NodeJS.Signals, escalateAfterMs: number): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill(sig);
    if (escalateAfterMs > 0) {
      let t: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exitedP.then(() => false),
        new Promise<boolean>((r) => { t = setTimeout(() => r(true), escalateAfterMs); }),
      ]);
      clearTimeout(t);
      if (timedOut) child.kill('SIGKILL');
    }
    await this.exitedP;
  }

  /** Soft stop (SIGUSR1: stop listening, finish the connections in progress), SIGTERM after 3 s, then SIGKILL. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill('SIGUSR1');
    let t: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exitedP.then(() => false),
      new Promise<boolean>((r) => { t = setTimeout(() => r(true), 3000); }),
    ]);
    clearTimeout(t);
    if (timedOut) await this.signalAndWait('SIGTERM', 2000);
  }

  kill(): Promise<void> {
    return this.signalAndWait('SIGKILL', 0);
  }
}

/** Starts HAProxy (see Haproxy.start); throws if the binary is missing. */
export async function startHaproxy(o: HaproxyStartOptions): Promise<Haproxy> {
  const bin = haproxyBinary();
  if (bin === null) throw new Error('haproxy binary not found (install Debian\'s haproxy or set HAPROXY_BIN)');
  const h = new Haproxy(bin, o);
  await h.start();
  return h;
}
