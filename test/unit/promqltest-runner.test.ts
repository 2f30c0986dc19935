// The promqltest runner's own parts: script language, series notation, test storage, result
// comparison and the runner loop, checked against hand-made results (no engine involved).
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AtModifier, Expr, FunctionSignature, MatrixSelector, VectorSelector } from '../../src/promql/ast.js';
import { PromQLError } from '../../src/promql/engine/api.js';
import type { QueryResult } from '../../src/promql/engine/api.js';
import { makeAtRewriter } from '../../src/promql/promqltest/at-rewrite.js';
import { HistogramChunkState } from '../../src/promql/promqltest/chunk-emulation.js';
import { almostEqual, checkAnnotations, checkExpectedFailure, compareResult, histogramsMatch } from '../../src/promql/promqltest/compare.js';
import { checkKnownFailures, formatKnownFailures, parseKnownFailures } from '../../src/promql/promqltest/corpus.js';
import { HINT_GAUGE, HINT_NOT_RESET, HINT_RESET, HINT_UNKNOWN, combineHistograms, emptyHistogram, histogramExpression } from '../../src/promql/promqltest/hist.js';
import { convertClassicHistograms } from '../../src/promql/promqltest/nhcb.js';
import { parseDurationMs, parseGoNumber, readStringLiteral, unquote } from '../../src/promql/promqltest/numbers.js';
import { ScriptRunner, load } from '../../src/promql/promqltest/runner.js';
import type { CaseResult, QueryEngine } from '../../src/promql/promqltest/runner.js';
import { parseScript } from '../../src/promql/promqltest/script.js';
import type { Command, EvalCommand, LoadCommand } from '../../src/promql/promqltest/script.js';
import { Sequence, Slot, isStaleNumber } from '../../src/promql/promqltest/sequence.js';
import { parseHistogramLiteral, parseIdentity, parseSTSequence, parseSeriesDesc } from '../../src/promql/promqltest/series.js';
import { TestStorage } from '../../src/promql/promqltest/storage.js';
import { blankStrings, unsupportedFeature } from '../../src/promql/promqltest/unsupported.js';
import type { FloatHistogram, QueryValue, Queryable } from '../../src/promql/value.js';
import { floatToBits } from '../../src/tsdb/chunkenc/index.js';

const STALE_BITS = 0x7ff0000000000002n;

function bitsOf(a: Float64Array, i: number): bigint {
  return new BigUint64Array(a.buffer, a.byteOffset, a.length)[i] as bigint;
}

function floats(seq: Sequence): (number | '_' | 'stale' | 'h')[] {
  const out: (number | '_' | 'stale' | 'h')[] = [];
  for (let i = 0; i < seq.length; i++) {
    const k = seq.kind(i);
    if (k === Slot.Omitted) out.push('_');
    else if (k === Slot.Histogram) out.push('h');
    else out.push(seq.isStale(i) ? 'stale' : (seq.floats[i] as number));
  }
  return out;
}

function evalOf(script: string): EvalCommand {
  const cmd = parseScript(script).find((c) => c.kind === 'eval' || c.kind === 'error');
  if (cmd === undefined || cmd.kind !== 'eval') throw new Error(`no eval: ${JSON.stringify(cmd)}`);
  return cmd;
}

// ---- numbers -----------------------------------------------------------------------------------

test('numbers are read as Go does: ParseInt(base 0), then ParseFloat', () => {
  const cases: [string, number | null][] = [
    ['42', 42],
    ['-7', -7],
    ['010', 8],
    ['08', 8],
    ['0x1f', 31],
    ['0b101', 5],
    ['1e3', 1000],
    ['12.34e-6', 0.00001234],
    ['.2', 0.2],
    ['2.', 2],
    ['+Inf', Infinity],
    ['inf', Infinity],
    ['-Inf', -Infinity],
    ['9223372036854775808', 9223372036854775808],
    ['abc', null],
    ['1m', null],
    ['', null],
  ];
  for (const [s, want] of cases) assert.equal(parseGoNumber(s), want, s);
  assert.ok(Number.isNaN(parseGoNumber('NaN')));
  assert.ok(Number.isNaN(parseGoNumber('nan')));
});

test('durations follow model.ParseDuration', () => {
  assert.equal(parseDurationMs('0'), 0);
  assert.equal(parseDurationMs('10s53ms'), 10_053);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('2h'), 7_200_000);
  assert.equal(parseDurationMs('1d'), 86_400_000);
  assert.equal(parseDurationMs('1w'), 7 * 86_400_000);
  assert.equal(parseDurationMs('1y'), 365 * 86_400_000);
  for (const bad of ['', '1m1h', '5', '-1m', '1.5m', 'x']) assert.throws(() => parseDurationMs(bad), bad);
});

test('string literals use Go escapes', () => {
  assert.deepEqual(readStringLiteral('"a\\"b\\n\\t\\x41\\u00e9\\101" rest', 0), { value: 'a"b\n\tAéA', end: 24 });
  assert.equal(readStringLiteral("'it\\'s'", 0).value, "it's");
  assert.equal(readStringLiteral('`raw\\n`', 0).value, 'raw\\n');
  assert.equal(readStringLiteral('"\\xc3\\xa9"', 0).value, 'é');
  assert.throws(() => readStringLiteral('"open', 0));
  assert.throws(() => readStringLiteral('"\\q"', 0));
  assert.equal(unquote('"Foo"'), 'Foo');
  assert.equal(unquote('`Foo`'), 'Foo');
  assert.equal(unquote('""'), '');
  assert.throws(() => unquote('"a" x'));
});

// ---- series descriptions -----------------------------------------------------------------------

