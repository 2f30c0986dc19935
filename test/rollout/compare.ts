// Muninn against Prometheus's own TSDB: for a few series Prometheus scraped from the cluster (and
// remote-wrote through it), the same queries on both must give the same answer:
//   - raw: `<metric>[<window>s]` at the window's end (every stored sample, timestamps included);
//   - range: `<metric>` from start to end with the same step.
import type { PromAnswer } from '../cluster-helpers.js';
import type { Prometheus } from './prometheus.js';

export const COMPARED_METRICS = [
  'up',
  'cortex_distributor_received_samples_total',
  'cortex_ingester_ingested_samples_total',
  'mimir_continuous_test_writes_total',
] as const;

export interface MetricComparison {
  query: string;
  kind: 'raw' | 'range';
  /** Series in Prometheus's answer. */
  series: number;
  /** Samples (raw) or points (range) in Prometheus's answer. */
  samples: number;
  /** Series missing or extra, and samples that differ, are missing or extra. */
  mismatches: number;
  details: string[];
}

export interface Comparison {
  window: { start: number; end: number; seconds: number };
  stepS: number;
  metrics: MetricComparison[];
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

type MuninnApi = (path: string, params: Record<string, string>) => Promise<PromAnswer>;

const key = (m: Record<string, string>): string => JSON.stringify(Object.keys(m).sort().map((k) => [k, m[k]]));

function matrix(data: unknown, who: string): MatrixSeries[] {
  const d = data as { resultType?: string; result?: MatrixSeries[] };
  if (d.resultType !== 'matrix' || !Array.isArray(d.result)) throw new Error(`${who}: not a matrix: ${JSON.stringify(data).slice(0, 200)}`);
  return d.result;
}

function diff(query: string, kind: 'raw' | 'range', want: MatrixSeries[], got: MatrixSeries[]): MetricComparison {
  const out: MetricComparison = { query, kind, series: want.length, samples: 0, mismatches: 0, details: [] };
  const note = (s: string): void => {
    out.mismatches++;
    if (out.details.length < 10) out.details.push(s);
  };
  const g = new Map(got.map((s) => [key(s.metric), s]));
  for (const w of want) {
    out.samples += w.values.length;
    const k = key(w.metric);
    const m = g.get(k);
    g.delete(k);
    if (m === undefined) {
      note(`series ${k} (${w.values.length} samples) missing in Muninn`);
      continue;
    }
    const mv = new Map(m.values.map(([t, v]) => [t, v]));
    for (const [t, v] of w.values) {
      const x = mv.get(t);
      mv.delete(t);
      if (x === undefined) note(`${k} @${t}: Prometheus ${v}, Muninn none`);
      else if (!(Number(x) === Number(v) || (Number.isNaN(Number(x)) && Number.isNaN(Number(v))))) note(`${k} @${t}: Prometheus ${v}, Muninn ${x}`);
    }
    for (const [t, x] of mv) note(`${k} @${t}: Prometheus none, Muninn ${x}`);
  }
  for (const [k, m] of g) note(`series ${k} (${m.values.length} samples) only in Muninn`);
  return out;
}

export async function compareWithPrometheus(prom: Prometheus, muninn: MuninnApi, start: number, end: number): Promise<Comparison> {
  const seconds = end - start;
  if (seconds < 10) throw new Error(`comparison window too short: ${seconds} s`);
  const stepS = Math.max(1, Math.ceil(seconds / 1000));
  const metrics: MetricComparison[] = [];
  const muninnData = async (path: string, params: Record<string, string>): Promise<unknown> => {
    const r = await muninn(path, params);
    if (r.status !== 200 || r.json?.status !== 'success') throw new Error(`Muninn ${path} ${JSON.stringify(params)} answered ${r.status}: ${r.body.slice(0, 300)}`);
    return r.json.data;
  };
  for (const q of COMPARED_METRICS) {
    const raw = { query: `${q}[${seconds}s]`, time: String(end) };
    metrics.push(diff(raw.query, 'raw', matrix(await prom.api('/api/v1/query', raw), 'prometheus'), matrix(await muninnData('/api/v1/query', raw), 'muninn')));
    const range = { query: q, start: String(start), end: String(end), step: String(stepS) };
    metrics.push(diff(q, 'range', matrix(await prom.api('/api/v1/query_range', range), 'prometheus'), matrix(await muninnData('/api/v1/query_range', range), 'muninn')));
  }
  return { window: { start, end, seconds }, stepS, metrics };
}
