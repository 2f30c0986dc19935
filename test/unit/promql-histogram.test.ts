import '../harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistogramObject } from '../../src/remotewrite/index.js';
import { ingesterServiceDefinition } from '../../src/ingester/grpc.js';
import { mulberry32 } from '../util.js';
import {
  allBuckets,
  bucketBoundaryRule,
  CounterResetHint,
  decodeBuckets,
  detectCounterReset,
  formatHistogram,
  formatTestExpression,
  fromHistogramObject,
  fromStoredHistogram,
  fromStreamHistograms,
  getBound,
  getBoundExponential,
  histogramAdd,
  histogramAddInto,
  histogramAlmostEquals,
  histogramAvg,
  histogramCompact,
  histogramCopy,
  histogramDiv,
  histogramEquals,
  histogramFraction,
  histogramFromNotation,
  HistogramIncompatibleSchemaError,
  HistogramKahanSum,
  histogramMul,
  histogramNeg,
  histogramQuantile,
  histogramReduceResolution,
  histogramStdDev,
  histogramStdVar,
  histogramSub,
  type HistogramNotation,
  type HistogramStatsInfo,
  makeHistogram,
  mismatchedCustomBucketsHistogramsInfo,
  mixedExponentialCustomHistogramsWarning,
  nativeHistogramQuantileNaNResultInfo,
  newHistogramOpNotes,
  spansMatch,
} from '../../src/promql/histogram/index.js';
import type { FloatHistogram } from '../../src/promql/value.js';

// ---- helpers ----------------------------------------------------------------------------------

/** The promqltest notation, enough of it for these tests: `{{schema:0 sum:5 buckets:[1 2 1]}}`. */
function H(text: string): FloatHistogram {
  const body = text.trim().replace(/^\{\{/, '').replace(/\}\}$/, '');
  const n: HistogramNotation = {};
  const num = (s: string): number => {
    const l = s.toLowerCase().replace(/^\+/, '');
    if (l === 'inf') return Infinity;
    if (l === '-inf') return -Infinity;
    if (l === 'nan') return NaN;
    return Number(s);
  };
  for (const m of body.matchAll(/(\w+):(\[[^\]]*\]|\S+)/g)) {
    const key = m[1] as string;
    const raw = m[2] as string;
    const list = raw.startsWith('[') ? raw.slice(1, -1).trim().split(/\s+/).filter((x) => x !== '').map(num) : [];
    switch (key) {
      case 'schema': n.schema = num(raw); break;
      case 'sum': n.sum = num(raw); break;
      case 'count': n.count = num(raw); break;
      case 'z_bucket': n.zeroCount = num(raw); break;
      case 'z_bucket_w': n.zeroThreshold = num(raw); break;
      case 'buckets': n.buckets = list; break;
      case 'offset': n.offset = num(raw); break;
      case 'n_buckets': n.negativeBuckets = list; break;
      case 'n_offset': n.negativeOffset = num(raw); break;
      case 'custom_values': n.customValues = list; break;
      case 'counter_reset_hint': n.counterResetHint = raw as HistogramNotation['counterResetHint']; break;
      default: throw new Error(`unknown key ${key}`);
    }
  }
  return histogramFromNotation(n);
}

function close(actual: number, expected: number, what = ''): void {
  const ok =
    actual === expected ||
    (Number.isNaN(actual) && Number.isNaN(expected)) ||
    (expected === 0 ? Math.abs(actual) < 1e-300 : Math.abs(actual - expected) / (Math.abs(actual) + Math.abs(expected)) < 1e-9);
  assert.ok(ok, `${what}: got ${actual}, want ${expected}`);
}

function assertHist(actual: FloatHistogram, expected: string, opts: { hint?: boolean } = {}): void {
  const want = H(expected);
  assert.ok(
    histogramAlmostEquals(actual, want, { compareCounterResetHint: opts.hint === true }),
    `got ${formatTestExpression(actual)} (hint ${actual.counterResetHint}), want ${formatTestExpression(want)} (hint ${want.counterResetHint})`,
  );
}

function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** One side: a few spans with integer counts (some 0), no bucket index below minIdx. */
function randomSide(r: () => number, minIdx: number): { spans: { offset: number; length: number }[]; buckets: number[] } {
  const spans: { offset: number; length: number }[] = [];
  const buckets: number[] = [];
  const n = randInt(r, 0, 3);
  for (let s = 0; s < n; s++) {
    const length = randInt(r, 1, 5);
    spans.push({ offset: s === 0 ? Math.max(minIdx, randInt(r, -3, 3)) : randInt(r, 1, 4), length });
    for (let i = 0; i < length; i++) buckets.push(r() < 0.2 ? 0 : randInt(r, 1, 20));
  }
  return { spans, buckets };
}

function randomHistogram(r: () => number, opts: { schema?: number; zeroThreshold?: number; negative?: boolean } = {}): FloatHistogram {
  const schema = opts.schema ?? randInt(r, -2, 4);
  const zeroThreshold = opts.zeroThreshold ?? [0, 2 ** -10, 0.001][randInt(r, 0, 2)]!;
  // buckets of a valid histogram are outside its zero bucket
  let minIdx = -1000;
  if (zeroThreshold > 0) while (getBoundExponential(minIdx - 1, schema) < zeroThreshold) minIdx++;
  const pos = randomSide(r, minIdx);
  const neg = opts.negative === false ? { spans: [], buckets: [] } : randomSide(r, minIdx);
  const zeroCount = zeroThreshold === 0 && r() < 0.5 ? 0 : randInt(r, 0, 5);
  const total = zeroCount + [...pos.buckets, ...neg.buckets].reduce((a, b) => a + b, 0);
  return makeHistogram({
    schema, zeroThreshold, zeroCount, count: total, sum: randInt(r, -1000, 1000),
    positiveSpans: pos.spans, positiveBuckets: pos.buckets, negativeSpans: neg.spans, negativeBuckets: neg.buckets,
  });
}

