import '../harness.js';
// Seeded fuzzing of the remote-write decoders: mutated valid 1.0 and 2.0 encodings (bit flips,
// truncations, inserted/deleted/duplicated bytes, varint edge bytes, random lengths, spliced
// pieces of different requests) must either decode or throw MuninnError 'bad_data', quickly,
// and a decoded result must only point inside its body. A few hundred of them also go through
// the HTTP route snappy-compressed (and with the compressed bytes mutated), which must answer
// 2xx or 4xx and stay up. Replay a failure with FUZZ_SEED=<seed printed in the message>.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { compressSync } from 'snappy';
import { PROTO_V2, PUSH_PATH, registerPushRoute } from '../../src/distributor/push-http.js';
import type { PushOutcome, PushTarget } from '../../src/distributor/push-types.js';
import { MuninnError } from '../../src/errors/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import {
  type DecodedWriteRequest,
  decodeWriteRequest,
  decodeWriteRequestV2,
  encodeWriteRequest,
  encodeWriteRequestV2,
  labelsOf,
  STALE_NAN_BITS,
  type WriteRequestObject,
} from '../../src/remotewrite/index.js';
import { HttpServer } from '../../src/server/http.js';
import { mulberry32, withDeadline } from '../util.js';

const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : 0x5eed_f00d;
const MUTATIONS = 12_000;
const HTTP_CASES = 300;

type Rnd = () => number;
const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);

// ---------------------------------------------------------------------------------------------
// The valid seeds: every message and field kind the decoders know

