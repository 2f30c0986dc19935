// The ring's KV store in etcd (-ingester.ring.store=etcd), behind the KVClient interface, on
// etcd3 1.1.2 (microsoft/etcd3). Only the raw RPC clients of etcd3 are used (`kv.range/txn/
// deleteRange`, `watchClient.watch()`), not its builders, Watcher or fault handling, because of how
// 1.1.2 behaves (measured against etcd 3.4.23; details in the report of the change that added this):
//
// - `dialTimeout` is declared in IOptions but never read, and calls carry no deadline: a call to
//   a member that accepts connections but does not answer (SIGSTOP, partition) stays pending
//   forever. Here every call gets a gRPC deadline of dialTimeoutMs.
// - `Etcd3.close()` only closes the gRPC clients: in-flight unary calls and open watch streams
//   carry on (a pending call settled only when the member came back), and its Watcher keeps
//   reconnecting after close() with ClientClosedError, on timers that are not unref'd, so the
//   process never exits. Here close() cancels every call and stream first, and no etcd3 Watcher
//   exists.
// - The default per-host circuit breaker opens after one failed call (the global policy retries
//   it three times) and then fails every call for 5 s with BrokenCircuitError, also after the member
//   is back. Here a pass-through host policy and a failover-only global policy replace them.
// - Its WatchManager handles both 'error' and 'end' of a broken stream (two reconnects per drop).
//
// Semantics:
// - get/cas/delete reject with KVError (code 'unavailable', retryable): reason 'unavailable' when
//   etcd cannot be reached or does not answer within dialTimeoutMs, 'cas_conflict' when a CAS loses
//   maxCasRetries rounds to other writers, 'closed' after close(). An aborted signal rejects with
//   the signal's reason at once (the gRPC call is cancelled). A write that timed out or was
//   aborted may still be applied: a member that was slow or hung runs the request it already
//   holds (measured: a delete aborted against a paused member landed when it resumed).
// - cas: read, f(current), then a transaction comparing the key's mod revision (create revision 0
//   when absent); on conflict the transaction's failure branch returns the current value, so each
//   retry costs one round trip. f returning bytes equal to the current value writes nothing.
// - watchKey: reads the value (delivered first), then watches from the read's revision + 1, so a
//   change between the read and the watch is not lost. While the stream is up every change is
//   delivered, in order. When the stream breaks, it re-reads and re-watches with capped, jittered
//   exponential backoff; the re-read delivers the latest value if it changed, so changes made
//   during an outage collapse into the latest one. Never a duplicate or an older value after a
//   newer one (deliveries are deduplicated by mod revision). Resolves when the signal aborts or the
//   client closes; never rejects. onValue's exceptions are logged and otherwise ignored.
import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ClientClosedError, Etcd3, GRPCUnavailableError, type IDuplexStream, type IOptions, type IWatchRequest, type IWatchResponse } from 'etcd3';
import { silentLogger, type Logger } from '../../log/index.js';
import { sleep } from '../../lifecycle/index.js';
import { KVError, abortReason, type KVClient } from './kv.js';

