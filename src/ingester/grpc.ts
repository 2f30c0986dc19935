// The ingester over gRPC: the service definition (proto/muninn/ingester.proto, with Push taking
// raw WriteRequest bytes), the server handlers, and a client implementing IngesterApi.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { grpcStatusOf, MuninnError, type ErrorCode } from '../errors/index.js';
import type { MetricMetadata } from './metadata.js';
import type {
  IngesterApi, MatcherSpec, PushResult, QueryParams, StreamSeries, TimeRange, UserStats,
} from './api.js';

export const TENANT_METADATA_KEY = 'x-scope-orgid';
const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

let cached: grpc.ServiceDefinition | undefined;

/** The Ingester service definition; Push passes its message through as bytes. */
export function ingesterServiceDefinition(): grpc.ServiceDefinition {
  if (cached !== undefined) return cached;
  const pkg = protoLoader.loadSync('muninn/ingester.proto', {
    includeDirs: [PROTO_ROOT, `${PROTO_ROOT}/prometheus`],
    longs: Number,
    enums: String,
    defaults: true,
    keepCase: false,
  });
  const def = { ...(pkg['muninn.ingester.v1.Ingester'] as grpc.ServiceDefinition) };
  const push = def.Push as grpc.MethodDefinition<unknown, unknown>;
  def.Push = {
    ...push,
    requestSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    requestDeserialize: (b: Buffer) => b,
  } as grpc.MethodDefinition<unknown, unknown>;
  cached = def;
  return def;
}

const MATCH_TYPES: Record<string, MatcherSpec['type']> = { EQ: '=', NEQ: '!=', RE: '=~', NRE: '!~' };
const MATCH_NAMES: Record<MatcherSpec['type'], string> = { '=': 'EQ', '!=': 'NEQ', '=~': 'RE', '!~': 'NRE' };

interface WireMatcher {
  type: string;
  name: string;
  value: string;
}
interface WireLabel {
  name: string;
  value: string;
}
interface WireSeries {
  labels: WireLabel[];
  chunks: Array<{ startTimestampMs: number; endTimestampMs: number; encoding: number; data: Buffer }>;
  sampleTimestamps: Buffer;
  sampleValues: Buffer;
  hasSamples: boolean;
  histograms: unknown[];
}

function fromWireMatchers(ms: WireMatcher[] | undefined): MatcherSpec[] {
  return (ms ?? []).map((m) => {
    const type = MATCH_TYPES[m.type];
    if (type === undefined) throw new MuninnError('bad_data', `unknown matcher type ${m.type}`);
    return { type, name: m.name, value: m.value };
  });
}

function toWireMatchers(ms: MatcherSpec[]): WireMatcher[] {
  return ms.map((m) => ({ type: MATCH_NAMES[m.type], name: m.name, value: m.value }));
}

function toWireLabels(flat: string[]): WireLabel[] {
  const out: WireLabel[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ name: flat[i] as string, value: flat[i + 1] as string });
  return out;
}

// Float64Arrays go over the wire as their raw bytes (little-endian hosts, as every platform Node
// supports here): copying bytes, never numbers, keeps NaN payloads such as the stale marker.
function f64Bytes(a: Float64Array): Buffer {
  return Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function bytesF64(b: Buffer): Float64Array {
  const out = new Float64Array(b.length >>> 3);
  // copy byte-wise through a Uint8Array view: bit-exact, alignment-independent
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 8));
  return out;
}

function toWireSeries(s: StreamSeries): WireSeries {
  return {
    labels: toWireLabels(s.labels),
    chunks: s.chunks.map((c) => ({ startTimestampMs: c.minT, endTimestampMs: c.maxT, encoding: c.encoding, data: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength) })),
    sampleTimestamps: s.samples === null ? Buffer.alloc(0) : f64Bytes(s.samples.t),
    sampleValues: s.samples === null ? Buffer.alloc(0) : f64Bytes(s.samples.v),
    hasSamples: s.samples !== null,
    histograms: s.histograms.map((h) => ({ ...(h.h as object), timestamp: h.t })),
  };
}

function fromWireSeries(w: WireSeries): StreamSeries {
  const labels: string[] = [];
  for (const l of w.labels) labels.push(l.name, l.value);
  return {
    labels,
    chunks: w.chunks.map((c) => ({ minT: c.startTimestampMs, maxT: c.endTimestampMs, encoding: c.encoding, data: c.data })),
    samples: w.hasSamples ? { t: bytesF64(w.sampleTimestamps), v: bytesF64(w.sampleValues) } : null,
    histograms: w.histograms.map((h) => ({ t: Number((h as { timestamp?: number }).timestamp ?? 0), h })),
  };
}

function tenantOf(call: { metadata: grpc.Metadata }): string {
  const v = call.metadata.get(TENANT_METADATA_KEY)[0];
  if (v === undefined || v === '') throw new MuninnError('bad_data', 'no tenant ID in the call metadata (x-scope-orgid)');
  return String(v);
}

