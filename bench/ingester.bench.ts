// Ingester memory and ingest benchmark: `npm run bench:ingester [-- --series N --rounds R
// --batch B --concurrency C]`. Starts `muninn -target=ingester` in its own process, pushes the
// reference workload's series (bench/workload.ts: 100k series x 10 labels by default) over gRPC in
// requests of 2000 series x 1 sample, as rwload sends them, and prints one JSON line: samples/s,
// the ingester's CPU seconds and peak RSS (VmHWM), bytes per series (RSS growth / series) and the
// chunks' bytes per sample. Reference run in the same invocation: when the `prometheus` binary is
// installed (Debian package), the shared workload generator (../shared/bench/rwload.mjs) runs the
// standard 30 s load against Prometheus's remote-write receiver first, and the line adds its peak
// RSS and samples/s and Muninn's ratios to them (`--reference none` skips it). The published
// figures (../shared/bench/README.md: VictoriaMetrics 1.79 280 MiB, Prometheus 2.42 514 MiB) are
// printed beside them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IngesterClient } from '../src/ingester/index.js';
import { encodeWriteRequest } from '../src/remotewrite/index.js';
import { cpuSeconds, MUNINN_MAIN, procStatus, PUBLISHED, runRwload, startPrometheus } from './harness.js';
import { makeWorkload } from './workload.js';

const { values: a } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '30' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    'sync-mode': { type: 'string', default: 'batch' },
    reference: { type: 'string', default: 'prometheus' },
    'reference-duration': { type: 'string', default: '30' },
  },
});
const SERIES = Number(a.series);
const ROUNDS = Number(a.rounds);
const BATCH = Number(a.batch);
const CONC = Number(a.concurrency);
const MAIN = MUNINN_MAIN;
const REFERENCE = { victoriaMetricsMiB: PUBLISHED.victoriaMetrics.peakRssMiB, prometheusMiB: PUBLISHED.prometheus.peakRssMiB };

interface ReferenceResult {
  receiver: string;
  samplesPerSecond: number;
  peakRssMiB: number;
  samplesPerCpuSecond: number | null;
}

/** Prometheus fed by rwload with the same workload (bench/harness.ts), or null when it is not installed. */
async function prometheusReference(): Promise<ReferenceResult | null> {
  let prom;
  try {
    prom = await startPrometheus();
  } catch (e) {
    console.error(`reference: ${String(e)}; skipped`);
    return null;
  }
  if (prom === null) return null;
  try {
    const res = await runRwload(['--url', `${prom.url}/api/v1/write`, '--series', String(SERIES), '--batch', String(BATCH),
      '--concurrency', String(CONC), '--duration', String(a['reference-duration']), '--pid', String(prom.pid)]);
    if (!res.ok || res.receiver === null) throw new Error(`rwload against prometheus failed: ${JSON.stringify(res.timed?.by_status ?? res.error)}`);
    return { receiver: 'prometheus (rwload, same workload)', samplesPerSecond: res.timed.samples_per_s, peakRssMiB: Number((res.receiver.vmhwm_kb / 1024).toFixed(1)), samplesPerCpuSecond: res.receiver.samples_per_cpu_s };
  } catch (e) {
    console.error(`reference: ${String(e)}; skipped`);
    return null;
  } finally {
    await prom.stop();
  }
}

async function main(): Promise<void> {
  const reference = a.reference === 'prometheus' ? await prometheusReference() : null;
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingester-'));
  const child = spawn(process.execPath, [MAIN, '-target=ingester', `-blocks-storage.tsdb.dir=${dir}`,
    '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', '-server.grpc-listen-address=127.0.0.1', '-server.grpc-listen-port=0',
    `-blocks-storage.tsdb.wal-sync-mode=${a['sync-mode']}`, '-ingester.max-global-series-per-user=0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { httpPort, grpcPort } = await new Promise<{ httpPort: number; grpcPort: number }>((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      const m = /"http":"[^"]*:(\d+)","grpcPort":(\d+)/.exec(buf);
      if (m !== null) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining the log
        resolve({ httpPort: Number(m[1]), grpcPort: Number(m[2]) });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`ingester exited early: ${buf}`)));
  });
  const pid = child.pid as number;
  const baseline = procStatus(pid);
  const w = makeWorkload(SERIES);
  const client = new IngesterClient(`127.0.0.1:${grpcPort}`);
  const t0Ts = Math.floor(Date.now() / 1000) * 1000 - ROUNDS * 15_000;
  // pre-encode every request of a round's shape lazily per round (the encoding is not timed in
  // the ingester's CPU, which is a separate process)
  let requests = 0;
  let samples = 0;
  const cpu0 = cpuSeconds(pid);
  const start = process.hrtime.bigint();
  const jobs: Array<() => Uint8Array> = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let first = 0; first < SERIES; first += BATCH) {
      const round = r;
      const from = first;
      jobs.push(() => encodeWriteRequest({
        series: Array.from({ length: Math.min(BATCH, SERIES - from) }, (_, k) => ({
          labels: w.labels(from + k),
          samples: [{ timestamp: t0Ts + round * 15_000, value: w.value(from + k, round) }],
        })),
      }));
    }
  }
  let next = 0;
  let errors = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Uint8Array;
      const body = job();
      try {
        await client.push('bench', body);
        requests++;
        samples += Math.min(BATCH, SERIES);
      } catch (e) {
        errors++;
        if (errors < 5) console.error(String(e));
      }
    }
  }));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuSeconds(pid) - cpu0;
  const after = procStatus(pid);
  const info = (await (await fetch(`http://127.0.0.1:${httpPort}/ingester/tsdb/bench`)).json()) as { chunkBytes: number; series: number };
  const chunkBytes = info.chunkBytes;
  const series = info.series;
  client.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  const peakMiB = after.hwmKiB / 1024;
  console.log(JSON.stringify({
    bench: 'ingester',
    series,
    rounds: ROUNDS,
    requests,
    errors,
    samples,
    seconds: Number(secs.toFixed(2)),
    samplesPerSecond: Math.round(samples / secs),
    ingesterCpuSeconds: Number(cpu.toFixed(2)),
    samplesPerCpuSecond: Math.round(samples / cpu),
    baselineRssMiB: Number((baseline.rssKiB / 1024).toFixed(1)),
    peakRssMiB: Number(peakMiB.toFixed(1)),
    bytesPerSeries: Math.round(((after.hwmKiB - baseline.rssKiB) * 1024) / series),
    chunkBytesPerSample: Number((chunkBytes / samples).toFixed(3)),
    reference,
    peakRssVsReference: reference === null ? null : Number((peakMiB / reference.peakRssMiB).toFixed(2)),
    samplesPerSecondVsReference: reference === null ? null : Number((samples / secs / reference.samplesPerSecond).toFixed(2)),
    peakRssVsPublishedVictoriaMetrics: Number((peakMiB / REFERENCE.victoriaMetricsMiB).toFixed(2)),
    peakRssVsPublishedPrometheus: Number((peakMiB / REFERENCE.prometheusMiB).toFixed(2)),
    published: 'peak RSS of VictoriaMetrics 1.79 (280 MiB) and Prometheus 2.42 (514 MiB), same workload, ../shared/bench/README.md',
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