export interface EtcdKVOptions {
  /** Client URLs of the etcd members, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  /** Deadline of every request, connecting included (Mimir -<prefix>.etcd.dial-timeout, default 10 s there). */
  dialTimeoutMs: number;
  /** Prepended to every key. */
  prefix?: string;
  log?: Logger;
  /** Rounds a CAS may lose to concurrent writers before it fails with reason 'cas_conflict'. Default 10 (Mimir -etcd.max-retries). */
  maxCasRetries?: number;
  /** Backoff between attempts to re-establish a watch: exponential from minMs, capped at maxMs, jittered. Defaults 100 ms, 10 s. */
  watchBackoff?: { minMs?: number; maxMs?: number };
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

/** A policy that runs the call once: no circuit breaker, the error goes to the caller. */
function passThrough(): Policy {
  const p = { execute: <T>(fn: (ctx: object) => PromiseLike<T> | T): Promise<T> => Promise.resolve().then(() => fn({})) };
  return p as unknown as Policy;
}

/** Retries a call that found its member down (UNAVAILABLE) on the next member; nothing else. */
function failover(attempts: number): Policy {
  const p = {
    async execute<T>(fn: (ctx: object) => PromiseLike<T> | T): Promise<T> {
      for (let i = 1; ; i++) {
        try {
          return await fn({});
        } catch (e) {
          if (i >= attempts || !(e instanceof GRPCUnavailableError)) throw e;
        }
      }
    },
  };
  return p as unknown as Policy;
}

/** A gRPC interceptor that cancels the call when the signal aborts. */
function cancelOn(signal: AbortSignal): grpc.Interceptor {
  return (options, nextCall) => {
    const call = new grpc.InterceptingCall(nextCall(options));
    const cancel = (): void => call.cancelWithStatus(grpc.status.CANCELLED, 'canceled by the caller');
    // the client starts the call right after creating it: cancel after that, not before
    if (signal.aborted) queueMicrotask(cancel);
    else signal.addEventListener('abort', cancel, { once: true });
    return call;
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A plain Uint8Array copy (not a view into a gRPC receive buffer, not a Buffer). */
function copyOut(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An AbortController aborted by any of the signals; call unlink() when done. */
function linked(...signals: Array<AbortSignal | undefined>): { signal: AbortSignal; unlink: () => void } {
  const ac = new AbortController();
  const abort = (): void => ac.abort();
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  for (const s of live) {
    if (s.aborted) ac.abort();
    else s.addEventListener('abort', abort, { once: true });
  }
  return { signal: ac.signal, unlink: () => { for (const s of live) s.removeEventListener('abort', abort); } };
}

interface Current {
  value: Uint8Array;
  modRevision: string;
}

export class EtcdKV implements KVClient {
  private readonly client: Etcd3;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly maxCasRetries: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  /** Aborted by close(): cancels in-flight calls and ends watches. */
  private readonly closeAc = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(opts: EtcdKVOptions) {
    if (opts.endpoints.length === 0) throw new Error('etcd: no endpoints');
    if (!(opts.dialTimeoutMs > 0)) throw new Error('etcd: dialTimeoutMs must be > 0');
    this.log = (opts.log ?? silentLogger()).child({ component: 'etcd-kv' });
    this.prefix = opts.prefix ?? '';
    this.timeoutMs = opts.dialTimeoutMs;
    this.maxCasRetries = Math.max(1, opts.maxCasRetries ?? 10);
    this.backoffMinMs = Math.max(1, opts.watchBackoff?.minMs ?? 100);
    this.backoffMaxMs = Math.max(this.backoffMinMs, opts.watchBackoff?.maxMs ?? 10_000);
    setMaxListeners(0, this.closeAc.signal); // one listener per in-flight call or watch
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: opts.dialTimeoutMs, // ignored by etcd3 1.1.2; the per-call deadlines below do the work
      faultHandling: { host: () => passThrough(), global: failover(opts.endpoints.length) },
      grpcOptions: {
        // grpc-js defaults (1 s, up to 120 s) would keep calls failing long after the member is back
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        // a member that stops answering (hung, partitioned) breaks watch streams within ~15 s;
        // etcd refuses pings more frequent than its --grpc-keepalive-min-time (5 s)
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      },
    });
  }

  get(key: string, signal?: AbortSignal): Promise<Uint8Array | null> {
    return this.track(async () => {
      const r = await this.call('get', key, signal, (o) => this.client.kv.range({ key: this.k(key) }, o));
      const kv = r.kvs[0];
      return kv === undefined ? null : copyOut(kv.value);
    });
  }

  delete(key: string, signal?: AbortSignal): Promise<void> {
    return this.track(async () => {
      await this.call('delete', key, signal, (o) => this.client.kv.deleteRange({ key: this.k(key) }, o));
    });
  }

  cas(key: string, f: (current: Uint8Array | null) => Uint8Array | null, signal?: AbortSignal): Promise<void> {
    return this.track(async () => {
      const k = this.k(key);
      const first = await this.call('cas', key, signal, (o) => this.client.kv.range({ key: k }, o));
      let cur: Current | null = first.kvs[0] === undefined ? null : { value: first.kvs[0].value, modRevision: first.kvs[0].mod_revision };
      for (let round = 0; round < this.maxCasRetries; round++) {
        const next = f(cur === null ? null : copyOut(cur.value));
        if (next === null) return;
        if (!(next instanceof Uint8Array)) throw new TypeError('cas: f must return a Uint8Array or null');
        if (cur !== null && bytesEqual(cur.value, next)) return;
        const compare = cur === null
          ? { key: k, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 }
          : { key: k, target: 'Mod' as const, result: 'Equal' as const, mod_revision: cur.modRevision };
        const r = await this.call('cas', key, signal, (o) => this.client.kv.txn({
          compare: [compare],
          success: [{ request_put: { key: k, value: asBuffer(next) } }],
          failure: [{ request_range: { key: k } }],
        }, o));
        if (r.succeeded) return;
        const kv = r.responses[0]?.response_range?.kvs[0];
        cur = kv === undefined ? null : { value: kv.value, modRevision: kv.mod_revision };
        // spread out writers that keep colliding (no wait after the first conflict)
        if (round > 0) await sleep(Math.random() * Math.min(50, 2 ** round), signal);
        if (signal?.aborted) throw abortReason(signal);
      }
      throw new KVError('cas_conflict', `etcd cas "${key}": lost ${this.maxCasRetries} rounds to concurrent writers`);
    });
  }

  watchKey(key: string, onValue: (value: Uint8Array | null) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closeAc.signal.aborted) return Promise.resolve();
    return this.track(() => this.watchLoop(key, onValue, signal));
  }

  /** Cancels in-flight calls and watches, then closes the etcd client. Idempotent; joins a close in progress. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closeAc.abort();
    // calls and watches settle as soon as they see the abort (their gRPC calls are cancelled)
    await Promise.allSettled([...this.running]);
    try {
      this.client.close();
    } catch (e) {
      this.log.warn({ err: messageOf(e) }, 'closing the etcd client failed');
    }
    this.log.debug('etcd KV client closed');
  }

  private k(key: string): Buffer {
    return Buffer.from(this.prefix + key, 'utf8');
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    const settled = p.then(() => undefined, () => undefined);
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return p;
  }

  /**
   * Runs one unary etcd call with a deadline, cancelled when the caller's signal aborts or the
   * client closes; settles as soon as either happens, whatever etcd3 does with the call.
   */
  private async call<T>(what: string, key: string, signal: AbortSignal | undefined, run: (o: grpc.CallOptions) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw abortReason(signal);
    if (this.closeAc.signal.aborted) throw new KVError('closed', `etcd ${what} "${key}": client closed`);
    const op = linked(signal, this.closeAc.signal);
    let onAbort: (() => void) | undefined;
    try {
      const inner = run({ deadline: Date.now() + this.timeoutMs, interceptors: [cancelOn(op.signal)] });
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('aborted'));
        op.signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      inner.catch(() => undefined); // we may stop waiting for it; its failure is handled below
      return await Promise.race([inner, aborted]);
    } catch (e) {
      if (signal?.aborted) throw abortReason(signal);
      if (this.closeAc.signal.aborted) throw new KVError('closed', `etcd ${what} "${key}": client closed`, { cause: e });
      throw this.toKVError(what, key, e);
    } finally {
      if (onAbort !== undefined) op.signal.removeEventListener('abort', onAbort);
      op.unlink();
    }
  }