test('series identities: name, name{...}, {...}, quoted names, escapes', () => {
  assert.deepEqual([...parseIdentity('up').labels], ['__name__', 'up']);
  assert.deepEqual([...parseIdentity('http_requests{job="api", instance="0"} 1').labels], ['__name__', 'http_requests', 'instance', '0', 'job', 'api']);
  assert.deepEqual([...parseIdentity('{__name__="m", a="x y"}').labels], ['__name__', 'm', 'a', 'x y']);
  assert.deepEqual([...parseIdentity('{}').labels], []);
  assert.deepEqual([...parseIdentity('{"my.metric", "a.b"="c"}').labels], ['__name__', 'my.metric', 'a.b', 'c']);
  assert.deepEqual([...parseIdentity('m{a="\\"q\\"",}').labels], ['__name__', 'm', 'a', '"q"']);
  assert.deepEqual([...parseIdentity('ns:metric:rate5m{a=\'b\'}').labels], ['__name__', 'ns:metric:rate5m', 'a', 'b']);
  assert.equal(parseIdentity('m{a="b"} 1 2').end, 8);
  assert.throws(() => parseIdentity('m{a=~"b"}'));
  assert.throws(() => parseIdentity('m{a!="b"}'));
  assert.throws(() => parseIdentity('m{a="b" b="c"}'));
  assert.throws(() => parseIdentity('m{a="1", a="2"}'));
});

test('float items expand as in Prometheus (axN is N+1 values, repeated addition)', () => {
  const s = parseSeriesDesc('m 0+10x100').values;
  assert.equal(s.length, 101);
  assert.equal(s.floats[100], 1000);
  assert.deepEqual(floats(parseSeriesDesc('m 1 2 _ stale 5').values), [1, 2, '_', 'stale', 5]);
  assert.deepEqual(floats(parseSeriesDesc('m _x3 1x2').values), ['_', '_', '_', 1, 1, 1]);
  assert.deepEqual(floats(parseSeriesDesc('m 1-2x3').values), [1, -1, -3, -5]);
  assert.deepEqual(floats(parseSeriesDesc('m -1+1x2 -Inf +Inf').values), [-1, 0, 1, -Infinity, Infinity]);
  assert.deepEqual(floats(parseSeriesDesc('m 1e3 1e+3x1 1e-3-1e-3x1').values), [1000, 1000, 1000, 0.001, 0]);
  assert.deepEqual(floats(parseSeriesDesc('m stalex2').values), ['stale', 'stale', 'stale']);
  const nan = parseSeriesDesc('m NaN').values;
  assert.ok(Number.isNaN(nan.floats[0]) && !nan.isStale(0));
  // 0.1 added ten times is not 1 (0.1*10 would be)
  let v = 0;
  for (let i = 0; i < 10; i++) v += 0.1;
  assert.equal(parseSeriesDesc('m 0+0.1x10').values.floats[10], v);
  assert.notEqual(v, 1);
  for (const bad of ['m 1+2', 'm abc', 'm 1x', 'm 1 2 x3', 'm stale+1x2']) assert.throws(() => parseSeriesDesc(bad), bad);
});

test('the stale marker keeps its exact bits', () => {
  const seq = parseSeriesDesc('m stale 1 stale').values;
  assert.equal(bitsOf(seq.floats, 0), STALE_BITS);
  assert.equal(bitsOf(seq.floats, 2), STALE_BITS);
  const grown = new Sequence(1);
  for (let i = 0; i < 40; i++) grown.pushStale();
  grown.append(seq);
  assert.equal(bitsOf(grown.floats, 39), STALE_BITS);
  assert.equal(bitsOf(grown.floats, 42), STALE_BITS);
});

test('histogram literals build float histograms', () => {
  const { h, hintSet } = parseHistogramLiteral(
    'schema:1 sum:-0.3 count:3.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5 counter_reset_hint:gauge',
  );
  assert.equal(hintSet, true);
  assert.deepEqual(h, {
    counterResetHint: HINT_GAUGE,
    schema: 1,
    zeroThreshold: 0.05,
    zeroCount: 7.1,
    count: 3.1,
    sum: -0.3,
    positiveSpans: [{ offset: -3, length: 3 }],
    negativeSpans: [{ offset: -5, length: 2 }],
    positiveBuckets: [5.1, 10, 7],
    negativeBuckets: [4.1, 5],
    customValues: [],
  });
  const empty = parseHistogramLiteral('');
  assert.deepEqual(empty, { h: emptyHistogram(), hintSet: false });
  const nhcb = parseHistogramLiteral('schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]').h;
  assert.deepEqual(nhcb.customValues, [5, 10]);
  assert.equal(parseHistogramLiteral('sum:NaN count:Inf').h.count, Infinity);
  for (const bad of ['schema:x', 'foo:1', 'buckets:1', 'sum:1 sum:2', 'counter_reset_hint:maybe', 'sum']) assert.throws(() => parseHistogramLiteral(bad), bad);
});

test('histogram sequences: {{A}}xN repeats, {{A}}+{{B}}xN adds bucket-aligned', () => {
  const rep = parseSeriesDesc('m {{sum:1 count:1 buckets:[1]}}x2 1').values;
  assert.deepEqual(floats(rep), ['h', 'h', 'h', 1]);
  const inc = parseSeriesDesc('m {{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{sum:2 count:1 buckets:[1] offset:1}}x2').values;
  assert.equal(inc.length, 3);
  const last = inc.histogram(2)?.h as FloatHistogram;
  assert.equal(histogramExpression(last), '{{count:6 sum:9 buckets:[1 4 1]}}');
  const neg = parseSeriesDesc('m {{schema:0 sum:10 count:10 buckets:[4 6]}}-{{sum:1 count:1 buckets:[0 1]}}x2').values;
  assert.equal(histogramExpression(neg.histogram(2)?.h as FloatHistogram), '{{count:8 sum:8 buckets:[4 4]}}');
  // the increment may not have a coarser schema than the running value
  assert.throws(() => parseSeriesDesc('m {{schema:1}}+{{schema:0}}x1'));
  // a finer increment is reduced to the running value's schema: schema 1 buckets 1,2 -> schema 0 bucket 1
  const mixed = combineHistograms(parseHistogramLiteral('schema:0 count:1 buckets:[1] offset:1').h, parseHistogramLiteral('schema:1 count:2 buckets:[1 1] offset:1').h, 1);
  assert.equal(histogramExpression(mixed), '{{count:3 offset:1 buckets:[3]}}');
  assert.throws(() => combineHistograms(parseHistogramLiteral('schema:-53 custom_values:[1]').h, parseHistogramLiteral('schema:-53 custom_values:[2]').h, 1));
});

