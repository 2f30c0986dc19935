// Parses runtime config files (Mimir's format):
//
//   overrides:
//     tenant-a:
//       ingestion_rate: 5000
//       out_of_order_time_window: 10m
//
// Values go through each limit option's own fromYaml (the same type rules as the main config file).
// Unknown top-level keys, unknown limit keys, wrong types and invalid tenant IDs are errors naming
// the file, the tenant, the key and its line. An empty file, or no `overrides`, means no
// overrides. Anchors, aliases and `<<` merge keys work as in Mimir's YAML decoder.
import { type Document, LineCounter, type Node as YamlNode, isAlias, isMap, isScalar, isSeq, isPair, parseDocument } from 'yaml';
import { ConfigError } from '../config/index.js';
import { validateTenantId } from '../tenant/index.js';
import { LIMIT_KEYS, type LimitGroup, type TenantOverrides } from './limits.js';

export class RuntimeConfigError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeConfigError';
  }
}

/** A parsed runtime config: tenant ID -> that tenant's overridden limits. */
export interface RuntimeConfig {
  readonly overrides: ReadonlyMap<string, TenantOverrides>;
}

export const EMPTY_RUNTIME_CONFIG: RuntimeConfig = Object.freeze({ overrides: new Map<string, TenantOverrides>() });

const TOP_LEVEL_KEYS = ['overrides'];

interface Entry {
  name: string;
  key: YamlNode;
  value: YamlNode | null;
}

/** Parses one runtime config file; throws RuntimeConfigError naming the file (and tenant, key, line). */
export function parseRuntimeConfig(text: string, file: string): RuntimeConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lc, prettyErrors: false });
  function fail(msg: string): never {
    throw new RuntimeConfigError(`runtime config file "${file}"${msg}`);
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as { message: string; pos: [number, number] };
    // with prettyErrors off the parser does not fill in linePos: take the line from the offset
    fail(` line ${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  }
  const where = (node: YamlNode | null | undefined): string => {
    const off = node?.range?.[0];
    return off === undefined ? '' : ` (line ${lc.linePos(off).line})`;
  };
  const resolve = (node: YamlNode | null | undefined): YamlNode | null => {
    let n: YamlNode | null | undefined = node;
    for (let i = 0; n !== null && n !== undefined && isAlias(n) && i < 100; i++) n = n.resolve(doc) as YamlNode | undefined;
    return n ?? null;
  };
  const isNull = (node: YamlNode | null): boolean => node === null || (isScalar(node) && node.value === null);

  /** A map's entries with `<<` merge keys applied: explicit keys win, then earlier merged maps. */
  const entries = (map: YamlNode, what: string): Entry[] => {
    if (!isMap(map)) return fail(`: ${what}${where(map)} must be a map`);
    const explicit: Entry[] = [];
    const merged: Entry[] = [];
    for (const item of map.items) {
      if (!isPair(item)) continue;
      const keyNode = resolve(item.key as YamlNode);
      if (keyNode === null || !isScalar(keyNode) || typeof keyNode.value === 'object') {
        fail(`: ${what}${where(item.key as YamlNode)}: keys must be strings`);
      }
      const k = keyNode as YamlNode & { value: unknown; source?: string; type?: string };
      // the key as written: a tenant "0123" must not become 123
      const name = typeof k.value === 'string' ? k.value : (k.source ?? String(k.value));
      const value = item.value as YamlNode | null;
      if (name === '<<' && k.type === 'PLAIN') {
        const src = resolve(value);
        const maps = src !== null && isSeq(src) ? src.items.map((n) => resolve(n as YamlNode)) : [src];
        for (const m of maps) if (m !== null) merged.push(...entries(m, `${what}: the << merge value`));
        continue;
      }
      explicit.push({ name, key: item.key as YamlNode, value });
    }
    const seen = new Set(explicit.map((e) => e.name));
    const out = [...explicit];
    for (const e of merged) {
      if (seen.has(e.name)) continue;
      seen.add(e.name);
      out.push(e);
    }
    return out;
  };

  const overrides = new Map<string, TenantOverrides>();
  const root = resolve(doc.contents as YamlNode | null);
  if (isNull(root)) return { overrides };
  for (const top of entries(root as YamlNode, 'the document')) {
    if (!TOP_LEVEL_KEYS.includes(top.name)) {
      fail(`: unknown key ${top.name}${where(top.key)}: the runtime config supports only ${TOP_LEVEL_KEYS.join(', ')}`);
    }
    const ov = resolve(top.value);
    if (isNull(ov)) continue;
    if (!isMap(ov)) fail(`: overrides${where(ov)} must be a map of tenant IDs to limits`);
    for (const t of entries(ov as YamlNode, 'overrides')) {
      try {
        validateTenantId(t.name);
      } catch (e) {
        fail(`: overrides: invalid tenant ID ${JSON.stringify(t.name)}${where(t.key)}: ${(e as Error).message}`);
      }
      overrides.set(t.name, parseTenant(t, (msg) => fail(`: overrides: tenant "${t.name}"${msg}`)));
    }
  }
  return { overrides };

  function parseTenant(t: Entry, tfail: (msg: string) => never): TenantOverrides {
    const groups: Record<LimitGroup, Record<string, unknown>> = { validation: {}, limits: {}, querier: {} };
    const node = resolve(t.value);
    // `tenant:` with no value: listed, with the defaults (Mimir: a nil *Limits)
    if (isNull(node)) return freezeTenant(groups.validation, groups.limits, groups.querier);
    if (!isMap(node)) tfail(`${where(node)}: the limits must be a map of limit names to values`);
    for (const e of entries(node as YamlNode, `overrides: tenant "${t.name}"`)) {
      const lk = LIMIT_KEYS.get(e.name);
      if (lk === undefined) return tfail(`: unknown limit ${e.name}${where(e.key)}`);
      const vnode = resolve(e.value);
      if (isNull(vnode)) continue; // an empty value leaves the default, as in the main config file
      const raw: unknown = isScalar(vnode) ? vnode.value : (vnode as YamlNode).toJS(doc as Document);
      let v: unknown;
      try {
        v = lk.option.fromYaml(raw);
      } catch (err) {
        tfail(`: ${e.name}${where(e.value ?? e.key)}: ${(err as Error).message}`);
      }
      groups[lk.group][lk.field] = v;
    }
    return freezeTenant(groups.validation, groups.limits, groups.querier);
  }
}

function freezeTenant(validation: Record<string, unknown>, limits: Record<string, unknown>, querier: Record<string, unknown>): TenantOverrides {
  return Object.freeze({ validation: Object.freeze(validation), limits: Object.freeze(limits), querier: Object.freeze(querier) });
}

/**
 * Merges parsed files from left to right, as Mimir merges its runtime config files: a tenant's
 * limits are merged key by key, the later file winning.
 */
export function mergeRuntimeConfigs(configs: readonly RuntimeConfig[]): RuntimeConfig {
  if (configs.length === 1) return configs[0] as RuntimeConfig;
  const overrides = new Map<string, TenantOverrides>();
  for (const c of configs) {
    for (const [tenant, o] of c.overrides) {
      const prev = overrides.get(tenant);
      overrides.set(tenant, prev === undefined ? o : freezeTenant({ ...prev.validation, ...o.validation }, { ...prev.limits, ...o.limits }, { ...prev.querier, ...o.querier }));
    }
  }
  return { overrides };
}