const T0 = 1_700_000_000_000;
const BASE: WriteRequestObject[] = [
  {
    series: [
      {
        labels: ['__name__', 'http_requests_total', 'code', '200', 'job', 'api'],
        samples: [{ value: 1, timestamp: T0 }, { value: 2.5, timestamp: T0 + 15_000, startTimestamp: T0 - 1 }, { value: STALE_NAN_BITS, timestamp: T0 + 30_000 }],
        exemplars: [{ labels: ['trace_id', '4bf92f3577b34da6a3ce929d0e0e4736'], value: 0.25, timestamp: T0 + 1 }, { labels: [], value: -1, timestamp: T0 + 2 }],
        metadata: { type: 1, help: 'Requests.', unit: 'requests' },
        createdTimestamp: T0 - 60_000,
      },
      { labels: ['__name__', 'up', 'instance', 'host:9100'], samples: [{ value: 1, timestamp: -1 }] },
    ],
    metadata: [{ type: 1, metricFamilyName: 'http_requests_total', help: 'Requests.', unit: '' }],
  },
  {
    series: [
      {
        labels: ['__name__', 'rpc_duration_seconds', 'service', 'checkout'],
        histograms: [
          {
            countInt: 12, sum: 3.75, schema: 3, zeroThreshold: 1e-128, zeroCountInt: 2,
            negativeSpans: [{ offset: -2, length: 2 }], negativeDeltas: [1, 1],
            positiveSpans: [{ offset: 0, length: 3 }, { offset: 2, length: 1 }], positiveDeltas: [1, 2, -1, 2],
            resetHint: 2, timestamp: T0, startTimestamp: T0 - 5,
          },
          {
            countFloat: 7.5, sum: 2, schema: 0, zeroThreshold: 0.001, zeroCountFloat: 0.5,
            positiveSpans: [{ offset: 1, length: 2 }], positiveCounts: [3, 4], resetHint: 3, timestamp: T0 + 1,
          },
        ],
        exemplars: [{ labels: ['trace_id', 'x', 'span_id', 'y'], value: 0.1, timestamp: T0 }],
        metadata: { type: 3, help: 'RPC latency.', unit: 'seconds' },
      },
      {
        labels: ['__name__', 'nhcb', 'le_set', 'a'],
        histograms: [{ countInt: 3, sum: 1, schema: -53, positiveSpans: [{ offset: 0, length: 3 }], positiveDeltas: [1, 0, 0], customValues: [0.1, 0.5, 1], timestamp: T0 }],
      },
    ],
    metadata: [{ type: 3, metricFamilyName: 'rpc_duration_seconds', help: 'RPC latency.', unit: 'seconds' }],
  },
  {
    series: Array.from({ length: 12 }, (_, i) => ({
      labels: ['__name__', `metric_${i}`, 'idx', String(i), 'utf8 ☃', 'välue\n'],
      samples: Array.from({ length: 3 }, (_, k) => ({ value: i * k, timestamp: T0 + k })),
    })),
  },
];

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const o of BASE) {
    for (const packed of [true, false]) {
      out.push(encodeWriteRequest(o, { packed }), encodeWriteRequestV2(o, { packed }));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutations

const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12, 0x1a, 0x22, 0x0b, 0x0c, 0x0e, 0x0f];

function randomBytes(rnd: Rnd, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(rnd, 256);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** One mutation of `src`, or of a splice with `other`; the kind is named for failure messages. */
function mutate(rnd: Rnd, src: Uint8Array, other: Uint8Array): { kind: string; bytes: Uint8Array } {
  const n = src.length;
  const pos = (): number => int(rnd, n + 1);
  switch (int(rnd, 10)) {
    case 0: {
      const b = Uint8Array.from(src);
      const flips = 1 + int(rnd, 8);
      for (let i = 0; i < flips && n > 0; i++) b[int(rnd, n)]! ^= 1 << int(rnd, 8);
      return { kind: 'bit flips', bytes: b };
    }
    case 1:
      return { kind: 'truncation', bytes: src.slice(0, pos()) };
    case 2: {
      const p = pos();
      return { kind: 'insertion', bytes: concat(src.subarray(0, p), randomBytes(rnd, 1 + int(rnd, 16)), src.subarray(p)) };
    }
    case 3: {
      const p = pos();
      const len = 1 + int(rnd, 16);
      return { kind: 'deletion', bytes: concat(src.subarray(0, p), src.subarray(Math.min(n, p + len))) };
    }
    case 4: {
      const b = Uint8Array.from(src);
      const k = 1 + int(rnd, 4);
      for (let i = 0; i < k && n > 0; i++) b[int(rnd, n)] = EDGE_BYTES[int(rnd, EDGE_BYTES.length)]!;
      return { kind: 'edge bytes', bytes: b };
    }
    case 5: {
      // a length prefix or varint made huge / long: 5-10 continuation bytes
      const p = pos();
      const len = 1 + int(rnd, 11);
      const v = new Uint8Array(len).fill(0xff);
      if (rnd() < 0.5) v[len - 1] = 0x01;
      return { kind: 'long varint', bytes: concat(src.subarray(0, p), v, src.subarray(p)) };
    }
    case 6:
      return { kind: 'random bytes', bytes: randomBytes(rnd, int(rnd, int(rnd, 10) === 0 ? 4096 : 64)) };
    case 7: {
      const a = pos();
      const b = int(rnd, other.length + 1);
      return { kind: 'splice', bytes: concat(src.subarray(0, a), other.subarray(b)) };
    }
    case 8: {
      const a = pos();
      const b = Math.min(n, a + int(rnd, 64));
      const c = pos();
      return { kind: 'duplicated range', bytes: concat(src.subarray(0, c), src.subarray(a, b), src.subarray(c)) };
    }
    default: {
      // a field key with a random field number and wire type (0..7) at a random place
      const key = (int(rnd, 40) << 3) | int(rnd, 8);
      const p = pos();
      const k = key < 0x80 ? [key] : [(key & 0x7f) | 0x80, key >> 7];
      return { kind: 'random key', bytes: concat(src.subarray(0, p), Uint8Array.from(k), randomBytes(rnd, int(rnd, 4)), src.subarray(p)) };
    }
  }
}

/** A decoded result may only point inside its body, with non-decreasing offsets. */
function checkDecoded(d: DecodedWriteRequest, where: string): void {
  const len = d.bytes.length;
  assert.equal(d.labelOffsets.length, d.seriesCount + 1, where);
  for (const offs of [d.labelOffsets, d.sampleOffsets, d.histogramOffsets, d.exemplarOffsets]) {
    assert.equal(offs[0], 0, where);
    for (let i = 1; i <= d.seriesCount; i++) assert.ok(offs[i]! >= offs[i - 1]!, `${where}: offsets decrease`);
  }
  assert.ok(d.sampleOffsets[d.seriesCount]! <= d.timestamps.length && d.timestamps.length === d.values.length, `${where}: samples`);
  assert.ok(d.labelOffsets[d.seriesCount]! * 4 <= d.labelRanges.length, `${where}: label rows`);
  for (let k = 0; k < d.labelOffsets[d.seriesCount]! * 4; k += 2) {
    const s = d.labelRanges[k]!;
    const e = d.labelRanges[k + 1]!;
    assert.ok(s <= e && e <= len, `${where}: label range [${s}, ${e}) outside the ${len}-byte body`);
  }
  const ex = d.exemplars;
  for (let k = 0; k < ex.labelOffsets[ex.labelOffsets.length - 1]! * 4; k += 2) {
    assert.ok(ex.labelRanges[k]! <= ex.labelRanges[k + 1]! && ex.labelRanges[k + 1]! <= len, `${where}: exemplar label range`);
  }
  if (d.seriesCount > 0) labelsOf(d, d.seriesCount - 1);
}

type Decoder = (b: Uint8Array) => DecodedWriteRequest;
const DECODERS: Array<[string, Decoder]> = [['decodeWriteRequest', decodeWriteRequest], ['decodeWriteRequestV2', decodeWriteRequestV2]];

test(`decoders: ${MUTATIONS} mutated requests decode or throw bad_data (seed ${SEED})`, (t) => {
  const rnd = mulberry32(SEED);
  const corpus = seeds();
  // the seeds themselves decode with their own decoder
  corpus.forEach((b, i) => checkDecoded((i % 2 === 0 ? decodeWriteRequest : decodeWriteRequestV2)(b), `seed ${i}`));
  const kinds = new Map<string, { n: number; ok: number; bad: number }>();
  let slowest = 0;
  const started = performance.now();
  for (let i = 0; i < MUTATIONS; i++) {
    const src = corpus[int(rnd, corpus.length)]!;
    const other = corpus[int(rnd, corpus.length)]!;
    let { kind, bytes } = mutate(rnd, src, other);
    // sometimes stack a second mutation
    if (rnd() < 0.25) bytes = mutate(rnd, bytes, other).bytes;
    const st = kinds.get(kind) ?? { n: 0, ok: 0, bad: 0 };
    kinds.set(kind, st);
    st.n++;
    for (const [name, decode] of DECODERS) {
      const where = `seed ${SEED} case ${i} (${kind}, ${bytes.length} bytes) ${name}: ${Buffer.from(bytes.subarray(0, 64)).toString('hex')}`;
      const t0 = performance.now();
      let d: DecodedWriteRequest | undefined;
      try {
        d = decode(bytes);
      } catch (e) {
        if (!(e instanceof MuninnError) || e.code !== 'bad_data') {
          assert.fail(`${where}: threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}`);
        }
        assert.match(e.message, /malformed|out of range|odd number|int64|exceeds|wire type|field/i, where);
        st.bad++;
      }
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      assert.ok(dt < 1000, `${where}: took ${dt.toFixed(0)} ms`);
      if (d !== undefined) {
        st.ok++;
        checkDecoded(d, where);
      }
    }
  }
  const total = performance.now() - started;
  // every mutation kind was exercised, and both outcomes happen
  assert.equal(kinds.size, 10, [...kinds.keys()].join(', '));
  let ok = 0;
  let bad = 0;
  for (const s of kinds.values()) {
    ok += s.ok;
    bad += s.bad;
  }
  assert.ok(ok > 1000 && bad > 1000, `decoded ${ok}, rejected ${bad}`);
  assert.ok(total < 20_000, `fuzzing took ${total.toFixed(0)} ms`);
  t.diagnostic(`${MUTATIONS} mutations x 2 decoders in ${total.toFixed(0)} ms (slowest call ${slowest.toFixed(2)} ms), decoded ${ok}, rejected ${bad}`);
});

test(`HTTP route: ${HTTP_CASES} mutated snappy bodies get 2xx/4xx and the server stays up (seed ${SEED})`, async () => {
  const server = new HttpServer(
    { listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 5_000 },
    silentLogger(),
    new RequestMetrics(createBareRegistry()),
  );
  let admits = 0;
  let releases = 0;
  let pushes = 0;
  const target: PushTarget = {
    admit: () => {
      admits++;
      return { addBytes: () => null, release: () => { releases++; } };
    },
    push: (_tenant, req): Promise<PushOutcome> => {
      pushes++;
      const n = req.seriesCount;
      return Promise.resolve({ written: { samples: req.sampleOffsets[n]!, histograms: req.histogramOffsets[n]!, exemplars: req.exemplarOffsets[n]! }, error: null });
    },
  };
  registerPushRoute(server, target, { maxRecvMsgSize: 256 * 1024, tenancy: { multitenancyEnabled: true, noAuthTenant: 'anonymous' }, log: silentLogger() });
  await server.listen();
  const port = server.address().port;
  const send = (body: Uint8Array, v2: boolean): Promise<number> =>
    withDeadline(
      new Promise<number>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1', port, method: 'POST', path: PUSH_PATH, agent: false,
          headers: { 'Content-Type': v2 ? `application/x-protobuf;proto=${PROTO_V2}` : 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Scope-OrgID': 'fuzz' },
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
      10_000,
      'no reply',
    );
  try {
    const rnd = mulberry32(SEED ^ 0x9e3779b9);
    const corpus = seeds();
    const statuses = new Map<number, number>();
    for (let i = 0; i < HTTP_CASES; i++) {
      const idx = int(rnd, corpus.length);
      const src = corpus[idx]!;
      const { bytes } = mutate(rnd, src, corpus[int(rnd, corpus.length)]!);
      // half: mutated protobuf, well compressed; half: mutated compressed bytes
      const body = i % 2 === 0 ? compressSync(bytes) : mutate(rnd, compressSync(src), compressSync(bytes)).bytes;
      const status = await send(body, idx % 2 === 1);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.ok((status >= 200 && status < 300) || (status >= 400 && status < 500), `seed ${SEED} case ${i}: status ${status}`);
    }
    assert.ok([...statuses.keys()].some((s) => s < 300) && [...statuses.keys()].some((s) => s >= 400), JSON.stringify([...statuses]));
    // still up and well
    assert.equal(await send(compressSync(corpus[1]!), true), 204);
    assert.equal(admits, releases);
    assert.ok(pushes > 0);
  } finally {
    await server.close(1000);
  }
});