test('start-timestamp sequences', () => {
  assert.deepEqual(parseSTSequence('_ _ -30s-1mx2 -1m'), [null, null, -30_000, -90_000, -150_000, -60_000]);
  assert.deepEqual(parseSTSequence('_x2 -1msx1 0 1ms+1msx1'), [null, null, -1, -1, 0, 1, 2]);
  assert.deepEqual(parseSTSequence('-1m * *x1'), [-60_000, -60_000, -60_000, -60_000]);
});

// ---- the script language -----------------------------------------------------------------------

const SCRIPT = `
# a comment ends nothing here
load 5m
  http_requests{job="api", instance="0"} 0+10x10
  http_requests{job="api", instance="0"} 0+20x10
  other 1 _ stale

eval instant at 50m sum(http_requests) by (job)
  expect no_warn
  expect info regex: something \\(\\d+:\\d+\\)
  {job="api"} 200

eval range from 0 to 10m step 5m http_requests
  http_requests{job="api", instance="0"} 0 20 _

eval instant at 1m 1 + 1
  2
eval instant at 0 this_is_a_new_command

clear

eval_fail instant at 0 foo
  expected_fail_message boom

eval instant at 10s metric[10s]
  expect range vector from 0 to 10s step 5s
  metric 1 2 3

eval instant at 0 "x"
  expect string "x"

eval_ordered instant at 0 sort(x)
  x{a="2"} 1
  x{a="1"} 2
`;

test('scripts parse into load/clear/eval commands with every documented line', () => {
  const cmds = parseScript(SCRIPT);
  assert.deepEqual(
    cmds.map((c) => `${c.kind}@${c.line}`),
    ['load@3', 'eval@8', 'eval@13', 'eval@16', 'eval@18', 'clear@20', 'eval@22', 'eval@25', 'eval@29', 'eval@32'],
  );
  const ld = cmds[0] as LoadCommand;
  assert.equal(ld.intervalMs, 300_000);
  assert.equal(ld.series.length, 2, 'the same series twice in one block: the later line wins');
  assert.equal(ld.series[0]?.values.floats[1], 20);

  const sum = cmds[1] as EvalCommand;
  assert.equal(sum.expr, 'sum(http_requests) by (job)');
  assert.equal(sum.evalTime, 3_000_000);
  assert.equal(sum.noWarn, true);
  assert.equal(sum.expectInfo.length, 1);
  assert.equal(sum.expectInfo[0]?.matches('PromQL info: something (1:2)'), true);
  assert.equal(sum.expected.size, 1);

  const range = cmds[2] as EvalCommand;
  assert.deepEqual([range.isRange, range.start, range.end, range.step, range.expr], [true, 0, 600_000, 300_000, 'http_requests']);

  const scalar = cmds[3] as EvalCommand;
  assert.equal(scalar.expectScalar, true);
  assert.equal(scalar.scalar.floats[0], 2);
  assert.equal((cmds[4] as EvalCommand).expr, 'this_is_a_new_command', 'a scalar line ends the block');

  const failing = cmds[6] as EvalCommand;
  assert.equal(failing.failMod, true);
  assert.equal(failing.expectedFailMessage, 'boom');

  const rv = cmds[7] as EvalCommand;
  assert.deepEqual([rv.expectRangeVector, rv.start, rv.end, rv.step, rv.evalTime, rv.excludeFromRangeQuery], [true, 0, 10_000, 5_000, 10_000, true]);

  const str = cmds[8] as EvalCommand;
  assert.deepEqual([str.hasExpectString, str.expectedString], [true, 'x']);

  const ordered = cmds[9] as EvalCommand;
  assert.equal(ordered.orderedMod, true);
  assert.deepEqual(
    [...ordered.expected.values()].map((e) => e.pos),
    [1, 2],
  );
});

test('a comment line ends a block; malformed commands become errors and parsing goes on', () => {
  const cmds = parseScript(`load 1m
  a 1
# ends the load
  b 2

eval instant at 0 a
  a 1 2

eval instant at xyz a

eval instant at 0 a
  expect warn
  expect no_warn

eval instant at 0 a
  expect fail
  expect fail

eval range from 10m to 0 step 1m a

bogus command

load 1m
  m{a=~"x"} 1

eval instant at 0 a
  a 1
`);
  assert.deepEqual(
    cmds.map((c) => (c.kind === 'error' ? `error@${c.line}` : `${c.kind}@${c.line}`)),
    ['load@1', 'error@4', 'error@6', 'error@9', 'error@11', 'error@15', 'error@19', 'error@21', 'error@23', 'eval@26'],
  );
  const errs = cmds.filter((c): c is Extract<Command, { kind: 'error' }> => c.kind === 'error');
  assert.match(errs[1]?.message ?? '', /multiple values in instant evaluation/);
  assert.match(errs[2]?.message ?? '', /invalid timestamp definition/);
  assert.match(errs[3]?.message ?? '', /warn and no_warn/);
  assert.match(errs[4]?.message ?? '', /multiple expect fail/);
  assert.match(errs[5]?.message ?? '', /end timestamp .* is before start timestamp/);
  assert.match(errs[6]?.message ?? '', /invalid command/);
});

