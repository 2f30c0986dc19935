// The plumbing of one API request: its form-encoded body (read as Go's ParseForm reads it) and
// the deadline/cancellation of the work it starts.
import type { IncomingMessage } from 'node:http';
import { MuninnError } from '../../errors/index.js';
import { PromQLError } from '../../promql/engine/api.js';
import { abortError } from '../ingester-queryable.js';
import { apiErrorOf } from './respond.js';

/** Go's http.Request.ParseForm cap on a form body (maxFormSize). */
export const MAX_FORM_BYTES = 10 << 20;

/**
 * Reads a form-encoded POST body (capped as Go caps it); other bodies are ignored, as Go does.
 * Past the cap the rest is read and dropped while the error goes out (no reset of the client).
 */
export function readForm(req: IncomingMessage, signal: AbortSignal): Promise<URLSearchParams> {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (req.method !== 'POST' || ct !== 'application/x-www-form-urlencoded') return Promise.resolve(new URLSearchParams());
  return new Promise<URLSearchParams>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let failed = false;
    const cleanup = (): void => {
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      cleanup();
      reject(e);
    };
    const onData = (c: Buffer): void => {
      if (failed) return;
      n += c.length;
      if (n > MAX_FORM_BYTES) fail(new PromQLError('bad_data', 'error parsing form values: http: POST too large'));
      else chunks.push(c);
    };
    const onEnd = (): void => {
      if (failed) return;
      cleanup();
      resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    };
    const onError = (e: Error): void => fail(e);
    const onClose = (): void => {
      if (!req.complete) fail(abortError(signal.aborted ? signal : AbortSignal.abort(new MuninnError('canceled', 'client closed the connection'))));
    };
    const onAbort = (): void => fail(abortError(signal));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The deadline of one query: aborts `signal` with a timeout, or when the client goes away. */
export class QuerySignal {
  readonly signal: AbortSignal;
  private readonly ac = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly client: AbortSignal;
  private readonly onClientGone = (): void => this.ac.abort(this.client.reason);
  private readonly where: string;
  timedOut = false;

  constructor(client: AbortSignal, timeoutMs: number, where = 'expression evaluation') {
    this.client = client;
    this.where = where;
    this.signal = this.ac.signal;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.ac.abort(new PromQLError('timeout', `query timed out in ${where}`));
    }, Math.max(0, Math.min(timeoutMs, 2_147_483_647)));
    this.timer.unref();
    if (client.aborted) this.ac.abort(client.reason);
    else client.addEventListener('abort', this.onClientGone, { once: true });
  }

  /** What a failure becomes: a timeout when the deadline passed, a cancellation when the client left. */
  translate(e: unknown): unknown {
    if (this.timedOut && !this.client.aborted) {
      const err = apiErrorOf(e);
      if (err.type === 'canceled' || err.type === 'timeout') return new PromQLError('timeout', `query timed out in ${this.where}`);
    }
    if (this.client.aborted) return new PromQLError('canceled', `query was canceled in ${this.where}`);
    return e;
  }

  done(): void {
    clearTimeout(this.timer);
    this.client.removeEventListener('abort', this.onClientGone);
  }
}
