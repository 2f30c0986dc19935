import '../harness.js';
// Bad remote-write input against a real single-process Muninn (-target=all, RF 1): every bad
// request gets its documented status and message, the process stays ready, and the data stored
// before is untouched (same series, same samples, same value bits: NaN, ±Inf and the stale marker
// included, read back through the ingester's QueryStream RPC).
//
//   valid data first: finite values, NaN, +Inf, -Inf, stale marker  -> 200, stored bit-exact
//   empty body                      -> 400     body not snappy        -> 400
//   truncated protobuf              -> 400     body over the limit    -> 413 (declared and announced sizes)
//   invalid UTF-8 label value       -> 400 naming the label (err-mimir-label-value-invalid)
//   1000 labels                     -> 400 naming -validation.max-label-names-per-series
//   no tenant                       -> 401     tenant "../x"          -> 400
//   timestamps 0 / negative on a tenant whose head is at "now" -> 400 err-mimir-sample-out-of-bounds
//     (Mimir's ingester: older than head max time - chunk range / 2; -validation.past-grace-period
//     is 0 by default, so the distributor lets them through); on a tenant with an empty head they
//     set the head's bounds and are stored (Prometheus's TSDB accepts negative timestamps)
//   Content-Type application/json   -> 415     Content-Encoding gzip  -> 415
//   remote write 2.0                -> 204 + X-Prometheus-Remote-Write-Samples-Written
//   valid and invalid series mixed  -> 400 with the first error; the valid series are stored
// and cortex_distributor_samples_in_total / received_samples_total / cortex_discarded_samples_total
// move by exactly the samples of each case. Last, a restart on the same data directory gives back
// the same samples, bit for bit (WAL replay).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { compressSync } from 'snappy';
import { IngesterClient } from '../../src/ingester/index.js';
import { encodeWriteRequest, encodeWriteRequestV2, type F64, type SeriesObject, STALE_NAN_BITS } from '../../src/remotewrite/index.js';
import { XorChunk } from '../../src/tsdb/chunkenc/index.js';
import { MAIN_JS, problemLines, type Proc, startMuninn, tempDir } from '../proc.js';
import { withDeadline } from '../util.js';

const MAX_RECV = 1 << 20;
const T0 = Math.floor(Date.now() / 1000) * 1000 - 120_000;
const PROTOBUF = 'application/x-protobuf';
const V2_TYPE = `${PROTOBUF};proto=io.prometheus.write.v2.Request`;
const NAN_BITS = 0x7ff8000000000001n; // Prometheus's math.NaN()
const bitsOf = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, method: string, path: string, headers: Record<string, string | number>, body?: Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  });
}

let proc: Proc & { httpPort: number; grpcPort: number };
let client: IngesterClient;
const dataDir = tempDir('push-bad-input-');
const ARGS = [
  '-target=all', '-ingester.ring.replication-factor=1', '-ingester.ring.instance-addr=127.0.0.1',
  `-distributor.max-recv-msg-size=${MAX_RECV}`, '-log.level=info', `-blocks-storage.tsdb.dir=${dataDir}`,
];

async function start(): Promise<void> {
  proc = await startMuninn(MAIN_JS, ARGS);
  client = new IngesterClient(`127.0.0.1:${proc.grpcPort}`);
}

async function stop(): Promise<void> {
  client.close();
  proc.kill('SIGTERM');
  const exit = await withDeadline(proc.exited, 30_000, 'muninn did not exit within 30 s of SIGTERM');
  assert.equal(exit.code, 0, proc.stderr.join(''));
  assert.deepEqual(problemLines(proc.lines), []);
}

before(start);

