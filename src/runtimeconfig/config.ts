// The runtime config's options, with Mimir's (dskit runtimeconfig) flag names, YAML keys and
// defaults. Not added to src/app/config.ts here: the integrator wires the group into the schema.
import { defineGroup, durationOpt, stringOpt, type Values } from '../config/index.js';

export const runtimeConfigGroup = defineGroup('runtime', {
  file: stringOpt('runtime-config.file', 'runtime_config.file', '', 'Comma separated list of yaml files with the configuration that can be updated at runtime. Runtime config files will be merged from left to right.'),
  reloadPeriod: durationOpt('runtime-config.reload-period', 'runtime_config.period', 10_000, 'How often to check runtime config files.'),
}, (v) => {
  if (!(v.reloadPeriod > 0)) throw new Error('-runtime-config.reload-period must be greater than 0');
});

export type RuntimeConfigConfig = Values<typeof runtimeConfigGroup.options>;

/** The files of -runtime-config.file, in merge order (empty: no runtime config). */
export function runtimeConfigFiles(cfg: Pick<RuntimeConfigConfig, 'file'>): string[] {
  return cfg.file.split(',').map((f) => f.trim()).filter((f) => f !== '');
}
