// WAL write throughput micro-benchmark (not a test; prints figures, never fails on timings).
//
//   npx tsc -p /work/main && node /work/main/dist/src/tsdb/wal/wal.bench.js [dir]
//
// Writes samples records of 20 samples (about 220 bytes, a typical remote-write series batch
// per tenant) from C concurrent callers, each awaiting its log() before the next, in 'batch' and
// 'always' mode, into a temp directory under os.tmpdir() (or [dir]: use the disk you care about).
// Also times a replay of what was written. Fixed seed, so runs are comparable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSamples } from '../record/index.js';
import { replayWal } from './replay.js';
import { Wal, type SyncMode } from './writer.js';
import { mulberry32 } from '../../util/random.js';

function makeRecords(n: number): Uint8Array[] {
  const rnd = mulberry32(42);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const refs = Array.from({ length: 20 }, () => Math.floor(rnd() * 1_000_000));
    const ts = refs.map(() => 1_700_000_000_000 + i * 15_000);
    const vs = new Float64Array(refs.map(() => rnd() * 1000));
    out.push(encodeSamples({ refs, ts, vs }));
  }
  return out;
}

async function run(base: string, mode: SyncMode, callers: number, records: Uint8Array[]): Promise<void> {
  const dir = mkdtempSync(join(base, `${mode}-${callers}-`));
  const wal = await Wal.open(dir, { syncMode: mode });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < records.length) {
      const r = records[next++] as Uint8Array;
      await wal.log([r]);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  await wal.close();
  const s = wal.stats;
  const mib = s.bytesWritten / 1024 / 1024;
  const r0 = performance.now();
  let replayed = 0;
  await replayWal(dir, () => {
    replayed++;
  });
  const rsecs = (performance.now() - r0) / 1000;
  console.log(
    `${mode.padEnd(6)} callers=${String(callers).padStart(4)}  ${Math.round(records.length / secs).toLocaleString('en').padStart(9)} records/s`
    + `  ${(mib / secs).toFixed(1).padStart(6)} MiB/s  fsyncs=${s.fsyncs} (${Math.round(s.fsyncs / secs)}/s, ${(s.fsyncSeconds * 1000 / Math.max(1, s.fsyncs)).toFixed(2)} ms avg)`
    + `  batches=${s.batches} (${(records.length / s.batches).toFixed(1)} rec/batch)  replay ${Math.round(replayed / rsecs).toLocaleString('en')} records/s`,
  );
  rmSync(dir, { recursive: true, force: true });
}

const base = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'muninn-wal-bench-'));
try {
  const records = makeRecords(100_000);
  console.log(`record size ~${records[0]?.length} bytes; ${records.length} records per run; dir ${base}`);
  for (const callers of [1, 16, 256]) await run(base, 'batch', callers, records);
  for (const callers of [1, 16, 256]) await run(base, 'always', callers, callers === 1 ? records.slice(0, 5_000) : records);
} finally {
  rmSync(base, { recursive: true, force: true });
}
