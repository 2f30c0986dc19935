import '../harness.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultsOf } from '../../src/config/index.js';
import { Distributor, distributorConfig, QuorumTracker, validationConfig, type DistributorLimits, type IngesterClients } from '../../src/distributor/index.js';
import { MuninnError } from '../../src/errors/index.js';
import { State } from '../../src/lifecycle/index.js';
import { createLogger } from '../../src/log/index.js';
import { createBareRegistry } from '../../src/metrics/index.js';
import { decodeWriteRequest, encodeWriteRequest, labelsOf, type SeriesObject } from '../../src/remotewrite/index.js';
import { Ring, type InstanceDesc, type RingDesc } from '../../src/ring/index.js';
import { labelsFromStrings, seriesToken } from '../../src/tsdb/labels/index.js';
import { deferred, mulberry32, withDeadline } from '../util.js';

const bad = (m = 'out of order sample'): MuninnError => new MuninnError('bad_data', m);
const down = (m = 'ingester is stopping'): MuninnError => new MuninnError('unavailable', m);

describe('QuorumTracker', () => {
  // one item, RF 3: quorum 2, one error allowed
  const cases: Array<{ name: string; answers: Array<MuninnError | null>; state: string; status?: number }> = [
    { name: 'two successes', answers: [null, null], state: 'done' },
    { name: 'one 5xx then two successes', answers: [down(), null, null], state: 'done' },
    { name: 'one 4xx then two successes', answers: [bad(), null, null], state: 'done' },
    { name: 'two 5xx', answers: [down(), down()], state: 'failed', status: 503 },
    { name: 'two 4xx', answers: [bad(), bad()], state: 'failed', status: 400 },
    { name: '4xx and 5xx: retryable', answers: [bad(), down()], state: 'failed', status: 503 },
    { name: '5xx and 4xx: retryable', answers: [down(), bad()], state: 'failed', status: 503 },
    { name: 'success, 5xx: still pending', answers: [null, down()], state: 'pending' },
    { name: 'success then two failures: failed', answers: [null, down(), down()], state: 'failed', status: 503 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const t = new QuorumTracker(Uint8Array.of(2), Uint8Array.of(1));
      for (const a of c.answers) t.record([0], 1, a);
      assert.equal(t.state, c.state);
      if (c.status !== undefined) assert.equal(t.error?.httpStatus, c.status);
    });
  }

  test('an item sent nowhere counts as stored; an empty push is done at once', () => {
    assert.equal(new QuorumTracker(Uint8Array.of(0), Uint8Array.of(0)).state, 'done');
    assert.equal(new QuorumTracker(new Uint8Array(0), new Uint8Array(0)).state, 'done');
  });

  test('randomized against a per-item model', () => {
    const rnd = mulberry32(7);
    for (let round = 0; round < 2000; round++) {
      const items = 1 + Math.floor(rnd() * 6);
      const rf = 1 + Math.floor(rnd() * 5);
      const min = Math.floor(rf / 2) + 1;
      const minS = new Uint8Array(items).fill(min);
      const maxE = new Uint8Array(items).fill(rf - min);
      const t = new QuorumTracker(minS, maxE);
      // every item gets rf answers, delivered in batches of random items in random order
      const answers: Array<{ item: number; e: MuninnError | null }> = [];
      for (let i = 0; i < items; i++) {
        for (let r = 0; r < rf; r++) {
          const x = rnd();
          answers.push({ item: i, e: x < 0.6 ? null : x < 0.8 ? bad() : down() });
        }
      }
      for (let k = answers.length - 1; k > 0; k--) {
        const j = Math.floor(rnd() * (k + 1));
        [answers[k], answers[j]] = [answers[j]!, answers[k]!];
      }
      const ok = new Array<number>(items).fill(0);
      const f4 = new Array<number>(items).fill(0);
      const f5 = new Array<number>(items).fill(0);
      let expect: 'pending' | 'done' | 'failed' = 'pending';
      let expectStatus = 0;
      let stored = 0;
      for (const a of answers) {
        t.record([a.item], 1, a.e);
        if (a.e === null) {
          if (++ok[a.item]! === min) stored++;
          if (stored === items && expect === 'pending') expect = 'done';
        } else {
          if (a.e.code === 'bad_data') f4[a.item]!++;
          else f5[a.item]!++;
          if (expect === 'pending' && ok[a.item]! < min && f4[a.item]! + f5[a.item]! > rf - min) {
            expect = 'failed';
            expectStatus = f4[a.item]! > rf - min ? 400 : 503;
          }
        }
        assert.equal(t.state, expect, `round ${round}`);
      }
      if (expect === 'failed') assert.equal(t.error?.httpStatus, expectStatus, `round ${round}`);
      assert.notEqual(t.state, 'pending', 'every item answered by every replica decides the push');
    }
  });
});

// ---- Distributor over a real Ring with injected ingester answers ----------------------------

const NOW = Date.now();

