// Helpers the process-level benchmarks share (bench:ingest, bench:ingester): free ports, a
// process's CPU seconds and peak RSS from /proc, starting Muninn and Prometheus (Debian package)
// on 127.0.0.1, running the reference workload generator ../shared/bench/rwload.mjs and the
// read-back check verify.mjs, and summarising a V8 .cpuprofile.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../src/util/net.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Muninn binary of the build this file belongs to (dist/ or another --outDir). */
export const MUNINN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** Published reference figures, ../shared/bench/README.md (2-core machine, concurrency 4, median of 3). */
export const PUBLISHED = {
  source: '../shared/bench/README.md (2-core machine of this project, concurrency 4, median of 3)',
  prometheus: { receiver: 'Prometheus 2.42', samplesPerSecond: 198_000, samplesPerCpuSecond: 103_000, peakRssMiB: 514 },
  victoriaMetrics: { receiver: 'VictoriaMetrics 1.79.5', samplesPerSecond: 1_167_000, samplesPerCpuSecond: 663_000, peakRssMiB: 280 },
} as const;

export function procStatus(pid: number): { hwmKiB: number; rssKiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { hwmKiB: kib('VmHWM'), rssKiB: kib('VmRSS') };
}

/** utime + stime of every thread of the process, in seconds (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Looks for `rel` in the folders above this file (dist/bench, .build/x/bench, ...). */
function findUp(rel: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** ../shared/bench/<name> (rwload.mjs, verify.mjs) wherever this build lives, or null. */
export function sharedBenchTool(name: string): string | null {
  return findUp(join('shared', 'bench', name));
}

export function which(bin: string): string | null {
  try {
    return execFileSync('which', [bin], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

export interface Server {
  pid: number;
  /** Base URL of the HTTP server, http://127.0.0.1:PORT */
  url: string;
  /** SIGTERM, wait for the exit, remove the data folder. */
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, dir: string | null): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  };
}

export interface MuninnOptions {
  /** Muninn's flags besides the listen addresses and -blocks-storage.tsdb.dir. */
  args: string[];
  /** Node's own flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Where the TSDB goes; a temporary folder (removed by stop) when not given. */
  tsdbDir?: string;
}

/**
 * Starts `node <build>/src/cli/main.js` with HTTP and gRPC on 127.0.0.1, ports picked by the OS
 * (read back from the "Muninn started" log line). The process's log is drained (errors and
 * warnings are passed through to stderr).
 */
export async function startMuninn(o: MuninnOptions): Promise<Server & { grpcPort: number; dir: string }> {
  const dir = o.tsdbDir ?? mkdtempSync(join(tmpdir(), 'bench-muninn-'));
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), MUNINN_MAIN, ...o.args, `-blocks-storage.tsdb.dir=${dir}`,
    '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', '-server.grpc-listen-address=127.0.0.1', '-server.grpc-listen-port=0'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(`[muninn] ${c.toString()}`));
  const { httpPort, grpcPort } = await new Promise<{ httpPort: number; grpcPort: number }>((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      const m = /"http":"[^"]*:(\d+)","grpcPort":(\d+)/.exec(buf);
      if (m !== null) {
        child.stdout?.off('data', onData);
        // keep draining the log; pass on warnings and errors (pino levels 40+)
        child.stdout?.on('data', (d: Buffer) => {
          for (const line of d.toString().split('\n')) if (/"level":"(warn|error|fatal)"|"level":[4-6]0/.test(line)) process.stderr.write(`[muninn] ${line.slice(0, 500)}\n`);
        });
        child.removeListener('exit', onExit);
        resolve({ httpPort: Number(m[1]), grpcPort: Number(m[2]) });
      }
    };
    const onExit = (): void => reject(new Error(`muninn exited early: ${buf.slice(-2000)}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  return { pid: child.pid as number, url: `http://127.0.0.1:${httpPort}`, grpcPort, dir, stop: stopper(child, o.tsdbDir === undefined ? dir : null) };
}

/**
 * Starts Prometheus from Debian's package as ../shared/bench/README.md does: remote-write
 * receiver on, a config with only `global: {scrape_interval: 15s}`, a temporary TSDB folder.
 * Null (with the reason on stderr) when the binary is not installed.
 */
export async function startPrometheus(): Promise<Server | null> {
  const bin = which('prometheus');
  if (bin === null) {
    console.error('prometheus: no prometheus binary (apt-get install prometheus); skipped');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {scrape_interval: 15s}\n');
  const port = await freePort();
  const child = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) break;
    if (i >= 150 || child.exitCode !== null) {
      await stop();
      throw new Error('prometheus did not become ready in 30 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: child.pid as number, url, stop };
}

/** The parts of rwload's JSON result line the benchmarks use. */
export interface RwloadResult {
  ok: boolean;
  error?: string;
  config: { series: number; batch: number; concurrency: number; duration_s: number; step_ms: number; start_ms: number; warmup_rounds: number; tenant: string | null };
  warmup: { requests_ok: number; requests_failed: number; samples_ok: number; by_status: Record<string, number> };
  timed: {
    elapsed_s: number; requests_ok: number; requests_failed: number; by_status: Record<string, number>; first_error: string | null; aborted: string | null;
    samples_ok: number; samples_failed: number; samples_per_s: number; latency_ms: { p50: number; p90: number; p99: number; max: number };
  };
  generator: { cpu_s: number; cpu_cores: number };
  receiver: { pid: number; cpu_s: number; cpu_cores: number; samples_per_cpu_s: number | null; vmhwm_kb: number; vmrss_kb: number } | null;
  machine: { busy_cores: number } | null;
  data: { series: number; total_samples_ok: number; total_samples_failed: number; first_ts_ms: number; last_ts_ms: number; last_round: number };
  by_status?: Record<string, number>;
}

/** Runs rwload to completion and returns its JSON line (it exits 1 when a request failed). */
export async function runRwload(args: string[], opts: { rwload?: string; out?: string } = {}): Promise<RwloadResult> {
  const rwload = opts.rwload ?? sharedBenchTool('rwload.mjs');
  if (rwload === null) throw new Error('../shared/bench/rwload.mjs not found above this build');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [rwload, ...args, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (c: Buffer) => (buf += c.toString()));
    child.once('error', reject);
    // exit code 1 = finished with failed requests (counted in the JSON); 2 = usage error
    child.once('exit', (code) => (code === 0 || code === 1 ? resolve(buf) : reject(new Error(`rwload exited ${code}: ${buf}`))));
  });
  const line = out.trim().split('\n').at(-1) ?? '';
  if (opts.out !== undefined) writeFileSync(opts.out, line + '\n');
  try {
    return JSON.parse(line) as RwloadResult;
  } catch {
    throw new Error(`rwload printed no JSON line: ${out.slice(0, 500)}`);
  }
}

export interface VerifyResult {
  ok: boolean;
  found: { metric_names: number; series: number; samples: number | null } | null;
  expected: { series: number | null; samples: number | null };
  error: string | null;
}

/** Runs ../shared/bench/verify.mjs against a query API base URL with rwload's result file. */
export async function runVerify(baseUrl: string, resultFile: string, extra: string[] = []): Promise<VerifyResult> {
  const verify = sharedBenchTool('verify.mjs');
  if (verify === null) throw new Error('../shared/bench/verify.mjs not found above this build');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [verify, '--url', baseUrl, '--result', resultFile, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (c: Buffer) => (buf += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 || code === 1 ? resolve(buf) : reject(new Error(`verify exited ${code}: ${buf}`))));
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as VerifyResult;
}

// ---------------------------------------------------------------------------------------------
// V8 CPU profiles (node --cpu-prof)

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds of samples that were not (idle). */
  busyMs: number;
  idleMs: number;
  /** Self time by function, highest first, percent of busy time. */
  selfByFunction: Array<{ fn: string; where: string; ms: number; pct: number }>;
  /** Self time by source file (node internals and V8 pseudo-frames as they are). */
  selfByFile: Array<{ file: string; ms: number; pct: number }>;
  /** Total (inclusive) time of functions, highest first. */
  totalByFunction: Array<{ fn: string; where: string; ms: number; pct: number }>;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const m = /\/(src|bench|node_modules)\/(.*)$/.exec(url);
  if (m !== null) return `${m[1]}/${m[2]}`;
  return url.replace(/^file:\/\//, '');
}

/** Self and inclusive time per function of one .cpuprofile (main thread of a node process). */
export function summarizeCpuProfile(file: string, top = 30): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const key = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\t${shortUrl(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  let idleUs = 0;
  let busyUs = 0;
  const fnSelf = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id) as ProfileNode;
    if (n.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const k = key(n);
    fnSelf.set(k, (fnSelf.get(k) ?? 0) + us);
    const f = shortUrl(n.callFrame.url) || n.callFrame.functionName;
    fileSelf.set(f, (fileSelf.get(f) ?? 0) + us);
    // inclusive: each distinct function on the stack once
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(byId.get(cur) as ProfileNode);
      if (seen.has(kk)) continue;
      seen.add(kk);
      fnTotal.set(kk, (fnTotal.get(kk) ?? 0) + us);
    }
  }
  const pct = (us: number): number => Math.round((1000 * us) / busyUs) / 10;
  const rows = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]).slice(0, top);
  return {
    file,
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    selfByFunction: rows(fnSelf).map(([k, us]) => ({ fn: k.split('\t')[0] as string, where: k.split('\t')[1] as string, ms: Math.round(us / 1000), pct: pct(us) })),
    selfByFile: rows(fileSelf).map(([f, us]) => ({ file: f, ms: Math.round(us / 1000), pct: pct(us) })),
    totalByFunction: rows(fnTotal).filter(([k]) => !k.startsWith('(root)')).map(([k, us]) => ({ fn: k.split('\t')[0] as string, where: k.split('\t')[1] as string, ms: Math.round(us / 1000), pct: pct(us) })),
  };
}

