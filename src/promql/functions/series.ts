// Functions about series rather than values: absent, absent_over_time, label_replace, label_join,
// sort, sort_desc, sort_by_label, sort_by_label_desc.
import { RE2JS } from 're2js';
import { type Expr, unwrapParens } from '../ast.js';
import { PromQLError } from '../engine/api.js';
import { compareStrings, labelsCompare, type Labels as BrandedLabels } from '../../tsdb/labels/index.js';
import type { Labels, Sample, Vector } from '../value.js';
import type { FunctionImpl } from './types.js';
import {
  assertUniqueLabelsets,
  EMPTY_LABELS,
  floatSample,
  getLabel,
  hasPoints,
  isValidLabelName,
  matrixArg,
  METRIC_NAME,
  setLabel,
  stringArg,
  vectorArg,
} from './util.js';

/**
 * The labels absent() reports: the equality matchers of the selector (not __name__); a label
 * matched more than once, or by another matcher type, is left out (Prometheus
 * createLabelsForAbsentFunction). Anything but a selector gives no labels.
 */
export function absentLabels(e: Expr | undefined): Labels {
  const x = e === undefined ? undefined : unwrapParens(e);
  const vs = x?.type === 'VectorSelector' ? x : x?.type === 'MatrixSelector' ? x.vectorSelector : null;
  if (vs === null) return EMPTY_LABELS;
  let ls: Labels = EMPTY_LABELS;
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      ls = setLabel(ls, m.name, m.value);
      has.add(m.name);
    } else {
      ls = setLabel(ls, m.name, '');
    }
  }
  return ls;
}

const absent: FunctionImpl = (args, ctx) => {
  if (vectorArg(args, 0).length > 0) return [];
  return [floatSample(absentLabels(ctx.args[0]), ctx.t, 1, false)];
};

const absentOverTime: FunctionImpl = (args, ctx) => {
  if (matrixArg(args, 0, ctx).m.some(hasPoints)) return [];
  return [floatSample(absentLabels(ctx.args[0]), ctx.t, 1, false)];
};

// ---- label_replace / label_join ------------------------------------------------------------

const regexCache = new Map<string, RE2JS>();

function compileAnchored(regex: string): RE2JS {
  let re = regexCache.get(regex);
  if (re === undefined) {
    try {
      re = RE2JS.compile(`^(?s:${regex})$`);
    } catch {
      throw new PromQLError('execution', `invalid regular expression in label_replace(): ${regex}`);
    }
    if (regexCache.size >= 256) regexCache.clear();
    regexCache.set(regex, re);
  }
  return re;
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/**
 * Go's Regexp.Expand: $1, ${1}, $name, ${name} (a name is the longest run of letters, digits and
 * underscores), $$ for $; a missing or unmatched group is empty; a malformed reference is kept.
 */
export function expandTemplate(template: string, group: (ref: number | string) => string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    let j = brace ? i + 1 : i;
    let name = '';
    for (const ch of template.slice(j)) {
      if (!NAME_CHAR.test(ch)) break;
      name += ch;
    }
    j += name.length;
    if (name === '' || (brace && template[j] !== '}')) {
      out += '$'; // malformed: the $ is literal text
      continue;
    }
    i = brace ? j + 1 : j;
    const num = /^(0|[1-9][0-9]{0,8})$/.test(name) ? Number(name) : -1;
    out += group(num >= 0 ? num : name);
  }
  return out + template.slice(i);
}

const labelReplace: FunctionImpl = (args) => {
  const v = vectorArg(args, 0);
  const dst = stringArg(args, 1);
  const repl = stringArg(args, 2);
  const src = stringArg(args, 3);
  const regexStr = stringArg(args, 4);
  const re = compileAnchored(regexStr);
  if (!isValidLabelName(dst)) throw new PromQLError('execution', `invalid destination label name in label_replace(): ${dst}`);
  const named = re.namedGroups();
  const groups = re.groupCount();
  const out: Vector = [];
  for (const s of v) {
    const m = re.matcher(getLabel(s.metric, src));
    if (!m.matches()) {
      out.push(s);
      continue;
    }
    const value = expandTemplate(repl, (ref) => {
      const idx = typeof ref === 'number' ? ref : named[ref];
      if (idx === undefined || idx > groups) return '';
      return m.group(idx) ?? '';
    });
    out.push(relabel(s, dst, value));
  }
  assertUniqueLabelsets(out);
  return out;
};

