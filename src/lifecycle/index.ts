export { State, BasicService, ServiceStateError, isTerminal, waitForAbort, sleep } from './service.js';
export type { Service, ServiceFns, StateListener } from './service.js';
export { Manager } from './manager.js';
export { ModuleRegistry, ModuleService, ModuleError } from './modules.js';
export type { ModuleOptions } from './modules.js';