function sumOf(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

// ---- bucket bounds ----------------------------------------------------------------------------

describe('bucket bounds', () => {
  it('exponential schemas', () => {
    const cases: Array<[number, number, number]> = [
      // [idx, schema, upper bound]
      [0, 0, 1], [1, 0, 2], [-1, 0, 0.5], [3, 0, 8], [1, -1, 4], [2, -1, 16], [-1, -2, 1 / 16], [1, -4, 65536],
      [1, 1, Math.SQRT2], [2, 1, 2], [-1, 1, Math.SQRT1_2], [1, 2, 2 ** 0.25], [1, 8, 2 ** (1 / 256)],
      [1024, 0, Number.MAX_VALUE], [1025, 0, Infinity], [256, -2, Number.MAX_VALUE], [1024 * 256, 8, Number.MAX_VALUE],
      [-1074, 0, 2 ** -1074], [-1075, 0, 0],
    ];
    for (const [idx, schema, want] of cases) close(getBoundExponential(idx, schema), want, `bound(${idx}, ${schema})`);
  });

  it('bounds are increasing and powers of two coincide across schemas', () => {
    for (let schema = -4; schema <= 8; schema++) {
      let prev = 0;
      const range = Math.min(300, Math.floor(1000 * 2 ** schema));
      for (let i = -range; i <= range; i++) {
        const b = getBoundExponential(i, schema);
        assert.ok(b > prev, `schema ${schema} idx ${i}`);
        prev = b;
      }
      if (schema >= 0) {
        for (let e = -20; e <= 20; e++) assert.equal(getBoundExponential(e << schema, schema), 2 ** e);
      }
    }
  });

  it('custom bounds', () => {
    const cv = [5, 10];
    assert.equal(getBound(-1, -53, cv), -Infinity);
    assert.equal(getBound(0, -53, cv), 5);
    assert.equal(getBound(1, -53, cv), 10);
    assert.equal(getBound(2, -53, cv), Infinity);
    assert.throws(() => getBound(3, -53, cv), RangeError);
  });

  it('all buckets, ascending, with the zero bucket and boundary rules', () => {
    const h = H('{{schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]}}');
    assert.equal(
      formatHistogram(h),
      '{count:24, sum:100, [-16,-8):4, [-8,-4):1, [-2,-1):3, [-1,-0.5):2, [-0.001,0.001]:4, (0.5,1]:2, (1,2]:3, (4,8]:1, (8,16]:4}',
    );
    const bs = allBuckets(h);
    assert.equal(bs.length, 11); // empty buckets included
    assert.deepEqual(bs.map(bucketBoundaryRule), [1, 1, 1, 1, 1, 3, 0, 0, 0, 0, 0]);
    const c = allBuckets(H('{{schema:-53 count:3 custom_values:[5 10] buckets:[1 1 1]}}'));
    assert.deepEqual(c.map((b) => [b.lower, b.upper, bucketBoundaryRule(b)]), [[-Infinity, 5, 3], [5, 10, 0], [10, Infinity, 0]]);
  });

  it('buckets overlapping the zero bucket are clamped to it', () => {
    // zero threshold 1.5 lies inside bucket (1,2]
    const h = H('{{schema:0 count:3 z_bucket:1 z_bucket_w:1.5 buckets:[1] offset:1 n_buckets:[1] n_offset:1}}');
    assert.deepEqual(allBuckets(h).map((b) => [b.lower, b.upper]), [[-2, -1.5], [-1.5, 1.5], [1.5, 2]]);
  });
});

// ---- quantile and fraction ------------------------------------------------------------------

describe('histogramQuantile (native_histograms.test)', () => {
  const cases: Array<[string, Array<[number, number]>]> = [
    ['{{schema:0 sum:5 count:4 buckets:[1 2 1]}}', [[0.5, 1.414213562373095]]],
    ['{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]}}', [
      [1.001, Infinity], [1, 16], [0.99, 15.67072476139083], [0.9, 12.99603834169977], [0.6, 4.594793419988138],
      [0.5, 1.5874010519681994], [0.1, 0.0006], [0, 0], [-1, -Infinity], [0.08333333333333333, 0.0005], [0.6320802083934297, 6],
    ]],
    ['{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 n_buckets:[2 3 0 1 4]}}', [
      [1.001, Infinity], [1, 0], [0.99, -0.00006], [0.9, -0.0006], [0.5, -1.5874010519681996], [0.1, -12.996038341699768],
      [0, -16], [-1, -Infinity], [0.9166666666666666, -0.0005], [0.36791979160657035, -6],
    ]],
    ['{{schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]}}', [
      [1, 16], [0.99, 15.34822590920423], [0.9, 10.556063286183155], [0.7, 1.2030250360821164], [0.55, 0.0006], [0.5, 0],
      [0.45, -0.0006], [0.3, -1.2030250360821169], [0.1, -10.556063286183155], [0.01, -15.34822590920423], [0, -16],
      [0.5416666666666666, 0.0005], [0.4583333333333333, -0.0005],
    ]],
    ['{{schema:-1 sum:6 count:5 buckets:[0 5]}}', [[0.5, 2]]],
    ['{{schema:0 sum:4 count:5 buckets:[0 5]}}', [[0.5, 1.4142135623730951]]],
    ['{{schema:1 sum:4 count:5 buckets:[0 5]}}', [[0.5, 1.189207115002721]]],
    ['{{schema:-1 sum:6 count:5 buckets:[0 0 5]}}', [[0.5, 8]]],
    ['{{schema:1 sum:4 count:5 buckets:[0 0 5]}}', [[0.5, 1.6817928305074292]]],
    ['{{schema:0 sum:4 count:5 n_buckets:[0 0 5]}}', [[0.5, -2.82842712474619]]],
    ['{{schema:0 z_bucket:1 z_bucket_w:0.5 sum:0.25 count:1}}', [[0.5, 0]]],
    ['{{schema:0 sum:-5 count:4 n_buckets:[1 2 1]}}', [[0.5, -1.414213562373095]]],
    // quantile in a run of empty buckets: the lower bound of the next populated one
    ['{{schema:0 sum:0 count:8 buckets:[1 2 1] n_buckets:[1 2 1]}}', [[0.5, 0.5]]],
    ['{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]}}', [[0.5, 7.5], [0.1, 2], [0.99, 10], [1, 10]]],
    ['{{schema:-53 sum:5 count:4 custom_values:[-5 10] buckets:[2 2]}}', [[0.25, -5]]],
    ['{{count:1 sum:1 buckets:[2]}}', [[0.9, 2 ** -0.55], [0.3, 2 ** -0.35]]], // count below the bucket total: clamped
    ['{{}}', [[0.5, NaN], [-1, -Infinity], [2, Infinity]]],
    ['{{schema:0 sum:0 count:0}}', [[0.5, NaN]]],
  ];
  for (const [text, qs] of cases) {
    it(text, () => {
      const h = H(text);
      for (const [q, want] of qs) close(histogramQuantile(q, h), want, `q=${q}`);
      close(histogramQuantile(NaN, h), NaN, 'q=NaN');
    });
  }

  it('NaN observations', () => {
    const all = H('{{schema:0 count:3 sum:NaN}}');
    const some = H('{{schema:0 count:15 sum:NaN buckets:[12]}}');
    const cases: Array<[FloatHistogram, number, number, string]> = [
      [all, 1, NaN, 'quantile_nan_result'], [all, 0.4, NaN, 'quantile_nan_result'], [all, 0.8, NaN, 'quantile_nan_result'],
      [some, 1, NaN, 'quantile_nan_result'], [some, 0.81, NaN, 'quantile_nan_result'],
      [some, 0.8, 1, 'quantile_skewed'], [some, 0.4, 0.7071067811865475, 'quantile_skewed'],
    ];
    for (const [h, q, want, nan] of cases) {
      const info: HistogramStatsInfo = { nan: 'none' };
      close(histogramQuantile(q, h, info), want, `q=${q}`);
      assert.equal(info.nan, nan);
    }
    const info: HistogramStatsInfo = { nan: 'none' };
    histogramQuantile(0.5, H('{{count:4 sum:5 buckets:[1 2 1]}}'), info);
    assert.equal(info.nan, 'none');
    assert.equal(nativeHistogramQuantileNaNResultInfo('histogram_nan'), 'PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name "histogram_nan"');
  });
});

describe('histogramFraction (native_histograms.test)', () => {
  const cases: Array<[string, Array<[number, number, number]>]> = [
    ['{{schema:0 sum:5 count:4 buckets:[1 2 1]}}', [[1, 2, 0.5], [0, 8, 1]]],
    ['{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]}}', [
      [0, Infinity, 1], [-Infinity, 0, 0], [-0.001, 0, 0], [0, 0.001, 0.16666666666666666], [0.001, Infinity, 0.8333333333333334],
      [0, 0.0005, 0.08333333333333333], [-Infinity, -0.001, 0], [1, 2, 0.25], [0, 1.5, 0.4795739585136224], [1.5, 2, 0.10375937481971091],
      [1, 8, 0.3333333333333333], [0, 6, 0.6320802083934297], [1, 6, 0.29874687506009634], [1.5, 6, 0.15250624987980724],
      [-2, -1, 0], [-6, -1.5, 0], [42, 3.1415, 0], [0, 0, 0], [0.000001, 0.000001, 0], [-3.1, -3.1, 0],
      [3.1415, NaN, NaN], [NaN, 42, NaN], [NaN, NaN, NaN], [-Infinity, Infinity, 1],
    ]],
    ['{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 n_buckets:[2 3 0 1 4]}}', [
      [0, Infinity, 0], [-Infinity, 0, 1], [-0.001, 0, 0.16666666666666666], [0, 0.001, 0], [-0.0005, 0, 0.08333333333333333],
      [-Infinity, -0.0005, 0.9166666666666666], [-Infinity, -0.001, 0.8333333333333334], [1, 2, 0], [-2, -1, 0.25],
      [-2, -1.5, 0.10375937481971091], [-8, -1, 0.3333333333333333], [-Infinity, -6, 0.36791979160657035],
      [-6, -1, 0.29874687506009634], [-6, -1.5, 0.15250624987980724], [-Infinity, Infinity, 1],
    ]],
    ['{{schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]}}', [
      [0, Infinity, 0.5], [-Infinity, 0, 0.5], [-0.001, 0, 0.08333333333333333], [0, 0.001, 0.08333333333333333],
      [-0.0005, 0.0005, 0.08333333333333333], [-Infinity, 0.0005, 0.5416666666666666], [-Infinity, -0.0005, 0.4583333333333333],
      [0.001, Infinity, 0.4166666666666667], [-Infinity, -0.001, 0.4166666666666667], [1, 2, 0.125], [1.5, 2, 0.051879687409855414],
      [1, 8, 0.16666666666666666], [1, 6, 0.14937343753004825], [1.5, 6, 0.07625312493990366], [-2, -1, 0.125],
      [-2, -1.5, 0.051879687409855456], [-8, -1, 0.16666666666666666], [-6, -1, 0.14937343753004817], [-6, -1.5, 0.07625312493990362],
    ]],
    ['{{schema:-1 sum:6 count:5 buckets:[0 5]}}', [[0, 2, 0.5]]],
    ['{{schema:1 sum:4 count:5 buckets:[0 0 5]}}', [[0, 1.6817928305074292, 0.5]]],
    ['{{schema:1 sum:4 count:5 n_buckets:[0 5]}}', [[-1.189207115002721, 0, 0.5]]],
    ['{{schema:-1 sum:4 count:5 buckets:[5] offset:1}}', [[1, 4, 1]]],
    ['{{schema:0 z_bucket:1 z_bucket_w:0.5 sum:0.25 count:1}}', [[-0.5, 0.5, 1]]],
    ['{{schema:0 sum:0 count:8 buckets:[1 2 1] n_buckets:[1 2 1]}}', [[0, 4, 0.5]]],
    ['{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]}}', [[5, 10, 0.5], [7.5, 10, 0.25], [10, Infinity, 0.25], [0, 2.5, 0.125]]],
    ['{{}}', [[-Infinity, Infinity, NaN], [0, 8, NaN], [3.1415, 42, NaN]]],
    ['{{schema:-53 custom_values:[-2 3]}}', [[-Infinity, Infinity, NaN]]],
  ];
  for (const [text, fs] of cases) {
    it(text, () => {
      const h = H(text);
      for (const [lo, hi, want] of fs) close(histogramFraction(lo, hi, h), want, `fraction(${lo}, ${hi})`);
    });
  }

  it('NaN observations are in no fraction', () => {
    const all = H('{{schema:0 count:3 sum:NaN}}');
    const some = H('{{schema:0 count:15 sum:NaN buckets:[12]}}');
    for (const [h, lo, hi, want] of [[all, -Infinity, 0.7071067811865475, 0], [some, -Infinity, 0.7071067811865475, 0.4], [all, -Infinity, Infinity, 0], [some, -Infinity, Infinity, 0.8]] as const) {
      const info: HistogramStatsInfo = { nan: 'none' };
      close(histogramFraction(lo, hi, h, info), want, `fraction(${lo}, ${hi})`);
      assert.equal(info.nan, 'fraction_nans_excluded');
    }
  });
});

describe('histogramStdDev / histogramStdVar (native_histograms.test)', () => {
  const cases: Array<[string, number, number]> = [
    ['{{schema:2 count:4 sum:10 buckets:[1 0 0 0 1 0 0 1 1]}}', 1.0787993180043811, 1.163807968526718],
    ['{{schema:8 count:10 sum:10 buckets:[1 2 3 4]}}', 0.0048960313898237465, 2.3971123370139447e-5],
    ['{{schema:3 count:7 sum:62 z_bucket:1 buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ] n_buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ]}}', 42.94723640026, 1844.4651144196398],
    ['{{schema:0 count:10 sum:-112946 z_bucket:0 n_buckets:[0 0 1 1 1 0 1 1 0 0 3 0 0 0 1 0 0 1]}}', 27556.344499842, 759352122.1939945],
    ['{{schema:0 count:10 sum:-100 z_bucket:0 n_buckets:[0 0 0 0 10]}}', 1.3137084989848, 1.725830020304794],
    ['{{schema:3 count:7 sum:NaN z_bucket:1 buckets:[0 1] n_buckets:[1]}}', NaN, NaN],
    ['{{schema:3 count:7 sum:Inf z_bucket:1 buckets:[0 1] n_buckets:[1]}}', Infinity, Infinity],
    ['{{schema:0 sum:0 count:0}}', NaN, NaN],
    ['{{schema:-53 count:4 sum:30 custom_values:[5 10] buckets:[0 2 2]}}', Infinity, Infinity], // +Inf bucket: midpoint +Inf
    ['{{schema:-53 count:4 sum:20 custom_values:[0 5 10] buckets:[0 2 2]}}', 2.5, 6.25],
  ];
  for (const [text, sd, sv] of cases) {
    it(text.slice(0, 60), () => {
      const h = H(text);
      // the expectations are printed with ~13 digits in places: compare with 1e-9
      const near = (a: number, b: number, what: string) =>
        assert.ok((Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) / Math.abs(b) < 1e-9, `${what}: got ${a}, want ${b}`);
      near(histogramStdDev(h), sd, 'stddev');
      near(histogramStdVar(h), sv, 'stdvar');
    });
  }

  it('histogram_avg', () => {
    close(histogramAvg(H('{{schema:0 sum:5 count:4 buckets:[1 2 1]}}')), 1.25);
    close(histogramAvg(H('{{}}')), NaN);
  });
});

// ---- arithmetic -------------------------------------------------------------------------------

describe('histogramAdd / histogramSub', () => {
  const sumInputs = [
    '{{schema:0 count:25 sum:3.1 z_bucket:4 z_bucket_w:0.001 buckets:[1 2 0 1 1] n_buckets:[2 4 0 0 1 9]}}',
    '{{schema:0 count:41 sum:1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}',
    '{{schema:0 count:41 sum:-1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}',
    '{{schema:1 count:0 sum:1.3 z_bucket:3 z_bucket_w:0.001 buckets:[2 4 2 3 2 2] n_buckets:[1 2 5 3 8 1 1 1 1 6 3]}}',
  ].map(H);

  it('adds across schemas (the lower one wins)', () => {
    assertHist(histogramAdd(sumInputs[0]!, sumInputs[3]!), '{{schema:0 count:25 sum:4.4 z_bucket:7 z_bucket_w:0.001 buckets:[3 8 5 3 1] n_buckets:[3 11 11 2 3 18]}}');
    assertHist(histogramAdd(sumInputs[3]!, sumInputs[0]!), '{{schema:0 count:25 sum:4.4 z_bucket:7 z_bucket_w:0.001 buckets:[3 8 5 3 1] n_buckets:[3 11 11 2 3 18]}}');
    const low = H('{{schema:-1 sum:4 count:1 buckets:[1] offset:1}}');
    assertHist(histogramAdd(low, H('{{schema:0 sum:4 count:4 buckets:[2 2] offset:1}}')), '{{schema:-1 count:5 sum:8 offset:1 buckets:[5]}}');
    // the arguments are left alone
    assert.equal(low.count, 1);
    assert.equal(sumInputs[3]!.schema, 1);
  });

  it('sum of four (plain addition loses the small sum next to ±1e100)', () => {
    let acc = histogramCopy(sumInputs[0]!);
    for (const h of sumInputs.slice(1)) acc = histogramAddInto(acc, h);
    assertHist(acc, '{{schema:0 count:107 sum:1.3 z_bucket:17 z_bucket_w:0.001 buckets:[5 14 7 7 3 2 2] n_buckets:[3 13 19 6 17 18 0 0 0 10 10 4]}}');
    const k = new HistogramKahanSum();
    for (const h of sumInputs) k.add(h);
    assertHist(k.result()!, '{{schema:0 count:107 sum:4.4 z_bucket:17 z_bucket_w:0.001 buckets:[5 14 7 7 3 2 2] n_buckets:[3 13 19 6 17 18 0 0 0 10 10 4]}}');
  });

  it('subtracts (histogram_sub_1..3)', () => {
    const a = H('{{schema:0 count:41 sum:2345.6 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}');
    const b = H('{{schema:0 count:11 sum:1234.5 z_bucket:3 z_bucket_w:0.001 buckets:[0 2 1] n_buckets:[0 0 3 2]}}');
    const b1 = { ...histogramCopy(b), schema: 1 };
    assertHist(histogramSub(a, b), '{{schema:0 count:30 sum:1111.1 z_bucket:2 z_bucket_w:0.001 buckets:[1 1 0 2 1 1 1] n_buckets:[0 1 1 0 7 0 0 0 0 5 5 2]}}');
    assertHist(histogramSub(a, b1), '{{schema:0 count:30 sum:1111.1 z_bucket:2 z_bucket_w:0.001 buckets:[1 0 1 2 1 1 1] n_buckets:[0 -2 2 2 7 0 0 0 0 5 5 2]}}');
    assertHist(histogramSub(b1, a), '{{schema:0 count:-30 sum:-1111.1 z_bucket:-2 z_bucket_w:0.001 buckets:[-1 0 -1 -2 -1 -1 -1] n_buckets:[0 2 -2 -2 -7 0 0 0 0 -5 -5 -2]}}');
  });

  it('reconciles zero buckets: the wider one, moved out of populated buckets', () => {
    // b's zero threshold 1.5 lies inside a's populated bucket (1,2]: the result's zero bucket ends at 2
    const a = H('{{schema:0 count:6 sum:6 z_bucket:1 z_bucket_w:0.25 buckets:[1 2 2] offset:-1}}');
    const b = H('{{schema:0 count:3 sum:3 z_bucket:2 z_bucket_w:1.5 buckets:[1] offset:2}}');
    for (const r of [histogramAdd(a, b), histogramAdd(b, a)]) {
      assert.equal(r.zeroThreshold, 2);
      assertHist(r, '{{schema:0 count:9 sum:9 z_bucket:8 z_bucket_w:2 buckets:[1] offset:2}}');
    }
    // the new threshold cuts a populated negative bucket: widened to it, the positive side re-checked
    const n = H('{{schema:0 count:6 sum:0 z_bucket_w:0.25 n_buckets:[2] n_offset:2 buckets:[1 0 3] offset:1}}');
    for (const w of [histogramAdd(n, H('{{schema:0 count:1 z_bucket:1 z_bucket_w:3}}')), new HistogramKahanSum().add(H('{{schema:0 count:1 z_bucket:1 z_bucket_w:3}}')).add(n).result()!]) {
      assert.equal(w.zeroThreshold, 4);
      assertHist(w, '{{schema:0 count:7 z_bucket:4 z_bucket_w:4 buckets:[3] offset:3}}');
    }
    // a zero bucket narrower than the other's lowest populated bucket: only empty buckets fold in
    const c = histogramAdd(H('{{count:1 z_bucket:1 z_bucket_w:0.001}}'), H('{{count:2 buckets:[2] offset:1}}'));
    assertHist(c, '{{count:3 z_bucket:1 z_bucket_w:0.001 buckets:[2] offset:1}}');
  });

  it('custom buckets: same bounds add; different bounds are reconciled on the common ones', () => {
    assertHist(
      histogramAdd(H('{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}'), H('{{schema:-53 sum:15 count:2 custom_values:[5 10] buckets:[0 2]}}')),
      '{{schema:-53 sum:16 count:3 custom_values:[5 10] buckets:[1 2]}}',
    );
    const notes = newHistogramOpNotes();
    const s2 = H('{{schema:-53 sum:1 count:1 custom_values:[10] buckets:[1]}}');
    const s3 = H('{{schema:-53 sum:1 count:1 custom_values:[2 10] buckets:[1]}}');
    assertHist(histogramAdd(s2, s3, notes), '{{schema:-53 count:2 sum:2 custom_values:[10] buckets:[2]}}');
    assert.equal(notes.nhcbBoundsReconciled, true);
    const d = histogramSub(H('{{schema:-53 sum:1 count:1 custom_values:[5] buckets:[1]}}'), H('{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}'));
    assert.deepEqual([d.customValues, d.positiveBuckets, d.count, d.sum], [[5], [], 0, 0]);
    // buckets above every common bound go to +Inf
    const e = histogramAdd(H('{{schema:-53 count:3 custom_values:[1 5 20] buckets:[1 1 1]}}'), H('{{schema:-53 count:1 custom_values:[5 10] buckets:[0 0 1]}}'));
    assertHist(e, '{{schema:-53 count:4 custom_values:[5] buckets:[2 2]}}');
    assert.equal(mismatchedCustomBucketsHistogramsInfo('addition'), 'PromQL info: mismatched custom buckets were reconciled during addition');
  });

  it('exponential with custom buckets throws a typed error', () => {
    const exp = H('{{sum:4 count:3 buckets:[1 2 1]}}');
    const cb = H('{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}');
    assert.throws(() => histogramAdd(exp, cb), HistogramIncompatibleSchemaError);
    assert.throws(() => histogramSub(cb, exp), (e: unknown) => e instanceof HistogramIncompatibleSchemaError && e.reason === 'incompatible_schema' && e.code === 'bad_data');
    assert.throws(() => new HistogramKahanSum().add(exp).add(cb), HistogramIncompatibleSchemaError);
    assert.equal(
      mixedExponentialCustomHistogramsWarning('some_metric'),
      'PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name "some_metric"',
    );
  });

  it('counter reset hints combine as in Prometheus', () => {
    const { Unknown: U, CounterReset: R, NotCounterReset: N, Gauge: G } = CounterResetHint;
    const cases: Array<[number, number, number, boolean]> = [
      [U, U, U, false], [R, R, R, false], [N, N, N, false], [G, G, G, false],
      [G, N, G, false], [N, G, G, false], [G, U, G, false], [U, G, G, false], [R, G, G, false],
      [U, N, U, false], [N, U, U, false], [U, R, U, false], [R, U, U, false],
      [R, N, U, true], [N, R, U, true],
    ];
    for (const [a, b, want, collision] of cases) {
      for (const op of [histogramAdd, histogramSub]) {
        const notes = newHistogramOpNotes();
        const r = op(makeHistogram({ counterResetHint: a, count: 1 }), makeHistogram({ counterResetHint: b, count: 1 }), notes);
        assert.equal(r.counterResetHint, want, `${a} with ${b}`);
        assert.equal(notes.counterResetCollision, collision);
      }
    }
  });
});

describe('histogramMul / histogramDiv / histogramNeg (native_histograms.test)', () => {
  const h = H('{{schema:0 count:30 sum:33 z_bucket:3 z_bucket_w:0.001 buckets:[3 3 3] n_buckets:[6 6 6]}}');
  it('scales', () => {
    assertHist(histogramMul(h, 3), '{{schema:0 count:90 sum:99 z_bucket:9 z_bucket_w:0.001 buckets:[9 9 9] n_buckets:[18 18 18]}}');
    assertHist(histogramMul(h, -1), '{{schema:0 count:-30 sum:-33 z_bucket:-3 z_bucket_w:0.001 buckets:[-3 -3 -3] n_buckets:[-6 -6 -6] counter_reset_hint:gauge}}', { hint: true });
    assertHist(histogramNeg(h), '{{schema:0 count:-30 sum:-33 z_bucket:-3 z_bucket_w:0.001 buckets:[-3 -3 -3] n_buckets:[-6 -6 -6] counter_reset_hint:gauge}}', { hint: true });
    assertHist(histogramDiv(h, 3), '{{schema:0 count:10 sum:11 z_bucket:1 z_bucket_w:0.001 buckets:[1 1 1] n_buckets:[2 2 2]}}', { hint: true });
    assertHist(histogramDiv(h, -3), '{{schema:0 count:-10 sum:-11 z_bucket:-1 z_bucket_w:0.001 buckets:[-1 -1 -1] n_buckets:[-2 -2 -2] counter_reset_hint:gauge}}', { hint: true });
    assertHist(histogramMul(h, 0), '{{schema:0 count:0 sum:0 z_bucket:0 z_bucket_w:0.001 buckets:[0 0 0] n_buckets:[0 0 0]}}', { hint: true });
    assert.equal(h.count, 30);
  });
  it('division by zero removes the buckets', () => {
    assertHist(histogramDiv(h, 0), '{{schema:0 count:Inf sum:Inf z_bucket_w:0.001 z_bucket:Inf}}');
    const nan = histogramDiv(histogramMul(h, 0), 0);
    assertHist(nan, '{{schema:0 count:NaN sum:NaN z_bucket_w:0.001 z_bucket:NaN}}');
    assert.deepEqual([nan.positiveSpans, nan.positiveBuckets, nan.negativeSpans, nan.negativeBuckets], [[], [], [], []]);
  });
  it('subtraction results stay as the hints say; the PromQL operator sets gauge', () => {
    const m = H('{{schema:0 sum:4 count:4 buckets:[1 2 1]}}');
    const r = histogramSub(m, histogramMul(m, 0.5));
    assert.equal(r.counterResetHint, CounterResetHint.Unknown);
    assertHist(r, '{{count:2 sum:2 buckets:[0.5 1 0.5]}}');
  });
});

// ---- equality, compaction, layouts ------------------------------------------------------------

describe('histogramEquals', () => {
  const base = H('{{schema:1 count:6 sum:7 z_bucket:1 z_bucket_w:0.01 buckets:[1 0 2] n_buckets:[2]}}');
  it('layout-insensitive only for zero-length spans', () => {
    const split = histogramCopy(base);
    split.positiveSpans = [{ offset: -2, length: 0 }, { offset: 2, length: 3 }, { offset: 4, length: 0 }];
    assert.ok(histogramEquals(base, split));
    const touching = histogramCopy(base);
    touching.positiveSpans = [{ offset: 0, length: 1 }, { offset: 0, length: 2 }];
    assert.ok(!histogramEquals(base, touching));
    assert.ok(spansMatch([{ offset: 3, length: 0 }, { offset: 2, length: 1 }, { offset: 9, length: 0 }], [{ offset: 5, length: 1 }]));
    // an empty bucket present in one only: not equal
    assert.ok(!histogramEquals(base, histogramCompact(base)));
  });
  it('compares bits, not the hint', () => {
    assert.ok(histogramEquals(base, { ...histogramCopy(base), counterResetHint: CounterResetHint.Gauge }));
    assert.ok(!histogramEquals(base, { ...histogramCopy(base), sum: 7.000000000000001 }));
    const nan = { ...histogramCopy(base), sum: NaN };
    assert.ok(histogramEquals(nan, histogramCopy(nan)));
    const stale = Buffer.from('7ff0000000000002', 'hex').readDoubleBE(0);
    assert.ok(!histogramEquals(nan, { ...histogramCopy(base), sum: stale }));
    assert.ok(!histogramEquals({ ...histogramCopy(base), zeroCount: 0 }, { ...histogramCopy(base), zeroCount: -0 }));
    assert.ok(!histogramEquals(base, { ...histogramCopy(base), zeroThreshold: 0.02 }));
    assert.ok(!histogramEquals(H('{{schema:-53 count:1 custom_values:[5] buckets:[1]}}'), H('{{schema:-53 count:1 custom_values:[6] buckets:[1]}}')));
  });
});

describe('histogramCompact', () => {
  it('drops empty buckets and merges spans', () => {
    const h = makeHistogram({
      positiveSpans: [{ offset: -2, length: 4 }, { offset: 0, length: 2 }, { offset: 3, length: 3 }],
      positiveBuckets: [0, 1, 0, 2, 3, 0, 0, 0, 4],
      negativeSpans: [{ offset: 0, length: 2 }],
      negativeBuckets: [0, 0],
    });
    const c = histogramCompact(h);
    assert.deepEqual(c.positiveSpans, [{ offset: -1, length: 1 }, { offset: 1, length: 2 }, { offset: 6, length: 1 }]);
    assert.deepEqual(c.positiveBuckets, [1, 2, 3, 4]);
    assert.deepEqual([c.negativeSpans, c.negativeBuckets], [[], []]);
    const c1 = histogramCompact(h, 1);
    assert.deepEqual(c1.positiveSpans, [{ offset: -1, length: 4 }, { offset: 6, length: 1 }]);
    assert.deepEqual(c1.positiveBuckets, [1, 0, 2, 3, 4]);
    assert.deepEqual(histogramCompact(h, 100).positiveBuckets, [1, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4]);
    assert.deepEqual(h.positiveBuckets, [0, 1, 0, 2, 3, 0, 0, 0, 4]); // untouched
  });
  it('reduces resolution', () => {
    const h = H('{{schema:1 count:10 sum:1 buckets:[1 2 3 4] offset:-1 n_buckets:[5]}}');
    const r = histogramReduceResolution(h, -1);
    assert.deepEqual([r.schema, r.positiveSpans, r.positiveBuckets, r.negativeSpans, r.negativeBuckets], [-1, [{ offset: 0, length: 2 }], [3, 7], [{ offset: 0, length: 1 }], [5]]);
    assert.throws(() => histogramReduceResolution(h, 2), RangeError);
  });
});

// ---- counter resets ---------------------------------------------------------------------------

describe('detectCounterReset', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['a bucket went down', '{{schema:0 count:4 sum:5 buckets:[1 2 1]}}', '{{schema:0 count:5 sum:6 buckets:[1 1 3]}}', true],
    ['all up', '{{schema:0 count:4 sum:5 buckets:[1 2 1]}}', '{{schema:0 count:6 sum:7 buckets:[1 2 3]}}', false],
    ['count down', '{{count:4 buckets:[4]}}', '{{count:3 buckets:[4]}}', true],
    ['sum down is fine', '{{count:4 sum:10 buckets:[4]}}', '{{count:4 sum:1 buckets:[4]}}', false],
    ['populated bucket vanished', '{{count:4 buckets:[2 2]}}', '{{count:5 buckets:[5]}}', true],
    ['empty bucket vanished', '{{count:2 buckets:[2 0]}}', '{{count:5 buckets:[5]}}', false],
    ['zero count down', '{{count:4 z_bucket:2 z_bucket_w:0.1 buckets:[2]}}', '{{count:4 z_bucket:1 z_bucket_w:0.1 buckets:[3]}}', true],
    ['finer schema', '{{schema:0 count:1 buckets:[1]}}', '{{schema:1 count:1 buckets:[1]}}', true],
    ['coarser schema, merged', '{{schema:1 count:3 buckets:[1 2] offset:1}}', '{{schema:0 count:3 buckets:[3] offset:1}}', false],
    ['coarser schema, merged, less', '{{schema:1 count:3 buckets:[1 2] offset:1}}', '{{schema:0 count:3 buckets:[2 1] offset:1}}', true],
    ['narrower zero bucket', '{{count:1 z_bucket:1 z_bucket_w:0.1}}', '{{count:1 z_bucket:1 z_bucket_w:0.01}}', true],
    ['wider zero bucket takes buckets', '{{count:3 z_bucket:1 z_bucket_w:0.1 buckets:[2] offset:-1}}', '{{count:3 z_bucket:3 z_bucket_w:0.5}}', false],
    ['wider zero bucket inside a populated bucket', '{{count:2 buckets:[2] offset:1}}', '{{count:2 z_bucket:2 z_bucket_w:1.5}}', true],
    ['negative bucket down', '{{count:4 n_buckets:[4]}}', '{{count:4 n_buckets:[3] buckets:[1]}}', true],
    ['custom to exponential', '{{schema:-53 count:1 custom_values:[1] buckets:[1]}}', '{{count:2 buckets:[2]}}', true],
    ['exponential to custom', '{{count:1 buckets:[1]}}', '{{schema:-53 count:2 custom_values:[1] buckets:[2]}}', true],
    ['custom, same bounds', '{{schema:-53 count:2 custom_values:[5 10] buckets:[1 1]}}', '{{schema:-53 count:3 custom_values:[5 10] buckets:[2 1]}}', false],
    ['custom, mismatched bounds, rolled up', '{{schema:-53 count:2 custom_values:[5] buckets:[1 1]}}', '{{schema:-53 count:3 custom_values:[2 5 10] buckets:[1 1 0 1]}}', false],
    ['custom, mismatched bounds, less', '{{schema:-53 count:2 custom_values:[5] buckets:[2]}}', '{{schema:-53 count:3 custom_values:[2 5 10] buckets:[1 0 2]}}', true],
    ['hint: reset wins', '{{count:1 buckets:[1]}}', '{{count:2 buckets:[2] counter_reset_hint:reset}}', true],
    ['hint: not_reset wins', '{{count:5 buckets:[5]}}', '{{count:2 buckets:[2] counter_reset_hint:not_reset}}', false],
    ['hint: gauge is detected', '{{count:5 buckets:[5]}}', '{{count:2 buckets:[2] counter_reset_hint:gauge}}', true],
  ];
  for (const [name, prev, cur, want] of cases) it(name, () => assert.equal(detectCounterReset(H(prev), H(cur)), want));
});

