// A real Prometheus (Debian's `prometheus`, 2.42) for the rollout test: scrapes the cluster's own
// /metrics every second and remote-writes everything through HAProxy, as a user's Prometheus
// would. Runs in a process group of its own (killed with the group on exit); its TSDB and config
// live in a temporary folder removed by stop().
import { findBinary } from '../binaries.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest, sumMetric, waitUntil } from '../cluster-helpers.js';
import { freePort } from '../../src/util/net.js';
import { trackGroup, untrackGroup } from './procgroup.js';

export function prometheusBinary(): string | null {
  return findBinary('prometheus', 'PROMETHEUS_BIN', ['/usr/bin/prometheus']);
}

export interface ScrapeTarget {
  /** host:port */
  address: string;
  /** The `node` label of its series (the node id). */
  node: string;
}

export interface PrometheusOptions {
  targets: readonly ScrapeTarget[];
  /** Full remote-write URL (HAProxy's /api/v1/push). */
  remoteWriteUrl: string;
  tenant: string;
  /** scrape_interval, e.g. '1s'. */
  scrapeInterval?: string;
}

export function renderPrometheusConfig(o: PrometheusOptions): string {
  const si = o.scrapeInterval ?? '1s';
  const statics = o.targets.map((t) => `      - targets: ['${t.address}']\n        labels: { node: '${t.node}' }\n`).join('');
  return `global:
  scrape_interval: ${si}
  scrape_timeout: ${si}
  evaluation_interval: ${si}
scrape_configs:
  - job_name: muninn
    static_configs:
${statics}remote_write:
  - url: ${o.remoteWriteUrl}
    name: muninn
    headers:
      X-Scope-OrgID: ${o.tenant}
    remote_timeout: 10s
    queue_config:
      capacity: 10000
      max_shards: 10
      min_shards: 1
      max_samples_per_send: 2000
      batch_send_deadline: 1s
      min_backoff: 30ms
      max_backoff: 2s
      retry_on_http_429: true
`;
}

export class Prometheus {
  private child: ChildProcess | null = null;
  readonly output: string[] = [];
  private exitedP: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  readonly startedAt = Date.now();

  constructor(private readonly bin: string, readonly dir: string, readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(configPath: string): void {
    const child = spawn(this.bin, [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
      '--log.level=warn',
      '--storage.tsdb.retention.time=1d',
    ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    if (child.pid !== undefined) trackGroup(child.pid);
    const keep = (c: string): void => {
      for (const l of c.split('\n')) if (l !== '' && this.output.length < 2000) this.output.push(l);
    };
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    this.exitedP = new Promise((resolve) => child.once('exit', (code, signal) => {
      if (child.pid !== undefined) untrackGroup(child.pid);
      resolve({ code, signal });
    }));
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    await waitUntil(async () => {
      if (!this.running) throw new Error(`prometheus exited: ${this.output.slice(-20).join('\n')}`);
      return (await httpRequest('GET', `${this.url}/-/ready`, { timeoutMs: 1000 })).status === 200;
    }, { timeoutMs, what: 'prometheus /-/ready', describe: () => this.output.slice(-10).join('\n') });
  }

  async metricsText(): Promise<string> {
    const r = await httpRequest('GET', `${this.url}/metrics`, { timeoutMs: 5000 });
    if (r.status !== 200) throw new Error(`prometheus /metrics answered ${r.status}`);
    return r.body;
  }

  /** Sum of a metric of Prometheus's own /metrics (0 when absent). */
  async metric(name: string): Promise<number> {
    const v = sumMetric(await this.metricsText(), name);
    return Number.isNaN(v) ? 0 : v;
  }

  /** GET of Prometheus's HTTP API; throws unless status success. */
  async api(path: string, params: Record<string, string | string[]>): Promise<unknown> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of typeof v === 'string' ? [v] : v) qs.append(k, x);
    const r = await httpRequest('GET', `${this.url}${path}?${qs.toString()}`, { timeoutMs: 30_000 });
    const j = JSON.parse(r.body) as { status: string; data?: unknown; error?: string };
    if (r.status !== 200 || j.status !== 'success') throw new Error(`prometheus ${path} answered ${r.status}: ${r.body.slice(0, 300)}`);
    return j.data;
  }

  async stop(): Promise<void> {
    if (this.child !== null && this.running) {
      try {
        process.kill(-this.child.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-this.child!.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await this.exitedP;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startPrometheus(o: PrometheusOptions): Promise<Prometheus> {
  const bin = prometheusBinary();
  if (bin === null) throw new Error('prometheus binary not found (install Debian\'s prometheus or set PROMETHEUS_BIN)');
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'muninn-rollout-prom-'));
    const cfg = join(dir, 'prometheus.yml');
    writeFileSync(cfg, renderPrometheusConfig(o));
    const p = new Prometheus(bin, dir, await freePort());
    p.start(cfg);
    try {
      await p.waitReady();
      return p;
    } catch (e) {
      last = e;
      await p.stop().catch(() => undefined);
    }
  }
  throw last;
}
