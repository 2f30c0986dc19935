// Micro-benchmark of the XOR chunk: encode and decode throughput, bytes per sample, and memory
// held by many cut chunks. Not a test; prints figures only.
//
//   cd /work/main && npx tsc -p . && node --expose-gc dist/src/tsdb/chunkenc/xor.bench.js
//
// Data (fixed seed): 120-sample chunks of 15 s scrapes whose timestamps mostly land on the
// interval (20% jitter by up to 4 ms); series are 45% counters (integer increments on 60% of
// scrapes, rare resets), 30% gauges (2-decimal random walk changing on 30% of scrapes), 20%
// constants and 5% high-entropy floats.
import { XorChunk } from './index.js';
import type { ChunkIterator } from './index.js';
import { mulberry32 } from '../../util/random.js';

const SEED = 0x5eed;
const SERIES = 5000;
const SAMPLES_PER_CHUNK = 120;
const ROUNDS = 10;
const MEMORY_CHUNKS = 100_000;

interface Dataset {
  ts: Float64Array; // SERIES * SAMPLES_PER_CHUNK, series-major
  vs: Float64Array;
  kinds: Record<string, number>;
}

function generate(series: number): Dataset {
  const rnd = mulberry32(SEED);
  const n = series * SAMPLES_PER_CHUNK;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const kinds: Record<string, number> = { counter: 0, gauge: 0, constant: 0, random: 0 };
  for (let s = 0; s < series; s++) {
    let t = 1_700_000_000_000 + Math.floor(rnd() * 15_000);
    const k = rnd();
    const kind = k < 0.45 ? 'counter' : k < 0.75 ? 'gauge' : k < 0.95 ? 'constant' : 'random';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    let v = kind === 'counter' ? Math.floor(rnd() * 1e6) : kind === 'gauge' ? Math.round(rnd() * 10000) / 100 : kind === 'constant' ? 1 : rnd();
    const rate = 1 + Math.floor(rnd() * 50);
    for (let i = 0; i < SAMPLES_PER_CHUNK; i++) {
      const j = s * SAMPLES_PER_CHUNK + i;
      ts[j] = t;
      vs[j] = v;
      t += 15_000 + (rnd() < 0.2 ? Math.floor(rnd() * 9) - 4 : 0);
      if (kind === 'counter') {
        if (rnd() < 0.001) v = 0;
        else if (rnd() < 0.6) v += 1 + Math.floor(rnd() * rate);
      } else if (kind === 'gauge') {
        if (rnd() < 0.3) v = Math.round((v + (rnd() - 0.5) * 10) * 100) / 100;
      } else if (kind === 'random') {
        v = rnd() * 1e3;
      }
    }
  }
  return { ts, vs, kinds };
}

function encodeAll(d: Dataset, series: number): XorChunk[] {
  const chunks = new Array<XorChunk>(series);
  for (let s = 0; s < series; s++) {
    const c = new XorChunk();
    const a = c.appender();
    const base = s * SAMPLES_PER_CHUNK;
    for (let i = 0; i < SAMPLES_PER_CHUNK; i++) a.append(d.ts[base + i]!, d.vs[base + i]!);
    c.compact();
    chunks[s] = c;
  }
  return chunks;
}

function decodeAll(chunks: readonly XorChunk[], reuse: boolean): number {
  let sum = 0;
  let it: ChunkIterator | undefined;
  for (const c of chunks) {
    it = reuse ? c.iterator(it) : c.iterator();
    while (it.next()) sum += it.v + it.t;
    if (it.err() !== undefined) throw it.err();
  }
  return sum;
}

function best(label: string, samples: number, fn: () => unknown): number {
  let bestNs = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns < bestNs) bestNs = ns;
  }
  const rate = samples / (bestNs / 1e9);
  console.log(`${label.padEnd(34)} ${(rate / 1e6).toFixed(2).padStart(7)} M samples/s  (${(bestNs / samples).toFixed(1)} ns/sample, best of ${ROUNDS})`);
  return rate;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
}

function main(): void {
  const data = generate(SERIES);
  const samples = SERIES * SAMPLES_PER_CHUNK;
  console.log(`XOR chunk benchmark: ${SERIES} series x ${SAMPLES_PER_CHUNK} samples, seed ${SEED}, node ${process.version}`);
  console.log(`series kinds: ${JSON.stringify(data.kinds)}`);

  // Reference in the same run: copying the raw samples into typed arrays (16 bytes/sample).
  const outT = new Float64Array(samples);
  const outV = new Float64Array(samples);
  const copyRate = best('reference: raw copy (16 B/sample)', samples, () => {
    for (let i = 0; i < samples; i++) {
      outT[i] = data.ts[i]!;
      outV[i] = data.vs[i]!;
    }
  });

  let chunks = encodeAll(data, SERIES); // warm-up
  const encRate = best('encode (append + compact)', samples, () => {
    chunks = encodeAll(data, SERIES);
  });
  decodeAll(chunks, true); // warm-up
  const decRate = best('decode (iterator reused)', samples, () => decodeAll(chunks, true));
  best('decode (new iterator per chunk)', samples, () => decodeAll(chunks, false));

  let bytes = 0;
  for (const c of chunks) bytes += c.byteLength;
  console.log(`bytes/sample                       ${(bytes / samples).toFixed(3)}  (${(bytes / SERIES).toFixed(1)} bytes/chunk; raw is 16, ratio ${(16 / (bytes / samples)).toFixed(1)}x)`);
  console.log(`encode / raw copy                  ${(encRate / copyRate).toFixed(3)}x;  decode / raw copy ${(decRate / copyRate).toFixed(3)}x`);

  // Memory held by MEMORY_CHUNKS cut chunks (JS objects + buffers), as for 100k series each
  // holding one full chunk. Needs --expose-gc to be meaningful.
  chunks = [];
  gc();
  const before = process.memoryUsage();
  const held = new Array<XorChunk>(MEMORY_CHUNKS);
  for (let k = 0; k < MEMORY_CHUNKS; k++) {
    const s = k % SERIES;
    const c = new XorChunk();
    const a = c.appender();
    const base = s * SAMPLES_PER_CHUNK;
    for (let i = 0; i < SAMPLES_PER_CHUNK; i++) a.append(data.ts[base + i]!, data.vs[base + i]!);
    c.compact();
    held[k] = c;
  }
  gc();
  const after = process.memoryUsage();
  const heap = after.heapUsed - before.heapUsed;
  const external = after.arrayBuffers - before.arrayBuffers;
  const rss = after.rss - before.rss;
  let dataBytes = 0;
  for (const c of held) dataBytes += c.byteLength;
  const note = (globalThis as { gc?: unknown }).gc === undefined ? ' (run with --expose-gc for stable figures)' : '';
  console.log(
    `memory, ${MEMORY_CHUNKS} cut chunks: heap +${(heap / 2 ** 20).toFixed(1)} MiB, array buffers +${(external / 2 ** 20).toFixed(1)} MiB, ` +
      `rss +${(rss / 2 ** 20).toFixed(1)} MiB; ${((heap + external) / MEMORY_CHUNKS).toFixed(0)} B/chunk for ${(dataBytes / MEMORY_CHUNKS).toFixed(0)} B of data${note}`,
  );
  if (held.length !== MEMORY_CHUNKS) throw new Error('unreachable');
}

main();
