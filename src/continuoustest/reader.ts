// Reads the test series back through the query API and checks them (check.ts).
//
// Queries are kept small: at most MAX_SAMPLES_PER_QUERY samples and MAX_POINTS_PER_SERIES points
// per series (Mimir's getQueryStep cap), so a window is split by time and by groups of series.
//
// - runOnce (every -tests.run-interval): the recent window (the last hour, or 1000 write
//   intervals if shorter) as range queries over every series (at most MAX_RECENT_QUERIES queries
//   a run: with more series, the batches take turns), and as an instant raw-sample query over one
//   random batch of series; then a random older window within
//   -tests.write-read-series-test.max-query-age, both ways, over one random batch.
// - checkWindow: one window, every series, both ways (the smoke test).
// - checkAll: every acked sample still within max-query-age, as raw samples: the final check.
import type { Logger } from '../log/index.js';
import type { AckLog, Cuts } from './acked.js';
import { addResult, checkMatrix, type CheckResult, emptyResult, expectedCount, type Window } from './check.js';
import { QueryError, type QueryData, type TestClient } from './client.js';
import { type QueryType, type TestMetrics, TEST_NAME } from './metrics.js';
import { GROUP_SIZE, groupCount, groupsSelector, groupsSeries, METRIC_NAME } from './series.js';
import { sleep } from '../lifecycle/index.js';

export const MAX_SAMPLES_PER_QUERY = 100_000;
export const MAX_POINTS_PER_SERIES = 1000;
const RECENT_SPAN_MS = 3_600_000;
const MAX_DETAILS = 100;
/** Attempts of one query in checkAll (retryable failures only). */
const CHECK_ALL_ATTEMPTS = 4;
/** Queries in flight at once in checkAll and checkWindow. */
const CHECK_PARALLEL = 4;
/** Most range queries over the recent window per run; more batches are covered over the next runs. */
const MAX_RECENT_QUERIES = 20;

export interface ReaderOptions {
  client: TestClient;
  acks: AckLog;
  maxQueryAgeMs: number;
  metrics: TestMetrics;
  log: Logger;
  now?: () => number;
  random?: () => number;
}

/** The outcome of a set of queries. `missing` counts acked samples whose query failed as well. */
export interface ReadReport extends CheckResult {
  queries: number;
  queriesFailed: number;
  checksFailed: number;
}

function emptyReport(): ReadReport {
  return { ...emptyResult(), queries: 0, queriesFailed: 0, checksFailed: 0 };
}

/** One query to run: its kind, series groups [gLo, gHi) and window. */
interface Planned {
  type: QueryType;
  gLo: number;
  gHi: number;
  w: Window;
}

export class SeriesReader {
  private readonly o: ReaderOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly step: number;
  private cursor = 0;

  constructor(opts: ReaderOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.step = opts.acks.stepMs;
  }

  /** The acked time range still worth querying, as of cuts; null when there is none. */
  private span(cuts: Cuts): [number, number] | null {
    const minAllowed = Math.ceil((this.now() - this.o.maxQueryAgeMs) / this.step) * this.step;
    this.o.acks.prune(minAllowed);
    const b = this.o.acks.bounds();
    if (b === null) return null;
    const lo = Math.max(b[0], minAllowed);
    const hi = Math.min(b[1], cuts.maxDone());
    return lo <= hi ? [lo, hi] : null;
  }

  /** The periodic read: see the file comment. */
  async runOnce(signal?: AbortSignal): Promise<ReadReport> {
    const cuts = this.o.acks.cuts();
    const span = this.span(cuts);
    if (span === null) {
      this.o.log.info('continuous test: skipped queries, nothing acked within the max query age yet');
      return emptyReport();
    }
    const [minT, maxT] = span;
    const spanMs = Math.floor(Math.min(RECENT_SPAN_MS, (MAX_POINTS_PER_SERIES - 1) * this.step) / this.step) * this.step;
    const recentFrom = Math.max(minT, maxT - spanMs);
    const groups = groupCount(this.o.acks.numSeries);
    const plan: Planned[] = [];
    plan.push(...this.rotate(this.plan('range', recentFrom, maxT, 0, groups)));
    plan.push(...this.pickOne(this.plan('instant', recentFrom, maxT, 0, groups)));
    if (minT < recentFrom) {
      const olderMax = recentFrom - this.step;
      const from = minT + Math.floor(this.random() * ((Math.max(0, olderMax - minT - spanMs) / this.step) + 1)) * this.step;
      const to = Math.min(olderMax, from + spanMs);
      plan.push(...this.pickOne(this.plan('range', from, to, 0, groups)));
      plan.push(...this.pickOne(this.plan('instant', from, to, 0, groups)));
    }
    return this.runPlan(plan, cuts, 1, 1, signal);
  }

