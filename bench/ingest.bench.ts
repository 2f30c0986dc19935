// End-to-end ingest benchmark: `npm run bench:ingest [-- --with-prometheus --runs 3 ...]`.
//
// Starts Muninn as one process (`-target=all`, ring replication factor 1, everything on
// 127.0.0.1, a temporary -blocks-storage.tsdb.dir), drives its `POST /api/v1/push` with the
// reference workload generator ../shared/bench/rwload.mjs (100k series x 10 labels, 2000 samples
// per request, 4 connections, 30 s timed after one untimed round that creates the series) and
// prints samples/s, samples per Muninn CPU-second (utime+stime of all its threads over the timed
// phase, as rwload reads them from /proc/<pid>/stat given --pid) and Muninn's peak RSS (VmHWM).
// With --with-prometheus, Prometheus from Debian's package is driven the same way in the same
// run (`/api/v1/write`), and Muninn's ratios to it are printed. Then ../shared/bench/verify.mjs
// reads the data back where a receiver has the Prometheus query API (Muninn: not yet, skipped
// with the reason printed).
//
// Timestamps: rwload stamps round r with start + r x 15 s. At 200k-2M samples/s it sends 2-20
// rounds of 100k series per second, i.e. 0.5-5 minutes of sample time per second: started at
// "now" the data would be 15 min to 2.5 h in the future by the end, and Muninn (like Mimir)
// refuses samples more than -validation.create-grace-period (10m) ahead of its clock. So the
// data starts --lookback-ms (default 2 h) in the past: every sample is then in order, no newer
// than now + 10m up to about (2 h + 10 m) / 15 s x 100k / 31 s = 1.7M samples/s (above what
// VictoriaMetrics reaches on this machine), and far inside what both receivers accept at the old
// end (Muninn's head takes anything no older than its newest sample - 1 h, and truncates only at
// the 13 h retention; past-grace-period is off; Prometheus's empty head has no lower bound and a
// 2 h span never triggers its head compaction, which starts at 3 h). The report prints where the
// data ended relative to the wall clock.
//
// Every non-2xx answer and transport error is counted per status and printed; a run with any is
// reported loudly and the process exits 1.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SINGLE_PROCESS_ARGS,
  cpuProfilesIn, printProfileSummary, PUBLISHED, runRwload, runVerify, type RwloadResult, type Server, sharedBenchTool, startMuninn,
  startPrometheus, summarizeCpuProfile,
} from './harness.js';

const { values: a } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    duration: { type: 'string', default: '30' },
    'step-ms': { type: 'string', default: '15000' },
    'lookback-ms': { type: 'string', default: String(2 * 3_600_000) },
    tenant: { type: 'string', default: 'bench' },
    runs: { type: 'string', default: '1' },
    'with-prometheus': { type: 'boolean', default: false },
    'no-verify': { type: 'boolean', default: false },
    profile: { type: 'string' },
    'muninn-flag': { type: 'string', multiple: true, default: [] },
    'node-flag': { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(`npm run bench:ingest -- [options]
  --with-prometheus     also run Prometheus (Debian package) with the same workload and print ratios
  --runs N              runs per receiver, alternating; medians (min-max) are reported (default 1)
  --series N --batch N --concurrency N --duration S --step-ms MS   rwload workload (100000 2000 4 30 15000)
  --lookback-ms MS      first sample this far before the start (default 7200000 = 2 h; see the file header)
  --tenant ID           X-Scope-OrgID sent to Muninn (default bench)
  --profile DIR         run Muninn under node --cpu-prof (profiles in DIR) and print its hot spots;
                        the figures of a profiled run include the profiler's overhead
  --muninn-flag F       extra Muninn flag, repeatable (e.g. --muninn-flag=-blocks-storage.tsdb.wal-sync-mode=always)
  --node-flag F         extra flag for Muninn's node process, repeatable (e.g. --node-flag=--max-semi-space-size=64)
  --no-verify           skip the read-back with verify.mjs
  --out FILE            append the final JSON line to FILE`);
  process.exit(0);
}

