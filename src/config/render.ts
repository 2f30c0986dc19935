// Renders a schema: -help text and the YAML of a config (full, defaults or diff), as GET /config serves it.
import { stringify } from 'yaml';
import { META_FLAGS } from './load.js';
import type { Option } from './option.js';
import { type ConfigOf, type Schema, defaultsOf, optionsOf } from './schema.js';

const TYPE_NAME: Record<Option<unknown>['kind'], string> = {
  string: 'string',
  int: 'int',
  float: 'float',
  bool: '',
  duration: 'duration',
  list: 'comma-separated-list-of-strings',
  enum: 'string',
};

/** Go flag-package style usage text, options sorted by flag name. */
export function renderHelp(schema: Schema, program: string): string {
  const lines = [`Usage of ${program}:`];
  const entries: Array<{ flag: string; head: string; help: string }> = [];
  for (const { option: o } of optionsOf(schema)) {
    if (o.hidden === true) continue;
    const t = TYPE_NAME[o.kind];
    let help = o.help;
    if (o.enumValues !== undefined) help += ` Supported values: ${o.enumValues.join(', ')}.`;
    const d = defaultText(o);
    entries.push({ flag: o.flag, head: `-${o.flag}${t === '' ? '' : ` ${t}`}`, help: `${help}${d === '' ? '' : ` (default ${d})`}` });
  }
  for (const [flag, m] of Object.entries(META_FLAGS)) {
    if (m.help !== undefined) entries.push({ flag, head: `-${flag}`, help: m.help });
  }
  entries.sort((a, b) => (a.flag < b.flag ? -1 : a.flag > b.flag ? 1 : 0));
  for (const e of entries) lines.push(`  ${e.head}`, `    \t${e.help}`);
  return lines.join('\n') + '\n';
}

function defaultText(o: Option<unknown>): string {
  const f = o.format(o.def);
  if (o.kind === 'bool') return o.def === true ? 'true' : '';
  if (f === '' || f === '0' || f === '0s') return '';
  if (o.kind === 'string' || o.kind === 'enum') return JSON.stringify(f);
  return f;
}

export type ConfigMode = 'full' | 'defaults' | 'diff';

/** The config as YAML in the shape of the config file; diff keeps only values unlike the defaults. */
export function renderYaml<Sch extends Schema>(schema: Sch, config: ConfigOf<Sch>, mode: ConfigMode): string {
  const defaults = defaultsOf(schema) as Record<string, Record<string, unknown>>;
  const values = (mode === 'defaults' ? defaults : config) as Record<string, Record<string, unknown>>;
  const root: Record<string, unknown> = {};
  for (const { group, key, option } of optionsOf(schema)) {
    if (option.yaml === null || option.hidden === true) continue;
    const v = values[group]?.[key];
    if (mode === 'diff' && option.equals(v, defaults[group]?.[key])) continue;
    const parts = option.yaml.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = option.toYaml(v);
  }
  return Object.keys(root).length === 0 ? '{}\n' : stringify(root, { lineWidth: 0 });
}