  /** Checks [fromT, toT] for every series, with both kinds of query. */
  async checkWindow(fromT: number, toT: number, signal?: AbortSignal): Promise<ReadReport> {
    const cuts = this.o.acks.cuts();
    const groups = groupCount(this.o.acks.numSeries);
    const plan = [...this.plan('range', fromT, toT, 0, groups), ...this.plan('instant', fromT, toT, 0, groups)];
    return this.runPlan(plan, cuts, 1, CHECK_PARALLEL, signal);
  }

  /**
   * Every acked sample within the max query age (and within [fromT, toT] when given), as raw
   * samples; queries retried on 5xx. One query per MAX_SAMPLES_PER_QUERY acked samples, a few at
   * a time.
   */
  async checkAll(signal?: AbortSignal, range: { fromT?: number; toT?: number } = {}): Promise<ReadReport & { fromT: number | null; toT: number | null }> {
    const cuts = this.o.acks.cuts();
    const span = this.span(cuts);
    if (span === null) return { ...emptyReport(), fromT: null, toT: null };
    const s = this.step;
    const fromT = Math.max(span[0], range.fromT === undefined ? -Infinity : Math.ceil(range.fromT / s) * s);
    const toT = Math.min(span[1], range.toT === undefined ? Infinity : Math.floor(range.toT / s) * s);
    if (fromT > toT) return { ...emptyReport(), fromT: null, toT: null };
    const plan = this.plan('instant', fromT, toT, 0, groupCount(this.o.acks.numSeries));
    const r = await this.runPlan(plan, cuts, CHECK_ALL_ATTEMPTS, CHECK_PARALLEL, signal);
    return { ...r, fromT, toT };
  }

  /**
   * Splits [fromT, toT] (grid-aligned) x groups [gLo, gHi) into queries of bounded size. A range
   * query steps by a multiple of the write interval to stay within MAX_POINTS_PER_SERIES; an
   * instant query takes every sample of its time slice.
   */
  private plan(type: QueryType, fromT: number, toT: number, gLo: number, gHi: number): Planned[] {
    const out: Planned[] = [];
    const ticks = Math.floor((toT - fromT) / this.step) + 1;
    if (ticks <= 0 || gHi <= gLo) return out;
    const n = this.o.acks.numSeries;
    let stepMs = this.step;
    let slices: Array<[number, number]>;
    if (type === 'range') {
      stepMs = this.step * Math.ceil(ticks / MAX_POINTS_PER_SERIES);
      slices = [[fromT, fromT + Math.floor((toT - fromT) / stepMs) * stepMs]];
    } else {
      const perSlice = Math.min(ticks, Math.floor(MAX_SAMPLES_PER_QUERY / GROUP_SIZE));
      slices = [];
      for (let a = fromT; a <= toT; a += perSlice * this.step) slices.push([a, Math.min(toT, a + (perSlice - 1) * this.step)]);
    }
    for (const [a, b] of slices) {
      const points = Math.floor((b - a) / stepMs) + 1;
      const groupsPerQuery = Math.max(1, Math.floor(MAX_SAMPLES_PER_QUERY / (points * GROUP_SIZE)));
      for (let g = gLo; g < gHi; g += groupsPerQuery) {
        const g2 = Math.min(gHi, g + groupsPerQuery);
        const [lo, hi] = groupsSeries(g, g2, n);
        out.push({ type, gLo: g, gHi: g2, w: { lo, hi, fromT: a, toT: b, stepMs } });
      }
    }
    return out;
  }

  private pickOne(p: Planned[]): Planned[] {
    if (p.length === 0) return p;
    return [p[Math.floor(this.random() * p.length)] as Planned];
  }