const SERIES = Number(a.series);
const BATCH = Number(a.batch);
const CONC = Number(a.concurrency);
const DURATION = Number(a.duration);
const STEP = Number(a['step-ms']);
const LOOKBACK = Number(a['lookback-ms']);
const RUNS = Number(a.runs);
const GRACE_MS = 600_000; // Muninn's default -validation.create-grace-period
const MiB = 1024 * 1024;

// Muninn in one process. Limits opened so the bench measures ingest, not the limiter: the
// per-tenant ingestion rate limit (default 10k samples/s) and the per-tenant series limit.
const MUNINN_ARGS = [
  ...SINGLE_PROCESS_ARGS,
  ...(a['muninn-flag'] ?? []),
];

interface RunResult {
  receiver: 'muninn' | 'prometheus';
  samplesPerSecond: number;
  samplesPerCpuSecond: number | null;
  cpuCores: number | null;
  peakRssMiB: number | null;
  errors: number;
  requestsOk: number;
  byStatus: Record<string, number>;
  firstError: string | null;
  aborted: string | null;
  latencyMs: { p50: number; p99: number };
  machineBusyCores: number | null;
  firstTsMs: number;
  lastTsMs: number;
  /** last sample timestamp - wall clock at the end of the run (negative: in the past). */
  lastTsVsClockMs: number;
  verify: { ok: boolean; detail: string } | { skipped: string };
}

function log(line: string): void {
  console.error(`[bench:ingest] ${line}`);
}

function rwloadArgs(url: string, pid: number, tenant: string | null): string[] {
  const start = Math.floor(Date.now() / 1000) * 1000 - LOOKBACK;
  return ['--url', url, '--series', String(SERIES), '--batch', String(BATCH), '--concurrency', String(CONC), '--duration', String(DURATION),
    '--step-ms', String(STEP), '--start-ms', String(start), '--pid', String(pid), ...(tenant !== null ? ['--tenant', tenant] : [])];
}

function toRun(receiver: RunResult['receiver'], r: RwloadResult, verify: RunResult['verify']): RunResult {
  const byStatus: Record<string, number> = {};
  for (const src of [r.warmup?.by_status ?? r.by_status ?? {}, r.timed?.by_status ?? {}]) {
    for (const [k, v] of Object.entries(src)) byStatus[k] = (byStatus[k] ?? 0) + v;
  }
  const errors = Object.entries(byStatus).filter(([k]) => !/^2\d\d$/.test(k)).reduce((s, [, v]) => s + v, 0);
  return {
    receiver,
    samplesPerSecond: r.timed?.samples_per_s ?? 0,
    samplesPerCpuSecond: r.receiver?.samples_per_cpu_s ?? null,
    cpuCores: r.receiver?.cpu_cores ?? null,
    peakRssMiB: r.receiver ? Number((r.receiver.vmhwm_kb / 1024).toFixed(1)) : null,
    errors,
    requestsOk: (r.warmup?.requests_ok ?? 0) + (r.timed?.requests_ok ?? 0),
    byStatus,
    firstError: (r.timed?.first_error ?? r.error ?? null)?.trim() ?? null,
    aborted: r.timed?.aborted ?? (r.ok === false && r.timed === undefined ? (r.error ?? 'failed') : null),
    latencyMs: { p50: r.timed?.latency_ms.p50 ?? 0, p99: r.timed?.latency_ms.p99 ?? 0 },
    machineBusyCores: r.machine?.busy_cores ?? null,
    firstTsMs: r.data?.first_ts_ms ?? 0,
    lastTsMs: r.data?.last_ts_ms ?? 0,
    lastTsVsClockMs: r.data ? r.data.last_ts_ms - Date.now() : 0,
    verify,
  };
}

/** The Prometheus query API of a Muninn, or the reason there is none. */
async function muninnQueryApi(base: string, tenant: string): Promise<{ url: string } | { skipped: string }> {
  const tried: string[] = [];
  for (const prefix of ['/prometheus', '']) {
    const res = await fetch(`${base}${prefix}/api/v1/query?query=1`, { headers: { 'x-scope-orgid': tenant } }).catch((e: unknown) => e as Error);
    if (res instanceof Error) {
      tried.push(`${prefix}/api/v1/query: ${res.message}`);
      continue;
    }
    await res.arrayBuffer();
    if (res.status === 200) return { url: `${base}${prefix}` };
    tried.push(`GET ${prefix}/api/v1/query answered ${res.status}`);
  }
  return { skipped: `Muninn has no Prometheus query API yet (the querier module is idle): ${tried.join('; ')}` };
}

