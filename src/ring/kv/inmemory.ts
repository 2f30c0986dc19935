// An in-memory KV store for -ingester.ring.store=inmemory: one process shares one instance between
// its lifecycler (writer) and its ring watchers (readers). CAS is atomic because f is synchronous
// and JS runs one thing at a time, so there are no conflicts to retry. Values are copied in and
// out, so no caller can change a stored value behind the store's back.
//
// Watches are coalesced: a watcher gets the current value once when it starts, then, after any
// number of changes in one turn, one call with the value current at delivery time (as a consul or
// etcd watch that catches up sees only the latest value). Identical writes notify nobody.
//
// After close(): watches end (their promises resolve), and get/cas/delete reject with a retryable
// KVError('closed'); close() is idempotent.
import { KVError, abortReason, type KVClient } from './kv.js';

interface Watcher {
  readonly key: string;
  readonly onValue: (value: Uint8Array | null) => void;
  scheduled: boolean;
  /** Store version of the last value delivered (0: absent), to skip deliveries of an unchanged value. */
  lastVersion: number;
  end: () => void;
}

interface Entry {
  value: Uint8Array;
  version: number;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class InMemoryKV implements KVClient {
  private readonly data = new Map<string, Entry>();
  private readonly watchers = new Set<Watcher>();
  private version = 0;
  private closed = false;

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | null> {
    this.check(signal);
    const e = this.data.get(key);
    return e === undefined ? null : e.value.slice();
  }

  async cas(key: string, f: (current: Uint8Array | null) => Uint8Array | null, signal?: AbortSignal): Promise<void> {
    this.check(signal);
    const cur = this.data.get(key);
    const next = f(cur === undefined ? null : cur.value.slice());
    if (next === null) return;
    if (!(next instanceof Uint8Array)) throw new TypeError('cas: f must return a Uint8Array or null');
    if (cur !== undefined && bytesEqual(cur.value, next)) return;
    this.data.set(key, { value: next.slice(), version: ++this.version });
    this.notify(key);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    this.check(signal);
    if (!this.data.delete(key)) return;
    this.version++;
    this.notify(key);
  }

  watchKey(key: string, onValue: (value: Uint8Array | null) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const w: Watcher = {
        key,
        onValue,
        scheduled: false,
        lastVersion: -1,
        end: () => {
          this.watchers.delete(w);
          signal.removeEventListener('abort', w.end);
          resolve();
        },
      };
      signal.addEventListener('abort', w.end, { once: true });
      this.watchers.add(w);
      this.schedule(w, true);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.end();
  }

  /** Keys currently stored (for tests and debugging). */
  keys(): string[] {
    return [...this.data.keys()];
  }

  private check(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw abortReason(signal);
    if (this.closed) throw new KVError('closed', 'in-memory KV store is closed');
  }

  private notify(key: string): void {
    for (const w of this.watchers) if (w.key === key) this.schedule(w, false);
  }

  private schedule(w: Watcher, initial: boolean): void {
    if (w.scheduled) return;
    w.scheduled = true;
    queueMicrotask(() => {
      w.scheduled = false;
      if (!this.watchers.has(w)) return;
      const e = this.data.get(w.key);
      const version = e === undefined ? 0 : e.version;
      // a delete bumps the store version, not the entry's; 0 stands for "absent"
      if (!initial && version === w.lastVersion) return;
      w.lastVersion = version;
      try {
        w.onValue(e === undefined ? null : e.value.slice());
      } catch {
        // a watcher's error is its own business; it must not break the store or other watchers
      }
    });
  }
}
