import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RE2JS } from 're2js';
import { MuninnError } from '../../src/errors/index.js';
import {
  InvalidMatcherError,
  Matcher,
  eq,
  labelsFromStrings,
  labelsGet,
  neq,
  nre,
  re,
} from '../../src/tsdb/labels/index.js';
import type { Labels, MatchType } from '../../src/tsdb/labels/index.js';
import {
  EMPTY_POSTINGS,
  MemPostings,
  intersect,
  intersectAll,
  intersects,
  labelNamesFor,
  labelValuesFor,
  select,
  subtract,
  union,
  unionAll,
} from '../../src/tsdb/index/index.js';
import { mulberry32 } from '../util.js';

const L = labelsFromStrings;
const arr = (p: Uint32Array): number[] => Array.from(p);

// --- matchers ------------------------------------------------------------------------------------

test('matcher semantics table', () => {
  // [type, value, input, want]
  const cases: [MatchType, string, string, boolean][] = [
    ['=', 'foo', 'foo', true],
    ['=', 'foo', 'Foo', false],
    ['=', 'foo', 'foo ', false],
    ['=', '', '', true],
    ['=', '', 'x', false],
    ['!=', 'foo', 'foo', false],
    ['!=', 'foo', 'bar', true],
    ['!=', '', '', false],
    ['!=', '', 'x', true],
    // anchoring
    ['=~', 'b', 'b', true],
    ['=~', 'b', 'ab', false],
    ['=~', 'b', 'ba', false],
    ['=~', 'a.c', 'abc', true],
    ['=~', 'a.c', 'xabcx', false],
    ['=~', 'a|ab', 'ab', true], // full match, not leftmost-first
    ['=~', '^b$', 'b', true],
    ['=~', 'x^b', 'xb', false],
    // literals and alternations
    ['=~', 'foo', 'foo', true],
    ['=~', 'foo\\.bar', 'foo.bar', true],
    ['=~', 'foo\\.bar', 'fooxbar', false],
    ['=~', 'a|b|c', 'b', true],
    ['=~', 'a|b|c', 'd', false],
    ['=~', 'a|b|c', 'ab', false],
    ['=~', 'a|b|c', '', false],
    ['=~', 'a|', '', true],
    ['=~', 'a|', 'a', true],
    ['=~', '|', '', true],
    ['=~', 'a\\|b', 'a|b', true],
    ['=~', 'a\\|b', 'a', false],
    ['=~', 'a|b|c|d|e|f|g|h|i|j|k', 'k', true], // large set
    ['=~', 'a|b|c|d|e|f|g|h|i|j|k', 'kk', false],
    ['=~', '', '', true],
    ['=~', '', 'a', false],
    // case sensitivity
    ['=~', 'foo', 'FOO', false],
    ['=~', '(?i)foo', 'FOO', true],
    ['=~', '(?i)foo', 'fOo', true],
    ['=~', '(?i)foo', 'foox', false],
    ['=~', '(?i)foo|bar', 'BAR', true],
    ['=~', 'foo|(?i)bar', 'FOO', false],
    ['=~', '(?i:a)b', 'Ab', true],
    ['=~', '(?i:a)b', 'AB', false],
    // .* / .+ and framed literals
    ['=~', '.*', '', true],
    ['=~', '.*', 'anything', true],
    ['=~', '.*', 'multi\nline', true],
    ['=~', '.+', '', false],
    ['=~', '.+', 'x', true],
    ['=~', '.+', '\n', true],
    ['=~', '.', '\u{1F600}', true], // one code point, two UTF-16 units
    ['=~', '..', '\u{1F600}', false],
    ['=~', 'foo.*', 'foo', true],
    ['=~', 'foo.*', 'foobar', true],
    ['=~', 'foo.*', 'xfoo', false],
    ['=~', 'foo.+', 'foo', false],
    ['=~', 'foo.+', 'foo\n', true],
    ['=~', '.*foo', 'xfoo', true],
    ['=~', '.*foo', 'foox', false],
    ['=~', '.+foo', 'foo', false],
    ['=~', '.*foo.*', 'xxfooxx', true],
    ['=~', '.*foo.*', 'fo', false],
    ['=~', '.+foo.+', 'foofoo', false],
    ['=~', '.+foo.+', 'afoofoo', true],
    ['=~', '.+foo.+', 'xfooy', true],
    ['=~', '.*.*', '', true],
    ['=~', '.+.+', 'a', false],
    ['=~', '.+.+', 'ab', true],
    ['=~', '.+.+', '\u{1F600}', false], // one character
    ['=~', '.+.+', '\u{1F600}\u{1F600}', true],
    ['=~', 'a\\.*', 'a...', true], // escaped dot: a literal '.' repeated
    ['=~', 'a\\.*', 'ab', false],
    ['=~', 'a\\\\.*', 'a\\xyz', true], // literal backslash, then .*
    ['=~', '.*?', 'abc', true],
    // general RE2
    ['=~', '[a-c]+', 'abcabc', true],
    ['=~', '[a-c]+', 'abcd', false],
    ['=~', '\\d{2,3}', '123', true],
    ['=~', '\\d{2,3}', '1234', false],
    ['=~', '(a+)+$', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', false],
    ['=~', 'a.b', 'a\nb', true], // dot matches newline
    ['=~', '\\pL+', 'héllo', true],
    ['=~', 'é', 'é', true],
    // negative regex
    ['!~', 'b', 'ab', true],
    ['!~', 'b', 'b', false],
    ['!~', '.*', '', false],
    ['!~', '.+', '', true],
    ['!~', '.+', 'x', false],
    ['!~', 'a|b', 'c', true],
    ['!~', 'a|b', 'a', false],
    ['!~', '', '', false],
    ['!~', '', 'a', true],
    ['!~', '(?i)x', 'X', false],
  ];
  for (const [type, value, input, want] of cases) {
    const m = new Matcher(type, 'l', value);
    assert.equal(m.matches(input), want, `${m.toString()} on ${JSON.stringify(input)}`);
  }
});

test('matchesEmpty and empty-value semantics', () => {
  const cases: [Matcher, boolean][] = [
    [eq('a', ''), true],
    [eq('a', 'x'), false],
    [neq('a', ''), false],
    [neq('a', 'x'), true],
    [re('a', '.*'), true],
    [re('a', '.+'), false],
    [re('a', 'x|'), true],
    [re('a', 'x'), false],
    [nre('a', '.*'), false],
    [nre('a', '.+'), true],
    [nre('a', 'x'), true],
    [nre('a', ''), false],
  ];
  for (const [m, want] of cases) assert.equal(m.matchesEmpty, want, m.toString());
});

test('setMatches: literal alternations expose their values', () => {
  assert.deepEqual(re('a', 'x|y|x').setMatches(), ['x', 'y']);
  assert.deepEqual(re('a', 'foo').setMatches(), ['foo']);
  assert.deepEqual(re('a', 'a\\.b|c').setMatches(), ['a.b', 'c']);
  assert.deepEqual(re('a', '').setMatches(), ['']);
  assert.deepEqual(nre('a', 'x|y').setMatches(), ['x', 'y']);
  assert.equal(re('a', 'x.*').setMatches(), null);
  assert.equal(re('a', '(?i)x|y').setMatches(), null);
  assert.equal(re('a', '[xy]').setMatches(), null);
  assert.equal(eq('a', 'x').setMatches(), null);
  assert.ok(Object.isFrozen(re('a', 'x|y').setMatches()));
});

test('invalid regexes and types give a typed, clear bad_data error', () => {
  const bad = ['(a', 'a)|(b', '[z-a]', 'a{1001}', '\\', 'x**', '(?<=a)b', '\\8', '(?P<n>a', '*', '(?z)a', '['.repeat(3), '('.repeat(2000) + ')'.repeat(2000)];
  for (const v of bad) {
    for (const type of ['=~', '!~'] as const) {
      assert.throws(() => new Matcher(type, 'job', v), (e: unknown) => {
        assert.ok(e instanceof InvalidMatcherError, `${v}: ${String(e)}`);
        assert.ok(e instanceof MuninnError);
        assert.equal(e.code, 'bad_data');
        assert.equal(e.httpStatus, 400);
        assert.equal(e.retryable, false);
        assert.equal(e.reason, 'invalid_regex');
        assert.ok(e.message.startsWith('invalid regular expression "'), e.message);
        assert.match(e.message, /for label "job": error parsing regexp: /);
        assert.doesNotMatch(e.message, /\(\?s\)/, 'mentions the user regex, not our flags');
        return true;
      });
    }
  }
  assert.throws(() => new Matcher('==' as MatchType, 'a', 'b'), (e: unknown) => {
    assert.ok(e instanceof InvalidMatcherError);
    assert.equal(e.reason, 'invalid_match_type');
    assert.match(e.message, /"=="/);
    return true;
  });
  // the same strings are fine as literal (non-regex) values
  for (const v of bad) assert.ok(eq('a', v).matches(v));
});

test('pathological regexes run in linear time', () => {
  const m = re('a', '(x+x+)+y');
  assert.equal(m.matches('x'.repeat(20000)), false);
  const n = re('a', '(a|aa)*c');
  assert.equal(n.matches('a'.repeat(20000)), false);
});

test('matcher toString, inverse', () => {
  assert.equal(eq('job', 'api').toString(), 'job="api"');
  assert.equal(neq('job', 'a"b').toString(), 'job!="a\\"b"');
  assert.equal(re('job', 'a\\.b\n').toString(), 'job=~"a\\\\.b\\n"');
  assert.equal(nre('a.b', 'x').toString(), '"a.b"!~"x"');
  const pairs: [Matcher, MatchType][] = [[eq('a', 'x'), '!='], [neq('a', 'x'), '='], [re('a', 'x.*'), '!~'], [nre('a', 'x.*'), '=~']];
  for (const [m, t] of pairs) {
    const inv = m.inverse();
    assert.equal(inv.type, t);
    for (const v of ['', 'x', 'xy', 'y']) assert.equal(inv.matches(v), !m.matches(v), `${m.toString()} ${v}`);
  }
});

test('fast paths agree with RE2 on random patterns (seed 42)', () => {
  const seed = 42;
  const rnd = mulberry32(seed);
  const tokens = ['a', 'b', 'x', '.', '*', '+', '|', '?', '\\.', '\\|', '\\\\', '.*', '.+', 'é', '\n', '(', ')', '^', '$', '\u{1F600}'];
  const inputs = ['', 'a', 'b', 'ab', 'ba', 'a.b', 'a|b', '.', '..', 'x', 'xx', 'axb', 'a\nb', 'é', 'aé', '\\', 'a\\', 'abab', 'bxa', '\u{1F600}', 'a\u{1F600}'];
  let checked = 0;
  for (let i = 0; i < 5000; i++) {
    const n = Math.floor(rnd() * 7);
    let pat = '';
    for (let k = 0; k < n; k++) pat += tokens[Math.floor(rnd() * tokens.length)];
    let ref: RE2JS | null = null;
    try {
      ref = RE2JS.compile(pat, RE2JS.DOTALL);
    } catch {
      ref = null;
    }
    if (ref === null) {
      assert.throws(() => re('l', pat), InvalidMatcherError, `pattern ${JSON.stringify(pat)} (seed ${seed})`);
      continue;
    }
    const m = re('l', pat);
    for (const s of inputs) {
      assert.equal(m.matches(s), ref.testExact(s), `pattern ${JSON.stringify(pat)} on ${JSON.stringify(s)} (seed ${seed})`);
      checked++;
    }
  }
  assert.ok(checked > 10000);
});

// --- set operations -------------------------------------------------------------------------------

function randomSorted(rnd: () => number, n: number, max: number): Uint32Array {
  const s = new Set<number>();
  for (let i = 0; i < n; i++) s.add(Math.floor(rnd() * max));
  return Uint32Array.from([...s].sort((a, b) => a - b));
}

test('intersect / union / subtract / unionAll agree with a Set reference (seed 5)', () => {
  const seed = 5;
  const rnd = mulberry32(seed);
  const shapes: [number, number, number][] = [
    [0, 10, 100], [10, 0, 100], [5, 5, 10], [50, 50, 100], [3, 2000, 5000], [2000, 3, 5000], [500, 500, 1e6], [100, 100, 2 ** 32],
  ];
  for (const [na, nb, max] of shapes) {
    for (let rep = 0; rep < 20; rep++) {
      const a = randomSorted(rnd, na, max);
      const b = randomSorted(rnd, nb, max);
      const sb = new Set(b);
      const sa = new Set(a);
      const msg = `na=${na} nb=${nb} max=${max} rep=${rep} (seed ${seed})`;
      assert.deepEqual(arr(intersect(a, b)), arr(a).filter((x) => sb.has(x)), msg);
      assert.equal(intersects(a, b), arr(a).some((x) => sb.has(x)), msg);
      assert.deepEqual(arr(union(a, b)), [...new Set([...a, ...b])].sort((x, y) => x - y), msg);
      assert.deepEqual(arr(subtract(a, b)), arr(a).filter((x) => !sb.has(x)), msg);
      assert.deepEqual(arr(subtract(b, a)), arr(b).filter((x) => !sa.has(x)), msg);
      const lists = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => randomSorted(rnd, Math.floor(rnd() * na + 1), max));
      const all = [...new Set(lists.flatMap((l) => arr(l)))].sort((x, y) => x - y);
      assert.deepEqual(arr(unionAll(lists)), all, msg);
      const inter = lists.slice(1).reduce((acc, l) => { const s = new Set(l); return acc.filter((x) => s.has(x)); }, arr(lists[0] as Uint32Array));
      assert.deepEqual(arr(intersectAll(lists)), inter, msg);
    }
  }
  // dense unions take the bitmap path, sparse ones the sort path
  const dense = Array.from({ length: 10 }, (_, k) => Uint32Array.from({ length: 1000 }, (_, i) => i * 10 + k));
  assert.deepEqual(arr(unionAll(dense)), Array.from({ length: 10000 }, (_, i) => i));
  const sparse = [Uint32Array.of(0, 4e9), Uint32Array.of(5, 3e9), Uint32Array.of(4e9, 4294967295)];
  assert.deepEqual(arr(unionAll(sparse)), [0, 5, 3e9, 4e9, 4294967295]);
  assert.equal(unionAll([]).length, 0);
  assert.equal(intersectAll([]).length, 0);
  // results never alias inputs
  const x = Uint32Array.of(1, 2, 3);
  for (const r of [intersectAll([x]), unionAll([x]), union(x, EMPTY_POSTINGS), subtract(x, EMPTY_POSTINGS), intersect(x, x)]) {
    assert.notEqual(r.buffer, x.buffer);
  }
});

