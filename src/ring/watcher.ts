// The ring watcher: the service through which clients of the ring (distributors, queriers, the
// ring page) follow it (the watching half of dskit ring.Ring). It watches the ring key and keeps
// the latest Ring snapshot; lookups go to ring(), which never blocks and never fails.
//
// The store may go away. The KV client's watch is meant to ride out outages itself; if it fails
// anyway (rejects, or ends before the stop), the watcher keeps the last ring, logs that once,
// restarts the watch with backoff, and logs the recovery when a value arrives again. A value that
// does not decode as a ring is treated the same way: the last good ring stays.
//
// Starting waits for the first value (or the stop), so a Running watcher has seen the ring once.
import { BasicService, sleep, waitForAbort } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { KVClient } from './kv/kv.js';
import { type RingDesc, decodeRingDesc } from './model.js';
import { Ring, type RingOptions } from './ring.js';

export interface RingWatcherOptions {
  kv: KVClient;
  ringKey: string;
  /** How snapshots are built: replication factor, zone awareness, heartbeat timeout, clock. */
  ring: RingOptions;
  log: Logger;
  /** Backoff between watch restarts after a failure, doubling from min to max. Defaults 100ms, 10s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Service name. Default 'ring-watcher'. */
  name?: string;
}

export type RingListener = (ring: Ring) => void;

export class RingWatcher extends BasicService {
  readonly ringKey: string;
  private readonly o: RingWatcherOptions;
  private readonly log: Logger;
  private current: Ring;
  private seen = false;
  private values = 0;
  private stale = false;
  private undecodable = false;
  private droppedKey = '';
  private loop: Promise<void> = Promise.resolve();
  private firstValue: (() => void) | undefined;
  private readonly changeListeners = new Set<RingListener>();

  constructor(opts: RingWatcherOptions) {
    super(opts.name ?? 'ring-watcher');
    this.o = opts;
    this.ringKey = opts.ringKey;
    this.log = opts.log.child({ component: 'ring-watcher', ring: opts.ringKey });
    this.current = Ring.empty(opts.ring);
  }

  /** The latest ring (the empty ring before the first value). */
  ring(): Ring {
    return this.current;
  }

  desc(): RingDesc {
    return this.current.desc;
  }

  /** Whether a value has arrived since the watcher started. */
  hasValue(): boolean {
    return this.seen;
  }

  /** True while the store's watch is failing or its value does not decode: ring() is the last good one. */
  isStale(): boolean {
    return this.stale || this.undecodable;
  }

  /** Calls `l` with every new ring snapshot; returns the unsubscribe function. */
  onChange(l: RingListener): () => void {
    this.changeListeners.add(l);
    return () => this.changeListeners.delete(l);
  }

  protected override async starting(signal: AbortSignal): Promise<void> {
    const first = new Promise<void>((resolve) => {
      this.firstValue = resolve;
    });
    this.loop = this.watchLoop(signal);
    await Promise.race([first, waitForAbort(signal)]);
  }

  protected override async running(): Promise<void> {
    await this.loop;
  }

  protected override async stopping(): Promise<void> {
    await this.loop;
  }

  private async watchLoop(signal: AbortSignal): Promise<void> {
    const min = this.o.minBackoffMs ?? 100;
    const max = this.o.maxBackoffMs ?? 10_000;
    let attempt = 0;
    while (!signal.aborted) {
      let failure: unknown;
      const before = this.values;
      try {
        const w = this.o.kv.watchKey(this.ringKey, (v) => this.onValue(v, signal), signal);
        // guard against a watch that does not end on abort: stopping must not hang on it
        w.catch(() => undefined);
        await Promise.race([w, waitForAbort(signal)]);
        failure = new Error('the KV watch ended before the watcher stopped');
      } catch (e) {
        failure = e;
      }
      if (signal.aborted) break;
      if (!this.stale) {
        this.log.warn({ err: failure, instances: this.current.instanceCount }, 'ring watch failed; keeping the last ring and retrying');
        this.stale = true;
      }
      if (this.values !== before) attempt = 0; // the watch worked for a while: start the backoff over
      const delay = Math.min(max, min * 2 ** Math.min(attempt, 30));
      attempt++;
      await sleep(delay, signal);
    }
  }

  private onValue(value: Uint8Array | null, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.values++;
    if (this.stale) {
      this.stale = false;
      this.log.info('ring watch recovered');
    }
    const d = decodeRingDesc(value);
    if (!d.ok) {
      if (!this.undecodable) this.log.warn({ error: d.error, instances: this.current.instanceCount }, 'ring value does not decode; keeping the last ring');
      this.undecodable = true;
      this.markSeen();
      return;
    }
    if (this.undecodable) {
      this.undecodable = false;
      this.log.info('ring value decodes again');
    }
    const droppedKey = d.dropped.map((x) => `${x.id}\u0000${x.reason}`).join('\u0001');
    if (droppedKey !== this.droppedKey && d.dropped.length > 0) {
      for (const x of d.dropped) this.log.warn({ instance: x.id, reason: x.reason }, 'ignoring an invalid instance entry in the ring');
    }
    this.droppedKey = droppedKey;
    let ring: Ring;
    try {
      ring = new Ring(d.desc, this.o.ring);
    } catch (e) {
      // only a ring beyond the codec's limits could get here
      this.log.error({ err: e }, 'cannot build the ring from its value; keeping the last ring');
      this.markSeen();
      return;
    }
    this.current = ring;
    this.markSeen();
    for (const l of [...this.changeListeners]) {
      try {
        l(ring);
      } catch (e) {
        this.log.warn({ err: e }, 'ring change listener failed');
      }
    }
  }

  private markSeen(): void {
    this.seen = true;
    const f = this.firstValue;
    this.firstValue = undefined;
    f?.();
  }
}
