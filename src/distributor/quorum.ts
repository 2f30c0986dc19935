// Quorum tracking of one fanned-out push (dskit ring.DoBatch's item trackers): every item (a
// series, or a metadata entry) goes to the instances of its replication set, and is stored once
// minSuccess of them acknowledged it. The push succeeds when every item is stored, and fails as
// soon as one item cannot be: more of its replicas failed than its error budget (maxErrors).
//
// Errors come in two families. A client error (4xx: out-of-order, duplicate, per-tenant series
// limit) means the ingester looked at the data and refused it; a server error (5xx: unavailable,
// timeout, stopping) means it may not have looked. An item whose failures are all-but-budget
// client errors fails with the client error (the sender must not retry: 400); any other failure
// is retryable (5xx). A replica that failed never counts twice: each batch reports once.
import { MuninnError } from '../errors/index.js';

/** True for an error the sender must not retry (HTTP 4xx other than 429). */
export function isClientError(e: MuninnError): boolean {
  const s = e.httpStatus;
  return s >= 400 && s < 500 && s !== 429 && s !== 499;
}

export type QuorumState = 'pending' | 'done' | 'failed';

export class QuorumTracker {
  private readonly ok: Uint8Array;
  private readonly failed4xx: Uint8Array;
  private readonly failed5xx: Uint8Array;
  private remaining: number;
  private st: QuorumState;
  private err: MuninnError | null = null;
  private last4xx: MuninnError | null = null;
  private last5xx: MuninnError | null = null;

  /**
   * minSuccess[i] / maxErrors[i]: item i's replication set's quorum and error budget. An item
   * with minSuccess 0 (sent nowhere) counts as stored.
   */
  constructor(
    private readonly minSuccess: Uint8Array,
    private readonly maxErrors: Uint8Array,
    count: number = minSuccess.length,
  ) {
    this.ok = new Uint8Array(count);
    this.failed4xx = new Uint8Array(count);
    this.failed5xx = new Uint8Array(count);
    let remaining = 0;
    for (let i = 0; i < count; i++) if (minSuccess[i]! > 0) remaining++;
    this.remaining = remaining;
    this.st = remaining === 0 ? 'done' : 'pending';
  }

  get state(): QuorumState {
    return this.st;
  }

  /** The error the push failed with (state 'failed'). */
  get error(): MuninnError | null {
    return this.err;
  }

  /** Whether item i reached its quorum. */
  stored(i: number): boolean {
    return this.ok[i]! >= this.minSuccess[i]!;
  }

  /** Records one replica's answer for items[0..count). Returns the state after it. */
  record(items: ArrayLike<number>, count: number, e: MuninnError | null): QuorumState {
    if (e === null) {
      for (let k = 0; k < count; k++) {
        const i = items[k]!;
        const n = ++this.ok[i]!;
        if (n === this.minSuccess[i] && --this.remaining === 0 && this.st === 'pending') this.st = 'done';
      }
      return this.st;
    }
    const client = isClientError(e);
    if (client) this.last4xx = e;
    else this.last5xx = e;
    for (let k = 0; k < count; k++) {
      const i = items[k]!;
      const f4 = client ? ++this.failed4xx[i]! : this.failed4xx[i]!;
      const f5 = client ? this.failed5xx[i]! : ++this.failed5xx[i]!;
      if (this.ok[i]! >= this.minSuccess[i]! || f4 + f5 <= this.maxErrors[i]!) continue;
      if (this.st === 'pending') {
        this.st = 'failed';
        // all-but-budget replicas refused the data: the client's fault; else retryable
        this.err = f4 > this.maxErrors[i]! ? this.last4xx : (this.last5xx ?? this.last4xx);
      }
    }
    return this.st;
  }
}
