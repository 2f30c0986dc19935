import '../harness.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Expr } from '../../src/promql/ast.js';
import { PromQLError } from '../../src/promql/engine/api.js';
import { FUNCTION_SIGNATURES, argTypeAt, maxArgs, minArgs } from '../../src/promql/functions/signatures.js';
import {
  ParseError,
  formatDuration,
  formatExpr,
  hasDynamicDurations,
  parseDuration,
  parseExpr,
  parseMetricSelector,
  resolveDurationExprs,
  type ParseOptions,
} from '../../src/promql/parser/index.js';

const ALL: ParseOptions = { enableExperimentalFunctions: true, experimentalDurationExpr: true, enableExtendedRangeSelectors: true, enableBinopFillModifiers: true };

/** A compact picture of an AST's structure: binary operators parenthesized, modifiers spelled out. */
function shape(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      return String(e.val);
    case 'StringLiteral':
      return JSON.stringify(e.val);
    case 'VectorSelector': {
      const ms = e.matchers.filter((m) => !(m.name === '__name__' && m.value === e.name && e.name !== '')).map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`);
      let s = e.name + (ms.length > 0 ? `{${ms.join(',')}}` : '');
      if (e.offset !== 0) s += ` off(${e.offset})`;
      if (e.at !== null) s += ` at(${e.at.kind === 'time' ? e.at.ms : e.at.kind})`;
      return s;
    }
    case 'MatrixSelector':
      return `M(${shape(e.vectorSelector)} [${e.range}])`;
    case 'SubqueryExpr':
      return `SQ(${shape(e.expr)} [${e.range}:${e.step}]${e.offset !== 0 ? ` off(${e.offset})` : ''}${e.at !== null ? ` at(${e.at.kind === 'time' ? e.at.ms : e.at.kind})` : ''})`;
    case 'ParenExpr':
      return `P(${shape(e.expr)})`;
    case 'UnaryExpr':
      return `${e.op}(${shape(e.expr)})`;
    case 'BinaryExpr': {
      let m = '';
      if (e.matching !== null) {
        if (e.matching.card === 'many-to-one' || e.matching.card === 'one-to-many') m = ` ${e.matching.card}`;
        if (e.matching.on || e.matching.matchingLabels.length > 0) m += ` ${e.matching.on ? 'on' : 'ignoring'}(${e.matching.matchingLabels.join(',')})`;
        if (e.matching.include.length > 0) m += ` include(${e.matching.include.join(',')})`;
      }
      return `(${shape(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${m} ${shape(e.rhs)})`;
    }
    case 'AggregateExpr':
      return `${e.op}${e.without ? ` without(${e.grouping.join(',')})` : e.grouping.length > 0 ? ` by(${e.grouping.join(',')})` : ''}(${e.param !== null ? shape(e.param) + ', ' : ''}${shape(e.expr)})`;
    case 'Call':
      return `${e.func.name}(${e.args.map(shape).join(', ')})`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}

/** The AST without positions (for comparing a query with its formatted form). */
function stripPos(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripPos);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'pos') continue;
      // formatExpr sorts matchers, as Prometheus prints them
      out[k] = k === 'matchers' && Array.isArray(x) ? stripPos([...x].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))) : stripPos(x);
    }
    return out;
  }
  return v;
}

function parseError(q: string, opts: ParseOptions = ALL): ParseError {
  try {
    parseExpr(q, opts);
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
  assert.fail(`expected a parse error for ${JSON.stringify(q)}`);
}

// ---- literals ----------------------------------------------------------------------------------

test('number literals: decimal, hex, octal, exponents, Inf/NaN, durations as numbers', () => {
  const cases: Array<[string, number]> = [
    ['1', 1], ['+Inf', Infinity], ['-Inf', -Infinity], ['inf', Infinity], ['.5', 0.5], ['5.', 5], ['123.4567', 123.4567], ['5e-3', 0.005],
    ['5e3', 5000], ['1E3', 1000], ['0xc', 12], ['0XC', 12], ['0x_1f', 31], ['0755', 493], ['-0755', -493], ['08', 8], ['+5.5e-3', 0.0055],
    ['1_000', 1000], ['1_000.5', 1000.5], ['1h', 3600], ['1h30m', 5400], ['1d', 86400], ['1w', 604800], ['1y', 31536000], ['500ms', 0.5],
    ['-5m', -300], ['9223372036854775807', 9223372036854775807], ['99999999999999999999', 1e20], ['- - 1', 1], ['-(1)', NaN],
  ];
  for (const [q, v] of cases) {
    const e = parseExpr(q);
    if (Number.isNaN(v)) {
      assert.equal(e.type, 'UnaryExpr', q);
      continue;
    }
    assert.equal(e.type, 'NumberLiteral', q);
    if (e.type === 'NumberLiteral') assert.equal(e.val, v, q);
  }
  const nan = parseExpr('NaN');
  assert.ok(nan.type === 'NumberLiteral' && Number.isNaN(nan.val));
  const d = parseExpr('1h');
  assert.ok(d.type === 'NumberLiteral' && d.duration === true);
  assert.deepEqual(parseExpr(' -1 '), { type: 'NumberLiteral', val: -1, pos: { start: 1, end: 3 } });
  assert.deepEqual(parseExpr('- 1'), { type: 'NumberLiteral', val: -1, pos: { start: 0, end: 3 } });
});

test('string literals: Go escapes in "..." and \'...\', raw `...`', () => {
  const cases: Array<[string, string]> = [
    [String.raw`"double-quoted string \" with escaped quote"`, 'double-quoted string " with escaped quote'],
    [String.raw`'single-quoted string \' with escaped quote'`, "single-quoted string ' with escaped quote"],
    ['`backtick-quoted string`', 'backtick-quoted string'],
    [String.raw`"\a\b\f\n\r\t\v\\\" - \u1234\U00010111☺"`, '\x07\b\f\n\r\t\v\\" - \u1234\u{10111}☺'],
    [String.raw`'\x41\101\u00e9'`, 'AAé'],
    [String.raw`"\xc3\xa9"`, 'é'],
    ['`\\a\\b"\'`', String.raw`\a\b"'`],
    ['"multi\\nline"', 'multi\nline'],
  ];
  for (const [q, v] of cases) {
    const e = parseExpr(q);
    assert.equal(e.type, 'StringLiteral', q);
    if (e.type === 'StringLiteral') assert.equal(e.val, v, q);
  }
  // invalid UTF-8 from byte escapes is kept as lone surrogates and printed back as \x escapes
  const raw = parseExpr(String.raw`"a\xc5z"`);
  assert.ok(raw.type === 'StringLiteral' && raw.val === 'a\udcc5z');
  assert.equal(formatExpr(raw), String.raw`"a\xc5z"`);
});

test('parseDuration and formatDuration follow Prometheus model.Duration', () => {
  const ok: Array<[string, number]> = [
    ['0', 0], ['0s', 0], ['1ms', 1], ['5m', 300_000], ['1h30m', 5_400_000], ['1d', 86_400_000], ['2w', 1_209_600_000],
    ['1y', 31_536_000_000], ['1y2w3d4h5m6s7ms', 31_536_000_000 + 1_209_600_000 + 259_200_000 + 14_400_000 + 300_000 + 6000 + 7],
  ];
  for (const [s, ms] of ok) assert.equal(parseDuration(s), ms, s);
  const bad: Array<[string, string]> = [
    ['', 'empty duration string'],
    ['5', 'not a valid duration string: "5"'],
    ['5m1h', 'not a valid duration string: "5m1h"'],
    ['5m1m', 'not a valid duration string: "5m1m"'],
    ['1.5h', 'unknown unit "." in duration "1.5h"'],
    ['5y1hs', 'unknown unit "hs" in duration "5y1hs"'],
    ['1x', 'unknown unit "x" in duration "1x"'],
    ['300y', 'duration out of range'],
    ['-5m', 'not a valid duration string: "-5m"'],
  ];
  for (const [s, msg] of bad) {
    assert.throws(
      () => parseDuration(s),
      (err: unknown) => err instanceof PromQLError && err.errorType === 'bad_data' && err.message === msg,
      s,
    );
  }
  const fmt: Array<[number, string]> = [
    [0, '0s'], [1, '1ms'], [1500, '1s500ms'], [90_000, '1m30s'], [86_400_000, '1d'], [90 * 86_400_000, '90d'],
    [14 * 86_400_000, '2w'], [365 * 86_400_000, '1y'], [366 * 86_400_000, '366d'], [-300_000, '-5m'],
  ];
  for (const [ms, s] of fmt) assert.equal(formatDuration(ms), s, String(ms));
});

// ---- structure ---------------------------------------------------------------------------------

test('operator precedence, associativity and postfix modifiers', () => {
  const cases: Array<[string, string]> = [
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['a + b * c - d / e ^ f ^ g', '((a + (b * c)) - (d / (e ^ (f ^ g))))'],
    ['2 * 3 % 2', '((2 * 3) % 2)'],
    ['a atan2 b * c', '((a atan2 b) * c)'],
    ['a == bool b and c or d unless e', '(((a == bool b) and c) or (d unless e))'],
    ['foo and bar unless baz or qux', '(((foo and bar) unless baz) or qux)'],
    ['-1^2', '-((1 ^ 2))'],
    ['-1^-2', '-((1 ^ -2))'],
    ['2 ^ -1 ^ 2', '(2 ^ -((1 ^ 2)))'],
    ['-1*2', '(-1 * 2)'],
    ['+1 + -2 * 1', '(1 + (-2 * 1))'],
    ['1 < bool 2 - 1 * 2', '(1 < bool (2 - (1 * 2)))'],
    ['-a * b', '(-(a) * b)'],
    ['a * -b ^ c', '(a * -((b ^ c)))'],
    ['a ^ -b * c', '((a ^ -(b)) * c)'],
    ['-some_metric', '-(some_metric)'],
    ['+some_metric', '+(some_metric)'],
    ['-(1)', '-(P(1))'],
    ['a + b offset 5m * c', '(a + (b off(300000) * c))'],
    ['a * b offset 5m ^ c', '(a * (b off(300000) ^ c))'],
    ['a or b offset 1m and c', '(a or (b off(60000) and c))'],
    ['foo - foo offset 1d', '(foo - foo off(86400000))'],
    ['-foo offset 5m', '-(foo off(300000))'],
    ['foo offset 5s-8', '(foo off(5000) - 8)'],
    ['foo offset -1^1', '(foo off(-1000) ^ 1)'],
    ['(-foo)[5m:]', 'SQ(P(-(foo)) [300000:0])'],
    ['foo[5m] offset 1m @ 100', 'M(foo off(60000) at(100000) [300000])'],
    ['foo @ 100 offset 1m', 'foo off(60000) at(100000)'],
    ['foo[10m:6s] @ start()', 'SQ(foo [600000:6000] at(start))'],
    ['some_metric @ 123 offset 1m [10m:5s]', 'SQ(foo off(60000) at(123000) [600000:5000])'.replace('foo', 'some_metric')],
    ['(foo + bar{nm="val"})[5m:] offset 10m', 'SQ(P((foo + bar{nm="val"})) [300000:0] off(600000))'],
    ['min_over_time(rate(foo{bar="baz"}[2s])[5m:])[4m:3s]', 'SQ(min_over_time(SQ(rate(M(foo{bar="baz"} [2000])) [300000:0])) [240000:3000])'],
    ['sum by (foo) (some_metric)', 'sum by(foo)(some_metric)'],
    ['sum (some_metric) without (foo)', 'sum without(foo)(some_metric)'],
    ['sum by ()(some_metric)', 'sum(some_metric)'],
    ['sum by (foo,bar,)(some_metric)', 'sum by(foo,bar)(some_metric)'],
    ['sum without(and, by, avg, count, alert, annotations)(some_metric)', 'sum without(and,by,avg,count,alert,annotations)(some_metric)'],
    ['sum by ("foo bar", bar, \'baz\')({"some.metric"})', 'sum by(foo bar,bar,baz)({__name__="some.metric"})'],
    ['topk(5, some_metric)', 'topk(5, some_metric)'],
    ['count_values("value", some_metric)', 'count_values("value", some_metric)'],
    ['quantile(0.9, x)', 'quantile(0.9, x)'],
    ['bar + on(foo) bla / on(baz, buz) group_right(test) blub', '(bar + on(foo) (bla / one-to-many on(baz,buz) include(test) blub))'],
    ['foo * on(test,blub) group_left bar', '(foo * many-to-one on(test,blub) bar)'],
    ['foo and on() bar', '(foo and on() bar)'],
    ['foo unless ignoring(bar) baz', '(foo unless ignoring(bar) baz)'],
    ['foo / ignoring(test,blub) group_left(blub) bar', '(foo / many-to-one ignoring(test,blub) include(blub) bar)'],
    ['foo == 1', '(foo == 1)'],
    ['2.5 / bar', '(2.5 / bar)'],
    ['sum(sum)', 'sum(sum)'],
    ['a + sum', '(a + sum)'],
    ['offset{step="1s"}[5m]', 'M(offset{step="1s"} [300000])'],
    ['offset + 1', '(offset + 1)'],
    ['rate(offset[5m])', 'rate(M(offset [300000]))'],
    ['step{offset="1s"}[5m]', 'M(step{offset="1s"} [300000])'],
    ['start', 'start'],
    ['end{start="foo"}', 'end{start="foo"}'],
    ['foo unless on(start) bar', '(foo unless on(start) bar)'],
    ['min', 'min'],
    ['fill + fill(0) other', '(fill + other)'],
    ['foo:bar{a="bc"}', 'foo:bar{a="bc"}'],
    ['{"foo", a="bc"}', '{__name__="foo",a="bc"}'],
    ['foo{NaN=\'bc\'}', 'foo{NaN="bc"}'],
    ['foo{bar=\'}\'}', 'foo{bar="}"}'],
    ['{__name__=~"bar", __name__!~"baz"}', '{__name__=~"bar",__name__!~"baz"}'],
    ['{"a.b"="c", "x"}', '{a.b="c",__name__="x"}'],
    ['x # comment\n+ y', '(x + y)'],
    ['SUM BY (a) (x) OFFSET 5m', 'sum by(a)(x)'],
    ['h </ 2 + 1', '(h </ (2 + 1))'],
    ['h >/ on(x) g', '(h >/ on(x) g)'],
    ['foo @ 3.3335', 'foo at(3334)'],
    ['foo @ -3.3e1', 'foo at(-33000)'],
    ['foo @ 0xA', 'foo at(10000)'],
    ['some_metric[5m] @ 1m', 'M(some_metric at(60000) [300000])'],
    ['foo[4.018] @ 2.345', 'M(foo at(2345) [4018])'],
    ['foo[4s18ms]', 'M(foo [4018])'],
    ['test[5y] OFFSET 3600', 'M(test off(3600000) [157680000000])'],
    ['foo offset 0s offset 1m', 'foo off(60000)'],
  ];
  for (const [q, want] of cases) {
    if (q === 'SUM BY (a) (x) OFFSET 5m') {
      assert.equal(parseError(q).detail, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
      continue;
    }
    assert.equal(shape(parseExpr(q, ALL)), want, q);
  }
});

test('full ASTs with positions', () => {
  assert.deepEqual(parseExpr('foo offset 5m'), {
    type: 'VectorSelector', name: 'foo', matchers: [{ type: '=', name: '__name__', value: 'foo' }], offset: 300_000, at: null, pos: { start: 0, end: 13 },
  });
  assert.deepEqual(parseExpr('test{a="b"}[5y] OFFSET 3d'), {
    type: 'MatrixSelector',
    vectorSelector: {
      type: 'VectorSelector', name: 'test', matchers: [{ type: '=', name: 'a', value: 'b' }, { type: '=', name: '__name__', value: 'test' }],
      offset: 3 * 86_400_000, at: null, pos: { start: 0, end: 11 },
    },
    range: 5 * 365 * 86_400_000,
    pos: { start: 0, end: 25 },
  });
  const agg = parseExpr('sum by (foo)(some_metric)');
  assert.deepEqual(agg, {
    type: 'AggregateExpr', op: 'sum', param: null, grouping: ['foo'], without: false,
    expr: { type: 'VectorSelector', name: 'some_metric', matchers: [{ type: '=', name: '__name__', value: 'some_metric' }], offset: 0, at: null, pos: { start: 13, end: 24 } },
    pos: { start: 0, end: 25 },
  });
  const call = parseExpr('rate(some_metric[5m])');
  assert.ok(call.type === 'Call');
  assert.equal(call.func, FUNCTION_SIGNATURES.get('rate'));
  assert.deepEqual(call.pos, { start: 0, end: 21 });
  assert.deepEqual(call.args[0]?.pos, { start: 5, end: 20 });
  const bin = parseExpr('foo * on(test,blub) group_left bar');
  assert.ok(bin.type === 'BinaryExpr');
  assert.deepEqual(bin.matching, { card: 'many-to-one', matchingLabels: ['test', 'blub'], on: true, include: [] });
  assert.deepEqual(bin.pos, { start: 0, end: 34 });
  const sq = parseExpr('min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s]');
  assert.ok(sq.type === 'SubqueryExpr');
  assert.deepEqual(sq.pos, { start: 0, end: 61 });
  const inner = sq.expr.type === 'Call' ? sq.expr.args[0] : undefined;
  assert.ok(inner?.type === 'SubqueryExpr');
  assert.equal(inner.offset, 240_000);
  assert.deepEqual(inner.pos, { start: 14, end: 53 });
  assert.deepEqual(parseExpr('(sum(foo) )').pos, { start: 0, end: 11 });
  assert.deepEqual(parseExpr(' +some_metric'), {
    type: 'UnaryExpr', op: '+', pos: { start: 1, end: 13 },
    expr: { type: 'VectorSelector', name: 'some_metric', matchers: [{ type: '=', name: '__name__', value: 'some_metric' }], offset: 0, at: null, pos: { start: 2, end: 13 } },
  });
  const info = parseExpr('info(x, {__name__=~".+_info"})', ALL);
  assert.ok(info.type === 'Call' && info.args.length === 2);
  // the second argument of info() need not have a non-empty matcher
  assert.ok(parseExpr('info(x, {k=~".*"})', ALL).type === 'Call');
});

// ---- errors ------------------------------------------------------------------------------------

test('errors: messages and positions as Prometheus reports them', () => {
  const cases: Array<[string, string]> = [
    ['', 'unknown position: parse error: no expression found in input'],
    ['# just a comment\n\n', '1:1: parse error: no expression found in input'],
    ['1+', '1:3: parse error: unexpected end of input'],
    ['.', "1:1: parse error: unexpected character: '.'"],
    ['2.5.', '1:1: parse error: bad number or duration syntax: "2.5."'],
    ['100..4', '1:1: parse error: bad number or duration syntax: "100.."'],
    ['0deadbeef', '1:1: parse error: bad number or duration syntax: "0de"'],
    ['1 /', '1:4: parse error: unexpected end of input'],
    ['*1', '1:1: parse error: unexpected <op:*>'],
    ['(1))', "1:5: parse error: unexpected right parenthesis ')'"],
    ['((1)', '1:5: parse error: unclosed left parenthesis'],
    ['9'.repeat(309), `1:1: parse error: error parsing number: strconv.ParseFloat: parsing "${'9'.repeat(309)}": value out of range`],
    ['(', '1:2: parse error: unclosed left parenthesis'],
    ['1 and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
    ['1 == 1', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
    ['1 or 1', '1:1: parse error: set operator "or" not allowed in binary scalar expression'],
    ['1 unless 1', '1:1: parse error: set operator "unless" not allowed in binary scalar expression'],
    ['1 !~ 1', "1:3: parse error: unexpected character after '!': '~'"],
    ['1 =~ 1', "1:3: parse error: unexpected character after '=': '~'"],
    ['-"string"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
    ['-test[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
    ['*test', '1:1: parse error: unexpected <op:*>'],
    ['@@', '1:1: parse error: unexpected <op:@>'],
    ['1 offset 1d', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['foo offset 1s offset 2s', '1:1: parse error: offset may not be set multiple times'],
    ['a - on(b) ignoring(c) d', '1:11: parse error: unexpected <ignoring>'],
    ['foo and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
    ['1 or on(bar) foo', '1:1: parse error: vector matching only allowed between instant vectors'],
    ['foo == on(bar) 10', '1:1: parse error: vector matching only allowed between instant vectors'],
    ['foo + group_left(baz) bar', '1:7: parse error: unexpected <group_left>'],
    ['foo and on(bar) group_left(baz) bar', '1:1: parse error: no grouping allowed for "and" operation'],
    ['foo or on(bar) group_right(baz) bar', '1:1: parse error: no grouping allowed for "or" operation'],
    [
      'http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"}',
      '1:35: parse error: label "instance" must not occur in ON and GROUP clause at once',
    ],
    ['foo + bool bar', '1:5: parse error: bool modifier can only be used on comparison operators'],
    ['foo and bool 10', '1:5: parse error: bool modifier can only be used on comparison operators'],
    ['foo @ +Inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'],
    ['foo @ -Inf', '1:1: parse error: timestamp out of bounds for @ modifier: -Inf'],
    ['foo @ NaN', '1:1: parse error: timestamp out of bounds for @ modifier: NaN'],
    ['foo @ 9223372036854775808.000000', '1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000'],
    ['foo @ 1 @ 2', '1:1: parse error: @ <timestamp> may not be set multiple times'],
    ['{', '1:2: parse error: unexpected end of input inside braces'],
    ['}', "1:1: parse error: unexpected character: '}'"],
    ['some{', '1:6: parse error: unexpected end of input inside braces'],
    ['some}', "1:5: parse error: unexpected character: '}'"],
    ['some_metric{a=b}', '1:15: parse error: unexpected identifier "b" in label matching, expected string'],
    ['some_metric{a:b="b"}', "1:14: parse error: unexpected character inside braces: ':'"],
    ['foo{a*"b"}', "1:6: parse error: unexpected character inside braces: '*'"],
    ['foo{a>="b"}', "1:6: parse error: unexpected character inside braces: '>'"],
    ['some_metric{a="\uFFFD"}', '1:15: parse error: invalid UTF-8 rune'],
    ['foo{gibberish}', '1:14: parse error: unexpected "}" in label matching, expected label matching operator'],
    ['foo{1}', "1:5: parse error: unexpected character inside braces: '1'"],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x!~".+"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x!="a"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
    ['foo{"bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
    ['foo{__name__= =}', '1:15: parse error: unexpected "=" in label matching, expected string'],
    ['foo{,}', '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'],
    ['foo{__name__ == "bar"}', '1:15: parse error: unexpected "=" in label matching, expected string'],
    ['foo{__name__="bar" lol}', '1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}"'],
    ['foo{"a"=}', '1:9: parse error: unexpected "}" in label matching, expected string'],
    ['foo{a=~"("}', '1:5: parse error: error parsing regexp: missing closing ): `(`'],
    ['foo{a!~"x**"}', '1:5: parse error: error parsing regexp: invalid nested repetition operator: `**`'],
    ['foo[5mm]', '1:5: parse error: bad number or duration syntax: "5mm"'],
    ['foo[5m1]', '1:5: parse error: bad number or duration syntax: "5m1"'],
    ['foo[5m:1m1]', '1:8: parse error: bad number or duration syntax: "1m1"'],
    ['foo[5y1hs]', '1:5: parse error: unknown unit "hs" in duration "5y1hs"'],
    ['foo[5m1h]', '1:5: parse error: not a valid duration string: "5m1h"'],
    ['foo[5m1m]', '1:5: parse error: not a valid duration string: "5m1m"'],
    ['foo[0m]', '1:5: parse error: duration must be greater than 0'],
    ['foo["5m"]', `1:5: parse error: unexpected character in duration expression: '"'`],
    ['foo[]', '1:5: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
    ['foo[-1]', '1:5: parse error: duration must be greater than 0'],
    ['some_metric[5m] OFFSET 1mm', '1:24: parse error: bad number or duration syntax: "1mm"'],
    ['some_metric[5m] OFFSET', '1:23: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'],
    ['some_metric OFFSET 1m[5m]', '1:22: parse error: no offset modifiers allowed before range'],
    ['some_metric[5m] @', '1:18: parse error: unexpected end of input in @, expected timestamp'],
    ['some_metric @ 1234 [5m]', '1:20: parse error: no @ modifiers allowed before range'],
    ['(foo + bar)[5m]', '1:12: parse error: ranges only allowed for vector selectors'],
    ['sum by ("foo)(some_metric{})', '1:9: parse error: unterminated quoted string'],
    ['sum without(==)(some_metric)', '1:13: parse error: unexpected <op:==> in grouping opts, expected label'],
    ['sum without(,)(some_metric)', '1:13: parse error: unexpected "," in grouping opts, expected label'],
    ['sum without(foo,,)(some_metric)', '1:17: parse error: unexpected "," in grouping opts, expected label'],
    ['sum by (foo bar) (x)', '1:13: parse error: unexpected identifier "bar" in grouping opts, expected "," or ")"'],
    ['sum by (inf) (x)', '1:9: parse error: unexpected number "inf" in grouping opts, expected label'],
    ['sum some_metric by (test)', '1:5: parse error: unexpected identifier "some_metric"'],
    ['sum (some_metric) by test', '1:22: parse error: unexpected identifier "test" in grouping opts, expected "("'],
    ['sum () by (test)', '1:1: parse error: no arguments for aggregate expression provided'],
    ['MIN keep_common (some_metric)', '1:5: parse error: unexpected identifier "keep_common"'],
    ['MIN (some_metric) keep_common', '1:19: parse error: unexpected identifier "keep_common"'],
    ['sum (some_metric) without (test) by (test)', '1:34: parse error: unexpected <by>'],
    ['sum without (test) (some_metric) by (test)', '1:34: parse error: unexpected <by>'],
    ['topk(some_metric)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
    ['topk(some_metric,)', '1:17: parse error: trailing commas not allowed in function call args'],
    ['topk(some_metric, other_metric)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
    ['count_values(5, other_metric)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
    ['sum(1)', '1:5: parse error: expected type instant vector in aggregation expression, got scalar'],
    ['rate(some_metric[5m]) @ 1234', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['floor()', '1:1: parse error: expected 1 argument(s) in call to "floor", got 0'],
    ['floor(some_metric, other_metric)', '1:1: parse error: expected 1 argument(s) in call to "floor", got 2'],
    ['floor(1)', '1:7: parse error: expected type instant vector in call to function "floor", got scalar'],
    ['hour(some_metric, some_metric, some_metric)', '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'],
    ['label_join(x, "a")', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 2'],
    ['time(some_metric)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
    ['non_existent_function_far_bar()', '1:1: parse error: unknown function with name "non_existent_function_far_bar"'],
    ['Rate(x[5m])', '1:1: parse error: unknown function with name "Rate"'],
    ['rate(some_metric)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['rate(x[5m:1m] + 1)', '1:6: parse error: binary expression must contain only scalar and instant vector types'],
    ['-=', '1:2: parse error: unexpected "="'],
    ['++-++-+-+-<', '1:11: parse error: unexpected <op:<>'],
    ['e-+=/(0)', '1:4: parse error: unexpected "="'],
    ['a>b()', '1:3: parse error: unknown function with name "b"'],
    ['rate(avg)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['atan2', '1:1: parse error: unexpected <op:atan2>'],
    ['`\\``', '1:4: parse error: unterminated raw string'],
    ['"\\', '1:1: parse error: escape sequence not terminated'],
    ['"\\c"', "1:1: parse error: unknown escape sequence U+0063 'c'"],
    ['"\\x."', "1:1: parse error: illegal character U+002E '.' in escape sequence"],
    ['"\\ud800"', '1:1: parse error: escape sequence is an invalid Unicode code point'],
    ['"a\nb"', '1:1: parse error: unterminated quoted string'],
    ['foo{bar="baz"}[', '1:16: parse error: unexpected end of input in duration expression'],
    ['test[5d] OFFSET 10s [10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
    ['(foo + bar{nm="val"})[5m:][10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
    ['rate(food[1m])[1h] offset 1h', '1:15: parse error: ranges only allowed for vector selectors'],
    ['rate(food[1m])[1h] @ 100', '1:15: parse error: ranges only allowed for vector selectors'],
    ['info(rate(http_request_counter_total{}[5m]), target_info{foo="bar"})', '1:46: parse error: expected label selectors only, got vector selector instead'],
    ['info(http_request_counter_total{namespace="zzz"}, {foo="bar"} == 1)', '1:51: parse error: expected label selectors only'],
    ['foo[step]', '1:9: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
    ['foo[step()/0d]', '1:11: parse error: division by zero'],
    ['foo[5s/0d]', '1:7: parse error: division by zero'],
    ['foo offset (4d/0)', '1:15: parse error: division by zero'],
    ['foo[5s%0d]', '1:7: parse error: modulo by zero'],
    ['foo offset 9.5e10', '1:12: parse error: duration out of range'],
    ['foo[9.5e10]', '1:5: parse error: duration out of range'],
    ['sum(', '1:5: parse error: unclosed left parenthesis'],
    ['sum(rate(', '1:10: parse error: unclosed left parenthesis'],
    ['foo[5s x 5s]', "1:8: parse error: unexpected character: 'x', expected ':'"],
    ['foo[5s s 5s]', "1:8: parse error: unexpected character: 's', expected ':'"],
    ['foo[5m:1m:1m]', "1:10: parse error: unexpected colon ':'"],
    ['foo[5m[1m]]', "1:7: parse error: unexpected left bracket '['"],
    ['foo]', "1:4: parse error: unexpected right bracket ']'"],
    ['foo{a="b"}{c="d"}', '1:11: parse error: unexpected "{"'],
    ['foo{a="b" b="c"}', '1:11: parse error: unexpected identifier "b" in label matching, expected "," or "}"'],
    ['label_replace(a, `b`, `c\uFFFD`, `d`, `.*`)', '1:23: parse error: invalid UTF-8 rune'],
    ['rate(x[5m]) +', '1:14: parse error: unexpected end of input'],
    ['x +\n  y +', '2:6: parse error: unexpected end of input'],
    ['{a="é"} + ', '1:12: parse error: unexpected end of input'],
    ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
    ['foo "a string that is long"', '1:5: parse error: unexpected string "\\"a string "...'],
    ['1 2', '1:3: parse error: unexpected number "2"'],
    ['foo 5m', '1:5: parse error: unexpected duration "5m"'],
    ['a:b(x)', '1:4: parse error: unexpected "("'],
    ['sum by', '1:7: parse error: unexpected end of input in grouping opts, expected "("'],
    ['foo @ bar', '1:7: parse error: unexpected identifier "bar" in @, expected timestamp'],
    ['foo offset bar', '1:12: parse error: unexpected identifier "bar" in offset, expected number, duration, step(), or range()'],
    ['foo{a="\\q"}', "1:7: parse error: unknown escape sequence U+0071 'q'"],
    ['foo{a=~"("} +', '1:5: parse error: error parsing regexp: missing closing ): `(`'],
    ['1 ^ 2 $', "1:7: parse error: unexpected character: '$'"],
    ['foo\u00e9', "1:4: parse error: unexpected character: 'é'"],
    ['sum(x) by (a:b)', '1:12: parse error: unexpected metric identifier "a:b" in grouping opts, expected label'],
  ];
  for (const [q, want] of cases) {
    const err = parseError(q);
    assert.equal(err.message, want, JSON.stringify(q));
    assert.equal(err.errorType, 'bad_data');
    assert.equal(err.httpStatus, 400);
    assert.ok(err instanceof PromQLError);
    assert.ok(err.position.start >= 0 && err.position.start <= err.position.end && err.position.end <= q.length, JSON.stringify(q));
  }
});

test('errors: experimental features are gated by options', () => {
  const cases: Array<[string, string]> = [
    ['mad_over_time(x[5m])', '1:1: parse error: function "mad_over_time" is not enabled'],
    ['sort_by_label(x, "a")', '1:1: parse error: function "sort_by_label" is not enabled'],
    ['info(x)', '1:1: parse error: function "info" is not enabled'],
    ['histogram_quantiles(x, "q", 0.5)', '1:1: parse error: function "histogram_quantiles" is not enabled'],
    ['start()', '1:1: parse error: function "start" is not enabled'],
    ['limitk(2, x)', '1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions'],
    ['limit_ratio(0.5, x)', '1:1: parse error: limit_ratio() is experimental and must be enabled with --enable-feature=promql-experimental-functions'],
    ['x[5m+1m]', '1:3: parse error: experimental duration expression is not enabled'],
    ['x offset (5m)', '1:10: parse error: experimental duration expression is not enabled'],
    ['x[step()]', '1:3: parse error: experimental duration expression is not enabled'],
    ['rate(x[5m] anchored)', '1:6: parse error: anchored modifier is experimental and not enabled'],
    ['rate(x[5m] smoothed)', '1:6: parse error: smoothed modifier is experimental and not enabled'],
    ['a + fill(0) b', '1:1: parse error: binop fill modifiers are experimental and not enabled'],
  ];
  for (const [q, want] of cases) {
    assert.equal(parseError(q, {}).message, want, q);
    parseExpr(q, ALL);
  }
  for (const q of ['first_over_time(x[1m])', 'x offset -5m', 'x[-(-5m)]'.replace('[-(-5m)]', '[5m]'), 'present_over_time(x[1m])', 'histogram_avg(x)']) {
    parseExpr(q, {});
  }
  assert.equal(parseError('x[5m] anchored smoothed').detail, 'anchored and smoothed modifiers cannot be used together');
  assert.equal(parseError('x[5m:] anchored').detail, 'anchored modifier is not supported for subqueries');
  assert.equal(parseError('1 + fill(0) x').detail, 'filling in missing series only allowed between instant vectors');
  assert.equal(parseError('x and fill(0) y').detail, 'filling in missing series not allowed for set operators');
});

test('experimental syntax builds the optional AST fields', () => {
  const m = parseExpr('increase(x[5m] anchored)', ALL);
  assert.ok(m.type === 'Call' && m.args[0]?.type === 'MatrixSelector' && m.args[0].vectorSelector.anchored === true);
  const f = parseExpr('a + fill_left(1) fill_right(NaN) b', ALL);
  assert.ok(f.type === 'BinaryExpr' && f.matching?.fill?.lhs === 1 && Number.isNaN(f.matching.fill.rhs));
  const both = parseExpr('a + fill(-Inf) b', ALL);
  assert.ok(both.type === 'BinaryExpr' && both.matching?.fill?.lhs === -Infinity && both.matching.fill.rhs === -Infinity);
  const d = parseExpr('x[26m+4m]', ALL);
  assert.ok(d.type === 'MatrixSelector' && d.range === 1_800_000 && d.rangeExpr?.type === 'DurationBinary');
  const folded: Array<[string, number]> = [
    ['x[60*30]', 1_800_000], ['x[2m*(10+5)]', 1_800_000], ['x[24m+((1.5*2m)+2m)]', 1_740_000], ['x[-5m+35m]', 1_800_000], ['x[1h/2]', 1_800_000],
    ['x[1h30m % 1h]', 1_800_000], ['x[30m1s-30m1s % 1m]', 1_800_000], ['x[(9m30s+30s)*3]', 1_800_000], ['x[1800]', 1_800_000],
  ];
  for (const [q, ms] of folded) {
    const e = parseExpr(q, ALL);
    assert.ok(e.type === 'MatrixSelector' && e.range === ms, q);
  }
  const sq = parseExpr('sum_over_time(m[29s+1s:((((8 - 2) / 3) * 7s) % 4) + 8000ms] offset (20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms)))', ALL);
  assert.ok(sq.type === 'Call' && sq.args[0]?.type === 'SubqueryExpr');
  assert.equal(sq.args[0].range, 30_000);
  assert.equal(sq.args[0].step, 10_000);
  assert.equal(sq.args[0].offset, 200_000);
  const offs: Array<[string, number]> = [
    ['m offset (100 + 2)', 102_000], ['m offset -4', -4000], ['m offset (-2 ^ 2)', -4000], ['m offset (2 ^ 2)', 4000],
  ];
  for (const [q, ms] of offs) {
    const e = parseExpr(q, ALL);
    assert.ok(e.type === 'VectorSelector' && e.offset === ms, q);
  }
  // step() and range() are resolved per query
  const dyn = parseExpr('count_over_time(m[min_of(step()+1,1h)]) + m offset -(min_of(range(), 2s)-5)', ALL);
  assert.ok(hasDynamicDurations(dyn));
  const r = resolveDurationExprs(dyn, { stepMs: 5000, rangeMs: 10_000 });
  assert.equal(shape(r), '(count_over_time(M(m [6000])) + m off(3000))');
  assert.ok(!hasDynamicDurations(parseExpr('x[5m:1m]')));
  assert.throws(() => resolveDurationExprs(parseExpr('x[step()]', ALL), { stepMs: 0, rangeMs: 0 }), /duration must be greater than 0/);
});

// ---- printing ----------------------------------------------------------------------------------

test('formatExpr prints like Prometheus Expr.String()', () => {
  const cases: Array<[string, string?]> = [
    ['sum by() (task:errors:rate10s{job="s"})', 'sum(task:errors:rate10s{job="s"})'],
    ['sum by(code) (task:errors:rate10s{job="s"})', 'sum by (code) (task:errors:rate10s{job="s"})'],
    ['sum without() (task:errors:rate10s{job="s"})', 'sum without () (task:errors:rate10s{job="s"})'],
    ['sum without(instance) (task:errors:rate10s{job="s"})', 'sum without (instance) (task:errors:rate10s{job="s"})'],
    ['topk(5, task:errors:rate10s{job="s"})'],
    ['count_values("value", task:errors:rate10s{job="s"})'],
    ['a - on() c', 'a - on () c'],
    ['a - on(b) c', 'a - on (b) c'],
    ['a - on(b) group_left(x) c', 'a - on (b) group_left (x) c'],
    ['a - on(b) group_left(x, y) c', 'a - on (b) group_left (x, y) c'],
    ['a - on(b) group_left c', 'a - on (b) group_left () c'],
    ['a - on(b) group_left() (c)', 'a - on (b) group_left () (c)'],
    ['a - ignoring(b) c', 'a - ignoring (b) c'],
    ['a - ignoring() c', 'a - c'],
    ['a - ignoring() group_left c', 'a - ignoring () group_left () c'],
    ['up > bool 0'],
    ['a offset 1m'],
    ['a offset -7m'],
    ['a{c="d"}[5m] offset 1m'],
    ['a[5m] offset 1m'],
    ['a[12m] offset -3m'],
    ['a[1h:5m] offset 1m'],
    ['{__name__="a"}'],
    ['a{b!="c"}[1m]'],
    ['a{b=~"c"}[1m]'],
    ['a{b!~"c"}[1m]'],
    ['a @ 10', 'a @ 10.000'],
    ['a[1m] @ 10', 'a[1m] @ 10.000'],
    ['a @ start()'],
    ['a @ end()'],
    ['a[1m] @ start()'],
    ['a[1m] @ end()'],
    ['a[1m:] @ -3.1415 offset 1m', 'a[1m:] @ -3.142 offset 1m'],
    ['foo{z="1", a="2"}', 'foo{a="2",z="1"}'],
    ['{"my.metric", "a.b"="c"}', '{"a.b"="c",__name__="my.metric"}'],
    ['sum by ("a.b", c) (x)', 'sum by ("a.b", c) (x)'],
    ['x{a="\\n\\"\\\\"}'],
    ["'single'", '"single"'],
    ['`raw\\n`', '"raw\\\\n"'],
    ['1e6', '1e+06'],
    ['123456'],
    ['0.0001'],
    ['0.00001', '1e-05'],
    ['0x10', '16'],
    ['-Inf'],
    ['+Inf', '+Inf'],
    ['NaN'],
    ['1h', '1h'],
    ['90m', '1h30m'],
    ['-5m', '-5m'],
    ['foo[90s]', 'foo[1m30s]'],
    ['foo[4.18]', 'foo[4s180ms]'],
    ['foo offset 100', 'foo offset 1m40s'],
    ['-1^2', '-1 ^ 2'],
    ['(-1)^2', '(-1) ^ 2'],
    ['rate(x[5m]) * 2 - 1'],
    ['a</ 2', 'a </ 2'],
    ['rate(x[5m] anchored)'],
    ['x[5m] offset 1m smoothed', 'x[5m] offset 1m smoothed'],
    ['a + fill(0) b'],
    ['a + on(x) group_left fill_left(1) fill_right(2) b', 'a + on (x) group_left () fill_left(1) fill_right(2) b'],
    ['x[26m+4m]', 'x[26m + 4m]'],
    ['x[step()*2:1s] offset -(min_of(range(), 2s)-5)', 'x[step() * 2:1s] offset -(min_of(range(), 2s) - 5)'],
    ['histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))'],
    ['label_replace(x, "a", "$1", "b", "(.*)")'],
  ];
  for (const [q, want] of cases) assert.equal(formatExpr(parseExpr(q, ALL)), want ?? q, q);
});

const ROUND_TRIP = [
  'a', 'a{b="c"}', '{__name__=~"a|b"}', 'a[5m]', 'a[5m:1m]', 'a offset 5m', 'a offset -5m', 'a @ 100', 'a @ -1.5', 'a @ start()',
  'rate(a[5m] offset 1h @ end())', 'sum by (a, b) (rate(x[1m]))', 'sum without (a) (x)', 'topk by (x) (3, y)', 'count_values("v", x)',
  'quantile(0.99, x)', 'a + b * c ^ d ^ e', '(a + b) * c', '-a ^ 2', '-(a ^ 2)', '(-a) ^ 2', '-1 ^ 2', '2 ^ -1', 'a == bool b', 'a > 1',
  'a and b or c unless d', 'a / on (x) group_left (y) b', 'a * ignoring (x) group_right () b', 'abs(-x)', 'vector(1)', 'time()',
  'scalar(x) + 1', 'histogram_fraction(0, 0.1, x)', 'clamp(x, -1, 1)', 'round(x, 0.5)', 'label_join(x, "a", ",", "b", "c")',
  'absent_over_time(nonexistent{job="x"}[1h])', 'max_over_time(deriv(rate(x[1m])[5m:1m])[1h:])', '"str"', '1e-07', '1.5e+300',
  'x{a="\u00e9",b=~"\\\\d+"}', '{"a.b"="c", "d"}', 'sum by ("a.b") (x)', 'x < bool on () group_left (a) y', 'day_of_week()',
  'a unless on (a, b) b', 'a atan2 b', '1 atan2 2', 'x </ 2', 'x >/ -1', 'a offset 1y2w3d', 'x[1w]', 'foo @ 1603774568',
  'sum(rate(x[5m])) by (job) / ignoring (job) group_left sum(rate(y[5m]))',
];

test('round trip: parse(formatExpr(parse(q))) is parse(q)', () => {
  for (const q of ROUND_TRIP) {
    const a = parseExpr(q, ALL);
    const s = formatExpr(a);
    const b = parseExpr(s, ALL);
    assert.deepEqual(stripPos(b), stripPos(a), `${q} -> ${s}`);
    assert.equal(formatExpr(b), s, q);
  }
});

// ---- fuzzing -----------------------------------------------------------------------------------

const FRAGMENTS = [
  'sum', 'avg', 'by', 'without', '(', ')', '{', '}', '[', ']', '5m', '1h30m', ':', 'offset', '@', '1', '0x1f', '.5', '1e3', 'Inf', 'NaN',
  '"a"', "'b'", '`c`', '"\\x41"', 'foo', 'bar:baz', ',', '+', '-', '*', '/', '%', '^', '==', '!=', '<', '>', '<=', '>=', '</', '>/', 'bool',
  'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'atan2', 'rate', 'label_replace', 'x', '=~', '!~', '=', ' ', '\n',
  'step()', 'range()', 'start()', 'end()', 'min_of', 'anchored', 'smoothed', 'fill(0)', 'fill_left', 'topk', 'count_values', 'quantile',
  'limitk', '#', '\\', '"', '`', 'é', '$', '__name__', 'le', 'histogram_quantile', 'info', 'vector', 'time', 'Rate', 'offset 5m', '[5m:]',
];

function assertOnlyParseErrors(q: string, opts: ParseOptions): void {
  try {
    const e = parseExpr(q, opts);
    // whatever parses prints to a form that parses and prints the same (Go prints +Inf, so
    // `Inf ^ x` comes back as `+Inf ^ x`, a unary plus: compare the printed forms)
    const s = formatExpr(e);
    assert.equal(formatExpr(parseExpr(s, opts)), s, `${JSON.stringify(q)} -> ${JSON.stringify(s)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof ParseError, `${JSON.stringify(q)}: ${String(err)}`);
    assert.notEqual(err.detail, 'unexpected error', `${JSON.stringify(q)}: ${String((err as { cause?: unknown }).cause)}`);
    assert.match(err.message, /^(\d+:\d+|unknown position): parse error: /);
    assert.ok(err.position.start >= 0 && err.position.start <= err.position.end && err.position.end <= q.length, JSON.stringify(q));
  }
}

test('fuzz: token soup only ever throws ParseError, and what parses round-trips', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 25 }), fc.boolean(), (parts, all) => {
      assertOnlyParseErrors(parts.join(''), all ? ALL : {});
      assertOnlyParseErrors(parts.join(' '), all ? ALL : {});
    }),
    { seed: 20240611, numRuns: 4000 },
  );
});

test('fuzz: arbitrary strings only ever throw ParseError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 30 }), (a, b) => {
      assertOnlyParseErrors(a, ALL);
      assertOnlyParseErrors(b, {});
    }),
    { seed: 7, numRuns: 3000 },
  );
});

test('fuzz: generated valid expressions parse and round-trip', () => {
  const name = fc.constantFrom('foo', 'bar', 'up', 'http_requests_total', 'a:b', 'sum', 'offset', 'start');
  const label = fc.constantFrom('job', 'instance', 'le', 'a_b', 'bool', 'on');
  const value = fc.string({ maxLength: 6 });
  const dur = fc.constantFrom('5m', '1h', '30s', '1d', '1500ms', '2', '0.5');
  const matcher = fc.tuple(label, fc.constantFrom('=', '!=', '=~', '!~'), value).map(([l, op, v]) => `${l}${op}${JSON.stringify(v.replace(/[\\()[\]{}*+?.|^$]/g, ''))}`);
  const selector = fc.tuple(name, fc.array(matcher, { maxLength: 3 })).map(([n, ms]) => (ms.length > 0 ? `${n}{${ms.join(', ')}}` : n));
  const mods = fc.tuple(fc.option(dur), fc.option(fc.constantFrom('100', '-1.5', 'start()', 'end()'))).map(
    ([o, at]) => (o !== null ? ` offset ${o}` : '') + (at !== null ? ` @ ${at}` : ''),
  );
  const vector = fc.tuple(selector, mods).map(([s, m]) => s + m);
  const matrix = fc.tuple(selector, dur, mods).map(([s, d, m]) => `${s}[${d}]${m}`);
  const { expr } = fc.letrec<{ expr: string; vec: string }>((tie) => ({
    vec: fc.oneof(
      { depthSize: 'small' },
      vector,
      matrix.map((m) => `rate(${m})`),
      fc.tuple(fc.constantFrom('sum', 'avg', 'max', 'count', 'group'), fc.constantFrom('', ' by (job)', ' without (le, job)'), tie('vec')).map(
        ([op, g, e]) => `${op}${g} (${e})`,
      ),
      fc.tuple(tie('vec'), fc.constantFrom('+', '-', '*', '/', '%', '^', '==', '!=', '>', '<=', 'and', 'or', 'unless', 'atan2'), fc.constantFrom('', ' on (job)', ' ignoring (le)'), tie('vec')).map(
        ([a, op, m, b]) => `${a} ${op}${m} ${b}`,
      ),
      tie('vec').map((e) => `(${e})`),
      tie('vec').map((e) => `-${e}`),
      fc.tuple(tie('vec'), fc.constantFrom('5m:', '1h:1m')).map(([e, r]) => `max_over_time((${e})[${r}])`),
      fc.tuple(fc.constantFrom('topk', 'bottomk', 'quantile'), tie('expr'), tie('vec')).map(([op, p, e]) => `${op}(scalar(${p}), ${e})`),
    ),
    expr: fc.oneof(
      { depthSize: 'small' },
      tie('vec'),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(Math.abs(d))),
      fc.tuple(tie('expr'), fc.constantFrom('+', '*', '^', '- -'), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`),
    ),
  }));
  fc.assert(
    fc.property(expr, (q) => {
      let e: Expr;
      try {
        e = parseExpr(q, ALL);
      } catch (err) {
        // type errors are expected for some combinations (e.g. `sum(1 + 2)`, comparisons of scalars)
        assert.ok(err instanceof ParseError, `${q}: ${String(err)}`);
        assert.doesNotMatch(err.detail, /^unexpected|unexpected error|bad number|unclosed/, q);
        return;
      }
      const s = formatExpr(e);
      assert.deepEqual(stripPos(parseExpr(s, ALL)), stripPos(e), `${q} -> ${s}`);
    }),
    { seed: 99, numRuns: 1500 },
  );
});

test('pathological inputs finish quickly', () => {
  const big = `(${'-{}-1'.repeat(2000)})[1m:]`;
  const chained = `rate(x[5m])${'[1m:]'.repeat(100)}`;
  const deep = `${'('.repeat(500)}1${')'.repeat(500)}`;
  const long = Array.from({ length: 2000 }, (_, i) => `m${i}`).join(' + ');
  const t0 = Date.now();
  assert.equal(parseError(big).detail, 'vector selector must contain at least one non-empty matcher');
  assert.equal(parseExpr(deep).type, 'ParenExpr');
  assert.equal(parseExpr(long).type, 'BinaryExpr');
  assert.equal(parseError(chained).detail, 'subquery is only allowed on instant vector, got matrix instead');
  const matchers = `{${Array.from({ length: 1000 }, (_, i) => `l${i}="v"`).join(',')}}`;
  assert.equal(parseExpr(matchers).type, 'VectorSelector');
  const args = `label_join(x, "a", ",", ${Array.from({ length: 1000 }, (_, i) => `"l${i}"`).join(', ')})`;
  assert.equal(parseExpr(args).type, 'Call');
  const nested = `${'sum('.repeat(300)}x${')'.repeat(300)}`;
  assert.equal(parseExpr(nested).type, 'AggregateExpr');
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

// ---- corpus ------------------------------------------------------------------------------------

function corpusDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const c = join(dir, 'test', 'conformance', 'promqltest');
      return existsSync(c) ? c : null;
    }
    dir = dirname(dir);
  }
  return null;
}

test('conformance corpus: every eval query parses; expected failures are not parse errors', (t) => {
  const dir = corpusDir();
  if (dir === null) {
    t.skip('test/conformance/promqltest not found');
    return;
  }
  let total = 0;
  let parsedDefault = 0;
  let expectFail = 0;
  const failures: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.test')).sort()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^eval(?:_fail|_warn|_info|_ordered)?\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec((lines[i] as string).trim());
      if (m === null) continue;
      total++;
      const q = m[1] as string;
      for (let j = i + 1; j < lines.length && (lines[j] as string).trim() !== ''; j++) {
        if (/^expect fail/.test((lines[j] as string).trim())) expectFail++;
      }
      try {
        parseExpr(q, ALL);
      } catch (err) {
        failures.push(`${f}:${i + 1}: ${q}: ${String(err)}`);
      }
      try {
        parseExpr(q);
        parsedDefault++;
      } catch (err) {
        assert.ok(err instanceof ParseError);
        assert.match(err.detail, /not enabled|experimental/, `${f}:${i + 1}: ${q}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(total > 1000, `only ${total} eval queries found`);
  // the `expect fail` queries all parse: they fail when evaluated, as the runner requires
  t.diagnostic(`${total} eval queries parse with all options (${expectFail} of them expected to fail at evaluation); ${parsedDefault} parse with default options`);
});

// ---- function table ----------------------------------------------------------------------------

test('FUNCTION_SIGNATURES covers every function in querying-functions.md', (t) => {
  const dir = corpusDir();
  const doc = dir === null ? null : join(dir, '..', '..', 'reference', 'prometheus', 'querying-functions.md');
  if (doc === null || !existsSync(doc)) {
    t.skip('querying-functions.md not found');
    return;
  }
  const names = new Set<string>();
  for (const line of readFileSync(doc, 'utf8').split('\n')) {
    if (!line.startsWith('## ') && !line.startsWith('* `')) continue;
    for (const m of line.matchAll(/`([a-z_0-9]+)\(/g)) names.add(m[1] as string);
  }
  assert.ok(names.size > 80);
  for (const n of names) assert.ok(FUNCTION_SIGNATURES.has(n), n);
  for (const n of ['mad_over_time', 'sort_by_label', 'sort_by_label_desc', 'double_exponential_smoothing', 'info', 'ts_of_max_over_time', 'histogram_quantiles', 'start', 'end', 'step', 'range', 'min_of', 'max_of']) {
    assert.equal(FUNCTION_SIGNATURES.get(n)?.experimental, true, n);
  }
  for (const n of ['first_over_time', 'present_over_time', 'histogram_avg', 'rate', 'label_replace']) assert.equal(FUNCTION_SIGNATURES.get(n)?.experimental, false, n);
  const round = FUNCTION_SIGNATURES.get('round');
  const join_ = FUNCTION_SIGNATURES.get('label_join');
  const hq = FUNCTION_SIGNATURES.get('histogram_quantiles');
  assert.ok(round !== undefined && join_ !== undefined && hq !== undefined);
  assert.deepEqual([minArgs(round), maxArgs(round), argTypeAt(round, 1), argTypeAt(round, 2)], [1, 2, 'scalar', undefined]);
  assert.deepEqual([minArgs(join_), maxArgs(join_), argTypeAt(join_, 7)], [3, Infinity, 'string']);
  assert.deepEqual([minArgs(hq), maxArgs(hq), argTypeAt(hq, 11)], [3, 12, 'scalar']);
  // every function the parser accepts can be called with its minimal arguments
  const sample: Record<string, string> = { vector: 'x', matrix: 'x[1m]', scalar: '1', string: '"a"' };
  for (const f of FUNCTION_SIGNATURES.values()) {
    const args = Array.from({ length: minArgs(f) }, (_, i) => sample[argTypeAt(f, i) as string]).join(', ');
    const e = parseExpr(`${f.name}(${args})`, ALL);
    assert.ok(e.type === 'Call' && e.func === f, f.name);
  }
});

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('differential: promtool (Prometheus) reports the same errors on generated queries', (t) => {
  if (!hasPromtool()) {
    t.skip('promtool not installed');
    return;
  }
  // Syntax Prometheus has had for years (Debian ships 2.42): no duration arithmetic, no zero
  // durations (errors before 3.0), no invalid regexes (their message changed in 3.0).
  const name = fc.constantFrom('foo', 'bar', 'up', 'a:b', 'sum', 'offset', 'start', 'by');
  const label = fc.constantFrom('job', 'instance', 'le', '__name__');
  const value = fc.constantFrom('', 'x', '.*', '.+', 'a|b');
  const matcher = fc.tuple(label, fc.constantFrom('=', '!=', '=~', '!~'), value).map(([l, op, v]) => `${l}${op}${JSON.stringify(v)}`);
  const selector = fc.tuple(fc.option(name), fc.array(matcher, { maxLength: 2 })).map(([n, ms]) => (n ?? '') + (ms.length > 0 || n === null ? `{${ms.join(', ')}}` : ''));
  const mods = fc.tuple(fc.option(fc.constantFrom('5m', '-1h')), fc.option(fc.constantFrom('100', '-1.5', 'start()', 'end()'))).map(
    ([o, at]) => (o !== null ? ` offset ${o}` : '') + (at !== null ? ` @ ${at}` : ''),
  );
  const fns = ['rate', 'abs', 'vector', 'scalar', 'round', 'label_replace', 'histogram_quantile', 'clamp', 'time', 'absent_over_time', 'day_of_week', 'sort', 'quantile_over_time', 'label_join'];
  const { expr } = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small' },
      fc.tuple(selector, mods).map(([s, m]) => s + m),
      fc.tuple(selector, fc.constantFrom('5m', '1h', '30s'), mods).map(([s, d, m]) => `${s}[${d}]${m}`),
      fc.constantFrom('1', '-2.5', '"str"', 'Inf', 'time()', 'pi()'),
      fc.tuple(fc.constantFrom(...fns), fc.array(tie('expr'), { maxLength: 3 })).map(([f, a]) => `${f}(${a.join(', ')})`),
      fc.tuple(fc.constantFrom('sum', 'avg', 'topk', 'count_values', 'quantile', 'bottomk'), fc.constantFrom('', ' by (job)', ' without ()'), fc.array(tie('expr'), { minLength: 1, maxLength: 2 })).map(
        ([op, g, a]) => `${op}${g} (${a.join(', ')})`,
      ),
      fc.tuple(
        tie('expr'),
        fc.constantFrom('+', '-', '*', '/', '^', '==', '!=', '>', '<=', 'and', 'or', 'unless', 'atan2', '%'),
        fc.constantFrom('', ' bool', ' on (job)', ' ignoring (le) group_left', ' on(job) group_right(job)', ' bool on (job)'),
        tie('expr'),
      ).map(([a, op, m, b]) => `${a} ${op}${m} ${b}`),
      tie('expr').map((e) => `(${e})`),
      tie('expr').map((e) => `-${e}`),
      fc.tuple(tie('expr'), fc.constantFrom('5m:', '1h:1m')).map(([e, r]) => `${e}[${r}]`),
      fc.tuple(tie('expr'), fc.constantFrom(' offset 5m', ' @ 100', '[5m]')).map(([e, m]) => `${e}${m}`),
    ),
  }));
  const queries = [...new Set(fc.sample(expr, { numRuns: 1500, seed: 3 }))];
  const dir = mkdtempSync(join(tmpdir(), 'promql-parser-'));
  try {
    const file = join(dir, 'rules.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'g', rules: queries.map((q, i) => ({ record: `r${i}`, expr: q })) }] }));
    let out: string;
    try {
      out = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, timeout: 60_000 });
    } catch (err) {
      out = String((err as { stdout?: unknown }).stdout) + String((err as { stderr?: unknown }).stderr);
    }
    const theirs = new Map<number, string>();
    for (const line of out.split('\n')) {
      const m = /rule (\d+), "r\d+": could not parse expression: (.*)$/.exec(line);
      // Prometheus 2.x printed `@` as `"<Item 57385>" <op:@>`
      if (m !== null) theirs.set(Number(m[1]) - 1, (m[2] as string).replace(/"<Item \d+>" /g, ''));
    }
    let errors = 0;
    const diffs: string[] = [];
    queries.forEach((q, i) => {
      let mine = 'OK';
      try {
        parseExpr(q);
      } catch (err) {
        mine = String((err as Error).message);
        errors++;
      }
      const want = theirs.get(i) ?? 'OK';
      if (mine !== want) diffs.push(`${q}\n  promtool: ${want}\n  muninn:   ${mine}`);
    });
    assert.ok(errors > queries.length / 4, `only ${errors} of ${queries.length} generated queries fail`);
    assert.deepEqual(diffs, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseMetricSelector parses series selectors without the non-empty check', () => {
  assert.deepEqual(parseMetricSelector('up{job="a"}'), [
    { type: '=', name: 'job', value: 'a' },
    { type: '=', name: '__name__', value: 'up' },
  ]);
  assert.deepEqual(parseMetricSelector('{a=""}'), [{ type: '=', name: 'a', value: '' }]);
  assert.deepEqual(parseMetricSelector('{"my.metric"}'), [{ type: '=', name: '__name__', value: 'my.metric' }]);
  assert.throws(() => parseMetricSelector('up + 1'), (e: unknown) => e instanceof ParseError && e.message === '1:4: parse error: unexpected <op:+>');
  assert.throws(() => parseMetricSelector('up[5m]'), (e: unknown) => e instanceof ParseError && e.message === '1:3: parse error: unexpected "["');
  assert.throws(() => parseMetricSelector('{a=~"("}'), ParseError);
});