  private toKVError(what: string, key: string, e: unknown): KVError {
    if (e instanceof KVError) return e;
    if (e instanceof ClientClosedError) return new KVError('closed', `etcd ${what} "${key}": client closed`, { cause: e });
    return new KVError('unavailable', `etcd ${what} "${key}": ${messageOf(e)}`, { cause: e });
  }

  private backoff(failures: number): number {
    const cap = Math.min(this.backoffMaxMs, this.backoffMinMs * 2 ** Math.min(failures, 30));
    return cap / 2 + (Math.random() * cap) / 2;
  }

  private async watchLoop(key: string, onValue: (value: Uint8Array | null) => void, signal: AbortSignal): Promise<void> {
    const stop = linked(signal, this.closeAc.signal);
    const k = this.k(key);
    // mod revision of the last value delivered, null for "absent", undefined before the first delivery
    let last: string | null | undefined;
    const deliver = (value: Uint8Array | null, modRevision: string | null): void => {
      if (stop.signal.aborted || last === modRevision) return;
      last = modRevision;
      try {
        onValue(value);
      } catch (e) {
        this.log.warn({ key, err: messageOf(e) }, 'etcd watch: onValue threw');
      }
    };
    let failures = 0;
    let lostAt: number | null = null;
    try {
      while (!stop.signal.aborted) {
        try {
          const r = await this.call('watch', key, stop.signal, (o) => this.client.kv.range({ key: k }, o));
          const kv = r.kvs[0];
          deliver(kv === undefined ? null : copyOut(kv.value), kv === undefined ? null : kv.mod_revision);
          await this.follow(key, k, BigInt(r.header.revision) + 1n, stop.signal, deliver, () => {
            failures = 0;
            if (lostAt !== null) {
              this.log.info({ key, downMs: Date.now() - lostAt }, 'etcd watch re-established');
              lostAt = null;
            }
          });
        } catch (e) {
          if (stop.signal.aborted) break;
          const delayMs = Math.round(this.backoff(failures++));
          if (lostAt === null) {
            lostAt = Date.now();
            this.log.warn({ key, err: messageOf(e), retryInMs: delayMs }, 'etcd watch lost the store; retrying');
          } else {
            this.log.debug({ key, err: messageOf(e), retryInMs: delayMs, failures }, 'etcd watch still failing');
          }
          await sleep(delayMs, stop.signal);
        }
      }
    } finally {
      stop.unlink();
    }
  }

