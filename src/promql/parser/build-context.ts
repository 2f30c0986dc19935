// The builder's state and helpers shared by ./build.ts, ./build-durations.ts and
// ./build-modifiers.ts: the position map, token lookups, literal values and error collection.
import type { parser } from '@prometheus-io/lezer-promql';
import type { NumberLiteral, VectorMatchCardinality, VectorSelector } from '../ast.js';
import { parseDurationMs } from './duration.js';
import { LiteralError, parseNumberLiteral, unquoteString } from './literals.js';
import type { Sanitized } from './sanitize.js';
import { goQuoteString, type Token } from './tokens.js';

export type Tree = ReturnType<typeof parser.parse>;
export type SyntaxNode = Tree['topNode'];

/** Parser options (Prometheus parser.Options). All default to false, as in Prometheus. */
export interface ParseOptions {
  /** functions and aggregations marked experimental (Prometheus --enable-feature=promql-experimental-functions) */
  enableExperimentalFunctions?: boolean;
  /** arithmetic in durations: `[5m+1m]`, `offset (1h/2)`, `[step()]` (promql-duration-expr) */
  experimentalDurationExpr?: boolean;
  /** `anchored` / `smoothed` range selector modifiers (promql-extended-range-selectors) */
  enableExtendedRangeSelectors?: boolean;
  /** `fill(v)`, `fill_left(v)`, `fill_right(v)` on binary operators (promql-binop-fill-modifiers) */
  enableBinopFillModifiers?: boolean;
}

export interface PendingError {
  readonly message: string;
  readonly start: number;
  readonly end: number;
  /** where Prometheus's parser raises it: errors are reported in this order */
  readonly key: number;
}

/** Matching as written, before the checks (the AST holds the normalized form). */
export interface RawMatching {
  readonly card: VectorMatchCardinality;
  readonly matchingLabels: readonly string[];
  readonly on: boolean;
  readonly include: readonly string[];
  readonly fill: { readonly lhs: number | null; readonly rhs: number | null } | undefined;
}

export class Bail extends Error {}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** time.Duration.Seconds() of a whole number of milliseconds. */
function durationSeconds(ms: number): number {
  const sec = Math.trunc(ms / 1000);
  const nsec = (ms % 1000) * 1e6;
  return sec + nsec / 1e9;
}

/** Position mapping, tokens, literal values and error collection for one parse. */
export class BuildContext {
  readonly errors: PendingError[] = [];
  private readonly tokenStarts: number[];

  constructor(
    readonly query: string,
    readonly tokens: readonly Token[],
    readonly san: Sanitized,
    readonly opts: ParseOptions,
  ) {
    this.tokenStarts = tokens.map((t) => t.start);
    for (const c of san.trailingCommas) this.errors.push({ ...c, key: c.start });
  }

  o(pos: number): number {
    return this.san.toOriginal(pos);
  }

  kids(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c !== null; c = c.nextSibling) {
      if (c.type.isError) throw new Bail();
      out.push(c);
    }
    return out;
  }

  text(n: SyntaxNode): string {
    return this.query.slice(this.o(n.from), this.o(n.to));
  }

  fail(message: string, start: number, end: number, key: number): void {
    this.errors.push({ message, start, end, key });
  }

  /** The token starting at pos. */
  tokenAt(pos: number): Token | undefined {
    const i = this.tokenIndex(pos);
    const t = this.tokens[i];
    return t !== undefined && t.start === pos ? t : undefined;
  }

  /** Index of the first token starting at or after pos. */
  tokenIndex(pos: number): number {
    let lo = 0;
    let hi = this.tokenStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.tokenStarts[mid] as number) < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Tokens lying within [from, to). */
  tokensIn(from: number, to: number): Token[] {
    const out: Token[] = [];
    for (let i = this.tokenIndex(from); i < this.tokens.length; i++) {
      const t = this.tokens[i] as Token;
      if (t.kind === 'EOF' || t.end > to) break;
      out.push(t);
    }
    return out;
  }

  /** A NUMBER or DURATION token's value (seconds for durations). */
  tokenValue(t: Token): { val: number; duration: boolean } {
    if (t.kind === 'DURATION') {
      try {
        return { val: durationSeconds(parseDurationMs(t.text)), duration: true };
      } catch (err) {
        if (!(err instanceof LiteralError)) throw err;
        this.fail(err.message, t.start, t.end, t.end);
        return { val: 0, duration: true };
      }
    }
    if (t.kind !== 'NUMBER') throw new Bail();
    try {
      return { val: parseNumberLiteral(t.text), duration: false };
    } catch (err) {
      if (!(err instanceof LiteralError)) throw err;
      this.fail(`error parsing number: ${err.message}`, t.start, t.end, t.end);
      return { val: 0, duration: false };
    }
  }

  /** Leading sign tokens of a literal node and its number token. */
  signedNumber(n: SyntaxNode): { signs: Token[]; num: Token } {
    const toks = this.tokensIn(this.o(n.from), this.o(n.to));
    const signs: Token[] = [];
    let i = 0;
    while (toks[i]?.kind === 'ADD' || toks[i]?.kind === 'SUB') signs.push(toks[i++] as Token);
    const num = toks[i];
    if (num === undefined || i !== toks.length - 1) throw new Bail();
    return { signs, num };
  }

  numberLiteral(n: SyntaxNode): NumberLiteral {
    const { signs, num } = this.signedNumber(n);
    const { val, duration } = this.tokenValue(num);
    let v = val;
    for (const s of signs) if (s.kind === 'SUB') v *= -1;
    const lit: Mutable<NumberLiteral> = { type: 'NumberLiteral', val: v, pos: { start: this.o(n.from), end: this.o(n.to) } };
    if (duration) lit.duration = true;
    return lit;
  }

  unquote(t: { start: number; end: number; text: string }): string {
    try {
      return unquoteString(t.text);
    } catch (err) {
      if (!(err instanceof LiteralError)) throw err;
      this.fail(`error unquoting string ${goQuoteString(t.text)}: ${err.message}`, t.start, t.end, t.end);
      return '';
    }
  }

  stringNode(n: SyntaxNode): string {
    const start = this.o(n.from);
    const end = this.o(n.to);
    return this.unquote({ start, end, text: this.query.slice(start, end) });
  }

  dummySelector(start: number, end: number): VectorSelector {
    return { type: 'VectorSelector', name: '', matchers: [], offset: 0, at: null, pos: { start, end } };
  }
}
