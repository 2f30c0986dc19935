// The test's HTTP client: one remote-write request per call (retries are the writer's), and
// instant and range queries through the Prometheus query API. Authentication as Mimir's
// continuous test sends it: a bearer token, else basic auth, else X-Scope-OrgID; with either of the
// first two, X-Scope-OrgID too when -tests.tenant-id is not the default.
//
// Connections are kept alive in the client's own agent, destroyed by close(). Every call takes an
// AbortSignal and a per-request timeout; none throws for an HTTP or network failure of a write (the
// outcome says what happened), and after close() calls fail with ClientClosedError instead of
// opening new connections.
import { type IncomingHttpHeaders, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { trimEndpoint } from './config.js';

export const DEFAULT_TENANT = 'anonymous';
const MAX_ERROR_BODY = 256;
const MAX_QUERY_BODY = 256 * 1024 * 1024;

export interface ClientOptions {
  writeEndpoint: string;
  readEndpoint: string;
  tenantId: string;
  basicAuthUser?: string;
  basicAuthPassword?: string;
  bearerToken?: string;
  userAgent?: string;
  writeTimeoutMs: number;
  readTimeoutMs: number;
  /** Most connections per host (the writers' concurrency plus a few for queries). */
  maxSockets?: number;
}

/** How one write request ended. */
export type WriteOutcome =
  | { kind: 'ok'; status: number }
  | { kind: 'http'; status: number; body: string; retryAfter: string | undefined }
  /** No HTTP answer: connection refused or reset, timeout, ... */
  | { kind: 'network'; message: string }
  /** The caller's signal aborted. */
  | { kind: 'aborted' };

export class ClientClosedError extends Error {
  constructor() {
    super('continuous-test client is closed');
    this.name = 'ClientClosedError';
  }
}

/** A failed query: HTTP status (0 = no answer) and the API's error. */
export class QueryError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(status === 0 ? message : `HTTP ${status}: ${message}`);
    this.name = 'QueryError';
    this.status = status;
  }

  /** Worth another try: no answer, 5xx, 429. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

/** The `data` of a successful query answer. */
export interface QueryData {
  resultType: string;
  result: unknown[];
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

class Aborted extends Error {}

export class TestClient {
  private readonly opts: ClientOptions;
  private readonly writeUrl: URL;
  private readonly queryUrl: URL;
  private readonly queryRangeUrl: URL;
  private readonly authHeaders: Record<string, string>;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private closed = false;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    const w = trimEndpoint(opts.writeEndpoint);
    const r = trimEndpoint(opts.readEndpoint);
    this.writeUrl = new URL(`${w}/api/v1/push`);
    this.queryUrl = new URL(`${r}/api/v1/query`);
    this.queryRangeUrl = new URL(`${r}/api/v1/query_range`);
    this.authHeaders = authHeaders(opts);
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 16 };
    this.httpAgent = new HttpAgent(agentOpts);
    this.httpsAgent = new HttpsAgent(agentOpts);
  }

  /** Sends one snappy-compressed WriteRequest. Never throws except ClientClosedError. */
  async write(body: Uint8Array, signal?: AbortSignal): Promise<WriteOutcome> {
    const headers = {
      ...this.authHeaders,
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    };
    let res: RawResponse;
    try {
      res = await this.send(this.writeUrl, headers, body, this.opts.writeTimeoutMs, MAX_ERROR_BODY, signal);
    } catch (e) {
      if (e instanceof ClientClosedError) throw e;
      if (e instanceof Aborted) return { kind: 'aborted' };
      return { kind: 'network', message: errMessage(e) };
    }
    if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status };
    const ra = res.headers['retry-after'];
    return { kind: 'http', status: res.status, body: res.body.subarray(0, MAX_ERROR_BODY).toString('utf8'), retryAfter: typeof ra === 'string' ? ra : undefined };
  }

  /** An instant query at timeMs. Throws QueryError (or ClientClosedError, or the abort reason). */
  query(expr: string, timeMs: number, signal?: AbortSignal): Promise<QueryData> {
    return this.runQuery(this.queryUrl, new URLSearchParams({ query: expr, time: seconds(timeMs) }), signal);
  }

  /** A range query. Throws like query(). */
  queryRange(expr: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryData> {
    const form = new URLSearchParams({ query: expr, start: seconds(startMs), end: seconds(endMs), step: seconds(stepMs) });
    return this.runQuery(this.queryRangeUrl, form, signal);
  }

  /** Closes the connections; later calls fail with ClientClosedError. Idempotent. */
  close(): void {
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async runQuery(url: URL, form: URLSearchParams, signal: AbortSignal | undefined): Promise<QueryData> {
    const headers = { ...this.authHeaders, 'Content-Type': 'application/x-www-form-urlencoded' };
    let res: RawResponse;
    try {
      res = await this.send(url, headers, Buffer.from(form.toString()), this.opts.readTimeoutMs, MAX_QUERY_BODY, signal);
    } catch (e) {
      if (e instanceof ClientClosedError) throw e;
      if (e instanceof Aborted) throw abortReason(signal);
      throw new QueryError(0, errMessage(e));
    }
    const text = res.body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new QueryError(res.status, `response is not JSON: ${JSON.stringify(text.slice(0, MAX_ERROR_BODY))}`);
    }
    const j = json as { status?: unknown; data?: { resultType?: unknown; result?: unknown }; error?: unknown };
    if (res.status !== 200 || j.status !== 'success') {
      throw new QueryError(res.status === 200 ? 0 : res.status, typeof j.error === 'string' ? j.error : `unexpected answer: ${text.slice(0, MAX_ERROR_BODY)}`);
    }
    if (typeof j.data?.resultType !== 'string' || !Array.isArray(j.data.result)) {
      throw new QueryError(0, `unexpected answer: ${text.slice(0, MAX_ERROR_BODY)}`);
    }
    return { resultType: j.data.resultType, result: j.data.result as unknown[] };
  }

  private send(url: URL, headers: Record<string, string>, body: Uint8Array, timeoutMs: number, maxBody: number, signal: AbortSignal | undefined): Promise<RawResponse> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (signal?.aborted) return Promise.reject(new Aborted());
    return new Promise<RawResponse>((resolve, reject) => {
      const https = url.protocol === 'https:';
      let done = false;
      let timedOut = false;
      const finish = (err: Error | null, r?: RawResponse): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(err);
        else resolve(r as RawResponse);
      };
      const req = (https ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: https ? this.httpsAgent : this.httpAgent,
        headers: { ...headers, 'Content-Length': String(body.length) },
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= maxBody) chunks.push(c);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => finish(failure(e)));
        res.on('aborted', () => finish(failure(new Error('response aborted'))));
      });
      const failure = (e: Error): Error => {
        if (signal?.aborted === true) return new Aborted();
        if (timedOut) return new Error(`request timed out after ${timeoutMs}ms`);
        if (this.closed) return new ClientClosedError();
        return e;
      };
      const onAbort = (): void => {
        req.destroy();
        finish(new Aborted());
      };
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error(`request timed out after ${timeoutMs}ms`));
      }, timeoutMs);
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => finish(failure(e)));
      req.end(body);
    });
  }
}

