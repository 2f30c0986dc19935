// Acceptance: push to an ingester in its own process, SIGKILL it mid-load, start it again on the
// same data: every sample acknowledged before the kill comes back from QueryStream, values exact.
import '../harness.js';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { IngesterClient } from '../../src/ingester/index.js';
import { encodeWriteRequest } from '../../src/remotewrite/index.js';
import { XorChunk } from '../../src/tsdb/chunkenc/index.js';
import { MAIN_JS, problemLines, startMuninn, tempDir } from '../proc.js';
import { mulberry32, withDeadline } from '../util.js';

const SERIES = 500;
const PER_REQUEST = 100;
const T0 = 1_750_000_000_000;

for (const syncMode of ['batch', 'always'] as const) {
  test(`SIGKILL mid-load loses no acknowledged sample (wal-sync-mode=${syncMode})`, { timeout: 120_000 }, async () => {
    const dir = tempDir('ing-crash-');
    const seed = Number(process.env.MUNINN_TEST_SEED ?? 4242) + (syncMode === 'always' ? 1 : 0);
    const rnd = mulberry32(seed);
    const args = ['-target=ingester', `-blocks-storage.tsdb.dir=${dir}`, `-blocks-storage.tsdb.wal-sync-mode=${syncMode}`, '-blocks-storage.tsdb.wal-segment-size-bytes=1048576'];
    const acked = new Map<number, Map<number, number>>(); // series -> t -> v
    try {
      const p1 = await startMuninn(MAIN_JS, args);
      const client = new IngesterClient(`127.0.0.1:${p1.grpcPort}`);
      let stop = false;
      let round = 0;
      const worker = async (w: number): Promise<void> => {
        while (!stop) {
          const r = round++;
          const first = (r * PER_REQUEST) % SERIES;
          const t = T0 + Math.floor((r * PER_REQUEST) / SERIES) * 1000 + w; // each worker its own timestamps
          const series = [];
          const vals: number[] = [];
          for (let k = 0; k < PER_REQUEST; k++) {
            const v = Math.round(rnd() * 1e9) / 1000;
            vals.push(v);
            series.push({ labels: ['__name__', 'crash_test', 'idx', String(first + k), 'worker', String(w)], samples: [{ timestamp: t, value: v }] });
          }
          try {
            await client.push('crash-tenant', encodeWriteRequest({ series }));
          } catch {
            return; // the process is gone: unacknowledged
          }
          for (let k = 0; k < PER_REQUEST; k++) {
            const key = (first + k) * 8 + w;
            let m = acked.get(key);
            if (m === undefined) acked.set(key, (m = new Map()));
            m.set(t, vals[k] as number);
          }
        }
      };
      const workers = [0, 1, 2, 3].map(worker);
      await new Promise((r) => setTimeout(r, 500 + Math.floor(rnd() * 1000)));
      p1.kill('SIGKILL');
      await p1.exited;
      stop = true;
      await withDeadline(Promise.all(workers), 20_000, 'push workers did not finish after the kill');
      client.close();
      const ackedSamples = [...acked.values()].reduce((n, m) => n + m.size, 0);
      assert.ok(ackedSamples > 1000, `only ${ackedSamples} samples acknowledged before the kill`);

      const p2 = await startMuninn(MAIN_JS, args);
      const client2 = new IngesterClient(`127.0.0.1:${p2.grpcPort}`);
      try {
        const got = new Map<number, Map<number, number>>();
        for await (const batch of client2.queryStream('crash-tenant', { mint: 0, maxt: 8.64e15, matchers: [{ type: '=', name: '__name__', value: 'crash_test' }] })) {
          for (const s of batch) {
            const idx = Number(s.labels[s.labels.indexOf('idx') + 1]);
            const w = Number(s.labels[s.labels.indexOf('worker') + 1]);
            const m = new Map<number, number>();
            if (s.samples !== null) for (let i = 0; i < s.samples.t.length; i++) m.set(s.samples.t[i] as number, s.samples.v[i] as number);
            for (const c of s.chunks) {
              const it = XorChunk.fromBytes(c.data).iterator();
              while (it.next()) m.set(it.t, it.v);
            }
            got.set(idx * 8 + w, m);
          }
        }
        let missing = 0;
        let wrong = 0;
        for (const [key, samples] of acked) {
          const g = got.get(key);
          for (const [t, v] of samples) {
            const have = g?.get(t);
            if (have === undefined) missing++;
            else if (have !== v) wrong++;
          }
        }
        assert.equal(missing, 0, `${missing} of ${ackedSamples} acknowledged samples missing after restart (seed ${seed})`);
        assert.equal(wrong, 0, `${wrong} samples with a different value after restart (seed ${seed})`);
        assert.ok(p2.lines.some((l) => l.msg === 'tenant WAL replayed'), 'no replay log line');
      } finally {
        client2.close();
        p2.kill('SIGTERM');
        assert.equal((await p2.exited).code, 0);
        assert.deepEqual(problemLines(p2.lines), []);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
