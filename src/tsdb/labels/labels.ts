// Label sets. A `Labels` is a frozen flat array [name1, value1, name2, value2, ...] sorted by
// name (Go/UTF-8 byte order), with unique non-empty names and no empty values. It is a plain array
// rather than a class instance so a series costs one array (header + 2 pointers per label) and no
// wrapper object; the strings are shared through a per-tenant SymbolTable. Functions, not methods,
// operate on it.
//
// Empty values: Prometheus treats a label with an empty value as absent (`{a=""}` selects series
// without `a`), so the builder drops them, as Prometheus's labels.Builder does.
import { InvalidLabelsError } from './errors.js';
import { compareStrings, formatLabelName, goQuote } from './strings.js';
import type { SymbolTable } from './symbols.js';

declare const labelsBrand: unique symbol;

/** A sorted, frozen, flat [name, value, ...] array. Build it with LabelsBuilder or labelsFrom*. */
export type Labels = readonly string[] & { readonly [labelsBrand]: true };

export const EMPTY_LABELS: Labels = Object.freeze([]) as unknown as Labels;

/** The metric name label. */
export const METRIC_NAME = '__name__';

/**
 * Collects name/value pairs in any order and builds a Labels: drops empty values, sorts, rejects
 * duplicate and empty names (InvalidLabelsError), interns through `symbols` when given. Reusable:
 * reset() and add again; the scratch array is kept.
 */
export class LabelsBuilder {
  private readonly scratch: string[] = [];
  private readonly symbols: SymbolTable | undefined;

  constructor(symbols?: SymbolTable) {
    this.symbols = symbols;
  }

  reset(): this {
    this.scratch.length = 0;
    return this;
  }

  add(name: string, value: string): this {
    if (value !== '') this.scratch.push(name, value);
    return this;
  }

  /** The label set of the pairs added since the last reset(). Throws InvalidLabelsError. */
  labels(): Labels {
    const s = this.scratch;
    if (s.length === 0) return EMPTY_LABELS;
    sortPairs(s);
    for (let i = 0; i < s.length; i += 2) {
      const name = s[i] as string;
      if (name === '') {
        throw new InvalidLabelsError('empty_label_name', '', `empty label name in series ${formatFlat(s)}`);
      }
      if (i > 0 && name === s[i - 2]) {
        throw new InvalidLabelsError('duplicate_label_name', name, `duplicate label name ${goQuote(name)} in series ${formatFlat(s)}`);
      }
    }
    const out = s.slice(); // exact length, packed
    const sym = this.symbols;
    if (sym !== undefined) for (let i = 0; i < out.length; i++) out[i] = sym.intern(out[i] as string);
    return Object.freeze(out) as unknown as Labels;
  }
}

/** Sorts a flat [n, v, ...] array by name, keeping equal names in input order. */
function sortPairs(s: string[]): void {
  const n = s.length >> 1;
  let sorted = true;
  for (let i = 2; i < s.length; i += 2) {
    if (compareStrings(s[i - 2] as string, s[i] as string) > 0) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  if (n <= 32) {
    for (let i = 1; i < n; i++) {
      const name = s[2 * i] as string;
      const value = s[2 * i + 1] as string;
      let j = i - 1;
      while (j >= 0 && compareStrings(s[2 * j] as string, name) > 0) {
        s[2 * j + 2] = s[2 * j] as string;
        s[2 * j + 3] = s[2 * j + 1] as string;
        j--;
      }
      s[2 * j + 2] = name;
      s[2 * j + 3] = value;
    }
    return;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => compareStrings(s[2 * a] as string, s[2 * b] as string) || a - b);
  const copy = s.slice();
  for (let k = 0; k < n; k++) {
    const from = idx[k] as number;
    s[2 * k] = copy[2 * from] as string;
    s[2 * k + 1] = copy[2 * from + 1] as string;
  }
}

/** Prometheus's labels.FromStrings: name, value, name, value, ... in any order. */
export function labelsFromStrings(...nameValues: string[]): Labels {
  if (nameValues.length % 2 !== 0) throw new RangeError('labelsFromStrings: odd number of strings');
  const b = new LabelsBuilder();
  for (let i = 0; i < nameValues.length; i += 2) b.add(nameValues[i] as string, nameValues[i + 1] as string);
  return b.labels();
}

export function labelsFromPairs(pairs: Iterable<readonly [string, string]>, symbols?: SymbolTable): Labels {
  const b = new LabelsBuilder(symbols);
  for (const [n, v] of pairs) b.add(n, v);
  return b.labels();
}

export function labelsFromRecord(rec: Readonly<Record<string, string>>, symbols?: SymbolTable): Labels {
  const b = new LabelsBuilder(symbols);
  for (const n of Object.keys(rec)) b.add(n, rec[n] as string);
  return b.labels();
}

/**
 * Wraps an array the caller guarantees is already a valid label set (sorted, unique non-empty
 * names, no empty values), e.g. one the head wrote itself. Freezes `flat` in place; no checks.
 */
export function unsafeLabelsFromSorted(flat: string[]): Labels {
  return Object.freeze(flat) as unknown as Labels;
}

/** Number of labels (pairs). */
export function labelsCount(ls: Labels): number {
  return ls.length >> 1;
}

export function labelName(ls: Labels, i: number): string {
  return ls[2 * i] as string;
}

export function labelValue(ls: Labels, i: number): string {
  return ls[2 * i + 1] as string;
}

/** The value of label `name`, or '' when the set does not have it (as in Prometheus). */
export function labelsGet(ls: Labels, name: string): string {
  for (let i = 0; i < ls.length; i += 2) {
    if (ls[i] === name) return ls[i + 1] as string;
  }
  return '';
}

export function labelsHas(ls: Labels, name: string): boolean {
  for (let i = 0; i < ls.length; i += 2) {
    if (ls[i] === name) return true;
  }
  return false;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * Prometheus's labels.Compare: pair by pair, name then value, in byte order; a prefix sorts first.
 * Returns -1, 0 or 1.
 */
export function labelsCompare(a: Labels, b: Labels): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return compareStrings(x, y) < 0 ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** `{a="b", c="d"}` as Prometheus prints it (values Go-quoted; odd names quoted too). */
export function labelsToString(ls: Labels): string {
  return formatFlat(ls);
}

function formatFlat(flat: readonly string[]): string {
  let out = '{';
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (i > 0) out += ', ';
    out += formatLabelName(flat[i] as string) + '=' + goQuote(flat[i + 1] as string);
  }
  return out + '}';
}

export function labelsToRecord(ls: Labels): Record<string, string> {
  const rec = Object.create(null) as Record<string, string>; // a '__proto__' label stays a key
  for (let i = 0; i < ls.length; i += 2) rec[ls[i] as string] = ls[i + 1] as string;
  return rec;
}