// ---- conversion ---------------------------------------------------------------------------------

describe('conversion from the stored forms', () => {
  const intObj: HistogramObject = {
    countInt: 4, sum: 5, schema: 0, zeroThreshold: 0.001, zeroCountInt: 1,
    negativeSpans: [], negativeDeltas: [], negativeCounts: [],
    positiveSpans: [{ offset: 0, length: 2 }, { offset: 1, length: 1 }], positiveDeltas: [1, 0, -1], positiveCounts: [],
    resetHint: 3, timestamp: 1000, customValues: [],
  };
  const floatObj: HistogramObject = {
    countFloat: 2.5, sum: 1, schema: -53, zeroThreshold: 0,
    positiveSpans: [{ offset: 0, length: 2 }], positiveCounts: [1, 1.5], customValues: [5, 10], resetHint: 0,
  };
  const wantInt = makeHistogram({
    counterResetHint: CounterResetHint.Gauge, schema: 0, zeroThreshold: 0.001, zeroCount: 1, count: 4, sum: 5,
    positiveSpans: [{ offset: 0, length: 2 }, { offset: 1, length: 1 }], positiveBuckets: [1, 1, 0],
  });
  const wantFloat = makeHistogram({ schema: -53, count: 2.5, sum: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1.5], customValues: [5, 10] });

  it('integer deltas become absolute counts; float histograms copied', () => {
    assert.deepEqual(fromHistogramObject(intObj), wantInt);
    assert.deepEqual(fromHistogramObject(floatObj), wantFloat);
    // custom values of exponential histograms are dropped; bigint F64 are bits
    const stale = 0x7ff0000000000002n;
    const h = fromHistogramObject({ countInt: 0, sum: stale, customValues: [1] });
    assert.deepEqual(h.customValues, []);
    assert.ok(Number.isNaN(h.sum));
    assert.ok(!histogramEquals(h, makeHistogram({ sum: NaN })));
    // the bit pattern survives (the stale marker's payload); bigint custom values are bits too
    const bitsOf = (f: number): bigint => {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setFloat64(0, f);
      return dv.getBigUint64(0);
    };
    assert.equal(bitsOf(h.sum), stale);
    const c = fromHistogramObject({ countInt: 6, schema: -53, customValues: [1, 0x4010000000000000n], positiveSpans: [{ offset: 0, length: 3 }], positiveDeltas: [1, 1, 1] });
    assert.deepEqual(c.customValues, [1, 4]);
    assert.deepEqual(c.positiveBuckets, [1, 2, 3]);
  });

  it('the gRPC query stream form (enum strings, oneofs only when set)', () => {
    const def = ingesterServiceDefinition();
    const m = def.QueryStream as { responseSerialize: (v: unknown) => Buffer; responseDeserialize: (b: Buffer) => { series: Array<{ histograms: unknown[] }> } };
    const wire = m.responseDeserialize(m.responseSerialize({
      series: [{ labels: [{ name: '__name__', value: 'h' }], chunks: [], sampleTimestamps: Buffer.alloc(0), sampleValues: Buffer.alloc(0), hasSamples: false, histograms: [intObj, floatObj] }],
    }));
    const hs = wire.series[0]!.histograms;
    assert.equal((hs[0] as { resetHint: unknown }).resetHint, 'GAUGE');
    assert.deepEqual(fromStoredHistogram(hs[0]), wantInt);
    assert.deepEqual(fromStoredHistogram(hs[1]), wantFloat);
    assert.deepEqual(fromStreamHistograms([{ t: 7, h: intObj }]), [{ t: 7, h: wantInt }]);
    assert.throws(() => fromStoredHistogram(null), /not an object/);
    assert.throws(() => fromStoredHistogram({ resetHint: 'MAYBE' }), /reset hint/);
  });
});

