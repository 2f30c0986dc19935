// Micro-benchmark: hand-written remote-write decoder vs protobufjs (the library we would
// otherwise use, and the tests' oracle), on the standard ingest request shape of
// shared/bench/rwload.mjs: 2000 series per request, 10 labels per series, 1 sample per series.
//
// Run (from the repository root):
//   npx tsc -p tsconfig.json && node --expose-gc dist/src/remotewrite/decode.bench.js
// (package.json: "bench:decode": "tsc -p tsconfig.json && node --expose-gc dist/src/remotewrite/decode.bench.js")
//
// Fixed seed; prints one line per decoder (best and median of 25 rounds of 40 ms of process CPU
// time: many short rounds, because the best of them is what stays stable on a busy machine), then
// the ratios protobufjs time / our time. It is
// not a test and never fails on a timing. Not imported by anything else; needs the
// devDependency protobufjs.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { decodeWriteRequest } from './decode.js';
import { decodeWriteRequestV2 } from './decode-v2.js';
import { labelsOf } from './decoded.js';
import { encodeWriteRequest, encodeWriteRequestV2 } from './encode.js';
import type { SeriesObject } from './objects.js';
import { mulberry32 } from '../util/random.js';

const SERIES = 2000;
const SEED = 1;
const ROUNDS = 25;
const ROUND_MS = 40;

/** Series shaped like rwload's: targets x 100 metric names, 10 name-sorted labels, 1 sample each. */
function workload(): SeriesObject[] {
  const rnd = mulberry32(SEED);
  const pickS = (xs: string[]): string => xs[Math.floor(rnd() * xs.length)]!;
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('');
  const jobs = ['node-exporter', 'api-server', 'kube-state-metrics', 'payments', 'checkout', 'frontend'];
  const subsystems = ['http', 'node', 'process', 'go', 'db', 'cache', 'queue', 'grpc', 'disk', 'net'];
  const things = ['requests', 'errors', 'bytes', 'duration_seconds', 'connections', 'operations', 'latency_seconds', 'items', 'retries', 'timeouts'];
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
  const ts = 1_760_000_000_000; // a 6-byte varint, like rwload's timestamps
  const out: SeriesObject[] = [];
  let target: Record<string, string> = {};
  for (let i = 0; i < SERIES; i++) {
    const m = i % 100;
    if (m === 0) {
      const t = i / 100;
      const job = pickS(jobs);
      const region = pickS(regions);
      target = {
        job,
        instance: `node-${t}.bench.internal:9100`,
        env: pickS(['prod', 'staging', 'dev']),
        region,
        zone: `${region}${pickS(['a', 'b', 'c'])}`,
        cluster: `cluster-${t % 12}`,
        namespace: pickS(['default', 'monitoring', 'kube-system', 'payments', 'web', 'data']),
        pod: `${job}-${hex(10)}-${hex(5)}`,
      };
    }
    const name = `rwbench_${subsystems[m % 10]}_${things[Math.floor(m / 10)]}${m % 2 === 0 ? '_total' : ''}`;
    const pairs: Array<[string, string]> = [['__name__', name], ['container', pickS(['app', 'sidecar', 'envoy', 'exporter'])], ...Object.entries(target)];
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const value = m % 2 === 0 ? Math.floor(rnd() * 1e6) : Math.round(rnd() * 100000) / 100;
    out.push({ labels: pairs.flat(), samples: [{ value, timestamp: ts + i }] });
  }
  return out;
}

interface Row {
  name: string;
  bytes: number;
  /** best and median CPU time per decode over the rounds, ns */
  best: number;
  median: number;
}

let sink = 0;

/**
 * Process CPU time (user + system) per call of `op`: on a shared machine wall-clock rounds
 * include time spent descheduled, CPU time does not. Note it also counts GC helper threads.
 */
const gc = (globalThis as { gc?: () => void }).gc;

function measure(name: string, bytes: number, op: () => number): Row {
  gc?.(); // with --expose-gc: every row starts from a collected heap
  for (let i = 0; i < 50; i++) sink += op(); // warm-up: let the JIT settle
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
  return { name, bytes, best: per[0]!, median: per[Math.floor(ROUNDS / 2)]! };
}

function fmt(r: Row): string {
  const mibs = (ns: number): string => ((r.bytes / ns) * 1e9 / 1048576).toFixed(0);
  const msps = (ns: number): string => ((SERIES / ns) * 1e3).toFixed(2);
  return (
    `${r.name.padEnd(40)} ${(r.best / 1e3).toFixed(0).padStart(6)} us ${mibs(r.best).padStart(6)} MiB/s ${msps(r.best).padStart(6)} M series/s` +
    `   (median ${(r.median / 1e3).toFixed(0)} us, ${mibs(r.median)} MiB/s, ${msps(r.median)} M series/s)`
  );
}

const protoUrl = (p: string): string => fileURLToPath(new URL(`../../../proto/${p}`, import.meta.url));
const WriteRequest = (await protobuf.load(protoUrl('prometheus/remote.proto'))).lookupType('prometheus.WriteRequest');
const RequestV2 = (await protobuf.load(protoUrl('io/prometheus/write/v2/types.proto'))).lookupType('io.prometheus.write.v2.Request');

const series = workload();
const v1 = encodeWriteRequest({ series });
const v2 = encodeWriteRequestV2({ series });

console.log(`remote-write decode: ${SERIES} series x 10 labels x 1 sample, seed ${SEED}; node ${process.version}; CPU time per decode`);
console.log(`request size: 1.0 ${v1.length} B, 2.0 ${v2.length} B (uncompressed)`);

// Our rows first: the protobufjs rows leave a large heap behind that would tax whatever runs next.
const o1 = measure('ours 1.0 (columnar, no strings)', v1.length, () => decodeWriteRequest(v1).seriesCount);
const o2 = measure('ours 2.0 (columnar, refs resolved)', v2.length, () => decodeWriteRequestV2(v2).seriesCount);
const o1s = measure('ours 1.0 + labelsOf() for every series', v1.length, () => {
  const d = decodeWriteRequest(v1);
  let n = 0;
  for (let i = 0; i < d.seriesCount; i++) n += labelsOf(d, i).length;
  return n;
});
const p1 = measure('protobufjs 1.0 Type.decode', v1.length, () => (WriteRequest.decode(v1) as unknown as { timeseries: unknown[] }).timeseries.length);
const p2 = measure('protobufjs 2.0 Type.decode', v2.length, () => (RequestV2.decode(v2) as unknown as { timeseries: unknown[] }).timeseries.length);
const rows = [o1, o1s, p1, o2, p2];
for (const r of rows) console.log(fmt(r));
const ratio = (lib: Row, ours: Row): string => `${(lib.best / ours.best).toFixed(1)}x (median ${(lib.median / ours.median).toFixed(1)}x)`;
console.log(`ratio 1.0, protobufjs time / ours: ${ratio(p1, o1)}; ours with every label string made: ${ratio(p1, o1s)}`);
console.log(`ratio 2.0, protobufjs time / ours: ${ratio(p2, o2)}`);
if (sink === 42) console.log(''); // keep results alive