// --- MemPostings ---------------------------------------------------------------------------------

test('MemPostings: add, get, names, values, stats', () => {
  const p = new MemPostings();
  p.add(1, L('__name__', 'up', 'job', 'api'));
  p.add(2, L('__name__', 'up', 'job', 'db'));
  p.add(5, L('__name__', 'down', 'job', 'api', 'x', ''));
  assert.deepEqual(arr(p.get('__name__', 'up')), [1, 2]);
  assert.deepEqual(arr(p.get('job', 'api')), [1, 5]);
  assert.deepEqual(arr(p.get('job', 'db')), [2]);
  assert.deepEqual(arr(p.get('job', 'nope')), []);
  assert.deepEqual(arr(p.get('nope', 'x')), []);
  assert.deepEqual(arr(p.get('', '')), [1, 2, 5]);
  assert.deepEqual(arr(p.allPostings()), [1, 2, 5]);
  assert.equal(p.numSeries, 3);
  assert.deepEqual(p.labelNames(), ['__name__', 'job']);
  assert.deepEqual(p.labelValues('job'), ['api', 'db']);
  assert.deepEqual(p.labelValues('x'), []);
  const st = p.stats();
  assert.equal(st.labelNames, 2);
  assert.equal(st.labelPairs, 4);
  assert.equal(st.inlinePairs, 2);
  assert.equal(st.entries, 6);
  assert.equal(st.series, 3);
  // idempotent re-add, out-of-order add
  p.add(2, L('__name__', 'up', 'job', 'db'));
  p.add(0, L('__name__', 'up', 'job', 'api'));
  p.add(3, L('__name__', 'up', 'job', 'api'));
  assert.deepEqual(arr(p.get('__name__', 'up')), [0, 1, 2, 3]);
  assert.deepEqual(arr(p.get('job', 'api')), [0, 1, 3, 5]);
  assert.deepEqual(arr(p.allPostings()), [0, 1, 2, 3, 5]);
  assert.throws(() => p.add(-1, L('a', 'b')), MuninnError);
  assert.throws(() => p.add(2 ** 32, L('a', 'b')), MuninnError);
  assert.throws(() => p.add(1.5, L('a', 'b')), MuninnError);
  p.add(2 ** 32 - 1, L('a', 'b'));
  assert.deepEqual(arr(p.get('a', 'b')), [2 ** 32 - 1]);
});

