import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, GO_MAX_DURATION, parseDuration, timerDelay } from '../../src/util/duration.js';

test('parses Go durations', () => {
  const cases: Array<[string, number]> = [
    ['0', 0], ['0s', 0], ['15s', 15_000], ['1m30s', 90_000], ['2h', 7_200_000], ['300ms', 300],
    ['1.5s', 1500], ['250us', 0.25], ['100ns', 0.0001], ['1h2m3s4ms', 3_723_004], ['.5m', 30_000],
    ['infinity', Infinity], [GO_MAX_DURATION, Infinity],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
});

test('rejects malformed durations', () => {
  for (const bad of ['', '15', 's', '1x', '1m30', 'abc', '1 m', '--1s']) {
    assert.throws(() => parseDuration(bad), /invalid duration/, bad);
  }
});

test('formats like Go', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'], [15_000, '15s'], [90_000, '1m30s'], [120_000, '2m0s'], [7_200_000, '2h0m0s'],
    [300, '300ms'], [1500, '1.5s'], [0.25, '250µs'], [Infinity, GO_MAX_DURATION],
  ];
  for (const [ms, s] of cases) assert.equal(formatDuration(ms), s, String(ms));
});

test('format and parse round-trip', () => {
  for (const ms of [1, 999, 1000, 61_000, 3_600_000, 86_400_000, 12.5]) assert.equal(parseDuration(formatDuration(ms)), ms);
});

test('timerDelay refuses what setTimeout would mangle', () => {
  assert.equal(timerDelay(Infinity), undefined);
  assert.equal(timerDelay(0), undefined);
  assert.equal(timerDelay(2 ** 31), undefined);
  assert.equal(timerDelay(1000), 1000);
});
