// Series selectors of the API: match[] (Prometheus's parseMatchersParam), the `U__` escaping of
// label names in paths, and whether a query reads any series (query_exemplars).
import type { Expr, LabelMatcher } from '../../promql/ast.js';
import { parseMetricSelector } from '../../promql/parser/index.js';
import type { StorageMatcher } from '../../promql/value.js';
import { Matcher } from '../../tsdb/labels/index.js';
import { errorMessage, invalidParam } from './params.js';

/** Whether an expression reads any series (parser.ExtractSelectors is not empty). */
export function hasSelectors(e: Expr): boolean {
  switch (e.type) {
    case 'VectorSelector':
      return true;
    case 'MatrixSelector':
      return true;
    case 'NumberLiteral':
    case 'StringLiteral':
      return false;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      return hasSelectors(e.expr);
    case 'BinaryExpr':
      return hasSelectors(e.lhs) || hasSelectors(e.rhs);
    case 'AggregateExpr':
      return hasSelectors(e.expr) || (e.param !== null && hasSelectors(e.param));
    case 'Call':
      return e.args.some(hasSelectors);
    default: {
      const never: never = e;
      throw new Error(`unknown node ${(never as { type: string }).type}`);
    }
  }
}

/**
 * Prometheus's parseMatchersParam: each match[] a series selector (parser.ParseMetricSelectors),
 * and each selector with at least one matcher that does not match the empty string.
 */
export function parseMatchersParam(values: readonly string[]): StorageMatcher[][] {
  const sets: StorageMatcher[][] = [];
  for (const v of values) {
    let ms: readonly LabelMatcher[];
    try {
      ms = parseMetricSelector(v);
    } catch (err) {
      throw invalidParam('match[]', errorMessage(err));
    }
    sets.push(ms.map((m) => ({ type: m.type, name: m.name, value: m.value }) as StorageMatcher));
  }
  for (const set of sets) {
    if (!set.some((m) => !new Matcher(m.type, m.name, m.value).matchesEmpty)) {
      throw invalidParam('match[]', 'match[] must contain at least one non-empty matcher');
    }
  }
  return sets;
}

/**
 * prometheus/common model.UnescapeName with ValueEncodingEscaping ("U__" names in label paths):
 * "__" is "_", "_<hex>_" a code point; anything malformed leaves the name as it was.
 */
export function unescapeName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const s = name.slice(3);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '_') {
      if (!/[a-zA-Z0-9:]/.test(c)) return name;
      out += c;
      continue;
    }
    if (s[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const close = s.indexOf('_', i + 1);
    if (close < 0) return name;
    const hex = s.slice(i + 1, close);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length > 8) return name;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return name;
    out += String.fromCodePoint(cp);
    i = close;
  }
  return out;
}
