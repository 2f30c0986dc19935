// Series selection by label matchers over MemPostings, with Prometheus's PostingsForMatchers
// semantics: the result is exactly the refs of series for which every matcher matches the series'
// value of its label ('' when the series lacks the label).
//
// A matcher that does not match '' requires its label, so it selects positively: the union of the
// lists of the values it accepts, intersected with the others. A matcher that matches '' also
// selects series without the label, so it works by subtraction: remove the series whose value it
// rejects. When no matcher selects positively, the base is the all-series list. (PromQL refuses
// selectors whose matchers all match '' — "vector selector must contain at least one non-empty
// matcher" — but select() itself handles them.) No matchers select nothing.
import type { Labels } from '../labels/labels.js';
import type { Matcher } from '../labels/matcher.js';
import { compareStrings } from '../labels/strings.js';
import type { MemPostings } from './postings.js';
import { EMPTY_POSTINGS, intersectAll, intersects, subtract } from './postings-ops.js';

/** Postings of the series whose value of m.name satisfies m.matches(value) === want. */
function postingsForMatch(p: MemPostings, m: Matcher, want: boolean): Uint32Array {
  const { name, value } = m;
  switch (m.type) {
    case '=':
      return want ? p.postingsFor(name, value) : p.postingsWhere(name, (v) => v !== value);
    case '!=':
      return want ? p.postingsWhere(name, (v) => v !== value) : p.postingsFor(name, value);
    case '=~': {
      const set = m.setMatches();
      if (want && set !== null) return p.postingsForValues(name, set);
      return p.postingsWhere(name, (v) => m.matches(v) === want);
    }
    case '!~': {
      const set = m.setMatches();
      if (!want && set !== null) return p.postingsForValues(name, set);
      return p.postingsWhere(name, (v) => m.matches(v) === want);
    }
    default: {
      const never: never = m.type;
      throw new TypeError(`unknown matcher type ${String(never)}`);
    }
  }
}

/**
 * The sorted refs of the series matching all `matchers` (a new array the caller owns). Matchers of
 * a label that no series has behave as if every series had it empty.
 */
export function select(p: MemPostings, matchers: readonly Matcher[]): Uint32Array {
  if (matchers.length === 0) return EMPTY_POSTINGS;
  // Intersecting: a matcher that rejects '' selects positively. One that accepts '' subtracts:
  // {l!="x"}, {l=""}, {l=~"a|"}, ... (Prometheus distinguishes whether another matcher requires l,
  // but both of its branches remove the series whose value the matcher rejects.)
  const intersecting = (m: Matcher): boolean => !m.matchesEmpty;
  const its: Uint32Array[] = [];
  let single: Uint32Array = EMPTY_POSTINGS; // its[0], and whether we own it (else: an index view)
  let singleOwned = false;
  for (const m of matchers) {
    if (!intersecting(m)) continue;
    const it = postingsForMatch(p, m, true);
    if (it.length === 0) return EMPTY_POSTINGS;
    if (its.length === 0) {
      single = it;
      singleOwned = !isIndexView(m, true);
    }
    its.push(it);
  }
  if (its.length === 0) {
    single = p.allPostings();
    its.push(single);
  }
  // Intermediate results are new arrays; only a lone index view needs copying, and only if no
  // subtraction replaces it first.
  let r = its.length === 1 ? single : intersectAll(its);
  let owned = its.length === 1 ? singleOwned : true;
  for (const m of matchers) {
    if (r.length === 0) break;
    if (intersecting(m)) continue;
    // Remove the series whose value the matcher rejects. Series without the label have '',
    // which the matcher accepts, so they stay.
    const without = postingsForMatch(p, m, false);
    if (without.length > 0) {
      r = subtract(r, without);
      owned = true;
    }
  }
  return owned || r.length === 0 ? r : r.slice();
}

/** Whether postingsForMatch(p, m, want) may return a view into the index rather than a new array. */
function isIndexView(m: Matcher, want: boolean): boolean {
  return (m.type === '=' && want) || (m.type === '!=' && !want);
}

/**
 * Values of label `name` on series matching `matchers`, sorted (Prometheus's label values with
 * matchers). Matchers on `name` itself filter the values directly; with no matchers on other
 * labels no postings are read.
 */
export function labelValuesFor(p: MemPostings, name: string, matchers: readonly Matcher[]): string[] {
  let values = p.labelValuesUnsorted(name);
  let others = false;
  for (const m of matchers) {
    if (m.name !== name) {
      others = true;
      continue;
    }
    values = values.filter((v) => m.matches(v));
  }
  if (values.length > 0 && others) {
    const sel = select(p, matchers);
    values = sel.length === 0 ? [] : values.filter((v) => intersects(p.postingsFor(name, v), sel));
  }
  return values.sort(compareStrings);
}

/** At most this many selected series, labelNamesFor reads their label sets (when it can). */
const NAMES_FROM_SERIES_MAX = 128;

/**
 * Label names of series matching `matchers`, sorted; no matchers: all names. For each name it
 * looks for one value list that meets the selection (stopping at the first). With `labelsOf` (the
 * head's ref -> labels lookup) and a small selection, it reads the selected series' label sets
 * instead, which bounds the work when many names do not occur in the selection.
 */
export function labelNamesFor(p: MemPostings, matchers: readonly Matcher[], labelsOf?: (ref: number) => Labels | undefined): string[] {
  if (matchers.length === 0) return p.labelNames();
  const sel = select(p, matchers);
  if (sel.length === 0) return [];
  if (sel.length === p.numSeries) return p.labelNames();
  if (labelsOf !== undefined && sel.length <= NAMES_FROM_SERIES_MAX) {
    const names = new Set<string>();
    for (let i = 0; i < sel.length; i++) {
      const ls = labelsOf(sel[i] as number);
      if (ls === undefined) continue;
      for (let j = 0; j < ls.length; j += 2) if (ls[j + 1] !== '') names.add(ls[j] as string);
    }
    return [...names].sort(compareStrings);
  }
  const out: string[] = [];
  for (const name of p.labelNames()) {
    let found = false;
    p.forEachValue(name, (_v, list) => {
      if (intersects(list, sel)) {
        found = true;
        return false;
      }
      return true;
    });
    if (found) out.push(name);
  }
  return out;
}