// ---- text forms ---------------------------------------------------------------------------------

describe('formatting', () => {
  it('String() and TestExpression()', () => {
    assert.equal(formatHistogram(H('{{schema:0 sum:5 count:4 buckets:[1 2 1]}}')), '{count:4, sum:5, (0.5,1]:1, (1,2]:2, (2,4]:1}');
    assert.equal(formatHistogram(H('{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 0 3]}}')), '{count:4, sum:5, [-Inf,5]:1, (10,+Inf]:3}');
    assert.equal(formatHistogram(H('{{}}')), '{count:0, sum:0}');
    const h = makeHistogram({
      schema: 1, count: 9, sum: -3, zeroThreshold: 0.001, zeroCount: 1, counterResetHint: CounterResetHint.Gauge,
      positiveSpans: [{ offset: 1, length: 1 }, { offset: 2, length: 1 }], positiveBuckets: [1, 2],
      negativeSpans: [{ offset: -2, length: 1 }], negativeBuckets: [5],
    });
    assert.equal(formatTestExpression(h), '{{schema:1 count:9 sum:-3 z_bucket:1 z_bucket_w:0.001 counter_reset_hint:gauge offset:1 buckets:[1 0 0 2] n_offset:-2 n_buckets:[5]}}');
    assert.equal(formatTestExpression(H('{{schema:-53 custom_values:[-2 3]}}')), '{{schema:-53 custom_values:[-2 3]}}');
    assert.equal(formatTestExpression(H('{{}}')), '{{}}');
  });
});

