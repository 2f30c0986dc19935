import '../harness.js';
// The PromQL function library, called directly with FnArg inputs. Expected values are those of
// Prometheus (its promql/promqltest/testdata/functions.test and histograms.test cases, checked by
// hand against the formulas in the comments).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Expr, LabelMatcher, PosRange } from '../../src/promql/ast.js';
import { PromQLError } from '../../src/promql/engine/api.js';
import { FUNCTIONS, type FnArg, type FnContext } from '../../src/promql/functions/index.js';
import { bucketFraction, bucketQuantile, quantile } from '../../src/promql/functions/quantile.js';
import { expandTemplate, natLess } from '../../src/promql/functions/series.js';
import { histogramFromNotation, type HistogramNotation } from '../../src/promql/histogram/index.js';
import type { FloatHistogram, Labels, Sample, Series, Vector } from '../../src/promql/value.js';
import { labelsFromRecord } from '../../src/tsdb/labels/index.js';
import { formatFloatG } from '../../src/util/go-strconv.js';

// ---- helpers -----------------------------------------------------------------------------------

interface Note {
  kind: 'warning' | 'info';
  message: string;
  pos: PosRange | undefined;
}

interface TestCtx extends FnContext {
  notes: Note[];
}

const P0: PosRange = { start: 0, end: 1 };

function ctxAt(tSec: number, args: Expr[] = []): TestCtx {
  const notes: Note[] = [];
  return { t: tSec * 1000, args, notes, annotate: (kind, message, pos) => notes.push({ kind, message, pos }) };
}

function L(rec: Record<string, string> = {}): Labels {
  return labelsFromRecord(rec);
}

function fs(rec: Record<string, string>, f: number, tSec = 0): Sample {
  return { metric: L(rec), t: tSec * 1000, f, h: null };
}

function hs(rec: Record<string, string>, h: HistogramNotation, tSec = 0): Sample {
  return { metric: L(rec), t: tSec * 1000, f: 0, h: histogramFromNotation(h) };
}

const vec = (...v: Sample[]): FnArg => ({ kind: 'vector', v });
const sc = (v: number): FnArg => ({ kind: 'scalar', v });
const str = (s: string): FnArg => ({ kind: 'string', s });

/** A series from [seconds, value] points (value a number or a histogram notation). */
function ser(rec: Record<string, string>, points: Array<[number, number | HistogramNotation]>, dropName?: boolean): Series {
  const s: Series = { metric: L(rec), floats: [], histograms: [] };
  for (const [t, v] of points) {
    if (typeof v === 'number') s.floats.push({ t: t * 1000, f: v });
    else s.histograms.push({ t: t * 1000, h: histogramFromNotation(v) });
  }
  if (dropName !== undefined) s.dropName = dropName;
  return s;
}

/**
 * What the engine would pass for `sel[range]` at time `tSec`: the points in (t - range, t] of
 * series given as [start, step, values] (promqltest `load` style: values every step seconds).
 */
function mat(rangeSec: number, tSec: number, ...series: Series[]): FnArg {
  const lo = (tSec - rangeSec) * 1000;
  const hi = tSec * 1000;
  const m = series.map((s) => ({
    ...s,
    floats: s.floats.filter((p) => p.t > lo && p.t <= hi),
    histograms: s.histograms.filter((p) => p.t > lo && p.t <= hi),
  }));
  return { kind: 'matrix', m, rangeMs: rangeSec * 1000 };
}

/** promqltest's `a+bxN`: N+1 values a, a+b, ... every `step` seconds from 0. */
function load(rec: Record<string, string>, step: number, ...runs: Array<[number, number, number]>): Series {
  const pts: Array<[number, number]> = [];
  let t = 0;
  for (const [a, b, n] of runs) {
    for (let i = 0; i <= n; i++) {
      pts.push([t, a + b * i]);
      t += step;
    }
  }
  return ser(rec, pts);
}

/** A series with the given values every `step` seconds from 0 (NaN allowed; null = no sample). */
function values(rec: Record<string, string>, step: number, vs: Array<number | null>): Series {
  const pts: Array<[number, number]> = [];
  vs.forEach((v, i) => {
    if (v !== null) pts.push([i * step, v]);
  });
  return ser(rec, pts);
}

function call(name: string, args: FnArg[], ctx: FnContext): Vector | number {
  const fn = FUNCTIONS.get(name);
  assert.ok(fn, `function ${name} missing`);
  return fn(args, ctx);
}

function callV(name: string, args: FnArg[], ctx: FnContext): Vector {
  const r = call(name, args, ctx);
  assert.ok(Array.isArray(r), `${name} returned a scalar`);
  return r;
}

function key(ls: Labels): string {
  const parts: string[] = [];
  for (let i = 0; i < ls.length; i += 2) parts.push(`${ls[i]}=${JSON.stringify(ls[i + 1])}`);
  return `{${parts.join(',')}}`;
}

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: got ${actual}, want NaN`);
  if (!Number.isFinite(expected) || expected === 0) return assert.equal(actual, expected, what);
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: got ${actual}, want ${expected}`);
}

/** Compares a float result vector with {labels: value} (order-insensitive). */
function expectFloats(v: Vector, want: Record<string, number>, what = ''): void {
  const got = new Map(v.map((s) => [key(s.metric), s]));
  assert.deepEqual([...got.keys()].sort(), Object.keys(want).sort(), `${what}: series`);
  for (const [k, f] of Object.entries(want)) {
    const s = got.get(k) as Sample;
    assert.equal(s.h, null, `${what} ${k}: histogram result`);
    close(s.f, f, `${what} ${k}`);
  }
}

function onlyHistogram(v: Vector): FloatHistogram {
  assert.equal(v.length, 1);
  const h = (v[0] as Sample).h;
  assert.ok(h !== null, 'expected a histogram result');
  return h;
}

function sel(name: string, matchers: Array<[LabelMatcher['type'], string, string]>, pos = P0): Expr {
  const ms: LabelMatcher[] = matchers.map(([type, n, value]) => ({ type, name: n, value }));
  if (name !== '') ms.unshift({ type: '=', name: '__name__', value: name });
  return { type: 'VectorSelector', name, matchers: ms, offset: 0, at: null, pos };
}

function msel(vs: Expr, rangeSec: number, pos = P0): Expr {
  if (vs.type !== 'VectorSelector') throw new Error('not a selector');
  return { type: 'MatrixSelector', vectorSelector: vs, range: rangeSec * 1000, pos };
}

const num = (val: number, pos = P0): Expr => ({ type: 'NumberLiteral', val, pos });

// ---- the map -----------------------------------------------------------------------------------

test('FUNCTIONS has every documented function', () => {
  const documented = `abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
    clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv
    double_exponential_smoothing exp first_over_time floor histogram_avg histogram_count histogram_fraction
    histogram_quantile histogram_quantiles histogram_stddev histogram_stdvar histogram_sum hour idelta increase irate
    label_join label_replace last_over_time ln log10 log2 mad_over_time max_of max_over_time min_of min_over_time minute
    month pi predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh sort
    sort_by_label sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time
    timestamp ts_of_first_over_time ts_of_last_over_time ts_of_max_over_time ts_of_min_over_time vector year`
    .split(/\s+/)
    .filter((s) => s !== '');
  const missing = documented.filter((n) => !FUNCTIONS.has(n));
  assert.deepEqual(missing, []);
});

// ---- rate, increase, delta, irate, idelta --------------------------------------------------------

