// Token kinds of Prometheus's PromQL lexer (promql/parser/lex.go) and how its parser names them
// in error messages ("unexpected <op:*>", `unexpected identifier "foo"`, "unexpected end of input").

import { isGoPrintable, quoteCodePoint } from '../../tsdb/labels/strings.js';

export type TokenKind =
  | 'EOF'
  | 'IDENTIFIER'
  | 'METRIC_IDENTIFIER'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  // punctuation
  | 'LEFT_PAREN'
  | 'RIGHT_PAREN'
  | 'LEFT_BRACE'
  | 'RIGHT_BRACE'
  | 'LEFT_BRACKET'
  | 'RIGHT_BRACKET'
  | 'COMMA'
  | 'EQL'
  | 'COLON'
  | 'DOUBLE_COLON'
  // operators
  | 'ADD'
  | 'SUB'
  | 'MUL'
  | 'DIV'
  | 'MOD'
  | 'POW'
  | 'EQLC'
  | 'NEQ'
  | 'LSS'
  | 'LTE'
  | 'GTR'
  | 'GTE'
  | 'TRIM_UPPER'
  | 'TRIM_LOWER'
  | 'EQL_REGEX'
  | 'NEQ_REGEX'
  | 'AT'
  | 'ATAN2'
  | 'LAND'
  | 'LOR'
  | 'LUNLESS'
  // aggregators
  | 'SUM'
  | 'AVG'
  | 'COUNT'
  | 'MIN'
  | 'MAX'
  | 'GROUP'
  | 'STDDEV'
  | 'STDVAR'
  | 'TOPK'
  | 'BOTTOMK'
  | 'COUNT_VALUES'
  | 'QUANTILE'
  | 'LIMITK'
  | 'LIMIT_RATIO'
  // keywords
  | 'BOOL'
  | 'BY'
  | 'GROUP_LEFT'
  | 'GROUP_RIGHT'
  | 'IGNORING'
  | 'OFFSET'
  | 'ON'
  | 'WITHOUT'
  | 'SMOOTHED'
  | 'ANCHORED'
  | 'FILL'
  | 'FILL_LEFT'
  | 'FILL_RIGHT'
  // preprocessors / duration functions
  | 'START'
  | 'END'
  | 'STEP'
  | 'RANGE'
  | 'MIN_OF'
  | 'MAX_OF';

export interface Token {
  readonly kind: TokenKind;
  /** UTF-16 offsets into the query */
  readonly start: number;
  readonly end: number;
  /** the token's text as written */
  readonly text: string;
}

/** Words the lexer turns into keyword tokens (matched case-insensitively); inf/nan become NUMBER. */
export const KEYWORDS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  ['and', 'LAND'],
  ['or', 'LOR'],
  ['unless', 'LUNLESS'],
  ['atan2', 'ATAN2'],
  ['sum', 'SUM'],
  ['avg', 'AVG'],
  ['count', 'COUNT'],
  ['min', 'MIN'],
  ['max', 'MAX'],
  ['group', 'GROUP'],
  ['stddev', 'STDDEV'],
  ['stdvar', 'STDVAR'],
  ['topk', 'TOPK'],
  ['bottomk', 'BOTTOMK'],
  ['count_values', 'COUNT_VALUES'],
  ['quantile', 'QUANTILE'],
  ['limitk', 'LIMITK'],
  ['limit_ratio', 'LIMIT_RATIO'],
  ['offset', 'OFFSET'],
  ['smoothed', 'SMOOTHED'],
  ['anchored', 'ANCHORED'],
  ['by', 'BY'],
  ['without', 'WITHOUT'],
  ['on', 'ON'],
  ['ignoring', 'IGNORING'],
  ['group_left', 'GROUP_LEFT'],
  ['group_right', 'GROUP_RIGHT'],
  ['fill', 'FILL'],
  ['fill_left', 'FILL_LEFT'],
  ['fill_right', 'FILL_RIGHT'],
  ['bool', 'BOOL'],
  ['start', 'START'],
  ['end', 'END'],
  ['step', 'STEP'],
  ['range', 'RANGE'],
  ['inf', 'NUMBER'],
  ['nan', 'NUMBER'],
]);

