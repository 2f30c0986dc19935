import '../harness.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  AggregateOp,
  AtModifier,
  BinaryOp,
  Call,
  Expr,
  FunctionSignature,
  MatrixSelector,
  SubqueryExpr,
  ValueType,
  VectorSelector,
} from '../../src/promql/ast.js';
import { typeOf } from '../../src/promql/ast.js';
import { Engine, PromQLError } from '../../src/promql/engine/index.js';
import { FUNCTIONS } from '../../src/promql/functions/index.js';
import type { EngineOptions, QueryResult } from '../../src/promql/engine/index.js';
import { formatHistogram, makeHistogram } from '../../src/promql/histogram/index.js';
import { prometheusLabelsHash, xxhash64 } from '../../src/promql/engine/hash.js';
import { isStaleNaN } from '../../src/promql/engine/series.js';
import type { FnArg, FunctionImpl } from '../../src/promql/functions/types.js';
import type { FloatHistogram, HPoint, Labels, Queryable, Sample, StorageMatcher, StorageSeries } from '../../src/promql/value.js';
import { Matcher, compareStrings, labelsToString } from '../../src/tsdb/labels/index.js';
import type { Labels as TsdbLabels } from '../../src/tsdb/labels/index.js';

// ---- storage fixture ------------------------------------------------------------------------

const STALE = (() => {
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  u[0] = 2;
  u[1] = 0x7ff00000;
  return f[0] as number;
})();

type Item = number | null | 'stale' | FloatHistogram;

interface MemSeries {
  labels: Labels;
  t: number[];
  /** values; stale markers are kept apart (a JS array would not keep the NaN's bits) */
  v: number[];
  stale: boolean[];
  h: HPoint[];
}

/** An in-memory Queryable; records every select() call. */
class MemStorage implements Queryable {
  readonly series: MemSeries[] = [];
  readonly selects: { matchers: readonly StorageMatcher[]; mint: number; maxt: number }[] = [];
  delayMs = 0;

  /** Adds `items` at t = 0, interval, 2*interval, ... (null = no sample). */
  load(interval: number, labels: Record<string, string>, items: Item[]): this {
    const flat: string[] = [];
    for (const k of Object.keys(labels).sort(compareStrings)) flat.push(k, labels[k] as string);
    let s = this.series.find((x) => JSON.stringify(x.labels) === JSON.stringify(flat));
    if (s === undefined) {
      s = { labels: flat, t: [], v: [], stale: [], h: [] };
      this.series.push(s);
    }
    items.forEach((it, i) => {
      if (it === null) return;
      const t = i * interval;
      if (typeof it === 'object') s.h.push({ t, h: it });
      else {
        s.t.push(t);
        s.v.push(it === 'stale' ? NaN : it);
        s.stale.push(it === 'stale');
      }
    });
    return this;
  }

  async select(matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<StorageSeries[]> {
    this.selects.push({ matchers, mint, maxt });
    if (this.delayMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    }
    const ms = matchers.map((m) => new Matcher(m.type, m.name, m.value));
    const out: StorageSeries[] = [];
    const sorted = this.series.slice().sort((a, b) => (labelsToString(a.labels as TsdbLabels) < labelsToString(b.labels as TsdbLabels) ? -1 : 1));
    for (const s of sorted) {
      if (!ms.every((m) => m.matches(get(s.labels, m.name)))) continue;
      const idx: number[] = [];
      s.t.forEach((x, i) => {
        if (x >= mint && x <= maxt) idx.push(i);
      });
      const h = s.h.filter((p) => p.t >= mint && p.t <= maxt);
      if (idx.length + h.length === 0) continue;
      const t = new Float64Array(idx.length);
      const v = new Float64Array(idx.length);
      const bits = new Uint32Array(v.buffer);
      idx.forEach((i, k) => {
        t[k] = s.t[i] as number;
        v[k] = s.v[i] as number;
        if (s.stale[i] === true) {
          bits[2 * k] = 2;
          bits[2 * k + 1] = 0x7ff00000;
        }
      });
      out.push({ labels: s.labels, t, v, histograms: h });
    }
    return out;
  }

  async labelNames(): Promise<string[]> {
    return [];
  }

  async labelValues(): Promise<string[]> {
    return [];
  }
}

function get(ls: Labels, name: string): string {
  for (let i = 0; i < ls.length; i += 2) if (ls[i] === name) return ls[i + 1] as string;
  return '';
}

/** a, a+b, ..., a+n*b (n+1 values, by repeated addition as promqltest does). */
function seq(a: number, b: number, n: number): number[] {
  const out = [a];
  let v = a;
  for (let i = 0; i < n; i++) out.push((v += b));
  return out;
}

const S = 1000;
const M = 60 * S;

/** job, instance, group and the per-step increase of the http_requests series of Prometheus's tests. */
const HTTP_JOBS: ReadonlyArray<readonly [string, string, string, number]> = [
  ['api-server', '0', 'production', 10],
  ['api-server', '1', 'production', 20],
  ['api-server', '0', 'canary', 30],
  ['api-server', '1', 'canary', 40],
  ['app-server', '0', 'production', 50],
  ['app-server', '1', 'production', 60],
  ['app-server', '0', 'canary', 70],
  ['app-server', '1', 'canary', 80],
];

// ---- syntax-tree builders (the parser is built elsewhere) -------------------------------------

const P = { start: 0, end: 0 };

function vs(name: string, labels: Record<string, string> = {}, o: { offset?: number; at?: AtModifier | number } = {}): VectorSelector {
  const matchers = [];
  if (name !== '') matchers.push({ type: '=' as const, name: '__name__', value: name });
  for (const [k, v] of Object.entries(labels)) {
    if (v.startsWith('=~')) matchers.push({ type: '=~' as const, name: k, value: v.slice(2) });
    else if (v.startsWith('!=')) matchers.push({ type: '!=' as const, name: k, value: v.slice(2) });
    else matchers.push({ type: '=' as const, name: k, value: v });
  }
  const at = o.at === undefined ? null : typeof o.at === 'number' ? { kind: 'time' as const, ms: o.at } : o.at;
  return { type: 'VectorSelector', name, matchers, offset: o.offset ?? 0, at, pos: P };
}

function mat(v: VectorSelector, range: number): MatrixSelector {
  return { type: 'MatrixSelector', vectorSelector: v, range, pos: P };
}

function subq(expr: Expr, range: number, step: number, o: { offset?: number; at?: AtModifier | number } = {}): SubqueryExpr {
  const at = o.at === undefined ? null : typeof o.at === 'number' ? { kind: 'time' as const, ms: o.at } : o.at;
  return { type: 'SubqueryExpr', expr, range, step, offset: o.offset ?? 0, at, pos: P };
}

const num = (val: number): Expr => ({ type: 'NumberLiteral', val, pos: P });
const str = (val: string): Expr => ({ type: 'StringLiteral', val, pos: P });
const neg = (expr: Expr): Expr => ({ type: 'UnaryExpr', op: '-', expr, pos: P });
const paren = (expr: Expr): Expr => ({ type: 'ParenExpr', expr, pos: P });

interface BinOpts {
  bool?: boolean;
  fill?: { lhs: number | null; rhs: number | null };
  on?: string[];
  ignoring?: string[];
  groupLeft?: string[];
  groupRight?: string[];
}

function bin(op: BinaryOp, lhs: Expr, rhs: Expr, o: BinOpts = {}): Expr {
  const vv = typeOf(lhs) === 'vector' && typeOf(rhs) === 'vector';
  const set = op === 'and' || op === 'or' || op === 'unless';
  const card = set ? 'many-to-many' : o.groupLeft !== undefined ? 'many-to-one' : o.groupRight !== undefined ? 'one-to-many' : 'one-to-one';
  return {
    type: 'BinaryExpr',
    op,
    lhs,
    rhs,
    returnBool: o.bool === true,
    matching: vv
      ? { card, matchingLabels: o.on ?? o.ignoring ?? [], on: o.on !== undefined, include: o.groupLeft ?? o.groupRight ?? [], ...(o.fill !== undefined ? { fill: o.fill } : {}) }
      : null,
    pos: P,
  };
}

function agg(op: AggregateOp, expr: Expr, o: { by?: string[]; without?: string[]; param?: Expr } = {}): Expr {
  return { type: 'AggregateExpr', op, expr, param: o.param ?? null, grouping: o.by ?? o.without ?? [], without: o.without !== undefined, pos: P };
}

// ---- functions registered for these tests (the real library is built elsewhere) ---------------

const SIGS: Record<string, [ValueType[], ValueType, number?]> = {
  time: [[], 'scalar'],
  vector: [['scalar'], 'vector'],
  scalar: [['vector'], 'scalar'],
  timestamp: [['vector'], 'vector'],
  abs: [['vector'], 'vector'],
  minute: [['vector'], 'vector', 1],
  sum_over_time: [['matrix'], 'vector'],
  count_over_time: [['matrix'], 'vector'],
  last_over_time: [['matrix'], 'vector'],
  quantile_over_time: [['scalar', 'matrix'], 'vector'],
  sort: [['vector'], 'vector'],
  sort_desc: [['vector'], 'vector'],
  label_replace: [['vector', 'string', 'string', 'string', 'string'], 'vector'],
  annotate_me: [['vector'], 'vector'],
  range_end: [['matrix'], 'vector'],
  mad_over_time: [['matrix'], 'vector'],
};

function call(name: string, ...args: Expr[]): Call {
  const [argTypes, returnType, variadic] = SIGS[name] ?? [[], 'vector'];
  const func: FunctionSignature = { name, argTypes, variadic: variadic ?? 0, returnType, experimental: name === 'mad_over_time' };
  return { type: 'Call', func, args, pos: P };
}

const vec = (a: FnArg | undefined): Sample[] => (a?.kind === 'vector' ? (a.v as Sample[]) : []);
const scal = (a: FnArg | undefined): number => (a?.kind === 'scalar' ? a.v : NaN);

function overTime(f: (vals: number[]) => number): FunctionImpl {
  return (args, ctx) => {
    const a = args.find((x) => x.kind === 'matrix');
    if (a?.kind !== 'matrix') return [];
    return a.m.filter((s) => s.floats.length > 0).map((s) => ({ metric: s.metric, t: ctx.t, f: f(s.floats.map((p) => p.f)), h: null, dropName: true }));
  };
}

const FUNCS = new Map<string, FunctionImpl>([
  ['time', (_a, ctx) => ctx.t / 1000],
  ['vector', (a, ctx) => [{ metric: [], t: ctx.t, f: scal(a[0]), h: null }]],
  ['scalar', (a) => {
    const v = vec(a[0]);
    return v.length === 1 && v[0]?.h === null ? (v[0] as Sample).f : NaN;
  }],
  ['timestamp', (a, ctx) => vec(a[0]).map((s) => ({ metric: s.metric, t: ctx.t, f: s.t / 1000, h: null, dropName: true }))],
  ['abs', (a, ctx) => vec(a[0]).map((s) => ({ metric: s.metric, t: ctx.t, f: Math.abs(s.f), h: null, dropName: true }))],
  ['minute', (a, ctx) =>
    a.length === 0
      ? [{ metric: [], t: ctx.t, f: new Date(ctx.t).getUTCMinutes(), h: null }]
      : vec(a[0]).map((s) => ({ metric: s.metric, t: ctx.t, f: new Date(s.f * 1000).getUTCMinutes(), h: null, dropName: true }))],
  ['sum_over_time', overTime((v) => v.reduce((x, y) => x + y, 0))],
  ['count_over_time', overTime((v) => v.length)],
  ['mad_over_time', overTime(() => 0)],
  ['last_over_time', (args, ctx) => {
    const a = args[0];
    if (a?.kind !== 'matrix') return [];
    return a.m.map((s) => ({ metric: s.metric, t: ctx.t, f: (s.floats[s.floats.length - 1] as { f: number }).f, h: null }));
  }],
  ['range_end', (args, ctx) => {
    const a = args[0];
    if (a?.kind !== 'matrix') return [];
    return a.m.map((s) => ({ metric: s.metric, t: ctx.t, f: (a.rangeEnd ?? NaN) / 1000, h: null, dropName: true }));
  }],
  ['quantile_over_time', (args, ctx) => {
    const q = scal(args[0]);
    const a = args[1];
    if (a?.kind !== 'matrix') return [];
    return a.m.map((s) => {
      const v = s.floats.map((p) => p.f).sort((x, y) => x - y);
      const rank = q * (v.length - 1);
      const lo = Math.max(0, Math.floor(rank));
      const hi = Math.min(v.length - 1, lo + 1);
      const w = rank - Math.floor(rank);
      return { metric: s.metric, t: ctx.t, f: (v[lo] as number) * (1 - w) + (v[hi] as number) * w, h: null, dropName: true };
    });
  }],
  ['sort', (a) => vec(a[0]).slice().sort((x, y) => (Number.isNaN(x.f) ? 1 : Number.isNaN(y.f) ? -1 : x.f - y.f))],
  ['sort_desc', (a) => vec(a[0]).slice().sort((x, y) => (Number.isNaN(x.f) ? 1 : Number.isNaN(y.f) ? -1 : y.f - x.f))],
  ['label_replace', (a, ctx) => {
    const dst = a[1]?.kind === 'string' ? a[1].s : '';
    const repl = a[2]?.kind === 'string' ? a[2].s : '';
    return vec(a[0]).map((s) => {
      const m = new Map<string, string>();
      for (let i = 0; i < s.metric.length; i += 2) m.set(s.metric[i] as string, s.metric[i + 1] as string);
      m.set(dst, repl);
      const flat: string[] = [];
      for (const k of [...m.keys()].sort(compareStrings)) flat.push(k, m.get(k) as string);
      return { metric: flat, t: ctx.t, f: s.f, h: s.h, dropName: dst === '__name__' ? false : s.dropName === true };
    });
  }],
  ['annotate_me', (a, ctx) => {
    ctx.annotate('info', 'metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "x"');
    ctx.annotate('warning', 'something odd');
    ctx.annotate('warning', 'something odd');
    return vec(a[0]);
  }],
]);

// ---- helpers ----------------------------------------------------------------------------------

function engine(o: Partial<EngineOptions> = {}): Engine {
  return new Engine({ lookbackDeltaMs: 5 * M, maxSamples: 50_000_000, timeoutMs: 100_000, enableExperimentalFunctions: true, functions: FUNCS, ...o });
}

const key = (m: Labels): string => labelsToString(m as TsdbLabels);

/** Instant result as { '{labels}': value }, or a plain number for scalars. */
function instantValues(r: QueryResult): Record<string, number | FloatHistogram> | number | string {
  const v = r.value;
  switch (v.type) {
    case 'scalar':
      return v.value.v;
    case 'string':
      return v.value.s;
    case 'vector': {
      const out: Record<string, number | FloatHistogram> = {};
      for (const s of v.value) out[key(s.metric)] = s.h ?? s.f;
      return out;
    }
    case 'matrix':
      throw new Error('matrix');
  }
}

/** Range result as { '{labels}': [value or null per step] }. */
function rangeValues(r: QueryResult, start: number, end: number, step: number): Record<string, (number | null)[]> {
  assert.equal(r.value.type, 'matrix');
  if (r.value.type !== 'matrix') return {};
  const out: Record<string, (number | null)[]> = {};
  const n = Math.floor((end - start) / step) + 1;
  for (const s of r.value.value) {
    const row: (number | null)[] = new Array<number | null>(n).fill(null);
    for (const p of s.floats) row[(p.t - start) / step] = p.f;
    for (const p of s.histograms) row[(p.t - start) / step] = p.h.count;
    out[key(s.metric)] = row;
  }
  return out;
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) / (Math.abs(a) + Math.abs(b)) < 1e-6;
}