describe('rate/increase/delta', () => {
  // functions.test: http_requests_total{path=...} every 5m.
  const foo = load({ __name__: 'http_requests_total', path: '/foo' }, 300, [0, 10, 10]);
  const bar = load({ __name__: 'http_requests_total', path: '/bar' }, 300, [0, 10, 5], [0, 10, 5]);
  const dings = load({ __name__: 'http_requests_total', path: '/dings' }, 300, [10, 10, 10]);
  const bumms = load({ __name__: 'http_requests_total', path: '/bumms' }, 300, [1, 10, 10]);
  const all = [foo, bar, dings, bumms];
  const cases: Array<{ name: string; fn: string; range: number; at: number; want: Record<string, number> }> = [
    {
      // window (0, 50m] (left-open): the sample at 0 is out; the start is extrapolated 300s
      // (within 1.1 intervals; the zero point is no nearer): foo 90 * 3000/2700; bar 10..50,
      // 0..40: 30 + 50 (reset) = 80, * 3000/2700.
      name: 'increase, window starts at a sample',
      fn: 'increase',
      range: 3000,
      at: 3000,
      want: { '{path="/foo"}': 100, '{path="/bar"}': (80 * 3000) / 2700, '{path="/dings"}': 100, '{path="/bumms"}': 100 },
    },
    {
      // window (-50m, 50m]: all samples; start extrapolated by half an interval (150s), or to
      // the zero point when nearer: dings 100*3150/3000 = 105, bumms 100*3030/3000 = 101.
      name: 'increase, extrapolation limited by the zero point',
      fn: 'increase',
      range: 6000,
      at: 3000,
      want: { '{path="/foo"}': 100, '{path="/bar"}': 90, '{path="/dings"}': 105, '{path="/bumms"}': 101 },
    },
    {
      name: 'rate = increase / range',
      fn: 'rate',
      range: 6000,
      at: 3000,
      want: { '{path="/foo"}': 100 / 6000, '{path="/bar"}': 90 / 6000, '{path="/dings"}': 105 / 6000, '{path="/bumms"}': 101 / 6000 },
    },
    {
      // window (35m, 55m]: foo, dings, bumms have 40m..50m (+20 over 600s), bar 40m..55m (+30
      // over 900s); the start (300s away) and foo's end (300s away) are within 1.1 intervals:
      // extrapolated all the way, 20 * 1200/600 = 30 * 1200/900 = 40.
      name: 'increase, both ends extrapolated',
      fn: 'increase',
      range: 1200,
      at: 3300,
      want: {
        '{path="/foo"}': (20 * 1200) / 600,
        '{path="/bar"}': (20 * 1200) / 600,
        '{path="/dings"}': (20 * 1200) / 600,
        '{path="/bumms"}': (20 * 1200) / 600,
      },
    },
    {
      // delta does not care about resets. (20m, 50m]: foo 50..100 (+50 over 1500s); bar 25m=50,
      // 30m=0, ..., 50m=40 (-10); the start is extrapolated 300s: x * 1800/1500.
      name: 'delta ignores counter resets',
      fn: 'delta',
      range: 1800,
      at: 3000,
      want: { '{path="/foo"}': 60, '{path="/bar"}': -12, '{path="/dings"}': 60, '{path="/bumms"}': 60 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ctx = ctxAt(c.at);
      const v = callV(c.fn, [mat(c.range, c.at, ...all)], ctx);
      // Outputs keep the name until the engine drops it.
      for (const s of v) assert.equal(s.dropName, true);
      expectFloats(
        v.map((s) => ({ ...s, metric: s.metric.filter((_, i, a) => a[i - (i % 2)] !== '__name__') })),
        c.want,
        c.name,
      );
      assert.equal(ctx.notes.length, 0, 'no annotations for _total counters');
    });
  }

  test('counter resets add the value before the reset', () => {
    // 5 10 2 4 1 3 every 10s; the window (0, 60s] holds 10 2 4 1 3: 3-10 + 10 + 4 = 7 over 40s,
    // start +10s (within 11s; the zero point is 40 * 10/7 s away), end +10s: 7 * 60/40.
    const s = values({ __name__: 'x_total' }, 10, [5, 10, 2, 4, 1, 3]);
    const ctx = ctxAt(60);
    const v = callV('increase', [mat(60, 60, s)], ctx);
    expectFloats(v, { '{__name__="x_total"}': (7 * 60) / 40 });
  });

  test('fewer than two samples: no result', () => {
    const ctx = ctxAt(100);
    assert.deepEqual(callV('rate', [mat(60, 100, values({ a: '1' }, 100, [null, 5]))], ctx), []);
  });

  test('offset and @ move the window end (rangeEnd or the argument expression)', () => {
    // samples 0..100 every 10s (value = t), rate over [30s] ending at 50s.
    const s = ser({ a: '1' }, Array.from({ length: 11 }, (_, i): [number, number] => [i * 10, i * 10]));
    const m = mat(30, 50, s);
    // the engine's rangeEnd
    const v1 = callV('rate', [{ ...m, rangeEnd: 50_000 } as FnArg], ctxAt(100));
    close((v1[0] as Sample).f, 1, 'rangeEnd');
    // derived from `x[30s] offset 50s` at t=100s
    const vs = sel('', [['=', 'a', '1']]);
    const withOffset: Expr = { type: 'MatrixSelector', vectorSelector: { ...(vs as Extract<Expr, { type: 'VectorSelector' }>), offset: 50_000 }, range: 30_000, pos: P0 };
    const v2 = callV('rate', [m], ctxAt(100, [withOffset]));
    close((v2[0] as Sample).f, 1, 'offset');
    // `x[30s] @ 60 offset 10s`
    const withAt: Expr = { ...withOffset, vectorSelector: { ...(vs as Extract<Expr, { type: 'VectorSelector' }>), offset: 10_000, at: { kind: 'time', ms: 60_000 } } } as Expr;
    close((callV('rate', [m], ctxAt(100, [withAt]))[0] as Sample).f, 1, '@');
    // without either, the window would end at 100s: 20s of extrapolation missing at the end
    const v3 = callV('rate', [m], ctxAt(100));
    // (the window (70s, 100s] does not fit the points: start -40s, end +5s: 20 * -15/20 / 30s)
    close((v3[0] as Sample).f, -0.5, 'no offset');
  });

  test('rate of a metric not named like a counter: info annotation', () => {
    const pos = { start: 5, end: 12 };
    const ctx = ctxAt(60, [msel(sel('foo', []), 60, pos)]);
    callV('rate', [mat(60, 60, values({ __name__: 'foo' }, 10, [1, 2, 3, 4]))], ctx);
    assert.deepEqual(ctx.notes, [
      { kind: 'info', message: 'metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "foo"', pos },
    ]);
    for (const name of ['foo_total', 'foo_sum', 'foo_count', 'foo_bucket']) {
      const c = ctxAt(60, [msel(sel(name, []), 60)]);
      callV('increase', [mat(60, 60, values({ __name__: name }, 10, [1, 2, 3]))], c);
      assert.equal(c.notes.length, 0, name);
    }
    const d = ctxAt(60);
    callV('delta', [mat(60, 60, values({ __name__: 'foo' }, 10, [1, 2, 3]))], d);
    assert.equal(d.notes.length, 0, 'delta is for gauges');
  });

  test('a mix of floats and histograms: no result, warning', () => {
    const ctx = ctxAt(60, [msel(sel('m', []), 60)]);
    const s = ser({ __name__: 'm' }, [
      [10, 1],
      [20, { schema: 0, count: 1, sum: 1, buckets: [1] }],
      [30, 2],
    ]);
    assert.deepEqual(callV('rate', [mat(60, 60, s)], ctx), []);
    assert.deepEqual(
      ctx.notes.map((n) => [n.kind, n.message]),
      [['warning', 'encountered a mix of histograms and floats for metric name "m"']],
    );
  });

  test('native histogram increase, extrapolation stops at the zero point of the count', () => {
    // native_histograms.test: metric{type="histogram"} at 55m over [90m].
    const points: Array<[number, HistogramNotation]> = [[0, { schema: 0, count: 15, sum: 25, buckets: [5, 10] }]];
    for (let i = 1; i <= 55; i++) points.push([i * 60, { schema: 0, count: 2490, sum: 75, buckets: [15, 2475] }]);
    const ctx = ctxAt(3300, [msel(sel('metric', []), 5400)]);
    const h = onlyHistogram(callV('increase', [mat(5400, 3300, ser({ __name__: 'metric' }, points))], ctx));
    close(h.count, 2490, 'count');
    close(h.sum, 50.303030303030305, 'sum');
    close(h.positiveBuckets[0] as number, 10.06060606060606, 'bucket 0');
    close(h.positiveBuckets[1] as number, 2479.939393939394, 'bucket 1');
    assert.equal(h.counterResetHint, 3, 'gauge');
    assert.equal(ctx.notes.length, 0);
    // the float counter with the same values
    const f = ser({ type: 'counter' }, [[0, 15], ...Array.from({ length: 55 }, (_, i): [number, number] => [(i + 1) * 60, 2490])]);
    expectFloats(callV('increase', [mat(5400, 3300, f)], ctxAt(3300)), { '{type="counter"}': 2490 });
  });

  test('native histogram rate over a counter reset', () => {
    const s = ser({ __name__: 'h' }, [
      [10, { schema: 0, count: 4, sum: 8, buckets: [2, 2] }],
      [20, { schema: 0, count: 6, sum: 12, buckets: [3, 3] }],
      [30, { schema: 0, count: 1, sum: 1, buckets: [1, 0] }],
      [40, { schema: 0, count: 3, sum: 5, buckets: [2, 1] }],
    ]);
    // count: 3 - 4 + 6 = 5 over 30s; start +10s (within 11s; zero point 30 * 4/5 = 24s away),
    // end +0s: 5 * 40/30.
    const h = onlyHistogram(callV('increase', [mat(40, 40, s)], ctxAt(40)));
    close(h.count, (5 * 40) / 30, 'count');
    close(h.sum, (9 * 40) / 30, 'sum');
  });

  test('native histogram rate of a gauge histogram: warning', () => {
    const g = { schema: 0, count: 1, sum: 1, buckets: [1], counterResetHint: 'gauge' as const };
    const ctx = ctxAt(30, [msel(sel('g', []), 30)]);
    callV('rate', [mat(30, 30, ser({ __name__: 'g' }, [[10, g], [20, { ...g, count: 2, buckets: [2] }]]))], ctx);
    assert.deepEqual(
      ctx.notes.map((n) => n.message),
      ['this native histogram metric is not a counter: "g"'],
    );
  });
});

