// Micro-benchmark of the head's label/index layer: label sets, hashes, MemPostings, select.
//
//   npm run bench:postings   (or: npx tsc -p . && node --expose-gc dist/bench/postings.bench.js [series])
//
// The series are the reference workload's (bench/workload.ts, shaped like
// ../shared/bench/rwload.mjs: 100k series, 10 labels, 100 metric names, seed 1). Fixed seed;
// figures only, nothing here fails on a timing.
import { performance } from 'node:perf_hooks';
import { MemPostings, labelNamesFor, labelValuesFor, select } from '../src/tsdb/index/index.js';
import { LabelsBuilder, SymbolTable, eq, labelsHash, neq, nre, re, seriesToken } from '../src/tsdb/labels/index.js';
import type { Labels, Matcher } from '../src/tsdb/labels/index.js';
import { makeWorkload, type Workload } from './workload.js';

const SERIES = Number(process.argv[2] ?? 100_000);
const METRICS = 100;
const SEED = 1;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc (see the header comment)\n');
  process.exit(2);
}

// Each label string is decoded afresh from UTF-8 bytes for every series, as the wire decoder
// would, so interning has real duplicates to fold. The bytes are encoded once, up front.
const utf8 = new Map<string, Uint8Array>();
const decoder = new TextDecoder();
const fresh = (s: string): string => {
  let b = utf8.get(s);
  if (b === undefined) {
    b = new TextEncoder().encode(s);
    utf8.set(s, b);
  }
  return decoder.decode(b);
};

/** Adds series i's labels. */
function addSeriesLabels(b: LabelsBuilder, w: Workload, i: number): void {
  const flat = w.labels(i);
  for (let k = 0; k < flat.length; k += 2) b.add(flat[k] as string, fresh(flat[k + 1] as string));
}

// --- measurement helpers ----------------------------------------------------------------------------
/** heapUsed + arrayBuffers after full GCs; waits so freed ArrayBuffer backing stores are swept. */
async function mem(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
}

const MiB = 1024 * 1024;
const fmtB = (b: number): string => `${(b / MiB).toFixed(2)} MiB (${(b / SERIES).toFixed(1)} B/series)`;

function latency(fn: () => number, minIters = 50, budgetMs = 400): { p50: number; p99: number; iters: number; size: number } {
  let size = 0;
  for (let i = 0; i < 5; i++) size = fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minIters || (performance.now() - start < budgetMs && times.length < 5000)) {
    const t0 = performance.now();
    size = fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number;
  return { p50: q(0.5) * 1000, p99: q(0.99) * 1000, iters: times.length, size };
}

// --- run ------------------------------------------------------------------------------------------
const targets = makeWorkload(SERIES, SEED, METRICS);
console.log(`postings.bench: ${SERIES} series x 10 labels, ${METRICS} metrics, seed ${SEED}, node ${process.version}`);

// 1. label sets with a per-tenant symbol table
for (let i = 0; i < SERIES; i++) addSeriesLabels(new LabelsBuilder(), targets, i); // fill `utf8`
let base = await mem();
const symbols = new SymbolTable();
const builder = new LabelsBuilder(symbols);
const series: Labels[] = new Array<Labels>(SERIES);
let t0 = performance.now();
for (let i = 0; i < SERIES; i++) {
  builder.reset();
  addSeriesLabels(builder, targets, i);
  series[i] = builder.labels();
}
let ms = performance.now() - t0;
const labelsBytes = (await mem()) - base;
console.log(`labels:   build ${ms.toFixed(0)} ms (${((ms * 1e6) / SERIES).toFixed(0)} ns/series); memory ${fmtB(labelsBytes)}; ${symbols.size} interned strings`);

// 2. hashes (in a function, so its garbage is gone before the next measurement)
function benchHashes(): void {
  let t = performance.now();
  let sink = 0;
  for (let i = 0; i < SERIES; i++) sink ^= labelsHash(series[i] as Labels);
  let took = performance.now() - t;
  console.log(`hash:     labelsHash ${((took * 1e6) / SERIES).toFixed(0)} ns/series`);
  t = performance.now();
  for (let i = 0; i < SERIES; i++) sink ^= seriesToken('tenant-1', series[i] as Labels);
  took = performance.now() - t;
  console.log(`hash:     seriesToken (FNV-1) ${((took * 1e6) / SERIES).toFixed(0)} ns/series`);
  const hashes = new Set<number>();
  for (const ls of series) hashes.add(labelsHash(ls));
  console.log(`hash:     ${SERIES - hashes.size} collisions over ${SERIES} series (checksum ${sink >>> 0})`);
}
benchHashes();