/** The .cpuprofile files node wrote into dir (one per thread). */
export function cpuProfilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
}

export function printProfileSummary(s: ProfileSummary, log: (line: string) => void = (l) => console.error(l)): void {
  log(`profile ${s.file}: ${(s.busyMs / 1000).toFixed(1)} s busy, ${(s.idleMs / 1000).toFixed(1)} s idle (main thread; percentages of busy time)`);
  log('  self time by function:');
  for (const r of s.selfByFunction) log(`    ${r.pct.toFixed(1).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}  ${r.where}`);
  log('  self time by file:');
  for (const r of s.selfByFile.slice(0, 20)) log(`    ${r.pct.toFixed(1).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.file}`);
  log('  total (inclusive) time by function:');
  for (const r of s.totalByFunction) log(`    ${r.pct.toFixed(1).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}  ${r.where}`);
}

/**
 * Muninn as one process for a benchmark: every component, the rings on loopback, one replica,
 * and no per-tenant rate or series limit in the way of the load.
 */
export const SINGLE_PROCESS_ARGS: readonly string[] = [
  '-target=all',
  '-ingester.ring.replication-factor=1',
  '-ingester.ring.instance-addr=127.0.0.1',
  '-distributor.ring.instance-addr=127.0.0.1',
  '-distributor.ingestion-rate-limit=1e12',
  '-distributor.ingestion-burst-size=1000000000',
  '-ingester.max-global-series-per-user=0',
];