describe('native histogram counters and gauges', () => {
  const h = (count: number, extra: Partial<HistogramNotation> = {}): HistogramNotation => ({ schema: 0, count, sum: count, buckets: [count], ...extra });

  test('delta of counter histograms: result, and a warning', () => {
    const ctx = ctxAt(30, [msel(sel('h', []), 30)]);
    const r = onlyHistogram(callV('delta', [mat(30, 30, ser({ __name__: 'h' }, [[10, h(1)], [20, h(3)], [30, h(4)]]))], ctx));
    close(r.count, (3 * 30) / 20, 'count'); // 3 over 20s, start extrapolated 10s (within 11s)
    assert.deepEqual(
      ctx.notes.map((n) => n.message),
      ['this native histogram metric is not a gauge: "h"'],
    );
    const g = ctxAt(30, [msel(sel('h', []), 30)]);
    callV('delta', [mat(30, 30, ser({ __name__: 'h' }, [[10, h(1, { counterResetHint: 'gauge' })], [20, h(3, { counterResetHint: 'gauge' })]]))], g);
    assert.equal(g.notes.length, 0, 'gauge histograms are fine');
  });

  test('rate over exponential and custom buckets: no result, warning', () => {
    const ctx = ctxAt(30, [msel(sel('h', []), 30)]);
    const custom: HistogramNotation = { schema: -53, customValues: [1, 2], count: 5, sum: 5, buckets: [5] };
    assert.deepEqual(callV('rate', [mat(30, 30, ser({ __name__: 'h' }, [[10, h(1)], [20, h(2)], [30, custom]]))], ctx), []);
    assert.deepEqual(
      ctx.notes.map((n) => [n.kind, n.message]),
      [['warning', 'vector contains a mix of histograms with exponential and custom buckets schemas for metric name "h"']],
    );
  });

  test('changes: a counter histogram followed by a gauge histogram with the same values is no change', () => {
    const s = ser({}, [[10, h(2)], [20, h(2, { counterResetHint: 'gauge' })], [30, h(3)]]);
    expectFloats(callV('changes', [mat(30, 30, s)], ctxAt(30)), { '{}': 1 });
  });

  test('idelta of gauge histograms', () => {
    const s = ser({}, [[10, h(5, { counterResetHint: 'gauge' })], [20, h(2, { counterResetHint: 'gauge' })]]);
    const ctx = ctxAt(30);
    const r = onlyHistogram(callV('idelta', [mat(30, 30, s)], ctx));
    assert.equal(r.count, -3);
    assert.equal(r.counterResetHint, 3);
    assert.equal(ctx.notes.length, 0);
  });
});

describe('irate/idelta', () => {
  const foo = load({ path: '/foo' }, 300, [0, 10, 10]);
  const bar = load({ path: '/bar' }, 300, [0, 10, 5], [0, 10, 5]);
  test('irate: last two samples per second; after a reset the last value', () => {
    expectFloats(callV('irate', [mat(3000, 3000, foo, bar)], ctxAt(3000)), { '{path="/foo"}': 10 / 300, '{path="/bar"}': 10 / 300 });
    expectFloats(callV('irate', [mat(3000, 1800, foo, bar)], ctxAt(1800)), { '{path="/foo"}': 10 / 300, '{path="/bar"}': 0 });
  });
  test('idelta: difference of the last two samples, resets included', () => {
    expectFloats(callV('idelta', [mat(3000, 1800, foo, bar)], ctxAt(1800)), { '{path="/foo"}': 10, '{path="/bar"}': -50 });
  });
  test('one sample or equal timestamps: none', () => {
    assert.deepEqual(callV('irate', [mat(300, 3000, foo)], ctxAt(3000)), []);
  });
  test('irate of native histograms', () => {
    const s = ser({}, [
      [10, { schema: 0, count: 4, sum: 8, buckets: [2, 2] }],
      [20, { schema: 0, count: 6, sum: 12, buckets: [3, 3] }],
    ]);
    const h = onlyHistogram(callV('irate', [mat(60, 20, s)], ctxAt(20)));
    close(h.count, 0.2, 'count');
    close(h.sum, 0.4, 'sum');
  });
});

// ---- histogram_quantile and friends ---------------------------------------------------------------