function toServiceError(e: unknown): Partial<grpc.ServiceError> {
  const details = e instanceof Error ? e.message : String(e);
  const md = new grpc.Metadata();
  if (e instanceof MuninnError) md.set('muninn-error-code', e.code);
  return { code: grpcStatusOf(e), details, metadata: md };
}

/** gRPC handlers over an IngesterApi (the local ingester). */
export function ingesterHandlers(api: IngesterApi): grpc.UntypedServiceImplementation {
  const unary = <Req, Res>(fn: (tenant: string, req: Req, signal: AbortSignal) => Promise<Res>): grpc.handleUnaryCall<Req, Res> => (call, cb) => {
    const ac = new AbortController();
    call.once('cancelled', () => ac.abort());
    let tenant: string;
    try {
      tenant = tenantOf(call);
    } catch (e) {
      cb(toServiceError(e));
      return;
    }
    fn(tenant, call.request, ac.signal).then((res) => cb(null, res), (e: unknown) => cb(toServiceError(e)));
  };
  return {
    Push: unary<Buffer, object>(async (tenant, body) => {
      await api.push(tenant, body);
      return {};
    }),
    QueryStream: ((call: grpc.ServerWritableStream<{ startTimestampMs: number; endTimestampMs: number; matchers: WireMatcher[]; samples: boolean }, unknown>) => {
      const ac = new AbortController();
      call.once('cancelled', () => ac.abort());
      void (async () => {
        try {
          const tenant = tenantOf(call);
          const r = call.request;
          const q: QueryParams = { mint: r.startTimestampMs, maxt: r.endTimestampMs, matchers: fromWireMatchers(r.matchers), samples: r.samples };
          for await (const batch of api.queryStream(tenant, q, ac.signal)) {
            if (ac.signal.aborted) return;
            const ok = call.write({ series: batch.map(toWireSeries) });
            if (!ok) await new Promise((resolve) => call.once('drain', resolve));
          }
          call.end();
        } catch (e) {
          // grpc-js sends a stream's status from its 'error' event (destroy() would send none)
          if (!ac.signal.aborted) call.emit('error', toServiceError(e));
        }
      })();
    }) as grpc.UntypedHandleCall,
    LabelNames: unary<{ startTimestampMs: number; endTimestampMs: number; matchers: WireMatcher[] }, object>(async (tenant, r) => ({
      labelNames: await api.labelNames(tenant, { mint: r.startTimestampMs, maxt: r.endTimestampMs, matchers: fromWireMatchers(r.matchers) }),
    })),
    LabelValues: unary<{ labelName: string; startTimestampMs: number; endTimestampMs: number; matchers: WireMatcher[] }, object>(async (tenant, r) => ({
      labelValues: await api.labelValues(tenant, r.labelName, { mint: r.startTimestampMs, maxt: r.endTimestampMs, matchers: fromWireMatchers(r.matchers) }),
    })),
    Series: unary<{ startTimestampMs: number; endTimestampMs: number; matcherSets: Array<{ matchers: WireMatcher[] }> }, object>(async (tenant, r) => ({
      series: (await api.series(tenant, { mint: r.startTimestampMs, maxt: r.endTimestampMs, matcherSets: r.matcherSets.map((s) => fromWireMatchers(s.matchers)) }))
        .map((flat) => ({ labels: toWireLabels(flat) })),
    })),
    UserStats: unary<object, object>(async (tenant) => {
      const s = await api.userStats(tenant);
      return { ingestionRate: s.ingestionRate, numSeries: s.numSeries, apiIngestionRate: s.ingestionRate, ruleIngestionRate: 0 };
    }),
    MetricsMetadata: unary<object, object>(async (tenant, _r, signal) => ({ metadata: await api.metricsMetadata(tenant, signal) })),
  };
}

const CODE_OF_STATUS: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'bad_data',
  [grpc.status.UNAVAILABLE]: 'unavailable',
  [grpc.status.DEADLINE_EXCEEDED]: 'timeout',
  [grpc.status.CANCELLED]: 'canceled',
  [grpc.status.RESOURCE_EXHAUSTED]: 'too_many_requests',
  [grpc.status.NOT_FOUND]: 'not_found',
};

