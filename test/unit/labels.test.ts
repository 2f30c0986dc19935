import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MuninnError } from '../../src/errors/index.js';
import {
  EMPTY_LABELS,
  FNV1_32_OFFSET,
  InvalidLabelsError,
  LabelsBuilder,
  LabelsHasher,
  SymbolTable,
  compareStrings,
  fnv1_32,
  fnv1_32String,
  labelName,
  labelValue,
  labelsCompare,
  labelsCount,
  labelsEqual,
  labelsFromPairs,
  labelsFromRecord,
  labelsFromStrings,
  labelsGet,
  labelsHas,
  labelsHash,
  labelsToRecord,
  labelsToString,
  seriesToken,
} from '../../src/tsdb/labels/index.js';
import type { Labels } from '../../src/tsdb/labels/index.js';
import { mulberry32 } from '../util.js';

const L = labelsFromStrings;

test('builder sorts by name, drops empty values, freezes', () => {
  const ls = L('job', 'api', '__name__', 'up', 'env', '', 'instance', 'a:1');
  assert.deepEqual([...ls], ['__name__', 'up', 'instance', 'a:1', 'job', 'api']);
  assert.ok(Object.isFrozen(ls));
  assert.equal(labelsCount(ls), 3);
  assert.equal(labelName(ls, 1), 'instance');
  assert.equal(labelValue(ls, 1), 'a:1');
  assert.equal(L().length, 0);
  assert.equal(L('a', ''), EMPTY_LABELS);
  // many labels take the index-sort path
  const pairs: [string, string][] = Array.from({ length: 50 }, (_, i) => [`n${String(49 - i).padStart(2, '0')}`, `v${i}`]);
  const big = labelsFromPairs(pairs);
  assert.equal(labelsCount(big), 50);
  for (let i = 0; i < 49; i++) assert.ok(compareStrings(labelName(big, i), labelName(big, i + 1)) < 0);
  assert.equal(labelsGet(big, 'n00'), 'v49');
});

test('builder rejects duplicate and empty names with a typed bad_data error', () => {
  const cases: { pairs: [string, string][]; reason: string; name: string; msg: RegExp }[] = [
    { pairs: [['b', '1'], ['a', '1'], ['b', '2']], reason: 'duplicate_label_name', name: 'b', msg: /duplicate label name "b" in series \{a="1", b="1", b="2"\}/ },
    { pairs: [['a', '1'], ['a', '1']], reason: 'duplicate_label_name', name: 'a', msg: /duplicate label name "a"/ },
    { pairs: [['', 'x'], ['a', '1']], reason: 'empty_label_name', name: '', msg: /empty label name/ },
  ];
  for (const c of cases) {
    assert.throws(() => labelsFromPairs(c.pairs), (e: unknown) => {
      assert.ok(e instanceof InvalidLabelsError, String(e));
      assert.ok(e instanceof MuninnError);
      assert.equal(e.code, 'bad_data');
      assert.equal(e.httpStatus, 400);
      assert.equal(e.reason, c.reason);
      assert.equal(e.labelName, c.name);
      assert.match(e.message, c.msg);
      return true;
    });
  }
  // a duplicate whose second value is empty is dropped first, so it is not a duplicate
  assert.deepEqual([...L('a', '1', 'a', '')], ['a', '1']);
  assert.throws(() => L('a'), RangeError);
});

test('builder is reusable and interns through a symbol table', () => {
  const sym = new SymbolTable();
  const b = new LabelsBuilder(sym);
  const x = b.add('job', 'api').add('__name__', 'up').labels();
  const y = b.reset().add('__name__', 'up').add('job', 'db').labels();
  assert.deepEqual([...x], ['__name__', 'up', 'job', 'api']);
  assert.deepEqual([...y], ['__name__', 'up', 'job', 'db']);
  assert.equal(sym.size, 5); // __name__, up, job, api, db
  assert.equal(sym.lookup('db'), 'db');
  assert.equal(sym.lookup('nope'), undefined);
  sym.retainOnly([y]);
  assert.equal(sym.size, 4);
  assert.equal(sym.lookup('api'), undefined);
  sym.clear();
  assert.equal(sym.size, 0);
});

test('labelsFromRecord / labelsToRecord round trip, including a __proto__ label', () => {
  const ls = labelsFromRecord({ b: '2', a: '1', ['__proto__']: 'x' });
  assert.deepEqual([...ls], ['__proto__', 'x', 'a', '1', 'b', '2']);
  const rec = labelsToRecord(ls);
  assert.deepEqual(Object.keys(rec), ['__proto__', 'a', 'b']);
  assert.equal(rec['__proto__'], 'x');
});

test('get / has: absent labels read as ""', () => {
  const ls = L('a', '1', 'b', '2');
  assert.equal(labelsGet(ls, 'a'), '1');
  assert.equal(labelsGet(ls, 'b'), '2');
  assert.equal(labelsGet(ls, 'c'), '');
  assert.equal(labelsGet(ls, '1'), ''); // never matches a value slot
  assert.ok(labelsHas(ls, 'b'));
  assert.ok(!labelsHas(ls, 'c'));
  assert.ok(!labelsHas(ls, '2'));
});