test('MemPostings: delete and deleteMany; views are immutable snapshots', () => {
  const p = new MemPostings();
  const series = new Map<number, Labels>();
  for (let ref = 1; ref <= 100; ref++) {
    const ls = L('__name__', `m${ref % 3}`, 'id', String(ref), 'even', ref % 2 === 0 ? 'yes' : '');
    series.set(ref, ls);
    p.add(ref, ls);
  }
  const before = p.get('__name__', 'm0');
  const beforeCopy = arr(before);
  const allBefore = p.allPostings();
  const allCopy = arr(allBefore);
  p.add(101, L('__name__', 'm0')); // append
  p.delete(3, series.get(3) as Labels);
  const gone = [6, 9, 12, 13, 50, 51];
  p.deleteMany(gone, (r) => series.get(r));
  assert.deepEqual(arr(before), beforeCopy, 'an earlier view does not change');
  assert.deepEqual(arr(allBefore), allCopy);
  const removed = new Set([3, ...gone]);
  assert.deepEqual(arr(p.get('__name__', 'm0')), [...Array.from({ length: 100 }, (_, i) => i + 1).filter((r) => r % 3 === 0 && !removed.has(r)), 101]);
  assert.deepEqual(arr(p.get('id', '3')), []);
  assert.deepEqual(arr(p.get('id', '4')), [4]);
  assert.ok(!p.labelValues('id').includes('50'));
  assert.equal(p.numSeries, 101 - removed.size);
  assert.ok(!arr(p.get('even', 'yes')).some((r) => removed.has(r)));
  // delete the rest: names disappear
  const rest = arr(p.allPostings());
  p.deleteMany(rest, (r) => (r === 101 ? L('__name__', 'm0') : series.get(r)));
  assert.equal(p.numSeries, 0);
  assert.deepEqual(p.labelNames(), []);
  assert.deepEqual(arr(p.get('', '')), []);
  // and the index works again afterwards
  p.add(200, L('a', 'b'));
  p.add(201, L('a', 'b'));
  assert.deepEqual(arr(p.get('a', 'b')), [200, 201]);
  p.shrinkToFit();
  p.add(202, L('a', 'b'));
  assert.deepEqual(arr(p.get('a', 'b')), [200, 201, 202]);
  assert.deepEqual(arr(p.allPostings()), [200, 201, 202]);
});