  /**
   * Follows one watch stream from startRevision. Resolves when stop aborts; rejects when the
   * stream fails, ends, is canceled by etcd (e.g. compaction) or is not created within the deadline.
   */
  private follow(
    key: string,
    k: Buffer,
    startRevision: bigint,
    stop: AbortSignal,
    deliver: (value: Uint8Array | null, modRevision: string | null) => void,
    onCreated: () => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let stream: WatchStream | null = null;
      let settled = false;
      const finish = (err?: KVError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(createTimer);
        stop.removeEventListener('abort', onStop);
        if (stream !== null) stream.cancel(); // its 'error' (CANCELLED) lands in the listener below
        if (err === undefined) resolve();
        else reject(err);
      };
      const onStop = (): void => finish();
      const createTimer = setTimeout(() => {
        finish(new KVError('unavailable', `etcd watch "${key}": not established within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      createTimer.unref();
      if (stop.aborted) return finish();
      stop.addEventListener('abort', onStop, { once: true });

      this.client.watchClient.watch({}).then((s) => {
        s.on('error', (e) => finish(this.toKVError('watch', key, e)));
        if (settled) {
          s.cancel();
          return;
        }
        stream = s;
        s.on('end', () => finish(new KVError('unavailable', `etcd watch "${key}": stream ended`)));
        s.on('data', (res) => {
          if (settled) return;
          if (res.canceled) {
            const why = res.cancel_reason !== '' ? res.cancel_reason : `compacted at revision ${res.compact_revision}`;
            finish(new KVError('unavailable', `etcd watch "${key}": canceled by etcd: ${why}`));
            return;
          }
          if (res.created) {
            clearTimeout(createTimer);
            onCreated();
          }
          for (const ev of res.events) {
            if (!ev.kv.key.equals(k)) continue;
            if (ev.type === 'Delete') deliver(null, null);
            else deliver(copyOut(ev.kv.value), ev.kv.mod_revision);
          }
        });
        s.write({ create_request: { key: k, start_revision: startRevision.toString() } });
      }, (e: unknown) => finish(this.toKVError('watch', key, e)));
    });
  }
}
