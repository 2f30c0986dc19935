// In-process memory per series of one tenant head, without the gRPC server and the WAL around it:
// `npm run bench:head-memory [-- --series N --rounds R --step-ms MS --retention-ms MS]` (or
// `npx tsc -p . && node --expose-gc dist/bench/head-memory.bench.js ...`). Appends the reference workload (bench/workload.ts, 10 labels
// per series, one sample per series per round, requests of 2000 series) through
// TenantHead.appendRequest, as the ingester does, then prints one JSON line with the growth of
// heapUsed, arrayBuffers, external and RSS per series, each measured after a full GC. With
// --retention-ms the head is truncated as the ingester does (every 60 s of sample time), so
// longer runs (--rounds 3120 --step-ms 15000 = 13 h) show the closed chunks' cost.
import { parseArgs } from 'node:util';
import { decodeWriteRequest, encodeWriteRequest } from '../src/remotewrite/index.js';
import { AppendStats, TenantHead, WalBatch } from '../src/tsdb/head/index.js';
import { makeWorkload } from './workload.js';

const { values: a } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '30' },
    batch: { type: 'string', default: '2000' },
    'step-ms': { type: 'string', default: '15000' },
    'retention-ms': { type: 'string', default: '0' },
  },
});
const SERIES = Number(a.series);
const ROUNDS = Number(a.rounds);
const BATCH = Number(a.batch);
const STEP = Number(a['step-ms']);
const RETENTION = Number(a['retention-ms']);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage();
}

const w = makeWorkload(SERIES);
const t0 = 1_700_000_000_000;
// the label strings of every series are built once up front, so they are in the baseline (the
// head keeps its own interned copies)
const labels = Array.from({ length: SERIES }, (_, i) => w.labels(i));
const m0 = settle();
const head = new TenantHead({
  tenant: 'bench',
  chunkRangeMs: 2 * 3_600_000,
  limits: () => ({ maxSeries: 0, maxSeriesPerMetric: 0, outOfOrderWindowMs: 0, nativeHistograms: false }),
  now: () => now,
});
let now = t0;
let lastTruncate = t0;
const wal = new WalBatch();
const start = process.hrtime.bigint();
let samples = 0;
for (let r = 0; r < ROUNDS; r++) {
  const ts = t0 + r * STEP;
  now = ts;
  for (let first = 0; first < SERIES; first += BATCH) {
    const body = encodeWriteRequest({
      series: Array.from({ length: Math.min(BATCH, SERIES - first) }, (_, k) => ({
        labels: labels[first + k] as string[],
        samples: [{ timestamp: ts, value: w.value(first + k, r) }],
      })),
    });
    const stats = new AppendStats();
    wal.reset();
    head.appendRequest(decodeWriteRequest(body), wal, stats);
    samples += stats.accepted;
  }
  if (RETENTION > 0 && ts - lastTruncate >= 60_000) {
    head.truncate(ts - RETENTION, RETENTION);
    lastTruncate = ts;
  }
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
const m1 = settle();
const n = head.numSeries;
const per = (k: keyof NodeJS.MemoryUsage): number => Math.round((m1[k] - m0[k]) / n);
console.log(JSON.stringify({
  bench: 'head-memory',
  series: n,
  rounds: ROUNDS,
  samples,
  hoursOfData: Number(((ROUNDS * STEP) / 3_600_000).toFixed(2)),
  samplesPerSecond: Math.round(samples / secs),
  heapUsedPerSeries: per('heapUsed'),
  arrayBuffersPerSeries: per('arrayBuffers'),
  externalPerSeries: per('external'),
  rssPerSeries: per('rss'),
  chunkArenaReservedPerSeries: Math.round(head.chunkMemory().reservedBytes / n),
  chunkArenaUsedPerSeries: Math.round(head.chunkMemory().usedBytes / n),
  chunkArenaSlabs: head.chunkMemory().slabs,
  heapUsedMiB: Number((m1.heapUsed / 1048576).toFixed(1)),
  rssMiB: Number((m1.rss / 1048576).toFixed(1)),
}));
