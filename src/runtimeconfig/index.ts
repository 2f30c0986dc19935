// Runtime configuration: per-tenant limit overrides read from -runtime-config.file and reloaded
// periodically (Mimir's runtime config). See docs/runtime-config.md.
export { runtimeConfigGroup, runtimeConfigFiles } from './config.js';
export type { RuntimeConfigConfig } from './config.js';
export { LIMIT_KEYS } from './limits.js';
export type { LimitDefaults, LimitGroup, LimitKey, TenantOverrides } from './limits.js';
export { EMPTY_RUNTIME_CONFIG, RuntimeConfigError, mergeRuntimeConfigs, parseRuntimeConfig } from './parse.js';
export type { RuntimeConfig } from './parse.js';
export { Overrides } from './overrides.js';
export { RuntimeConfigService, hashFiles } from './service.js';
export type { ReadFileFn, ReloadResult, RuntimeConfigListener, RuntimeConfigServiceOptions } from './service.js';
export { registerRuntimeConfigRoutes, renderRuntimeConfig } from './http.js';
export type { RuntimeConfigMode } from './http.js';