function assertValues(actual: unknown, expected: unknown, msg?: string): void {
  if (typeof expected === 'number') {
    assert.ok(typeof actual === 'number' && close(actual, expected), `${msg ?? ''}: got ${String(actual)}, want ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${msg}: not an array`);
    assert.equal((actual as unknown[]).length, expected.length, `${msg}: length`);
    expected.forEach((e, i) => assertValues((actual as unknown[])[i], e, `${msg}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${msg}: series`);
    for (const [k, e] of Object.entries(expected)) assertValues((actual as Record<string, unknown>)[k], e, `${msg} ${k}`);
    return;
  }
  assert.equal(actual, expected, msg);
}

async function instant(st: MemStorage, e: Expr, t: number, o: Partial<EngineOptions> = {}): Promise<ReturnType<typeof instantValues>> {
  return instantValues(await engine(o).instantQuery(st, e, t));
}

async function rangeQ(st: MemStorage, e: Expr, start: number, end: number, step: number, o: Partial<EngineOptions> = {}): Promise<Record<string, (number | null)[]>> {
  return rangeValues(await engine(o).rangeQuery(st, e, start, end, step), start, end, step);
}

async function rejectsWith(p: Promise<unknown>, type: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PromQLError, `not a PromQLError: ${String(err)}`);
    assert.equal(err.errorType, type, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

// ---- tests ------------------------------------------------------------------------------------

describe('helpers', () => {
  test('stale NaN is recognised by its bits only', () => {
    assert.equal(isStaleNaN(STALE), true);
    assert.equal(isStaleNaN(NaN), false);
    assert.equal(isStaleNaN(0), false);
  });


  test('histogram string (count_values over histograms)', () => {
    const h = makeHistogram({ sum: 10, count: 20, zeroThreshold: 0.001, zeroCount: 2, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 2], negativeSpans: [{ offset: 0, length: 2 }], negativeBuckets: [1, 2] });
    assert.equal(formatHistogram(h), '{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}');
  });

  test('xxhash64 (limit_ratio sampling as Prometheus)', () => {
    assert.equal(xxhash64(new Uint8Array()), 0xef46db3751d8e999n);
    assert.equal(xxhash64(new TextEncoder().encode('a')), 0xd24ec4f1a98c6e5bn);
    assert.equal(xxhash64(new TextEncoder().encode('abc')), 0x44bc2cf5ad770999n);
    assert.equal(xxhash64(new TextEncoder().encode('Nobody inspects the spammish repetition')), 0xfbcea83c8a378bf1n);
    assert.equal(typeof prometheusLabelsHash(['a', 'b']), 'bigint');
  });
});

describe('selectors, lookback, staleness', () => {
  // load 10s: metric 0 1 stale 2
  const st = new MemStorage().load(10 * S, { __name__: 'metric' }, [0, 1, 'stale', 2]);
  const cases: [number, number | null][] = [
    [10 * S, 1],
    [20 * S, null], // the stale marker hides the series
    [30 * S, 2],
    [40 * S, 2],
    [329 * S, 2], // goes stale 5m after the last sample
    [330 * S, null],
  ];
  for (const [t, want] of cases) {
    test(`metric at ${t / S}s`, async () => {
      assert.deepEqual(await instant(st, vs('metric'), t), want === null ? {} : { '{__name__="metric"}': want });
    });
  }

  test('range query: no point at the stale step', async () => {
    assert.deepEqual(await rangeQ(st, vs('metric'), 0, 30 * S, 10 * S), { '{__name__="metric"}': [0, 1, null, 2] });
  });

  const overTime: [number, number, number | null][] = [
    [30 * S, 60 * S, 3], // range vectors ignore stale samples
    [10 * S, 1 * S, 1],
    [20 * S, 1 * S, null],
    [20 * S, 10 * S, null], // left-open: the sample at 10s is not in (10s, 20s]
    [20 * S, 20 * S, 1],
  ];
  for (const [t, range, want] of overTime) {
    test(`count_over_time(metric[${range / S}s]) at ${t / S}s`, async () => {
      assert.deepEqual(await instant(st, call('count_over_time', mat(vs('metric'), range)), t), want === null ? {} : { '{}': want });
    });
  }

  test('single sample goes stale after exactly the lookback delta', async () => {
    const one = new MemStorage().load(10 * S, { __name__: 'metric' }, [0]);
    assert.deepEqual(await instant(one, vs('metric'), 299 * S), { '{__name__="metric"}': 0 });
    assert.deepEqual(await instant(one, vs('metric'), 300 * S), {});
    assert.deepEqual(await instant(one, vs('metric'), 30 * S, { lookbackDeltaMs: 20 * S }), {});
  });

  test('matchers select series; output labels are sorted flat arrays', async () => {
    const s2 = new MemStorage()
      .load(5 * M, { __name__: 'http_requests_total', job: 'api', instance: '0', group: 'production' }, seq(0, 10, 10))
      .load(5 * M, { __name__: 'http_requests_total', job: 'api', instance: '1', group: 'canary' }, seq(0, 20, 10));
    const r = await engine().instantQuery(s2, vs('http_requests_total', { group: '=~pro.*' }), 50 * M);
    assert.equal(r.value.type, 'vector');
    if (r.value.type !== 'vector') return;
    assert.equal(r.value.value.length, 1);
    assert.deepEqual(r.value.value[0]?.metric, ['__name__', 'http_requests_total', 'group', 'production', 'instance', '0', 'job', 'api']);
    assert.equal(r.value.value[0]?.t, 50 * M);
    assert.equal(r.value.value[0]?.f, 100);
  });

  test('each selector is fetched once with the range it needs', async () => {
    const s = new MemStorage().load(10 * S, { __name__: 'x' }, [1]);
    await engine().rangeQuery(s, bin('+', vs('x', {}, { offset: 1 * M }), call('sum_over_time', mat(vs('x'), 5 * M))), 10 * M, 20 * M, M);
    assert.deepEqual(
      s.selects.map((x) => [x.mint, x.maxt]),
      [
        [10 * M - M - 5 * M + 1, 20 * M - M],
        [10 * M - 5 * M + 1, 20 * M],
      ],
    );
  });

  test('subquery and @ widen/pin the fetched range', async () => {
    const s = new MemStorage().load(10 * S, { __name__: 'x' }, [1]);
    await engine().instantQuery(s, call('sum_over_time', subq(call('sum_over_time', mat(vs('x'), 20 * S)), 10 * M, M, { offset: M })), 100 * M);
    assert.deepEqual(s.selects[0], { matchers: [{ type: '=', name: '__name__', value: 'x' }], mint: 100 * M - M - 10 * M - 20 * S + 1, maxt: 99 * M });
    const s2 = new MemStorage().load(10 * S, { __name__: 'x' }, [1]);
    await engine().rangeQuery(s2, vs('x', {}, { at: { kind: 'end' } }), 0, 10 * M, M);
    assert.deepEqual([s2.selects[0]?.mint, s2.selects[0]?.maxt], [10 * M - 5 * M + 1, 10 * M]);
  });
});

describe('offset and @', () => {
  const st = new MemStorage()
    .load(10 * S, { __name__: 'metric', job: '1' }, seq(0, 1, 1000))
    .load(10 * S, { __name__: 'metric', job: '2' }, seq(0, 2, 1000))
    .load(1, { __name__: 'metric_ms' }, seq(0, 1, 10000));
  const cases: [string, Expr, number, Record<string, number>][] = [
    ['metric @ 100', vs('metric', {}, { at: 100 * S }), 10 * S, { '{__name__="metric", job="1"}': 10, '{__name__="metric", job="2"}': 20 }],
    ['metric @ 100 offset 50s', vs('metric', {}, { at: 100 * S, offset: 50 * S }), 10 * S, { '{__name__="metric", job="1"}': 5, '{__name__="metric", job="2"}': 10 }],
    ['metric @ 0 offset -50s', vs('metric', {}, { at: 0, offset: -50 * S }), 10 * S, { '{__name__="metric", job="1"}': 5, '{__name__="metric", job="2"}': 10 }],
    ['-metric @ 100', neg(vs('metric', {}, { at: 100 * S })), 10 * S, { '{job="1"}': -10, '{job="2"}': -20 }],
    ['---metric @ 100', neg(neg(neg(vs('metric', {}, { at: 100 * S })))), 10 * S, { '{job="1"}': -10, '{job="2"}': -20 }],
    ['metric_ms @ 1.234', vs('metric_ms', {}, { at: 1234 }), 100 * S, { '{__name__="metric_ms"}': 1234 }],
    ['sum_over_time(metric{job="1"}[100s] @ 100)', call('sum_over_time', mat(vs('metric', { job: '1' }, { at: 100 * S }), 100 * S)), 25 * S, { '{job="1"}': 55 }],
    ['sum_over_time(metric{job="1"}[100s] @ 100 offset 50s)', call('sum_over_time', mat(vs('metric', { job: '1' }, { at: 100 * S, offset: 50 * S }), 100 * S)), 25 * S, { '{job="1"}': 15 }],
    ['metric{job="1"} @ 50 + metric{job="1"} @ 100', bin('+', vs('metric', { job: '1' }, { at: 50 * S }), vs('metric', { job: '1' }, { at: 100 * S })), 25 * S, { '{job="1"}': 15 }],
    ['sum_over_time(metric{job="1"}[100s:1s] @ 100)', call('sum_over_time', subq(vs('metric', { job: '1' }), 100 * S, S, { at: 100 * S })), 25 * S, { '{job="1"}': 460 }],
    ['sum_over_time(metric{job="1"}[100s:1s] @ 100 offset 20s)', call('sum_over_time', subq(vs('metric', { job: '1' }), 100 * S, S, { at: 100 * S, offset: 20 * S })), 25 * S, { '{job="1"}': 288 }],
    [
      'sum_over_time(sum_over_time(metric{job="1"}[100s] @ 100)[100s:25s] @ 50)',
      call('sum_over_time', subq(call('sum_over_time', mat(vs('metric', { job: '1' }, { at: 100 * S }), 100 * S)), 100 * S, 25 * S, { at: 50 * S })),
      100 * S,
      { '{job="1"}': 220 },
    ],
    [
      'sum_over_time(sum_over_time(sum_over_time(metric{job="1"}[100s] @ 100)[100s:25s] @ 50)[3s:1s] @ 3000)',
      call('sum_over_time', subq(call('sum_over_time', subq(call('sum_over_time', mat(vs('metric', { job: '1' }, { at: 100 * S }), 100 * S)), 100 * S, 25 * S, { at: 50 * S })), 3 * S, S, { at: 3000 * S })),
      0,
      { '{job="1"}': 660 },
    ],
    [
      'sum_over_time(sum_over_time(sum_over_time(metric{job="1"}[10s])[100s:25s] @ 50)[3s:1s] @ 200)',
      call('sum_over_time', subq(call('sum_over_time', subq(call('sum_over_time', mat(vs('metric', { job: '1' }), 10 * S)), 100 * S, 25 * S, { at: 50 * S })), 3 * S, S, { at: 200 * S })),
      0,
      { '{job="1"}': 21 },
    ],
    [
      'sum_over_time(sum_over_time(sum_over_time(metric{job="1"}[10s])[100s:25s] @ 200)[3s:1s] @ 50)',
      call('sum_over_time', subq(call('sum_over_time', subq(call('sum_over_time', mat(vs('metric', { job: '1' }), 10 * S)), 100 * S, 25 * S, { at: 200 * S })), 3 * S, S, { at: 50 * S })),
      0,
      { '{job="1"}': 192 },
    ],
    [
      'sum_over_time(sum_over_time(sum_over_time(metric{job="1"}[20s])[20s:10s] offset 10s)[100s:25s] @ 1000)',
      call('sum_over_time', subq(call('sum_over_time', subq(call('sum_over_time', mat(vs('metric', { job: '1' }), 20 * S)), 20 * S, 10 * S, { offset: 10 * S })), 100 * S, 25 * S, { at: 1000 * S })),
      0,
      { '{job="1"}': 1504 },
    ],
    ['minute(metric @ 1500)', call('minute', vs('metric', {}, { at: 1500 * S })), 10 * S, { '{job="1"}': 2, '{job="2"}': 5 }],
    ['timestamp(metric{job="1"} @ 10)', call('timestamp', vs('metric', { job: '1' }, { at: 10 * S })), 10 * M, { '{job="1"}': 10 }],
    ['timestamp(timestamp(metric{job="1"} @ 10))', call('timestamp', call('timestamp', vs('metric', { job: '1' }, { at: 10 * S }))), 10 * M, { '{job="1"}': 600 }],
    ['sum_over_time(minute()[50m:1m] @ 6000)', call('sum_over_time', subq(call('minute'), 50 * M, M, { at: 6000 * S })), 0, { '{}': 1315 }],
    ['sum_over_time(minute()[50m:1m] @ 6000 offset 5m)', call('sum_over_time', subq(call('minute'), 50 * M, M, { at: 6000 * S, offset: 5 * M })), 0, { '{}': 1365 }],
    ['sum_over_time(vector(time())[100s:1s] @ 3000)', call('sum_over_time', subq(call('vector', call('time')), 100 * S, S, { at: 3000 * S })), 0, { '{}': 295050 }],
    ['sum_over_time(vector(time())[100s:1s] @ 3000 offset 600s)', call('sum_over_time', subq(call('vector', call('time')), 100 * S, S, { at: 3000 * S, offset: 600 * S })), 0, { '{}': 235050 }],
    ['sum_over_time(timestamp(metric{job="1"} @ 10)[100s:10s] @ 3000)', call('sum_over_time', subq(call('timestamp', vs('metric', { job: '1' }, { at: 10 * S })), 100 * S, 10 * S, { at: 3000 * S })), 0, { '{job="1"}': 100 }],
    ['sum_over_time(timestamp(timestamp(metric{job="1"} @ 999))[10s:1s] @ 10)', call('sum_over_time', subq(call('timestamp', call('timestamp', vs('metric', { job: '1' }, { at: 999 * S }))), 10 * S, S, { at: 10 * S })), 0, { '{job="1"}': 55 }],
    ['range_end(metric{job="1"}[1m] @ 100 offset 10s)', call('range_end', mat(vs('metric', { job: '1' }, { at: 100 * S, offset: 10 * S }), M)), 0, { '{job="1"}': 90 }],
  ];
  for (const [name, e, t, want] of cases) {
    test(name, async () => assertValues(await instant(st, e, t), want, name));
  }

  const t2 = new MemStorage().load(10 * S, { __name__: 'metric' }, seq(0, 1, 10)).load(10 * S, { __name__: 'metric_missing' }, [0, null, 2, null, 4, null, 5, null, 6]);
  const ranges: [string, Expr, Record<string, (number | null)[]>][] = [
    ['metric @ 11', vs('metric', {}, { at: 11 * S }), { '{__name__="metric"}': [1, 1, 1, 1, 1, 1, 1] }],
    ['abs(metric @ 11)', call('abs', vs('metric', {}, { at: 11 * S })), { '{}': [1, 1, 1, 1, 1, 1, 1] }],
    ['timestamp(metric)', call('timestamp', vs('metric')), { '{}': [0, 10, 20, 30, 40, 50, 60] }],
    ['timestamp(metric @ 11)', call('timestamp', vs('metric', {}, { at: 11 * S })), { '{}': [10, 10, 10, 10, 10, 10, 10] }],
    ['timestamp(metric @ 20)', call('timestamp', paren(vs('metric', {}, { at: 20 * S }))), { '{}': [20, 20, 20, 20, 20, 20, 20] }],
    ['timestamp(metric_missing @ 10)', call('timestamp', vs('metric_missing', {}, { at: 10 * S })), { '{}': [0, 0, 0, 0, 0, 0, 0] }],
    ['timestamp(abs(metric @ 11))', call('timestamp', call('abs', vs('metric', {}, { at: 11 * S }))), { '{}': [0, 10, 20, 30, 40, 50, 60] }],
  ];
  for (const [name, e, want] of ranges) {
    test(`range ${name}`, async () => assertValues(await rangeQ(t2, e, 0, 60 * S, 10 * S), want, name));
  }

  test('@ start() and @ end() resolve to the range query bounds', async () => {
    assertValues(await rangeQ(t2, vs('metric', {}, { at: { kind: 'start' } }), 20 * S, 40 * S, 10 * S), { '{__name__="metric"}': [2, 2, 2] });
    assertValues(await rangeQ(t2, vs('metric', {}, { at: { kind: 'end' } }), 20 * S, 40 * S, 10 * S), { '{__name__="metric"}': [4, 4, 4] });
  });

  test('step-invariant argument of a step-dependent function', async () => {
    const s = new MemStorage().load(30 * S, { __name__: 'arg' }, [0, 0.5, 1, 0.75]).load(30 * S, { __name__: 'metric' }, [1, 2, 3, 4, 5]);
    const q = (e: Expr) => rangeQ(s, e, 0, 90 * S, 30 * S);
    assertValues(await q(call('quantile_over_time', call('scalar', vs('arg')), mat(vs('metric', {}, { at: 2 * M }), 2 * M + S))), { '{}': [1, 3, 5, 4] });
    assertValues(await q(call('quantile_over_time', call('scalar', vs('arg')), subq(vs('metric'), 2 * M + S, 30 * S, { at: 2 * M }))), { '{}': [1, 3, 5, 4] });
    assertValues(await q(call('quantile_over_time', num(0.5), subq(vs('metric'), 2 * M + S, 30 * S, { at: 2 * M }))), { '{}': [3, 3, 3, 3] });
    assertValues(await q(call('quantile_over_time', call('scalar', vs('arg')), subq(vs('metric'), 2 * M + S, 30 * S))), { '{}': [1, 1.5, 3, 3.25] });
  });

  test('offset in matrix and vector selectors', async () => {
    const s = new MemStorage().load(M, { __name__: 'metric1', a: 'a' }, seq(0, 1, 100)).load(M, { __name__: 'metric2', b: 'b' }, seq(0, 1, 50));
    assertValues(await instant(s, bin('or', vs('metric1', {}, { offset: 15 * M }), vs('metric2', {}, { offset: 45 * M })), 90 * M), {
      '{__name__="metric1", a="a"}': 75,
      '{__name__="metric2", b="b"}': 45,
    });
  });
});

describe('subqueries', () => {
  const st = new MemStorage().load(10 * S, { __name__: 'metric' }, seq(0, 1, 100));

  test('steps are absolute multiples of the subquery step (instant)', async () => {
    // at 95s, [60s:20s] -> steps at 40, 60, 80 (not 35, 55, 75, 95): sum 4+6+8
    assertValues(await instant(st, call('sum_over_time', subq(vs('metric'), 60 * S, 20 * S)), 95 * S), { '{}': 18 });
    // 100s is a multiple: (40, 100] -> 60, 80, 100
    assertValues(await instant(st, call('sum_over_time', subq(vs('metric'), 60 * S, 20 * S)), 100 * S), { '{}': 24 });
  });

  test('default step is the default evaluation interval (1m)', async () => {
    assertValues(await instant(st, call('count_over_time', subq(vs('metric'), 5 * M, 0)), 10 * M), { '{}': 5 });
    assertValues(await instant(st, call('count_over_time', subq(vs('metric'), 5 * M, 0)), 10 * M, { defaultEvaluationIntervalMs: 30 * S }), { '{}': 10 });
  });

  test('a top-level subquery in an instant query is a matrix at the inner steps', async () => {
    const r = await engine().instantQuery(st, subq(vs('metric'), 30 * S, 10 * S), 95 * S);
    assert.equal(r.value.type, 'matrix');
    if (r.value.type !== 'matrix') return;
    assert.deepEqual(r.value.value[0]?.floats, [
      { t: 70 * S, f: 7 },
      { t: 80 * S, f: 8 },
      { t: 90 * S, f: 9 },
    ]);
  });

  test('range query over a subquery', async () => {
    assertValues(await rangeQ(st, call('sum_over_time', subq(vs('metric'), 20 * S, 10 * S)), 100 * S, 130 * S, 10 * S), { '{}': [19, 21, 23, 25] });
  });
});

describe('operators', () => {
  const st = new MemStorage();
  for (const [job, instance, group, inc] of HTTP_JOBS) st.load(5 * M, { __name__: 'http_requests_total', job, instance, group }, seq(0, inc, 10));
  st.load(5 * M, { __name__: 'vector_matching_a', l: 'x' }, seq(0, 1, 100));
  st.load(5 * M, { __name__: 'vector_matching_a', l: 'y' }, seq(0, 2, 50));
  const H = vs('http_requests_total');
  const Hs = (l: Record<string, string>) => vs('http_requests_total', l);
  const sumBy = (e: Expr, ...by: string[]) => agg('sum', e, { by });
  const T = 50 * M;

  const cases: [string, Expr, unknown][] = [
    ['SUM BY (job) - COUNT BY (job)', bin('-', sumBy(H, 'job'), agg('count', H, { by: ['job'] })), { '{job="api-server"}': 996, '{job="app-server"}': 2596 }],
    ['2 - SUM BY (job)', bin('-', num(2), sumBy(H, 'job')), { '{job="api-server"}': -998, '{job="app-server"}': -2598 }],
    ['-http_requests_total{...}', neg(Hs({ job: 'api-server', instance: '0', group: 'production' })), { '{group="production", instance="0", job="api-server"}': -100 }],
    ['+http_requests_total{...}', { type: 'UnaryExpr', op: '+', expr: Hs({ job: 'api-server', instance: '0', group: 'production' }), pos: P }, { '{__name__="http_requests_total", group="production", instance="0", job="api-server"}': 100 }],
    ['- - - 1', neg(neg(neg(num(1)))), -1],
    ['-2^---1*3', bin('*', neg(bin('^', num(2), neg(neg(neg(num(1)))))), num(3)), -1.5],
    ['2/-2^---1*3+2', bin('+', bin('*', bin('/', num(2), neg(bin('^', num(2), neg(neg(neg(num(1))))))), num(3)), num(2)), -10],
    ['sum % 3', bin('%', sumBy(H, 'job'), num(3)), { '{job="api-server"}': 1, '{job="app-server"}': 2 }],
    ['sum % 0.3', bin('%', sumBy(H, 'job'), num(0.3)), { '{job="api-server"}': 0.1, '{job="app-server"}': 0.2 }],
    ['sum ^ 2', bin('^', sumBy(H, 'job'), num(2)), { '{job="api-server"}': 1000000, '{job="app-server"}': 6760000 }],
    ['sum % 2 ^ (3 ^ 2)', bin('%', sumBy(H, 'job'), bin('^', num(2), bin('^', num(3), num(2)))), { '{job="api-server"}': 488, '{job="app-server"}': 40 }],
    ['count ^ count', bin('^', agg('count', H, { by: ['job'] }), agg('count', H, { by: ['job'] })), { '{job="api-server"}': 256, '{job="app-server"}': 256 }],
    ['sum / 0', bin('/', sumBy(H, 'job'), num(0)), { '{job="api-server"}': Infinity, '{job="app-server"}': Infinity }],
    ['-1 * x / 0', bin('/', bin('*', num(-1), Hs({ group: 'canary', instance: '0', job: 'api-server' })), num(0)), { '{group="canary", instance="0", job="api-server"}': -Infinity }],
    ['0 * x / 0', bin('/', bin('*', num(0), Hs({ group: 'canary', instance: '0', job: 'api-server' })), num(0)), { '{group="canary", instance="0", job="api-server"}': NaN }],
    ['0 * x % 0', bin('%', bin('*', num(0), Hs({ group: 'canary', instance: '0', job: 'api-server' })), num(0)), { '{group="canary", instance="0", job="api-server"}': NaN }],
    ['1 % 0', bin('%', num(1), num(0)), NaN],
    ['0 / 0', bin('/', num(0), num(0)), NaN],
    ['-1 / 0', bin('/', neg(num(1)), num(0)), -Infinity],
    ['1 ^ NaN (Go math.Pow)', bin('^', num(1), num(NaN)), 1],
    ['sum + sum', bin('+', sumBy(H, 'job'), paren(sumBy(H, 'job'))), { '{job="api-server"}': 2000, '{job="app-server"}': 5200 }],
    [
      'canary and instance=0',
      bin('and', Hs({ group: 'canary' }), Hs({ instance: '0' })),
      { '{__name__="http_requests_total", group="canary", instance="0", job="api-server"}': 300, '{__name__="http_requests_total", group="canary", instance="0", job="app-server"}': 700 },
    ],
    ['(canary + 1) and on(instance) production', bin('and', bin('+', Hs({ group: 'canary' }), num(1)), Hs({ instance: '0', group: 'production' }), { on: ['instance'] }), {
      '{group="canary", instance="0", job="api-server"}': 301,
      '{group="canary", instance="0", job="app-server"}': 701,
    }],
    ['(canary + 1) and ignoring(group, job) production', bin('and', bin('+', Hs({ group: 'canary' }), num(1)), Hs({ instance: '0', group: 'production' }), { ignoring: ['group', 'job'] }), {
      '{group="canary", instance="0", job="api-server"}': 301,
      '{group="canary", instance="0", job="app-server"}': 701,
    }],
    ['(canary + 1) or instance=1 (rhs dropped on overlap)', bin('or', bin('+', Hs({ group: 'canary' }), num(1)), Hs({ instance: '1' })), {
      '{group="canary", instance="0", job="api-server"}': 301,
      '{group="canary", instance="0", job="app-server"}': 701,
      '{group="canary", instance="1", job="api-server"}': 401,
      '{group="canary", instance="1", job="app-server"}': 801,
      '{__name__="http_requests_total", group="production", instance="1", job="api-server"}': 200,
      '{__name__="http_requests_total", group="production", instance="1", job="app-server"}': 600,
    }],
    ['(canary + 1) or on(instance) (all or vector_matching_a)', bin('or', bin('+', Hs({ group: 'canary' }), num(1)), paren(bin('or', H, vs('vector_matching_a'))), { on: ['instance'] }), {
      '{group="canary", instance="0", job="api-server"}': 301,
      '{group="canary", instance="0", job="app-server"}': 701,
      '{group="canary", instance="1", job="api-server"}': 401,
      '{group="canary", instance="1", job="app-server"}': 801,
      '{__name__="vector_matching_a", l="x"}': 10,
      '{__name__="vector_matching_a", l="y"}': 20,
    }],
    ['canary unless instance=0', bin('unless', Hs({ group: 'canary' }), Hs({ instance: '0' })), {
      '{__name__="http_requests_total", group="canary", instance="1", job="api-server"}': 400,
      '{__name__="http_requests_total", group="canary", instance="1", job="app-server"}': 800,
    }],
    ['canary unless on(job) instance=0', bin('unless', Hs({ group: 'canary' }), Hs({ instance: '0' }), { on: ['job'] }), {}],
    ['canary / on(instance,job) production', bin('/', Hs({ group: 'canary' }), Hs({ group: 'production' }), { on: ['instance', 'job'] }), {
      '{instance="0", job="api-server"}': 3,
      '{instance="0", job="app-server"}': 1.4,
      '{instance="1", job="api-server"}': 2,
      '{instance="1", job="app-server"}': 1.3333333333333333,
    }],
    ['canary / ignoring(group) production', bin('/', Hs({ group: 'canary' }), Hs({ group: 'production' }), { ignoring: ['group'] }), {
      '{instance="0", job="api-server"}': 3,
      '{instance="0", job="app-server"}': 1.4,
      '{instance="1", job="api-server"}': 2,
      '{instance="1", job="app-server"}': 1.3333333333333333,
    }],
    ['x AND ON (dummy) vector(1)', bin('and', Hs({ group: 'canary', job: 'api-server' }), call('vector', num(1)), { on: ['dummy'] }), {
      '{__name__="http_requests_total", group="canary", instance="0", job="api-server"}': 300,
      '{__name__="http_requests_total", group="canary", instance="1", job="api-server"}': 400,
    }],
    ['sum > 1000', bin('>', sumBy(H, 'job'), num(1000)), { '{job="app-server"}': 2600 }],
    ['1000 < sum', bin('<', num(1000), sumBy(H, 'job')), { '{job="app-server"}': 2600 }],
    ['sum <= 1000', bin('<=', sumBy(H, 'job'), num(1000)), { '{job="api-server"}': 1000 }],
    ['sum == bool 1000', bin('==', sumBy(H, 'job'), num(1000), { bool: true }), { '{job="api-server"}': 1, '{job="app-server"}': 0 }],
    ['sum != bool sum', bin('!=', sumBy(H, 'job'), sumBy(H, 'job'), { bool: true }), { '{job="api-server"}': 0, '{job="app-server"}': 0 }],
    ['0 == bool 1', bin('==', num(0), num(1), { bool: true }), 0],
    ['x == bool 100 drops the name', bin('==', Hs({ job: 'api-server', instance: '0', group: 'production' }), num(100), { bool: true }), { '{group="production", instance="0", job="api-server"}': 1 }],
    ['x > 250 keeps the name', bin('>', Hs({ job: 'api-server' }), num(250)), {
      '{__name__="http_requests_total", group="canary", instance="0", job="api-server"}': 300,
      '{__name__="http_requests_total", group="canary", instance="1", job="api-server"}': 400,
    }],
  ];
  for (const [name, e, want] of cases) {
    test(name, async () => assertValues(await instant(st, e, T), want, name));
  }

  const nodes = new MemStorage()
    .load(5 * M, { __name__: 'node_var', instance: 'abc', job: 'node' }, [2])
    .load(5 * M, { __name__: 'node_role', instance: 'abc', job: 'node', role: 'prometheus' }, [1])
    .load(5 * M, { __name__: 'node_cpu', instance: 'abc', job: 'node', mode: 'idle' }, [3])
    .load(5 * M, { __name__: 'node_cpu', instance: 'abc', job: 'node', mode: 'user' }, [1])
    .load(5 * M, { __name__: 'node_cpu', instance: 'def', job: 'node', mode: 'idle' }, [8])
    .load(5 * M, { __name__: 'node_cpu', instance: 'def', job: 'node', mode: 'user' }, [2])
    .load(5 * M, { __name__: 'random', foo: 'bar' }, [1])
    .load(5 * M, { __name__: 'threshold', instance: 'abc', job: 'node', target: 'a@b.com' }, [0]);
  const grouping: [string, Expr, unknown][] = [
    ['node_role * on (instance) group_right (role) node_var', bin('*', vs('node_role'), vs('node_var'), { on: ['instance'], groupRight: ['role'] }), { '{instance="abc", job="node", role="prometheus"}': 2 }],
    ['node_var * on (instance) group_left (role) node_role', bin('*', vs('node_var'), vs('node_role'), { on: ['instance'], groupLeft: ['role'] }), { '{instance="abc", job="node", role="prometheus"}': 2 }],
    ['node_var * ignoring (role) group_left (role) node_role', bin('*', vs('node_var'), vs('node_role'), { ignoring: ['role'], groupLeft: ['role'] }), { '{instance="abc", job="node", role="prometheus"}': 2 }],
    ['node_cpu * ignoring (role, mode) group_left (role) node_role', bin('*', vs('node_cpu'), vs('node_role'), { ignoring: ['role', 'mode'], groupLeft: ['role'] }), {
      '{instance="abc", job="node", mode="idle", role="prometheus"}': 3,
      '{instance="abc", job="node", mode="user", role="prometheus"}': 1,
    }],
    ['node_cpu / on (instance) group_left sum by (instance,job)(node_cpu)', bin('/', vs('node_cpu'), agg('sum', vs('node_cpu'), { by: ['instance', 'job'] }), { on: ['instance'], groupLeft: [] }), {
      '{instance="abc", job="node", mode="idle"}': 0.75,
      '{instance="abc", job="node", mode="user"}': 0.25,
      '{instance="def", job="node", mode="idle"}': 0.8,
      '{instance="def", job="node", mode="user"}': 0.2,
    }],
    ['sum(sum by (mode, job)(node_cpu) / on (job) group_left sum by (job)(node_cpu))', agg('sum', bin('/', agg('sum', vs('node_cpu'), { by: ['mode', 'job'] }), agg('sum', vs('node_cpu'), { by: ['job'] }), { on: ['job'], groupLeft: [] })), { '{}': 1 }],
    ['node_cpu / ignoring (mode) group_left(dummy) sum without (mode)(node_cpu)', bin('/', vs('node_cpu'), agg('sum', vs('node_cpu'), { without: ['mode'] }), { ignoring: ['mode'], groupLeft: ['dummy'] }), {
      '{instance="abc", job="node", mode="idle"}': 0.75,
      '{instance="abc", job="node", mode="user"}': 0.25,
      '{instance="def", job="node", mode="idle"}': 0.8,
      '{instance="def", job="node", mode="user"}': 0.2,
    }],
    ['node_cpu + on(dummy) group_left(foo) random*0', bin('+', vs('node_cpu'), bin('*', vs('random'), num(0)), { on: ['dummy'], groupLeft: ['foo'] }), {
      '{foo="bar", instance="abc", job="node", mode="idle"}': 3,
      '{foo="bar", instance="abc", job="node", mode="user"}': 1,
      '{foo="bar", instance="def", job="node", mode="idle"}': 8,
      '{foo="bar", instance="def", job="node", mode="user"}': 2,
    }],
    ['node_cpu > on(job, instance) group_left(target) threshold', bin('>', vs('node_cpu'), vs('threshold'), { on: ['job', 'instance'], groupLeft: ['target'] }), {
      '{__name__="node_cpu", instance="abc", job="node", mode="idle", target="a@b.com"}': 3,
      '{__name__="node_cpu", instance="abc", job="node", mode="user", target="a@b.com"}': 1,
    }],
    [
      'node_cpu > on(job, instance) group_left(target) (threshold or on (job, instance) (sum by (job, instance)(node_cpu) * 0 + 1))',
      bin('>', vs('node_cpu'), paren(bin('or', vs('threshold'), bin('+', bin('*', agg('sum', vs('node_cpu'), { by: ['job', 'instance'] }), num(0)), num(1)), { on: ['job', 'instance'] })), { on: ['job', 'instance'], groupLeft: ['target'] }),
      {
        '{__name__="node_cpu", instance="abc", job="node", mode="idle", target="a@b.com"}': 3,
        '{__name__="node_cpu", instance="abc", job="node", mode="user", target="a@b.com"}': 1,
        '{__name__="node_cpu", instance="def", job="node", mode="idle"}': 8,
        '{__name__="node_cpu", instance="def", job="node", mode="user"}': 2,
      },
    ],
  ];
  for (const [name, e, want] of grouping) {
    test(name, async () => assertValues(await instant(nodes, e, M), want, name));
  }

  test('on() / ignoring() with no labels', async () => {
    const s = new MemStorage().load(5 * M, { __name__: 'random', foo: 'bar' }, [2]).load(5 * M, { __name__: 'metricA', baz: 'meh' }, [3]).load(5 * M, { __name__: 'metricB', baz: 'meh' }, [4]);
    assertValues(await instant(s, bin('+', vs('random'), vs('metricA'), { on: [] }), M), { '{}': 5 });
    assertValues(await instant(s, bin('+', vs('metricA'), vs('metricB'), { ignoring: [] }), M), { '{baz="meh"}': 7 });
    assertValues(await instant(s, bin('+', vs('metricA'), vs('metricB')), M), { '{baz="meh"}': 7 });
  });

  test('atan2', async () => {
    const s = new MemStorage().load(5 * M, { __name__: 'trigy' }, [10]).load(5 * M, { __name__: 'trigx' }, [20]).load(5 * M, { __name__: 'trigNaN' }, [NaN]);
    assertValues(await instant(s, bin('atan2', vs('trigy'), vs('trigx')), M), { '{}': 0.4636476090008061 });
    assertValues(await instant(s, bin('atan2', vs('trigy'), vs('trigNaN')), M), { '{}': NaN });
    assertValues(await instant(s, bin('atan2', num(10), num(20)), M), 0.4636476090008061);
  });

  describe('matching errors', () => {
    const s = new MemStorage()
      .load(5 * M, { __name__: 'many_side', label: 'foo', job: 'test' }, [0])
      .load(5 * M, { __name__: 'many_side', label: 'bar', job: 'test' }, [1])
      .load(5 * M, { __name__: 'one_side', job: 'test' }, [1])
      .load(5 * M, { __name__: 'dup_metric', label: 'alpha' }, [1])
      .load(5 * M, { __name__: 'dup_metric', label: 'beta' }, [2])
      .load(5 * M, { __name__: 'scalar_metric' }, [3]);
    for (const op of ['>', '>=', '<='] as BinaryOp[]) {
      test(`many_side ${op} on(job) one_side fails even when filtered`, async () => {
        await rejectsWith(engine().instantQuery(s, bin(op, vs('many_side'), vs('one_side'), { on: ['job'] }), 0), 'execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      });
    }
    test('duplicate series on the one side (sorted in the message)', async () => {
      await rejectsWith(
        engine().instantQuery(s, bin('>', vs('scalar_metric'), vs('dup_metric'), { on: [] }), 0),
        'execution',
        'found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="dup_metric", label="alpha"}, {__name__="dup_metric", label="beta"}];many-to-many matching not allowed: matching labels must be unique on one side',
      );
    });
    test('group_right: the duplicate is on the left', async () => {
      await rejectsWith(engine().instantQuery(s, bin('*', vs('dup_metric'), vs('scalar_metric'), { on: [], groupRight: [] }), 0), 'execution', /on the left hand-side of the operation/);
    });
    test('group_left with non-unique result labels', async () => {
      const c = new MemStorage().load(5 * M, { __name__: 'a', x: '1' }, [1]).load(5 * M, { __name__: 'c', x: '1' }, [2]).load(5 * M, { __name__: 'b', x: '1' }, [1]);
      await rejectsWith(
        engine().instantQuery(c, bin('*', vs('', { __name__: '=~a|c' }), vs('b'), { on: ['x'], groupLeft: [] }), 0),
        'execution',
        'multiple matches for labels: grouping labels must ensure unique matches',
      );
    });
    test('many-to-one with colliding output labels', async () => {
      const c = new MemStorage().load(5 * M, { __name__: 'a', x: '1', y: '1' }, [1]).load(5 * M, { __name__: 'a', x: '1', y: '2' }, [1]).load(5 * M, { __name__: 'b', x: '1' }, [1]);
      const r = await instant(c, bin('*', vs('a'), vs('b'), { on: ['x'], groupLeft: [] }), 0);
      assertValues(r, { '{x="1", y="1"}': 1, '{x="1", y="2"}': 1 });
      await rejectsWith(
        engine().instantQuery(c, bin('*', agg('sum', vs('a'), { without: ['y'] }), bin('*', vs('a'), num(1)), { on: ['x'], groupLeft: [] }), 0),
        'execution',
        /^found duplicate series for the match group \{x="1"\} on the right hand-side of the operation/,
      );
    });
  });

  describe('delayed name removal (enableDelayedNameRemoval)', () => {
    const DELAYED = { enableDelayedNameRemoval: true };
    test('unary minus of two metrics with the same other labels fails at the end', async () => {
      const s = new MemStorage().load(5 * M, { __name__: 'testmetric1', src: 'a', dst: 'b' }, [0]).load(5 * M, { __name__: 'testmetric2', src: 'a', dst: 'b' }, [1]);
      await rejectsWith(engine(DELAYED).instantQuery(s, neg(vs('', { __name__: '=~testmetric1|testmetric2' })), 0), 'execution', 'vector cannot contain metrics with the same labelset');
    });
    test('non-overlapping series merge in a range result', async () => {
      const s = new MemStorage().load(20 * M, { __name__: 'http_requests', job: 'api' }, [2, null]).load(20 * M, { __name__: 'http_errors', job: 'api' }, [null, 4]);
      assertValues(await instant(s, neg(vs('', { job: 'api' })), 0, DELAYED), { '{job="api"}': -2 });
      assertValues(await rangeQ(s, neg(vs('', { job: 'api' })), 0, 20 * M, 20 * M, DELAYED), { '{job="api"}': [-2, -4] });
      const t = new MemStorage().load(10 * M, { __name__: 'metric_a' }, [1, null]).load(10 * M, { __name__: 'metric_b' }, [3, 4]);
      assertValues(await rangeQ(t, bin('or', neg(vs('metric_a')), neg(vs('metric_b'))), 0, 20 * M, 10 * M, DELAYED), { '{}': [-1, -4, null] });
    });
    test('label_replace can bring the name back (delayed removal)', async () => {
      const s = new MemStorage().load(M, { __name__: 'x', a: '1' }, [1, 2]);
      assertValues(await instant(s, call('label_replace', neg(vs('x')), str('__name__'), str('y'), str(''), str('')), M, DELAYED), { '{__name__="y", a="1"}': -2 });
    });
    test('duplicate output series at one step of a range query fail', async () => {
      const s = new MemStorage().load(M, { __name__: 'x', a: '1' }, [1, 2]).load(M, { __name__: 'x', a: '2' }, [1, 2]);
      await rejectsWith(engine(DELAYED).rangeQuery(s, call('label_replace', vs('x'), str('a'), str('z'), str(''), str('')), 0, M, M), 'execution', 'vector cannot contain metrics with the same labelset');
    });
  });

  describe('immediate name removal (the default, as Prometheus and Mimir)', () => {
    const counters = (): MemStorage => new MemStorage()
      .load(M, { __name__: 'c1', a: '1' }, [0, 60, 120, null, null, null, null, null, null, null, null])
      .load(M, { __name__: 'c2', a: '1' }, [null, null, null, null, null, null, null, null, 0, 60, 120]);
    test('a range-vector function fails on outputs that share labels, even at different steps', async () => {
      const q = call('sum_over_time', mat(vs('', { __name__: '=~c1|c2' }), 2 * M));
      await rejectsWith(engine().rangeQuery(counters(), q, 0, 10 * M, M), 'execution', 'vector cannot contain metrics with the same labelset');
      // delayed: one merged series
      assertValues(await rangeQ(counters(), q, 0, 10 * M, M, { enableDelayedNameRemoval: true }), { '{a="1"}': [0, 60, 180, 120, null, null, null, null, 0, 60, 180] });
    });
    test('unary minus fails on series that share labels once unnamed, even at different steps', async () => {
      const s = new MemStorage().load(20 * M, { __name__: 'http_requests', job: 'api' }, [2, null]).load(20 * M, { __name__: 'http_errors', job: 'api' }, [null, 4]);
      await rejectsWith(engine().rangeQuery(s, neg(vs('', { job: 'api' })), 0, 20 * M, 20 * M), 'execution', 'vector cannot contain metrics with the same labelset');
      assertValues(await instant(s, neg(vs('', { job: 'api' })), 0), { '{job="api"}': -2 });
    });
    test('per-step operations merge outputs that share labels at different steps, and fail at the same step', async () => {
      const s = counters();
      const q = bin('*', vs('', { __name__: '=~c1|c2' }), num(2));
      assertValues(await rangeQ(s, q, 0, 10 * M, M), { '{a="1"}': [0, 120, 240, 240, 240, 240, 240, null, 0, 120, 240] });
      const both = new MemStorage().load(M, { __name__: 'c1', a: '1' }, [1]).load(M, { __name__: 'c2', a: '1' }, [2]);
      await rejectsWith(engine().instantQuery(both, q, 0), 'execution', 'vector cannot contain metrics with the same labelset');
      await rejectsWith(engine().rangeQuery(both, q, 0, M, M), 'execution', 'vector cannot contain metrics with the same labelset');
    });
    test('the name is gone before the next operation sees it', async () => {
      const s = new MemStorage().load(M, { __name__: 'x', a: '1' }, [1, 2]);
      const q = call('label_replace', call('abs', vs('x')), str('n'), str('$1'), str('__name__'), str('(.*)'));
      // Prometheus's own functions: label_replace reads the name abs() dropped (or only marked)
      assertValues(await instant(s, q, M, { functions: FUNCTIONS }), { '{a="1"}': 2 });
      assertValues(await instant(s, q, M, { functions: FUNCTIONS, enableDelayedNameRemoval: true }), { '{a="1", n="x"}': 2 });
    });
  });

  describe('comparisons with NaN, Inf, gaps (range)', () => {
    const s = new MemStorage()
      .load(6 * M, { __name__: 'left_floats' }, [1, 2, null, null, 3, 'stale', 4, 5, NaN, Infinity, -Infinity])
      .load(6 * M, { __name__: 'right_floats' }, [4, null, null, 5, 3, 7, -1, 20, NaN, Infinity, -Infinity]);
    const L = vs('left_floats');
    const R = vs('right_floats');
    const q = (e: Expr) => rangeQ(s, e, 0, 60 * M, 6 * M);
    const _ = null;
    test('==', async () => assertValues(await q(bin('==', L, R)), { '{__name__="left_floats"}': [_, _, _, _, 3, _, _, _, _, Infinity, -Infinity] }));
    test('== bool', async () => assertValues(await q(bin('==', L, R, { bool: true })), { '{}': [0, _, _, _, 1, _, 0, 0, 0, 1, 1] }));
    test('!=', async () => assertValues(await q(bin('!=', L, R)), { '{__name__="left_floats"}': [1, _, _, _, _, _, 4, 5, NaN, _, _] }));
    test('>= bool', async () => assertValues(await q(bin('>=', L, R, { bool: true })), { '{}': [0, _, _, _, 1, _, 1, 0, 0, 1, 1] }));
    test('< 3', async () => assertValues(await q(bin('<', L, num(3))), { '{__name__="left_floats"}': [1, 2, _, _, _, _, _, _, _, _, -Infinity] }));
    test('3 >= x', async () => assertValues(await q(bin('>=', num(3), L)), { '{__name__="left_floats"}': [1, 2, _, _, 3, _, _, _, _, _, -Infinity] }));
    test('== NaN', async () => assertValues(await q(bin('==', L, num(NaN))), {}));
    test('== bool Inf', async () => assertValues(await q(bin('==', L, num(Infinity), { bool: true })), { '{}': [0, 0, _, _, 0, _, 0, 0, 0, 1, 0] }));
  });
});

describe('aggregations', () => {
  const st = new MemStorage();
  for (const [job, instance, group, inc] of HTTP_JOBS) st.load(5 * M, { __name__: 'http_requests', job, instance, group }, seq(0, inc, 10));
  st.load(5 * M, { __name__: 'foo', job: 'api-server', instance: '0', region: 'europe' }, seq(0, 90, 10));
  st.load(5 * M, { __name__: 'foo', job: 'api-server' }, seq(0, 100, 10));
  const H = vs('http_requests');
  const api = vs('http_requests', { job: 'api-server' });
  const T = 50 * M;
  const cases: [string, Expr, unknown][] = [
    ['sum by (group)', agg('sum', api, { by: ['group'] }), { '{group="canary"}': 700, '{group="production"}': 300 }],
    ['avg by (group)', agg('avg', api, { by: ['group'] }), { '{group="canary"}': 350, '{group="production"}': 150 }],
    ['count by (group)', agg('count', api, { by: ['group'] }), { '{group="canary"}': 2, '{group="production"}': 2 }],
    ['sum without (instance)', agg('sum', api, { without: ['instance'] }), { '{group="canary", job="api-server"}': 700, '{group="production", job="api-server"}': 300 }],
    ['sum by ()', agg('sum', api, { by: [] }), { '{}': 1000 }],
    ['sum without ()', agg('sum', vs('http_requests', { job: 'api-server', group: 'production' }), { without: [] }), {
      '{group="production", instance="0", job="api-server"}': 100,
      '{group="production", instance="1", job="api-server"}': 200,
    }],
    ['sum without (instance) (api or foo)', agg('sum', bin('or', api, vs('foo')), { without: ['instance'] }), {
      '{group="canary", job="api-server"}': 700,
      '{group="production", job="api-server"}': 300,
      '{job="api-server", region="europe"}': 900,
      '{job="api-server"}': 1000,
    }],
    ['sum + min + max + avg by (job)', bin('+', bin('+', bin('+', agg('sum', H, { by: ['job'] }), agg('min', H, { by: ['job'] })), agg('max', H, { by: ['job'] })), agg('avg', H, { by: ['job'] })), {
      '{job="app-server"}': 4550,
      '{job="api-server"}': 1750,
    }],
    ['sum by (job, nonexistent)', agg('sum', H, { by: ['job', 'nonexistent'] }), { '{job="api-server"}': 1000, '{job="app-server"}': 2600 }],
    ['stddev', agg('stddev', H), { '{}': 229.12878474779 }],
    ['stddev by (instance)', agg('stddev', H, { by: ['instance'] }), { '{instance="0"}': 223.60679774998, '{instance="1"}': 223.60679774998 }],
    ['stdvar', agg('stdvar', H), { '{}': 52500 }],
    ['group by (job)', agg('group', H, { by: ['job'] }), { '{job="api-server"}': 1, '{job="app-server"}': 1 }],
    ['sum by (__name__) keeps the name', agg('sum', H, { by: ['__name__'] }), { '{__name__="http_requests"}': 3600 }],
  ];
  for (const [name, e, want] of cases) {
    test(name, async () => assertValues(await instant(st, e, T), want, name));
  }

  test('stddev/stdvar of equal decimals is exactly 0', async () => {
    const s = new MemStorage();
    for (const i of ['0', '1', '2']) s.load(5 * M, { __name__: 'x', i }, seq(0, 1.33, 10));
    assertValues(await instant(s, agg('stddev', vs('x')), T), { '{}': 0 });
    assertValues(await instant(s, agg('stdvar', vs('x')), T), { '{}': 0 });
  });

  describe('min/max/topk/bottomk with NaN and histograms', () => {
    const s = new MemStorage()
      .load(5 * M, { __name__: 'http_requests', job: 'api-server', instance: '0', group: 'production' }, [1])
      .load(5 * M, { __name__: 'http_requests', job: 'api-server', instance: '1', group: 'production' }, [2])
      .load(5 * M, { __name__: 'http_requests', job: 'api-server', instance: '0', group: 'canary' }, [NaN])
      .load(5 * M, { __name__: 'http_requests', job: 'api-server', instance: '1', group: 'canary' }, [3])
      .load(5 * M, { __name__: 'http_requests', job: 'api-server', instance: '2', group: 'canary' }, [4])
      .load(5 * M, { __name__: 'http_requests_histogram', job: 'api-server', instance: '3', group: 'canary' }, [makeHistogram({ count: 4, sum: 10 })]);
    test('max / min skip NaN', async () => {
      assertValues(await instant(s, agg('max', vs('http_requests')), 0), { '{}': 4 });
      assertValues(await instant(s, agg('min', vs('http_requests')), 0), { '{}': 1 });
      assertValues(await instant(s, agg('max', vs('http_requests'), { by: ['group'] }), 0), { '{group="production"}': 2, '{group="canary"}': 4 });
    });
    test('histograms are ignored with an info', async () => {
      const r = await engine().instantQuery(s, agg('max', vs('', { job: 'api-server' })), 0);
      assertValues(instantValues(r), { '{}': 4 });
      assert.deepEqual(r.annotations.infos, ['PromQL info: ignored histogram in max aggregation']);
      const r2 = await engine().instantQuery(s, agg('min', vs('http_requests_histogram')), 0);
      assertValues(instantValues(r2), {});
      assert.equal(r2.annotations.infos.length, 1);
      const r3 = await engine().instantQuery(s, agg('max', vs('http_requests')), 0);
      assert.deepEqual(r3.annotations, { warnings: [], infos: [] });
    });
  });

  describe('topk/bottomk ordering', () => {
    const s = new MemStorage();
    for (const [job, instance, group, inc] of HTTP_JOBS) s.load(5 * M, { __name__: 'http_requests', job, instance, group }, seq(0, inc, 10));
    s.load(5 * M, { __name__: 'http_requests', job: 'api-server', instance: '2', group: 'production' }, new Array<number>(11).fill(NaN));
    s.load(5 * M, { __name__: 'foo' }, [...seq(1, 1, 9), 3]);
    s.load(5 * M, { __name__: 'http_requests_histogram', job: 'app-server', instance: '2', group: 'canary' }, new Array<FloatHistogram>(11).fill(makeHistogram({ count: 10, sum: 10 })));
    const ordered = async (e: Expr): Promise<[string, number][]> => {
      const r = await engine().instantQuery(s, e, T);
      assert.equal(r.value.type, 'vector');
      return r.value.type === 'vector' ? r.value.value.map((x) => [key(x.metric), x.f]) : [];
    };
    const n = (inst: string, group: string, job: string) => `{__name__="http_requests", group="${group}", instance="${inst}", job="${job}"}`;
    test('topk(3, x)', async () => {
      assert.deepEqual(await ordered(agg('topk', H, { param: num(3) })), [
        [n('1', 'canary', 'app-server'), 800],
        [n('0', 'canary', 'app-server'), 700],
        [n('1', 'production', 'app-server'), 600],
      ]);
    });
    test('bottomk(3, x)', async () => {
      assert.deepEqual(await ordered(agg('bottomk', H, { param: paren(num(3)) })), [
        [n('0', 'production', 'api-server'), 100],
        [n('1', 'production', 'api-server'), 200],
        [n('0', 'canary', 'api-server'), 300],
      ]);
    });
    test('NaN is sorted away from the top and the bottom', async () => {
      const prod = vs('http_requests', { job: 'api-server', group: 'production' });
      const t = await ordered(agg('topk', prod, { param: num(3) }));
      assert.deepEqual(t.map((x) => x[1]), [200, 100, NaN]);
      const b = await ordered(agg('bottomk', prod, { param: num(3) }));
      assert.deepEqual(b.map((x) => x[1]), [100, 200, NaN]);
      const big = await ordered(agg('topk', prod, { param: num(9999999999) }));
      assert.deepEqual(big.map((x) => x[1]), [200, 100, NaN]);
    });
    test('topk(scalar(foo), x) in a range query (per-step k)', async () => {
      assertValues(await rangeQ(s, agg('count', agg('topk', H, { param: call('scalar', vs('foo')) })), 0, 50 * M, 5 * M), { '{}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 3] });
      assertValues(await rangeQ(s, agg('count', agg('bottomk', H, { param: call('scalar', vs('foo')) })), 0, 50 * M, 5 * M), { '{}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 3] });
    });
    test('topk by (group)', async () => {
      assertValues(await instant(s, agg('topk', H, { by: ['group'], param: num(1) }), T), { [n('1', 'production', 'app-server')]: 600, [n('1', 'canary', 'app-server')]: 800 });
    });
    test('topk ignores histograms with an info', async () => {
      const r = await engine().instantQuery(s, agg('topk', vs('http_requests_histogram'), { param: num(100) }), T);
      assertValues(instantValues(r), {});
      assert.deepEqual(r.annotations.infos, ['PromQL info: ignored histogram in topk aggregation']);
      const r2 = await engine().rangeQuery(s, agg('count', agg('topk', vs('', { __name__: '=~http_requests(_histogram)?' }), { param: num(1000) })), 0, 45 * M, 5 * M);
      assertValues(rangeValues(r2, 0, 45 * M, 5 * M), { '{}': [9, 9, 9, 9, 9, 9, 9, 9, 9, 9] });
      assert.equal(r2.annotations.infos.length, 1);
    });
    test('topk(NaN) fails; k < 1 is empty', async () => {
      await rejectsWith(engine().instantQuery(s, agg('topk', vs('non_existent'), { param: num(NaN) }), T), 'execution', 'Parameter value is NaN');
      await rejectsWith(engine().instantQuery(s, agg('limitk', vs('non_existent'), { param: num(NaN) }), T), 'execution', 'Parameter value is NaN');
      await rejectsWith(engine().instantQuery(s, agg('limit_ratio', vs('non_existent'), { param: num(NaN) }), T), 'execution', 'Ratio value is NaN');
      assertValues(await instant(s, agg('topk', H, { param: num(0) }), T), {});
    });
  });

  describe('quantile', () => {
    const s = new MemStorage();
    const data: [string, string, number][] = [
      ['two samples', 'a', 0],
      ['two samples', 'b', 1],
      ['three samples', 'a', 0],
      ['three samples', 'b', 1],
      ['three samples', 'c', 2],
      ['uneven samples', 'a', 0],
      ['uneven samples', 'b', 1],
      ['uneven samples', 'c', 4],
      ['NaN sample', 'a', 0],
      ['NaN sample', 'b', 1],
      ['NaN sample', 'c', NaN],
    ];
    for (const [t, p, v] of data) s.load(10 * S, { __name__: 'data', test: t, point: p }, [v]);
    s.load(10 * S, { __name__: 'foo' }, [0, 1, 0, 1, 0, 1, 0.8]);
    test('0.8 without (point)', async () => {
      assertValues(await instant(s, agg('quantile', vs('data'), { without: ['point'], param: num(0.8) }), M), {
        '{test="two samples"}': 0.8,
        '{test="three samples"}': 1.6,
        '{test="uneven samples"}': 2.8,
        '{test="NaN sample"}': 0.6,
      });
    });
    test('0.2: between NaN and 0 is NaN', async () => {
      assertValues(await instant(s, agg('quantile', vs('data'), { without: ['point'], param: num(0.2) }), M), {
        '{test="two samples"}': 0.2,
        '{test="three samples"}': 0.4,
        '{test="uneven samples"}': 0.4,
        '{test="NaN sample"}': NaN,
      });
    });
    test('NaN quantile: NaN results and a warning', async () => {
      const r = await engine().instantQuery(s, agg('quantile', vs('data'), { without: ['point'], param: num(NaN) }), M);
      assert.deepEqual(r.annotations.warnings, ['PromQL warning: quantile value should be between 0 and 1, got NaN']);
      assert.ok(Object.values(instantValues(r) as object).every((v) => Number.isNaN(v)));
    });
    test('per-step quantile from scalar(foo)', async () => {
      assertValues(await rangeQ(s, agg('quantile', vs('data'), { without: ['point'], param: call('scalar', vs('foo')) }), 0, M, 10 * S), {
        '{test="two samples"}': [0, 1, 0, 1, 0, 1, 0.8],
        '{test="three samples"}': [0, 2, 0, 2, 0, 2, 1.6],
        '{test="uneven samples"}': [0, 4, 0, 4, 0, 4, 2.8],
        '{test="NaN sample"}': [NaN, 1, NaN, 1, NaN, 1, 0.6],
      });
    });
  });

  describe('count_values', () => {
    const s = new MemStorage();
    const v: [string, string, string, number | FloatHistogram][] = [
      ['api-server', '0', 'production', 6],
      ['api-server', '1', 'production', 6],
      ['api-server', '2', 'production', 6],
      ['api-server', '0', 'canary', 8],
      ['api-server', '1', 'canary', 8],
      ['app-server', '0', 'production', 6],
      ['app-server', '1', 'production', 6],
      ['app-server', '0', 'canary', 7],
      ['app-server', '1', 'canary', 7],
    ];
    for (const [job, instance, group, x] of v) s.load(5 * M, { __name__: 'version', job, instance, group }, [x]);
    test('count_values("version", version)', async () => {
      assertValues(await instant(s, agg('count_values', vs('version'), { param: str('version') }), M), { '{version="6"}': 5, '{version="7"}': 2, '{version="8"}': 2 });
    });
    test('without (instance)', async () => {
      assertValues(await instant(s, agg('count_values', vs('version'), { param: paren(str('version')), without: ['instance'] }), M), {
        '{group="production", job="api-server", version="6"}': 3,
        '{group="canary", job="api-server", version="8"}': 2,
        '{group="production", job="app-server", version="6"}': 2,
        '{group="canary", job="app-server", version="7"}': 2,
      });
    });
    test('by (job, group) overwriting job', async () => {
      assertValues(await instant(s, agg('count_values', vs('version'), { param: str('job'), by: ['job', 'group'] }), M), {
        '{group="production", job="6"}': 5,
        '{group="canary", job="8"}': 2,
        '{group="canary", job="7"}': 2,
      });
    });
    test('invalid label name', async () => {
      await rejectsWith(engine().instantQuery(s, agg('count_values', vs('version'), { param: str('') }), M), 'execution', 'invalid label name ""');
    });
  });

  describe('avg precision', () => {
    const s = new MemStorage();
    const sets: Record<string, number[]> = {
      ten: [8, 10, 12],
      inf: [0, Infinity, Infinity, 0],
      inf3: [Infinity, Infinity, -Infinity],
      nan: [-Infinity, 0, Infinity],
      big: [9.988465674311579e307, 9.988465674311579e307, 9.988465674311579e307, 9.988465674311579e307],
      '-big': [-9.988465674311579e307, -9.988465674311579e307, -9.988465674311579e307, -9.988465674311579e307],
      bigzero: [-9.988465674311579e307, -9.988465674311579e307, 9.988465674311579e307, 9.988465674311579e307],
      kahan: [2, 8, 1e100, -1e100],
    };
    for (const [t, vals] of Object.entries(sets)) vals.forEach((x, i) => s.load(10 * S, { __name__: 'data', test: t, point: String(i) }, [x]));
    const want: Record<string, number> = { ten: 10, inf: Infinity, inf3: NaN, nan: NaN, big: 9.988465674311579e307, '-big': -9.988465674311579e307, bigzero: 0, kahan: 2.5 };
    for (const [t, w] of Object.entries(want)) {
      test(`avg(${t})`, async () => assertValues(await instant(s, agg('avg', vs('data', { test: t })), M), { '{}': w }));
    }
    test('sum with Kahan summation', async () => assertValues(await instant(s, agg('sum', vs('data', { test: 'kahan' })), M), { '{}': 10 }));
    test('avg of 12 equal values == 52 exactly', async () => {
      const f = new MemStorage();
      for (let i = 0; i < 12; i++) f.load(5 * M, { __name__: 'foo', idx: String(i) }, [52]);
      assertValues(await instant(f, bin('==', agg('avg', vs('foo')), num(52)), 0), { '{}': 52 });
      assertValues(await instant(f, bin('==', agg('avg', agg('topk', vs('foo'), { param: num(9) })), num(52)), 0), { '{}': 52 });
    });
  });

  describe('limitk / limit_ratio', () => {
    const s = new MemStorage();
    for (const [instance, group, inc] of [['0', 'production', 10], ['1', 'production', 20], ['0', 'canary', 30], ['1', 'canary', 40], ['2', 'canary', 50], ['3', 'canary', 60]] as [string, string, number][]) {
      s.load(5 * M, { __name__: 'http_requests', job: 'api-server', instance, group }, seq(0, inc, 10));
    }
    s.load(5 * M, { __name__: 'foo' }, seq(1, 1, 10));
    s.load(5 * M, { __name__: 'bar' }, [0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0]);
    const H = vs('http_requests');
    test('experimental gate', async () => {
      await rejectsWith(engine({ enableExperimentalFunctions: false }).instantQuery(s, agg('limitk', H, { param: num(1) }), T), 'bad_data', 'limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions');
      await rejectsWith(engine({ enableExperimentalFunctions: false }).instantQuery(s, call('mad_over_time', mat(H, M)), T), 'bad_data', 'function "mad_over_time" is not enabled');
    });
    test('limitk by (group)', async () => {
      assertValues(await instant(s, agg('count', bin('and', agg('limitk', H, { by: ['group'], param: num(1) }), H)), T), { '{}': 2 });
      assertValues(await instant(s, agg('count', bin('and', agg('limitk', H, { by: ['group'], param: num(2) }), H)), T), { '{}': 4 });
      assertValues(await instant(s, agg('count', agg('limitk', H, { by: ['group'], param: num(-1) })), T), {});
    });
    test('limitk(scalar(foo)) per step', async () => {
      assertValues(await rangeQ(s, agg('count', agg('limitk', H, { param: call('scalar', vs('foo')) })), 0, 50 * M, 5 * M), { '{}': [1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6] });
    });
    test('limit_ratio complements and capping', async () => {
      const q = (e: Expr) => rangeQ(s, e, 0, 50 * M, 5 * M);
      const all = { '{}': new Array<number>(11).fill(6) };
      assertValues(await q(agg('count', bin('or', agg('limit_ratio', H, { param: num(0.2) }), agg('limit_ratio', H, { param: num(-0.8) })))), all);
      assertValues(await q(agg('count', bin('and', agg('limit_ratio', H, { param: num(0.2) }), agg('limit_ratio', H, { param: num(-0.8) })))), {});
      assertValues(await q(agg('count', agg('limit_ratio', H, { param: num(1) }))), all);
      assertValues(await q(agg('count', agg('limit_ratio', H, { param: num(0) }))), {});
      const r = await engine().rangeQuery(s, agg('count', agg('limit_ratio', H, { param: num(1.1) })), 0, 50 * M, 5 * M);
      assert.deepEqual(r.annotations.warnings, ['PromQL warning: ratio value should be between -1 and 1, got 1.1, capping to 1']);
      assertValues(await q(agg('count', agg('limit_ratio', H, { param: call('scalar', vs('bar')) }))), { '{}': [null, 6, null, 6, null, 6, null, 6, null, 6, null] });
    });
  });
});

describe('native histograms', () => {
  const h1 = makeHistogram({ schema: 0, count: 4, sum: 4, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 1] });
  const s = new MemStorage()
    .load(5 * M, { __name__: 'metric', id: '1' }, [h1, h1])
    .load(5 * M, { __name__: 'metric', id: '2' }, [h1, h1])
    .load(5 * M, { __name__: 'float_metric', id: '3' }, [1, 1]);
  const val = async (e: Expr): Promise<Record<string, FloatHistogram | number>> => (await instant(s, e, 5 * M)) as Record<string, FloatHistogram | number>;
  test('-h is a gauge histogram without the name', async () => {
    const r = await val(neg(vs('metric')));
    const h = r['{id="1"}'] as FloatHistogram;
    assert.equal(h.count, -4);
    assert.equal(h.counterResetHint, 3);
    assert.deepEqual(h.positiveBuckets, [-1, -2, -1]);
  });
  test('h * 2, 2 * h, h / 2', async () => {
    assert.equal(((await val(bin('*', vs('metric'), num(2))))['{id="1"}'] as FloatHistogram).count, 8);
    assert.equal(((await val(bin('*', num(2), vs('metric'))))['{id="1"}'] as FloatHistogram).sum, 8);
    assert.deepEqual(((await val(bin('/', vs('metric'), num(2))))['{id="1"}'] as FloatHistogram).positiveBuckets, [0.5, 1, 0.5]);
  });
  test('h - 0.5 * h is a gauge', async () => {
    const r = await val(bin('-', vs('metric'), bin('*', num(0.5), vs('metric'))));
    const h = r['{id="1"}'] as FloatHistogram;
    assert.equal(h.count, 2);
    assert.equal(h.counterResetHint, 3);
  });
  test('sum and avg of histograms', async () => {
    const sum = (await val(agg('sum', vs('metric'))))['{}'] as FloatHistogram;
    assert.equal(sum.count, 8);
    assert.deepEqual(sum.positiveBuckets, [2, 4, 2]);
    const avg = (await val(agg('avg', vs('metric'))))['{}'] as FloatHistogram;
    assert.equal(avg.count, 4);
    assert.deepEqual(avg.positiveBuckets, [1, 2, 1]);
    assertValues(await val(agg('count', vs('metric'))), { '{}': 2 });
  });
  test('h == h keeps the histogram; h == bool h is 1', async () => {
    const r = await val(bin('==', vs('metric', { id: '1' }), vs('metric', { id: '1' })));
    assert.equal((r['{__name__="metric", id="1"}'] as FloatHistogram).count, 4);
    assertValues(await val(bin('!=', vs('metric', { id: '1' }), vs('metric', { id: '1' }), { bool: true })), { '{id="1"}': 0 });
  });
  test('histogram compared with a float: empty with an info', async () => {
    const r = await engine().instantQuery(s, bin('>', vs('metric'), num(1)), 5 * M);
    assertValues(instantValues(r), {});
    assert.deepEqual(r.annotations.infos, ['PromQL info: incompatible sample types encountered for binary operator ">": histogram > float']);
    const r2 = await engine().instantQuery(s, bin('+', num(1), vs('metric')), 5 * M);
    assertValues(instantValues(r2), {});
    assert.deepEqual(r2.annotations.infos, ['PromQL info: incompatible sample types encountered for binary operator "+": float + histogram']);
  });
  test('sum of floats and histograms: nothing, with a warning', async () => {
    const r = await engine().instantQuery(s, agg('sum', vs('', { id: '=~1|3' })), 5 * M);
    assertValues(instantValues(r), {});
    assert.deepEqual(r.annotations.warnings, ['PromQL warning: encountered a mix of histograms and floats for aggregation']);
  });
  test('count_values over histograms', async () => {
    const r = await val(agg('count_values', vs('metric'), { param: str('v') }));
    assert.deepEqual(Object.keys(r), ['{v="{count:4, sum:4, (0.5,1]:1, (1,2]:2, (2,4]:1}"}']);
  });
  test('exponential + custom buckets: warning', async () => {
    const c = new MemStorage()
      .load(M, { __name__: 'm', s: 'e' }, [makeHistogram({ count: 1, sum: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] })])
      .load(M, { __name__: 'm', s: 'c' }, [makeHistogram({ schema: -53, count: 1, sum: 1, customValues: [5], positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] })]);
    const r = await engine().instantQuery(c, agg('sum', vs('m')), 0);
    assertValues(instantValues(r), {});
    assert.deepEqual(r.annotations.warnings, ['PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name "m"']);
    const r2 = await engine().instantQuery(c, bin('+', vs('m', { s: 'e' }), vs('m', { s: 'c' }), { ignoring: ['s'] }), 0);
    assertValues(instantValues(r2), {});
    assert.deepEqual(r2.annotations.warnings, ['PromQL warning: incompatible bucket layout encountered for binary operator +']);
  });
});

describe('functions and annotations', () => {
  test('function annotations are prefixed and deduplicated', async () => {
    const s = new MemStorage().load(M, { __name__: 'x' }, [1]);
    const r = await engine().instantQuery(s, call('annotate_me', vs('x')), 0);
    assert.deepEqual(r.annotations, {
      warnings: ['PromQL warning: something odd'],
      infos: ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "x"'],
    });
  });

  test('unknown function is refused before fetching', async () => {
    const s = new MemStorage();
    await rejectsWith(engine().instantQuery(s, call('no_such_fn', vs('x')), 0), 'bad_data', /no_such_fn/);
    assert.equal(s.selects.length, 0);
  });

  test('instant results keep the order the function returned (through name removal)', async () => {
    const s = new MemStorage().load(M, { __name__: 'x', a: '1' }, [3]).load(M, { __name__: 'x', a: '2' }, [NaN]).load(M, { __name__: 'x', a: '3' }, [1]).load(M, { __name__: 'x', a: '4' }, [2]);
    const order = async (name: string): Promise<number[]> => {
      const r = await engine().instantQuery(s, call(name, vs('x')), 0);
      return r.value.type === 'vector' ? r.value.value.map((x) => x.f) : [];
    };
    assert.deepEqual(await order('sort'), [1, 2, 3, NaN]);
    assert.deepEqual(await order('sort_desc'), [3, 2, 1, NaN]);
  });

  test('vector(time()) is step-dependent; vector(1) is invariant', async () => {
    const s = new MemStorage();
    assertValues(await rangeQ(s, call('vector', call('time')), 0, 2 * M, M), { '{}': [0, 60, 120] });
    assertValues(await rangeQ(s, call('vector', num(1)), 0, 2 * M, M), { '{}': [1, 1, 1] });
    assertValues(await rangeQ(s, bin('+', call('time'), num(1)), 0, 2 * M, M), { '{}': [1, 61, 121] });
  });
});

describe('result types', () => {
  const s = new MemStorage().load(10 * S, { __name__: 'm', b: '2' }, seq(0, 1, 10)).load(10 * S, { __name__: 'm', b: '1' }, seq(0, 2, 10));
  test('scalar', async () => {
    const r = await engine().instantQuery(s, bin('+', num(1), num(1)), 7 * S);
    assert.deepEqual(r.value, { type: 'scalar', value: { t: 7 * S, v: 2 } });
  });
  test('string', async () => {
    const r = await engine().instantQuery(s, paren(str('Foo')), 7 * S);
    assert.deepEqual(r.value, { type: 'string', value: { t: 7 * S, s: 'Foo' } });
  });
  test('range query of a scalar: one series without labels', async () => {
    const r = await engine().rangeQuery(s, num(3), 0, 20 * S, 10 * S);
    assert.deepEqual(r.value, { type: 'matrix', value: [{ metric: [], floats: [{ t: 0, f: 3 }, { t: 10 * S, f: 3 }, { t: 20 * S, f: 3 }], histograms: [] }] });
  });
  test('instant range selector: matrix of raw samples, sorted by labels', async () => {
    const r = await engine().instantQuery(s, mat(vs('m'), 25 * S), 50 * S);
    assert.equal(r.value.type, 'matrix');
    if (r.value.type !== 'matrix') return;
    assert.deepEqual(r.value.value.map((x) => key(x.metric)), ['{__name__="m", b="1"}', '{__name__="m", b="2"}']);
    assert.deepEqual(r.value.value[1]?.floats, [
      { t: 30 * S, f: 3 },
      { t: 40 * S, f: 4 },
      { t: 50 * S, f: 5 },
    ]);
  });
  test('range query results are sorted by labels', async () => {
    const r = await engine().rangeQuery(s, vs('m'), 0, 20 * S, 10 * S);
    assert.equal(r.value.type, 'matrix');
    if (r.value.type === 'matrix') assert.deepEqual(r.value.value.map((x) => key(x.metric)), ['{__name__="m", b="1"}', '{__name__="m", b="2"}']);
  });
  test('range query of a range vector or string is refused', async () => {
    await rejectsWith(engine().rangeQuery(s, mat(vs('m'), M), 0, M, S), 'bad_data', 'invalid expression type "range vector" for range query, must be Scalar or instant Vector');
    await rejectsWith(engine().rangeQuery(s, str('x'), 0, M, S), 'bad_data', 'invalid expression type "string" for range query, must be Scalar or instant Vector');
    await rejectsWith(engine().rangeQuery(s, vs('m'), 0, M, 0), 'bad_data');
    await rejectsWith(engine().rangeQuery(s, vs('m'), M, 0, S), 'bad_data');
  });
  test('empty storage: empty vector / matrix', async () => {
    const e = new MemStorage();
    assert.deepEqual((await engine().instantQuery(e, vs('m'), 0)).value, { type: 'vector', value: [] });
    assert.deepEqual((await engine().rangeQuery(e, vs('m'), 0, M, S)).value, { type: 'matrix', value: [] });
  });
});

describe('limits and cancellation', () => {
  const big = new MemStorage();
  for (let i = 0; i < 10; i++) big.load(10 * S, { __name__: 'm', i: String(i) }, seq(0, 1, 360));
  test('max samples', async () => {
    await rejectsWith(engine({ maxSamples: 50 }).rangeQuery(big, vs('m'), 0, 10 * M, 10 * S), 'execution', 'query processing would load too many samples into memory in query execution');
    await rejectsWith(engine({ maxSamples: 100 }).instantQuery(big, mat(vs('m'), 10 * M), 60 * M), 'execution', /too many samples/);
    await rejectsWith(engine({ maxSamples: 40 }).instantQuery(big, call('count_over_time', mat(vs('m'), 10 * M)), 60 * M), 'execution', /too many samples/);
    // fits: 10 series x 61 steps (+ the aggregation output)
    const r = await engine({ maxSamples: 1000 }).rangeQuery(big, agg('sum', vs('m')), 0, 10 * M, 10 * S);
    assert.equal(r.value.type, 'matrix');
  });

  test('timeout while waiting for storage', async () => {
    const slow = new MemStorage().load(S, { __name__: 'm' }, [1]);
    slow.delayMs = 500;
    const t0 = Date.now();
    await rejectsWith(engine({ timeoutMs: 30 }).instantQuery(slow, vs('m'), 0), 'timeout', 'query timed out in query preparation');
    assert.ok(Date.now() - t0 < 400);
  });

  test('timeout during a long evaluation', async () => {
    const s = new MemStorage().load(M, { __name__: 'm' }, [1]);
    await rejectsWith(engine({ timeoutMs: 30 }).rangeQuery(s, agg('sum', bin('+', vs('m', {}, { at: 0 }), call('vector', call('time')))), 0, 2_000_000 * M, M), 'timeout', 'query timed out in expression evaluation');
  });

  test('abort signal: before and during', async () => {
    const s = new MemStorage().load(M, { __name__: 'm' }, [1]);
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(engine().instantQuery(s, vs('m'), 0, ac.signal), 'canceled');
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 20);
    await rejectsWith(engine().rangeQuery(s, call('vector', call('time')), 0, 5_000_000 * M, M, ac2.signal), 'canceled', 'query was canceled in expression evaluation');
    const slow = new MemStorage().load(S, { __name__: 'm' }, [1]);
    slow.delayMs = 500;
    const ac3 = new AbortController();
    setTimeout(() => ac3.abort(), 10);
    await rejectsWith(engine().instantQuery(slow, vs('m'), 0, ac3.signal), 'canceled', 'query was canceled in query preparation');
  });

  test('a long evaluation yields to the event loop', async () => {
    const s = new MemStorage();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    try {
      const r = await engine().rangeQuery(s, call('vector', call('time')), 0, 100_000 * M, M);
      assert.equal(r.value.type, 'matrix');
    } finally {
      clearInterval(iv);
    }
    assert.ok(ticks > 0, 'timer callbacks ran during the query');
  });
});

describe('fill modifiers', () => {
  const s = new MemStorage()
    .load(5 * M, { __name__: 'left_vector', label: 'a' }, [10])
    .load(5 * M, { __name__: 'left_vector', label: 'b' }, [20])
    .load(5 * M, { __name__: 'left_vector', label: 'c' }, [30])
    .load(5 * M, { __name__: 'right_vector', label: 'a' }, [100])
    .load(5 * M, { __name__: 'right_vector', label: 'b' }, [200])
    .load(5 * M, { __name__: 'right_vector', label: 'd' }, [400]);
  const L = vs('left_vector');
  const R = vs('right_vector');
  const cases: [string, Expr, unknown][] = [
    ['+ fill(0)', bin('+', L, R, { fill: { lhs: 0, rhs: 0 } }), { '{label="a"}': 110, '{label="b"}': 220, '{label="c"}': 30, '{label="d"}': 400 }],
    ['+ fill_left(0)', bin('+', L, R, { fill: { lhs: 0, rhs: null } }), { '{label="a"}': 110, '{label="b"}': 220, '{label="d"}': 400 }],
    ['+ fill_right(0)', bin('+', L, R, { fill: { lhs: null, rhs: 0 } }), { '{label="a"}': 110, '{label="b"}': 220, '{label="c"}': 30 }],
    ['+ fill_left(5) fill_right(7)', bin('+', L, R, { fill: { lhs: 5, rhs: 7 } }), { '{label="a"}': 110, '{label="b"}': 220, '{label="c"}': 37, '{label="d"}': 405 }],
    ['== fill(30)', bin('==', L, R, { fill: { lhs: 30, rhs: 30 } }), { '{__name__="left_vector", label="c"}': 30 }],
    ['!= fill(30)', bin('!=', L, R, { fill: { lhs: 30, rhs: 30 } }), { '{__name__="left_vector", label="a"}': 10, '{__name__="left_vector", label="b"}': 20, '{label="d"}': 30 }],
    ['> bool fill(25)', bin('>', L, R, { bool: true, fill: { lhs: 25, rhs: 25 } }), { '{label="a"}': 0, '{label="b"}': 0, '{label="c"}': 1, '{label="d"}': 0 }],
    ['+ fill(0) with an empty side', bin('+', L, vs('nothing'), { fill: { lhs: 0, rhs: 0 } }), { '{label="a"}': 10, '{label="b"}': 20, '{label="c"}': 30 }],
  ];
  for (const [name, e, want] of cases) test(name, async () => assertValues(await instant(s, e, 0), want, name));
});

describe('histogram trim operators', () => {
  const cbh = makeHistogram({ schema: -53, sum: 172.5, count: 15, customValues: [5, 10, 15, 20], positiveSpans: [{ offset: 0, length: 5 }], positiveBuckets: [1, 6, 4, 3, 1] });
  const hTest = makeHistogram({ schema: 0, sum: 123.75, count: 34, zeroCount: 1, zeroThreshold: 0.001, positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [2, 4, 8, 16], negativeSpans: [{ offset: 0, length: 2 }], negativeBuckets: [1, 2] });
  const s = new MemStorage().load(M, { __name__: 'cbh' }, [cbh, cbh]).load(M, { __name__: 'h_test' }, [hTest, hTest]).load(M, { __name__: 'f' }, [1, 1]);
  const trim = async (name: string, op: BinaryOp, x: number): Promise<FloatHistogram> => {
    const r = (await instant(s, bin(op, vs(name), num(x)), M)) as Record<string, FloatHistogram>;
    return r[`{__name__="${name}"}`] as FloatHistogram;
  };
  const cases: [string, BinaryOp, number, number, number, number[]][] = [
    ['cbh', '</', 15, 11, 97.5, [1, 6, 4]],
    ['cbh', '>/', 15, 4, 72.5, [3, 1]],
    ['cbh', '</', 13, 9.4, 75.1, [1, 6, 2.4]],
    ['cbh', '>/', 13, 5.6, 94.9, [1.6, 3, 1]],
    ['cbh', '</', 50, 14, 150, [1, 6, 4, 3]],
    ['cbh', '</', Infinity, 15, 172.5, [1, 6, 4, 3, 1]],
    ['h_test', '>/', 0, 30.5, 120.20840280171308, [2, 4, 8, 16]],
    ['h_test', '</', 1.4142135624, 8, 0.2570938865989847, [2, 2]],
    ['h_test', '</', -1, 2, -2.8284271247461903, []],
  ];
  for (const [name, op, x, count, sum, buckets] of cases) {
    test(`${name} ${op} ${x}`, async () => {
      const h = await trim(name, op, x);
      assertValues(h.count, count, 'count');
      assertValues(h.sum, sum, 'sum');
      assertValues(h.positiveBuckets, buckets, 'buckets');
    });
  }
  test('a float trimmed: nothing, with an info', async () => {
    const r = await engine().instantQuery(s, bin('</', vs('f'), num(1)), M);
    assertValues(instantValues(r), {});
    assert.deepEqual(r.annotations.infos, ['PromQL info: incompatible sample types encountered for binary operator "</": float </ float']);
  });
});

describe('histogram statistics reads (histogram_count/_sum/_avg)', () => {
  // A counter reset (explicit hint) next to an unknown hint that the stats read resolves to
  // "not reset": Prometheus warns about conflicting counter resets in sum().
  const a = makeHistogram({ count: 10, sum: 10, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [10] });
  const b = makeHistogram({ count: 12, sum: 12, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [12] });
  const reset = makeHistogram({ count: 1, sum: 1, counterResetHint: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] });
  const s = new MemStorage().load(M, { __name__: 'm', id: '1' }, [a, b]).load(M, { __name__: 'm', id: '2' }, [a, reset]);
  const hc = (e: Expr): Expr => ({ ...call('hc', e), func: { name: 'histogram_count', argTypes: ['vector'], variadic: 0, returnType: 'vector', experimental: false } });
  const eng = () => engine({ functions: FUNCTIONS });
  test('sum under histogram_count sees resolved hints', async () => {
    const r = await eng().instantQuery(s, hc(agg('sum', vs('m'))), M);
    assertValues(instantValues(r), { '{}': 13 });
    assert.deepEqual(r.annotations.warnings, ['PromQL warning: conflicting counter resets during histogram aggregation']);
  });
  test('plain sum keeps the stored hints', async () => {
    const r = await eng().instantQuery(s, agg('sum', vs('m')), M);
    assert.deepEqual(r.annotations.warnings, []);
    assert.equal(((instantValues(r) as Record<string, FloatHistogram>)['{}'] as FloatHistogram).count, 13);
  });
});

describe('avg of histograms near the float limit', () => {
  test('falls back to summing each histogram divided by the count', async () => {
    const big = makeHistogram({ count: 1.7976931348623157e308, sum: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1e308] });
    const s = new MemStorage().load(M, { __name__: 'h', i: '1' }, [big]).load(M, { __name__: 'h', i: '2' }, [big]);
    const r = (await instant(s, agg('avg', vs('h')), 0)) as Record<string, FloatHistogram>;
    const h = r['{}'] as FloatHistogram;
    assertValues(h.count, 1.7976931348623157e308, 'count');
    assertValues(h.positiveBuckets, [1e308], 'buckets');
  });
});

describe('string queries (with the parser and the function library)', () => {
  const s = new MemStorage()
    .load(10 * S, { __name__: 'x', job: 'a' }, seq(0, 10, 60))
    .load(10 * S, { __name__: 'x', job: 'b' }, seq(0, 20, 60));
  const eng = () => engine({ functions: FUNCTIONS, parseOptions: { enableExperimentalFunctions: true, experimentalDurationExpr: true, enableBinopFillModifiers: true } });
  test('rate of a non-counter: info at the argument position', async () => {
    const r = await eng().instantQuery(s, 'sum(\n  rate(x[1m]))', 5 * M);
    assertValues(instantValues(r), { '{}': 3 });
    assert.deepEqual(r.annotations.infos, ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "x" (2:8)']);
  });
  test('aggregation annotations point at the aggregated expression', async () => {
    const r = await eng().instantQuery(s, 'quantile(2, x)', 5 * M);
    assert.deepEqual(r.annotations.warnings, ['PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)']);
  });
  test('duration expressions with step() are resolved per query', async () => {
    const r = await eng().rangeQuery(s, 'count_over_time(x{job="a"}[step() * 3])', 5 * M, 6 * M, 30 * S);
    assertValues(rangeValues(r, 5 * M, 6 * M, 30 * S), { '{job="a"}': [9, 9, 9] });
  });
  test('parse errors are bad_data', async () => {
    await rejectsWith(eng().instantQuery(s, 'sum(', 0), 'bad_data', /parse error/);
  });
  test('sort_desc keeps its order through the engine', async () => {
    const r = await eng().instantQuery(s, 'sort_desc(x)', 5 * M);
    assert.equal(r.value.type, 'vector');
    if (r.value.type === 'vector') assert.deepEqual(r.value.value.map((v) => v.f), [600, 300]);
  });
});

describe('extended range selectors (anchored / smoothed)', () => {
  const s = new MemStorage().load(15 * S, { __name__: 'metric' }, [1, 2, 3, 4, 5, 9, 10, 11, 12, 13]);
  const ext = (v: VectorSelector, o: { anchored?: boolean; smoothed?: boolean }): VectorSelector => ({ ...v, ...o });
  test('anchored/smoothed only with the functions that support them', async () => {
    await rejectsWith(
      engine().instantQuery(s, call('sum_over_time', mat(ext(vs('metric'), { anchored: true }), M)), M),
      'execution',
      'anchored modifier can only be used with: changes, delta, increase, rate, resets - not with sum_over_time',
    );
    await rejectsWith(
      engine().instantQuery(s, call('count_over_time', mat(ext(vs('metric'), { smoothed: true }), M)), M),
      'execution',
      'smoothed modifier can only be used with: delta, increase, rate - not with count_over_time',
    );
  });
  test('functions get the window extended by the lookback delta', async () => {
    const seen: number[] = [];
    const fns = new Map(FUNCS).set('rate', (args, ctx) => {
      const a = args[0];
      if (a?.kind === 'matrix') for (const x of a.m) seen.push(x.floats.length);
      return [{ metric: [], t: ctx.t, f: 0, h: null }];
    });
    const e = new Engine({ lookbackDeltaMs: 30 * S, maxSamples: 1e6, timeoutMs: 10_000, functions: fns });
    const rate = (v: VectorSelector): Expr => ({ ...call('rate', mat(v, M)), func: { name: 'rate', argTypes: ['matrix'], variadic: 0, returnType: 'vector', experimental: false } });
    await e.instantQuery(s, rate(vs('metric')), 90 * S); // (30s, 90s]: 4 samples
    await e.instantQuery(s, rate(ext(vs('metric'), { anchored: true })), 90 * S); // (0s, 90s]: 6
    await e.instantQuery(s, rate(ext(vs('metric'), { smoothed: true })), 90 * S); // (0s, 120s]: 8
    assert.deepEqual(seen, [4, 6, 8]);
  });
  test('x smoothed interpolates between the samples around each step', async () => {
    assertValues(await instant(s, ext(vs('metric'), { smoothed: true }), 7 * S), { '{__name__="metric"}': 1 + 7 / 15 });
    assertValues(await instant(s, ext(vs('metric'), { smoothed: true }), 15 * S), { '{__name__="metric"}': 2 });
    assertValues(await instant(s, ext(vs('metric'), { smoothed: true }), 200 * S), { '{__name__="metric"}': 13 });
  });
  test('x[1m] anchored on its own has boundary points', async () => {
    const r = await engine().instantQuery(s, mat(ext(vs('metric'), { anchored: true }), 20 * S), 50 * S);
    assert.equal(r.value.type, 'matrix');
    if (r.value.type === 'matrix') {
      assert.deepEqual(r.value.value[0]?.floats, [
        { t: 30 * S, f: 3 },
        { t: 45 * S, f: 4 },
        { t: 50 * S, f: 4 },
      ]);
    }
  });
});
