// The modules -target can name, with their dependencies (Mimir's module graph, reduced):
//
//   server              HTTP and gRPC servers (internal)
//   runtime-config      per-tenant overrides from -runtime-config.file (internal)
//   ingester-ring       watcher of the ingesters' ring, /ingester/ring (internal)
//   distributor-ring    this distributor's membership of the distributors' ring and its watcher,
//                       /distributor/ring (internal)
//   ingester            Ingester + ring lifecycler, gRPC Ingester service, /ingester/* pages
//   distributor         POST /api/v1/push, fan-out to the ingesters through the ring
//   querier             the Prometheus HTTP query API under -http.prometheus-http-prefix, PromQL
//                       over every ingester that may hold the tenant's series
//   continuous-test     writes synthetic series and checks them back (Mimir's continuous test)
//   all                 ingester, distributor, querier
import { CONTINUOUS_TEST_MODULE, ContinuousTest, registerContinuousTestRoutes } from '../continuoustest/index.js';
import { Distributor, registerPushRoute } from '../distributor/index.js';
import { DISTRIBUTOR_RING_KEY } from '../distributor/ring-config.js';
import { Ingester, IngesterClientPool, ingesterHandlers, ingesterServiceDefinition, registerIngesterRoutes } from '../ingester/index.js';
import { BasicService, type ModuleRegistry } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { Registry } from '../metrics/index.js';
import {
  ingesterRingKey, KVProvider, Lifecycler, lifecyclerOptionsFromConfig, registerRingPage, resolveInstanceAddr, resolveInstanceId,
  ringOptionsFromConfig, RingWatcher,
} from '../ring/index.js';
import type { GrpcServer } from '../server/grpc.js';
import type { HttpServer } from '../server/http.js';
import { Querier, registerQueryApi, registerRemoteRead } from '../querier/index.js';
import { Overrides, registerRuntimeConfigRoutes, RuntimeConfigService } from '../runtimeconfig/index.js';
import { buildInfo } from './build-info.js';
import type { MuninnConfig } from './config.js';
import { IngesterModule } from './ingester-module.js';

export const SERVER_MODULE = 'server';
const RUNTIME_CONFIG = 'runtime-config';
const INGESTER_RING = 'ingester-ring';
const DISTRIBUTOR_RING = 'distributor-ring';

/** What module init functions get from the process. */
export interface ModuleContext {
  readonly config: MuninnConfig;
  readonly log: Logger;
  readonly registry: Registry;
  readonly http: HttpServer;
  readonly grpc: GrpcServer;
  readonly modules: ModuleRegistry;
  /** KV clients of the rings; closed by the process after every module stopped. */
  readonly kv: KVProvider;
  shutdown(reason: string): void;
  /**
   * Runs hook at the start of the shutdown sequence, while the process still serves; the drain
   * waits for it (bounded) and a little longer. For steps that must come before the listeners close.
   */
  onShutdownStart(hook: (signal: AbortSignal) => Promise<void>): void;
  /** The ingester of this process, once its module is initialised. */
  ingester?: Ingester;
  /** The ingester module (ingester + lifecycler), once initialised. */
  ingesterModule?: IngesterModule;
  /** Per-tenant limits, once the runtime-config module is initialised. */
  overrides?: Overrides;
  ingesterRing?: RingWatcher;
  distributorRing?: RingWatcher;
  distributor?: Distributor;
}

