// The Muninn process: servers, module registry and the shutdown sequence (DESIGN.md rule 2):
//   a. not ready: /ready 503, gRPC health NOT_SERVING, HTTP responses carry Connection: close
//   b. -shutdown-delay of normal service; meanwhile the modules' first steps (an ingester goes
//      LEAVING in the ring)
//   c. listeners closed (HTTP close, gRPC GOAWAY), in-flight work drained within
//      -server.graceful-shutdown-timeout, then cut
//   d. modules stopped in reverse dependency order
//   e. done: exit code 0, or 1 if a module failed
// Each step is logged with its duration and shown by the muninn_shutdown_phase gauge.
import { BasicService, Manager, ModuleRegistry, type ModuleService, State } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import { createRegistry, Gauge, type Registry, RequestMetrics } from '../metrics/index.js';
import { GrpcServer } from '../server/grpc.js';
import { HttpServer } from '../server/http.js';
import { sleep } from '../lifecycle/index.js';
import type { MuninnConfig } from './config.js';
import { type ModuleContext, registerComponentModules, SERVER_MODULE } from './modules.js';
import { KVProvider } from '../ring/index.js';
import { registerStatusRoutes } from './status-routes.js';

/** Bound on the modules' shutdown hooks (the time a KV write may take). */
const SHUTDOWN_HOOK_TIMEOUT_MS = 5_000;
/** Least time between the hooks' end and the drain, for their effects to reach other processes. */
const HOOK_SETTLE_MS = 300;

export const PHASES = ['starting', 'serving', 'delay', 'draining', 'stopping', 'stopped'] as const;
export type Phase = (typeof PHASES)[number];

export interface AppOptions {
  config: MuninnConfig;
  log: Logger;
  registry?: Registry;
}

export interface ShutdownOptions {
  /** Skip -shutdown-delay (start-up failures: nobody is routed here yet). */
  skipDelay?: boolean;
}

export class App implements ModuleContext {
  readonly config: MuninnConfig;
  readonly log: Logger;
  readonly registry: Registry;
  readonly http: HttpServer;
  readonly grpc: GrpcServer;
  readonly modules = new ModuleRegistry();
  readonly kv: KVProvider;
  ingester?: ModuleContext['ingester'];
  ingesterModule?: ModuleContext['ingesterModule'];
  overrides?: ModuleContext['overrides'];
  ingesterRing?: ModuleContext['ingesterRing'];
  distributorRing?: ModuleContext['distributorRing'];
  distributor?: ModuleContext['distributor'];
  private manager: Manager | undefined;
  private readonly shutdownHooks: Array<(signal: AbortSignal) => Promise<void>> = [];
  private services: ModuleService[] = [];
  private phase: Phase = 'starting';
  private readonly phaseGauge: Gauge<'phase'>;
  private shutdownPromise: Promise<void> | undefined;
  private failed = false;
  private stoppedResolve!: () => void;
  private readonly stopped = new Promise<void>((r) => (this.stoppedResolve = r));

  constructor(opts: AppOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.registry = opts.registry ?? createRegistry();
    this.kv = new KVProvider(this.log.child({ component: 'kv' }));
    const requestMetrics = new RequestMetrics(this.registry);
    const s = this.config.server;
    this.http = new HttpServer({
      listenAddress: s.httpListenAddress,
      listenPort: s.httpListenPort,
      readTimeoutMs: s.httpReadTimeout,
      writeTimeoutMs: s.httpWriteTimeout,
      idleTimeoutMs: s.httpIdleTimeout,
    }, this.log.child({ component: 'http' }), requestMetrics);
    this.grpc = new GrpcServer(s, this.log.child({ component: 'grpc' }), requestMetrics);
    this.phaseGauge = new Gauge({
      name: 'muninn_shutdown_phase',
      help: 'The lifecycle phase of the process: 1 for the current phase, 0 for the others.',
      labelNames: ['phase'],
      registers: [this.registry],
    });
    this.setPhase('starting');

    this.modules.register(SERVER_MODULE, () => new BasicService(SERVER_MODULE, {
      starting: async () => {
        await this.http.listen();
        await this.grpc.listen();
      },
      stopping: async () => {
        // normally already done by the shutdown sequence; here for failures and direct stops
        const t = this.config.server.gracefulShutdownTimeout;
        await Promise.all([this.http.close(t), this.grpc.shutdown(t)]);
      },
    }), [], { userVisible: false });
    registerComponentModules(this);
    registerStatusRoutes(this.http, this.registry, this.config, {
      readiness: () => this.readiness(),
      moduleStates: () => this.services.map((m) => ({ name: m.name, state: m.state() })),
    });
  }

  onShutdownStart(hook: (signal: AbortSignal) => Promise<void>): void {
    this.shutdownHooks.push(hook);
  }

  currentPhase(): Phase {
    return this.phase;
  }

  readiness(): { ready: boolean; reason: string } {
    if (this.phase !== 'serving') {
      return { ready: false, reason: this.phase === 'starting' ? 'Muninn is starting' : 'Muninn is shutting down' };
    }
    const notRunning = this.services.filter((s) => s.state() !== State.Running);
    if (notRunning.length > 0) {
      return { ready: false, reason: `Some services are not Running: ${notRunning.map((s) => `${s.name}: ${s.state()}`).join(', ')}` };
    }
    return { ready: true, reason: '' };
  }

