import '../harness.js';
// The remote-read request decoder (src/querier/api/remote-read.ts): a hand-built request decodes
// to its queries; any byte string either decodes or fails with a 400 'bad_data' error, never
// anything else (untrusted input).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MuninnError } from '../../src/errors/index.js';
import { decodeReadRequest } from '../../src/querier/index.js';
import { Writer } from '../../src/remotewrite/writer.js';

function request(): Uint8Array {
  const w = new Writer();
  const q = w.begin(1);
  w.optInt64(1, 1_700_000_000_000, 'start');
  w.optInt64(2, 1_700_000_060_000, 'end');
  for (const [type, name, value] of [[0, '__name__', 'up'], [3, 'job', 'a|b'], [1, 'ü', '']] as const) {
    const m = w.begin(3);
    w.optInt32(1, type, 'type');
    w.string(2, name);
    w.string(3, value);
    w.end(m);
  }
  w.end(q);
  w.repeatedUint32(2, [0, 1], true);
  return w.finish();
}

test('a ReadRequest decodes to its queries, matchers and accepted response types', () => {
  assert.deepEqual(decodeReadRequest(request()), {
    queries: [{
      startMs: 1_700_000_000_000,
      endMs: 1_700_000_060_000,
      matchers: [{ type: '=', name: '__name__', value: 'up' }, { type: '!~', name: 'job', value: 'a|b' }, { type: '!=', name: 'ü', value: '' }],
    }],
    acceptedResponseTypes: [0, 1],
  });
  assert.deepEqual(decodeReadRequest(new Uint8Array(0)), { queries: [], acceptedResponseTypes: [] });
});

test('malformed requests: a bad_data error naming the problem', () => {
  const bad = (b: number[], re: RegExp): void => {
    assert.throws(() => decodeReadRequest(Uint8Array.from(b)), (e: unknown) => e instanceof MuninnError && e.code === 'bad_data' && re.test(e.message));
  };
  bad([0x0a, 0x05, 0x08], /malformed prometheus.ReadRequest/);
  bad([0x0a, 0x04, 0x1a, 0x02, 0x08, 0x07], /unknown matcher type 7/);
  bad([0x0a, 0x05, 0x1a, 0x03, 0x12, 0x01, 0xff], /UTF-8/);
});

test('fuzz: random and mutated requests decode or fail with bad_data, nothing else', () => {
  const good = request();
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(good.length)).map(([i, v, cut]) => {
        const b = Uint8Array.from(good);
        b[i] = v;
        return b.subarray(0, Math.max(cut, i + 1));
      }),
    ),
    (b) => {
      try {
        decodeReadRequest(b);
      } catch (e) {
        assert.ok(e instanceof MuninnError && e.code === 'bad_data', String(e));
      }
    },
  ), { numRuns: 3000, seed: 42 });
});