// --- selection over a fixed set of series ----------------------------------------------------------

const FIXED: [number, Labels][] = [
  [1, L('__name__', 'up', 'job', 'api', 'instance', 'a:1', 'env', 'prod')],
  [2, L('__name__', 'up', 'job', 'api', 'instance', 'b:1', 'env', 'dev')],
  [3, L('__name__', 'up', 'job', 'db', 'instance', 'c:1')],
  [4, L('__name__', 'http_requests_total', 'job', 'api', 'instance', 'a:1', 'env', 'prod', 'code', '200')],
  [5, L('__name__', 'http_requests_total', 'job', 'api', 'instance', 'a:1', 'env', 'prod', 'code', '500')],
  [6, L('__name__', 'http_requests_total', 'job', 'api', 'instance', 'b:1', 'env', 'dev', 'code', '200')],
  [7, L('__name__', 'http_errors_total', 'job', 'db', 'instance', 'c:1', 'code', '500')],
  [8, L('__name__', 'node_cpu', 'job', 'node', 'instance', 'N1', 'env', 'Prod', 'mode', 'idle')],
  [9, L('__name__', 'node_cpu', 'job', 'node', 'instance', 'n1', 'env', 'prod', 'mode', 'user')],
  [10, L('__name__', 'process_up', 'job', 'api\nx', 'instance', 'é:1')],
];

