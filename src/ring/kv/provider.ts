// One KV client per store configuration in a process: the ingesters' ring, the distributors' ring
// and their watchers share a connection when they name the same store. The in-memory store is one
// per process (-target=all), so every component of the process sees the same rings.
import type { Logger } from '../../log/index.js';
import { EtcdKV } from './etcd.js';
import { InMemoryKV } from './inmemory.js';
import type { KVClient } from './kv.js';

export interface KVStoreConfig {
  store: 'inmemory' | 'etcd';
  etcdEndpoints: readonly string[];
  etcdDialTimeout: number;
}

export class KVProvider {
  private readonly clients = new Map<string, KVClient>();
  private closed: Promise<void> | null = null;

  constructor(private readonly log: Logger) {}

  get(cfg: KVStoreConfig): KVClient {
    if (this.closed !== null) throw new Error('KV provider is closed');
    const key = cfg.store === 'inmemory' ? 'inmemory' : `etcd:${[...cfg.etcdEndpoints].sort().join(',')}`;
    let c = this.clients.get(key);
    if (c === undefined) {
      c = cfg.store === 'inmemory'
        ? new InMemoryKV()
        : new EtcdKV({ endpoints: [...cfg.etcdEndpoints], dialTimeoutMs: cfg.etcdDialTimeout, log: this.log });
      this.clients.set(key, c);
    }
    return c;
  }

  /** Closes every client; idempotent. Call after every user of the store stopped. */
  close(): Promise<void> {
    this.closed ??= Promise.allSettled([...this.clients.values()].map((c) => c.close())).then(() => undefined);
    return this.closed;
  }
}