after(async () => {
  try {
    if (proc.child.exitCode === null && proc.child.signalCode === null) await stop();
  } finally {
    proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function push(body: Uint8Array | Buffer, opts: { tenant?: string | null; contentType?: string | null; encoding?: string | null; extra?: Record<string, string> } = {}): Promise<Reply> {
  const h: Record<string, string | number> = { ...opts.extra };
  if (opts.tenant !== null) h['X-Scope-OrgID'] = opts.tenant ?? 't1';
  if (opts.contentType !== null) h['Content-Type'] = opts.contentType ?? PROTOBUF;
  if (opts.encoding !== null) h['Content-Encoding'] = opts.encoding ?? 'snappy';
  h['X-Prometheus-Remote-Write-Version'] = opts.contentType === V2_TYPE ? '2.0.0' : '0.1.0';
  h['Content-Length'] = body.length;
  return request(proc.httpPort, 'POST', '/api/v1/push', h, body);
}

const pushHeaders = (): Record<string, string> => ({ 'X-Scope-OrgID': 't1', 'Content-Type': PROTOBUF, 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' });

/** Headers announcing `size` body bytes, no body: the answer must come before any byte is sent. */
function declaredOnly(size: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proc.httpPort, method: 'POST', path: '/api/v1/push', headers: { ...pushHeaders(), 'Content-Length': size }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** A body of `size` bytes (not snappy) sent chunked, in one write. */
function chunked(size: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proc.httpPort, method: 'POST', path: '/api/v1/push', headers: { ...pushHeaders(), 'Transfer-Encoding': 'chunked' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(Buffer.alloc(size, 0xff));
  });
}

const snappy = (b: Uint8Array): Buffer => compressSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const v1 = (series: SeriesObject[]): Buffer => snappy(encodeWriteRequest({ series }));

/** Every series of a tenant: labels -> [t, value bits as hex], from QueryStream with samples. */
async function stored(tenant: string): Promise<Map<string, Array<[number, string]>>> {
  const out = new Map<string, Array<[number, string]>>();
  const q = { mint: -8.64e15, maxt: 8.64e15, matchers: [{ type: '=~' as const, name: '__name__', value: '.+' }], samples: true };
  for await (const batch of client.queryStream(tenant, q)) {
    for (const s of batch) {
      const pts: Array<[number, string]> = [];
      if (s.samples !== null) {
        const bits = new BigUint64Array(s.samples.v.buffer, s.samples.v.byteOffset, s.samples.v.length);
        for (let i = 0; i < s.samples.t.length; i++) pts.push([s.samples.t[i]!, bits[i]!.toString(16)]);
      }
      for (const c of s.chunks) {
        const it = XorChunk.fromBytes(c.data).iterator();
        while (it.next()) pts.push([it.t, bitsOf(it.v).toString(16)]);
      }
      pts.sort((a, b) => a[0] - b[0]);
      out.set(JSON.stringify(s.labels), pts);
    }
  }
  return out;
}

async function seriesCount(tenant: string): Promise<number> {
  const r = await request(proc.httpPort, 'GET', `/ingester/tsdb/${tenant}`, {});
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { series: number }).series;
}

async function assertReady(): Promise<void> {
  const r = await request(proc.httpPort, 'GET', '/ready', {});
  assert.equal(r.status, 200, `/ready: ${r.body}`);
}

/** cortex_* counters of interest, by "name{labels}" as exposed. */
async function metrics(): Promise<Map<string, number>> {
  const r = await request(proc.httpPort, 'GET', '/metrics', {});
  assert.equal(r.status, 200);
  const m = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

function deltas(a: Map<string, number>, b: Map<string, number>, prefixes: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of b) {
    if (!prefixes.some((p) => k.startsWith(p))) continue;
    const d = v - (a.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

const COUNTERS = ['cortex_distributor_samples_in_total', 'cortex_distributor_received_samples_total', 'cortex_discarded_samples_total'];
const inT1 = (name: string): string => `${name}{user="t1"}`;
const discarded = (reason: string, user = 't1'): string => `cortex_discarded_samples_total{reason="${reason}",user="${user}"}`;

/** Flat labels as the stored map keys them (sorted by name, as the head returns them). */
function key(labels: string[]): string {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < labels.length; i += 2) pairs.push([labels[i]!, labels[i + 1]!]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify(pairs.flat());
}

const hex = (v: F64): string => (typeof v === 'bigint' ? v : bitsOf(v)).toString(16);

/** A request body with the placeholder's bytes replaced (same length): invalid UTF-8 on the wire. */
function withBytes(body: Uint8Array, placeholder: string, bytes: number[]): Uint8Array {
  const out = Buffer.from(body);
  const p = Buffer.from(placeholder);
  assert.equal(p.length, bytes.length);
  const at = out.indexOf(p);
  assert.ok(at >= 0);
  Buffer.from(bytes).copy(out, at);
  return out;
}

const VALID: Array<{ labels: string[]; samples: Array<[number, F64]> }> = [
  { labels: ['__name__', 'bad_input_valid', 'kind', 'finite'], samples: [[T0, 1.5], [T0 + 1000, -2], [T0 + 2000, 0]] },
  { labels: ['__name__', 'bad_input_valid', 'kind', 'nan'], samples: [[T0, NAN_BITS], [T0 + 1000, 3]] },
  { labels: ['__name__', 'bad_input_valid', 'kind', 'inf'], samples: [[T0, Infinity], [T0 + 1000, 1]] },
  { labels: ['__name__', 'bad_input_valid', 'kind', 'neginf'], samples: [[T0, -Infinity]] },
  { labels: ['__name__', 'bad_input_valid', 'kind', 'stale'], samples: [[T0, 7], [T0 + 1000, STALE_NAN_BITS]] },
];
const toSeries = (v: typeof VALID): SeriesObject[] => v.map((s) => ({ labels: s.labels, samples: s.samples.map(([t, x]) => ({ timestamp: t, value: x })) }));

test('bad remote-write input: exact statuses, the process stays ready, stored data intact', { timeout: 60_000 }, async () => {
  // ---- valid data, special float values included ----
  let m0 = await metrics();
  const ok = await push(v1(toSeries(VALID)));
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.body, '');
  const expected = new Map<string, Array<[number, string]>>();
  for (const s of VALID) expected.set(key(s.labels), s.samples.map(([t, v]) => [t, hex(v)]));
  assert.deepEqual(await stored('t1'), expected, 'stored values, bit for bit');
  assert.equal(await seriesCount('t1'), VALID.length);
  let m1 = await metrics();
  const validSamples = VALID.reduce((n, s) => n + s.samples.length, 0);
  assert.deepEqual(deltas(m0, m1, COUNTERS), {
    [inT1('cortex_distributor_samples_in_total')]: validSamples,
    [inT1('cortex_distributor_received_samples_total')]: validSamples,
  });

  const good = encodeWriteRequest({ series: [{ labels: ['__name__', 'never_stored', 'x', 'y'], samples: [{ timestamp: T0, value: 1 }] }] });
  const tooManyLabels: string[] = ['__name__', 'many_labels'];
  for (let i = 0; i < 999; i++) tooManyLabels.push(`l${String(i).padStart(3, '0')}`, 'v');
  const invalidUtf8 = withBytes(
    encodeWriteRequest({ series: [{ labels: ['__name__', 'utf8_test', 'bad_label', 'PLACEHOLDER'], samples: [{ timestamp: T0, value: 1 }] }] }),
    'PLACEHOLDER', [0x61, 0xff, 0xfe, 0x62, 0xc3, 0x28, 0x63, 0xe2, 0x82, 0x64, 0x80],
  );

  interface Case {
    name: string;
    send: () => Promise<Reply>;
    status: number;
    message: RegExp;
    /** counter deltas the case must cause (every other counter of COUNTERS unchanged) */
    counters: Record<string, number>;
  }
  const cases: Case[] = [
    { name: 'empty body', send: () => push(Buffer.alloc(0)), status: 400, message: /request body is empty/, counters: {} },
    { name: 'body not snappy-compressed (raw protobuf)', send: () => push(good), status: 400, message: /not (valid )?snappy-compressed/, counters: {} },
    { name: 'body of random bytes', send: () => push(Buffer.from('this is certainly not a snappy block, nor a protobuf message')), status: 400, message: /snappy|protobuf|decod/i, counters: {} },
    { name: 'truncated protobuf', send: () => push(snappy(good.subarray(0, good.length - 5))), status: 400, message: /truncat|unexpected end|length|decod/i, counters: {} },
    {
      // the body is held back until the answer: the server must refuse on Content-Length alone.
      // (Were the client still writing a large body when the 413 and the close come, node's http
      // client would report EPIPE rather than the answer: a client matter, Go's reads the answer.)
      name: 'declared body over -distributor.max-recv-msg-size',
      send: () => declaredOnly(MAX_RECV + 1),
      status: 413, message: /its size of 1048577 bytes is over the limit of 1048576 bytes \(err-mimir-distributor-max-write-message-size\).*-distributor\.max-recv-msg-size/, counters: {},
    },
    {
      name: 'chunked body (no Content-Length) a little over the limit',
      send: () => chunked(MAX_RECV + 16 * 1024),
      status: 413, message: /over the limit of 1048576 bytes \(err-mimir-distributor-max-write-message-size\)/, counters: {},
    },
    {
      name: 'chunked body exactly at the limit (not snappy: the size check passes, decoding refuses)',
      send: () => chunked(MAX_RECV),
      status: 400, message: /not (valid )?snappy-compressed/, counters: {},
    },
    {
      name: 'small body announcing an uncompressed size over the limit',
      send: () => push(snappy(new Uint8Array(2 * MAX_RECV))),
      status: 413, message: /err-mimir-distributor-max-write-message-size/, counters: {},
    },
    {
      name: 'label value with invalid UTF-8', send: () => push(snappy(invalidUtf8)), status: 400,
      message: /label 'bad_label'.*err-mimir-label-value-invalid/,
      counters: { [inT1('cortex_distributor_samples_in_total')]: 1, [discarded('label_value_invalid')]: 1 },
    },
    {
      name: 'series with 1000 labels', send: () => push(v1([{ labels: tooManyLabels, samples: [{ timestamp: T0, value: 1 }, { timestamp: T0 + 1, value: 2 }] }])), status: 400,
      message: /1000 labels, over the limit of 30.*err-mimir-max-label-names-per-series.*-validation\.max-label-names-per-series/,
      counters: { [inT1('cortex_distributor_samples_in_total')]: 2, [discarded('max_label_names_per_series')]: 2 },
    },
    { name: 'no tenant', send: () => push(v1(toSeries(VALID)), { tenant: null }), status: 401, message: /^no org id$/, counters: {} },
    { name: 'tenant "../x"', send: () => push(v1(toSeries(VALID)), { tenant: '../x' }), status: 400, message: /tenant ID "\.\.\/x" contains unsupported characters/, counters: {} },
    {
      name: 'sample timestamps 0 and negative (head at "now")',
      send: () => push(v1([
        { labels: ['__name__', 'epoch_zero'], samples: [{ timestamp: 0, value: 1 }] },
        { labels: ['__name__', 'epoch_negative'], samples: [{ timestamp: -60_000, value: 1 }, { timestamp: -1, value: 2 }] },
      ])),
      status: 400, message: /err-mimir-sample-out-of-bounds.*timestamp 1970-01-01T00:00:00\.000Z.*epoch_zero/,
      counters: {
        [inT1('cortex_distributor_samples_in_total')]: 3, [inT1('cortex_distributor_received_samples_total')]: 3,
        [discarded('sample-out-of-bounds')]: 3,
      },
    },
    { name: 'Content-Type application/json', send: () => push(v1(toSeries(VALID)), { contentType: 'application/json' }), status: 415, message: /unsupported Content-Type "application\/json"/, counters: {} },
    { name: 'unknown proto= in Content-Type', send: () => push(v1(toSeries(VALID)), { contentType: `${PROTOBUF};proto=foo.Bar` }), status: 415, message: /unsupported remote-write message "foo\.Bar"/, counters: {} },
    { name: 'Content-Encoding gzip', send: () => push(v1(toSeries(VALID)), { encoding: 'gzip' }), status: 415, message: /unsupported Content-Encoding "gzip"/, counters: {} },
    { name: 'Content-Encoding snappy framed', send: () => push(v1(toSeries(VALID)), { encoding: 'x-snappy-framed' }), status: 415, message: /unsupported Content-Encoding/, counters: {} },
  ];

  const baseline = await stored('t1');
  const baseCount = await seriesCount('t1');
  const observed: string[] = [];
  for (const c of cases) {
    m0 = await metrics();
    const r = await c.send();
    observed.push(`${c.name}: ${r.status} ${r.body.trim()}`);
    assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
    assert.match(r.body.trim(), c.message, c.name);
    await assertReady();
    assert.equal(await seriesCount('t1'), baseCount, `${c.name}: series count`);
    assert.deepEqual(await stored('t1'), baseline, `${c.name}: stored data`);
    m1 = await metrics();
    assert.deepEqual(deltas(m0, m1, COUNTERS), c.counters, `${c.name}: counters`);
  }
  // no tenant directory was made for the invalid tenant, nor any data under another name
  const tenants = JSON.parse((await request(proc.httpPort, 'GET', '/ingester/tenants', { Accept: 'application/json' })).body) as { tenants: Array<{ tenant: string }> };
  assert.deepEqual(tenants.tenants.map((t) => t.tenant), ['t1']);

  // ---- remote write 2.0: 204 and the written counts ----
  m0 = await metrics();
  const v2Series: SeriesObject[] = [
    { labels: ['__name__', 'rw2_metric', 'job', 'a'], samples: [{ timestamp: T0 + 10_000, value: 1 }, { timestamp: T0 + 11_000, value: NAN_BITS }, { timestamp: T0 + 12_000, value: STALE_NAN_BITS }] },
    { labels: ['__name__', 'rw2_metric', 'job', 'b'], samples: [{ timestamp: T0 + 10_000, value: -Infinity }, { timestamp: T0 + 11_000, value: 4.25 }] },
  ];
  const r2 = await push(snappy(encodeWriteRequestV2({ series: v2Series })), { contentType: V2_TYPE });
  observed.push(`remote write 2.0: ${r2.status} samples-written=${String(r2.headers['x-prometheus-remote-write-samples-written'])}`);
  assert.equal(r2.status, 204, r2.body);
  assert.equal(r2.headers['x-prometheus-remote-write-samples-written'], '5');
  assert.equal(r2.headers['x-prometheus-remote-write-histograms-written'], '0');
  assert.equal(r2.headers['x-prometheus-remote-write-exemplars-written'], '0');
  for (const s of v2Series) expected.set(key(s.labels), (s.samples ?? []).map((x) => [x.timestamp, hex(x.value)]));
  assert.deepEqual(await stored('t1'), expected);
  assert.equal(await seriesCount('t1'), VALID.length + 2);
  m1 = await metrics();
  assert.deepEqual(deltas(m0, m1, COUNTERS), { [inT1('cortex_distributor_samples_in_total')]: 5, [inT1('cortex_distributor_received_samples_total')]: 5 });

  // ---- valid and invalid series in one request: 400 with the first error, the valid stored ----
  m0 = await metrics();
  const mixedBody = withBytes(encodeWriteRequest({
    series: [
      { labels: ['__name__', 'mixed_ok', 'n', '1'], samples: [{ timestamp: T0 + 20_000, value: 11 }] },
      { labels: ['__name__', 'mixed_bad', 'first_bad', 'XXXX'], samples: [{ timestamp: T0 + 20_000, value: 12 }, { timestamp: T0 + 21_000, value: 13 }] },
      { labels: ['__name__', 'mixed_ok', 'n', '2'], samples: [{ timestamp: T0 + 20_000, value: 14 }, { timestamp: T0 + 21_000, value: Infinity }] },
      { labels: ['__name__', 'mixed_bad2', 'dup', 'a', 'dup', 'b'], samples: [{ timestamp: T0 + 20_000, value: 15 }] },
      { labels: ['__name__', 'mixed_ok', 'n', '3'], samples: [{ timestamp: T0 + 20_000, value: STALE_NAN_BITS }] },
    ],
  }), 'XXXX', [0x78, 0xc0, 0xaf, 0x79]);
  const rm = await push(snappy(mixedBody));
  observed.push(`valid + invalid series: ${rm.status} ${rm.body.trim()}`);
  assert.equal(rm.status, 400, rm.body);
  assert.match(rm.body, /label 'first_bad'.*err-mimir-label-value-invalid/);
  assert.doesNotMatch(rm.body, /dup|duplicate/);
  expected.set(key(['__name__', 'mixed_ok', 'n', '1']), [[T0 + 20_000, hex(11)]]);
  expected.set(key(['__name__', 'mixed_ok', 'n', '2']), [[T0 + 20_000, hex(14)], [T0 + 21_000, hex(Infinity)]]);
  expected.set(key(['__name__', 'mixed_ok', 'n', '3']), [[T0 + 20_000, hex(STALE_NAN_BITS)]]);
  assert.deepEqual(await stored('t1'), expected, 'the valid series of the mixed request');
  assert.equal(await seriesCount('t1'), VALID.length + 2 + 3);
  m1 = await metrics();
  assert.deepEqual(deltas(m0, m1, COUNTERS), {
    [inT1('cortex_distributor_samples_in_total')]: 7,
    [inT1('cortex_distributor_received_samples_total')]: 4,
    [discarded('label_value_invalid')]: 2,
    [discarded('duplicate_label_names')]: 1,
  });
  await assertReady();

  // ---- timestamps 0 and negative on a tenant with an empty head: stored, as Prometheus's TSDB does ----
  const epoch: SeriesObject[] = [
    { labels: ['__name__', 'epoch_metric', 'k', 'neg'], samples: [{ timestamp: -7_200_001, value: 1 }, { timestamp: -5000, value: 2 }, { timestamp: -1, value: NAN_BITS }] },
    { labels: ['__name__', 'epoch_metric', 'k', 'zero'], samples: [{ timestamp: 0, value: -0 }, { timestamp: 1, value: 5 }] },
  ];
  const re = await push(v1(epoch), { tenant: 't-epoch' });
  observed.push(`timestamps <= 0, empty head: ${re.status} ${re.body.trim()}`);
  assert.equal(re.status, 200, re.body);
  const epochExpected = new Map(epoch.map((s) => [key(s.labels), (s.samples ?? []).map((x): [number, string] => [x.timestamp, hex(x.value)])]));
  assert.deepEqual(await stored('t-epoch'), epochExpected);
  assert.equal(await seriesCount('t-epoch'), 2);

  await assertReady();
  assert.deepEqual(await stored('t1'), expected, 'tenant t1 at the end');

  // ---- the same after a restart (WAL replay): bits of NaN / stale marker, negative timestamps ----
  await stop();
  await start();
  assert.deepEqual(await stored('t1'), expected, 'tenant t1 after a restart');
  assert.deepEqual(await stored('t-epoch'), epochExpected, 'tenant t-epoch after a restart');
  assert.equal(await seriesCount('t1'), VALID.length + 2 + 3);
  if (process.env.MUNINN_TEST_VERBOSE !== undefined) console.log(observed.join('\n'));
});