function required<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} is not initialised`);
  return v;
}

/** A client pool to the ingesters of the ring, calling this process's ingester in-process. */
function ingesterClients(ctx: ModuleContext, ringW: RingWatcher, onUseAfterClose?: () => void): IngesterClientPool {
  const clients = new IngesterClientPool({
    log: ctx.log,
    ...(onUseAfterClose !== undefined ? { onUseAfterClose } : {}),
    local: () => {
      const lc = ctx.ingesterModule?.ringLifecycler();
      return lc !== undefined && ctx.ingester !== undefined ? { addr: lc.addr, api: ctx.ingester } : undefined;
    },
  });
  // keep the clients of ACTIVE and LEAVING ingesters only: one that restarts at the same address
  // passes through PENDING/JOINING, so its client (and the connection backoff it may carry) is
  // replaced by a fresh one
  ringW.onChange((ring) => clients.retain(new Set(ring.instances.filter((i) => i.state === 'ACTIVE' || i.state === 'LEAVING').map((i) => i.addr))));
  return clients;
}

/**
 * What a Go program does on a send to a closed channel: the whole process dies (exit code 2), here
 * with a fatal log line. Only the debug flag that reproduces Mimir 2.13's shutdown order uses it.
 */
function goPanic(ctx: ModuleContext, what: string): never {
  ctx.log.fatal({ panic: what }, `panic: ${what}`);
  process.exit(2);
}

export function registerComponentModules(ctx: ModuleContext): void {
  const reg = ctx.modules;
  const cfg = ctx.config;

  reg.register(RUNTIME_CONFIG, () => {
    const svc = new RuntimeConfigService({ config: cfg.runtimeConfig, defaults: { validation: cfg.validation, limits: cfg.limits, querier: cfg.querier }, log: ctx.log, registry: ctx.registry });
    ctx.overrides = svc.overrides;
    registerRuntimeConfigRoutes(ctx.http, svc);
    return svc;
  }, [SERVER_MODULE], { userVisible: false });

  reg.register(INGESTER_RING, () => {
    const kv = ctx.kv.get(cfg.ingesterRing);
    const w = new RingWatcher({ kv, ringKey: ingesterRingKey(cfg.ingesterRing), ring: ringOptionsFromConfig(cfg.ingesterRing), log: ctx.log, name: 'ingester-ring' });
    ctx.ingesterRing = w;
    registerRingPage(ctx.http, '/ingester/ring', w, kv);
    return w;
  }, [SERVER_MODULE], { userVisible: false });

  reg.register(DISTRIBUTOR_RING, () => {
    const rc = cfg.distributorRing;
    const kv = ctx.kv.get(rc);
    const key = `${rc.prefix}${DISTRIBUTOR_RING_KEY}`;
    const w = new RingWatcher({ kv, ringKey: key, ring: { replicationFactor: 1, heartbeatTimeoutMs: rc.heartbeatTimeout }, log: ctx.log, name: 'distributor-ring-watcher' });
    ctx.distributorRing = w;
    registerRingPage(ctx.http, '/distributor/ring', w, kv);
    let lc: Lifecycler | undefined;
    return new BasicService(DISTRIBUTOR_RING, {
      starting: async (signal) => {
        const ringCfg = { ...cfg.ingesterRing, instanceAddr: rc.instanceAddr, instancePort: rc.instancePort };
        lc = new Lifecycler({
          kv,
          ringKey: key,
          instanceId: rc.instanceId !== '' ? rc.instanceId : resolveInstanceId({ ...cfg.ingesterRing, instanceId: '' }),
          addr: resolveInstanceAddr(ringCfg, ctx.grpc.boundPort()),
          numTokens: 1,
          heartbeatPeriodMs: rc.heartbeatPeriod,
          unregisterOnShutdown: true,
          log: ctx.log,
          name: 'distributor-lifecycler',
        });
        lc.startAsync();
        await lc.awaitRunning(signal);
        w.startAsync();
        await w.awaitRunning(signal);
      },
      stopping: async () => {
        w.stopAsync();
        if (lc !== undefined) lc.stopAsync();
        await Promise.allSettled([w.awaitTerminated(), lc?.awaitTerminated()]);
      },
    });
  }, [SERVER_MODULE], { userVisible: false });

  reg.register('ingester', () => {
    const ringW = required(ctx.ingesterRing, 'the ingesters\' ring');
    const overrides = required(ctx.overrides, 'the runtime config');
    const ing = new Ingester({
      tsdb: cfg.tsdb,
      ingester: cfg.ingester,
      limits: cfg.limits,
      log: ctx.log,
      registry: ctx.registry,
      tenantLimits: (t) => overrides.tenantLimitsPartial(t),
      ringInfo: () => ({ healthyIngesters: ringW.ring().healthyInstanceCount(), replicationFactor: cfg.ingesterRing.replicationFactor }),
    });
    const mod = new IngesterModule(ing, () => new Lifecycler(lifecyclerOptionsFromConfig(cfg.ingesterRing, {
      kv: ctx.kv.get(cfg.ingesterRing),
      grpcPort: ctx.grpc.boundPort(),
      log: ctx.log,
    })));
    ctx.ingester = ing;
    ctx.ingesterModule = mod;
    if (cfg.ingester.debugAckBeforeWalWrite > 0) ctx.log.warn(`-debug.ingester.ack-before-wal-write=${cfg.ingester.debugAckBeforeWalWrite}ms is set: pushes are acknowledged before their WAL write, so a crash loses acknowledged samples, on purpose; never use it in production`);
    // LEAVING before the gRPC listener closes, so distributors in other processes move away first
    // (Mimir's ingesters go LEAVING while their server still serves). With the in-memory ring the
    // only writer is this process's distributor, whose ingress is about to close anyway.
    if (cfg.ingesterRing.store !== 'inmemory') ctx.onShutdownStart(async (signal) => mod.ringLifecycler()?.markLeaving(signal));
    ctx.grpc.addService(ingesterServiceDefinition(), ingesterHandlers(ing));
    registerIngesterRoutes(ctx.http, ing, (reason) => ctx.shutdown(reason));
    return mod;
  }, [SERVER_MODULE, RUNTIME_CONFIG, INGESTER_RING]);

  reg.register('distributor', () => {
    const ringW = required(ctx.ingesterRing, 'the ingesters\' ring');
    const distW = required(ctx.distributorRing, 'the distributors\' ring');
    const overrides = required(ctx.overrides, 'the runtime config');
    const unsafeOrder = cfg.distributor.debugClosePushPoolFirst;
    // -debug.distributor.close-push-pool-first: Mimir 2.13's bug, on purpose (see its help)
    const clients = ingesterClients(ctx, ringW, unsafeOrder ? () => goPanic(ctx, 'send on closed channel (the distributor\'s ingester push pool was closed at SIGTERM: -debug.distributor.close-push-pool-first)') : undefined);
    if (unsafeOrder) {
      ctx.log.warn('-debug.distributor.close-push-pool-first is set: a push arriving after SIGTERM crashes this distributor, on purpose; never use it in production');
      ctx.onShutdownStart(async () => clients.close());
    }
    const d = new Distributor({
      config: cfg.distributor,
      limits: (t) => {
        const v = overrides.validation(t);
        return { ...v, outOfOrderTimeWindow: overrides.ingesterLimits(t).outOfOrderTimeWindow };
      },
      ring: () => ringW.ring(),
      healthyDistributors: () => distW.ring().healthyInstanceCount(),
      clients,
      log: ctx.log,
      registry: ctx.registry,
    });
    d.metrics.replicationFactor.set(cfg.ingesterRing.replicationFactor);
    ctx.distributor = d;
    registerPushRoute(ctx.http, d, {
      maxRecvMsgSize: cfg.distributor.maxRecvMsgSize,
      tenancy: { multitenancyEnabled: cfg.distributor.multitenancyEnabled, noAuthTenant: cfg.distributor.noAuthTenant },
      log: ctx.log.child({ component: 'push' }),
    });
    return d;
  }, [SERVER_MODULE, RUNTIME_CONFIG, INGESTER_RING, DISTRIBUTOR_RING]);

  reg.register('querier', () => {
    const ringW = required(ctx.ingesterRing, 'the ingesters\' ring');
    const overrides = required(ctx.overrides, 'the runtime config');
    const clients = ingesterClients(ctx, ringW);
    const q = new Querier({ config: cfg.querier, ring: () => ringW.ring(), clients, log: ctx.log, onStop: () => clients.close(), tenantLimits: (t) => overrides.querierLimits(t) });
    registerQueryApi(ctx.http, {
      querier: q,
      prefix: cfg.querier.prometheusHttpPrefix,
      tenancy: { multitenancyEnabled: cfg.distributor.multitenancyEnabled, noAuthTenant: cfg.distributor.noAuthTenant },
      buildInfo: () => {
        const b = buildInfo();
        return { application: 'Muninn', version: b.version, revision: b.revision, branch: b.branch, buildUser: b.buildUser, buildDate: b.buildDate, goVersion: `node ${process.version}`, features: {} };
      },
      utf8Names: cfg.validation.nameValidationScheme === 'utf8',
      log: ctx.log.child({ component: 'query-api' }),
    });
    registerRemoteRead(ctx.http, {
      querier: q,
      prefix: cfg.querier.prometheusHttpPrefix,
      tenancy: { multitenancyEnabled: cfg.distributor.multitenancyEnabled, noAuthTenant: cfg.distributor.noAuthTenant },
      log: ctx.log.child({ component: 'remote-read' }),
    });
    return q;
  }, [SERVER_MODULE, RUNTIME_CONFIG, INGESTER_RING]);
  // not part of 'all' (as in Mimir): it tests a Muninn from the outside
  reg.register(CONTINUOUS_TEST_MODULE, () => {
    const ct = new ContinuousTest({
      config: cfg.continuousTest,
      log: ctx.log,
      registry: ctx.registry,
      // -tests.smoke-test passed: stop the process (exit 0); a failed smoke test fails the module (exit 1)
      onSmokeTestPassed: () => ctx.shutdown('continuous-test smoke test passed'),
    });
    registerContinuousTestRoutes(ctx.http, ct);
    return ct;
  }, [SERVER_MODULE]);
  reg.register('all', () => undefined, ['ingester', 'distributor', 'querier']);
}
