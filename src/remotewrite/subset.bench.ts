// Micro-benchmark: the distributor's per-ingester bodies (SubsetEncoder) built from one decoded
// 1.0 request of the reference ingest shape (bench/workload.ts: 2000 series x 10 name-sorted
// labels x 1 sample, 562 KB), copying each series' original bytes (fast path) vs re-encoding
// every series from the columns (`copySpans: false`, what 2.0 requests and changed series take).
//
// Run (from the repository root):
//   npx tsc -p tsconfig.json && node --expose-gc dist/src/remotewrite/subset.bench.js
// (package.json: "bench:subset"; or build elsewhere with --outDir and run the same file from there)
//
// Two splits, with replication factor 3, series assigned in request order (as a ring lookup does):
//   - 6 ingesters: each series goes to 3 consecutive of 6 groups picked by a seeded hash, so each
//     body holds ~1000 series, in runs of ~2 series adjacent in the request;
//   - 3 ingesters: every body holds all 2000 series (one contiguous run: the best case for copying);
// and the same series sent as 2.0, split over 6 ingesters (always re-encoded).
// Each op encodes all bodies of one request (6000 series). Fixed seed; prints CPU time per op (best
// and median of 25 rounds of 40 ms of process CPU time), series/s and MB/s of output, and the
// ratio re-encode time / copy time. Not a test; never fails on a timing.
//
// Measured (2-core machine shared with other builds, load average 4-10, node v20.20.2; ranges over
// several runs of best-of-25 CPU time per op, 6000 series and 1.69 MB of bodies per op):
//   6 ingesters   copy       0.38-0.41 ms (median 0.41-0.50)  ~15 M series/s   ~4.2 GB/s
//                 re-encode  2.5-3.8 ms   (median 2.8-3.9)    1.6-2.3 M series/s  0.45-0.65 GB/s
//                 ratio re-encode / copy: 6.6-9.3x
//   3 ingesters   copy       0.21-0.34 ms (three 562 KB copies)  18-29 M series/s  5-8 GB/s
//                 re-encode  2.5-3.7 ms;  ratio 7.5-18x
//   2.0 request, 6 ingesters (always re-encoded): 2.5-3.8 ms
// Figures of record: docs/formats/remote-write.md, "Performance" / "Subset encoder".
import { makeWorkload } from '../../bench/workload.js';
import { mulberry32 } from '../util/random.js';
import { decodeWriteRequest } from './decode.js';
import { decodeWriteRequestV2 } from './decode-v2.js';
import type { DecodedWriteRequest } from './decoded.js';
import { encodeWriteRequest, encodeWriteRequestV2 } from './encode.js';
import type { SeriesObject } from './objects.js';
import { KEEP_ALL_ROWS, SubsetEncoder } from './subset.js';

const SERIES = 2000;
const SEED = 1;
const RF = 3;
const ROUNDS = 25;
const ROUND_MS = 40;

const w = makeWorkload(SERIES, SEED);
const series: SeriesObject[] = [];
for (let i = 0; i < SERIES; i++) series.push({ labels: w.labels(i), samples: [{ value: w.value(i, 1), timestamp: 1_760_000_000_000 + i }] });
const body = encodeWriteRequest({ series });
const req = decodeWriteRequest(body);
const reqV2 = decodeWriteRequestV2(encodeWriteRequestV2({ series }));

/** Series indexes per ingester: each series into RF consecutive groups of `groups`, in request order. */
function split(groups: number): Uint32Array[] {
  const rnd = mulberry32(SEED);
  const lists: number[][] = Array.from({ length: groups }, () => []);
  for (let i = 0; i < SERIES; i++) {
    const g0 = Math.floor(rnd() * groups);
    for (let r = 0; r < Math.min(RF, groups); r++) lists[(g0 + r) % groups]!.push(i);
  }
  return lists.map((l) => Uint32Array.from(l));
}

