// Parameter parsing of the query API: times, durations, limits and form values as Prometheus
// parses them, with its error messages (checked against a real Prometheus).
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PromQLError } from '../../src/promql/engine/api.js';
import {
  FormValues, MAX_TIME_FORMATTED, MIN_TIME_FORMATTED, parseDurationParam, parseLimit, parsePromDuration, parseRfc3339, parseTime, parseTimeParam,
} from '../../src/querier/api/params.js';
import { MAX_TIME_MS, MIN_TIME_MS } from '../../src/querier/ingester-queryable.js';
import { goQuote } from '../../src/tsdb/labels/index.js';
import { parseGoFloat } from '../../src/util/go-strconv.js';

test('Go ParseFloat: decimal, exponent, hex, inf/nan; errors and ranges as Go', () => {
  const ok: Array<[string, number]> = [
    ['1', 1], ['+1', 1], ['-1.5', -1.5], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['1E-3', 0.001], ['0x10p0', 16], ['0x1.8p1', 3],
    ['-0x1p-2', -0.25], ['0x1p-2', 0.25], ['inf', Infinity], ['+Inf', Infinity], ['-infinity', -Infinity], ['Infinity', Infinity],
    ['1435781451.781', 1435781451.781], ['0.1', 0.1], ['1e0', 1], ['-5', -5],
  ];
  for (const [s, v] of ok) assert.equal(parseGoFloat(s), v, s);
  assert.ok(Number.isNaN(parseGoFloat('NaN')));
  for (const bad of ['', 'abc', 'Hello World', '1e400', '-1e400', '1_000', '0x10', '+nan', '1.2.3', ' 1', '1 ', 'infx', '0x', 'e5', '1e']) assert.equal(parseGoFloat(bad), undefined, bad);
});

test('times: unix seconds (rounded to ms as Prometheus), RFC 3339 (truncated to ms), Min/MaxTime', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['1.5', 1500],
    ['1435781451.781', 1435781451781],
    ['0.0015', 2],
    ['-0.0015', -2],
    ['0.0004', 0],
    ['-1.5', -1500],
    ['1e3', 1_000_000],
    ['2015-07-01T20:10:51.781Z', 1435781451781],
    ['2015-07-01T20:10:51Z', 1435781451000],
    ['2015-07-01T20:10:51.7819999Z', 1435781451781],
    ['2015-07-01T22:10:51.781+02:00', 1435781451781],
    ['2015-07-01T18:40:51.781-01:30', 1435781451781],
    ['1969-12-31T23:59:59.5Z', -500],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['2016-02-29T00:00:00Z', 1456704000000],
    [MIN_TIME_FORMATTED, MIN_TIME_MS],
    [MAX_TIME_FORMATTED, MAX_TIME_MS],
  ];
  for (const [s, ms] of cases) assert.equal(parseTime(s), ms, s);
  for (const bad of ['', 'abc', '2015-07-01t20:10:51Z', '2015-02-30T20:10:51Z', '2015-02-29T00:00:00Z', '2015-07-01T24:00:00Z', '2015-07-01 20:10:51Z', '2015-07-01T20:10:51']) {
    assert.throws(() => parseTime(bad), { message: `cannot parse ${goQuote(bad)} to a valid timestamp` }, bad);
  }
  assert.equal(parseRfc3339('2015-07-01T20:10:60Z'), undefined);
});

test('parseTimeParam: default when empty; Prometheus\'s wrapped message otherwise', () => {
  const f = new FormValues(new URLSearchParams('time=abc&start='));
  assert.equal(parseTimeParam(f, 'start', 42), 42);
  assert.equal(parseTimeParam(f, 'end', 7), 7);
  assert.throws(() => parseTimeParam(f, 'time', 0), (e: unknown) => {
    assert.ok(e instanceof PromQLError);
    assert.equal(e.errorType, 'bad_data');
    assert.equal(e.message, 'invalid parameter "time": Invalid time value for \'time\': cannot parse "abc" to a valid timestamp');
    return true;
  });
});

test('durations: float seconds or Prometheus durations', () => {
  const cases: Array<[string, number]> = [
    ['15', 15_000], ['0.5', 500], ['1e-3', 1], ['15s', 15_000], ['1m30s', 90_000], ['1h', 3_600_000], ['1d', 86_400_000],
    ['1w', 604_800_000], ['1y', 31_536_000_000], ['100ms', 100], ['0', 0], ['-1', -1000], ['1h30m10s5ms', 5_410_005],
  ];
  for (const [s, ms] of cases) assert.equal(parseDurationParam(s), ms, s);
  for (const bad of ['', 'abc', '1h2', '1s1m', '5M', '1e400', '-5m', '1.5m']) {
    assert.throws(() => parseDurationParam(bad), { message: `cannot parse ${goQuote(bad)} to a valid duration` }, bad);
  }
  assert.throws(() => parseDurationParam('1e10'), { message: 'cannot parse "1e10" to a valid duration. It overflows int64' });
  assert.ok(parseDurationParam('NaN') < 0);
  assert.equal(parsePromDuration('0'), 0);
  assert.equal(parsePromDuration('1m1m'), undefined);
});

test('limit: Atoi messages, negative refused, empty = 0', () => {
  const lim = (s: string): number => parseLimit(new FormValues(new URLSearchParams({ limit: s })));
  assert.equal(parseLimit(new FormValues(new URLSearchParams())), 0);
  assert.equal(lim('10'), 10);
  assert.equal(lim('+3'), 3);
  assert.throws(() => lim('abc'), { message: 'invalid parameter "limit": strconv.Atoi: parsing "abc": invalid syntax' });
  assert.throws(() => lim('1.5'), { message: 'invalid parameter "limit": strconv.Atoi: parsing "1.5": invalid syntax' });
  assert.throws(() => lim('99999999999999999999'), { message: 'invalid parameter "limit": strconv.Atoi: parsing "99999999999999999999": value out of range' });
  assert.throws(() => lim('-1'), { message: 'invalid parameter "limit": limit must be non-negative' });
});

test('form values: body before URL, repeated values body first', () => {
  const f = new FormValues(new URLSearchParams('query=url&match[]=a'), new URLSearchParams('query=body&match[]=b&match[]=c'));
  assert.equal(f.value('query'), 'body');
  assert.deepEqual(f.all('match[]'), ['b', 'c', 'a']);
  assert.equal(f.value('missing'), '');
  assert.ok(f.has('match[]'));
});

test('messages quote as Go %q (tsdb/labels goQuote)', () => {
  assert.equal(goQuote('a"b\\c\n\x01'), '"a\\"b\\\\c\\n\\x01"');
  assert.equal(goQuote('ü'), '"ü"');
});
