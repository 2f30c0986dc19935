// The PromQL parser: query text -> AST (../ast.ts), with Prometheus's syntax and semantic checks
// and error messages. @prometheus-io/lezer-promql supplies the tree; ./lexer.ts (a copy of
// Prometheus's lexer behaviour) supplies tokens, literal values and lexical errors; ./build.ts
// turns the tree into the AST; ./check.ts runs Prometheus's checkAST. See docs/promql.md.
import { parser } from '@prometheus-io/lezer-promql';
import type { Expr, LabelMatcher, VectorSelector } from '../ast.js';
import { PromQLError } from '../engine/api.js';
import { Bail, Builder, type ParseOptions } from './build.js';
import { CheckError, checkExpr } from './check.js';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { ParseError } from './errors.js';
import { lex } from './lexer.js';
import { LiteralError } from './literals.js';
import { sanitize } from './sanitize.js';
import { syntaxError } from './syntax.js';
import { describeToken, type Token } from './tokens.js';

export { ParseError, positionString } from './errors.js';
export type { ParseOptions } from './build.js';
export { formatExpr } from './format.js';
export { documentedType } from './check.js';
export {
  resolveDurationExprs,
  hasDynamicDurations,
  evalDurationSeconds,
  formatDurationExpr,
  type DurationContext,
} from './duration-expr.js';

interface Candidate {
  readonly message: string;
  readonly start: number;
  readonly end: number;
  readonly key: number;
  /** tie-break at equal keys: grammar actions (0) before lexical (1) before syntax errors (2) */
  readonly rank: number;
}

interface Parsed {
  readonly expr: Expr;
  readonly tokens: readonly Token[];
}

function parseInternal(input: string, opts: ParseOptions, check: boolean): Parsed {
  const { tokens, error: lexError } = lex(input);
  if (lexError === null && tokens.length === 1) throw new ParseError(input, { start: 0, end: 0 }, 'no expression found in input');
  const san = sanitize(input, tokens, lexError?.key ?? null);
  const tree = parser.parse(san.text);
  const candidates: Candidate[] = [];
  if (lexError !== null) candidates.push({ message: lexError.message, start: lexError.pos, end: input.length, key: lexError.key, rank: 1 });
  let firstError: number | null = null;
  tree.iterate({
    enter(n) {
      if (!n.type.isError) return undefined;
      if (firstError === null || n.from < firstError) firstError = n.from;
      return false;
    },
  });
  if (firstError !== null) {
    const se = syntaxError(input, tokens, san.toOriginal(firstError));
    candidates.push({ ...se, key: se.start, rank: 2 });
  }
  const builder = new Builder(input, tokens, san, opts);
  let expr: Expr | null = null;
  let bailed = false;
  try {
    expr = builder.top(tree.topNode);
  } catch (err) {
    if (!(err instanceof Bail)) throw err;
    bailed = true;
    builder.salvage(tree.topNode);
  }
  for (const e of builder.errors) candidates.push({ ...e, rank: 0 });
  if (candidates.length > 0) {
    let best = candidates[0] as Candidate;
    for (const c of candidates) if (c.key < best.key || (c.key === best.key && c.rank < best.rank)) best = c;
    throw new ParseError(input, { start: best.start, end: best.end }, best.message);
  }
  // a tree the builder does not understand without any error to report: a bug
  if (bailed) throw new Error(`unexpected parse tree for ${JSON.stringify(input)}`);
  if (expr === null) throw new ParseError(input, { start: 0, end: 0 }, 'no expression found in input');
  if (check) {
    try {
      checkExpr(input, expr, builder.rawMatching);
    } catch (err) {
      if (err instanceof CheckError) throw new ParseError(input, err.position, err.detail);
      throw err;
    }
  }
  return { expr, tokens };
}

function guarded<T>(input: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ParseError) throw err;
    // A bug here must not surface as anything but a parse error (Prometheus: ErrUnexpected).
    const e = new ParseError(input, { start: 0, end: 0 }, 'unexpected error');
    (e as { cause?: unknown }).cause = err;
    throw e;
  }
}

/**
 * Parses a PromQL expression. Throws ParseError (errorType bad_data) with Prometheus's message,
 * e.g. `1:5: parse error: unexpected end of input`.
 */
export function parseExpr(input: string, opts: ParseOptions = {}): Expr {
  return guarded(input, () => parseInternal(input, opts, true).expr);
}

/**
 * Parses a series selector (`match[]` of the series/labels APIs): `name{...}` or `{...}`, no
 * offset or @. Like Prometheus's ParseMetricSelector it does not require a non-empty matcher.
 * The metric name, when given outside the braces, is the last matcher.
 */
export function parseMetricSelector(input: string): LabelMatcher[] {
  return guarded(input, () => {
    const { expr, tokens } = parseInternal(input, {}, false);
    if (expr.type === 'VectorSelector' && expr.offset === 0 && expr.at === null && expr.offsetExpr === undefined) {
      return [...(expr as VectorSelector).matchers];
    }
    // Report the first token after the selector, as Prometheus's grammar does.
    let i = 0;
    const first = tokens[0];
    if (first !== undefined && first.kind !== 'LEFT_BRACE') i++;
    if (tokens[i]?.kind === 'LEFT_BRACE') {
      while (i < tokens.length && tokens[i]?.kind !== 'RIGHT_BRACE') i++;
      i++;
    }
    const t = tokens[Math.min(i, tokens.length - 1)] as Token;
    throw new ParseError(input, { start: t.start, end: t.end }, `unexpected ${describeToken(t)}`);
  });
}

/**
 * Prometheus duration syntax to milliseconds: `1h30m`, `5m`, `1d`, `1w`, `1y`, `500ms`, `0`.
 * Throws PromQLError (bad_data): `not a valid duration string: "5x"`.
 */
export function parseDuration(s: string): number {
  try {
    return parseDurationMs(s);
  } catch (err) {
    if (err instanceof LiteralError) throw new PromQLError('bad_data', err.message);
    throw err;
  }
}

/** Milliseconds as Prometheus prints a duration: `1h30m`, `90d`, `0s`, `-5m`. */
export function formatDuration(ms: number): string {
  return formatDurationMs(ms);
}