// ---- compensated summation ------------------------------------------------------------------------

describe('HistogramKahanSum', () => {
  it('keeps small sums next to huge ones (sum_over_time cases)', () => {
    const cases: Array<[string[], string]> = [
      [['{{schema:0 count:1 sum:1}}', '{{schema:0 count:2 sum:1e100}}', '{{schema:0 count:3 sum:1}}', '{{schema:0 count:4 sum:-1e100}}'], '{{schema:0 count:10 sum:2}}'],
      [['{{schema:0 count:1 sum:5.3}}', '{{schema:0 count:2 sum:1e100}}', '{{schema:0 count:3 sum:1}}', '{{schema:0 count:4 sum:-1e100}}', '{{schema:0 count:5 sum:2}}', '{{schema:0 count:6 sum:1e50}}', '{{schema:0 count:7 sum:-1e50}}'], '{{schema:0 count:28 sum:8.3}}'],
      [['{{schema:0 count:1.7976931348623157e+308 sum:5.3}}', '{{schema:0 count:1e308 sum:1e100}}', '{{schema:0 count:1e-6 sum:1}}', '{{schema:0 count:1e-6 sum:-1e100}}', '{{schema:0 count:1e-6 sum:2}}', '{{schema:0 count:1e-6 sum:0}}', '{{schema:0 count:1e-6 sum:0}}'], '{{schema:0 count:Inf sum:8.3}}'],
    ];
    for (const [inputs, want] of cases) {
      const k = new HistogramKahanSum();
      assert.equal(k.result(), null);
      for (const s of inputs) k.add(H(s));
      assertHist(k.result()!, want);
    }
  });
  it('reconciles layouts like histogramAdd, and subtracts', () => {
    const r = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const a = randomHistogram(r);
      const b = randomHistogram(r);
      const k = new HistogramKahanSum().add(a).add(b);
      assert.ok(histogramAlmostEquals(k.result()!, histogramAdd(a, b)), `${formatTestExpression(a)} + ${formatTestExpression(b)}`);
      k.sub(b);
      const back = histogramSub(histogramAdd(a, b), b);
      assert.ok(histogramAlmostEquals(k.result()!, back), `${formatTestExpression(a)} ± ${formatTestExpression(b)}`);
    }
    const notes = newHistogramOpNotes();
    const k = new HistogramKahanSum().add(H('{{schema:-53 count:1 custom_values:[5] buckets:[1]}}')).add(H('{{schema:-53 count:1 custom_values:[5 10] buckets:[0 1]}}'), notes);
    assert.ok(notes.nhcbBoundsReconciled);
    assertHist(k.result()!, '{{schema:-53 count:2 custom_values:[5] buckets:[1 1]}}');
  });
});