test('@st lines pair with the next series line', () => {
  const [ld] = parseScript(`load 1m
  m{a="1"}@st _ -1mx1
  m{a="1"} 1 2 3
  n 1
`) as LoadCommand[];
  assert.equal(ld?.startTimestamps, true);
  assert.deepEqual(ld?.series[0]?.st, [null, -60_000, -60_000]);
  assert.equal(ld?.series[1]?.st, null);
  const bad = parseScript(`load 1m
  m@st _ _
  m 1
`);
  assert.equal(bad[0]?.kind, 'error');
});

// ---- storage -----------------------------------------------------------------------------------

function loaded(text: string): TestStorage {
  const st = new TestStorage();
  for (const c of parseScript(text)) if (c.kind === 'load') load(st, c);
  return st;
}

const NO_SIGNAL = new AbortController().signal;

test('storage selects with Prometheus matcher semantics, sorted, within [mint, maxt]', async () => {
  const st = loaded(`load 1m
  m{job="a", i="1"} 1 2 3
  m{job="b"} 4 5 6
  n{job="a"} 7 _ 9
  o 1 stale
`);
  const sel = async (ms: { type: '=' | '!=' | '=~' | '!~'; name: string; value: string }[], mint = 0, maxt = 1e9): Promise<string[]> =>
    (await st.select(ms, mint, maxt, NO_SIGNAL)).map((s) => s.labels.join(','));
  assert.deepEqual(await sel([{ type: '=', name: '__name__', value: 'm' }]), ['__name__,m,i,1,job,a', '__name__,m,job,b']);
  assert.deepEqual(await sel([{ type: '=~', name: 'job', value: 'a|x' }]), ['__name__,m,i,1,job,a', '__name__,n,job,a']);
  assert.deepEqual(await sel([{ type: '=~', name: 'job', value: 'a.*' }, { type: '=', name: 'i', value: '' }]), ['__name__,n,job,a']);
  assert.deepEqual(await sel([{ type: '!~', name: '__name__', value: 'm|o' }]), ['__name__,n,job,a']);
  assert.deepEqual(await sel([{ type: '=', name: '__name__', value: 'n' }], 60_000, 60_000), [], 'no samples in range: no series');
  const [n] = await st.select([{ type: '=', name: '__name__', value: 'n' }], 0, 120_000, NO_SIGNAL);
  assert.deepEqual([...(n?.t ?? [])], [0, 120_000]);
  assert.deepEqual([...(n?.v ?? [])], [7, 9]);
  const [o] = await st.select([{ type: '=', name: '__name__', value: 'o' }], 0, 1e9, NO_SIGNAL);
  assert.equal(bitsOf(o?.v as Float64Array, 1), STALE_BITS, 'the stale marker reaches the engine bit for bit');
  assert.deepEqual(await st.labelNames([{ type: '=', name: 'job', value: 'a' }], 0, 1e9, NO_SIGNAL), ['__name__', 'i', 'job']);
  assert.deepEqual(await st.labelValues('job', [], 0, 1e9, NO_SIGNAL), ['a', 'b']);
  assert.deepEqual(await st.labelValues('__name__', [], 100_000, 1e9, NO_SIGNAL), ['m', 'n']);
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(st.select([], 0, 1, ac.signal), /stop/);
});

test('storage appends follow TSDB rules and loads add up', () => {
  const st = loaded(`load 1m
  m 1 2

load 30s
  m _ _ _ _ 5
`);
  const m = st.rawSeries(['__name__', 'm']);
  assert.deepEqual([...(m?.t ?? [])], [0, 60_000, 120_000]);
  assert.throws(() => loaded(`load 1m
  m 1 2

load 1m
  m 3
`), /out of order|duplicate/);
  // the same value again at the same time is accepted silently
  assert.doesNotThrow(() => loaded(`load 1m
  m 1 2

load 1m
  m _ 2
`));
  const h = loaded(`load 1m
  h {{count:1}} stale
`).rawSeries(['__name__', 'h']);
  assert.equal(h?.histograms.length, 1);
  assert.equal(bitsOf(h?.v as Float64Array, 0), STALE_BITS, 'a stale marker after a histogram is a float stale marker');
});

test('histograms get the counter-reset hints a Prometheus TSDB reads back', () => {
  const st = loaded(`load 1m
  c {{sum:6 count:5 buckets:[2 2 1]}}+{{sum:2 count:3 buckets:[1 1 1]}}x2 {{sum:4 count:4 buckets:[1 2 1]}}+{{sum:2 count:3 buckets:[1 1 1]}}x1
  g {{sum:4 count:4 counter_reset_hint:gauge buckets:[1 2 1]}}x2
  mixed {{count:1}} {{count:2 counter_reset_hint:gauge}} {{count:3}} {{count:4 counter_reset_hint:reset}} {{count:5}} stale {{count:6}}
  schema {{count:1}} {{schema:1 count:2}} {{schema:1 count:3 z_bucket_w:0.1}}
`);
  const hints = (name: string): number[] => st.rawSeries(['__name__', name])?.histograms.map((p) => p.h.counterResetHint) ?? [];
  assert.deepEqual(hints('c'), [HINT_UNKNOWN, HINT_NOT_RESET, HINT_NOT_RESET, HINT_UNKNOWN, HINT_NOT_RESET]);
  assert.deepEqual(hints('g'), [HINT_GAUGE, HINT_GAUGE, HINT_GAUGE]);
  assert.deepEqual(hints('mixed'), [HINT_UNKNOWN, HINT_GAUGE, HINT_UNKNOWN, HINT_UNKNOWN, HINT_NOT_RESET, HINT_UNKNOWN]);
  assert.deepEqual(hints('schema'), [HINT_UNKNOWN, HINT_UNKNOWN, HINT_UNKNOWN]);
  // storage hands out copies: the engine cannot change stored data
  const first = st.rawSeries(['__name__', 'c'])?.histograms[0]?.h as FloatHistogram;
  first.count = 1e9;
  assert.equal(st.rawSeries(['__name__', 'c'])?.histograms[0]?.h.count, 5);
});