test('equals and compare follow Prometheus labels.Compare', () => {
  const base = L('aaa', '111', 'bbb', '222');
  const cases: { other: Labels; want: number }[] = [
    { other: L('aaa', '111', 'bar', '222'), want: 1 },
    { other: L('aaa', '111', 'bbb', '233'), want: -1 },
    { other: L('aaa', '111', 'bbc', '222'), want: -1 },
    { other: L('aaa', '111', 'bb', '222'), want: 1 },
    { other: L('aaa', '111'), want: 1 },
    { other: L('aaa', '111', 'bbb', '222', 'ccc', '333'), want: -1 },
    { other: L('bbb', '222'), want: -1 },
    { other: L('aaa', '111', 'bbb', '222'), want: 0 },
    { other: EMPTY_LABELS, want: 1 },
  ];
  for (const c of cases) {
    assert.equal(labelsCompare(base, c.other), c.want, labelsToString(c.other));
    assert.equal(labelsCompare(c.other, base), 0 - c.want || 0, labelsToString(c.other));
    assert.equal(labelsEqual(base, c.other), c.want === 0, labelsToString(c.other));
  }
});

test('string order is UTF-8 byte order, not UTF-16 code unit order', () => {
  const bmpHigh = '\uffef'; // U+FFEF: 3 UTF-8 bytes EF BF AF
  const astral = '\u{1F600}'; // 4 UTF-8 bytes F0 9F 98 80, UTF-16 D83D DE00
  assert.ok(bmpHigh > astral, 'JS order differs');
  assert.equal(compareStrings(bmpHigh, astral), -1);
  assert.equal(compareStrings(astral, bmpHigh), 1);
  assert.equal(Buffer.compare(Buffer.from(bmpHigh), Buffer.from(astral)), -1);
  const rnd = mulberry32(7);
  const alphabet = ['a', 'b', 'Z', 'é', '\u4e16', '\ue000', '\uffef', '\u{1F600}', '\u{10000}', '\0', '~'];
  const word = (): string => Array.from({ length: Math.floor(rnd() * 4) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
  for (let i = 0; i < 2000; i++) {
    const a = word();
    const b = word();
    assert.equal(Math.sign(compareStrings(a, b)), Buffer.compare(Buffer.from(a), Buffer.from(b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)} (seed 7)`);
  }
  // the builder sorts names by that order
  assert.deepEqual([...L(astral, '1', bmpHigh, '2')], [bmpHigh, '2', astral, '1']);
});

test('toString prints the Prometheus form with Go escapes', () => {
  const cases: { ls: Labels; want: string }[] = [
    { ls: EMPTY_LABELS, want: '{}' },
    { ls: L('a', 'b', 'c', 'd'), want: '{a="b", c="d"}' },
    { ls: L('__name__', 'up', 'job', 'api'), want: '{__name__="up", job="api"}' },
    { ls: L('q', 'say "hi"\\ok'), want: '{q="say \\"hi\\"\\\\ok"}' },
    { ls: L('c', 'a\nb\tc\rd\u0007\b\f\v'), want: '{c="a\\nb\\tc\\rd\\a\\b\\f\\v"}' },
    { ls: L('c', '\u0001\u001f\u007f'), want: '{c="\\x01\\x1f\\x7f"}' },
    { ls: L('u', 'é世界\u{1F600}'), want: '{u="é世界\u{1F600}"}' },
    { ls: L('u', 'a\u00a0b\u00adc\u2028'), want: '{u="a\\u00a0b\\u00adc\\u2028"}' },
    { ls: L('u', '\ue000\u{10fffd}'), want: '{u="\\ue000\\U0010fffd"}' },
    { ls: L('u', 'x\ud800y'), want: '{u="x\ufffdy"}' },
    { ls: L('a.b', 'x', 'a:b', 'y', 'ok_1', 'z'), want: '{"a.b"="x", "a:b"="y", ok_1="z"}' },
    { ls: L('1a', 'x'), want: '{"1a"="x"}' },
  ];
  for (const c of cases) assert.equal(labelsToString(c.ls), c.want);
});

// --- hashing ---------------------------------------------------------------------------------

function hashOverBytes(ls: Labels): number {
  const h = new LabelsHasher();
  for (const s of ls) h.addBytes(Buffer.from(s, 'utf8'));
  return h.sum();
}

test('labelsHash: equal sets hash equal, defined over UTF-8 bytes, in [0, 2^53)', () => {
  const a = L('job', 'api', '__name__', 'up');
  const b = labelsFromPairs([['__name__', 'up'], ['job', 'api']]);
  assert.equal(labelsHash(a), labelsHash(b));
  assert.notEqual(labelsHash(L('a', 'bc')), labelsHash(L('ab', 'c')));
  assert.notEqual(labelsHash(L('a', 'b')), labelsHash(L('a', 'b', 'c', 'd')));
  assert.notEqual(labelsHash(EMPTY_LABELS), labelsHash(L('a', 'b')));
  const tricky = [
    L('a', 'é', 'b', '世界'),
    L('x', '\u{1F600}\u{10FFFF}', 'y', '\u07ff\u0800\uffff'),
    L('lone', 'a\ud800b', 'lone2', '\udc00'),
    L('k', 'abcd', 'kk', 'abcde'),
    L('__name__', 'rwbench_http_requests_total', 'instance', 'node-1.bench.internal:9100', 'job', 'api-server'),
  ];
  for (const ls of tricky) {
    const h = labelsHash(ls);
    assert.ok(Number.isSafeInteger(h) && h >= 0, String(h));
    assert.equal(h, hashOverBytes(ls), labelsToString(ls));
  }
  // sum() does not consume the state
  const hs = new LabelsHasher().addString('a').addString('b');
  assert.equal(hs.sum(), hs.sum());
  assert.equal(hs.sum(), labelsHash(L('a', 'b')));
  // addBytes honours start/end
  const buf = Buffer.from('xxupyy');
  assert.equal(new LabelsHasher().addString('__name__').addBytes(buf, 2, 4).sum(), labelsHash(L('__name__', 'up')));
});

test('labelsHash is stable (pinned values: a changed hash is a changed format)', () => {
  // Computed once from this implementation. If these change on purpose, say so in the change:
  // anything that kept hashes (WAL checkpoints, caches) must be rebuilt.
  assert.deepEqual(
    [labelsHash(EMPTY_LABELS), labelsHash(L('a', 'b')), labelsHash(L('__name__', 'up', 'job', 'api', 'instance', 'localhost:9090'))],
    [4742650479810161, 2964425109143266, 1227495912945136],
  );
});

test('labelsHash: no collisions over 200k distinct bench-shaped label sets', () => {
  const seen = new Set<number>();
  for (let t = 0; t < 2000; t++) {
    for (let m = 0; m < 100; m++) {
      seen.add(labelsHash(L('__name__', `rwbench_m${m}_total`, 'instance', `node-${t}.bench.internal:9100`, 'job', `job-${t % 8}`)));
    }
  }
  assert.equal(seen.size, 200_000);
});

// --- FNV-1 series token -------------------------------------------------------------------------

/** Reference FNV-1 32 over bytes, written independently of the implementation. */
function refFnv1(bytes: Buffer): number {
  let h = 2166136261;
  for (const b of bytes) {
    h = Number((BigInt(h) * 16777619n) % 4294967296n);
    h = (h ^ b) >>> 0;
  }
  return h;
}

test('FNV-1 32 matches the published vectors and a reference over bytes', () => {
  assert.equal(fnv1_32(Buffer.from('')), 0x811c9dc5);
  assert.equal(fnv1_32(Buffer.from('a')), 0x050c5d7e);
  assert.equal(fnv1_32(Buffer.from('foobar')), 0x31f0b262);
  assert.equal(fnv1_32String('foobar'), 0x31f0b262);
  assert.equal(FNV1_32_OFFSET, 0x811c9dc5);
  for (const s of ['', 'a', 'foobar', 'é', '世界', '\u{1F600}', 'x\ud800y', 'tenant-1']) {
    assert.equal(fnv1_32String(s), refFnv1(Buffer.from(s, 'utf8')), JSON.stringify(s));
    assert.equal(fnv1_32(Buffer.from(s, 'utf8')), refFnv1(Buffer.from(s, 'utf8')), JSON.stringify(s));
  }
  // continuing a hash equals hashing the concatenation
  assert.equal(fnv1_32String('bar', fnv1_32String('foo')), 0x31f0b262);
  assert.equal(fnv1_32(Buffer.from('xxbarxx'), fnv1_32String('foo'), 2, 5), 0x31f0b262);
});

test('seriesToken: FNV-1 over tenant, then names and values in sorted order, no separators', () => {
  const cases: [string, Labels][] = [
    ['', EMPTY_LABELS],
    ['user-1', L('__name__', 'up')],
    ['user-1', L('job', 'api', '__name__', 'up', 'instance', 'a:1')],
    ['tenant-é', L('name', '世界', 'emoji', '\u{1F600}')],
    ['anonymous', L('__name__', 'rwbench_http_requests_total', 'cluster', 'cluster-1', 'env', 'prod')],
  ];
  for (const [tenant, ls] of cases) {
    const bytes = Buffer.concat([Buffer.from(tenant), ...ls.map((s) => Buffer.from(s))]);
    assert.equal(seriesToken(tenant, ls), refFnv1(bytes), `${tenant} ${labelsToString(ls)}`);
  }
  // hand-computed: "user-1" + "__name__" + "up" as one byte string
  assert.equal(seriesToken('user-1', L('__name__', 'up')), refFnv1(Buffer.from('user-1__name__up')));
  assert.equal(seriesToken('', EMPTY_LABELS), 0x811c9dc5);
  assert.equal(seriesToken('a', EMPTY_LABELS), 0x050c5d7e);
  assert.equal(seriesToken('foo', L('b', 'ar')), 0x31f0b262); // "foo" + "b" + "ar" = "foobar"
});