function authHeaders(o: ClientOptions): Record<string, string> {
  const h: Record<string, string> = {};
  if (o.userAgent !== undefined && o.userAgent !== '') h['User-Agent'] = o.userAgent;
  if (o.bearerToken !== undefined && o.bearerToken !== '') {
    h.Authorization = `Bearer ${o.bearerToken}`;
    if (o.tenantId !== DEFAULT_TENANT) h['X-Scope-OrgID'] = o.tenantId;
  } else if ((o.basicAuthUser ?? '') !== '' && (o.basicAuthPassword ?? '') !== '') {
    h.Authorization = `Basic ${Buffer.from(`${o.basicAuthUser}:${o.basicAuthPassword}`).toString('base64')}`;
    if (o.tenantId !== DEFAULT_TENANT) h['X-Scope-OrgID'] = o.tenantId;
  } else {
    h['X-Scope-OrgID'] = o.tenantId;
  }
  return h;
}

/** A time in the API's float seconds, exact for whole milliseconds. */
function seconds(ms: number): string {
  const s = Math.floor(ms / 1000);
  const frac = ms - s * 1000;
  return frac === 0 ? String(s) : `${s}.${String(frac).padStart(3, '0')}`;
}

function errMessage(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== undefined && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new Error('aborted');
}

/**
 * A Retry-After header as a delay in ms: delay-seconds or an HTTP date; undefined when absent or
 * unparseable.
 */
export function parseRetryAfter(v: string | undefined, now: number): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const d = Date.parse(s);
  if (Number.isNaN(d)) return undefined;
  return Math.max(0, d - now);
}
