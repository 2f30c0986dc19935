// The ingester end to end: push and query in-process and over gRPC, restart with WAL replay,
// shutdown with pushes in flight, limits and errors.
import '../harness.js';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { schema } from '../../src/app/config.js';
import { defaultsOf } from '../../src/config/index.js';
import { MuninnError } from '../../src/errors/index.js';
import { Ingester, IngesterClient, ingesterHandlers, ingesterServiceDefinition, type StreamSeries } from '../../src/ingester/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import { encodeWriteRequest } from '../../src/remotewrite/index.js';
import { GrpcServer } from '../../src/server/grpc.js';
import { isStaleNaN, STALE_NAN_BITS, XorChunk } from '../../src/tsdb/chunkenc/index.js';
import { newIngester, started, stopped } from '../ingester-helpers.js';
import { tempDir } from '../proc.js';

const T0 = 1_700_000_000_000;

function body(series: Array<{ labels: string[]; samples: Array<[number, number | bigint]> }>): Uint8Array {
  return encodeWriteRequest({ series: series.map((s) => ({ labels: s.labels, samples: s.samples.map(([t, v]) => ({ timestamp: t, value: v })) })) });
}

/** Every float sample of every series, by label string, decoded from chunks or samples. */
async function readAll(api: { queryStream: Ingester['queryStream'] }, tenant: string, matchers = [{ type: '=~' as const, name: '__name__', value: '.+' }]): Promise<Map<string, Array<[number, number]>>> {
  const out = new Map<string, Array<[number, number]>>();
  for await (const batch of api.queryStream(tenant, { mint: -Infinity, maxt: Infinity, matchers })) {
    for (const s of batch) out.set(s.labels.join(','), samplesOf(s));
  }
  return out;
}

function samplesOf(s: StreamSeries): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (s.samples !== null) {
    for (let i = 0; i < s.samples.t.length; i++) out.push([s.samples.t[i] as number, s.samples.v[i] as number]);
    return out;
  }
  for (const c of s.chunks) {
    const it = XorChunk.fromBytes(c.data).iterator();
    while (it.next()) out.push([it.t, it.v]);
    assert.equal(it.err(), undefined);
  }
  return out;
}

