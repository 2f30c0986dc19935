// The gRPC server (@grpc/grpc-js) with Mimir's keepalive and size flags wired to grpc-js options,
// the standard health service, per-call metrics, and a bounded graceful shutdown: tryShutdown()
// (GOAWAY, existing calls finish) and, past the deadline, forceShutdown() with a count of cut calls.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from '../log/index.js';
import type { RequestMetrics } from '../metrics/index.js';
import { timerDelay } from '../util/duration.js';
import type { ServerConfig } from './config.js';
import type { CloseResult } from './http.js';

/** grpc-js server options for the server config; limits that are infinite are left unset. */
export function grpcServerOptions(cfg: ServerConfig): grpc.ServerOptions {
  const o: grpc.ServerOptions = {
    'grpc.max_receive_message_length': cfg.grpcMaxRecvMsgSize,
    'grpc.max_send_message_length': cfg.grpcMaxSendMsgSize,
    'grpc.max_concurrent_streams': cfg.grpcMaxConcurrentStreams,
  };
  const set = (key: keyof grpc.ServerOptions, ms: number): void => {
    const d = timerDelay(ms);
    if (d !== undefined) (o as Record<string, number>)[key] = Math.max(1, Math.round(d));
  };
  set('grpc.max_connection_idle_ms', cfg.grpcMaxConnectionIdle);
  set('grpc.max_connection_age_ms', cfg.grpcMaxConnectionAge);
  set('grpc.max_connection_age_grace_ms', cfg.grpcMaxConnectionAgeGrace);
  set('grpc.keepalive_time_ms', cfg.grpcKeepaliveTime);
  set('grpc.keepalive_timeout_ms', cfg.grpcKeepaliveTimeout);
  return o;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

export class GrpcServer {
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  private readonly cfg: ServerConfig;
  private readonly log: Logger;
  private readonly metrics: RequestMetrics;
  private inflight = 0;
  private port = 0;
  private shutdownResult: Promise<CloseResult> | undefined;

  constructor(cfg: ServerConfig, log: Logger, metrics: RequestMetrics) {
    this.cfg = cfg;
    this.log = log;
    this.metrics = metrics;
    this.server = new grpc.Server(grpcServerOptions(cfg));
    this.health = new HealthImplementation({ '': 'NOT_SERVING' });
    this.health.addToServer(this.server);
  }

  /** Adds a service whose handlers are counted and timed like Mimir's (route = full method path). */
  addService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
    const wrapped: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(def)) {
      const h = impl[name];
      if (h === undefined) throw new Error(`gRPC service: no handler for ${method.path}`);
      wrapped[name] = this.instrument(method.path, method.requestStream, method.responseStream, h);
    }
    this.server.addService(def, wrapped);
  }

  setServing(status: ServingStatus): void {
    this.health.setStatus('', status);
  }

  async listen(): Promise<void> {
    const host = this.cfg.grpcListenAddress === '' ? '0.0.0.0' : this.cfg.grpcListenAddress;
    const target = host.includes(':') ? `[${host}]:${this.cfg.grpcListenPort}` : `${host}:${this.cfg.grpcListenPort}`;
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  boundPort(): number {
    return this.port;
  }

  inflightCalls(): number {
    return this.inflight;
  }

  /** GOAWAY to every client; waits for running calls up to timeoutMs, then cuts them. Idempotent. */
  shutdown(timeoutMs: number): Promise<CloseResult> {
    this.shutdownResult ??= new Promise<CloseResult>((resolve) => {
      let settled = false;
      const t = setTimeout(() => {
        if (settled) return;
        settled = true;
        const cut = this.inflight;
        if (cut > 0) this.log.warn({ cut }, 'gRPC calls still running at the graceful shutdown deadline; cutting them');
        this.server.forceShutdown();
        resolve({ cut });
      }, timerDelay(timeoutMs) ?? 2_147_483_647);
      t.unref();
      this.server.tryShutdown(() => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        resolve({ cut: 0 });
      });
    });
    return this.shutdownResult;
  }

  private instrument(path: string, reqStream: boolean, resStream: boolean, h: grpc.UntypedHandleCall): grpc.UntypedHandleCall {
    const self = this;
    const begin = (call: AnyCall): ((err: unknown) => void) => {
      const start = process.hrtime.bigint();
      self.inflight++;
      self.metrics.inflight.inc({ method: 'gRPC', route: path });
      let done = false;
      const end = (err: unknown): void => {
        if (done) return;
        done = true;
        self.inflight--;
        self.metrics.inflight.dec({ method: 'gRPC', route: path });
        const code = (err as { code?: number } | null | undefined)?.code;
        const status = err === null || err === undefined ? 'success' : code === grpc.status.CANCELLED ? 'cancel' : 'error';
        self.metrics.duration.observe({ method: 'gRPC', route: path, status_code: status, ws: 'false' }, Number(process.hrtime.bigint() - start) / 1e9);
      };
      (call as grpc.ServerUnaryCall<unknown, unknown>).once('cancelled', () => end({ code: grpc.status.CANCELLED }));
      return end;
    };
    if (!resStream) {
      // unary and client streaming: the callback ends the call
      return ((call: AnyCall, callback: grpc.sendUnaryData<unknown>) => {
        const end = begin(call);
        const cb: grpc.sendUnaryData<unknown> = (err, value, trailer, flags) => {
          end(err);
          callback(err, value, trailer, flags);
        };
        return (h as (c: AnyCall, cb: grpc.sendUnaryData<unknown>) => void)(call, cb);
      }) as grpc.UntypedHandleCall;
    }
    void reqStream;
    return ((call: grpc.ServerWritableStream<unknown, unknown>) => {
      const end = begin(call);
      call.once('finish', () => end(null));
      call.once('error', (e: unknown) => end(e));
      call.once('close', () => end(null));
      return (h as (c: AnyCall) => void)(call);
    }) as grpc.UntypedHandleCall;
  }
}