describe('histogram_quantile, classic buckets', () => {
  // histograms.test at 50m: the counts are 10x the per-step increments.
  const buckets: Sample[] = [
    fs({ __name__: 'testhistogram_bucket', le: '0.1', start: 'positive' }, 50),
    fs({ __name__: 'testhistogram_bucket', le: '.2', start: 'positive' }, 70),
    fs({ __name__: 'testhistogram_bucket', le: '1e0', start: 'positive' }, 110),
    fs({ __name__: 'testhistogram_bucket', le: '+Inf', start: 'positive' }, 120),
    fs({ __name__: 'testhistogram_bucket', le: '-.2', start: 'negative' }, 10),
    fs({ __name__: 'testhistogram_bucket', le: '-0.1', start: 'negative' }, 20),
    fs({ __name__: 'testhistogram_bucket', le: '0.3', start: 'negative' }, 20),
    fs({ __name__: 'testhistogram_bucket', le: '+Inf', start: 'negative' }, 30),
  ];
  const cases: Array<[number, number, number]> = [
    // q, positive, negative
    [-0.1, -Infinity, -Infinity],
    [1.01, Infinity, Infinity],
    [NaN, NaN, NaN],
    [0, 0, -0.2], // lowest bucket: from 0 if its bound is > 0, else the bound itself
    [1, 1, 0.3], // highest bucket: the second-highest bound
    [0.2, 0.048, -0.2],
    [0.5, 0.15, -0.15],
    [0.8, 0.72, 0.3],
  ];
  for (const [q, pos, neg] of cases) {
    test(`q=${q}`, () => {
      const ctx = ctxAt(3000, [num(q, { start: 19, end: 22 }), sel('testhistogram_bucket', [])]);
      const v = callV('histogram_quantile', [sc(q), vec(...buckets)], ctx);
      for (const s of v) assert.equal(s.dropName, true);
      expectFloats(v, {
        '{__name__="testhistogram_bucket",start="positive"}': pos,
        '{__name__="testhistogram_bucket",start="negative"}': neg,
      });
      const invalid = Number.isNaN(q) || q < 0 || q > 1;
      assert.deepEqual(
        ctx.notes,
        invalid ? [{ kind: 'warning', message: `quantile value should be between 0 and 1, got ${formatFloatG(q)}`, pos: { start: 19, end: 22 } }] : [],
      );
    });
  }

  test('non-monotonic buckets are fixed, with an info', () => {
    // native_histograms.test nonmonotonic_bucket at 1m.
    const counts: Array<[string, number]> = [
      ['0.1', 2],
      ['1', 1],
      ['10', 5],
      ['100', 4],
      ['1000', 9],
      ['+Inf', 8],
    ];
    const pos = { start: 24, end: 43 };
    const ctx = ctxAt(60, [num(0.5), sel('nonmonotonic_bucket', [], pos)]);
    const v = callV('histogram_quantile', [sc(0.5), vec(...counts.map(([le, c]) => fs({ __name__: 'nonmonotonic_bucket', le }, c)))], ctx);
    expectFloats(v, { '{__name__="nonmonotonic_bucket"}': 8.5 });
    assert.equal(ctx.notes.length, 1);
    const n = ctx.notes[0] as Note;
    assert.equal(n.kind, 'info');
    assert.match(n.message, /^input to histogram_quantile needed to be fixed for monotonicity .* for metric name "nonmonotonic_bucket"$/);
    assert.deepEqual(n.pos, pos);
  });

  test('tiny floating point differences are ignored silently', () => {
    const ctx = ctxAt(0, [num(0.5), sel('x', [])]);
    const v = callV(
      'histogram_quantile',
      [sc(0.5), vec(fs({ le: '1' }, 1e13), fs({ le: '2' }, 1e13 * (1 - 1e-14)), fs({ le: '4' }, 2e13), fs({ le: '+Inf' }, 2e13))],
      ctx,
    );
    expectFloats(v, { '{}': 1 });
    assert.equal(ctx.notes.length, 0, 'no forced-monotonicity info');
  });

  test('malformed or missing le: warning; mixed classic and native: warning, no result', () => {
    const ctx = ctxAt(60, [num(0.5), sel('x', [])]);
    const v = callV(
      'histogram_quantile',
      [
        sc(0.5),
        vec(
          fs({ __name__: 'myHistogram1', abe: '0.1' }, 2),
          fs({ __name__: 'myHistogram2', le: 'Hello World' }, 2),
          fs({ __name__: 'mixedHistogram', le: '0.1' }, 2),
          fs({ __name__: 'mixedHistogram', le: '1' }, 3),
          hs({ __name__: 'mixedHistogram' }, { schema: 0, count: 10, sum: 50, buckets: [1, 2, 3] }),
        ),
      ],
      ctx,
    );
    assert.deepEqual(v, []);
    assert.deepEqual(
      ctx.notes.map((n) => [n.kind, n.message]),
      [
        ['warning', 'bucket label "le" is missing or has a malformed value of "" for metric name "myHistogram1"'],
        ['warning', 'bucket label "le" is missing or has a malformed value of "Hello World" for metric name "myHistogram2"'],
        ['warning', 'vector contains a mix of classic and native histograms for metric name "mixedHistogram"'],
      ],
    );
  });

  test('edge cases of bucketQuantile', () => {
    const b = (...xs: Array<[number, number]>) => xs.map(([upperBound, count]) => ({ upperBound, count }));
    assert.ok(Number.isNaN(bucketQuantile(0.5, b([Infinity, 10])).value), 'one bucket');
    assert.ok(Number.isNaN(bucketQuantile(0.5, b([1, 5], [2, 10])).value), 'no +Inf bucket');
    assert.ok(Number.isNaN(bucketQuantile(0.5, b([1, 0], [Infinity, 0])).value), 'no observations');
    assert.equal(bucketQuantile(0.5, b([Infinity, 10], [1, 4], [2, 10])).value, 1 + 1 / 6, 'unsorted input');
    assert.equal(bucketQuantile(0.5, b([1, 2], [1, 2], [2, 8], [Infinity, 8])).value, 1 + 0, 'duplicate bounds are summed');
    assert.equal(bucketQuantile(0.99, b([1, 5], [2, 10], [Infinity, 100])).value, 2, 'in the +Inf bucket');
  });

  test('histogram_fraction over classic buckets', () => {
    const bs = buckets.filter((s) => s.metric.includes('positive'));
    const ctx = ctxAt(0, [num(0), num(0.2), sel('x', [])]);
    const key0 = '{__name__="testhistogram_bucket",start="positive"}';
    expectFloats(callV('histogram_fraction', [sc(0), sc(0.2), vec(...bs)], ctx), { [key0]: 70 / 120 });
    expectFloats(callV('histogram_fraction', [sc(0.05), sc(0.15), vec(...bs)], ctx), { [key0]: (25 + 10) / 120 });
    expectFloats(callV('histogram_fraction', [sc(-Infinity), sc(Infinity), vec(...bs)], ctx), { [key0]: 1 });
    expectFloats(callV('histogram_fraction', [sc(0.5), sc(0.2), vec(...bs)], ctx), { [key0]: 0 });
    const b = (...xs: Array<[number, number]>) => xs.map(([upperBound, count]) => ({ upperBound, count }));
    // a lowest bucket with a bound <= 0 starts at -Inf: no interpolation into it
    assert.equal(bucketFraction(-Infinity, -1, b([-1, 4], [1, 8], [Infinity, 8])), 0.5);
    assert.ok(Number.isNaN(bucketFraction(0, 1, b([1, 4], [2, 8]))), 'no +Inf bucket');
  });
});

describe('native histograms', () => {
  const nan20 = hs({ __name__: 'histogram_nan', case: '20% NaNs' }, { schema: 0, count: 15, sum: NaN, buckets: [12] });
  const nan100 = hs({ __name__: 'histogram_nan', case: '100% NaNs' }, { schema: 0, count: 3, sum: NaN });

  test('histogram_quantile with NaN observations: NaN result or skewed result, with infos', () => {
    const pos = { start: 22, end: 35 };
    const cases: Array<[number, Sample, number, string]> = [
      [1, nan100, NaN, 'input to histogram_quantile has NaN observations, result is NaN for metric name "histogram_nan"'],
      [1, nan20, NaN, 'input to histogram_quantile has NaN observations, result is NaN for metric name "histogram_nan"'],
      [0.8, nan20, 1, 'input to histogram_quantile has NaN observations, result is skewed higher for metric name "histogram_nan"'],
      [0.4, nan20, 0.7071067811865475, 'input to histogram_quantile has NaN observations, result is skewed higher for metric name "histogram_nan"'],
    ];
    for (const [q, s, want, msg] of cases) {
      const ctx = ctxAt(60, [num(q), sel('histogram_nan', [], pos)]);
      const v = callV('histogram_quantile', [sc(q), vec(s)], ctx);
      close((v[0] as Sample).f, want, `q=${q}`);
      assert.equal(v[0]?.dropName, true);
      assert.deepEqual(ctx.notes, [{ kind: 'info', message: msg, pos }], `q=${q}`);
    }
  });

  test('histogram_fraction with NaN observations', () => {
    const ctx = ctxAt(60, [num(-Infinity), num(Infinity), sel('histogram_nan', [])]);
    const v = callV('histogram_fraction', [sc(-Infinity), sc(Infinity), vec(nan100, nan20)], ctx);
    expectFloats(v, { '{__name__="histogram_nan",case="100% NaNs"}': 0, '{__name__="histogram_nan",case="20% NaNs"}': 0.8 });
    assert.deepEqual(
      [...new Set(ctx.notes.map((n) => n.message))],
      ['input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name "histogram_nan"'],
    );
  });

  test('histogram_quantiles labels each quantile', () => {
    const ctx = ctxAt(60, [sel('h', []), { type: 'StringLiteral', val: 'q', pos: P0 }, num(0.5), num(1)]);
    const h = hs({ __name__: 'h' }, { schema: 0, count: 4, sum: 4, buckets: [2, 2] });
    const c1 = fs({ __name__: 'c_bucket', le: '1' }, 5);
    const c2 = fs({ __name__: 'c_bucket', le: '+Inf' }, 10);
    const v = callV('histogram_quantiles', [vec(h, c1, c2), str('q'), sc(0.5), sc(1)], ctx);
    expectFloats(v, {
      '{__name__="h",q="0.5"}': 1,
      '{__name__="h",q="1.0"}': 2,
      '{__name__="c_bucket",q="0.5"}': 1,
      '{__name__="c_bucket",q="1.0"}': 1,
    });
  });

  test('histogram_count, _sum, _avg, _stddev, _stdvar skip floats', () => {
    const h = hs({ __name__: 'h', a: '1' }, { schema: 0, count: 4, sum: 10, buckets: [1, 3] });
    const f = fs({ __name__: 'f' }, 3);
    const ctx = ctxAt(0);
    expectFloats(callV('histogram_count', [vec(h, f)], ctx), { '{__name__="h",a="1"}': 4 });
    expectFloats(callV('histogram_sum', [vec(h, f)], ctx), { '{__name__="h",a="1"}': 10 });
    expectFloats(callV('histogram_avg', [vec(h, f)], ctx), { '{__name__="h",a="1"}': 2.5 });
    // buckets (0.5,1] and (1,2]: geometric means sqrt(0.5) and sqrt(2), mean 2.5
    const m1 = Math.SQRT1_2 - 2.5;
    const m2 = Math.SQRT2 - 2.5;
    const variance = (1 * m1 * m1 + 3 * m2 * m2) / 4;
    expectFloats(callV('histogram_stdvar', [vec(h, f)], ctx), { '{__name__="h",a="1"}': variance });
    expectFloats(callV('histogram_stddev', [vec(h, f)], ctx), { '{__name__="h",a="1"}': Math.sqrt(variance) });
    for (const s of callV('histogram_count', [vec(h)], ctx)) assert.equal(s.dropName, true);
  });

  test('sum_over_time and avg_over_time of histograms', () => {
    const s = ser({ __name__: 'h' }, [
      [10, { schema: 0, count: 2, sum: 2, buckets: [1, 1] }],
      [20, { schema: 0, count: 4, sum: 6, buckets: [1, 3] }],
    ]);
    const sum = onlyHistogram(callV('sum_over_time', [mat(60, 30, s)], ctxAt(30)));
    assert.equal(sum.count, 6);
    assert.deepEqual(sum.positiveBuckets, [2, 4]);
    const avg = onlyHistogram(callV('avg_over_time', [mat(60, 30, s)], ctxAt(30)));
    assert.equal(avg.count, 3);
    assert.equal(avg.sum, 4);
  });

  test('conflicting counter reset hints in sum_over_time: warning', () => {
    const s = ser({ __name__: 'h' }, [
      [10, { schema: 0, count: 2, sum: 2, buckets: [2], counterResetHint: 'reset' }],
      [20, { schema: 0, count: 3, sum: 3, buckets: [3], counterResetHint: 'not_reset' }],
    ]);
    const ctx = ctxAt(30, [msel(sel('h', []), 60)]);
    callV('sum_over_time', [mat(60, 30, s)], ctx);
    assert.deepEqual(
      ctx.notes.map((n) => n.message),
      ['conflicting counter resets during histogram aggregation'],
    );
  });

  test('resets and changes with histograms', () => {
    const a = { schema: 0, count: 4, sum: 8, buckets: [2, 2] };
    const s = ser({}, [
      [10, a],
      [20, a],
      [30, { schema: 0, count: 5, sum: 9, buckets: [2, 3] }],
      [40, { schema: 0, count: 1, sum: 1, buckets: [1] }],
      [50, 3],
      [60, 4],
    ]);
    expectFloats(callV('resets', [mat(60, 60, s)], ctxAt(60)), { '{}': 2 }); // 30->40 and the switch to floats
    expectFloats(callV('changes', [mat(60, 60, s)], ctxAt(60)), { '{}': 4 });
  });
});

