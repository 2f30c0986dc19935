// Label matchers with Prometheus semantics.
//
// - A series without label `a` has `a` = "" for matching: {a=""} selects series without `a`,
//   {a!=""} those with it, {a=~".*"} all, {a=~".+"} those with it.
// - Regexes are RE2 syntax (re2js: linear time, so user regexes cannot hang the process), fully
//   anchored as if written ^(?:re)$, with `.` matching newlines too (Prometheus parses with
//   syntax.Perl|syntax.DotNL).
// - Fast paths, decided by a small scanner over the regex text (anything it does not recognize goes
//   to RE2, so the fast paths never change what matches): a literal (`foo`, `foo\.bar`), an
//   alternation of literals (`a|b|c`, also exposed as setMatches() so postings can look the values
//   up directly), and a literal framed by `.*`/`.+` on either side (`foo.*`, `.*foo`, `.*foo.*`,
//   `.+`, `.*`).
import { RE2JS } from 're2js';
import { InvalidMatcherError } from './errors.js';
import { formatLabelName, goQuote } from './strings.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

const MATCH_TYPES: ReadonlySet<string> = new Set<MatchType>(['=', '!=', '=~', '!~']);

type Test = (v: string) => boolean;

export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** matches('') — whether the matcher selects series that lack the label. */
  readonly matchesEmpty: boolean;
  readonly #test: Test; // for =~ and !~: the anchored regex (positive sense)
  readonly #set: readonly string[] | null;

  /** Throws InvalidMatcherError for an unknown type or a malformed regex. */
  constructor(type: MatchType, name: string, value: string) {
    if (!MATCH_TYPES.has(type)) {
      throw new InvalidMatcherError('invalid_match_type', `invalid label matcher type ${goQuote(String(type))} (want one of =, !=, =~, !~)`);
    }
    this.type = type;
    this.name = name;
    this.value = value;
    if (type === '=~' || type === '!~') {
      const c = compileRegex(name, value);
      this.#test = c.test;
      this.#set = c.set;
    } else {
      this.#test = alwaysFalse;
      this.#set = null;
    }
    this.matchesEmpty = this.matches('');
  }

  matches(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.#test(v);
      case '!~':
        return !this.#test(v);
      default: {
        const never: never = this.type;
        throw new InvalidMatcherError('invalid_match_type', `invalid label matcher type ${String(never)}`);
      }
    }
  }

  /**
   * For =~ and !~: the exact values the regex matches when it is a case-sensitive alternation of
   * literals (`a|b|c`, or one literal), else null. For = and !=: null.
   */
  setMatches(): readonly string[] | null {
    return this.#set;
  }

  /** The matcher selecting exactly what this one rejects. */
  inverse(): Matcher {
    switch (this.type) {
      case '=':
        return new Matcher('!=', this.name, this.value);
      case '!=':
        return new Matcher('=', this.name, this.value);
      case '=~':
        return new Matcher('!~', this.name, this.value);
      case '!~':
        return new Matcher('=~', this.name, this.value);
      default: {
        const never: never = this.type;
        throw new InvalidMatcherError('invalid_match_type', `invalid label matcher type ${String(never)}`);
      }
    }
  }

  /** `name="value"` (operator between), as Prometheus prints a matcher. */
  toString(): string {
    return `${formatLabelName(this.name)}${this.type}${goQuote(this.value)}`;
  }
}

function alwaysFalse(): boolean {
  return false;
}

/** Shorthands for building matchers in code and tests. */
export const eq = (name: string, value: string): Matcher => new Matcher('=', name, value);
export const neq = (name: string, value: string): Matcher => new Matcher('!=', name, value);
export const re = (name: string, value: string): Matcher => new Matcher('=~', name, value);
export const nre = (name: string, value: string): Matcher => new Matcher('!~', name, value);

interface Compiled {
  test: Test;
  set: readonly string[] | null;
}

function compileRegex(name: string, src: string): Compiled {
  const alts = literalAlternatives(src);
  if (alts !== null) {
    const set = Object.freeze([...new Set(alts)]);
    if (set.length === 1) {
      const only = set[0] as string;
      return { test: (v) => v === only, set };
    }
    if (set.length <= 8) return { test: (v) => set.includes(v), set };
    const lookup = new Set(set);
    return { test: (v) => lookup.has(v), set };
  }
  const framed = framedLiteral(src);
  if (framed !== null) return { test: framed, set: null };
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(src, RE2JS.DOTALL);
  } catch (err) {
    throw new InvalidMatcherError('invalid_regex', `invalid regular expression ${goQuote(src)} in matcher for label ${goQuote(name)}: ${regexErrorText(src, err)}`, { cause: err });
  }
  return { test: (v) => compiled.testExact(v), set: null };
}