// ---- properties (seeded) --------------------------------------------------------------------------

describe('properties', () => {
  it('(a + b) - b == a for equal schema and zero bucket (integer counts: exact)', () => {
    const r = mulberry32(1);
    for (let i = 0; i < 300; i++) {
      const schema = randInt(r, -2, 4);
      const zt = [0, 0.001][randInt(r, 0, 1)]!;
      const a = randomHistogram(r, { schema, zeroThreshold: zt });
      const b = randomHistogram(r, { schema, zeroThreshold: zt });
      const back = histogramSub(histogramAdd(a, b), b);
      assert.ok(histogramEquals(histogramCompact(back), histogramCompact(a)), `${formatTestExpression(a)} / ${formatTestExpression(b)} -> ${formatTestExpression(back)}`);
    }
  });

  it('addition is commutative and conserves the bucket total', () => {
    const r = mulberry32(2);
    for (let i = 0; i < 300; i++) {
      const a = randomHistogram(r);
      const b = randomHistogram(r);
      const ab = histogramAdd(a, b);
      const ba = histogramAdd(b, a);
      assert.ok(histogramAlmostEquals(ab, ba), `${formatTestExpression(ab)} vs ${formatTestExpression(ba)}`);
      assert.equal(ab.schema, Math.min(a.schema, b.schema));
      assert.ok(ab.zeroThreshold >= Math.max(a.zeroThreshold, b.zeroThreshold));
      const total = (h: FloatHistogram) => h.zeroCount + sumOf(h.positiveBuckets) + sumOf(h.negativeBuckets);
      assert.equal(total(ab), total(a) + total(b));
      assert.equal(ab.count, a.count + b.count);
    }
  });

  it('schema reduction conserves counts and every bucket maps into its coarser bucket', () => {
    const r = mulberry32(3);
    for (let i = 0; i < 300; i++) {
      const h = randomHistogram(r, { schema: randInt(r, 0, 8) });
      const target = randInt(r, -4, h.schema);
      const l = histogramReduceResolution(h, target);
      assert.equal(sumOf(l.positiveBuckets), sumOf(h.positiveBuckets));
      assert.equal(sumOf(l.negativeBuckets), sumOf(h.negativeBuckets));
      assert.deepEqual([l.count, l.sum, l.zeroCount, l.zeroThreshold], [h.count, h.sum, h.zeroCount, h.zeroThreshold]);
      // every original bucket lies within the target bucket of the same index mapping
      const orig = decodeBuckets(h.positiveSpans, h.positiveBuckets);
      const red = decodeBuckets(l.positiveSpans, l.positiveBuckets);
      for (const i0 of orig.idx) {
        const hit = red.idx.find((j) => getBoundExponential(j - 1, target) <= getBoundExponential(i0 - 1, h.schema) && getBoundExponential(i0, h.schema) <= getBoundExponential(j, target));
        assert.ok(hit !== undefined, `bucket ${i0} of schema ${h.schema} in schema ${target}`);
      }
      // a quantile at a coarse bucket boundary is the same at both resolutions
      const q = histogramFraction(-Infinity, 1, h);
      close(histogramFraction(-Infinity, 1, l), q, 'fraction below 1');
    }
  });

  it('quantiles are monotone in q and histogramFraction inverts them', () => {
    const r = mulberry32(4);
    for (let i = 0; i < 300; i++) {
      const h = randomHistogram(r);
      if (h.count === 0) continue;
      let prev = -Infinity;
      for (let q = 0; q <= 1.0000001; q += 0.01) {
        const x = histogramQuantile(Math.min(q, 1), h);
        assert.ok(x >= prev - 1e-12 * Math.abs(prev), `${formatTestExpression(h)}: q=${q} gave ${x} < ${prev}`);
        prev = x;
        // (the inverse does not hold at 0 when a zero bucket of width 0 holds a point mass)
        if (q > 0 && q < 1 && Number.isFinite(x) && x !== 0) {
          const f = histogramFraction(-Infinity, x, h);
          assert.ok(Math.abs(f - q) < 1e-9, `${formatTestExpression(h)}: fraction(-Inf, quantile(${q}) = ${x}) = ${f}`);
        }
      }
    }
  });

  it('compaction keeps the histogram and is idempotent', () => {
    const r = mulberry32(5);
    for (let i = 0; i < 300; i++) {
      const h = randomHistogram(r);
      const c = histogramCompact(h);
      assert.ok(histogramAlmostEquals(c, h, { epsilon: 0 }));
      assert.ok(histogramEquals(c, histogramCompact(c)));
      assert.ok(c.positiveBuckets.every((x) => x !== 0) && c.negativeBuckets.every((x) => x !== 0));
      // the zero bucket's bounds depend on whether there are (even empty) buckets on each side
      const sidesSame = (h.positiveBuckets.length === 0) === (c.positiveBuckets.length === 0) && (h.negativeBuckets.length === 0) === (c.negativeBuckets.length === 0);
      if (sidesSame) for (let k = 0; k <= 20; k++) close(histogramQuantile(k / 20, c), histogramQuantile(k / 20, h), 'quantile');
    }
  });

  it('a counter that only grows has no reset; the reverse has one', () => {
    const r = mulberry32(6);
    for (let i = 0; i < 300; i++) {
      const a = randomHistogram(r, { schema: 2, zeroThreshold: 0.001 });
      const d = randomHistogram(r, { schema: randInt(r, 2, 5), zeroThreshold: 0.001 });
      const b = histogramAdd(a, d);
      assert.equal(detectCounterReset(a, b), false);
      if (d.count > 0) assert.equal(detectCounterReset(b, a), true);
    }
  });

  it('integer histograms round-trip through HistogramObject', () => {
    const r = mulberry32(8);
    for (let i = 0; i < 100; i++) {
      const h = randomHistogram(r);
      const deltas = (xs: number[]) => xs.map((x, k) => x - (k === 0 ? 0 : (xs[k - 1] as number)));
      const o: HistogramObject = {
        countInt: h.count, sum: h.sum, schema: h.schema, zeroThreshold: h.zeroThreshold, zeroCountInt: h.zeroCount,
        positiveSpans: h.positiveSpans, positiveDeltas: deltas(h.positiveBuckets), negativeSpans: h.negativeSpans, negativeDeltas: deltas(h.negativeBuckets),
      };
      assert.ok(histogramEquals(fromHistogramObject(o), h));
    }
  });
});
