// GET /runtime_config (Mimir's handler): the runtime config in effect as YAML. Every tenant the
// file lists appears with all its limits in effect (defaults merged with its overrides);
// ?mode=diff keeps per tenant only the values unlike the defaults.
import { stringify } from 'yaml';
import { type HttpServer, sendText } from '../server/http.js';
import { LIMIT_KEYS } from './limits.js';
import type { Overrides } from './overrides.js';
import type { RuntimeConfigService } from './service.js';

export type RuntimeConfigMode = 'full' | 'diff';

/** The YAML GET /runtime_config serves: `overrides:` with one map of limits per tenant. */
export function renderRuntimeConfig(overrides: Overrides, mode: RuntimeConfigMode): string {
  const out: Record<string, Record<string, unknown>> = {};
  for (const tenant of overrides.tenants()) {
    const eff = { validation: overrides.validation(tenant), limits: overrides.ingesterLimits(tenant), querier: overrides.querierLimits(tenant) };
    const m: Record<string, unknown> = {};
    for (const lk of LIMIT_KEYS.values()) {
      const v = (eff[lk.group] as Record<string, unknown>)[lk.field];
      if (mode === 'diff' && lk.option.equals(v, (overrides.defaults[lk.group] as Record<string, unknown>)[lk.field])) continue;
      m[lk.key] = lk.option.toYaml(v);
    }
    out[tenant] = m;
  }
  return stringify({ overrides: out }, { lineWidth: 0 });
}

/** Registers GET /runtime_config on the server. */
export function registerRuntimeConfigRoutes(http: HttpServer, svc: RuntimeConfigService): void {
  http.route('GET', '/runtime_config', (_req, res, ctx) => {
    const mode = ctx.url.searchParams.get('mode') ?? '';
    if (mode !== '' && mode !== 'diff') {
      sendText(res, 400, `invalid mode ${JSON.stringify(mode)}: use mode=diff, or no mode for the full runtime config\n`);
      return;
    }
    if (svc.files.length === 0) {
      sendText(res, 200, "runtime config file doesn't exist\n"); // Mimir's answer without -runtime-config.file
      return;
    }
    if (!svc.loaded()) {
      sendText(res, 503, 'runtime config not loaded yet\n');
      return;
    }
    sendText(res, 200, renderRuntimeConfig(svc.overrides, mode === 'diff' ? 'diff' : 'full'));
  });
}
