// The query API's JSON: float and timestamp formatting, label escaping, histograms and result
// shapes, against what a real Prometheus (2.42, same json codec as 3.x for these) answered.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  errorBody, formatHistogram, formatLabels, formatQueryData, formatSampleTime, formatSampleValue,
  formatScalarTime, jsonString, successBody,
} from '../../src/querier/api/format.js';
import { getBound } from '../../src/querier/api/bounds.js';
import { capAnnotations } from '../../src/querier/api/respond.js';
import { formatFloatE, formatFloatF, formatFloatF6, formatFloatG } from '../../src/util/go-strconv.js';
import type { FloatHistogram } from '../../src/promql/value.js';

// [value, as a vector sample's value, as a scalar's value] — both columns from Prometheus's answers
// to vector(x) and scalar(vector(x)).
const FLOATS: Array<[number, string, string]> = [
  [0, '0', '0'],
  [-0, '-0', '-0'],
  [0.1, '0.1', '0.1'],
  [1, '1', '1'],
  [-1, '-1', '-1'],
  [1e21, '1e+21', '1000000000000000000000'],
  [1e20, '100000000000000000000', '100000000000000000000'],
  [123456789012345678, '123456789012345680', '123456789012345680'],
  [1e-6, '0.000001', '0.000001'],
  [9.99e-7, '9.99e-07', '0.000000999'],
  [1e-7, '1e-07', '0.0000001'],
  [1.5e-7, '1.5e-07', '0.00000015'],
  [5e-324, '5e-324', `0.${'0'.repeat(323)}5`],
  [1.7976931348623157e308, '1.7976931348623157e+308', `17976931348623157${'0'.repeat(292)}`],
  [NaN, 'NaN', 'NaN'],
  [Infinity, '+Inf', '+Inf'],
  [-Infinity, '-Inf', '-Inf'],
  [1 / 3, '0.3333333333333333', '0.3333333333333333'],
  [2 / 3, '0.6666666666666666', '0.6666666666666666'],
  [100, '100', '100'],
  [1e15 + 0.3, '1000000000000000.2', '1000000000000000.2'],
  [-1.5e-10, '-1.5e-10', '-0.00000000015'],
  [12345.678, '12345.678', '12345.678'],
  [0.30000000000000004, '0.30000000000000004', '0.30000000000000004'],
  [1e100, '1e+100', `1${'0'.repeat(100)}`],
  [2.5e-5, '0.000025', '0.000025'],
  [-1e21, '-1e+21', '-1000000000000000000000'],
  [999999999999999900000, '999999999999999900000', '999999999999999900000'],
];

test('sample values format as Prometheus writes them (f, e below 1e-6 and from 1e21)', () => {
  for (const [v, sample, scalar] of FLOATS) {
    assert.equal(formatSampleValue(v), sample, `sample ${v}`);
    assert.equal(formatFloatF(v), scalar, `scalar ${v}`);
  }
});

test('Go FormatFloat e format: two exponent digits at least', () => {
  assert.equal(formatFloatE(1e21), '1e+21');
  assert.equal(formatFloatE(1.5e-7), '1.5e-07');
  assert.equal(formatFloatE(-1.25e300), '-1.25e+300');
  assert.equal(formatFloatE(5e-324), '5e-324');
  assert.equal(formatFloatE(0), '0e+00');
});

