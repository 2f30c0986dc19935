// The HTTP server (node:http). It owns the listener, routing, request metrics, timeouts and the
// shutdown steps that concern HTTP: once "draining" is set every response carries
// `Connection: close`; close() stops accepting, lets in-flight requests finish within a deadline
// and then cuts what is left, reporting how many were cut.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { httpStatusOf, MuninnError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { RequestMetrics } from '../metrics/index.js';
import { timerDelay } from '../util/duration.js';
import { type Handler, type Route, Router, routeName } from './router.js';

export interface HttpServerOptions {
  listenAddress: string;
  listenPort: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface CloseResult {
  /** Requests still running at the deadline, whose connections were destroyed. */
  cut: number;
}

export class HttpServer {
  readonly router = new Router();
  private readonly server: Server;
  private readonly opts: HttpServerOptions;
  private readonly log: Logger;
  private readonly metrics: RequestMetrics;
  private connectionClose = false;
  private inflight = 0;
  /** Responses of the requests in flight (setDraining() adds Connection: close to those not yet sent). */
  private readonly responses = new Set<ServerResponse>();
  private idleWaiters: Array<() => void> = [];
  private closed: Promise<CloseResult> | undefined;

  constructor(opts: HttpServerOptions, log: Logger, metrics: RequestMetrics) {
    this.opts = opts;
    this.log = log;
    this.metrics = metrics;
    this.server = createServer({
      requestTimeout: opts.readTimeoutMs === Infinity ? 0 : opts.readTimeoutMs,
      headersTimeout: Math.min(60_000, opts.readTimeoutMs === 0 || opts.readTimeoutMs === Infinity ? 60_000 : opts.readTimeoutMs),
      keepAliveTimeout: timerDelay(opts.idleTimeoutMs) ?? 0,
    });
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  /** Registers a handler; the route label is derived from the pattern unless given. */
  route(methods: string | readonly string[], pattern: string, handler: Handler, name?: string): void {
    const route: Route = {
      methods: typeof methods === 'string' ? [methods] : methods,
      pattern,
      name: name ?? routeName(pattern),
      handler,
    };
    this.router.add(route);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      const host = this.opts.listenAddress === '' ? undefined : this.opts.listenAddress;
      this.server.listen({ port: this.opts.listenPort, host }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  address(): AddressInfo {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('HTTP server is not listening');
    return a;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /**
   * From now on every response asks the client to close its connection, including the responses
   * of requests already in flight (else a keep-alive client sends its next request on a
   * connection that close() is about to cut, and gets a reset).
   */
  setDraining(): void {
    this.connectionClose = true;
    for (const res of this.responses) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  inflightRequests(): number {
    return this.inflight;
  }

  /**
   * Stops accepting connections, closes idle keep-alive connections, and waits up to timeoutMs for
   * in-flight requests; then destroys the connections still busy. Idempotent.
   */
  close(timeoutMs: number): Promise<CloseResult> {
    this.setDraining();
    this.closed ??= this.doClose(timeoutMs);
    return this.closed;
  }

  private async doClose(timeoutMs: number): Promise<CloseResult> {
    const listenerClosed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    this.server.closeIdleConnections();
    let cut = 0;
    if (this.inflight > 0) {
      const drained = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), timerDelay(timeoutMs) ?? 2_147_483_647);
        t.unref();
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (!drained) {
        cut = this.inflight;
        this.log.warn({ cut }, 'HTTP requests still running at the graceful shutdown deadline; closing their connections');
      }
    }
    this.server.closeAllConnections();
    await listenerClosed;
    return { cut };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const start = process.hrtime.bigint();
    this.inflight++;
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      url = new URL('http://localhost/');
    }
    const m = this.router.match(method, url.pathname);
    const routeLabel = typeof m === 'object' ? m.route.name : 'other';
    this.metrics.inflight.inc({ method, route: routeLabel });
    const ac = new AbortController();
    let writeTimer: NodeJS.Timeout | undefined;
    const wt = timerDelay(this.opts.writeTimeoutMs);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (writeTimer !== undefined) clearTimeout(writeTimer);
      if (!res.writableFinished) ac.abort(new MuninnError('canceled', 'client closed the connection'));
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      this.metrics.inflight.dec({ method, route: routeLabel });
      this.metrics.duration.observe({ method, route: routeLabel, status_code: String(res.statusCode), ws: 'false' }, secs);
      this.inflight--;
      this.responses.delete(res);
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    res.once('finish', finish);
    res.once('close', finish);
    this.responses.add(res);
    if (this.connectionClose) res.setHeader('Connection', 'close');
    if (wt !== undefined) {
      // as Go's http.Server.WriteTimeout: counted from the end of the request headers
      writeTimer = setTimeout(() => {
        this.log.warn({ method, path: url.pathname }, 'HTTP write timeout: closing the connection');
        res.destroy();
      }, wt);
      writeTimer.unref();
    }

    if (m === undefined) return sendText(res, 404, '404 page not found\n');
    if (m === 'method') return sendText(res, 405, 'method not allowed\n');
    const log = this.log;
    let p: void | Promise<void>;
    try {
      p = m.route.handler(req, res, { params: m.params, url, signal: ac.signal, log });
    } catch (e) {
      this.fail(res, e, log);
      return;
    }
    if (p !== undefined) p.catch((e: unknown) => this.fail(res, e, log));
  }

  private fail(res: ServerResponse, e: unknown, log: Logger): void {
    const status = httpStatusOf(e);
    if (status >= 500 && !(e instanceof MuninnError)) log.error({ err: e }, 'HTTP handler failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendText(res, status, `${e instanceof Error ? e.message : String(e)}\n`);
  }
}

export function sendText(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const s = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(s));
  res.end(s);
}
