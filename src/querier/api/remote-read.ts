// Prometheus remote read (POST <prefix>/api/v1/read, as Mimir serves it): a snappy-compressed
// prometheus.ReadRequest of queries (time range + matchers) answered with the raw samples of the
// matching series, merged over the ingesters' replicas (the querier's usual read).
//
//   ReadRequest  { 1: repeated Query queries; 2: repeated ResponseType accepted_response_types }
//   Query        { 1: int64 start_timestamp_ms; 2: int64 end_timestamp_ms; 3: repeated LabelMatcher; 4: hints }
//   LabelMatcher { 1: Type type (EQ, NEQ, RE, NRE); 2: string name; 3: string value }
//   ReadResponse { 1: repeated QueryResult results }, QueryResult { 1: repeated TimeSeries }
//
// Only the SAMPLES response type is served (what an empty accepted list means, and what
// Prometheus's remote-read client asks for); a request accepting only streamed chunks gets 400.
// Errors are plain text with Prometheus's statuses (400 bad request, 5xx retryable). The answer is
// bounded by -querier.max-samples over all its queries, the request by
// REMOTE_READ_MAX_REQUEST_BYTES, the time by -querier.timeout.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compressSync } from 'snappy';
import { readBody, uncompress } from '../../distributor/push-http.js';
import { MuninnError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { FloatHistogram, StorageMatcher } from '../../promql/value.js';
import { decodeError } from '../../remotewrite/builder.js';
import { encodeWriteRequest, type HistogramObject, type SeriesObject, valueBits } from '../../remotewrite/index.js';
import { WireReader } from '../../remotewrite/wire.js';
import { Writer } from '../../remotewrite/writer.js';
import { type HttpServer, sendText } from '../../server/http.js';
import type { RequestContext } from '../../server/router.js';
import { type TenancyOptions, tenantFromHeaders } from '../../tenant/index.js';
import type { Querier } from '../querier.js';
import { QuerySignal } from './request.js';

/** Largest compressed or uncompressed ReadRequest accepted (a read request is a few matchers). */
export const REMOTE_READ_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: StorageMatcher[];
}

export interface ReadRequest {
  queries: ReadQuery[];
  /** 0 SAMPLES, 1 STREAMED_XOR_CHUNKS */
  acceptedResponseTypes: number[];
}

const MATCH_TYPES = ['=', '!=', '=~', '!~'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function str(r: WireReader, what: string): string {
  const n = r.len();
  if (r.err !== null) return '';
  try {
    return utf8.decode(r.buf.subarray(r.pos, r.pos + n));
  } catch {
    r.fail(`${what} is not valid UTF-8`);
    return '';
  } finally {
    r.pos += n;
  }
}

/** Decodes an uncompressed prometheus.ReadRequest; a malformed one is a 400 'bad_data' error. */
export function decodeReadRequest(buf: Uint8Array): ReadRequest {
  const r = new WireReader(buf);
  r.where = 'ReadRequest';
  const out: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x0a) out.queries.push(decodeQuery(r));
    else if (k === 0x10) out.acceptedResponseTypes.push(r.u32() | 0);
    else if (k === 0x12) {
      const prev = r.enter('accepted_response_types');
      while (r.pos < r.limit) out.acceptedResponseTypes.push(r.u32() | 0);
      r.leave(prev, 'ReadRequest');
    } else r.skip(k & 7);
  }
  if (r.err !== null) throw decodeError(r, 'prometheus.ReadRequest');
  return out;
}

function decodeQuery(r: WireReader): ReadQuery {
  const prev = r.enter('Query');
  const q: ReadQuery = { startMs: 0, endMs: 0, matchers: [] };
  while (r.pos < r.limit) {
    const k = r.key();
    if (k === 0x08) q.startMs = r.i64();
    else if (k === 0x10) q.endMs = r.i64();
    else if (k === 0x1a) {
      const p = r.enter('LabelMatcher');
      let type = 0;
      let name = '';
      let value = '';
      while (r.pos < r.limit) {
        const mk = r.key();
        if (mk === 0x08) type = r.u32() | 0;
        else if (mk === 0x12) name = str(r, 'a matcher name');
        else if (mk === 0x1a) value = str(r, 'a matcher value');
        else r.skip(mk & 7);
      }
      r.leave(p, 'Query');
      const t = MATCH_TYPES[type];
      if (t === undefined) r.fail(`unknown matcher type ${type}`);
      else q.matchers.push({ type: t, name, value });
    } else r.skip(k & 7);
  }
  r.leave(prev, 'ReadRequest');
  return q;
}

