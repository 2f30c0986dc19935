// Ingester memory and ingest benchmark: `npm run bench:ingester [-- --series N --rounds R
// --batch B --concurrency C]`. Starts `muninn -target=ingester` in its own process, pushes the
// reference workload's series (bench/workload.ts: 100k series x 10 labels by default) over gRPC in
// requests of 2000 series x 1 sample, as rwload sends them, and prints one JSON line: samples/s,
// the ingester's CPU seconds and peak RSS (VmHWM), bytes per series (RSS growth / series) and the
// chunks' bytes per sample. Reference: the figures measured with the same workload on a machine
// like this one (../shared/bench/README.md): VictoriaMetrics 1.79 280 MiB, Prometheus 2.42 514 MiB.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { IngesterClient } from '../src/ingester/index.js';
import { encodeWriteRequest } from '../src/remotewrite/index.js';
import { makeWorkload } from './workload.js';

const { values: a } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '30' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    'sync-mode': { type: 'string', default: 'batch' },
  },
});
const SERIES = Number(a.series);
const ROUNDS = Number(a.rounds);
const BATCH = Number(a.batch);
const CONC = Number(a.concurrency);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const REFERENCE = { victoriaMetricsMiB: 280, prometheusMiB: 514 };

function procStatus(pid: number): { hwmKiB: number; rssKiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { hwmKiB: kib('VmHWM'), rssKiB: kib('VmRSS') };
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100/s)
}

async function main(): Promise<void> {
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
    vsVictoriaMetrics: Number((peakMiB / REFERENCE.victoriaMetricsMiB).toFixed(2)),
    vsPrometheus: Number((peakMiB / REFERENCE.prometheusMiB).toFixed(2)),
    reference: 'peak RSS of VictoriaMetrics 1.79 (280 MiB) and Prometheus 2.42 (514 MiB), same workload, ../shared/bench/README.md',
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
