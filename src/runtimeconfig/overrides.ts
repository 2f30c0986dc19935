// Per-tenant limits: the process config's limits, with each tenant's runtime overrides on top
// (Mimir's validation.Overrides). Lookups are per request, so the merged objects are built once
// per tenant when a runtime config is applied and shared (frozen) until the next one; a tenant
// without overrides gets the defaults object itself.
import type { ValidationConfig } from '../distributor/config.js';
import { validationConfig } from '../distributor/config.js';
import type { LimitsConfig } from '../ingester/config.js';
import { limitsConfig } from '../ingester/config.js';
import { defaultsOf } from '../config/index.js';
import { type QuerierConfig, querierConfig } from '../querier/config.js';
import { LIMIT_KEYS, type LimitDefaults, type TenantOverrides } from './limits.js';
import { EMPTY_RUNTIME_CONFIG, RuntimeConfigError, type RuntimeConfig } from './parse.js';

interface Effective {
  readonly validation: Readonly<ValidationConfig>;
  readonly limits: Readonly<LimitsConfig>;
  readonly querier: Readonly<QuerierConfig>;
  /** The overridden ingester limits only; undefined when the tenant overrides none. */
  readonly limitsPartial: Readonly<Partial<LimitsConfig>> | undefined;
}

export class Overrides {
  readonly defaults: Readonly<{ validation: Readonly<ValidationConfig>; limits: Readonly<LimitsConfig>; querier: Readonly<QuerierConfig> }>;
  private rc: RuntimeConfig = EMPTY_RUNTIME_CONFIG;
  private table = new Map<string, Effective>();

  /** Throws RuntimeConfigError if `runtime` gives a tenant limits its group's validation refuses. */
  constructor(defaults: LimitDefaults, runtime: RuntimeConfig = EMPTY_RUNTIME_CONFIG) {
    this.defaults = Object.freeze({
      validation: Object.freeze({ ...defaults.validation }),
      limits: Object.freeze({ ...defaults.limits }),
      querier: Object.freeze({ ...(defaults.querier ?? defaultsOf({ querier: querierConfig }).querier) }),
    });
    this.apply(runtime);
  }

  /** The distributor's limits for a tenant. */
  validation(tenant: string): Readonly<ValidationConfig> {
    return this.table.get(tenant)?.validation ?? this.defaults.validation;
  }

  /** The ingester's limits for a tenant. */
  ingesterLimits(tenant: string): Readonly<LimitsConfig> {
    return this.table.get(tenant)?.limits ?? this.defaults.limits;
  }

  /** The querier's options for a tenant (-querier.max-query-lookback, -querier.enable-delayed-name-removal per tenant). */
  querierLimits(tenant: string): Readonly<QuerierConfig> {
    return this.table.get(tenant)?.querier ?? this.defaults.querier;
  }

  /** Only the ingester limits the tenant overrides (for IngesterOptions.tenantLimits). */
  tenantLimitsPartial(tenant: string): Readonly<Partial<LimitsConfig>> | undefined {
    return this.table.get(tenant)?.limitsPartial;
  }

  /** The tenants the runtime config lists, sorted. */
  tenants(): string[] {
    return [...this.table.keys()].sort();
  }

  /** The runtime config currently applied (empty without one). */
  runtimeConfig(): RuntimeConfig {
    return this.rc;
  }

  /**
   * Applies a runtime config and returns the tenants whose limits in effect changed, sorted.
   * Atomic: if a tenant's merged limits fail their group's validation, this throws a
   * RuntimeConfigError naming the tenant and nothing changes.
   */
  apply(rc: RuntimeConfig): string[] {
    const next = new Map<string, Effective>();
    for (const [tenant, o] of rc.overrides) next.set(tenant, this.effective(tenant, o));
    const changed: string[] = [];
    for (const t of new Set([...this.table.keys(), ...next.keys()])) {
      if (!sameLimits(this.effectiveOf(this.table, t), this.effectiveOf(next, t))) changed.push(t);
    }
    this.table = next;
    this.rc = rc;
    return changed.sort();
  }

  private effectiveOf(table: Map<string, Effective>, tenant: string): Effective {
    return table.get(tenant) ?? { validation: this.defaults.validation, limits: this.defaults.limits, querier: this.defaults.querier, limitsPartial: undefined };
  }

  private effective(tenant: string, o: TenantOverrides): Effective {
    const validation = { ...this.defaults.validation, ...o.validation };
    const limits = { ...this.defaults.limits, ...o.limits };
    const querier = { ...this.defaults.querier, ...o.querier };
    try {
      validationConfig.validate?.(validation);
    } catch (e) {
      throw new RuntimeConfigError(`overrides: tenant "${tenant}": invalid ${validationConfig.name} limits: ${(e as Error).message}`);
    }
    try {
      limitsConfig.validate?.(limits);
    } catch (e) {
      throw new RuntimeConfigError(`overrides: tenant "${tenant}": invalid ${limitsConfig.name} limits: ${(e as Error).message}`);
    }
    return {
      validation: Object.freeze(validation),
      limits: Object.freeze(limits),
      querier: Object.freeze(querier),
      limitsPartial: Object.keys(o.limits).length === 0 ? undefined : o.limits,
    };
  }
}

/** Whether two tenants' limits in effect are equal, by each option's own equality. */
function sameLimits(a: Effective, b: Effective): boolean {
  for (const lk of LIMIT_KEYS.values()) {
    const x = (a[lk.group] as Record<string, unknown>)[lk.field];
    const y = (b[lk.group] as Record<string, unknown>)[lk.field];
    if (!lk.option.equals(x, y)) return false;
  }
  return true;
}
