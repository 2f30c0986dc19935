import '../harness.js';
// The distributor under SIGTERM with 200 concurrent remote-write pushes in flight (DESIGN.md,
// Lifecycle rules 2-4), repeated with the signal at random (seeded) moments:
//  - every push is answered 200 (stored) or 5xx (retryable); a refused or reset connection is a
//    transport error, counted apart (Prometheus retries it); never a 4xx, never a hang;
//  - pushes answered before -shutdown-delay is over (by the server's own log clock) all succeed;
//  - the process exits 0, with no error, fatal or unhandled-error line in its log or stderr;
//  - started again on the same data directory, it has every sample it acknowledged with 200,
//    values exact (WAL replay), read back through the ingester's QueryStream RPC.
// Iterations alternate: -shutdown-delay=1s with the WAL fsynced in batches; the same with
// -blocks-storage.tsdb.wal-sync-mode=always (every push waits for an fsync: a slower ingester,
// more pushes in flight at each step); -shutdown-delay=0 (the listener closes at once, under load).
// Judged on outcomes; the only clocks are generous hang guards.
// Then, in process and deterministic: a push in flight when draining starts is answered with
// Connection: close (its keep-alive client must not send the next push on a connection the drain
// will cut).
//
//   MUNINN_DISTRIBUTOR_SHUTDOWN_ITERATIONS (default 3), MUNINN_TEST_SEED
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { test } from 'node:test';
import { compressSync } from 'snappy';
import { registerPushRoute } from '../../src/distributor/index.js';
import type { PushOutcome, PushTarget } from '../../src/distributor/push-types.js';
import { IngesterClient } from '../../src/ingester/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import { encodeWriteRequest } from '../../src/remotewrite/index.js';
import { HttpServer } from '../../src/server/http.js';
import { XorChunk } from '../../src/tsdb/chunkenc/index.js';
import { MAIN_JS, problemLines, startMuninn, tempDir } from '../proc.js';
import { type Deferred, deferred, mulberry32, withDeadline } from '../util.js';

const ITERATIONS = Number(process.env.MUNINN_DISTRIBUTOR_SHUTDOWN_ITERATIONS ?? 3);
const WORKERS = 200;
const TENANT = 'shutdown-tenant';
const STEP_MS = 10;

interface Variant {
  delayMs: number;
  syncMode: 'batch' | 'always';
}
const VARIANTS: Variant[] = [
  { delayMs: 1000, syncMode: 'batch' },
  { delayMs: 1000, syncMode: 'always' },
  { delayMs: 0, syncMode: 'batch' },
];

interface Outcome {
  worker: number;
  seq: number;
  sentAt: number;
  doneAt: number;
  /** HTTP status, or the transport error's code */
  result: number | string;
  body: string;
}

const TRANSPORT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function post(agent: http.Agent, port: number, body: Buffer): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/api/v1/push', agent,
      headers: {
        'X-Scope-OrgID': TENANT, 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy',
        'X-Prometheus-Remote-Write-Version': '0.1.0', 'Content-Length': body.length,
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Push `seq` of worker w: a sample of the worker's own series, and a fresh series of two samples. */
function pushBody(t0: number, w: number, seq: number): Buffer {
  const t = t0 + seq * STEP_MS;
  const wire = encodeWriteRequest({
    series: [
      { labels: ['__name__', 'dshut', 'worker', String(w)], samples: [{ timestamp: t, value: seq + 0.25 }] },
      { labels: ['__name__', 'dshut_fresh', 'seq', String(seq), 'worker', String(w)], samples: [{ timestamp: t, value: w }, { timestamp: t + 1, value: -seq }] },
    ],
  });
  return compressSync(Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength));
}

/** What an acknowledged push stored: series key -> [t, v]. */
function expectedOf(t0: number, w: number, seq: number): Array<[string, number, number]> {
  const t = t0 + seq * STEP_MS;
  return [
    [`dshut/${w}`, t, seq + 0.25],
    [`dshut_fresh/${w}/${seq}`, t, w],
    [`dshut_fresh/${w}/${seq}`, t + 1, -seq],
  ];
}

async function readBack(grpcPort: number): Promise<Map<string, Map<number, number>>> {
  const client = new IngesterClient(`127.0.0.1:${grpcPort}`);
  const got = new Map<string, Map<number, number>>();
  try {
    const q = { mint: 0, maxt: 8.64e15, matchers: [{ type: '=~' as const, name: '__name__', value: 'dshut|dshut_fresh' }], samples: true };
    for await (const batch of client.queryStream(TENANT, q)) {
      for (const s of batch) {
        const get = (n: string): string => s.labels[s.labels.indexOf(n) + 1]!;
        const k = get('__name__') === 'dshut' ? `dshut/${get('worker')}` : `dshut_fresh/${get('worker')}/${get('seq')}`;
        const m = new Map<number, number>();
        if (s.samples !== null) for (let i = 0; i < s.samples.t.length; i++) m.set(s.samples.t[i]!, s.samples.v[i]!);
        for (const c of s.chunks) {
          const it = XorChunk.fromBytes(c.data).iterator();
          while (it.next()) m.set(it.t, it.v);
        }
        got.set(k, m);
      }
    }
  } finally {
    client.close();
  }
  return got;
}