function relabel(s: Sample, dst: string, value: string): Sample {
  const out: Sample = { metric: setLabel(s.metric, dst, value), t: s.t, f: s.f, h: s.h };
  // Setting __name__ explicitly keeps it; otherwise the input's pending name removal stands.
  if (dst !== METRIC_NAME && s.dropName === true) out.dropName = true;
  return out;
}

const labelJoin: FunctionImpl = (args) => {
  const v = vectorArg(args, 0);
  const dst = stringArg(args, 1);
  const sep = stringArg(args, 2);
  const srcs: string[] = [];
  for (let i = 3; i < args.length; i++) {
    const src = stringArg(args, i);
    if (!isValidLabelName(src)) throw new PromQLError('execution', `invalid source label name in label_join(): ${src}`);
    srcs.push(src);
  }
  if (!isValidLabelName(dst)) throw new PromQLError('execution', `invalid destination label name in label_join(): ${dst}`);
  const out = v.map((s) => relabel(s, dst, srcs.map((l) => getLabel(s.metric, l)).join(sep)));
  assertUniqueLabelsets(out);
  return out;
};

// ---- sorting -------------------------------------------------------------------------------

/** sort/sort_desc: float samples by value, NaN last in both directions (histograms are dropped). */
function sortByValue(desc: boolean): FunctionImpl {
  return (args) =>
    vectorArg(args, 0)
      .filter((s) => s.h === null)
      .sort((a, b) => {
        if (Number.isNaN(a.f)) return Number.isNaN(b.f) ? 0 : 1;
        if (Number.isNaN(b.f)) return -1;
        const c = a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
        return desc ? -c : c;
      });
}

/** github.com/facette/natsort Compare (used as "less"): digit runs compare as integers. */
export function natLess(a: string, b: string): boolean {
  const ca = a.match(/\d+|\D+/g) ?? [];
  const cb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < ca.length; i++) {
    if (i >= cb.length) return false;
    const x = ca[i] as string;
    const y = cb[i] as string;
    const xi = atoi(x);
    const yi = atoi(y);
    if (xi !== null && yi !== null) {
      if (xi === yi) {
        if (i === ca.length - 1) return true;
        if (i === cb.length - 1) return false;
        continue;
      }
      return xi < yi;
    }
    if (x === y) {
      if (i === ca.length - 1) return true;
      if (i === cb.length - 1) return false;
      continue;
    }
    return compareStrings(x, y) < 0;
  }
  return false;
}

const MAX_INT64 = 9223372036854775807n;

/** strconv.Atoi on a run of ASCII digits: the value, or null on int64 overflow (or non-digits). */
function atoi(s: string): bigint | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return v > MAX_INT64 ? null : v;
}

function sortByLabel(desc: boolean): FunctionImpl {
  return (args) => {
    const names: string[] = [];
    for (let i = 1; i < args.length; i++) names.push(stringArg(args, i));
    return vectorArg(args, 0)
      .slice()
      .sort((a, b) => {
        for (const n of names) {
          const x = getLabel(a.metric, n);
          const y = getLabel(b.metric, n);
          if (x === y) continue;
          const less = natLess(x, y);
          return desc ? (less ? 1 : -1) : less ? -1 : 1;
        }
        const c = labelsCompare(a.metric as BrandedLabels, b.metric as BrandedLabels);
        return desc ? -c : c;
      });
  };
}

export const SERIES_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['absent', absent],
  ['absent_over_time', absentOverTime],
  ['label_replace', labelReplace],
  ['label_join', labelJoin],
  ['sort', sortByValue(false)],
  ['sort_desc', sortByValue(true)],
  ['sort_by_label', sortByLabel(false)],
  ['sort_by_label_desc', sortByLabel(true)],
];
