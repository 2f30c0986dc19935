// The contract between the HTTP push endpoint (push-http.ts) and the distributor that writes a
// decoded request to the ingesters (distributor.ts).
import type { MuninnError } from '../errors/index.js';
import type { DecodedWriteRequest } from '../remotewrite/index.js';

/** What a push stored (on a quorum of replicas): the remote-write 2.0 "-Written" headers. */
export interface WrittenCounts {
  samples: number;
  histograms: number;
  exemplars: number;
}

/** The result of one push: what was written, and the error to answer with (null: success). */
export interface PushOutcome {
  written: WrittenCounts;
  error: MuninnError | null;
}

/** One admitted push request (instance limits). release() is idempotent. */
export interface PushAdmission {
  /** Counts the body's size against the in-flight bytes limit; the retryable error if over it. */
  addBytes(bytes: number): MuninnError | null;
  release(): void;
}

export interface PushTarget {
  /**
   * Admission before the body is read: a permit, or the retryable error (503) when the distributor
   * is not Running or at an instance limit.
   */
  admit(): PushAdmission | MuninnError;
  /**
   * Validates, rate-limits and writes the request for the tenant. Never rejects: every failure is
   * in the outcome. The request's byte ranges must stay valid until the promise settles.
   */
  push(tenant: string, req: DecodedWriteRequest, signal: AbortSignal): Promise<PushOutcome>;
}