function fixedPostings(): { p: MemPostings; byRef: Map<number, Labels> } {
  const p = new MemPostings();
  for (const [ref, ls] of FIXED) p.add(ref, ls);
  return { p, byRef: new Map(FIXED) };
}

test('select: fixed series, exact results', () => {
  const { p } = fixedPostings();
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const cases: [Matcher[], number[]][] = [
    [[], []],
    [[eq('__name__', 'up')], [1, 2, 3]],
    [[eq('__name__', 'nope')], []],
    [[eq('job', 'api')], [1, 2, 4, 5, 6]],
    [[eq('job', 'api'), eq('env', 'prod')], [1, 4, 5]],
    [[eq('env', '')], [3, 7, 10]],
    [[neq('env', '')], [1, 2, 4, 5, 6, 8, 9]],
    [[re('env', '.*')], all],
    [[re('env', '.+')], [1, 2, 4, 5, 6, 8, 9]],
    [[neq('env', 'prod')], [2, 3, 6, 7, 8, 10]],
    [[neq('env', 'prod'), eq('__name__', 'up')], [2, 3]],
    [[re('env', 'prod')], [1, 4, 5, 9]],
    [[re('env', '(?i)prod')], [1, 4, 5, 8, 9]],
    [[re('env', 'pro')], []],
    [[re('env', 'rod')], []],
    [[re('env', 'pro.*')], [1, 4, 5, 9]],
    [[re('env', 'prod|dev')], [1, 2, 4, 5, 6, 9]],
    [[nre('env', 'prod|dev')], [3, 7, 8, 10]],
    [[re('env', 'prod|')], [1, 3, 4, 5, 7, 9, 10]],
    [[nre('env', '')], [1, 2, 4, 5, 6, 8, 9]],
    [[nre('env', '.*')], []],
    [[nre('env', 'p.*')], [2, 3, 6, 7, 8, 10]],
    [[eq('code', '200'), eq('env', 'dev')], [6]],
    [[neq('code', '200')], [1, 2, 3, 5, 7, 8, 9, 10]],
    [[neq('code', '200'), eq('job', 'api')], [1, 2, 5]],
    [[re('__name__', 'http_.*_total')], [4, 5, 6, 7]],
    [[re('__name__', '.*_total'), eq('code', '500')], [5, 7]],
    [[re('instance', '[a-c]:1')], [1, 2, 3, 4, 5, 6, 7]],
    [[re('instance', 'n1')], [9]],
    [[re('instance', '(?i)n1')], [8, 9]],
    [[re('job', 'api.x')], [10]],
    [[re('job', 'api.*')], [1, 2, 4, 5, 6, 10]],
    [[eq('job', 'api'), neq('job', 'api')], []],
    [[eq('mode', '')], [1, 2, 3, 4, 5, 6, 7, 10]],
    [[eq('mode', ''), eq('env', '')], [3, 7, 10]],
    [[eq('nonexistent', '')], all],
    [[neq('nonexistent', '')], []],
    [[re('nonexistent', '.*'), eq('job', 'db')], [3, 7]],
    [[nre('nonexistent', 'x'), eq('job', 'db')], [3, 7]],
    [[re('nonexistent', 'x|')], all],
    [[eq('instance', 'é:1')], [10]],
    [[re('__name__', 'up|process_up'), eq('env', '')], [3, 10]],
    [[re('env', '.+'), neq('env', 'prod')], [2, 6, 8]],
    [[re('env', '.+'), re('env', 'prod|')], [1, 4, 5, 9]],
    [[neq('job', 'api'), neq('job', 'db'), neq('env', '')], [8, 9]],
    [[re('code', '200|500'), nre('instance', 'a.*')], [6, 7]],
  ];
  for (const [ms, want] of cases) {
    const got = select(p, ms);
    assert.ok(got instanceof Uint32Array);
    assert.deepEqual(arr(got), want, `{${ms.map(String).join(', ')}}`);
  }
  // the result is the caller's: writing to it does not touch the index
  const snapshot = (): string => JSON.stringify([arr(p.allPostings()), ...p.labelNames().flatMap((n) => p.labelValues(n).map((v) => arr(p.get(n, v))))]);
  const before = snapshot();
  for (const ms of [[eq('job', 'db')], [re('env', '.*')], [eq('nonexistent', '')], [neq('job', 'db')], [re('job', 'db|node')], [eq('job', 'api'), eq('env', 'prod')], [eq('__name__', 'up'), eq('env', '')]]) {
    const r = select(p, ms);
    r.fill(999);
  }
  assert.equal(snapshot(), before);
});