/** The parser's message, mentioning the user's own regex (compiling with DOTALL adds "(?s)"). */
function regexErrorText(src: string, err: unknown): string {
  try {
    RE2JS.compile(src);
  } catch (plain) {
    if (plain instanceof Error && plain.message !== '') return plain.message;
  }
  if (err instanceof Error && err.message !== '') return err.message;
  return String(err);
}

// Characters with a meaning in RE2 syntax outside a character class. Everything else is literal.
const META = new Set(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']);

function isAsciiPunct(c: string): boolean {
  const x = c.charCodeAt(0);
  return (x >= 0x21 && x <= 0x2f) || (x >= 0x3a && x <= 0x40) || (x >= 0x5b && x <= 0x60) || (x >= 0x7b && x <= 0x7e);
}

/**
 * Reads a literal from src[i..end) up to an unescaped `stop` char (or end). Escapes of ASCII
 * punctuation (`\.`) are literal; any other escape or metacharacter makes it not a literal.
 * Returns [literal, index of the stop char or end], or null.
 */
function readLiteral(src: string, i: number, end: number, stop: string): [string, number] | null {
  let lit = '';
  while (i < end) {
    const c = src[i] as string;
    if (c === stop) break;
    if (c === '\\') {
      const next = src[i + 1];
      if (next === undefined || !isAsciiPunct(next)) return null;
      lit += next;
      i += 2;
      continue;
    }
    if (META.has(c)) return null;
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) return null; // leave astral/invalid text to RE2
    lit += c;
    i++;
  }
  return [lit, i];
}

/** `lit`, or `lit1|lit2|...` with only literals: the literals; else null. */
function literalAlternatives(src: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    const r = readLiteral(src, i, src.length, '|');
    if (r === null) return null;
    out.push(r[0]);
    if (r[1] >= src.length) return out;
    i = r[1] + 1;
  }
}

/**
 * `[.*|.+] literal [.*|.+]` with at least one frame: a test using startsWith / endsWith /
 * indexOf; else null. `.` matches any character (newlines too), so `.+` only needs one more code
 * unit, and `.*` anything.
 */
function framedLiteral(src: string): Test | null {
  let i = 0;
  let end = src.length;
  let lead = -1; // -1: none, 0: .*, 1: .+
  let trail = -1;
  if (src.startsWith('.*') || src.startsWith('.+')) {
    lead = src[1] === '*' ? 0 : 1;
    i = 2;
  }
  if (end - i >= 2 && src[end - 2] === '.' && (src[end - 1] === '*' || src[end - 1] === '+') && !escapedAt(src, end - 2)) {
    trail = src[end - 1] === '*' ? 0 : 1;
    end -= 2;
  }
  if (lead < 0 && trail < 0) return null;
  const r = readLiteral(src, i, end, '');
  if (r === null) return null;
  const lit = r[0];
  const minLead = lead < 0 ? 0 : lead;
  const minTrail = trail < 0 ? 0 : trail;
  if (lead < 0) {
    return trail === 0 ? (v) => v.startsWith(lit) : (v) => v.length > lit.length && v.startsWith(lit);
  }
  if (trail < 0) {
    return lead === 0 ? (v) => v.endsWith(lit) : (v) => v.length > lit.length && v.endsWith(lit);
  }
  if (lit === '') {
    const min = minLead + minTrail; // characters (code points), not UTF-16 units
    if (min === 0) return () => true;
    if (min === 1) return (v) => v.length > 0;
    return (v) => v.length > 2 || (v.length === 2 && !isSurrogatePair(v.charCodeAt(0), v.charCodeAt(1)));
  }
  return (v) => {
    // The first occurrence at or after minLead leaves the most room for the trailing frame.
    const at = v.indexOf(lit, minLead);
    return at >= 0 && v.length - at - lit.length >= minTrail;
  };
}

function isSurrogatePair(hi: number, lo: number): boolean {
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

/** Whether src[i] is preceded by an odd number of backslashes. */
function escapedAt(src: string, i: number): boolean {
  let n = 0;
  for (let j = i - 1; j >= 0 && src[j] === '\\'; j--) n++;
  return n % 2 === 1;
}