  /**
   * Starts every module the targets need and serves until shutdown() or a module failure.
   * Resolves with the exit code once everything has stopped.
   */
  async run(): Promise<number> {
    try {
      await this.start();
    } catch (e) {
      if (this.shutdownPromise === undefined) {
        this.failed = true;
        const failedSvc = this.services.find((s) => s.state() === State.Failed);
        this.log.error({ module: failedSvc?.name, err: errInfo(failedSvc?.failureCase() ?? e) },
          `module ${failedSvc?.name ?? '(init)'} failed to start: ${errMsg(failedSvc?.failureCase() ?? e)}`);
        void this.shutdown('start-up failure', { skipDelay: true });
      }
    }
    await this.stopped;
    return this.failed ? 1 : 0;
  }

  private async start(): Promise<void> {
    const t0 = Date.now();
    this.services = await this.modules.initServices(this.config.root.target);
    const manager = new Manager(this.services);
    this.manager = manager;
    manager.onFailure((svc, err) => {
      if (this.phase === 'starting') return; // run() reports start-up failures
      this.failed = true;
      this.log.error({ module: svc.name, err: errInfo(err) }, `module ${svc.name} failed: ${err.message}`);
      void this.shutdown(`module ${svc.name} failed`);
    });
    if (this.shutdownPromise !== undefined) return;
    manager.startAsync();
    await manager.awaitHealthy();
    if (this.shutdownPromise !== undefined) return;
    this.setPhase('serving');
    this.grpc.setServing('SERVING');
    const h = this.http.address();
    this.log.info({
      durationMs: Date.now() - t0,
      modules: this.services.map((s) => s.name),
      http: `${h.address}:${h.port}`,
      grpcPort: this.grpc.boundPort(),
    }, 'Muninn started');
  }

  /** Runs the shutdown sequence once; later calls join it. */
  shutdown(reason: string, opts: ShutdownOptions = {}): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(reason, opts);
    return this.shutdownPromise;
  }

  private async doShutdown(reason: string, opts: ShutdownOptions): Promise<void> {
    const begin = Date.now();
    const log = this.log.child({ component: 'shutdown' });
    const wasServing = this.phase === 'serving';
    log.info({ reason }, 'shutdown: started');

    // a. not ready
    this.setPhase('delay');
    this.grpc.setServing('NOT_SERVING');
    this.http.setDraining();
    log.info({ step: 'not-ready', durationMs: Date.now() - begin }, 'shutdown: reporting not ready');
    // modules' first steps, while the process still serves (an ingester goes LEAVING so that
    // distributors stop writing to it before its listener closes); bounded, never failing the
    // shutdown; the drain waits for them and for the change to reach the other processes
    let hooksDone = 0;
    const hooks = this.shutdownHooks.length === 0
      ? null
      : Promise.allSettled(this.shutdownHooks.map(async (h) => h(AbortSignal.timeout(SHUTDOWN_HOOK_TIMEOUT_MS)))).then((rs) => {
        hooksDone = Date.now();
        for (const r of rs) if (r.status === 'rejected') log.warn({ err: r.reason }, 'shutdown hook failed');
        log.info({ step: 'hooks', durationMs: hooksDone - begin }, 'shutdown: modules\' first steps done');
      });

    // b. shutdown delay, serving normally
    const delay = this.config.root.shutdownDelay;
    if (delay > 0 && wasServing && opts.skipDelay !== true) {
      const t = Date.now();
      await sleep(delay);
      log.info({ step: 'delay', durationMs: Date.now() - t }, 'shutdown: delay over');
    }
    if (hooks !== null) {
      await hooks;
      // other processes learn of ring changes through their watches, within milliseconds
      const settle = hooksDone + HOOK_SETTLE_MS - Date.now();
      if (settle > 0) await sleep(settle);
    }

    // c. stop accepting and drain
    this.setPhase('draining');
    const tc = Date.now();
    const timeout = this.config.server.gracefulShutdownTimeout;
    const inflight = { http: this.http.inflightRequests(), grpc: this.grpc.inflightCalls() };
    const [h, g] = await Promise.all([this.http.close(timeout), this.grpc.shutdown(timeout)]);
    log.info({ step: 'drain', durationMs: Date.now() - tc, inflightAtClose: inflight, httpCut: h.cut, grpcCut: g.cut },
      h.cut + g.cut > 0 ? 'shutdown: listeners closed; some in-flight requests were cut at the deadline' : 'shutdown: listeners closed, in-flight requests drained');

    // d. stop modules in reverse dependency order
    this.setPhase('stopping');
    const ts = Date.now();
    if (this.manager !== undefined) {
      this.manager.stopAsync();
      await this.manager.awaitStopped();
    }
    const failures = this.services.filter((s) => s.state() === State.Failed);
    for (const f of failures) {
      this.failed = true;
      log.error({ module: f.name, err: errInfo(f.failureCase()) }, `module ${f.name} failed: ${errMsg(f.failureCase())}`);
    }
    log.info({ step: 'stop-modules', durationMs: Date.now() - ts }, 'shutdown: modules stopped');
    // the rings' store connections go last: lifecyclers unregister through them while stopping
    await this.kv.close();

    // e. done
    this.setPhase('stopped');
    log.info({ durationMs: Date.now() - begin, failed: this.failed }, 'shutdown: complete');
    this.stoppedResolve();
  }

  private setPhase(p: Phase): void {
    this.phase = p;
    for (const q of PHASES) this.phaseGauge.set({ phase: q }, q === p ? 1 : 0);
  }
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function errInfo(e: unknown): { message: string; stack?: string } {
  if (e instanceof Error) return e.stack === undefined ? { message: e.message } : { message: e.message, stack: e.stack };
  return { message: String(e) };
}