test('labelValuesFor and labelNamesFor: fixed series', () => {
  const { p, byRef } = fixedPostings();
  const valueCases: [string, Matcher[], string[]][] = [
    ['env', [], ['Prod', 'dev', 'prod']],
    ['env', [eq('job', 'api')], ['dev', 'prod']],
    ['env', [re('env', 'p.*')], ['prod']],
    ['env', [eq('__name__', 'up'), neq('env', 'dev')], ['prod']],
    ['code', [eq('job', 'node')], []],
    ['instance', [eq('code', '500')], ['a:1', 'c:1']],
    ['job', [eq('env', '')], ['api\nx', 'db']],
    ['job', [eq('job', 'nope')], []],
    ['nope', [eq('job', 'api')], []],
  ];
  for (const [name, ms, want] of valueCases) {
    assert.deepEqual(labelValuesFor(p, name, ms), want, `${name} {${ms.map(String).join(', ')}}`);
  }
  const nameCases: [Matcher[], string[]][] = [
    [[], ['__name__', 'code', 'env', 'instance', 'job', 'mode']],
    [[eq('job', 'db')], ['__name__', 'code', 'instance', 'job']],
    [[eq('__name__', 'up')], ['__name__', 'env', 'instance', 'job']],
    [[eq('job', 'nope')], []],
    [[re('job', '.*')], ['__name__', 'code', 'env', 'instance', 'job', 'mode']],
    [[eq('env', '')], ['__name__', 'code', 'instance', 'job']],
  ];
  for (const [ms, want] of nameCases) {
    const label = `{${ms.map(String).join(', ')}}`;
    assert.deepEqual(labelNamesFor(p, ms), want, label);
    assert.deepEqual(labelNamesFor(p, ms, (r) => byRef.get(r)), want, `${label} via labelsOf`);
  }
});

