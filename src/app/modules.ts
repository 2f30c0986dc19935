// The modules -target can name, with their dependencies. The ingester is real; the distributor
// (issue #4) and the querier (#5) are idle services until their issues fill them in, so that
// -target, the module ordering and the lifecycle work end to end.
import { Ingester, ingesterHandlers, ingesterServiceDefinition, registerIngesterRoutes } from '../ingester/index.js';
import { BasicService, type ModuleRegistry } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { Registry } from '../metrics/index.js';
import type { GrpcServer } from '../server/grpc.js';
import type { HttpServer } from '../server/http.js';
import type { MuninnConfig } from './config.js';

export const SERVER_MODULE = 'server';

/** What module init functions get from the process. */
export interface ModuleContext {
  readonly config: MuninnConfig;
  readonly log: Logger;
  readonly registry: Registry;
  readonly http: HttpServer;
  readonly grpc: GrpcServer;
  readonly modules: ModuleRegistry;
  shutdown(reason: string): void;
  /** The ingester of this process, once its module is initialised. */
  ingester?: Ingester;
}

export function registerComponentModules(ctx: ModuleContext): void {
  const reg = ctx.modules;
  reg.register('ingester', () => {
    const ing = new Ingester({
      tsdb: ctx.config.tsdb,
      ingester: ctx.config.ingester,
      limits: ctx.config.limits,
      log: ctx.log,
      registry: ctx.registry,
    });
    ctx.ingester = ing;
    ctx.grpc.addService(ingesterServiceDefinition(), ingesterHandlers(ing));
    registerIngesterRoutes(ctx.http, ing, (reason) => ctx.shutdown(reason));
    return ing;
  }, [SERVER_MODULE]);
  reg.register('distributor', () => new BasicService('distributor'), [SERVER_MODULE]);
  reg.register('querier', () => new BasicService('querier'), [SERVER_MODULE]);
  reg.register('all', () => undefined, ['ingester', 'distributor', 'querier']);
}