  /** At most MAX_RECENT_QUERIES of p, taking up where the last run stopped: every batch in turn. */
  private rotate(p: Planned[]): Planned[] {
    if (p.length <= MAX_RECENT_QUERIES) return p;
    const out: Planned[] = [];
    for (let k = 0; k < MAX_RECENT_QUERIES; k++) out.push(p[(this.cursor + k) % p.length] as Planned);
    this.cursor = (this.cursor + MAX_RECENT_QUERIES) % p.length;
    return out;
  }

  private async runPlan(plan: Planned[], cuts: Cuts, attempts: number, parallel: number, signal: AbortSignal | undefined): Promise<ReadReport> {
    const report = emptyReport();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.length && signal?.aborted !== true) {
        const q = plan[next++] as Planned;
        const r = await this.runOne(q, cuts, attempts, signal);
        report.queries++;
        if (r === null) {
          report.queriesFailed++;
          const n = expectedCount(q.w, cuts);
          report.acked += n;
          report.missing += n;
          if (report.details.length < MAX_DETAILS) report.details.push(`${q.type} query over series ${q.w.lo}..${q.w.hi - 1}, ${q.w.fromT}..${q.w.toT} failed; its ${n} acked samples are unverified (counted as missing)`);
          continue;
        }
        if (r.missing > 0 || r.mismatched > 0) report.checksFailed++;
        addResult(report, r, MAX_DETAILS);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, plan.length)) }, worker));
    return report;
  }

  /** Runs one planned query and checks it; null when the query failed (counted and logged). */
  private async runOne(q: Planned, cuts: Cuts, attempts: number, signal: AbortSignal | undefined): Promise<CheckResult | null> {
    const m = this.o.metrics;
    const labels = { test: TEST_NAME, type: q.type };
    const sel = groupsSelector(q.gLo, q.gHi);
    const w = q.w;
    let expr: string;
    let run: () => Promise<QueryData>;
    if (q.type === 'range') {
      const lookback = Math.max(1, Math.min(this.step - 1, 1000));
      expr = `last_over_time(${sel}[${lookback}ms])`;
      run = () => this.o.client.queryRange(expr, w.fromT, w.toT, w.stepMs, signal);
    } else {
      expr = `${sel}[${w.toT - w.fromT + this.step}ms]`;
      run = () => this.o.client.query(expr, w.toT, signal);
    }
    let data: QueryData | undefined;
    for (let attempt = 1; ; attempt++) {
      m.queriesTotal.inc(labels);
      const t0 = performance.now();
      try {
        data = await run();
        m.queriesDuration.observe(labels, (performance.now() - t0) / 1000);
        break;
      } catch (e) {
        if (signal?.aborted === true) throw e;
        m.queriesFailedTotal.inc(labels);
        const retry = e instanceof QueryError && e.retryable && attempt < attempts;
        this.o.log.warn({ err: errText(e), query: expr, start: w.fromT, end: w.toT, step: w.stepMs, attempt, retrying: retry }, `continuous test: ${q.type} query failed`);
        if (!retry) return null;
        await sleep(1000 * 2 ** (attempt - 1), signal);
      }
    }
    m.checksTotal.inc(labels);
    let r: CheckResult;
    try {
      r = checkMatrix(data, w, cuts, METRIC_NAME, q.type === 'instant');
    } catch (e) {
      // an answer of the wrong shape: a failed check of every sample it should have had
      const n = expectedCount(w, cuts);
      r = { acked: n, missing: n, mismatched: 0, details: [`${q.type} query ${expr}: ${errText(e)}`] };
    }
    if (r.missing > 0 || r.mismatched > 0) {
      m.checksFailedTotal.inc(labels);
      m.samplesMissing.inc(labels, r.missing);
      m.samplesMismatched.inc(labels, r.mismatched);
      this.o.log.warn({ query: expr, start: w.fromT, end: w.toT, step: w.stepMs, acked: r.acked, missing: r.missing, mismatched: r.mismatched, details: r.details.slice(0, 5) }, `continuous test: ${q.type} query result check failed`);
    } else {
      this.o.log.debug({ query: expr, start: w.fromT, end: w.toT, step: w.stepMs, acked: r.acked }, `continuous test: ${q.type} query result check passed`);
    }
    return r;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