interface Row {
  name: string;
  /** series and output bytes per op */
  series: number;
  bytes: number;
  /** best and median CPU time per op, ns */
  best: number;
  median: number;
}

let sink = 0;
const gc = (globalThis as { gc?: () => void }).gc;

/** Process CPU time per call of `op` (on a shared machine wall-clock rounds include time descheduled). */
function measure(name: string, seriesPerOp: number, bytesPerOp: number, op: () => number): Row {
  gc?.();
  for (let i = 0; i < 50; i++) sink += op();
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    let us = 0;
    while (us < ROUND_MS * 1e3) {
      sink += op();
      n++;
      const c = process.cpuUsage(c0);
      us = c.user + c.system;
    }
    per.push((us * 1e3) / n);
  }
  per.sort((a, b) => a - b);
  return { name, series: seriesPerOp, bytes: bytesPerOp, best: per[0]!, median: per[Math.floor(ROUNDS / 2)]! };
}

function fmt(r: Row): string {
  const mbs = (ns: number): string => ((r.bytes / ns) * 1e3).toFixed(0);
  const msps = (ns: number): string => ((r.series / ns) * 1e3).toFixed(2);
  return (
    `${r.name.padEnd(34)} ${(r.best / 1e3).toFixed(0).padStart(6)} us ${msps(r.best).padStart(6)} M series/s ${mbs(r.best).padStart(6)} MB/s` +
    `   (median ${(r.median / 1e3).toFixed(0)} us, ${msps(r.median)} M series/s, ${mbs(r.median)} MB/s)`
  );
}

function run(groups: number): [Row, Row] {
  const lists = split(groups);
  const copy = new SubsetEncoder();
  const slow = new SubsetEncoder({ copySpans: false });
  const all = (enc: SubsetEncoder): number => {
    let n = 0;
    for (const l of lists) n += enc.encode(req, l, l.length, KEEP_ALL_ROWS, null, 0).length;
    return n;
  };
  const bytes = all(copy);
  if (all(slow) !== bytes) throw new Error('copied and re-encoded bodies differ in size');
  const n = lists.reduce((a, l) => a + l.length, 0);
  const sizes = lists.map((l) => l.length).join('/');
  console.log(`${groups} ingesters, RF ${RF}: ${n} series per op (${sizes}), ${bytes} B of bodies per op`);
  const f = measure(`  copy (fast path)`, n, bytes, () => all(copy));
  const s = measure(`  re-encode (copySpans: false)`, n, bytes, () => all(slow));
  if (copy.reencodedSeries !== 0 || slow.copiedSeries !== 0) throw new Error('a path was not the one measured');
  return [f, s];
}

/** The same series sent as 2.0: always re-encoded (labels are symbol refs). */
function runV2(groups: number): Row {
  const lists = split(groups);
  const enc = new SubsetEncoder();
  const all = (r: DecodedWriteRequest): number => {
    let n = 0;
    for (const l of lists) n += enc.encode(r, l, l.length, KEEP_ALL_ROWS, null, 0).length;
    return n;
  };
  const bytes = all(reqV2);
  if (bytes !== all(req)) throw new Error('2.0 and 1.0 bodies differ in size');
  const n = lists.reduce((a, l) => a + l.length, 0);
  return measure(`2.0 request, ${groups} ingesters (re-encode)`, n, bytes, () => all(reqV2));
}

console.log(`subset encode: ${SERIES} series x 10 labels x 1 sample (${body.length} B request), seed ${SEED}; node ${process.version}; CPU time per op`);
for (const groups of [6, 3]) {
  const [f, s] = run(groups);
  console.log(fmt(f));
  console.log(fmt(s));
  console.log(`  ratio re-encode time / copy time: ${(s.best / f.best).toFixed(1)}x (median ${(s.median / f.median).toFixed(1)}x)`);
}
console.log(fmt(runV2(6)));
if (sink === 42) console.log('');