function inst(id: string, tokens: number[], x: Partial<InstanceDesc> = {}): InstanceDesc {
  return { id, addr: `${id}:9095`, zone: '', state: 'ACTIVE', tokens: [...tokens].sort((a, b) => a - b), heartbeatMs: NOW, registeredMs: NOW - 1000, ...x };
}

function ringOf(n: number, rf: number, seed = 1): Ring {
  const rnd = mulberry32(seed);
  const instances: Record<string, InstanceDesc> = {};
  for (let i = 0; i < n; i++) {
    const tokens = Array.from({ length: 32 }, () => Math.floor(rnd() * 2 ** 32));
    instances[`ing-${i}`] = inst(`ing-${i}`, tokens);
  }
  const d: RingDesc = { instances };
  return new Ring(d, { replicationFactor: rf, heartbeatTimeoutMs: 60_000 });
}

interface Call {
  addr: string;
  tenant: string;
  series: string[][];
  startedAfterClose: boolean;
}

type Answer = (addr: string, call: Call) => Promise<void>;

class FakeClients implements IngesterClients {
  calls: Call[] = [];
  closed = false;
  pending = 0;
  constructor(public answer: Answer = async () => undefined) {}
  get(addr: string): { push(tenant: string, body: Uint8Array): Promise<{ accepted: number }> } {
    return {
      push: async (tenant: string, body: Uint8Array) => {
        const req = decodeWriteRequest(body);
        const series = Array.from({ length: req.seriesCount }, (_, i) => labelsOf(req, i));
        const call: Call = { addr, tenant, series, startedAfterClose: this.closed };
        this.calls.push(call);
        this.pending++;
        try {
          await this.answer(addr, call);
        } finally {
          this.pending--;
        }
        return { accepted: series.length };
      },
    };
  }
  close(): void {
    this.closed = true;
  }
}

const log = createLogger('error');

function limits(over: Partial<DistributorLimits> = {}): DistributorLimits {
  return { ...defaultsOf({ v: validationConfig }).v, outOfOrderTimeWindow: 0, ...over };
}

async function startDistributor(ring: Ring, clients: IngesterClients, cfgOver: Record<string, unknown> = {}): Promise<Distributor> {
  const config = { ...defaultsOf({ d: distributorConfig }).d, ...cfgOver };
  const d = new Distributor({ config, limits: () => limits({ ingestionRate: 1e12, ingestionBurstSize: 1e12 }), ring: () => ring, healthyDistributors: () => 1, clients, log, registry: createBareRegistry() });
  d.startAsync();
  await d.awaitRunning();
  return d;
}

function series(n: number, from = 0): SeriesObject[] {
  return Array.from({ length: n }, (_, i) => ({ labels: ['__name__', 'm', 'i', String(from + i)], samples: [{ value: i, timestamp: NOW }] }));
}

function request(s: SeriesObject[]): ReturnType<typeof decodeWriteRequest> {
  return decodeWriteRequest(encodeWriteRequest({ series: s }));
}