// ---- _over_time -------------------------------------------------------------------------------

describe('_over_time', () => {
  const data = [
    values({ type: 'numbers' }, 10, [2, 0, 3]),
    values({ type: 'some_nan' }, 10, [2, 0, NaN]),
    values({ type: 'some_nan2' }, 10, [2, NaN, 1]),
    values({ type: 'some_nan3' }, 10, [NaN, 0, 1]),
    values({ type: 'only_nan' }, 10, [NaN, NaN, NaN]),
  ];
  const cases: Array<[string, Record<string, number>]> = [
    ['min_over_time', { numbers: 0, some_nan: 0, some_nan2: 1, some_nan3: 0, only_nan: NaN }],
    ['max_over_time', { numbers: 3, some_nan: 2, some_nan2: 2, some_nan3: 1, only_nan: NaN }],
    ['sum_over_time', { numbers: 5, some_nan: NaN, some_nan2: NaN, some_nan3: NaN, only_nan: NaN }],
    ['count_over_time', { numbers: 3, some_nan: 3, some_nan2: 3, some_nan3: 3, only_nan: 3 }],
    ['last_over_time', { numbers: 3, some_nan: NaN, some_nan2: 1, some_nan3: 1, only_nan: NaN }],
    ['first_over_time', { numbers: 2, some_nan: 2, some_nan2: 2, some_nan3: NaN, only_nan: NaN }],
    ['present_over_time', { numbers: 1, some_nan: 1, some_nan2: 1, some_nan3: 1, only_nan: 1 }],
    ['ts_of_min_over_time', { numbers: 10, some_nan: 10, some_nan2: 20, some_nan3: 10, only_nan: 20 }],
    ['ts_of_max_over_time', { numbers: 20, some_nan: 0, some_nan2: 0, some_nan3: 20, only_nan: 20 }],
    ['ts_of_last_over_time', { numbers: 20, some_nan: 20, some_nan2: 20, some_nan3: 20, only_nan: 20 }],
    ['ts_of_first_over_time', { numbers: 0, some_nan: 0, some_nan2: 0, some_nan3: 0, only_nan: 0 }],
  ];
  for (const [fn, want] of cases) {
    test(`${fn} with NaN`, () => {
      const v = callV(fn, [mat(120, 60, ...data)], ctxAt(60));
      expectFloats(v, Object.fromEntries(Object.entries(want).map(([k, f]) => [`{type="${k}"}`, f])), fn);
      const keep = fn === 'last_over_time' || fn === 'first_over_time';
      for (const s of v) assert.equal(s.dropName === true, !keep, `${fn} dropName`);
    });
  }

  test('avg_over_time with Inf and overflow', () => {
    const big = 9.988465674311579e307;
    const cases: Array<[Array<number>, number]> = [
      [[1, 2, 3, 4, 5], 3],
      [[1, 2, 3, 4, Infinity], Infinity],
      [[1, 2, 3, 4, -Infinity], -Infinity],
      [[1, 2, 3, Infinity, -Infinity], NaN],
      [[Infinity, 0, Infinity], Infinity],
      [[Infinity, 0, Infinity, -Infinity], NaN],
      [[-Infinity, 0, -Infinity], -Infinity],
      [[1, 2, -Infinity, -Infinity, Infinity], NaN],
      [[big, big], big],
      [[-big, -big, -big], -big],
      [[-big, big], 0],
      // Kahan summation keeps the small values
      [[1e100, 1, -1e100, 1], 0.5],
    ];
    for (const [vs, want] of cases) {
      const v = callV('avg_over_time', [mat(1000, 100, values({}, 10, vs))], ctxAt(100));
      close((v[0] as Sample).f, want, `avg_over_time(${vs.join(' ')})`);
    }
    const s = callV('sum_over_time', [mat(1000, 100, values({}, 10, [1e100, 1, -1e100, 1]))], ctxAt(100));
    close((s[0] as Sample).f, 2, 'kahan sum');
  });

  test('stddev, stdvar, mad', () => {
    const s = values({}, 10, [0, 8, 8, 2, 3]);
    expectFloats(callV('stdvar_over_time', [mat(120, 60, s)], ctxAt(60)), { '{}': 10.56 });
    expectFloats(callV('stddev_over_time', [mat(120, 60, s)], ctxAt(60)), { '{}': Math.sqrt(10.56) });
    // median 3; |x-3| = 3 5 5 1 0 -> median 3
    expectFloats(callV('mad_over_time', [mat(120, 60, s)], ctxAt(60)), { '{}': 3 });
  });

  test('quantile_over_time interpolates between closest ranks', () => {
    const data2 = [values({ test: 'two' }, 10, [0, 1]), values({ test: 'three' }, 10, [0, 1, 2]), values({ test: 'uneven' }, 10, [0, 1, 4])];
    const cases: Array<[number, number, number, number]> = [
      [0, 0, 0, 0],
      [0.5, 0.5, 1, 1],
      [0.75, 0.75, 1.5, 2.5],
      [0.8, 0.8, 1.6, 2.8],
      [1, 1, 2, 4],
      [-1, -Infinity, -Infinity, -Infinity],
      [2, Infinity, Infinity, Infinity],
      [NaN, NaN, NaN, NaN],
    ];
    for (const [q, two, three, uneven] of cases) {
      const ctx = ctxAt(60, [num(q), msel(sel('data', []), 120)]);
      const v = callV('quantile_over_time', [sc(q), mat(120, 60, ...data2)], ctx);
      expectFloats(v, { '{test="two"}': two, '{test="three"}': three, '{test="uneven"}': uneven }, `q=${q}`);
      const invalid = !(q >= 0 && q <= 1);
      assert.equal(ctx.notes.length > 0, invalid, `q=${q} warning`);
    }
  });

  test('histograms next to floats: ignored with an info, or the whole series dropped with a warning', () => {
    const s = ser({ __name__: 'm' }, [
      [10, 1],
      [20, { schema: 0, count: 1, sum: 1, buckets: [1] }],
      [30, 5],
    ]);
    const c1 = ctxAt(60, [msel(sel('m', []), 60)]);
    expectFloats(callV('max_over_time', [mat(60, 60, s)], c1), { '{__name__="m"}': 5 });
    assert.deepEqual(
      c1.notes.map((n) => [n.kind, n.message]),
      [['info', 'ignored histograms in a range containing both floats and histograms for metric name "m"']],
    );
    const c2 = ctxAt(60, [msel(sel('m', []), 60)]);
    assert.deepEqual(callV('avg_over_time', [mat(60, 60, s)], c2), []);
    assert.deepEqual(
      c2.notes.map((n) => [n.kind, n.message]),
      [['warning', 'encountered a mix of histograms and floats for metric name "m"']],
    );
    // only histograms: min_over_time has nothing to say, silently
    const c3 = ctxAt(60);
    assert.deepEqual(callV('min_over_time', [mat(60, 60, ser({}, [[10, { count: 1 }]]))], c3), []);
    assert.equal(c3.notes.length, 0);
    // count, last and first take histograms as they are
    expectFloats(callV('count_over_time', [mat(60, 60, s)], ctxAt(60)), { '{__name__="m"}': 3 });
    assert.equal(callV('last_over_time', [mat(60, 60, s)], ctxAt(60))[0]?.f, 5);
    assert.equal(callV('last_over_time', [mat(60, 25, s)], ctxAt(25))[0]?.h?.count, 1);
  });

  test('last_over_time keeps a pending name drop of its input series', () => {
    const v = callV('last_over_time', [mat(60, 60, ser({ __name__: 'x' }, [[10, 1]], true))], ctxAt(60));
    assert.equal(v[0]?.dropName, true);
  });

  test('series without points in the window give no output', () => {
    const m: FnArg = { kind: 'matrix', m: [{ metric: L({ a: 'b' }), floats: [], histograms: [] }], rangeMs: 60_000 };
    for (const fn of ['count_over_time', 'present_over_time', 'sum_over_time', 'last_over_time', 'changes', 'resets']) {
      assert.deepEqual(callV(fn, [m], ctxAt(60)), [], fn);
    }
  });
});