test('long histogram series are cut into chunks by size', () => {
  const s = new HistogramChunkState();
  const got: number[] = [];
  for (let i = 0; i < 400; i++) {
    const h = emptyHistogram();
    h.count = i * 1.37;
    h.sum = i * 3.1;
    h.positiveSpans = [{ offset: 0, length: 8 }];
    h.positiveBuckets = [1, 2, 3, 4, 5, 6, 7, 8].map((b) => b * i * 0.17);
    got.push(s.appendHistogram(i * 60_000, h));
  }
  const cuts = got.map((h, i) => (h === HINT_UNKNOWN ? i : -1)).filter((i) => i >= 0);
  assert.equal(cuts[0], 0);
  assert.ok(cuts.length > 2, `expected size-based cuts, got ${cuts.join(',')}`);
  assert.ok((cuts[1] as number) >= 10);
  assert.equal(HINT_RESET, 1);
});

test('load_with_nhcb adds native histograms with custom buckets', () => {
  const [ld] = parseScript(`load_with_nhcb 1m
  req_bucket{le="0.1", job="a"} 1 2
  req_bucket{le="1", job="a"} 3 5
  req_bucket{le="+Inf", job="a"} 4 7
  req_bucket{le="NaN", job="a"} 9 9
  req_count{job="a"} 4 7
  req_sum{job="a"} 1.5 3
`) as LoadCommand[];
  const fams = convertClassicHistograms(ld?.series ?? [], ld?.intervalMs ?? 0);
  assert.equal(fams.length, 1);
  assert.deepEqual([...(fams[0]?.labels ?? [])], ['__name__', 'req', 'job', 'a']);
  assert.equal(histogramExpression(fams[0]?.samples[1]?.h as FloatHistogram), '{{schema:-53 count:7 sum:3 custom_values:[0.1 1] buckets:[2 3 2]}}');
  const st = new TestStorage();
  if (ld !== undefined) load(st, ld);
  assert.equal(st.rawSeries(['__name__', 'req', 'job', 'a'])?.histograms.length, 2);
  assert.equal(st.rawSeries(['__name__', 'req_count', 'job', 'a'])?.t.length, 2);
});

// ---- comparison --------------------------------------------------------------------------------

test('almostEqual: relative tolerance 1e-6, NaN equals NaN, stale only equals stale', () => {
  const stale = new Float64Array(new BigUint64Array([STALE_BITS]).buffer)[0] as number;
  assert.ok(almostEqual(1, 1 + 1e-7));
  assert.ok(!almostEqual(1, 1 + 1e-5));
  assert.ok(almostEqual(NaN, NaN));
  assert.ok(almostEqual(Infinity, Infinity));
  assert.ok(!almostEqual(Infinity, -Infinity));
  assert.ok(!almostEqual(0, 1e-300));
  assert.ok(almostEqual(0, -0));
  assert.ok(!almostEqual(NaN, 1));
  if (isStaleNumber(stale)) {
    assert.ok(!almostEqual(stale, NaN));
    assert.ok(almostEqual(stale, stale));
  }
  assert.equal(floatToBits(1), 0x3ff0000000000000n);
});

test('histograms compare compacted, with tolerance, hint only when stated', () => {
  const a = parseHistogramLiteral('schema:0 count:4 sum:10 buckets:[1 0 2 1]').h;
  const b = parseHistogramLiteral('schema:0 count:4.000001 sum:10 buckets:[1] offset:0').h;
  b.positiveSpans = [
    { offset: 0, length: 1 },
    { offset: 1, length: 0 },
    { offset: 0, length: 2 },
  ];
  b.positiveBuckets = [1, 2, 1];
  b.counterResetHint = HINT_NOT_RESET;
  assert.ok(histogramsMatch(a, b, false));
  assert.ok(!histogramsMatch(a, b, true), 'explicit hint unknown vs not_reset');
  const c = parseHistogramLiteral('schema:0 count:4 sum:10 buckets:[1 2 1]').h;
  assert.ok(!histogramsMatch(a, c, false), 'bucket positions differ');
  assert.ok(!histogramsMatch(a, parseHistogramLiteral('schema:1 count:4 sum:10 buckets:[1 0 2 1]').h, false));
  assert.ok(!histogramsMatch(a, parseHistogramLiteral('schema:0 count:4 sum:10 z_bucket_w:1 buckets:[1 0 2 1]').h, false));
  assert.ok(!histogramsMatch(parseHistogramLiteral('schema:-53 custom_values:[1 2]').h, parseHistogramLiteral('schema:-53 custom_values:[1 3]').h, false));
});

const L = (...kv: string[]): string[] => kv;