// --- randomized: select against a brute-force filter --------------------------------------------

test('select agrees with a brute-force filter on random series and matchers', () => {
  const seed = Number(process.env['MUNINN_TEST_SEED'] ?? 20240601);
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const names = ['a', 'b', 'c', 'd'];
  const values = ['x', 'y', 'z', 'xy', 'xyz', 'Y', 'é', 'a\nb', '1', '10', 'x.y'];
  const patterns = ['', '.*', '.+', 'x', 'x|y', 'x.*', '.*y', '.*y.*', '(?i)y', '[xy]+', 'x|', 'xy?z?', '.', '\\d+', 'é|a.b', 'x\\.y', '.+y', 'y.+', '(x|y)z?'];
  const series = new Map<number, Labels>();
  const p = new MemPostings();
  let nextRef = 1;
  const addSeries = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const kv: string[] = [];
      for (const name of names) if (rnd() < 0.6) kv.push(name, pick(values));
      const ls = L(...kv);
      const ref = nextRef;
      nextRef += 1 + Math.floor(rnd() * 3); // gaps, as after GC
      series.set(ref, ls);
      p.add(ref, ls);
    }
  };
  const randomMatcher = (): Matcher => {
    const name = rnd() < 0.9 ? pick(names) : 'e';
    const type = pick(['=', '!=', '=~', '!~'] as const);
    const value = type === '=' || type === '!=' ? (rnd() < 0.2 ? '' : pick(values)) : pick(patterns);
    return new Matcher(type, name, value);
  };
  const brute = (ms: readonly Matcher[]): number[] => {
    if (ms.length === 0) return [];
    const out: number[] = [];
    for (const [ref, ls] of series) if (ms.every((m) => m.matches(labelsGet(ls, m.name)))) out.push(ref);
    return out.sort((x, y) => x - y);
  };
  addSeries(300);
  for (let round = 0; round < 3; round++) {
    for (let q = 0; q < 400; q++) {
      const ms = Array.from({ length: 1 + Math.floor(rnd() * 3) }, randomMatcher);
      const got = arr(select(p, ms));
      const want = brute(ms);
      assert.deepEqual(got, want, `round ${round} query ${q}: {${ms.map(String).join(', ')}} (seed ${seed})`);
      const name = pick(names);
      const wantValues = [...new Set(want.map((r) => labelsGet(series.get(r) as Labels, name)).filter((v) => v !== ''))].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(labelValuesFor(p, name, ms), wantValues, `values of ${name} for {${ms.map(String).join(', ')}} (seed ${seed})`);
      const wantNames = [...new Set(want.flatMap((r) => (series.get(r) as Labels).filter((_, i) => i % 2 === 0)))].sort();
      assert.deepEqual(labelNamesFor(p, ms), wantNames, `names for {${ms.map(String).join(', ')}} (seed ${seed})`);
    }
    // churn: delete a random third, add more
    const refs = [...series.keys()].filter(() => rnd() < 0.33);
    p.deleteMany(refs, (r) => series.get(r));
    for (const r of refs) series.delete(r);
    addSeries(100);
    assert.equal(p.numSeries, series.size, `seed ${seed}`);
  }
});
