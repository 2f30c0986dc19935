// The HTTP ingress of remote write: `POST /api/v1/push`, in Mimir's order of checks.
//
//   1. tenant from X-Scope-OrgID (401 / 400), before anything is read;
//   2. admission (instance limits, "is the distributor Running"): 503 when refused; the permit is
//      released exactly once when the request is over, whatever happened;
//   3. content negotiation (remote-write 2.0 spec): Content-Type picks the message, 415 for
//      anything else; Content-Encoding must be absent or `snappy`, else 415;
//   4. the body, read with a hard cap of -distributor.max-recv-msg-size compressed bytes (413),
//      and counted against the in-flight bytes limit (503);
//   5. snappy (block format): the uncompressed length in the prefix is checked against the same
//      cap before decompressing (413); corrupt data is a 400;
//   6. protobuf decoding with the chosen decoder (400);
//   7. the push itself; its outcome decides the answer: 1.0 -> 200 with an empty body (as Mimir),
//      2.0 -> 204, with the `X-Prometheus-Remote-Write-*-Written` headers on every answer given
//      after a successful negotiation, errors included. Errors answer with their status and message.
//
// Nothing escapes: every failure becomes a response (or nothing, when the client is gone).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { uncompressSync } from 'snappy';
import { MuninnError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { decodeWriteRequest, decodeWriteRequestV2, type DecodedWriteRequest } from '../remotewrite/index.js';
import { type HttpServer, sendText } from '../server/http.js';
import { type RequestContext, routeName } from '../server/router.js';
import { type TenancyOptions, tenantFromHeaders } from '../tenant/index.js';
import { MaxWriteMessageSizeError } from './errors.js';
import type { PushAdmission, PushTarget, WrittenCounts } from './push-types.js';

export const PUSH_PATH = '/api/v1/push';
/** The `route` label of cortex_request_duration_seconds for pushes (Mimir's: "api_v1_push"). */
export const PUSH_ROUTE_NAME = routeName(PUSH_PATH);

/** Media type of both remote-write messages. */
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';
/** `proto=` values of Content-Type (fully qualified message names). */
export const PROTO_V1 = 'prometheus.WriteRequest';
export const PROTO_V2 = 'io.prometheus.write.v2.Request';

export const SAMPLES_WRITTEN_HEADER = 'X-Prometheus-Remote-Write-Samples-Written';
export const HISTOGRAMS_WRITTEN_HEADER = 'X-Prometheus-Remote-Write-Histograms-Written';
export const EXEMPLARS_WRITTEN_HEADER = 'X-Prometheus-Remote-Write-Exemplars-Written';

export interface PushRouteOptions {
  /** -distributor.max-recv-msg-size: the cap on the compressed body and on its uncompressed size. */
  maxRecvMsgSize: number;
  tenancy: TenancyOptions;
  log: Logger;
  /** The route label in request metrics; PUSH_ROUTE_NAME unless given. */
  routeName?: string;
}

export type RemoteWriteVersion = 1 | 2;

const NOTHING_WRITTEN: WrittenCounts = Object.freeze({ samples: 0, histograms: 0, exemplars: 0 });

const SUPPORTED_TYPES =
  `supported: Content-Type "${PROTOBUF_MEDIA_TYPE}" (remote write 1.0), "${PROTOBUF_MEDIA_TYPE};proto=${PROTO_V1}" (1.0) ` +
  `or "${PROTOBUF_MEDIA_TYPE};proto=${PROTO_V2}" (2.0)`;

/** Registers `POST /api/v1/push` on the server, writing through `target`. */
export function registerPushRoute(http: HttpServer, target: PushTarget, opts: PushRouteOptions): void {
  if (!(Number.isSafeInteger(opts.maxRecvMsgSize) && opts.maxRecvMsgSize > 0)) {
    throw new RangeError(`maxRecvMsgSize must be a positive integer, got ${opts.maxRecvMsgSize}`);
  }
  http.route('POST', PUSH_PATH, (req, res, ctx) => handlePush(req, res, ctx, target, opts), opts.routeName ?? PUSH_ROUTE_NAME);
}

async function handlePush(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, target: PushTarget, opts: PushRouteOptions): Promise<void> {
  // a late 'error' (client reset after we answered) must never be an unhandled 'error' event
  req.on('error', noop);
  let admission: PushAdmission | undefined;
  let version: RemoteWriteVersion | undefined;
  let tenant: string | undefined;
  let written = NOTHING_WRITTEN;
  let error: unknown = null;
  try {
    tenant = tenantFromHeaders(req.headersDistinct, opts.tenancy);
    const a = target.admit();
    if (a instanceof MuninnError) throw a;
    admission = a;
    version = negotiate(req.headers['content-type'], req.headers['content-encoding']);
    const body = await readBody(req, opts.maxRecvMsgSize, ctx.signal);
    const bytesError = admission.addBytes(body.length);
    if (bytesError !== null) throw bytesError;
    const decoded = decode(version, uncompress(body, opts.maxRecvMsgSize));
    const outcome = await target.push(tenant, decoded, ctx.signal);
    written = outcome.written;
    error = outcome.error;
  } catch (e) {
    error = e;
  } finally {
    admission?.release();
  }
  respond(req, res, version, written, error, tenant, opts.log);
}

function respond(
  req: IncomingMessage,
  res: ServerResponse,
  version: RemoteWriteVersion | undefined,
  written: WrittenCounts,
  error: unknown,
  tenant: string | undefined,
  log: Logger,
): void {
  if (res.headersSent || res.destroyed) return;
  // answered before the whole body arrived: the rest is not worth reading, drop the connection
  if (!req.complete) res.setHeader('Connection', 'close');
  if (version === 2) {
    res.setHeader(SAMPLES_WRITTEN_HEADER, String(written.samples));
    res.setHeader(HISTOGRAMS_WRITTEN_HEADER, String(written.histograms));
    res.setHeader(EXEMPLARS_WRITTEN_HEADER, String(written.exemplars));
  }
  if (error === null || error === undefined) {
    res.statusCode = version === 2 ? 204 : 200;
    if (version !== 2) res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  const err = error instanceof MuninnError ? error : new MuninnError('internal', `push failed: ${String(error instanceof Error ? error.message : error)}`, { cause: error });
  const status = err.httpStatus;
  if (status >= 500) {
    // one line, no stack: a failing ingester ring would otherwise flood the log
    log.warn({ tenant, status, code: err.code, err: err.message }, 'push request failed');
    if (!(error instanceof MuninnError)) log.error({ tenant, err: error }, 'push handler failed unexpectedly');
  } else {
    log.debug({ tenant, status, code: err.code, err: err.message }, 'push request refused');
  }
  sendText(res, status, `${err.message}\n`);
}

/**
 * The remote-write version from Content-Type, as the 2.0 spec and Prometheus' receiver decide it:
 * `application/x-protobuf` without `proto=` (or no Content-Type at all) is 1.0. The encoding must
 * be absent or `snappy`. Anything else is a 415 naming what is supported.
 */
export function negotiate(contentType: string | undefined, contentEncoding: string | undefined): RemoteWriteVersion {
  const enc = (contentEncoding ?? '').trim().toLowerCase();
  if (enc !== '' && enc !== 'snappy') {
    throw new MuninnError('unsupported_media_type', `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: only "snappy" (block format) is supported`);
  }
  if (contentType === undefined || contentType.trim() === '') return 1;
  const parts = contentType.split(';');
  const media = (parts[0] ?? '').trim().toLowerCase();
  if (media !== PROTOBUF_MEDIA_TYPE) {
    throw new MuninnError('unsupported_media_type', `unsupported Content-Type ${JSON.stringify(contentType)}; ${SUPPORTED_TYPES}`);
  }
  let proto: string | undefined;
  for (const p of parts.slice(1)) {
    if (p.trim() === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw new MuninnError('unsupported_media_type', `malformed Content-Type ${JSON.stringify(contentType)}: parameters must be name=value; ${SUPPORTED_TYPES}`);
    if (p.slice(0, eq).trim().toLowerCase() !== 'proto') continue;
    let v = p.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    proto = v;
    break;
  }
  if (proto === undefined || proto === PROTO_V1) return 1;
  if (proto === PROTO_V2) return 2;
  throw new MuninnError('unsupported_media_type', `unsupported remote-write message ${JSON.stringify(proto)} in Content-Type; ${SUPPORTED_TYPES}`);
}

/**
 * The request body, at most `limit` bytes: a Content-Length over it is refused before reading;
 * without one, reading stops as soon as the limit is passed. Rejects with 'canceled' when the
 * client goes away (or `signal` aborts) before the end.
 */
export function readBody(req: IncomingMessage, limit: number, signal: AbortSignal): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > limit) return Promise.reject(new MaxWriteMessageSizeError(n, limit));
  }
  if (signal.aborted) return Promise.reject(canceled(signal));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (e: MuninnError): void => {
      cleanup();
      req.pause();
      chunks.length = 0;
      reject(e);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) fail(new MaxWriteMessageSizeError(-1, limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (e: Error): void => fail(new MuninnError('canceled', `reading the request body failed: ${e.message}`, { cause: e }));
    const onClose = (): void => {
      if (!req.complete) fail(new MuninnError('canceled', 'the client closed the connection before sending the whole request body'));
    };
    const onAbort = (): void => fail(canceled(signal));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function canceled(signal: AbortSignal): MuninnError {
  const r: unknown = signal.reason;
  return r instanceof MuninnError ? r : new MuninnError('canceled', 'the request was canceled', { cause: r });
}

/**
 * The snappy block's uncompressed length (its leading uvarint), or -1 when the prefix is
 * malformed (truncated, or more than 32 bits as the format allows).
 */
export function snappyUncompressedLength(buf: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < 5 && i < buf.length; i++) {
    const b = buf[i] as number;
    v += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return v <= 0xffffffff ? v : -1;
  }
  return -1;
}

/** Snappy block decompression after checking the announced size against the limit. */
export function uncompress(body: Buffer, limit: number): Buffer {
  if (body.length === 0) throw new MuninnError('bad_data', 'the request body is empty: expected a snappy-compressed protobuf message');
  const n = snappyUncompressedLength(body);
  if (n < 0) throw new MuninnError('bad_data', 'the request body is not snappy-compressed (block format): malformed length prefix');
  if (n > limit) throw new MaxWriteMessageSizeError(n, limit);
  let out: string | Buffer;
  try {
    out = uncompressSync(body, { asBuffer: true, copyOutputData: true });
  } catch (e) {
    throw new MuninnError('bad_data', `the request body is not valid snappy-compressed data (block format): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (typeof out === 'string') out = Buffer.from(out);
  if (out.length !== n) throw new MuninnError('bad_data', `the request body is not valid snappy-compressed data: it announces ${n} bytes but holds ${out.length}`);
  return out;
}

function decode(version: RemoteWriteVersion, buf: Buffer): DecodedWriteRequest {
  switch (version) {
    case 1:
      return decodeWriteRequest(buf);
    case 2:
      return decodeWriteRequestV2(buf);
    default: {
      const never: never = version;
      throw new Error(`unknown remote-write version ${String(never)}`);
    }
  }
}

function noop(): void {}
