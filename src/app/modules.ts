// The modules -target can name. The components are registered here with their dependencies;
// their services are filled in by the issues that build them (ingester: #3, distributor: #4,
// querier: #5). Until then each runs as an idle service so that -target, the module ordering and
// the lifecycle work end to end.
import { BasicService, type ModuleRegistry } from '../lifecycle/index.js';

export const SERVER_MODULE = 'server';

export function registerComponentModules(reg: ModuleRegistry): void {
  reg.register('ingester', () => new BasicService('ingester'), [SERVER_MODULE]);
  reg.register('distributor', () => new BasicService('distributor'), [SERVER_MODULE]);
  reg.register('querier', () => new BasicService('querier'), [SERVER_MODULE]);
  reg.register('all', () => undefined, ['ingester', 'distributor', 'querier']);
}