const OPERATORS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW', 'EQLC', 'NEQ', 'LSS', 'LTE', 'GTR', 'GTE', 'TRIM_UPPER', 'TRIM_LOWER', 'EQL_REGEX', 'NEQ_REGEX', 'AT', 'ATAN2',
  'LAND', 'LOR', 'LUNLESS',
]);

export const AGGREGATORS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'SUM', 'AVG', 'COUNT', 'MIN', 'MAX', 'GROUP', 'STDDEV', 'STDVAR', 'TOPK', 'BOTTOMK', 'COUNT_VALUES', 'QUANTILE', 'LIMITK', 'LIMIT_RATIO',
]);

const KEYWORD_KINDS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'BOOL', 'BY', 'GROUP_LEFT', 'GROUP_RIGHT', 'IGNORING', 'OFFSET', 'ON', 'WITHOUT', 'SMOOTHED', 'ANCHORED', 'FILL', 'FILL_LEFT', 'FILL_RIGHT',
]);

/** Kinds with a fixed spelling that Prometheus prints quoted: `unexpected ","`. */
const PUNCTUATION: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'LEFT_PAREN', 'RIGHT_PAREN', 'LEFT_BRACE', 'RIGHT_BRACE', 'LEFT_BRACKET', 'RIGHT_BRACKET', 'COMMA', 'EQL', 'COLON', 'DOUBLE_COLON',
  'START', 'END', 'STEP', 'RANGE', 'MIN_OF', 'MAX_OF',
]);

export function isOperatorKind(k: TokenKind): boolean {
  return OPERATORS.has(k);
}

export function isKeywordKind(k: TokenKind): boolean {
  return KEYWORD_KINDS.has(k);
}

/**
 * How Prometheus's parser names a token in "unexpected ..." messages (Item.desc()):
 * `end of input`, `"("`, `<op:+>`, `<aggr:sum>`, `<by>`, `identifier "foo"`, `number "1"`,
 * `string "\"a\""` (values over 10 characters are cut: `"\"some_stri"...`).
 */
export function describeToken(t: Token): string {
  const k = t.kind;
  if (k === 'EOF') return 'end of input';
  if (OPERATORS.has(k)) return `<op:${t.text}>`;
  if (AGGREGATORS.has(k)) return `<aggr:${t.text}>`;
  if (KEYWORD_KINDS.has(k)) return `<${t.text}>`;
  if (PUNCTUATION.has(k)) return quoteShort(t.text);
  switch (k) {
    case 'IDENTIFIER':
      return `identifier ${goQuoteString(t.text)}`;
    case 'METRIC_IDENTIFIER':
      return `metric identifier ${goQuoteString(t.text)}`;
    case 'NUMBER':
      return `number ${quoteShort(t.text)}`;
    case 'DURATION':
      return `duration ${quoteShort(t.text)}`;
    case 'STRING':
      return `string ${quoteShort(t.text)}`;
    default:
      return quoteShort(t.text);
  }
}

/** Go's `%q`, or `%.10q...` for values longer than 10 bytes (Item.String()). */
function quoteShort(s: string): string {
  if (utf8Length(s) > 10) return `${goQuoteString(Array.from(s).slice(0, 10).join(''))}...`;
  return goQuoteString(s);
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Go's escaping of one code point inside %q (tsdb/labels quoteCodePoint). `quote` is the quote
 * character in use. Code points U+DC80..U+DCFF that stand alone stand for raw bytes 0x80..0xFF
 * (see unquoteString) and print as \xNN.
 */
function escapeCodePoint(cp: number, quote: number): string {
  if (cp >= 0xdc80 && cp <= 0xdcff) return `\\x${(cp - 0xdc00).toString(16)}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  return quoteCodePoint(cp, quote);
}

function* codePoints(s: string): Generator<number> {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        yield 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        continue;
      }
    }
    yield c;
  }
}

/** Go's strconv.Quote (`%q` of a string). */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const cp of codePoints(s)) out += escapeCodePoint(cp, 0x22);
  return out + '"';
}

/** Go's strconv.QuoteRune (`%q` of a rune): `'x'`, `'\''`, `'\n'`. */
export function goQuoteRune(cp: number): string {
  if (cp < 0) cp = 0xfffd;
  return `'${escapeCodePoint(cp, 0x27)}'`;
}

/** Go's `%#U` of a rune: `U+0063 'c'` (the character only when printable). */
export function goRuneU(cp: number): string {
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return isGoPrintable(cp) ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