/** A client-side error back in our terms: the same code the server's error had. */
export function fromServiceError(e: grpc.ServiceError): MuninnError {
  const sent = e.metadata?.get('muninn-error-code')[0];
  const code = (typeof sent === 'string' ? sent : CODE_OF_STATUS[e.code]) as ErrorCode | undefined;
  return new MuninnError(code ?? 'internal', e.details || e.message, { cause: e });
}

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;
interface RawClient extends grpc.Client {
  Push(req: Uint8Array, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<object>): grpc.ClientUnaryCall;
  QueryStream(req: object, md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<{ series: WireSeries[] }>;
  LabelNames(req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ labelNames: string[] }>): grpc.ClientUnaryCall;
  LabelValues(req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ labelValues: string[] }>): grpc.ClientUnaryCall;
  Series(req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ series: Array<{ labels: WireLabel[] }> }>): grpc.ClientUnaryCall;
  UserStats(req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ ingestionRate: number; numSeries: number }>): grpc.ClientUnaryCall;
  MetricsMetadata(req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ metadata: MetricMetadata[] }>): grpc.ClientUnaryCall;
}

/** IngesterApi over gRPC to one ingester. */
export class IngesterClient implements IngesterApi {
  readonly address: string;
  private readonly client: RawClient;

  constructor(address: string, options: grpc.ClientOptions = {}) {
    this.address = address;
    const Ctor = grpc.makeGenericClientConstructor(ingesterServiceDefinition(), 'Ingester');
    this.client = new Ctor(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 100 * 1024 * 1024,
      'grpc.max_send_message_length': 100 * 1024 * 1024,
      ...options,
    }) as unknown as RawClient;
  }

  close(): void {
    this.client.close();
  }

  private md(tenant: string): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(TENANT_METADATA_KEY, tenant);
    return md;
  }

  private unary<T>(signal: AbortSignal | undefined, start: (cb: Callback<T>) => grpc.ClientUnaryCall): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(new MuninnError('canceled', 'request canceled'));
      const call = start((err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(fromServiceError(err));
        else resolve(res as T);
      });
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async push(tenant: string, body: Uint8Array, signal?: AbortSignal): Promise<PushResult> {
    await this.unary<object>(signal, (cb) => this.client.Push(body, this.md(tenant), {}, cb));
    return { accepted: -1 };
  }

  async *queryStream(tenant: string, q: QueryParams, signal?: AbortSignal): AsyncIterable<StreamSeries[]> {
    const stream = this.client.QueryStream({
      startTimestampMs: q.mint, endTimestampMs: q.maxt, matchers: toWireMatchers(q.matchers), samples: q.samples === true,
    }, this.md(tenant), {});
    const onAbort = (): void => stream.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const msg of stream as AsyncIterable<{ series: WireSeries[] }>) {
        yield msg.series.map(fromWireSeries);
      }
    } catch (e) {
      throw isServiceError(e) ? fromServiceError(e) : e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stream.cancel();
    }
  }

  async labelNames(tenant: string, q: TimeRange & { matchers: MatcherSpec[] }, signal?: AbortSignal): Promise<string[]> {
    const r = await this.unary<{ labelNames: string[] }>(signal, (cb) => this.client.LabelNames({ startTimestampMs: q.mint, endTimestampMs: q.maxt, matchers: toWireMatchers(q.matchers) }, this.md(tenant), {}, cb));
    return r.labelNames;
  }

  async labelValues(tenant: string, name: string, q: TimeRange & { matchers: MatcherSpec[] }, signal?: AbortSignal): Promise<string[]> {
    const r = await this.unary<{ labelValues: string[] }>(signal, (cb) => this.client.LabelValues({ labelName: name, startTimestampMs: q.mint, endTimestampMs: q.maxt, matchers: toWireMatchers(q.matchers) }, this.md(tenant), {}, cb));
    return r.labelValues;
  }

  async series(tenant: string, q: TimeRange & { matcherSets: MatcherSpec[][] }, signal?: AbortSignal): Promise<string[][]> {
    const r = await this.unary<{ series: Array<{ labels: WireLabel[] }> }>(signal, (cb) => this.client.Series({
      startTimestampMs: q.mint, endTimestampMs: q.maxt, matcherSets: q.matcherSets.map((m) => ({ matchers: toWireMatchers(m) })),
    }, this.md(tenant), {}, cb));
    return r.series.map((s) => s.labels.flatMap((l) => [l.name, l.value]));
  }

  async userStats(tenant: string, signal?: AbortSignal): Promise<UserStats> {
    const r = await this.unary<{ ingestionRate: number; numSeries: number }>(signal, (cb) => this.client.UserStats({}, this.md(tenant), {}, cb));
    return { ingestionRate: r.ingestionRate, numSeries: Number(r.numSeries) };
  }
  async metricsMetadata(tenant: string, signal?: AbortSignal): Promise<MetricMetadata[]> {
    const r = await this.unary<{ metadata: MetricMetadata[] }>(signal, (cb) => this.client.MetricsMetadata({}, this.md(tenant), {}, cb));
    return r.metadata.map((m) => ({ metric: m.metric, type: m.type, help: m.help, unit: m.unit }));
  }

}

function isServiceError(e: unknown): e is grpc.ServiceError {
  return typeof e === 'object' && e !== null && 'code' in e && 'details' in e;
}