test('vector, matrix, scalar and string results are compared as the Go runner does', () => {
  const ev = evalOf(`eval instant at 0 x
  x{a="1"} 1
  x{a="2"} {{count:2 sum:1 buckets:[2]}}
`);
  const h = parseHistogramLiteral('count:2 sum:1 buckets:[2]').h;
  const vec = (samples: [string[], number | FloatHistogram][]): QueryValue => ({
    type: 'vector',
    value: samples.map(([m, v]) => ({ metric: m, t: 0, f: typeof v === 'number' ? v : 0, h: typeof v === 'number' ? null : v })),
  });
  assert.equal(compareResult(ev, vec([[L('__name__', 'x', 'a', '2'), h], [L('__name__', 'x', 'a', '1'), 1.0000001]])), null, 'order does not matter');
  assert.match(compareResult(ev, vec([[L('__name__', 'x', 'a', '1'), 1]])) ?? '', /not found/);
  assert.match(compareResult(ev, vec([[L('__name__', 'x', 'a', '1'), 1], [L('__name__', 'x', 'a', '2'), h], [L('a', '3'), 1]])) ?? '', /unexpected metric \{a="3"\}/);
  assert.match(compareResult(ev, vec([[L('__name__', 'x', 'a', '1'), 2], [L('__name__', 'x', 'a', '2'), h]])) ?? '', /expected 1 for x\{a="1"\} but got 2/);
  assert.match(compareResult(ev, vec([[L('__name__', 'x', 'a', '1'), h], [L('__name__', 'x', 'a', '2'), h]])) ?? '', /expected float value 1 .* but got histogram/);
  assert.match(compareResult(ev, vec([[L('__name__', 'x', 'a', '1'), 1], [L('__name__', 'x', 'a', '2'), 2]])) ?? '', /expected histogram .* but got float value 2/);
  assert.match(compareResult(ev, { type: 'scalar', value: { t: 0, v: 1 } }) ?? '', /expected vector or matrix result, but got scalar/);

  const ordered = evalOf(`eval instant at 0 sort(x)
  expect ordered
  x{a="1"} 1
  x{a="2"} 2
`);
  assert.equal(compareResult(ordered, vec([[L('__name__', 'x', 'a', '1'), 1], [L('__name__', 'x', 'a', '2'), 2]])), null);
  assert.match(compareResult(ordered, vec([[L('__name__', 'x', 'a', '2'), 2], [L('__name__', 'x', 'a', '1'), 1]])) ?? '', /at position 2 but was at 1/);

  const empty = evalOf('eval instant at 0 nothing\n');
  assert.equal(compareResult(empty, vec([])), null);
  assert.match(compareResult(empty, vec([[L('a', 'b'), 1]])) ?? '', /unexpected metric/);

  const scalar = evalOf('eval instant at 0 1/0\n  +Inf\n');
  assert.equal(compareResult(scalar, { type: 'scalar', value: { t: 0, v: Infinity } }), null);
  assert.match(compareResult(scalar, { type: 'scalar', value: { t: 0, v: 1 } }) ?? '', /expected scalar \+Inf but got 1/);
  assert.match(compareResult(scalar, vec([])) ?? '', /expected scalar result, but got vector/);
  const nan = evalOf('eval instant at 0 0/0\n  NaN\n');
  assert.equal(compareResult(nan, { type: 'scalar', value: { t: 0, v: NaN } }), null);

  const str = evalOf('eval instant at 0 "a"\n  expect string "a"\n');
  assert.equal(compareResult(str, { type: 'string', value: { t: 0, s: 'a' } }), null);
  assert.match(compareResult(str, { type: 'string', value: { t: 0, s: 'b' } }) ?? '', /expected string "a" but got "b"/);
});

test('range results: points at start + i*step, _ is no point, series sorted', () => {
  const ev = evalOf(`eval range from 0 to 2m step 1m x
  x{a="1"} 1 _ 3
  x{a="2"} {{count:1}} 2
`);
  const h = parseHistogramLiteral('count:1').h;
  const good: QueryValue = {
    type: 'matrix',
    value: [
      { metric: L('__name__', 'x', 'a', '1'), floats: [{ t: 0, f: 1 }, { t: 120_000, f: 3 }], histograms: [] },
      { metric: L('__name__', 'x', 'a', '2'), floats: [{ t: 60_000, f: 2 }], histograms: [{ t: 0, h }] },
    ],
  };
  assert.equal(compareResult(ev, good), null);
  const unsorted: QueryValue = { type: 'matrix', value: [...(good.value as unknown[])].reverse() as never };
  assert.match(compareResult(ev, unsorted) ?? '', /not sorted/);
  const shifted: QueryValue = {
    type: 'matrix',
    value: [
      { metric: L('__name__', 'x', 'a', '1'), floats: [{ t: 0, f: 1 }, { t: 60_000, f: 3 }], histograms: [] },
      { metric: L('__name__', 'x', 'a', '2'), floats: [{ t: 60_000, f: 2 }], histograms: [{ t: 0, h }] },
    ],
  };
  assert.match(compareResult(ev, shifted) ?? '', /to have timestamp 120000, but it had timestamp 60000/);
  const missing: QueryValue = { type: 'matrix', value: [{ metric: L('__name__', 'x', 'a', '1'), floats: [{ t: 0, f: 1 }], histograms: [] }] };
  assert.match(compareResult(ev, missing) ?? '', /expected 2 float points and 0 histogram points/);
  const tooMany = evalOf(`eval range from 0 to 1m step 1m x
  x 1 2 3
`);
  assert.match(compareResult(tooMany, { type: 'matrix', value: [{ metric: L('__name__', 'x'), floats: [], histograms: [] }] }) ?? '', /cannot return this many points/);
});

test('annotations: warn/info with msg and regex both ways, no_warn/no_info', () => {
  const ev = evalOf(`eval instant at 0 x
  expect warn msg: PromQL warning: a (1:1)
  expect warn regex: b \\(\\d+:\\d+\\)
  expect no_info
`);
  const annos = (warnings: string[], infos: string[] = []): { warnings: string[]; infos: string[] } => ({ warnings, infos });
  assert.equal(checkAnnotations(ev, annos(['PromQL warning: a (1:1)', 'PromQL warning: b (1:5)'])), null);
  assert.match(checkAnnotations(ev, annos(['PromQL warning: a (1:1)'])) ?? '', /no matching annotation/);
  assert.match(checkAnnotations(ev, annos(['PromQL warning: a (1:1)', 'PromQL warning: b (1:5)', 'PromQL warning: c'])) ?? '', /unexpected warn annotation/);
  assert.match(checkAnnotations(ev, annos([])) ?? '', /none were found/);
  assert.match(checkAnnotations(ev, annos(['PromQL warning: a (1:1)', 'PromQL warning: b (1:5)'], ['PromQL info: i'])) ?? '', /unexpected info/);
  const unchecked = evalOf('eval instant at 0 x\n');
  assert.equal(checkAnnotations(unchecked, annos(['w'], ['i'])), null, 'without expect lines annotations are not checked');
  const anyInfo = evalOf('eval instant at 0 x\n  expect info\n');
  assert.equal(checkAnnotations(anyInfo, annos([], ['PromQL info: whatever (1:1)'])), null);
  assert.match(checkAnnotations(anyInfo, annos([])) ?? '', /expected info annotations/);
});

