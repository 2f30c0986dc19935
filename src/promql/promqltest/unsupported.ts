// Experimental Prometheus 3.x features Muninn does not support (yet). Evals that need one are
// reported as "skipped", never as passed or failed. The list is by feature, each with the reason
// and how an eval is recognised as needing it: from its query text (with string literals blanked
// out, so label values cannot match) or from the data loaded since the last `clear`.
//
// Everything else runs, including the experimental *functions* (mad_over_time, sort_by_label,
// limitk, limit_ratio, histogram_quantiles, ts_of_*, double_exponential_smoothing, ...), which
// the engine enables for these scripts as Prometheus's runner does, and type_and_unit.test
// (Prometheus runs it without the type-and-unit-labels feature flag: __type__ and __unit__ are
// dropped with the metric name, which our engine does too).
//
// Duration expressions (`[26m+4m]`, `offset (100 + 2)`, step(), range(), min_of(), max_of()) and
// the binary-operator fill modifiers are experimental too, but the engine implements them: they
// run, with the parser options of Prometheus's runner (corpus.ts PARSER_OPTIONS).
import type { EvalCommand } from './script.js';

export interface EvalContext {
  /** the data loaded since the last clear has `@st` start timestamps */
  readonly startTimestamps: boolean;
}

export interface UnsupportedFeature {
  readonly name: string;
  readonly reason: string;
  readonly needs: (query: string, cmd: EvalCommand, ctx: EvalContext) => boolean;
}

/** The query with the contents of string literals removed ("..." -> ""), comments dropped. */
export function blankStrings(q: string): string {
  let out = '';
  for (let i = 0; i < q.length; i++) {
    const c = q[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < q.length && q[j] !== c) j += c !== '`' && q[j] === '\\' ? 2 : 1;
      out += c + c;
      i = j;
    } else if (c === '#') {
      const nl = q.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
    } else {
      out += c;
    }
  }
  return out;
}

export const UNSUPPORTED_FEATURES: readonly UnsupportedFeature[] = [
  {
    name: 'extended-range-selectors',
    reason:
      'the `anchored` and `smoothed` range-selector modifiers (Prometheus 3.x --enable-feature=promql-extended-range-selectors) parse, but the engine does not evaluate them',
    needs: (q) => /\b(?:anchored|smoothed)\b/i.test(q),
  },
  {
    name: 'info-function',
    reason: 'the experimental info() function (enrichment from target_info and other info metrics) is not implemented',
    needs: (q) => /(?<![a-zA-Z0-9_:])info\s*\(/.test(q),
  },
  {
    name: 'start-timestamps',
    reason: 'per-sample start timestamps (`@st` data, start_timestamp()) are not part of our storage model',
    needs: (q, _cmd, ctx) => ctx.startTimestamps || /\bstart_timestamp\s*\(/.test(q),
  },
];

/** The first unsupported feature an eval needs, or null. */
export function unsupportedFeature(cmd: EvalCommand, ctx: EvalContext, features: readonly UnsupportedFeature[] = UNSUPPORTED_FEATURES): UnsupportedFeature | null {
  const q = blankStrings(cmd.expr);
  for (const f of features) if (f.needs(q, cmd, ctx)) return f;
  return null;
}