// 3. postings (V8 frees dead top-level locals early: keep everything measured here alive)
base = await mem();
const p = new MemPostings();
t0 = performance.now();
for (let i = 0; i < SERIES; i++) p.add(i + 1, series[i] as Labels);
ms = performance.now() - t0;
const postingsBytes = (await mem()) - base;
const st = p.stats();
console.log(`postings: add ${ms.toFixed(0)} ms (${((ms * 1e6) / SERIES).toFixed(0)} ns/series); memory ${fmtB(postingsBytes)}`);
console.log(`postings: ${st.labelNames} names, ${st.labelPairs} pairs (${st.inlinePairs} inline), ${st.entries} entries, list buffers ${fmtB(st.bufferBytes)}`);
p.shrinkToFit();
const shrunkBytes = (await mem()) - base;
console.log(`postings: after shrinkToFit ${fmtB(shrunkBytes)}; list buffers ${fmtB(p.stats().bufferBytes)}`);

// 4. select latencies
const shapes: [string, Matcher[]][] = [
  ['{__name__="rwbench_http_requests_total"}', [eq('__name__', 'rwbench_http_requests_total')]],
  ['{__name__="rwbench_http_requests_total", job="api-server"}', [eq('__name__', 'rwbench_http_requests_total'), eq('job', 'api-server')]],
  ['{job="api-server"}', [eq('job', 'api-server')]],
  ['{job=~"api-server|payments"}', [re('job', 'api-server|payments')]],
  ['{instance="node-42.bench.internal:9100"}', [eq('instance', 'node-42.bench.internal:9100')]],
  ['{instance=~"node-1.*"}', [re('instance', 'node-1.*')]],
  ['{__name__=~".+_total", namespace!="default"}', [re('__name__', '.+_total'), neq('namespace', 'default')]],
  ['{pod=~"api-server-[0-9a-f]+-.*", env="prod"}', [re('pod', 'api-server-[0-9a-f]+-.*'), eq('env', 'prod')]],
  ['{__name__="rwbench_db_bytes", env="", zone!~"us-.*"}', [eq('__name__', 'rwbench_db_bytes'), eq('env', ''), nre('zone', 'us-.*')]],
  ['{job!="api-server"}  (all minus)', [neq('job', 'api-server')]],
  ['{cluster=~".+"}  (every series)', [re('cluster', '.+')]],
  ['{__name__=~"(?i)RWBENCH_NET_.*", region="eu-west-1"}', [re('__name__', '(?i)RWBENCH_NET_.*'), eq('region', 'eu-west-1')]],
];
console.log('select:   p50 / p99 latency, result size');
for (const [label, ms2] of shapes) {
  const r = latency(() => select(p, ms2).length);
  console.log(`  ${label.padEnd(62)} ${r.p50.toFixed(1).padStart(8)} us ${r.p99.toFixed(1).padStart(8)} us ${String(r.size).padStart(7)} refs`);
}
const lv = latency(() => labelValuesFor(p, 'instance', [eq('job', 'api-server')]).length);
console.log(`  ${'labelValuesFor(instance, {job="api-server"})'.padEnd(62)} ${lv.p50.toFixed(1).padStart(8)} us ${lv.p99.toFixed(1).padStart(8)} us ${String(lv.size).padStart(7)} values`);
const ln = latency(() => labelNamesFor(p, [eq('__name__', 'rwbench_http_requests_total')]).length);
console.log(`  ${'labelNamesFor({__name__="rwbench_http_requests_total"})'.padEnd(62)} ${ln.p50.toFixed(1).padStart(8)} us ${ln.p99.toFixed(1).padStart(8)} us ${String(ln.size).padStart(7)} names`);
const lnh = latency(() => labelNamesFor(p, [eq('__name__', 'rwbench_http_requests_total')], (r) => series[r - 1]).length);
console.log(`  ${'  ... with the head\'s labelsOf'.padEnd(62)} ${lnh.p50.toFixed(1).padStart(8)} us ${lnh.p99.toFixed(1).padStart(8)} us ${String(lnh.size).padStart(7)} names`);

// 5. GC: delete 10% of the series in one batch
const victims: number[] = [];
for (let i = 0; i < SERIES; i += 10) victims.push(i + 1);
t0 = performance.now();
p.deleteMany(victims, (r) => series[r - 1]);
ms = performance.now() - t0;
console.log(`postings: deleteMany of ${victims.length} series ${ms.toFixed(0)} ms; ${p.numSeries} left`);
console.log(`process:  rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);
