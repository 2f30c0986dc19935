// Clients to the ingesters, one per address, for distributors and queriers (Mimir's ingester
// client pool). The ingester of this process (-target=all) is called directly, not over gRPC.
//
// Close is not send (DESIGN.md rule 4): after close(), get() hands out a client whose every call
// rejects with a retryable PoolClosedError. A client whose ingester left the ring is closed only
// after a delay, so that calls still running on it finish.
import type * as grpc from '@grpc/grpc-js';
import { PoolClosedError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { IngesterApi, PushResult, StreamSeries, UserStats } from './api.js';
import { IngesterClient } from './grpc.js';
import type { MetricMetadata } from './metadata.js';

/**
 * Keepalive of the clients, as dskit's grpcclient sets it: a ping after 20 s without activity,
 * the connection dropped if the ping is not answered within 10 s, pings also without calls.
 */
export const INGESTER_CLIENT_KEEPALIVE: grpc.ClientOptions = {
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
};

/**
 * Reconnection: dskit's connect backoff (1 s base, 5 s max) instead of grpc-js's (up to 120 s), so
 * an ingester back at its address is used again within seconds; and a channel of its own per
 * client (grpc-js otherwise shares connections per address between clients, and a fresh client
 * would inherit the old one's backoff).
 */
export const INGESTER_CLIENT_CONNECT: grpc.ClientOptions = {
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.max_reconnect_backoff_ms': 5_000,
  'grpc.use_local_subchannel_pool': 1,
};

export interface IngesterClientPoolOptions {
  log: Logger;
  /** Extra grpc-js channel options. */
  clientOptions?: grpc.ClientOptions;
  /** The ingester of this process and the address it registered, if any: called in-process. */
  local?: () => { addr: string; api: IngesterApi } | undefined;
  /** How long a client removed by retain() stays open for the calls still running on it. Default 30 s. */
  closeDelayMs?: number;
  /**
   * Called when get() is used after close(), before the closed client is handed out. Only the
   * debug flag that reproduces Mimir 2.13's crash sets it (src/app/modules.ts).
   */
  onUseAfterClose?: () => void;
}

class ClosedClient implements IngesterApi {
  private fail(): Promise<never> {
    return Promise.reject(new PoolClosedError('ingester clients'));
  }
  push(): Promise<PushResult> {
    return this.fail();
  }
  async *queryStream(): AsyncIterable<StreamSeries[]> {
    throw new PoolClosedError('ingester clients');
  }
  labelNames(): Promise<string[]> {
    return this.fail();
  }
  labelValues(): Promise<string[]> {
    return this.fail();
  }
  series(): Promise<string[][]> {
    return this.fail();
  }
  userStats(): Promise<UserStats> {
    return this.fail();
  }
  metricsMetadata(): Promise<MetricMetadata[]> {
    return this.fail();
  }
}

const CLOSED = new ClosedClient();

export class IngesterClientPool {
  private readonly clients = new Map<string, IngesterClient>();
  private readonly closing = new Map<NodeJS.Timeout, IngesterClient>();
  private readonly o: IngesterClientPoolOptions;
  private closed = false;

  constructor(opts: IngesterClientPoolOptions) {
    this.o = opts;
  }

  get size(): number {
    return this.clients.size;
  }

  /** The client for the ingester at addr (host:port). */
  get(addr: string): IngesterApi {
    if (this.closed) {
      this.o.onUseAfterClose?.();
      return CLOSED;
    }
    const local = this.o.local?.();
    if (local !== undefined && local.addr === addr) return local.api;
    let c = this.clients.get(addr);
    if (c === undefined) {
      c = new IngesterClient(addr, { ...INGESTER_CLIENT_KEEPALIVE, ...INGESTER_CLIENT_CONNECT, ...this.o.clientOptions });
      this.clients.set(addr, c);
    }
    return c;
  }

  /** Closes (after the close delay) the clients of addresses not in `addrs` (ingesters gone from the ring). */
  retain(addrs: ReadonlySet<string>): void {
    for (const [addr, c] of this.clients) {
      if (addrs.has(addr)) continue;
      this.clients.delete(addr);
      this.o.log.debug({ addr }, 'closing the client of an ingester that left the ring');
      const t = setTimeout(() => {
        this.closing.delete(t);
        c.close();
      }, this.o.closeDelayMs ?? 30_000);
      t.unref();
      this.closing.set(t, c);
    }
  }

  /** Closes every client now; idempotent. Later calls get a retryable PoolClosedError. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    for (const [t, c] of this.closing) {
      clearTimeout(t);
      c.close();
    }
    this.closing.clear();
  }
}