test('expected failures: any error, msg: exact, regex:, old expected_fail_* lines', () => {
  assert.equal(checkExpectedFailure(evalOf('eval instant at 0 x\n  expect fail\n'), 'anything'), null);
  const msg = evalOf('eval instant at 0 x\n  expect fail msg: Parameter value is NaN\n');
  assert.equal(checkExpectedFailure(msg, 'Parameter value is NaN'), null);
  assert.match(checkExpectedFailure(msg, 'Parameter value is NaN!') ?? '', /expected error matching message/);
  const re = evalOf('eval instant at 0 x\n  expect fail regex: conflicting label\n');
  assert.equal(checkExpectedFailure(re, 'found conflicting label set'), null);
  assert.notEqual(checkExpectedFailure(re, 'other'), null);
  assert.match(checkExpectedFailure(evalOf('eval instant at 0 x\n'), 'boom') ?? '', /unexpected error: boom/);
  const old = evalOf('eval_fail instant at 0 x\n  expected_fail_regexp bo+m\n');
  assert.equal(checkExpectedFailure(old, 'kaboom'), null);
  assert.notEqual(checkExpectedFailure(old, 'bam'), null);
});

// ---- unsupported features ----------------------------------------------------------------------

test('evals needing unsupported experimental features are recognised', () => {
  const ctx = { startTimestamps: false };
  const feature = (q: string, c = ctx): string | null => unsupportedFeature(evalOf(`eval instant at 0 ${q}\n`), c)?.name ?? null;
  assert.equal(blankStrings('a{b="x[1+2]", c=\'y\'} # c'), 'a{b="", c=\'\'} ');
  assert.equal(feature('rate(foo[5m] anchored)'), 'extended-range-selectors');
  assert.equal(feature('foo smoothed'), 'extended-range-selectors');
  assert.equal(feature('info(up)'), 'info-function');
  assert.equal(feature('start_timestamp(x)'), 'start-timestamps');
  assert.equal(feature('up', { startTimestamps: true }), 'start-timestamps');
  // standard PromQL and the experimental features the engine implements run
  for (const q of [
    'a + fill(0) b',
    'a + fill_left(1) b',
    'changes(x[26m+4m])',
    'x[5m:step()]',
    'x offset (100 + 2)',
    'count_over_time(x[range()])',
    'mad_over_time(x[5m])',
    'limitk(1, x)',
    'changes(x[30m])',
    'changes(x[1800])',
    'x offset 100 + 2',
    'x offset -2 ^ 2',
    'x @ start()',
    'x @ end() offset 1m',
    'rate(x[5m:1m]) offset_total',
    'sum(x) by (offset)',
    'x{a=~"[0-9]+(anchored)"}',
    'label_replace(x, "info(", "$1", "anchored", "(.*)")',
    'max_over_time(x[1h30m:])',
    'histogram_info_total',
    'x{__type__="counter"}',
  ]) {
    assert.equal(feature(q), null, q);
  }
});

// ---- the runner loop ---------------------------------------------------------------------------

function fakeEngine(answer: (q: string, t: number, range: boolean) => QueryValue | Error): QueryEngine & { calls: string[] } {
  const calls: string[] = [];
  const respond = (q: string, t: number, range: boolean): QueryResult => {
    calls.push(`${range ? 'range' : 'instant'} ${q} @${t}`);
    const v = answer(q, t, range);
    if (v instanceof Error) throw v;
    return { value: v, annotations: { warnings: [], infos: [] } };
  };
  return {
    calls,
    instantQuery: (_q: Queryable, query: string, t: number) => respond(query, t, false),
    rangeQuery: async (_q: Queryable, query: string, start: number) => respond(query, start, true),
  };
}

test('the runner reports passed, failed and skipped cases with file:line ids', async () => {
  const engine = fakeEngine((q, t, range) => {
    if (q === 'boom') return new PromQLError('execution', 'kaput');
    if (q === 'crash') return new TypeError('x is undefined');
    if (q === '1') return range ? { type: 'matrix', value: [{ metric: [], floats: [{ t: t + 60_000, f: 1 }], histograms: [] }] } : { type: 'scalar', value: { t, v: 1 } };
    const series = { metric: L('__name__', 'm'), floats: [{ t: range ? t + 60_000 : t, f: 5 }], histograms: [] };
    return range ? { type: 'matrix', value: [series] } : { type: 'vector', value: [{ metric: series.metric, t, f: 5, h: null }] };
  });
  const runner = new ScriptRunner({ engine });
  const res = await runner.runScript(
    'x.test',
    `load 1m
  m 5

eval instant at 1m m
  m 5

eval instant at 1m m
  m 6

eval instant at 0 1
  1

eval instant at 0 boom
  expect fail msg: kaput

eval instant at 0 boom

eval instant at 0 crash
  expect fail

eval instant at 0 rate(m[5m] anchored)

load 1m
  m 7
`,
  );
  const brief = (r: CaseResult): string => `${r.id} ${r.status}${r.feature !== undefined ? ` ${r.feature}` : ''}`;
  assert.deepEqual(res.map(brief), [
    'x.test:4 passed',
    'x.test:7 failed',
    'x.test:10 passed',
    'x.test:13 passed',
    'x.test:16 failed',
    'x.test:18 failed',
    'x.test:21 skipped extended-range-selectors',
    'x.test:23 failed',
  ]);
  assert.match(res[1]?.message ?? '', /expected 6 for m but got 5/);
  assert.equal(res[1]?.expected, 'm 6');
  assert.equal(res[1]?.actual, 'm 5');
  assert.match(res[4]?.message ?? '', /unexpected error: kaput|error evaluating query "boom": kaput/);
  assert.match(res[5]?.message ?? '', /non-PromQL error: TypeError: x is undefined/);
  assert.match(res[7]?.message ?? '', /load failed: .*duplicate/);
  // the instant eval was re-run as a range query from t-1m to t+1m
  assert.ok(engine.calls.includes('range m @0'));
});