test("Go's %g / %v (FormatFloat 'g', -1): exponent below 1e-4 and from 1e6", () => {
  const cases: Array<[number, string]> = [
    [0, '0'], [-0, '-0'], [1, '1'], [0.5, '0.5'], [-0.5, '-0.5'], [1.1, '1.1'], [10, '10'], [100000, '100000'], [123456, '123456'],
    [1e6, '1e+06'], [1234567, '1.234567e+06'], [0.0001, '0.0001'], [-0.001, '-0.001'], [0.00001, '1e-05'], [1.5e-5, '1.5e-05'],
    [1e100, '1e+100'], [-2.5e-7, '-2.5e-07'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'],
    [0.1 + 0.2, '0.30000000000000004'], [Number.MAX_VALUE, '1.7976931348623157e+308'],
  ];
  for (const [x, s] of cases) assert.equal(formatFloatG(x), s, String(x));
});

test("Go's %f: six decimals at every magnitude", () => {
  const cases: Array<[number, string]> = [
    [0, '0.000000'], [0.5, '0.500000'], [-2.25, '-2.250000'], [1e21, '1000000000000000000000.000000'], [-1e22, '-10000000000000000000000.000000'],
    [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'],
  ];
  for (const [x, s] of cases) assert.equal(formatFloatF6(x), s, String(x));
});

test('sample timestamps: seconds with three decimals when not whole; scalar times as JSON numbers', () => {
  const cases: Array<[number, string, string]> = [
    [1500, '1.500', '1.5'],
    [1050, '1.050', '1.05'],
    [3000, '3', '3'],
    [0, '0', '0'],
    [1, '0.001', '0.001'],
    [-1500, '-1.500', '-1.5'],
    [1435781451781, '1435781451.781', '1435781451.781'],
    [1700000000010, '1700000000.010', '1700000000.01'],
  ];
  for (const [ms, sample, scalar] of cases) {
    assert.equal(formatSampleTime(ms), sample, `sample time ${ms}`);
    assert.equal(formatScalarTime(ms), scalar, `scalar time ${ms}`);
  }
});

test('strings are escaped as Prometheus does: HTML characters and control characters, line separators as they are', () => {
  assert.equal(jsonString('plain'), '"plain"');
  assert.equal(jsonString('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(jsonString('<a>&'), '"\\u003ca\\u003e\\u0026"');
  assert.equal(jsonString('\n\r\t\b\f\u0001'), '"\\n\\r\\t\\u0008\\u000c\\u0001"');
  assert.equal(jsonString('\u2028\u2029'), '"\u2028\u2029"');
  assert.equal(jsonString('ü😀'), '"ü😀"');
  assert.equal(jsonString('x\ud800y'), '"x\\ufffdy"');
  assert.equal(formatLabels(['__name__', 'up', 'job', 'a<b']), '{"__name__":"up","job":"a\\u003cb"}');
  assert.equal(formatLabels(['__name__', 'up', 'job', 'x'], true), '{"job":"x"}');
  assert.equal(formatLabels([]), '{}');
});

test('query results: vector, matrix, scalar, string', () => {
  assert.equal(
    formatQueryData({ type: 'vector', value: [{ metric: ['__name__', 'up'], t: 1500, f: 1e21, h: null }] }),
    '{"resultType":"vector","result":[{"metric":{"__name__":"up"},"value":[1.500,"1e+21"]}]}',
  );
  assert.equal(
    formatQueryData({ type: 'matrix', value: [{ metric: [], floats: [{ t: 1500, f: 1e21 }, { t: 2250, f: 1e21 }, { t: 3000, f: 1e21 }], histograms: [] }] }),
    '{"resultType":"matrix","result":[{"metric":{},"values":[[1.500,"1e+21"],[2.250,"1e+21"],[3,"1e+21"]]}]}',
  );
  assert.equal(formatQueryData({ type: 'scalar', value: { t: 1500, v: 1e-7 } }), '{"resultType":"scalar","result":[1.5,"0.0000001"]}');
  assert.equal(formatQueryData({ type: 'string', value: { t: 1500, s: 'abc' } }), '{"resultType":"string","result":[1.5,"abc"]}');
  assert.equal(formatQueryData({ type: 'vector', value: [] }), '{"resultType":"vector","result":[]}');
});

function hist(over: Partial<FloatHistogram>): FloatHistogram {
  return {
    counterResetHint: 0, schema: 0, zeroThreshold: 0, zeroCount: 0, count: 0, sum: 0,
    positiveSpans: [], negativeSpans: [], positiveBuckets: [], negativeBuckets: [], customValues: [], ...over,
  };
}

test('histogram JSON: buckets of AllBucketIterator, empty ones left out, boundary rules', () => {
  // schema 0: positive bucket i covers (2^(i-1), 2^i]; negative mirrored; zero bucket closed
  const h = hist({
    schema: 0, zeroThreshold: 0.001, zeroCount: 2, count: 12, sum: 3.5,
    positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 0, 4],
    negativeSpans: [{ offset: 1, length: 2 }], negativeBuckets: [3, 2],
  });
  assert.equal(
    formatHistogram(h),
    '{"count":"12","sum":"3.5","buckets":[[1,"-4","-2","2"],[1,"-2","-1","3"],[3,"-0.001","0.001","2"],[0,"0.5","1","1"],[0,"2","4","4"]]}',
  );
  assert.equal(formatHistogram(hist({ count: 0, sum: 0 })), '{"count":"0","sum":"0"}');
  // schema 3 around 1: Prometheus's table bounds (0.7071067811865475, not Math.SQRT1_2)
  const h3 = hist({ schema: 3, count: 5, sum: 1, positiveSpans: [{ offset: -3, length: 5 }], positiveBuckets: [1, 1, 1, 1, 1] });
  assert.equal(
    formatHistogram(h3),
    '{"count":"5","sum":"1","buckets":[[0,"0.7071067811865475","0.7711054127039704","1"],[0,"0.7711054127039704","0.8408964152537144","1"],' +
      '[0,"0.8408964152537144","0.9170040432046711","1"],[0,"0.9170040432046711","1","1"],[0,"1","1.0905077326652577","1"]]}',
  );
  // custom buckets: the first bucket includes -Inf
  const c = hist({ schema: -53, customValues: [1, 5], count: 6, sum: 10, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 3] });
  assert.equal(formatHistogram(c), '{"count":"6","sum":"10","buckets":[[3,"-Inf","1","1"],[0,"1","5","2"],[0,"5","+Inf","3"]]}');
  assert.equal(
    formatQueryData({ type: 'vector', value: [{ metric: ['__name__', 'h'], t: 1000, f: 0, h: hist({ count: 1, sum: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] }) }] }),
    '{"resultType":"vector","result":[{"metric":{"__name__":"h"},"histogram":[1,{"count":"1","sum":"1","buckets":[[0,"0.5","1","1"]]}]}]}',
  );
});

test('bucket bounds: Prometheus\'s table, also where it is not the correctly rounded value', () => {
  assert.equal(getBound(1, 1, []), 1.4142135623730950); // 0.7071067811865475 * 2
  assert.equal(getBound(1, 1, []) / 2, 0.7071067811865475);
  assert.notEqual(0.7071067811865475, Math.SQRT1_2);
  assert.equal(getBound(0, 3, []), 1);
  assert.equal(getBound(-1, 0, []), 0.5);
  assert.equal(getBound(1024, 0, []), Number.MAX_VALUE);
  assert.equal(getBound(1025, 0, []), Infinity);
  assert.equal(getBound(4, -2, []), 65536);
  assert.equal(getBound(256, -2, []), Number.MAX_VALUE);
  assert.equal(getBound(2, -53, [1, 2]), Infinity);
  assert.equal(getBound(-1, -53, [1, 2]), -Infinity);
});

test('envelopes: warnings and infos only when present; errors', () => {
  assert.equal(successBody('[]'), '{"status":"success","data":[]}');
  assert.equal(successBody('[]', ['w'], ['i']), '{"status":"success","data":[],"warnings":["w"],"infos":["i"]}');
  assert.equal(successBody(undefined), '{"status":"success"}');
  assert.equal(errorBody('bad_data', 'x "y"'), '{"status":"error","errorType":"bad_data","error":"x \\"y\\""}');
  const many = Array.from({ length: 12 }, (_, i) => `w${i}`);
  const capped = capAnnotations(many, 'warning');
  assert.equal(capped.length, 11);
  assert.equal(capped[10], '2 more warning annotations omitted');
  assert.deepEqual(capAnnotations(['a'], 'info'), ['a']);
});
