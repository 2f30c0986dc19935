// The key-value store interface the hash ring is kept in (Mimir's kv.Client, reduced to what the
// ring needs). Values are opaque bytes; the ring codec (../model.ts) gives them meaning.
// Implementations: InMemoryKV (./inmemory.ts, -ingester.ring.store=inmemory, one process) and etcd.
import { MuninnError } from '../../errors/index.js';

export interface KVClient {
  /** The value at key, or null. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | null>;
  /** Compare-and-swap loop: f gets the current value (null if none) and returns the new value, or null to leave it unchanged; retried on conflict (bounded retries, then an error). */
  cas(key: string, f: (current: Uint8Array | null) => Uint8Array | null, signal?: AbortSignal): Promise<void>;
  /** Calls onValue with the current value and on every change until the signal aborts; survives store outages by retrying (with backoff), never rejecting except on abort. */
  watchKey(key: string, onValue: (value: Uint8Array | null) => void, signal: AbortSignal): Promise<void>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Why a KV operation failed. */
export type KVErrorReason =
  | 'closed' // the client was closed; a late call gets this instead of running
  | 'cas_conflict' // a CAS lost every one of its bounded retries to concurrent writers
  | 'unavailable'; // the store could not be reached

/**
 * A failed KV operation. Retryable (code 'unavailable': HTTP 503, gRPC UNAVAILABLE): the ring
 * lives on, a later call may succeed. Implementations should reject with this rather than a raw
 * client error, so callers can tell store trouble from bugs.
 */
export class KVError extends MuninnError {
  readonly reason: KVErrorReason;
  constructor(reason: KVErrorReason, message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
    this.name = 'KVError';
    this.reason = reason;
  }
}

/** The rejection for an operation whose signal aborted: the signal's reason when it is an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error('aborted');
}
