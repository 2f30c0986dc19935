// Groups of options (one per component) and the typed config they produce.
import type { Option } from './option.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OptionMap = Record<string, Option<any>>;

export type Values<S extends OptionMap> = { -readonly [K in keyof S]: S[K] extends Option<infer T> ? T : never };

export interface Group<S extends OptionMap = OptionMap> {
  /** The component's name; validation errors are wrapped with it. */
  readonly name: string;
  readonly options: S;
  /** Checks one component's values; throws an Error naming the option at fault. */
  validate?(values: Values<S>): void; // method syntax: checked bivariantly, so any Group<S> is a Group
}

export function defineGroup<S extends OptionMap>(name: string, options: S, validate?: (values: Values<S>) => void): Group<S> {
  return validate === undefined ? { name, options } : { name, options, validate };
}

export type Schema = Record<string, Group>;

export type ConfigOf<Sch extends Schema> = { [G in keyof Sch]: Values<Sch[G]['options']> };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Every option of a schema with where it lives, in declaration order. */
export interface OptionRef {
  group: string;
  key: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  option: Option<any>;
}

export function optionsOf(schema: Schema): OptionRef[] {
  const out: OptionRef[] = [];
  for (const [group, g] of Object.entries(schema)) {
    for (const [key, option] of Object.entries(g.options)) out.push({ group, key, option });
  }
  return out;
}

export function defaultsOf<Sch extends Schema>(schema: Sch): ConfigOf<Sch> {
  const cfg: Record<string, Record<string, unknown>> = {};
  for (const { group, key, option } of optionsOf(schema)) {
    (cfg[group] ??= {})[key] = Array.isArray(option.def) ? [...(option.def as unknown[])] : option.def;
  }
  return cfg as ConfigOf<Sch>;
}
