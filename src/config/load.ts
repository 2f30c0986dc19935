// Loads a config: defaults, then the YAML file named by -config.file, then flags; later wins.
// Flags: -name=value, --name=value, -name value; booleans as -flag or -flag=false.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, isPair, type Node as YamlNode } from 'yaml';
import { ConfigError, type ConfigOf, type OptionRef, type Schema, defaultsOf, optionsOf } from './schema.js';

export type Source = 'default' | 'yaml' | 'flag';

export interface LoadResult<Sch extends Schema> {
  config: ConfigOf<Sch>;
  /** Where each option's value came from, by flag name. */
  sources: Map<string, Source>;
  /** Flags that ask for something other than running: -help, -version, -modules. */
  action: 'run' | 'help' | 'version' | 'modules';
}

export const CONFIG_FILE_FLAG = 'config.file';
/** Flags that ask for something other than running; -help lists them with the options. */
export const META_FLAGS: Record<string, { action: LoadResult<Schema>['action']; help?: string }> = {
  help: { action: 'help', help: 'Print the flags with their defaults and exit.' },
  h: { action: 'help' },
  modules: { action: 'modules', help: 'List the modules that -target accepts and exit.' },
  version: { action: 'version', help: 'Print the version and exit.' },
};

interface FlagArg {
  name: string;
  value: string;
}

/** Splits argv into flags; an unknown flag or a missing value is a ConfigError naming the flag. */
export function parseArgs(schema: Schema, argv: readonly string[]): { flags: FlagArg[]; action: LoadResult<Schema>['action'] } {
  const byFlag = new Map(optionsOf(schema).map((r) => [r.option.flag, r]));
  const flags: FlagArg[] = [];
  let action: LoadResult<Schema>['action'] = 'run';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new ConfigError(`unexpected argument "${argv[i + 1]}": Muninn takes only flags`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw new ConfigError(`unexpected argument "${arg}": Muninn takes only flags`);
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value = eq >= 0 ? body.slice(eq + 1) : undefined;
    const meta = META_FLAGS[name];
    if (meta !== undefined && !byFlag.has(name)) {
      if (action === 'run') action = meta.action;
      continue;
    }
    const ref = byFlag.get(name);
    if (ref === undefined) throw new ConfigError(`unknown flag -${name} (see -help for the list of flags)`);
    if (value === undefined) {
      if (ref.option.kind === 'bool') value = 'true';
      else {
        if (i + 1 >= argv.length) throw new ConfigError(`flag -${name} needs a value`);
        value = argv[++i] as string;
      }
    }
    flags.push({ name, value });
  }
  return { flags, action };
}

export function loadConfig<Sch extends Schema>(
  schema: Sch,
  argv: readonly string[],
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): LoadResult<Sch> {
  const refs = optionsOf(schema);
  const byFlag = new Map(refs.map((r) => [r.option.flag, r]));
  const byYaml = new Map<string, OptionRef>();
  for (const r of refs) if (r.option.yaml !== null) byYaml.set(r.option.yaml, r);
  const config = defaultsOf(schema) as Record<string, Record<string, unknown>>;
  const sources = new Map<string, Source>(refs.map((r) => [r.option.flag, 'default' as Source]));

  const { flags, action } = parseArgs(schema, argv);
  const set = (r: OptionRef, v: unknown, src: Source): void => {
    (config[r.group] as Record<string, unknown>)[r.key] = v;
    sources.set(r.option.flag, src);
  };

  // the YAML file named on the command line (the last -config.file wins)
  let file: string | undefined;
  for (const f of flags) if (f.name === CONFIG_FILE_FLAG) file = f.value;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new ConfigError(`-${CONFIG_FILE_FLAG}: cannot read "${file}": ${(e as Error).message}`);
    }
    for (const [r, v] of yamlValues(text, file, byYaml)) set(r, v, 'yaml');
  }

  for (const f of flags) {
    const r = byFlag.get(f.name) as OptionRef;
    let v: unknown;
    try {
      v = r.option.parse(f.value);
    } catch (e) {
      throw new ConfigError(`invalid value for flag -${f.name}: ${(e as Error).message}`);
    }
    set(r, v, 'flag');
  }

  // -help and -version print and exit: as in Mimir, values that would not run do not stop them
  if (action === 'help' || action === 'version') return { config: config as ConfigOf<Sch>, sources, action };
  for (const [gname, g] of Object.entries(schema)) {
    if (g.validate === undefined) continue;
    try {
      g.validate(config[gname] as never);
    } catch (e) {
      throw new ConfigError(`invalid ${g.name} config: ${(e as Error).message}`);
    }
  }
  return { config: config as ConfigOf<Sch>, sources, action };
}

/** Reads a YAML document into option values; unknown keys and wrong types name the key and line. */
function yamlValues(text: string, file: string, byYaml: Map<string, OptionRef>): Array<[OptionRef, unknown]> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as { message: string; pos: [number, number] };
    // with prettyErrors off the parser does not fill in linePos: take the line from the offset
    const line = lc.linePos(e.pos[0]).line;
    throw new ConfigError(`config file "${file}" line ${line}: ${e.message.split('\n')[0]}`);
  }
  const out: Array<[OptionRef, unknown]> = [];
  const where = (node: YamlNode | null | undefined): string => {
    const off = node?.range?.[0];
    return off === undefined ? '' : ` (line ${lc.linePos(off).line})`;
  };
  const prefixes = new Set<string>();
  for (const k of byYaml.keys()) {
    const parts = k.split('.');
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join('.'));
  }
  const walk = (node: YamlNode | null | undefined, path: string): void => {
    if (node === null || node === undefined) return;
    if (path !== '') {
      const r = byYaml.get(path);
      if (r !== undefined) {
        // toJS with the document resolves aliases (`key: *anchor`); toJSON() would not
        const v: unknown = isScalar(node) ? node.value : node.toJS(doc);
        if (v === null) return; // an empty value leaves the option as it was
        try {
          out.push([r, r.option.fromYaml(v)]);
        } catch (e) {
          throw new ConfigError(`config file "${file}": ${path}${where(node)}: ${(e as Error).message}`);
        }
        return;
      }
      if (!prefixes.has(path)) throw new ConfigError(`config file "${file}": unknown key ${path}${where(node)}`);
    }
    if (isScalar(node) && node.value === null) return; // an empty section
    if (!isMap(node)) throw new ConfigError(`config file "${file}": ${path === '' ? 'the document' : path}${where(node)} must be a map`);
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const keyNode = item.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const child = path === '' ? key : `${path}.${key}`;
      // a key holding a dot ("server.http_listen_port: 1") is not a path: nesting is spelled out
      if (key.includes('.') || (!byYaml.has(child) && !prefixes.has(child))) throw new ConfigError(`config file "${file}": unknown key ${child}${where(keyNode)}`);
      walk(item.value as YamlNode, child);
    }
  };
  if (doc.contents !== null) walk(doc.contents as YamlNode, '');
  return out;
}