test(`SIGTERM with ${WORKERS} pushes in flight, ${ITERATIONS} times at random moments`, { timeout: 10 * 60_000 }, async () => {
  const seed = Number(process.env.MUNINN_TEST_SEED ?? 20260214);
  const rnd = mulberry32(seed);
  for (let it = 0; it < ITERATIONS; it++) {
    const v = VARIANTS[it % VARIANTS.length]!;
    const signalAfterMs = Math.floor(rnd() * 1200);
    const ctx = `iteration ${it}, seed ${seed}, delay ${v.delayMs}ms, wal-sync-mode ${v.syncMode}, SIGTERM ${signalAfterMs}ms after warm-up`;
    const dir = tempDir('dshut-');
    const args = [
      '-target=all', '-ingester.ring.replication-factor=1', '-ingester.ring.instance-addr=127.0.0.1',
      `-blocks-storage.tsdb.dir=${dir}`, `-blocks-storage.tsdb.wal-sync-mode=${v.syncMode}`, '-log.level=info',
    ];
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000; // + STEP_MS per push of a worker: stays in the past
    // on a failure: no process, worker or socket outlives the iteration
    const cleanup: Array<() => void> = [];
    let exited = false;
    cleanup.push(() => (exited = true));
    try {
      const proc = await startMuninn(MAIN_JS, [...args, `-shutdown-delay=${v.delayMs}ms`]);
      cleanup.push(() => proc.kill('SIGKILL'));
      const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      cleanup.push(() => agent.destroy());
      const outcomes: Outcome[] = [];
      let unexpected: string | undefined;
      // warm-up: the random moment counts from the first WORKERS acknowledgements, so that every
      // iteration has acknowledged data to find after the restart
      let ackedSoFar = 0;
      let warm!: () => void;
      const warmedUp = new Promise<void>((r) => (warm = r));
      const worker = async (w: number): Promise<void> => {
        for (let seq = 0; !exited && unexpected === undefined; seq++) {
          const sentAt = Date.now();
          let result: number | string;
          let body = '';
          try {
            const r = await post(agent, proc.httpPort, pushBody(t0, w, seq));
            result = r.status;
            body = r.body.trim();
            if (result === 200 && ++ackedSoFar === WORKERS) warm();
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            result = code !== undefined && TRANSPORT_ERRORS.has(code) ? code : /socket hang up/.test(String(e)) ? 'hang up' : `other: ${String(e)}`;
            if (result.startsWith('other')) unexpected = `worker ${w}: ${result}`;
          }
          outcomes.push({ worker: w, seq, sentAt, doneAt: Date.now(), result, body });
          // keep pushing after the listener closed, without spinning on refused connections
          if (typeof result === 'string') await new Promise((r) => setTimeout(r, 5 + Math.floor(w % 10)));
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await withDeadline(warmedUp, 30_000, `fewer than ${WORKERS} pushes acknowledged in 30 s (${ctx})`);
      await new Promise((r) => setTimeout(r, signalAfterMs));
      const beforeSignal = outcomes.length;
      proc.kill('SIGTERM');
      const exit = await withDeadline(proc.exited, v.delayMs + 30_000, `no exit within ${v.delayMs + 30_000} ms of SIGTERM (${ctx})`);
      exited = true;
      await withDeadline(Promise.all(workers), 30_000, `push workers did not finish after the exit (${ctx})`);
      agent.destroy();

      const by = new Map<string, number>();
      for (const o of outcomes) by.set(String(o.result), (by.get(String(o.result)) ?? 0) + 1);
      const where = `${ctx}; ${outcomes.length} pushes (${beforeSignal} before SIGTERM): ${JSON.stringify(Object.fromEntries(by))}`;
      assert.equal(unexpected, undefined, where);
      assert.equal(exit.code, 0, `exit code (${where})\n${proc.stderr.join('')}`);
      assert.deepEqual(problemLines(proc.lines), [], `error log lines (${where})`);
      assert.doesNotMatch(proc.stderr.join(''), /error|unhandled|panic|fatal/i, `stderr (${where})`);
      assert.ok(proc.lines.some((l) => l.msg === 'shutdown: complete'), `no "shutdown: complete" line (${where})`);
      assert.ok(proc.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('distributor stopped')), `no "distributor stopped" line (${where})`);

      // every answer is a 200 or a 5xx; a 5xx says why
      for (const o of outcomes) {
        if (typeof o.result !== 'number') continue;
        assert.ok(o.result === 200 || (o.result >= 500 && o.result <= 599), `push answered ${o.result} "${o.body}" (${where})`);
        if (o.result === 200) assert.equal(o.body, '', where);
      }
      const acked = outcomes.filter((o) => o.result === 200);
      assert.ok(acked.length >= WORKERS, `only ${acked.length} pushes acknowledged (${where})`);

      // until the delay is over the distributor serves normally: every push answered before then
      // (by the server's own log clock; SIGTERM may be handled late on a loaded machine) is a 200
      if (v.delayMs > 0) {
        const delayOver = proc.lines.find((x) => x.msg === 'shutdown: delay over');
        assert.ok(delayOver !== undefined, `no "shutdown: delay over" line (${where})`);
        const delayOverAt = Date.parse(String(delayOver.time));
        const early = outcomes.filter((o) => o.doneAt < delayOverAt - 1);
        for (const o of early) assert.equal(o.result, 200, `push answered before the delay was over: ${o.result} ${o.body} (${where})`);
      }

      // restart on the same data: every acknowledged sample is back, exact
      const proc2 = await startMuninn(MAIN_JS, args);
      cleanup.push(() => proc2.kill('SIGKILL'));
      try {
        const got = await readBack(proc2.grpcPort);
        let missing = 0;
        let wrong = 0;
        const examples: string[] = [];
        for (const o of acked) {
          for (const [k, t, val] of expectedOf(t0, o.worker, o.seq)) {
            const have = got.get(k)?.get(t);
            if (have === undefined) missing++;
            else if (!Object.is(have, val)) wrong++;
            else continue;
            if (examples.length < 5) examples.push(`${k}@${t}: want ${val}, have ${String(have)}`);
          }
        }
        assert.equal(missing + wrong, 0, `${missing} acknowledged samples missing, ${wrong} wrong after restart, e.g. ${examples.join('; ')} (${where})`);
      } finally {
        proc2.kill('SIGTERM');
        const exit2 = await withDeadline(proc2.exited, 30_000, `restarted process did not exit (${ctx})`);
        assert.equal(exit2.code, 0, `restarted process exit code (${ctx})\n${proc2.stderr.join('')}`);
        assert.deepEqual(problemLines(proc2.lines), [], `error log lines after restart (${ctx})`);
      }
      if (process.env.MUNINN_TEST_VERBOSE !== undefined) console.log(where);
    } finally {
      for (const f of cleanup) f();
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

// In process, deterministic: a push already in flight when draining starts (SIGTERM) is answered
// with Connection: close, so its keep-alive client does not send its next push on a connection the
// drain is about to cut (which it would see as a reset). Both ways in: setDraining() (the start of
// -shutdown-delay) and close() alone (-shutdown-delay=0).
for (const how of ['setDraining', 'close'] as const) {
  test(`a push in flight when draining starts (${how}) is answered with Connection: close`, { timeout: 30_000 }, async () => {
    const server = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 30_000 },
      silentLogger(), new RequestMetrics(createBareRegistry()));
    const pending: Array<Deferred<PushOutcome>> = [];
    const arrived: Array<() => void> = [];
    const target: PushTarget = {
      admit: () => ({ addBytes: () => null, release: () => undefined }),
      push: () => {
        const d = deferred<PushOutcome>();
        pending.push(d);
        for (const a of arrived.splice(0)) a();
        return d.promise;
      },
    };
    registerPushRoute(server, target, { maxRecvMsgSize: 1 << 20, tenancy: { multitenancyEnabled: true, noAuthTenant: 'anonymous' }, log: silentLogger() });
    await server.listen();
    const port = server.address().port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ok: PushOutcome = { written: { samples: 3, histograms: 0, exemplars: 0 }, error: null };
    const inFlight = async (): Promise<{ reply: Promise<{ status: number; connection: string | undefined }>; answer: Deferred<PushOutcome> }> => {
      const reached = new Promise<void>((r) => arrived.push(r));
      const reply = post(agent, port, pushBody(0, 0, pending.length));
      await withDeadline(reached, 10_000, 'the push did not reach the target');
      return { reply, answer: pending[pending.length - 1]! };
    };
    try {
      // before: keep-alive
      const a = await inFlight();
      a.answer.resolve(ok);
      const ra = await a.reply;
      assert.equal(ra.status, 200);
      assert.notEqual(ra.connection, 'close');
      // in flight when draining starts: Connection: close
      const b = await inFlight();
      const closed = how === 'close' ? server.close(10_000) : undefined;
      if (how === 'setDraining') server.setDraining();
      b.answer.resolve(ok);
      const rb = await b.reply;
      assert.equal(rb.status, 200);
      assert.equal(rb.connection, 'close');
      assert.deepEqual(await (closed ?? server.close(10_000)), { cut: 0 });
    } finally {
      agent.destroy();
      await server.close(0);
    }
  });
}