/** A float histogram (the querier's form) as a remote-write float Histogram. */
function histogramObject(t: number, h: FloatHistogram): HistogramObject {
  return {
    countFloat: h.count,
    sum: h.sum,
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCountFloat: h.zeroCount,
    negativeSpans: h.negativeSpans.map((s) => ({ offset: s.offset, length: s.length })),
    negativeCounts: h.negativeBuckets,
    positiveSpans: h.positiveSpans.map((s) => ({ offset: s.offset, length: s.length })),
    positiveCounts: h.positiveBuckets,
    resetHint: h.counterResetHint,
    timestamp: t,
    ...(h.customValues.length > 0 ? { customValues: h.customValues } : {}),
  };
}

export interface RemoteReadDeps {
  querier: Querier;
  prefix: string;
  tenancy: TenancyOptions;
  log: Logger;
}

/** Registers POST <prefix>/api/v1/read. */
export function registerRemoteRead(http: HttpServer, d: RemoteReadDeps): void {
  http.route(['POST'], `${d.prefix}/api/v1/read`, (req, res, ctx) => serveRead(d, req, res, ctx));
}

async function serveRead(d: RemoteReadDeps, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  req.on('error', () => undefined);
  try {
    const tenant = tenantFromHeaders(req.headersDistinct, d.tenancy);
    d.querier.checkRunning();
    const body = uncompress(await readBody(req, REMOTE_READ_MAX_REQUEST_BYTES, ctx.signal), REMOTE_READ_MAX_REQUEST_BYTES);
    const rr = decodeReadRequest(body);
    if (rr.acceptedResponseTypes.length > 0 && !rr.acceptedResponseTypes.includes(0)) {
      throw new MuninnError('bad_data', `server does not support any of the requested response types: ${JSON.stringify(rr.acceptedResponseTypes)}; only SAMPLES (0)`);
    }
    const maxSamples = d.querier.config.maxSamples;
    let samples = 0;
    const qs = new QuerySignal(ctx.signal, d.querier.config.timeout, 'remote read');
    const response = new Writer(); // ReadResponse: one QueryResult per query
    try {
      for (const q of rr.queries) {
        if (q.matchers.length === 0) throw new MuninnError('bad_data', 'a remote-read query needs at least one matcher');
        const series = await d.querier.ingesters.select(tenant, q.matchers, q.startMs, q.endMs, qs.signal);
        const out: SeriesObject[] = [];
        for (const s of series) {
          samples += s.t.length + s.histograms.length;
          if (samples > maxSamples) throw new MuninnError('bad_data', `exceeded sample limit (${maxSamples}, -querier.max-samples)`);
          const so: SeriesObject = { labels: [...s.labels], samples: [] };
          for (let i = 0; i < s.t.length; i++) {
            const v = s.v[i]!;
            // NaNs go as their bits: the stale marker must stay a stale marker
            so.samples!.push({ timestamp: s.t[i]!, value: Number.isNaN(v) ? valueBits(s.v, i) : v });
          }
          if (s.histograms.length > 0) so.histograms = s.histograms.map((p) => histogramObject(p.t, p.h));
          out.push(so);
        }
        // a QueryResult is laid out as a WriteRequest holding only its series (field 1)
        response.bytes(1, encodeWriteRequest({ series: out }));
      }
    } catch (e) {
      throw qs.translate(e);
    } finally {
      qs.done();
    }
    const payload = compressSync(Buffer.from(response.finish()));
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/x-protobuf');
    res.setHeader('Content-Encoding', 'snappy');
    res.setHeader('Content-Length', payload.length);
    res.end(payload);
  } catch (e) {
    const status = e instanceof MuninnError ? e.httpStatus : 500;
    if (status >= 500 && !(e instanceof MuninnError)) ctx.log.error({ err: e, path: ctx.url.pathname }, 'remote read failed');
    sendText(res, status, `${e instanceof Error ? e.message : String(e)}\n`);
  }
}
