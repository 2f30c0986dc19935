// The reference ingest workload's series model (../shared/bench/rwload.mjs), written again here
// so Muninn's own benchmarks can drive components below the HTTP layer with the same data:
// S series = targets x metrics, 10 labels each (__name__, job, instance, env, region, zone,
// cluster, namespace, pod, container), counters and gauges, one sample per series per round.
import { mulberry32 } from '../src/util/random.js';

export { mulberry32 };

const SUBSYSTEMS = ['http', 'node', 'process', 'go', 'db', 'cache', 'queue', 'grpc', 'disk', 'net'];
const THINGS = ['requests', 'errors', 'bytes', 'duration_seconds', 'connections', 'operations', 'latency_seconds', 'items', 'retries', 'timeouts'];
const JOBS = ['node-exporter', 'api-server', 'kube-state-metrics', 'payments', 'checkout', 'frontend', 'postgres-exporter', 'redis-exporter'];
const ENVS = ['prod', 'staging', 'dev'];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
const NAMESPACES = ['default', 'monitoring', 'kube-system', 'payments', 'checkout', 'web', 'data', 'infra', 'search', 'auth', 'billing', 'ml', 'ingest', 'edge', 'batch', 'ops'];
const CONTAINERS = ['app', 'sidecar', 'envoy', 'exporter', 'init', 'worker'];
const HEX = '0123456789abcdef';
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

export interface Workload {
  series: number;
  metrics: number;
  labels(i: number): string[];
  value(i: number, round: number): number;
}

export function makeWorkload(series: number, seed = 1, metrics = 100, prefix = 'rwbench_'): Workload {
  const nTargets = Math.ceil(series / metrics);
  const rnd = mulberry32(seed ^ 0x9e3779b9);
  const targets = Array.from({ length: nTargets }, (_, t) => {
    const job = JOBS[t % JOBS.length] as string;
    const region = REGIONS[t % REGIONS.length] as string;
    let rs = '';
    for (let k = 0; k < 10; k++) rs += HEX[Math.floor(rnd() * 16)];
    let sfx = '';
    for (let k = 0; k < 5; k++) sfx += ALNUM[Math.floor(rnd() * ALNUM.length)];
    return {
      job,
      instance: `node-${t}.bench.internal:9100`,
      env: ENVS[t % ENVS.length] as string,
      region,
      zone: `${region}${'abc'[Math.floor(t / REGIONS.length) % 3]}`,
      cluster: `cluster-${t % 12}`,
      namespace: NAMESPACES[t % NAMESPACES.length] as string,
      pod: `${job}-${rs}-${sfx}`,
    };
  });
  const vr = mulberry32(seed ^ 0x85ebca6b);
  const base = new Float64Array(series);
  const inc = new Float64Array(series);
  for (let i = 0; i < series; i++) {
    if ((i % metrics) % 2 === 0) {
      base[i] = Math.floor(vr() * 1e6);
      inc[i] = 1 + Math.floor(vr() * 50);
    } else {
      base[i] = vr() * 1000;
      inc[i] = -1;
    }
  }
  return {
    series,
    metrics,
    labels(i: number): string[] {
      const m = i % metrics;
      const tg = targets[Math.floor(i / metrics)] as (typeof targets)[number];
      const name = `${prefix}${SUBSYSTEMS[m % 10]}_${THINGS[Math.floor(m / 10) % 10]}${m % 2 === 0 ? '_total' : ''}`;
      // sorted by name
      return ['__name__', name, 'cluster', tg.cluster, 'container', CONTAINERS[m % CONTAINERS.length] as string, 'env', tg.env,
        'instance', tg.instance, 'job', tg.job, 'namespace', tg.namespace, 'pod', tg.pod, 'region', tg.region, 'zone', tg.zone];
    },
    value(i: number, round: number): number {
      const d = inc[i] as number;
      if (d > 0) return (base[i] as number) + d * round;
      const h = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(round + 1, 0x85ebca77)) >>> 0;
      return Math.round(((base[i] as number) + (h % 20000) / 100 - 100) * 100) / 100;
    },
  };
}
