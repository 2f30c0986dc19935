// Label-set helpers for the engine and the functions. Label sets are the flat sorted arrays of
// ../value.ts ([name1, value1, ...], sorted by name in Go byte order), the same layout as
// tsdb/labels's (unbranded); every function here returns a new array (or the input itself when
// nothing changes) and never mutates its arguments.
import { compareStrings, labelsCompare, labelsGet, labelsToString, METRIC_NAME } from '../../tsdb/labels/index.js';
import type { Labels as BrandedLabels } from '../../tsdb/labels/index.js';
import type { Labels } from '../value.js';

export { METRIC_NAME };
/** Labels Prometheus drops together with the metric name (schema.IsMetadataLabel). */
const METADATA: ReadonlySet<string> = new Set([METRIC_NAME, '__type__', '__unit__']);

export const EMPTY: Labels = Object.freeze([]) as Labels;

/** The value of label `name`, '' when absent. */
export function getLabel(ls: Labels, name: string): string {
  return labelsGet(ls as BrandedLabels, name);
}

/** Prometheus labels.Compare. */
export function compareLabels(a: Labels, b: Labels): number {
  return labelsCompare(a as BrandedLabels, b as BrandedLabels);
}

/** `{a="b", c="d"}` as Prometheus prints a label set. */
export function formatLabels(ls: Labels): string {
  return labelsToString(ls as BrandedLabels);
}

/** The set without __name__, __type__ and __unit__ (Prometheus DropReserved(IsMetadataLabel)). */
export function dropMetadata(ls: Labels): Labels {
  return deleteLabels(ls, METADATA);
}

/** Only the labels named in `names` (a set). */
export function keepLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  const out: string[] = [];
  for (let i = 0; i < ls.length; i += 2) {
    if (names.has(ls[i] as string)) out.push(ls[i] as string, ls[i + 1] as string);
  }
  return out;
}

/** All labels except those named in `names` (a set). */
export function deleteLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  let found = false;
  for (let i = 0; i < ls.length; i += 2) {
    if (names.has(ls[i] as string)) {
      found = true;
      break;
    }
  }
  if (!found) return ls;
  const out: string[] = [];
  for (let i = 0; i < ls.length; i += 2) {
    if (!names.has(ls[i] as string)) out.push(ls[i] as string, ls[i + 1] as string);
  }
  return out;
}

/** Sets (value !== '') or deletes (value === '') one label, keeping the order. */
export function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: string[] = [];
  let done = false;
  for (let i = 0; i < ls.length; i += 2) {
    const n = ls[i] as string;
    if (!done) {
      const c = compareStrings(n, name);
      if (c >= 0) {
        done = true;
        if (value !== '') out.push(name, value);
        if (c === 0) continue;
      }
    }
    out.push(n, ls[i + 1] as string);
  }
  if (!done && value !== '') out.push(name, value);
  return out;
}

const keyCache = new WeakMap<Labels, string>();

/** A string identifying the label set exactly (for Map keys); cached per array object. */
export function labelsKey(ls: Labels): string {
  let k = keyCache.get(ls);
  if (k === undefined) {
    k = JSON.stringify(ls);
    keyCache.set(ls, k);
  }
  return k;
}

/** Key over the named labels only (those present), for by(...)/on(...) grouping. */
export function keyWith(ls: Labels, names: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (let i = 0; i < ls.length; i += 2) {
    if (names.has(ls[i] as string)) parts.push(ls[i] as string, ls[i + 1] as string);
  }
  return JSON.stringify(parts);
}

/** Key over all labels except the named ones, for without(...)/ignoring(...) grouping. */
export function keyWithout(ls: Labels, names: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (let i = 0; i < ls.length; i += 2) {
    if (!names.has(ls[i] as string)) parts.push(ls[i] as string, ls[i + 1] as string);
  }
  return JSON.stringify(parts);
}

/**
 * Go's utf8.ValidString for a JS string: no lone surrogates. Prometheus 3 accepts any non-empty
 * valid UTF-8 string as a label name (model.UTF8Validation).
 */
export function isValidLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
