// One declaration per option: flag name, YAML path, type, default and help in one place.
import { formatDuration, parseDuration } from '../util/duration.js';

export type OptionKind = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'list' | 'enum';

export interface Option<T> {
  readonly flag: string;
  /** Dotted path in the YAML file, or null for flag-only options. */
  readonly yaml: string | null;
  readonly kind: OptionKind;
  readonly def: T;
  readonly help: string;
  readonly enumValues?: readonly string[];
  readonly hidden?: boolean;
  /** Parses a flag value; throws an Error whose message says what was expected. */
  parse(s: string): T;
  /** Takes a YAML value; throws like parse. */
  fromYaml(v: unknown): T;
  toYaml(v: T): unknown;
  format(v: T): string;
  equals(a: T, b: T): boolean;
}

interface Extra {
  hidden?: boolean;
  min?: number;
  max?: number;
}

function base<T>(flag: string, yaml: string | null, kind: OptionKind, def: T, help: string, x: Extra | undefined, impl: {
  parse: (s: string) => T;
  fromYaml?: (v: unknown) => T;
  toYaml?: (v: T) => unknown;
  format?: (v: T) => string;
  equals?: (a: T, b: T) => boolean;
  enumValues?: readonly string[];
}): Option<T> {
  const format = impl.format ?? ((v: T) => String(v));
  const o: Option<T> = {
    flag,
    yaml,
    kind,
    def,
    help,
    hidden: x?.hidden ?? false,
    parse: impl.parse,
    fromYaml: impl.fromYaml ?? ((v: unknown) => {
      if (typeof v === 'string') return impl.parse(v);
      if (typeof v === 'number' || typeof v === 'boolean') return impl.parse(String(v));
      throw new Error(`expected a ${kind}, got ${describe(v)}`);
    }),
    toYaml: impl.toYaml ?? ((v: T) => v),
    format,
    equals: impl.equals ?? ((a: T, b: T) => a === b),
  };
  if (impl.enumValues !== undefined) (o as { enumValues?: readonly string[] }).enumValues = impl.enumValues;
  return o;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function checkRange(n: number, x: Extra | undefined): number {
  if (x?.min !== undefined && n < x.min) throw new Error(`must be at least ${x.min}, got ${n}`);
  if (x?.max !== undefined && n > x.max) throw new Error(`must be at most ${x.max}, got ${n}`);
  return n;
}

export function stringOpt(flag: string, yaml: string | null, def: string, help: string, x?: Extra): Option<string> {
  return base(flag, yaml, 'string', def, help, x, {
    parse: (s) => s,
    fromYaml: (v) => {
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw new Error(`expected a string, got ${describe(v)}`);
    },
  });
}

export function intOpt(flag: string, yaml: string | null, def: number, help: string, x?: Extra): Option<number> {
  return base(flag, yaml, 'int', def, help, x, {
    parse: (s) => {
      if (!/^[+-]?\d+$/.test(s.trim())) throw new Error(`expected an integer, got "${s}"`);
      const n = Number(s);
      if (!Number.isSafeInteger(n)) throw new Error(`integer out of range: "${s}"`);
      return checkRange(n, x);
    },
  });
}

export function floatOpt(flag: string, yaml: string | null, def: number, help: string, x?: Extra): Option<number> {
  return base(flag, yaml, 'float', def, help, x, {
    parse: (s) => {
      const n = Number(s);
      if (s.trim() === '' || Number.isNaN(n)) throw new Error(`expected a number, got "${s}"`);
      return checkRange(n, x);
    },
  });
}

export function boolOpt(flag: string, yaml: string | null, def: boolean, help: string, x?: Extra): Option<boolean> {
  return base(flag, yaml, 'bool', def, help, x, {
    parse: (s) => {
      // the spellings Go's strconv.ParseBool takes
      if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
      if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
      throw new Error(`expected true or false, got "${s}"`);
    },
    fromYaml: (v) => {
      if (typeof v === 'boolean') return v;
      throw new Error(`expected true or false, got ${describe(v)}`);
    },
  });
}

export function durationOpt(flag: string, yaml: string | null, def: number, help: string, x?: Extra): Option<number> {
  const parse = (s: string): number => {
    let ms: number;
    try {
      ms = parseDuration(s);
    } catch (e) {
      throw new Error(`expected a duration such as 30s or 1m30s, got "${s}"`, { cause: e });
    }
    if (ms < 0) throw new Error(`must not be negative, got "${s}"`);
    return checkRange(ms, x);
  };
  return base(flag, yaml, 'duration', def, help, x, {
    parse,
    fromYaml: (v) => {
      if (v === 0) return 0;
      if (typeof v === 'string') return parse(v);
      throw new Error(`expected a duration string such as "30s", got ${describe(v)}`);
    },
    toYaml: (v) => formatDuration(v),
    format: (v) => formatDuration(v),
  });
}

export function listOpt(flag: string, yaml: string | null, def: string[], help: string, x?: Extra): Option<string[]> {
  const parse = (s: string): string[] => s.split(',').map((p) => p.trim()).filter((p) => p !== '');
  return base(flag, yaml, 'list', def, help, x, {
    parse,
    fromYaml: (v) => {
      if (typeof v === 'string') return parse(v);
      if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return v as string[];
      throw new Error(`expected a list of strings or a comma-separated string, got ${describe(v)}`);
    },
    toYaml: (v) => v.join(','),
    format: (v) => v.join(','),
    equals: (a, b) => a.length === b.length && a.every((e, i) => e === b[i]),
  });
}

export function enumOpt<E extends string>(flag: string, yaml: string | null, def: E, values: readonly E[], help: string, x?: Extra): Option<E> {
  return base(flag, yaml, 'enum', def, help, x, {
    parse: (s) => {
      if (!(values as readonly string[]).includes(s)) throw new Error(`expected one of ${values.join(', ')}, got "${s}"`);
      return s as E;
    },
    enumValues: values,
  });
}