test('the range re-run and the @ re-run catch inconsistent engines', async () => {
  const engine = fakeEngine((q, t, range) => {
    const f = range ? 6 : 5;
    return range
      ? { type: 'matrix', value: [{ metric: L('__name__', 'm'), floats: [{ t: t + 60_000, f }], histograms: [] }] }
      : { type: 'vector', value: [{ metric: L('__name__', 'm'), t, f: q.includes('@') ? 4 : f, h: null }] };
  });
  const script = `eval instant at 1m m
  m 5
`;
  const [plain] = await new ScriptRunner({ engine }).runScript('y.test', script);
  assert.match(plain?.message ?? '', /^range re-run/);
  const [noRange] = await new ScriptRunner({ engine, rangeRerun: false }).runScript('y.test', script);
  assert.equal(noRange?.status, 'passed');
  const [at] = await new ScriptRunner({ engine, rangeRerun: false, atRewriter: (q, t) => `${q} @ ${t / 1000}` }).runScript('y.test', script);
  assert.match(at?.message ?? '', /^@ re-run at t=-600000ms: expected 5 for m but got 4/);
  assert.ok(engine.calls.includes('instant m @ 60 @-600000'));
});

test('known failures: unexpected failures, listed cases that pass, stale entries', () => {
  const known = parseKnownFailures('# header\na.test:1  # why\na.test:2\n\na.test:3\nb.test:9\n');
  assert.deepEqual([...known], ['a.test:1', 'a.test:2', 'a.test:3', 'b.test:9']);
  const c = (id: string, status: CaseResult['status']): CaseResult => ({ id, file: id.split(':')[0] as string, line: Number(id.split(':')[1]), header: 'eval', status, message: 'm' });
  const check = checkKnownFailures([c('a.test:1', 'failed'), c('a.test:2', 'passed'), c('a.test:3', 'skipped'), c('a.test:4', 'failed')], known);
  assert.deepEqual(check.unexpected.map((x) => x.id), ['a.test:4']);
  assert.deepEqual(check.nowPassing, ['a.test:2']);
  assert.deepEqual(check.stale, ['a.test:3', 'b.test:9']);
  const text = formatKnownFailures([c('a.test:1', 'failed'), c('a.test:2', 'passed')], 'hdr');
  assert.deepEqual([...parseKnownFailures(text)], ['a.test:1']);
});

test('the @ re-run pins selectors and subqueries in the query text', () => {
  // rate(x[5m]) + y offset 1m + max_over_time(z[5m:1m]) + w @ 10
  const q = 'rate(x[5m]) + y offset 1m + max_over_time(z[5m:1m]) + w @ 10';
  const vs = (name: string, start: number, end: number, at: AtModifier | null = null): VectorSelector => ({
    type: 'VectorSelector',
    name,
    matchers: [],
    offset: 0,
    at,
    pos: { start, end },
  });
  const fn = (name: string): FunctionSignature => ({ name, argTypes: ['matrix'], variadic: 0, returnType: 'vector', experimental: false });
  const x: MatrixSelector = { type: 'MatrixSelector', vectorSelector: vs('x', 5, 6), range: 300_000, pos: { start: 5, end: 10 } };
  const rate: Expr = { type: 'Call', func: fn('rate'), args: [x], pos: { start: 0, end: 11 } };
  const y = vs('y', 14, 25);
  const sub: Expr = { type: 'SubqueryExpr', expr: vs('z', 42, 43), range: 300_000, step: 60_000, offset: 0, at: null, pos: { start: 42, end: 50 } };
  const mot: Expr = { type: 'Call', func: fn('max_over_time'), args: [sub], pos: { start: 28, end: 51 } };
  const w = vs('w', 54, 60, { kind: 'time', ms: 10_000 });
  const bin = (lhs: Expr, rhs: Expr): Expr => ({ type: 'BinaryExpr', op: '+', lhs, rhs, returnBool: false, matching: null, pos: { start: lhs.pos.start, end: rhs.pos.end } });
  const root = bin(bin(bin(rate, y), mot), w);
  const rewrite = makeAtRewriter(() => root);
  assert.equal(rewrite(q, 60_000), 'rate(x[5m] @ 60.000) + y offset 1m @ 60.000 + max_over_time(z[5m:1m] @ 60.000) + w @ 10');
  assert.equal(rewrite(q, -1000), 'rate(x[5m] @ -1.000) + y offset 1m @ -1.000 + max_over_time(z[5m:1m] @ -1.000) + w @ 10');
  const timeCall: Expr = { type: 'Call', func: fn('time'), args: [], pos: { start: 0, end: 6 } };
  assert.equal(makeAtRewriter(() => bin(timeCall, y))('time() + y', 0), null, 'time() is not step-invariant');
  assert.equal(makeAtRewriter(() => { throw new Error('parse error'); })('(', 0), null);
});