// ---- deriv, predict_linear, double_exponential_smoothing, resets, changes ------------------------

describe('regression and counting', () => {
  // functions.test: testcounter_reset_middle_total 0+10x4 0+10x5, every 5m.
  const middle = load({}, 300, [0, 10, 4], [0, 10, 5]);
  const canary = load({ group: 'canary' }, 300, [0, 80, 10]);

  test('deriv', () => {
    expectFloats(callV('deriv', [mat(3000, 3000, canary)], ctxAt(3000)), { '{group="canary"}': 80 / 300 });
    // X = 0..3000 step 300, Y = 0 10 20 30 40 0 10 20 30 40 50: covXY 105000 / varX 9900000
    expectFloats(callV('deriv', [mat(6000, 3000, middle)], ctxAt(3000)), { '{}': 0.010606060606060607 });
    assert.deepEqual(callV('deriv', [mat(300, 3000, middle)], ctxAt(3000)), [], 'one sample');
    expectFloats(callV('deriv', [mat(60, 60, values({}, 10, [Infinity, Infinity, Infinity]))], ctxAt(60)), { '{}': NaN });
    expectFloats(callV('deriv', [mat(60, 60, values({}, 10, [5, 5, 5]))], ctxAt(60)), { '{}': 0 });
  });

  test('predict_linear predicts from the evaluation time', () => {
    // over [55m] at 50m all 11 samples: intercept at 3000 is 38.636..., +3600s * slope
    expectFloats(callV('predict_linear', [mat(3300, 3000, middle), sc(3600)], ctxAt(3000)), { '{}': 76.81818181818181 });
    // over [50m] (the sample at 0 is out)
    expectFloats(callV('predict_linear', [mat(3000, 3000, middle), sc(3600)], ctxAt(3000)), { '{}': 70 });
  });

  test('double_exponential_smoothing', () => {
    const s = load({}, 10, [0, 10, 1000]);
    const v = callV('double_exponential_smoothing', [mat(60, 8000, s), sc(0.01), sc(0.1)], ctxAt(8000));
    expectFloats(v, { '{}': 8000 });
    for (const [sf, tf, msg] of [
      [1, 0.1, 'invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000'],
      [0.5, 0, 'invalid trend factor. Expected: 0 < tf < 1, got: 0.000000'],
    ] as const) {
      assert.throws(
        () => callV('double_exponential_smoothing', [mat(60, 8000, s), sc(sf), sc(tf)], ctxAt(8000)),
        (e: unknown) => e instanceof PromQLError && e.errorType === 'execution' && e.message === msg,
      );
    }
  });

  test('resets and changes (functions.test)', () => {
    const foo = values({ path: '/foo' }, 300, [1, 2, 3, 0, 1, 0, 0, 1, 2, 0]);
    const bar = values({ path: '/bar' }, 300, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    const biz = values({ path: '/biz' }, 300, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    // Windows are left-open: at 50m, [5m] holds nothing (the last sample is at 45m).
    const at = (fn: string, range: number) => callV(fn, [mat(range, 3000, foo, bar, biz)], ctxAt(3000));
    assert.deepEqual(at('resets', 300), []);
    expectFloats(at('resets', 1200), { '{path="/foo"}': 1, '{path="/bar"}': 0, '{path="/biz"}': 0 });
    expectFloats(at('resets', 1800), { '{path="/foo"}': 1, '{path="/bar"}': 0, '{path="/biz"}': 0 });
    expectFloats(at('resets', 3000), { '{path="/foo"}': 3, '{path="/bar"}': 1, '{path="/biz"}': 0 });
    expectFloats(at('changes', 600), { '{path="/foo"}': 0, '{path="/bar"}': 0, '{path="/biz"}': 0 });
    expectFloats(at('changes', 1200), { '{path="/foo"}': 2, '{path="/bar"}': 2, '{path="/biz"}': 0 });
    expectFloats(at('changes', 1800), { '{path="/foo"}': 3, '{path="/bar"}': 4, '{path="/biz"}': 0 });
    expectFloats(at('changes', 3000), { '{path="/foo"}': 7, '{path="/bar"}': 8, '{path="/biz"}': 1 });
    // NaN to NaN is no change
    expectFloats(callV('changes', [mat(60, 60, values({}, 10, [NaN, NaN, 1, NaN]))], ctxAt(60)), { '{}': 2 });
  });
});

// ---- instant-vector math ------------------------------------------------------------------------

describe('math', () => {
  test('simple functions drop the name and skip histograms', () => {
    const h = hs({ __name__: 'h' }, { count: 1 });
    const cases: Array<[string, number, number]> = [
      ['abs', -2.5, 2.5],
      ['ceil', 1.49, 2],
      ['ceil', -0.5, -0],
      ['floor', 1.78, 1],
      ['exp', 0, 1],
      ['sqrt', 16, 4],
      ['ln', 0, -Infinity],
      ['ln', -1, NaN],
      ['log2', 8, 3],
      ['log2', 0.125, -3],
      ['log10', 1e-3, -3],
      ['log10', 0, -Infinity],
      ['sgn', -3, -1],
      ['sgn', 0, 0],
      ['sgn', NaN, NaN],
      ['sin', Math.PI / 2, 1],
      ['cos', 0, 1],
      ['tan', 0, 0],
      ['asin', 1, Math.PI / 2],
      ['acos', 2, NaN],
      ['atan', Infinity, Math.PI / 2],
      ['sinh', 0, 0],
      ['cosh', 0, 1],
      ['tanh', Infinity, 1],
      ['asinh', 0, 0],
      ['acosh', 1, 0],
      ['atanh', 1, Infinity],
      ['deg', Math.PI, 180],
      ['rad', 180, Math.PI],
    ];
    for (const [fn, x, want] of cases) {
      const v = callV(fn, [vec(fs({ __name__: 'm', a: 'b' }, x), h)], ctxAt(10));
      assert.equal(v.length, 1, fn);
      const s = v[0] as Sample;
      close(s.f, want, `${fn}(${x})`, 1e-12);
      assert.equal(s.dropName, true, fn);
      assert.equal(s.t, 10_000);
      assert.equal(key(s.metric), '{__name__="m",a="b"}');
    }
    assert.ok(Object.is((callV('ceil', [vec(fs({}, -0.5))], ctxAt(0))[0] as Sample).f, -0));
  });

  test('round: ties up, to a multiple', () => {
    const cases: Array<[number, number | undefined, number]> = [
      [2.5, undefined, 3],
      [-2.5, undefined, -2],
      [1.234, 0.1, 1.2],
      [0.15, 0.1, 0.2],
      [17, 5, 15],
      [18, 5, 20],
      [Infinity, undefined, Infinity],
      [NaN, undefined, NaN],
    ];
    for (const [x, to, want] of cases) {
      const args = to === undefined ? [vec(fs({}, x))] : [vec(fs({}, x)), sc(to)];
      close((callV('round', args, ctxAt(0))[0] as Sample).f, want, `round(${x}, ${to})`, 1e-12);
    }
  });

  test('clamp, clamp_min, clamp_max', () => {
    const v = vec(fs({ src: 'a' }, -50), fs({ src: 'b' }, 0), fs({ src: 'c' }, 100));
    const ctx = ctxAt(0);
    expectFloats(callV('clamp_max', [v, sc(75)], ctx), { '{src="a"}': -50, '{src="b"}': 0, '{src="c"}': 75 });
    expectFloats(callV('clamp_min', [v, sc(-25)], ctx), { '{src="a"}': -25, '{src="b"}': 0, '{src="c"}': 100 });
    expectFloats(callV('clamp', [v, sc(-25), sc(75)], ctx), { '{src="a"}': -25, '{src="b"}': 0, '{src="c"}': 75 });
    expectFloats(callV('clamp', [v, sc(0), sc(0)], ctx), { '{src="a"}': 0, '{src="b"}': 0, '{src="c"}': 0 });
    assert.deepEqual(callV('clamp', [v, sc(5), sc(-5)], ctx), []);
    expectFloats(callV('clamp', [v, sc(NaN), sc(0)], ctx), { '{src="a"}': NaN, '{src="b"}': NaN, '{src="c"}': NaN });
  });

  test('scalar, vector, time, pi, timestamp, min_of, max_of', () => {
    const ctx = ctxAt(3000);
    assert.equal(call('scalar', [vec(fs({ a: '1' }, 7), hs({}, { count: 1 }))], ctx), 7);
    assert.ok(Number.isNaN(call('scalar', [vec()], ctx) as number));
    assert.ok(Number.isNaN(call('scalar', [vec(fs({ a: '1' }, 7), fs({ a: '2' }, 8))], ctx) as number));
    assert.deepEqual(call('vector', [sc(5)], ctx), [{ metric: [], t: 3_000_000, f: 5, h: null }]);
    assert.equal(call('time', [], ctxAt(0.001)), 0.001);
    assert.equal(call('time', [], ctx), 3000);
    assert.equal(call('pi', [], ctx), Math.PI);
    const ts = callV('timestamp', [vec(fs({ __name__: 'm' }, 1, 12.5), hs({ __name__: 'h' }, { count: 1 }, 7))], ctx);
    expectFloats(ts, { '{__name__="m"}': 12.5, '{__name__="h"}': 7 });
    for (const s of ts) assert.equal(s.dropName, true);
    assert.equal(call('max_of', [sc(1), sc(2)], ctx), 2);
    assert.equal(call('min_of', [sc(1), sc(2)], ctx), 1);
    assert.ok(Number.isNaN(call('max_of', [sc(1), sc(NaN)], ctx) as number));
  });
});

describe('date functions (UTC)', () => {
  const cases: Array<[string, number | null, number]> = [
    // [function, argument (null = none, at t=0), want]
    ['year', null, 1970],
    ['month', null, 1],
    ['day_of_month', null, 1],
    ['day_of_year', null, 1],
    ['day_of_week', null, 4], // Thursday
    ['hour', null, 0],
    ['minute', null, 0],
    ['days_in_month', null, 31],
    // 2006-01-02T15:04:05-07:00 = 22:04:05Z, a Monday
    ['year', 1136239445, 2006],
    ['month', 1136239445, 1],
    ['day_of_month', 1136239445, 2],
    ['day_of_year', 1136239445, 2],
    ['day_of_week', 1136239445, 1],
    ['hour', 1136239445, 22],
    ['minute', 1136239445, 4],
    ['year', 1230767999, 2008], // 2008-12-31 23:59:59
    ['year', 1230768000, 2009],
    ['month', 1456790399, 2], // 2016-02-29 23:59:59
    ['day_of_month', 1456790399, 29],
    ['month', 1456790400, 3], // 2016-03-01
    ['day_of_month', 1456790400, 1],
    ['day_of_year', 1483191420, 366], // 2016-12-31 13:37
    ['day_of_year', 1672493820, 365], // 2022-12-31 13:37
    ['days_in_month', 1454284800, 29], // 2016-02-01
    ['days_in_month', 1485907200, 28], // 2017-02-01
    ['days_in_month', 951782400, 29], // 2000-02-29 (divisible by 400)
    ['days_in_month', -2203977600, 28], // 1900-02-28 (divisible by 100)
    ['year', -1, 1969], // 1969-12-31 23:59:59
    ['day_of_week', -1, 3],
    ['hour', -1, 23],
    ['minute', 59.9, 0], // fractions are truncated
    ['year', 253402300800, 10000], // far outside JS Date's range too
    ['year', NaN, NaN],
  ];
  for (const [fn, arg, want] of cases) {
    test(`${fn}(${arg ?? ''})`, () => {
      const ctx = ctxAt(0);
      const v = arg === null ? callV(fn, [], ctx) : callV(fn, [vec(fs({ __name__: 'x' }, arg))], ctx);
      assert.equal(v.length, 1);
      close((v[0] as Sample).f, want, fn);
      assert.equal(v[0]?.dropName === true, arg !== null, 'dropName');
    });
  }
  test('at a fractional evaluation time, without argument', () => {
    expectFloats(callV('minute', [], ctxAt(3599.999)), { '{}': 59 });
  });
});

// ---- series functions -----------------------------------------------------------------------------

describe('absent', () => {
  const cases: Array<[string, Expr, string]> = [
    ['equality matchers', sel('nonexistent', [['=', 'job', 'testjob'], ['=', 'instance', 'testinstance'], ['=~', 'method', '.x']]), '{instance="testinstance",job="testjob"}'],
    ['a label matched twice is left out', sel('nonexistent', [['=', 'job', 'testjob'], ['=', 'job', 'testjob2'], ['=', 'foo', 'bar']]), '{foo="bar"}'],
    ['three times', sel('nonexistent', [['=', 'job', 'a'], ['=', 'job', 'b'], ['=', 'job', 'c'], ['=', 'foo', 'bar']]), '{foo="bar"}'],
    ['equality and regex', sel('nonexistent', [['=', 'job', 'testjob'], ['=~', 'job', 'testjob2'], ['=', 'foo', 'bar']]), '{foo="bar"}'],
    ['__name__ regex', sel('', [['=~', '__name__', 'a.*'], ['=', 'x', 'y']]), '{x="y"}'],
    ['not a selector', { type: 'NumberLiteral', val: 1, pos: P0 }, '{}'],
    ['in parentheses', { type: 'ParenExpr', expr: sel('n', [['=', 'a', 'b']]), pos: P0 }, '{a="b"}'],
  ];
  for (const [name, e, want] of cases) {
    test(name, () => {
      const v = callV('absent', [vec()], ctxAt(10, [e]));
      assert.equal(v.length, 1);
      assert.equal(key((v[0] as Sample).metric), want);
      assert.equal((v[0] as Sample).f, 1);
    });
  }
  test('present input: empty', () => {
    assert.deepEqual(callV('absent', [vec(fs({}, 1))], ctxAt(0, [sel('x', [])])), []);
  });
  test('absent_over_time', () => {
    const e = msel(sel('nonexistent', [['=', 'job', 'myjob'], ['=~', 'instance', '.*']]), 3600);
    const empty: FnArg = { kind: 'matrix', m: [{ metric: L({ job: 'myjob' }), floats: [], histograms: [] }], rangeMs: 3_600_000 };
    expectFloats(callV('absent_over_time', [empty], ctxAt(0, [e])), { '{job="myjob"}': 1 });
    assert.deepEqual(callV('absent_over_time', [mat(3600, 100, values({ job: 'myjob' }, 10, [1]))], ctxAt(100, [e])), []);
    const sub: Expr = { type: 'SubqueryExpr', expr: sel('x', [['=', 'a', 'b']]), range: 60_000, step: 0, offset: 0, at: null, pos: P0 };
    expectFloats(callV('absent_over_time', [empty], ctxAt(0, [sub])), { '{}': 1 });
  });
});

describe('label_replace / label_join', () => {
  const tm = [
    fs({ __name__: 'testmetric', src: 'source-value-10', dst: 'original-destination-value' }, 0),
    fs({ __name__: 'testmetric', src: 'source-value-20', dst: 'original-destination-value' }, 1),
  ];
  const lr = (dst: string, repl: string, src: string, re: string) => callV('label_replace', [vec(...tm), str(dst), str(repl), str(src), str(re)], ctxAt(0));
  const dsts = (v: Vector) => v.map((s) => key(s.metric));
  const getB = (v: Vector) => {
    const m = (v[0] as Sample).metric;
    const i = m.indexOf('b');
    return i >= 0 && i % 2 === 0 ? m[i + 1] : '';
  };
  const cases: Array<[string, [string, string, string, string], string[]]> = [
    [
      'full-string match and replace',
      ['dst', 'destination-value-$1', 'src', 'source-value-(.*)'],
      ['{__name__="testmetric",dst="destination-value-10",src="source-value-10"}', '{__name__="testmetric",dst="destination-value-20",src="source-value-20"}'],
    ],
    [
      'no sub-string match',
      ['dst', 'destination-value-$1', 'src', 'value-(.*)'],
      ['{__name__="testmetric",dst="original-destination-value",src="source-value-10"}', '{__name__="testmetric",dst="original-destination-value",src="source-value-20"}'],
    ],
    [
      'multiple groups',
      ['dst', '$1-value-$2', 'src', '(.*)-value-(.*)'],
      ['{__name__="testmetric",dst="source-value-10",src="source-value-10"}', '{__name__="testmetric",dst="source-value-20",src="source-value-20"}'],
    ],
    [
      'missing source label does not match',
      ['dst', 'value-$1', 'nonexistent-src', 'source-value-(.*)'],
      ['{__name__="testmetric",dst="original-destination-value",src="source-value-10"}', '{__name__="testmetric",dst="original-destination-value",src="source-value-20"}'],
    ],
    [
      'missing source label matched as empty',
      ['dst', 'value-$1', 'nonexistent-src', '(.*)'],
      ['{__name__="testmetric",dst="value-",src="source-value-10"}', '{__name__="testmetric",dst="value-",src="source-value-20"}'],
    ],
    ['empty value drops the label', ['dst', '', 'dst', '.*'], ['{__name__="testmetric",src="source-value-10"}', '{__name__="testmetric",src="source-value-20"}']],
    [
      'named groups',
      ['dst', '$name-${version}x', 'src', '(?P<name>.*)-value-(?P<version>.*)'],
      ['{__name__="testmetric",dst="source-10x",src="source-value-10"}', '{__name__="testmetric",dst="source-20x",src="source-value-20"}'],
    ],
    [
      '$1x is group "1x" (empty), $$ a dollar',
      ['dst', '$1x$$${1}x', 'src', 'source-value-(.*)'],
      ['{__name__="testmetric",dst="$10x",src="source-value-10"}', '{__name__="testmetric",dst="$20x",src="source-value-20"}'],
    ],
    [
      'new label with a UTF-8 name',
      ['ünïcode', '$1', 'src', 'source-value-(.*)'],
      ['{__name__="testmetric",dst="original-destination-value",src="source-value-10",ünïcode="10"}', '{__name__="testmetric",dst="original-destination-value",src="source-value-20",ünïcode="20"}'],
    ],
  ];
  for (const [name, [dst, repl, src, re], want] of cases) {
    test(name, () => assert.deepEqual(dsts(lr(dst, repl, src, re)), want));
  }

  test('errors', () => {
    const fails = (f: () => unknown, msg: string) =>
      assert.throws(f, (e: unknown) => e instanceof PromQLError && e.errorType === 'execution' && e.message === msg);
    fails(() => lr('dst', 'value-$1', 'src', '(.*'), 'invalid regular expression in label_replace(): (.*');
    fails(() => lr('', 'x', 'src', '(.*)'), 'invalid destination label name in label_replace(): ');
    fails(() => lr('\ud800', 'x', 'src', '(.*)'), 'invalid destination label name in label_replace(): \ud800');
    fails(() => lr('src', '', '', ''), 'vector cannot contain metrics with the same labelset');
    fails(() => callV('label_join', [vec(...tm), str('x'), str(','), str('')], ctxAt(0)), 'invalid source label name in label_join(): ');
    fails(() => callV('label_join', [vec(...tm), str(''), str(',')], ctxAt(0)), 'invalid destination label name in label_join(): ');
  });

  test('. matches a newline; the match is anchored', () => {
    const s = fs({ a: 'x\ny' }, 1);
    const v = callV('label_replace', [vec(s), str('b'), str('$1'), str('a'), str('x.(y)')], ctxAt(0));
    assert.equal(getB(v), 'y');
    const w = callV('label_replace', [vec(s), str('b'), str('$1'), str('a'), str('(y)')], ctxAt(0));
    assert.equal(getB(w), '');
  });

  test('the regex is checked even for an empty vector', () => {
    assert.throws(() => callV('label_replace', [vec(), str('dst'), str(''), str('src'), str('(')], ctxAt(0)), PromQLError);
  });

  test('dropName: kept from the input, cleared when __name__ is set', () => {
    const s: Sample = { ...fs({ __name__: 'm', a: 'x' }, 1), dropName: true };
    const v1 = callV('label_replace', [vec(s), str('b'), str('$1'), str('a'), str('(.*)')], ctxAt(0));
    assert.equal(v1[0]?.dropName, true);
    const v2 = callV('label_replace', [vec(s), str('__name__'), str('new_$1'), str('a'), str('(.*)')], ctxAt(0));
    assert.equal(key((v2[0] as Sample).metric), '{__name__="new_x",a="x"}');
    assert.equal(v2[0]?.dropName, undefined);
    const v3 = callV('label_replace', [vec(s), str('b'), str('$1'), str('a'), str('nomatch')], ctxAt(0));
    assert.equal(v3[0], s, 'unchanged sample passes through');
  });

  test('label_join', () => {
    const up = fs({ __name__: 'up', job: 'api-server', src1: 'a', src2: 'b', src3: 'c' }, 1);
    const v = callV('label_join', [vec(up), str('foo'), str(','), str('src1'), str('src2'), str('src3')], ctxAt(0));
    assert.equal(key((v[0] as Sample).metric), '{__name__="up",foo="a,b,c",job="api-server",src1="a",src2="b",src3="c"}');
    const v2 = callV('label_join', [vec(up), str('src1'), str('-')], ctxAt(0));
    assert.equal(key((v2[0] as Sample).metric), '{__name__="up",job="api-server",src2="b",src3="c"}', 'no sources: empty, label dropped');
    const v3 = callV('label_join', [vec(up), str('x'), str(''), str('missing'), str('job')], ctxAt(0));
    assert.equal(key((v3[0] as Sample).metric), '{__name__="up",job="api-server",src1="a",src2="b",src3="c",x="api-server"}');
  });

  test('expandTemplate follows Go', () => {
    const g = (ref: number | string) => ({ 0: 'all', 1: 'one', name: 'N' })[ref as 0] ?? '';
    const cases: Array<[string, string]> = [
      ['$1', 'one'],
      ['${1}', 'one'],
      ['$0', 'all'],
      ['$name', 'N'],
      ['${name}', 'N'],
      ['$name.x', 'N.x'],
      ['$$1', '$1'],
      ['$', '$'],
      ['${1', '${1'],
      ['$-', '$-'],
      ['a$2b', 'a'],
      ['$01', ''],
      ['x$1y$1', 'xone'], // "$1y" names group "1y"
    ];
    for (const [t, want] of cases) assert.equal(expandTemplate(t, g), want, t);
  });
});

describe('sorting', () => {
  const v = vec(fs({ a: '1' }, 3), fs({ a: '2' }, NaN), fs({ a: '3' }, -1), hs({ a: '4' }, { count: 1 }), fs({ a: '5' }, 10));
  test('sort and sort_desc: floats only, NaN last', () => {
    assert.deepEqual(
      callV('sort', [v], ctxAt(0)).map((s) => s.f),
      [-1, 3, 10, NaN],
    );
    assert.deepEqual(
      callV('sort_desc', [v], ctxAt(0)).map((s) => s.f),
      [10, 3, -1, NaN],
    );
  });
  test('sort_by_label: natural order, ties by the full label set', () => {
    const w = vec(fs({ n: 'a10', x: '1' }, 0), fs({ n: 'a2', x: '1' }, 0), fs({ n: 'a1', x: '2' }, 0), fs({ n: 'a1', x: '1' }, 0), hs({ n: 'b' }, { count: 1 }));
    const asc = callV('sort_by_label', [w, str('n')], ctxAt(0)).map((s) => key(s.metric));
    assert.deepEqual(asc, ['{n="a1",x="1"}', '{n="a1",x="2"}', '{n="a2",x="1"}', '{n="a10",x="1"}', '{n="b"}']);
    const desc = callV('sort_by_label_desc', [w, str('n')], ctxAt(0)).map((s) => key(s.metric));
    assert.deepEqual(desc, ['{n="b"}', '{n="a10",x="1"}', '{n="a2",x="1"}', '{n="a1",x="2"}', '{n="a1",x="1"}']);
  });
  test('natLess', () => {
    assert.equal(natLess('a2', 'a10'), true);
    assert.equal(natLess('a10', 'a2'), false);
    assert.equal(natLess('abc', 'abd'), true);
    assert.equal(natLess('1.9', '1.10'), true);
    assert.equal(natLess('x99999999999999999999', 'x1'), false, 'overflowing numbers compare as text');
  });
});

test('quantile() over values', () => {
  assert.equal(quantile(0.5, [3, 1, 2]), 2);
  assert.equal(quantile(0.25, [1, 2, 3, 4, 5]), 2);
  assert.ok(Number.isNaN(quantile(0.5, [])));
  assert.ok(Number.isNaN(quantile(NaN, [1])));
  assert.ok(Number.isNaN(quantile(0, [NaN, 1])), 'NaN sorts first');
  assert.equal(quantile(1, [NaN, 1]), 1);
});