test('push then query: chunks decode to the pushed samples; the stale marker keeps its bits', async () => {
  const dir = tempDir('ing-');
  const ing = await started(newIngester(dir));
  try {
    const samples: Array<[number, number | bigint]> = [];
    for (let i = 0; i < 300; i++) samples.push([T0 + i * 15_000, i * 1.5]);
    samples.push([T0 + 300 * 15_000, STALE_NAN_BITS]);
    await ing.push('t1', body([{ labels: ['__name__', 'up', 'job', 'a'], samples }]));
    const got = await readAll(ing, 't1');
    const s = got.get('__name__,up,job,a');
    assert.ok(s !== undefined);
    assert.equal(s.length, 301);
    for (let i = 0; i < 300; i++) assert.deepEqual(s[i], [T0 + i * 15_000, i * 1.5]);
    // read the last value's bits straight from the chunk
    let last: { t: number; stale: boolean } | undefined;
    for await (const batch of ing.queryStream('t1', { mint: T0, maxt: T0 + 1e9, matchers: [{ type: '=', name: '__name__', value: 'up' }] })) {
      const c = batch[0]?.chunks.at(-1);
      assert.ok(c !== undefined);
      const it = XorChunk.fromBytes(c.data).iterator();
      while (it.next()) last = { t: it.t, stale: isStaleNaN(it.v) };
    }
    assert.deepEqual(last, { t: T0 + 300 * 15_000, stale: true });
    // tenants are isolated
    assert.equal((await readAll(ing, 't2')).size, 0);
  } finally {
    await stopped(ing);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a push with some bad samples stores the good ones and fails with the first error (400)', async () => {
  const dir = tempDir('ing-');
  const ing = await started(newIngester(dir));
  try {
    await ing.push('t', body([{ labels: ['__name__', 'm', 'i', '1'], samples: [[T0 + 1000, 1]] }]));
    await assert.rejects(ing.push('t', body([
      { labels: ['__name__', 'm', 'i', '1'], samples: [[T0, 5], [T0 + 2000, 2]] },
      { labels: ['__name__', 'm', 'i', '2'], samples: [[T0 + 2000, 7]] },
    ])), (e: unknown) => e instanceof MuninnError && e.httpStatus === 400 && /err-mimir-sample-out-of-order/.test(e.message));
    const got = await readAll(ing, 't');
    assert.deepEqual(got.get('__name__,m,i,1'), [[T0 + 1000, 1], [T0 + 2000, 2]]);
    assert.deepEqual(got.get('__name__,m,i,2'), [[T0 + 2000, 7]]);
    const metrics = await (ing.metrics.discarded as unknown as { get(): Promise<{ values: Array<{ labels: Record<string, string>; value: number }> }> }).get();
    assert.deepEqual(metrics.values.map((v) => [v.labels.reason, v.labels.user, v.value]), [['sample-out-of-order', 't', 1]]);
  } finally {
    await stopped(ing);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('per-tenant series limit: 400 naming the flag; instance limits: retryable', async () => {
  const dir = tempDir('ing-');
  const ing = await started(newIngester(dir, (c) => {
    c.limits.maxGlobalSeriesPerUser = 2;
  }));
  try {
    await assert.rejects(ing.push('t', body([1, 2, 3].map((i) => ({ labels: ['__name__', 'm', 'i', String(i)], samples: [[T0, i]] })))),
      (e: unknown) => e instanceof MuninnError && e.httpStatus === 400 && /-ingester\.max-global-series-per-user/.test(e.message));
    assert.equal(ing.tenantDb('t')?.head.numSeries, 2);
  } finally {
    await stopped(ing);
  }
  const ing2 = await started(newIngester(dir, (c) => {
    c.ingester.maxSeries = 2;
  }));
  try {
    await assert.rejects(ing2.push('u', body([1, 2, 3].map((i) => ({ labels: ['__name__', 'm', 'i', String(i)], samples: [[T0, i]] })))),
      (e: unknown) => e instanceof MuninnError && e.retryable && e.httpStatus === 503 && /max-series/.test(e.message));
  } finally {
    await stopped(ing2);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid tenant IDs never reach the file system', async () => {
  const dir = tempDir('ing-');
  const ing = await started(newIngester(dir));
  try {
    for (const bad of ['..', '.', 'a/b', '../etc', 'x'.repeat(151), '']) {
      await assert.rejects(ing.push(bad, body([{ labels: ['__name__', 'm'], samples: [[T0, 1]] }])), (e: unknown) => e instanceof MuninnError && e.httpStatus === 400, bad);
    }
    assert.deepEqual(ing.tenants(), []);
  } finally {
    await stopped(ing);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restart replays the WAL: every acknowledged sample comes back exactly', async () => {
  const dir = tempDir('ing-');
  const expected = new Map<string, Array<[number, number]>>();
  const ing = await started(newIngester(dir, (c) => {
    c.tsdb.walSegmentSizeBytes = 64 * 1024; // several segments
  }));
  for (let round = 0; round < 50; round++) {
    const series = [];
    for (let i = 0; i < 40; i++) {
      const labels = ['__name__', `metric_${i % 5}`, 'instance', `host-${i}`, 'tenant_round', 'x'];
      const v = Math.sin(round * 40 + i) * 1e6;
      series.push({ labels, samples: [[T0 + round * 15_000, v]] as Array<[number, number]> });
      const key = labels.join(',');
      const list = expected.get(key) ?? [];
      list.push([T0 + round * 15_000, v]);
      expected.set(key, list);
    }
    await ing.push('tenant-a', body(series));
  }
  await stopped(ing);
  const ing2 = await started(newIngester(dir));
  try {
    assert.equal(ing2.replays.get('tenant-a')?.samples, 2000);
    const got = await readAll(ing2, 'tenant-a');
    assert.equal(got.size, expected.size);
    for (const [k, v] of expected) assert.deepEqual(got.get(k), v, k);
    // and it keeps accepting: a new sample for an existing series appends, an old one is out of order
    await ing2.push('tenant-a', body([{ labels: ['__name__', 'metric_0', 'instance', 'host-0', 'tenant_round', 'x'], samples: [[T0 + 50 * 15_000, 1]] }]));
    await assert.rejects(ing2.push('tenant-a', body([{ labels: ['__name__', 'metric_0', 'instance', 'host-0', 'tenant_round', 'x'], samples: [[T0, 1]] }])), /out-of-order/);
  } finally {
    await stopped(ing2);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shutdown: pushes in flight complete, later pushes get a retryable error, WALs are closed', async () => {
  const dir = tempDir('ing-');
  const ing = await started(newIngester(dir, (c) => {
    c.tsdb.walSyncMode = 'always';
  }));
  const pushes = Array.from({ length: 50 }, (_, i) => ing.push('t', body([{ labels: ['__name__', 'm', 'i', String(i)], samples: [[T0, i]] }])));
  ing.stopAsync();
  const late = ing.push('t', body([{ labels: ['__name__', 'm', 'i', 'late'], samples: [[T0, 1]] }]));
  await assert.rejects(late, (e: unknown) => e instanceof MuninnError && e.retryable && e.httpStatus === 503);
  const results = await Promise.allSettled(pushes);
  await ing.awaitTerminated();
  // every push either completed or was refused retryably: none failed otherwise
  for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof MuninnError && r.reason.retryable, String(r.reason));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const ing2 = await started(newIngester(dir));
  try {
    assert.equal((await readAll(ing2, 't')).size, ok, 'every acknowledged push is in the WAL');
  } finally {
    await stopped(ing2);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('over gRPC: push, query stream, label names/values, series, user stats, errors', async () => {
  const dir = tempDir('ing-');
  const ing = await started(newIngester(dir));
  const cfg = { ...defaultsOf(schema).server, grpcListenAddress: '127.0.0.1', grpcListenPort: 0 };
  const server = new GrpcServer(cfg, silentLogger(), new RequestMetrics(createBareRegistry()));
  server.addService(ingesterServiceDefinition(), ingesterHandlers(ing));
  await server.listen();
  const client = new IngesterClient(`127.0.0.1:${server.boundPort()}`);
  try {
    const samples: Array<[number, number | bigint]> = [[T0, 1], [T0 + 1000, STALE_NAN_BITS]];
    await client.push('t', body([
      { labels: ['__name__', 'a', 'job', 'x'], samples },
      { labels: ['__name__', 'b', 'job', 'y'], samples: [[T0, 2]] },
    ]));
    const got = await readAll(client, 't');
    assert.deepEqual([...got.keys()].sort(), ['__name__,a,job,x', '__name__,b,job,y']);
    // samples mode keeps the stale marker's bits across the wire
    for await (const batch of client.queryStream('t', { mint: T0, maxt: T0 + 1000, matchers: [{ type: '=', name: '__name__', value: 'a' }], samples: true })) {
      const s = batch[0]?.samples;
      assert.ok(s !== undefined && s !== null);
      assert.equal(s.t.length, 2);
      assert.equal(isStaleNaN(s.v[1] as number), true);
    }
    assert.deepEqual(await client.labelNames('t', { mint: T0, maxt: T0, matchers: [] }), ['__name__', 'job']);
    assert.deepEqual(await client.labelValues('t', 'job', { mint: T0, maxt: T0, matchers: [] }), ['x', 'y']);
    assert.deepEqual(await client.series('t', { mint: T0, maxt: T0, matcherSets: [[{ type: '=', name: 'job', value: 'y' }]] }), [['__name__', 'b', 'job', 'y']]);
    assert.equal((await client.userStats('t')).numSeries, 2);
    await assert.rejects(client.push('t', body([{ labels: ['__name__', 'a', 'job', 'x'], samples: [[T0 + 1000, 9]] }])),
      (e: unknown) => e instanceof MuninnError && e.code === 'bad_data' && /duplicate-timestamp/.test(e.message));
    await assert.rejects(client.queryStream('t', { mint: 0, maxt: 1, matchers: [{ type: '=~', name: 'a', value: '(' }] })[Symbol.asyncIterator]().next(),
      (e: unknown) => e instanceof MuninnError && e.code === 'bad_data');
    await stopped(ing);
    await assert.rejects(client.push('t', body([{ labels: ['__name__', 'a'], samples: [[T0 + 5000, 1]] }])),
      (e: unknown) => e instanceof MuninnError && e.code === 'unavailable' && e.retryable);
  } finally {
    client.close();
    await server.shutdown(1000);
    if (ing.state() === 'Running') await stopped(ing);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-debug.ingester.ack-before-wal-write breaks durability on purpose: acked before the WAL has it, written on a clean stop', async () => {
  const dir = tempDir('muninn-ing-debug-');
  const copy = tempDir('muninn-ing-debug-copy-');
  try {
    const ing = await started(newIngester(dir, (c) => {
      c.ingester.debugAckBeforeWalWrite = 60_000;
    }));
    await ing.push('t', body([{ labels: ['__name__', 'm', 'k', 'v'], samples: [[T0, 1]] }]));
    // what a crash right after the acknowledgement would leave on disk: the WAL lacks the sample
    cpSync(dir, copy, { recursive: true });
    const crashed = await started(newIngester(copy));
    assert.equal((await readAll(crashed, 't')).size, 0);
    await stopped(crashed);
    // a clean stop writes the deferred records
    await stopped(ing);
    const again = await started(newIngester(dir));
    assert.deepEqual([...(await readAll(again, 't')).values()], [[[T0, 1]]]);
    await stopped(again);
    // the default acknowledges only what the WAL has
    const safeDir = tempDir('muninn-ing-debug-safe-');
    const safe = await started(newIngester(safeDir));
    await safe.push('t', body([{ labels: ['__name__', 'm', 'k', 'v'], samples: [[T0, 1]] }]));
    rmSync(copy, { recursive: true, force: true });
    cpSync(safeDir, copy, { recursive: true });
    const crashedSafe = await started(newIngester(copy));
    assert.deepEqual([...(await readAll(crashedSafe, 't')).values()], [[[T0, 1]]]);
    await stopped(crashedSafe);
    await stopped(safe);
    rmSync(safeDir, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
});

test('metric metadata: kept per tenant in memory, deduplicated, limited, purged after the retain period, served over gRPC', async () => {
  const dir = tempDir('muninn-ing-md-');
  let now = T0;
  const c = defaultsOf(schema);
  c.tsdb.dir = dir;
  c.ingester.metadataRetainPeriod = 60_000;
  c.limits.maxGlobalMetadataPerMetric = 2;
  const registry = createBareRegistry();
  const ing = new Ingester({ tsdb: c.tsdb, ingester: c.ingester, limits: c.limits, log: silentLogger(), registry, now: () => now });
  await started(ing);
  const md = (metricFamilyName: string, type: number, help: string, unit = ''): { metricFamilyName: string; type: number; help: string; unit: string } => ({ metricFamilyName, type, help, unit });
  const push = (tenant: string, metadata: ReturnType<typeof md>[]): Promise<unknown> =>
    ing.push(tenant, encodeWriteRequest({ series: [{ labels: ['__name__', 'up'], samples: [{ timestamp: now, value: 1 }] }], metadata }));
  const cfg = { ...c.server, grpcListenAddress: '127.0.0.1', grpcListenPort: 0 };
  const server = new GrpcServer(cfg, silentLogger(), new RequestMetrics(createBareRegistry()));
  server.addService(ingesterServiceDefinition(), ingesterHandlers(ing));
  await server.listen();
  const client = new IngesterClient(`127.0.0.1:${server.boundPort()}`);
  try {
    await push('t', [md('up', 2, 'Up.'), md('req_total', 1, 'Requests.'), md('up', 2, 'Up.'), md('lat_seconds', 3, 'Latency.', 'seconds')]);
    await push('other', [md('secret', 0, '')]);
    const want = [
      { metric: 'lat_seconds', type: 'histogram', help: 'Latency.', unit: 'seconds' },
      { metric: 'req_total', type: 'counter', help: 'Requests.', unit: '' },
      { metric: 'up', type: 'gauge', help: 'Up.', unit: '' },
    ];
    assert.deepEqual(await ing.metricsMetadata('t'), want);
    assert.deepEqual(await client.metricsMetadata('t'), want);
    assert.deepEqual(await client.metricsMetadata('other'), [{ metric: 'secret', type: 'unknown', help: '', unit: '' }]);
    assert.deepEqual(await client.metricsMetadata('nobody'), []);
    // -ingester.max-global-metadata-per-metric (2, RF 1, one ingester): the third entry of `up` is discarded, counted
    await push('t', [md('up', 2, 'Up, v2.'), md('up', 2, 'Up, v3.')]);
    assert.deepEqual((await ing.metricsMetadata('t')).filter((m) => m.metric === 'up').map((m) => m.help), ['Up, v2.', 'Up.']);
    assert.match(await registry.metrics(), /cortex_discarded_metadata_total\{reason="per_metric_metadata_limit",user="t"\} 1/);
    // entries not sent again within the retain period go; those sent again stay
    now += 40_000;
    await push('t', [md('req_total', 1, 'Requests.')]);
    now += 30_000;
    ing.purgeMetadata();
    assert.deepEqual(await ing.metricsMetadata('t'), [{ metric: 'req_total', type: 'counter', help: 'Requests.', unit: '' }]);
    assert.deepEqual(await ing.metricsMetadata('other'), []);
    assert.match(await registry.metrics(), /cortex_ingester_memory_metadata 1\n/);
  } finally {
    client.close();
    await server.shutdown(1000);
    await stopped(ing);
    rmSync(dir, { recursive: true, force: true });
  }
});
