// The per-tenant limits a runtime config file may override: every option of the distributor's
// `validationConfig`, the ingester's `limitsConfig` and the querier's `querierConfig` whose YAML
// path starts with `limits.`,
// keyed by that path without the prefix (`ingestion_rate`), as in Mimir's `overrides:` section.
import type { Option } from '../config/index.js';
import { type ValidationConfig, validationConfig } from '../distributor/config.js';
import { type LimitsConfig, limitsConfig } from '../ingester/config.js';
import { type QuerierConfig, querierConfig } from '../querier/config.js';

/** Which group a limit belongs to: the distributor's validation limits, the ingester's, the querier's. */
export type LimitGroup = 'validation' | 'limits' | 'querier';

export interface LimitKey {
  /** The key in the runtime file, e.g. `ingestion_rate`. */
  readonly key: string;
  readonly group: LimitGroup;
  /** The field of ValidationConfig or LimitsConfig. */
  readonly field: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly option: Option<any>;
}

/** The defaults every tenant starts from: the two groups' values from the process config. */
export interface LimitDefaults {
  validation: ValidationConfig;
  limits: LimitsConfig;
  /** The querier's options (only its `limits.*` ones are per tenant); default: querierConfig's defaults. */
  querier?: QuerierConfig;
}

/** One tenant's overridden values, per group; a field absent means "the default". */
export interface TenantOverrides {
  readonly validation: Readonly<Partial<ValidationConfig>>;
  readonly limits: Readonly<Partial<LimitsConfig>>;
  readonly querier: Readonly<Partial<QuerierConfig>>;
}

const PREFIX = 'limits.';

function buildKeys(): ReadonlyMap<string, LimitKey> {
  const m = new Map<string, LimitKey>();
  const groups: Array<[LimitGroup, Record<string, Option<unknown>>]> = [
    ['validation', validationConfig.options],
    ['limits', limitsConfig.options],
    ['querier', querierConfig.options],
  ];
  for (const [group, options] of groups) {
    for (const [field, option] of Object.entries(options)) {
      if (option.yaml === null || !option.yaml.startsWith(PREFIX)) continue;
      const key = option.yaml.slice(PREFIX.length);
      if (m.has(key)) throw new Error(`runtime config: limit key ${key} is declared twice`);
      m.set(key, { key, group, field, option });
    }
  }
  return m;
}

/** Every overridable limit by its runtime-file key, in declaration order (validation first). */
export const LIMIT_KEYS: ReadonlyMap<string, LimitKey> = buildKeys();