async function verifyWith(url: string, file: string, tenant: string | null): Promise<{ ok: boolean; detail: string }> {
  const v = await runVerify(url, file, ['--wait', '30', ...(tenant !== null ? ['--tenant', tenant] : [])]);
  const f = v.found;
  return { ok: v.ok, detail: `${f ? `${f.series} series, ${f.samples} samples` : 'nothing found'}; expected ${v.expected.series} series, ${v.expected.samples} samples${v.error ? `; ${v.error}` : ''}` };
}

async function runOnce(receiver: RunResult['receiver'], runIdx: number): Promise<RunResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  let server: Server | null = null;
  try {
    const profileDir = a.profile !== undefined ? join(a.profile, `run${runIdx}`) : undefined;
    if (receiver === 'muninn') {
      const nodeArgs = [...(a['node-flag'] ?? []), ...(profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
      server = await startMuninn({ args: MUNINN_ARGS, nodeArgs });
    } else {
      server = await startPrometheus();
      if (server === null) throw new Error('prometheus is not installed (apt-get install prometheus)');
    }
    const tenant = receiver === 'muninn' ? (a.tenant as string) : null;
    const pushUrl = `${server.url}${receiver === 'muninn' ? '/api/v1/push' : '/api/v1/write'}`;
    log(`${receiver} run ${runIdx + 1}/${RUNS}: pid ${server.pid}, rwload -> ${pushUrl} (${DURATION} s)`);
    const file = join(scratch, 'rwload.json');
    const r = await runRwload(rwloadArgs(pushUrl, server.pid, tenant), { out: file });
    let verify: RunResult['verify'] = { skipped: '--no-verify' };
    if (!a['no-verify'] && r.data !== undefined) {
      if (sharedBenchTool('verify.mjs') === null) verify = { skipped: '../shared/bench/verify.mjs not found' };
      else if (receiver === 'prometheus') verify = await verifyWith(server.url, file, null);
      else {
        const api = await muninnQueryApi(server.url, tenant as string);
        verify = 'skipped' in api ? api : await verifyWith(api.url, file, tenant);
      }
    }
    const run = toRun(receiver, r, verify);
    log(`${receiver} run ${runIdx + 1}: ${fmtK(run.samplesPerSecond)} samples/s, ${fmtK(run.samplesPerCpuSecond)} samples/CPU-s, peak RSS ${run.peakRssMiB} MiB, ${run.errors} errors`);
    return run;
  } finally {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
    if (receiver === 'muninn' && a.profile !== undefined) {
      for (const f of cpuProfilesIn(join(a.profile, `run${runIdx}`))) printProfileSummary(summarizeCpuProfile(f, 30), (l) => console.log(l));
    }
  }
}

function fmtK(n: number | null): string {
  if (n === null) return '-';
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Agg {
  receiver: string;
  runs: number;
  samplesPerSecond: { median: number; min: number; max: number };
  samplesPerCpuSecond: { median: number; min: number; max: number } | null;
  cpuCores: number | null;
  peakRssMiB: { median: number; min: number; max: number } | null;
  errors: number;
  byStatus: Record<string, number>;
}

function stat(xs: number[]): { median: number; min: number; max: number } {
  return { median: Math.round(median(xs) * 10) / 10, min: Math.min(...xs), max: Math.max(...xs) };
}

function aggregate(runs: RunResult[]): Agg {
  const byStatus: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + v;
  const cpu = runs.map((r) => r.samplesPerCpuSecond).filter((x): x is number => x !== null);
  const rss = runs.map((r) => r.peakRssMiB).filter((x): x is number => x !== null);
  const cores = runs.map((r) => r.cpuCores).filter((x): x is number => x !== null);
  return {
    receiver: runs[0]?.receiver ?? '?',
    runs: runs.length,
    samplesPerSecond: stat(runs.map((r) => r.samplesPerSecond)),
    samplesPerCpuSecond: cpu.length ? stat(cpu) : null,
    cpuCores: cores.length ? Math.round(median(cores) * 100) / 100 : null,
    peakRssMiB: rss.length ? stat(rss) : null,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    byStatus,
  };
}

function range(s: { median: number; min: number; max: number } | null, f: (n: number) => string): string {
  if (s === null) return '-';
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}

async function main(): Promise<void> {
  const started = new Date();
  const receivers: Array<RunResult['receiver']> = a['with-prometheus'] ? ['muninn', 'prometheus'] : ['muninn'];
  const results: Record<string, RunResult[]> = { muninn: [], prometheus: [] };
  const load0 = loadavg()[0] as number;
  for (let i = 0; i < RUNS; i++) {
    for (const rc of receivers) results[rc]?.push(await runOnce(rc, i));
  }
  const load1 = loadavg()[0] as number;
  const mun = aggregate(results.muninn as RunResult[]);
  const prom = a['with-prometheus'] ? aggregate(results.prometheus as RunResult[]) : null;
  const ratio = (x: number | undefined, y: number | undefined): number | null => (x !== undefined && y !== undefined && y > 0 ? Math.round((x / y) * 100) / 100 : null);
  const ratios = prom === null ? null : {
    samplesPerSecond: ratio(mun.samplesPerSecond.median, prom.samplesPerSecond.median),
    samplesPerCpuSecond: ratio(mun.samplesPerCpuSecond?.median, prom.samplesPerCpuSecond?.median),
    peakRss: ratio(mun.peakRssMiB?.median, prom.peakRssMiB?.median),
  };
  const vsPublished = {
    prometheus: { samplesPerCpuSecond: ratio(mun.samplesPerCpuSecond?.median, PUBLISHED.prometheus.samplesPerCpuSecond), peakRss: ratio(mun.peakRssMiB?.median, PUBLISHED.prometheus.peakRssMiB) },
    victoriaMetrics: { samplesPerCpuSecond: ratio(mun.samplesPerCpuSecond?.median, PUBLISHED.victoriaMetrics.samplesPerCpuSecond), peakRss: ratio(mun.peakRssMiB?.median, PUBLISHED.victoriaMetrics.peakRssMiB) },
  };
  const all = [...(results.muninn as RunResult[]), ...(results.prometheus as RunResult[])];
  const totalErrors = all.reduce((s, r) => s + r.errors, 0);
  const verifyFailed = all.filter((r) => 'ok' in r.verify && !r.verify.ok);

  const out = (l: string): void => console.log(l);
  out('');
  out(`bench:ingest ${started.toISOString()}  (${cpus().length} CPUs, ${Math.round(totalmem() / MiB / 1024)} GiB, node ${process.version}, load average ${load0.toFixed(2)} -> ${load1.toFixed(2)})`);
  if ((a['node-flag'] ?? []).length > 0) out(`Muninn's node flags: ${(a['node-flag'] ?? []).join(' ')}`);
  out(`workload: rwload, ${SERIES} series x 10 labels, ${BATCH} samples/request, concurrency ${CONC}, ${DURATION} s timed after 1 warm-up round, ${RUNS} run(s) per receiver`);
  out(`timestamps: step ${STEP / 1000} s per round, first sample ${LOOKBACK / 60_000} min before the start of each run, so all data is in order and` +
    ` no later than now + ${GRACE_MS / 60_000}m (Muninn's -validation.create-grace-period) up to ~${fmtK(Math.floor(((LOOKBACK + GRACE_MS) / STEP) * SERIES / (DURATION + 1)))} samples/s`);
  for (const r of all) {
    const end = r.lastTsVsClockMs;
    out(`  ${r.receiver}: data ${new Date(r.firstTsMs).toISOString()} .. ${new Date(r.lastTsMs).toISOString()}, last sample ${Math.abs(end / 60_000).toFixed(1)} min ${end <= 0 ? 'before' : 'AFTER'} the clock at the end`);
  }
  out('');
  const rows: Array<[string, string, string, string, string, string]> = [['receiver', 'samples/s', 'samples/CPU-s', 'CPU cores', 'peak RSS MiB', 'errors (non-2xx)']];
  for (const g of [mun, prom]) {
    if (g === null) continue;
    rows.push([g.receiver === 'muninn' ? 'Muninn (-target=all)' : 'Prometheus (this run)', range(g.samplesPerSecond, fmtK), range(g.samplesPerCpuSecond, fmtK), String(g.cpuCores ?? '-'),
      range(g.peakRssMiB, (n) => String(Math.round(n))), String(g.errors)]);
  }
  rows.push([`${PUBLISHED.prometheus.receiver} (published)`, fmtK(PUBLISHED.prometheus.samplesPerSecond), fmtK(PUBLISHED.prometheus.samplesPerCpuSecond), '', String(PUBLISHED.prometheus.peakRssMiB), '']);
  rows.push([`${PUBLISHED.victoriaMetrics.receiver} (published)`, fmtK(PUBLISHED.victoriaMetrics.samplesPerSecond), fmtK(PUBLISHED.victoriaMetrics.samplesPerCpuSecond), '', String(PUBLISHED.victoriaMetrics.peakRssMiB), '']);
  const w = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length))) ?? [];
  for (const r of rows) out(r.map((c, i) => c.padEnd(w[i] as number)).join('  '));
  if (ratios !== null) out(`Muninn / Prometheus (same run): samples/s x${ratios.samplesPerSecond}, samples/CPU-s x${ratios.samplesPerCpuSecond}, peak RSS x${ratios.peakRss}`);
  out(`Muninn / published: samples/CPU-s x${vsPublished.prometheus.samplesPerCpuSecond} of Prometheus 2.42, x${vsPublished.victoriaMetrics.samplesPerCpuSecond} of VictoriaMetrics 1.79 (other runs: compare ratios from one run where you can)`);
  const verifyLines = all.map((r) => `verify ${r.receiver}: ${'skipped' in r.verify ? `skipped: ${r.verify.skipped}` : `${r.verify.ok ? 'OK' : 'MISMATCH'}: ${r.verify.detail}`}`);
  for (const l of new Set(verifyLines)) out(l);
  if (a.profile !== undefined) out('NOTE: Muninn ran under --cpu-prof; its figures include the profiler\'s overhead.');
  if (totalErrors > 0) {
    out('');
    out('!'.repeat(100));
    out(`!!! THIS RUN HAD ERRORS: ${totalErrors} request(s) not answered 2xx; the figures above do not measure a clean run`);
    for (const r of all.filter((x) => x.errors > 0)) out(`!!!   ${r.receiver}: ${JSON.stringify(r.byStatus)} first error: ${r.firstError ?? '-'}${r.aborted ? ` (aborted: ${r.aborted})` : ''}`);
    if (all.some((r) => /too far in the future|too-far-in-future/.test(r.firstError ?? ''))) out('!!!   samples ran past now + the create grace period: raise --lookback-ms (see the file header of bench/ingest.bench.ts)');
    out('!'.repeat(100));
  }
  if (verifyFailed.length > 0) out(`!!! verify.mjs MISMATCH for ${verifyFailed.map((r) => r.receiver).join(', ')}`);
  const json = JSON.stringify({
    bench: 'ingest',
    date: started.toISOString(),
    host: { cpus: cpus().length, node: process.version, loadavg: [load0, load1] },
    workload: { tool: 'rwload', series: SERIES, batch: BATCH, concurrency: CONC, durationS: DURATION, stepMs: STEP, lookbackMs: LOOKBACK, tenant: a.tenant },
    muninnFlags: MUNINN_ARGS,
    muninnNodeFlags: a['node-flag'],
    profiled: a.profile !== undefined,
    muninn: mun,
    prometheus: prom,
    ratiosVsPrometheus: ratios,
    published: PUBLISHED,
    ratiosVsPublished: vsPublished,
    errors: totalErrors,
    runs: all,
  });
  console.log(json);
  if (a.out !== undefined) appendFileSync(a.out, json + '\n');
  if (totalErrors > 0 || verifyFailed.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