describe('Distributor', () => {
  test('every series goes to exactly the ingesters of its replication set, once', async () => {
    const ring = ringOf(6, 3);
    const clients = new FakeClients();
    const d = await startDistributor(ring, clients);
    const out = await d.push('t1', request(series(500)), new AbortController().signal);
    assert.equal(out.error, null);
    assert.deepEqual(out.written, { samples: 500, histograms: 0, exemplars: 0 });
    await withDeadline((async () => { while (clients.pending > 0) await new Promise((r) => setTimeout(r, 1)); })(), 5000, 'calls');
    const seen = new Map<string, string[]>();
    for (const c of clients.calls) {
      assert.equal(c.tenant, 't1');
      for (const s of c.series) {
        const k = JSON.stringify(s);
        seen.set(k, [...(seen.get(k) ?? []), c.addr]);
      }
    }
    assert.equal(seen.size, 500);
    for (const [k, addrs] of seen) {
      const ls = JSON.parse(k) as string[];
      const expected = ring.get(seriesToken('t1', labelsFromStrings(...ls)), 'write').instances.map((i) => i.addr).sort();
      assert.deepEqual(addrs.sort(), expected, k);
    }
    assert.ok(clients.calls.length <= 6, 'one call per ingester');
    d.stopAsync();
    await d.awaitTerminated();
    assert.equal(clients.closed, true);
  });

  test('one ingester down: success; two down: 5xx', async () => {
    const ring = ringOf(3, 3);
    for (const [failing, status] of [[['ing-0:9095'], null], [['ing-0:9095', 'ing-2:9095'], 503]] as const) {
      const clients = new FakeClients(async (addr) => {
        if ((failing as readonly string[]).includes(addr)) throw down();
      });
      const d = await startDistributor(ring, clients);
      const out = await d.push('t', request(series(100)), new AbortController().signal);
      assert.equal(out.error?.httpStatus ?? null, status);
      if (status !== null) assert.match(out.error!.message, /failed pushing to ingester ing-[02]:9095/);
      d.stopAsync();
      await d.awaitTerminated();
    }
  });

  test('4xx from a quorum of replicas is 400 with the ingester message; from one replica it is success', async () => {
    const ring = ringOf(3, 3);
    let refusing = ['ing-0:9095', 'ing-1:9095'];
    const clients = new FakeClients(async (addr) => {
      if (refusing.includes(addr)) throw bad('the sample has been rejected because another sample with a more recent timestamp has already been ingested (err-mimir-sample-out-of-order)');
    });
    const d = await startDistributor(ring, clients);
    let out = await d.push('t', request(series(10)), new AbortController().signal);
    assert.equal(out.error?.httpStatus, 400);
    assert.match(out.error!.message, /err-mimir-sample-out-of-order/);
    refusing = ['ing-1:9095'];
    out = await d.push('t', request(series(10)), new AbortController().signal);
    assert.equal(out.error, null);
    d.stopAsync();
    await d.awaitTerminated();
  });

  test('an ingester that does not answer counts as failed after -distributor.remote-timeout', async () => {
    const ring = ringOf(3, 3);
    const never = deferred();
    const clients = new FakeClients(async (addr) => {
      if (addr !== 'ing-1:9095') await never.promise;
    });
    const d = await startDistributor(ring, clients, { remoteTimeout: 50 });
    const out = await withDeadline(d.push('t', request(series(20)), new AbortController().signal), 5000, 'push');
    assert.equal(out.error?.code, 'timeout');
    assert.equal(out.error?.httpStatus, 503);
    assert.match(out.error!.message, /-distributor.remote-timeout/);
    // stopping waits for the calls still running; let them finish
    d.stopAsync();
    assert.equal(clients.closed, false);
    never.resolve();
    await d.awaitTerminated();
    assert.equal(clients.closed, true);
  });

  test('invalid series are dropped, valid ones written, the answer is 400 with the first error', async () => {
    const ring = ringOf(3, 1);
    const clients = new FakeClients();
    const d = await startDistributor(ring, clients);
    const s = series(5);
    s.push({ labels: ['__name__', 'bad metric name!', 'i', 'x'], samples: [{ value: 1, timestamp: NOW }] });
    const out = await d.push('t', request(s), new AbortController().signal);
    assert.equal(out.error?.httpStatus, 400);
    assert.match(out.error!.message, /invalid metric name/i);
    assert.deepEqual(out.written, { samples: 5, histograms: 0, exemplars: 0 });
    await withDeadline((async () => { while (clients.pending > 0) await new Promise((r) => setTimeout(r, 1)); })(), 5000, 'calls');
    assert.equal(clients.calls.flatMap((c) => c.series).length, 5);
    d.stopAsync();
    await d.awaitTerminated();
  });

  test('too few healthy ingesters: 5xx and nothing sent', async () => {
    const ring = ringOf(1, 3);
    const clients = new FakeClients();
    const d = await startDistributor(ring, clients);
    const out = await d.push('t', request(series(3)), new AbortController().signal);
    assert.equal(out.error?.httpStatus, 503);
    assert.equal(clients.calls.length, 0);
    d.stopAsync();
    await d.awaitTerminated();
  });

  test('stress: pushes racing a stop all settle; the clients close only after the last call', async () => {
    const rnd = mulberry32(42);
    for (let round = 0; round < 60; round++) {
      const ring = ringOf(3 + Math.floor(rnd() * 3), 3, round + 1);
      const clients = new FakeClients(async () => {
        const r = rnd();
        await new Promise((res) => setTimeout(res, Math.floor(r * 5)));
        if (r < 0.1) throw down();
      });
      let closedWithPending = false;
      const origClose = clients.close.bind(clients);
      clients.close = () => {
        if (clients.pending > 0) closedWithPending = true;
        origClose();
      };
      const d = await startDistributor(ring, clients, { remoteTimeout: 200 });
      const pushes: Array<Promise<{ error: MuninnError | null }>> = [];
      const n = 5 + Math.floor(rnd() * 30);
      const stopAt = Math.floor(rnd() * n);
      for (let i = 0; i < n; i++) {
        if (i === stopAt) d.stopAsync();
        pushes.push(d.push('t', request(series(1 + Math.floor(rnd() * 20), i * 100)), new AbortController().signal));
        if (rnd() < 0.3) await new Promise((r) => setTimeout(r, 1));
      }
      const outs = await withDeadline(Promise.all(pushes), 10_000, `round ${round}: pushes settle`);
      await withDeadline(d.awaitTerminated(), 10_000, `round ${round}: stop`);
      for (const o of outs) if (o.error !== null) assert.ok(o.error.retryable, `round ${round}: ${o.error.message}`);
      assert.equal(closedWithPending, false, `round ${round}: clients closed with calls running`);
      assert.equal(clients.calls.filter((c) => c.startedAfterClose).length, 0, `round ${round}: call after close`);
      assert.equal(d.state(), State.Terminated);
      assert.ok(d.admit() instanceof MuninnError, 'admission after stop is refused');
    }
  });
});
