// A PromQL tokenizer that behaves like Prometheus's (promql/parser/lex.go): the same token
// boundaries, the same context rules (inside `{...}` only label names, strings and matcher
// operators; inside `[...]` durations and duration arithmetic) and the same error messages.
// The lezer grammar decides the tree; this lexer supplies what lezer does not: exact number,
// duration and string token texts, lexical errors, and token names for syntax error messages.
import { KEYWORDS, goQuoteRune, goRuneU, type Token, type TokenKind } from './tokens.js';

export interface LexError {
  readonly message: string;
  /** the error's reported position (Prometheus's lexer `start`) */
  readonly pos: number;
  /** where the parser would meet the error: before a `)` or `:` whose error is reported after it */
  readonly key: number;
}

export interface LexResult {
  /** all tokens up to (not including) a lexical error, comments skipped, ending with EOF when no error */
  readonly tokens: Token[];
  readonly error: LexError | null;
}

const EOF = -1;

const SINGLE_CHAR_TOKENS: ReadonlyMap<number, TokenKind> = new Map<number, TokenKind>([
  [0x2c, 'COMMA'], [0x2b, 'ADD'], [0x2d, 'SUB'], [0x2a, 'MUL'], [0x2f, 'DIV'], [0x25, 'MOD'], [0x5e, 'POW'],
  [0x28, 'LEFT_PAREN'], [0x29, 'RIGHT_PAREN'],
]);

/** The white space between PromQL tokens (Prometheus isSpace). */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return c === 0x5f || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isAlphaNumeric(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Go's utf8.RuneError: invalid UTF-16 (lone surrogates) and U+FFFD itself. */
function isRuneError(c: number): boolean {
  return c === 0xfffd || (c >= 0xd800 && c <= 0xdfff);
}

class LexFailure extends Error {
  constructor(readonly lexError: LexError) {
    super(lexError.message);
  }
}

class Lexer {
  pos = 0;
  start = 0;
  width = 0;
  parenDepth = 0;
  braceOpen = false;
  bracketOpen = false;
  gotColon = false;
  gotDuration = false;
  /** inside `[`, before the first number/duration: Prometheus's lexDurationExpr state */
  durationState = false;
  readonly tokens: Token[] = [];

  constructor(readonly input: string) {}

  next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    const c = this.input.codePointAt(this.pos) as number;
    this.width = c > 0xffff ? 2 : 1;
    this.pos += this.width;
    return c;
  }

  peek(): number {
    const c = this.next();
    this.backup();
    return c;
  }

  backup(): void {
    this.pos -= this.width;
    this.width = 0;
  }

  accept(valid: (c: number) => boolean): boolean {
    if (valid(this.next())) return true;
    this.backup();
    return false;
  }

  acceptChars(chars: string): boolean {
    return this.accept((c) => c !== EOF && chars.includes(String.fromCodePoint(c)));
  }

  emit(kind: TokenKind): void {
    this.tokens.push({ kind, start: this.start, end: this.pos, text: this.input.slice(this.start, this.pos) });
    this.start = this.pos;
  }

  ignore(): void {
    this.start = this.pos;
  }

  fail(message: string): never {
    throw new LexFailure({ message, pos: this.start, key: this.start });
  }

  /** An error found right after emitting a token: Prometheus replaces that token with the error. */
  failAfterEmit(message: string): never {
    const tok = this.tokens.pop() as Token;
    throw new LexFailure({ message, pos: this.start, key: tok.start });
  }

  run(): void {
    for (;;) {
      if (this.braceOpen) {
        if (!this.insideBraces()) return;
      } else if (this.durationState) {
        if (!this.durationExpr()) return;
      } else if (!this.statements()) {
        return;
      }
    }
  }

  skipSpaces(): void {
    while (isSpace(this.peek())) this.next();
    this.ignore();
  }

  lineComment(): void {
    for (;;) {
      const c = this.next();
      if (c === EOF || c === 0x0a || c === 0x0d) break;
    }
    this.backup();
    this.ignore();
  }

  /** lexStatements; false at the end of input */
  statements(): boolean {
    if (this.input.startsWith('#', this.pos)) {
      this.lineComment();
      return true;
    }
    const r = this.next();
    switch (r) {
      case EOF:
        if (this.parenDepth !== 0) this.fail('unclosed left parenthesis');
        if (this.bracketOpen) this.fail('unclosed left bracket');
        this.emit('EOF');
        return false;
      case 0x3d: {
        // =
        const t = this.peek();
        if (t === 0x3d) {
          this.next();
          this.emit('EQLC');
        } else if (t === 0x7e) {
          this.fail(`unexpected character after '=': ${goQuoteRune(t)}`);
        } else {
          this.emit('EQL');
        }
        return true;
      }
      case 0x21: {
        // !
        const t = this.next();
        if (t !== 0x3d) this.fail(`unexpected character after '!': ${goQuoteRune(t)}`);
        this.emit('NEQ');
        return true;
      }
      case 0x3c: // <
        if (this.peek() === 0x3d) {
          this.next();
          this.emit('LTE');
        } else if (this.peek() === 0x2f) {
          this.next();
          this.emit('TRIM_UPPER');
        } else this.emit('LSS');
        return true;
      case 0x3e: // >
        if (this.peek() === 0x3d) {
          this.next();
          this.emit('GTE');
        } else if (this.peek() === 0x2f) {
          this.next();
          this.emit('TRIM_LOWER');
        } else this.emit('GTR');
        return true;
      case 0x22: // "
      case 0x27: // '
        this.string(r);
        return true;
      case 0x60: // `
        this.rawString();
        return true;
      case 0x7b: // {
        this.emit('LEFT_BRACE');
        this.braceOpen = true;
        return true;
      case 0x5b: // [
        if (this.bracketOpen) this.fail(`unexpected left bracket ${goQuoteRune(r)}`);
        this.gotColon = false;
        this.gotDuration = false;
        this.emit('LEFT_BRACKET');
        this.skipSpaces();
        this.bracketOpen = true;
        this.durationState = true;
        return true;
      case 0x5d: // ]
        if (!this.bracketOpen) this.fail(`unexpected right bracket ${goQuoteRune(r)}`);
        this.emit('RIGHT_BRACKET');
        this.bracketOpen = false;
        return true;
      case 0x40: // @
        this.emit('AT');
        return true;
      default:
        break;
    }
    if (this.operatorOrParen(r)) return true;
    if (isSpace(r)) {
      this.skipSpaces();
      return true;
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      this.numberOrDuration();
      return true;
    }
    if (isAlpha(r) || r === 0x3a) {
      if (!this.bracketOpen) {
        this.backup();
        this.keywordOrIdentifier();
        return true;
      }
      if (r === 0x3a) {
        if (this.gotColon) this.fail(`unexpected colon ${goQuoteRune(r)}`);
        if (this.peek() === 0x3a) {
          this.next();
          this.emit('DOUBLE_COLON');
        } else this.emit('COLON');
        this.gotColon = true;
        return true;
      }
      if ('sSmMrR'.includes(String.fromCharCode(r)) && this.durationKeyword()) return true;
      this.fail(`unexpected character: ${goQuoteRune(r)}, expected ${goQuoteRune(0x3a)}`);
    }
    this.fail(`unexpected character: ${goQuoteRune(r)}`);
  }

  /** The tokens both lexStatements and lexDurationExpr read the same way: , + - * / % ^ ( ) */
  operatorOrParen(r: number): boolean {
    const kind = SINGLE_CHAR_TOKENS.get(r);
    if (kind === undefined) return false;
    this.emit(kind);
    if (r === 0x28) this.parenDepth++;
    else if (r === 0x29 && --this.parenDepth < 0) this.failAfterEmit(`unexpected right parenthesis ${goQuoteRune(r)}`);
    return true;
  }

  /** lexDurationExpr: right after `[` (until the first number or duration) */
  durationExpr(): boolean {
    const r = this.next();
    switch (r) {
      case EOF:
        this.fail('unexpected end of input in duration expression');
        break;
      case 0x5d: // ]
        this.emit('RIGHT_BRACKET');
        this.bracketOpen = false;
        this.gotColon = false;
        this.durationState = false;
        return true;
      case 0x3a: // :
        this.emit('COLON');
        if (!this.gotDuration) this.failAfterEmit('unexpected colon before duration in duration expression');
        if (this.gotColon) this.failAfterEmit('unexpected repeated colon in duration expression');
        this.gotColon = true;
        return true;
      default:
        break;
    }
    if (this.operatorOrParen(r)) return true;
    if (isSpace(r)) {
      this.skipSpaces();
      return true;
    }
    if ('sSmMrR'.includes(String.fromCharCode(r)) && r > 0) {
      if (this.durationKeyword()) return true;
      this.fail(`unexpected character in duration expression: ${goQuoteRune(r)}`);
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      this.gotDuration = true;
      this.durationState = false;
      this.numberOrDuration();
      return true;
    }
    this.fail(`unexpected character in duration expression: ${goQuoteRune(r)}`);
  }

  /** scanDurationKeyword: step, range, min_of, max_of inside `[...]` (the first letter is consumed) */
  durationKeyword(): boolean {
    while (isAlpha(this.peek())) this.next();
    const word = this.input.slice(this.start, this.pos).toLowerCase();
    const kind: TokenKind | undefined = ({ step: 'STEP', range: 'RANGE', min_of: 'MIN_OF', max_of: 'MAX_OF' } as Record<string, TokenKind>)[word];
    if (kind === undefined) return false;
    this.emit(kind);
    return true;
  }

  insideBraces(): boolean {
    if (this.input.startsWith('#', this.pos)) {
      this.lineComment();
      return true;
    }
    const r = this.next();
    if (r === EOF) this.fail('unexpected end of input inside braces');
    if (isSpace(r)) {
      this.skipSpaces();
      return true;
    }
    if (isAlpha(r)) {
      while (isAlphaNumeric(this.peek())) this.next();
      this.emit('IDENTIFIER');
      return true;
    }
    switch (r) {
      case 0x2c:
        this.emit('COMMA');
        return true;
      case 0x22:
      case 0x27:
        this.string(r);
        return true;
      case 0x60:
        this.rawString();
        return true;
      case 0x3d:
        if (this.next() === 0x7e) {
          this.emit('EQL_REGEX');
          return true;
        }
        this.backup();
        this.emit('EQL');
        return true;
      case 0x21: {
        const nr = this.next();
        if (nr === 0x7e) this.emit('NEQ_REGEX');
        else if (nr === 0x3d) this.emit('NEQ');
        else this.fail(`unexpected character after '!' inside braces: ${goQuoteRune(nr)}`);
        return true;
      }
      case 0x7b:
        this.fail(`unexpected left brace ${goQuoteRune(r)}`);
        break;
      case 0x7d:
        this.emit('RIGHT_BRACE');
        this.braceOpen = false;
        return true;
      default:
        break;
    }
    this.fail(`unexpected character inside braces: ${goQuoteRune(r)}`);
  }

  string(quote: number): void {
    for (;;) {
      const c = this.next();
      if (c === 0x5c) {
        this.escape(quote);
        continue;
      }
      if (c === EOF || c === 0x0a) this.fail('unterminated quoted string');
      if (isRuneError(c)) this.fail('invalid UTF-8 rune');
      if (c === quote) break;
    }
    this.emit('STRING');
  }

  escape(quote: number): void {
    let c = this.next();
    let n: number;
    let base: number;
    let max: number;
    switch (c) {
      case 0x61: // a b f n r t v \
      case 0x62:
      case 0x66:
      case 0x6e:
      case 0x72:
      case 0x74:
      case 0x76:
      case 0x5c:
        return;
      case quote:
        return;
      case 0x30:
      case 0x31:
      case 0x32:
      case 0x33:
      case 0x34:
      case 0x35:
      case 0x36:
      case 0x37:
        n = 3;
        base = 8;
        max = 255;
        break;
      case 0x78: // x
        c = this.next();
        n = 2;
        base = 16;
        max = 255;
        break;
      case 0x75: // u
        c = this.next();
        n = 4;
        base = 16;
        max = 0x10ffff;
        break;
      case 0x55: // U
        c = this.next();
        n = 8;
        base = 16;
        max = 0x10ffff;
        break;
      case EOF:
        this.fail('escape sequence not terminated');
        break;
      default:
        this.fail(`unknown escape sequence ${goRuneU(c)}`);
    }
    let x = 0;
    while (n > 0) {
      const d = digitVal(c);
      if (d >= base) {
        if (c === EOF) this.fail('escape sequence not terminated');
        this.fail(`illegal character ${goRuneU(c)} in escape sequence`);
      }
      x = x * base + d;
      n--;
      if (n > 0) c = this.next();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) this.fail('escape sequence is an invalid Unicode code point');
  }

  rawString(): void {
    for (;;) {
      const c = this.next();
      if (c === EOF) this.fail('unterminated raw string');
      if (isRuneError(c)) this.fail('invalid UTF-8 rune');
      if (c === 0x60) break;
    }
    this.emit('STRING');
  }

  numberOrDuration(): void {
    if (this.scanNumber()) {
      this.emit('NUMBER');
      return;
    }
    if (this.acceptRemainingDuration()) {
      this.backup();
      this.emit('DURATION');
      return;
    }
    this.fail(`bad number or duration syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
  }

  acceptRemainingDuration(): boolean {
    if (!this.acceptChars('smhdwy')) return false;
    this.acceptChars('s');
    while (this.accept(isDigit)) {
      while (this.accept(isDigit));
      if (!this.acceptChars('smhdw')) return false;
      this.acceptChars('s');
    }
    return !isAlphaNumeric(this.next());
  }

  scanNumber(): boolean {
    const initial = this.pos;
    let digit: (c: number) => boolean = isDigit;
    let hex = false;
    if (this.acceptChars('0') && this.acceptChars('xX')) {
      this.acceptChars('_');
      digit = isHexDigit;
      hex = true;
    }
    const is = (f: (c: number) => boolean): boolean => f(this.peek());
    const isDot = (c: number): boolean => c === 0x2e;
    const isExp = (c: number): boolean => c === 0x65 || c === 0x45;
    const isUnderscore = (c: number): boolean => c === 0x5f;
    this.accept(isDot);
    this.accept(digit);
    let dot = false;
    let exp = false;
    while (is((c) => digit(c) || isDot(c) || isUnderscore(c) || isExp(c))) {
      if (is(isDot) && dot) {
        this.accept(isDot);
        return false;
      }
      if (is(isExp) && exp) {
        this.accept(isExp);
        return false;
      }
      if (this.accept(isDot)) {
        dot = true;
        if (this.acceptChars('_.')) return false;
        if (hex) return false;
        continue;
      }
      if (this.accept(isExp)) {
        exp = true;
        this.acceptChars('+-');
        if (this.acceptChars('._eE') || this.peek() === EOF) return false;
        continue;
      }
      if (this.accept(isUnderscore)) {
        if (this.acceptChars('._eE') || this.peek() === EOF) return false;
        continue;
      }
      while (this.accept(digit));
    }
    if (this.pos === initial) return false;
    return !isAlphaNumeric(this.peek());
  }

  keywordOrIdentifier(): void {
    for (;;) {
      const c = this.next();
      if (!(isAlphaNumeric(c) || c === 0x3a)) break;
    }
    this.backup();
    const word = this.input.slice(this.start, this.pos);
    const kw = KEYWORDS.get(word.toLowerCase());
    if (kw !== undefined) {
      if ((kw === 'FILL' || kw === 'FILL_LEFT' || kw === 'FILL_RIGHT') && !this.followedByLeftParen()) {
        this.emit('IDENTIFIER');
      } else {
        this.emit(kw);
      }
      return;
    }
    this.emit(word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER');
  }

  followedByLeftParen(): boolean {
    for (let i = this.pos; i < this.input.length; i++) {
      const c = this.input.charCodeAt(i);
      if (!isSpace(c)) return c === 0x28;
    }
    return false;
  }
}

function digitVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 16;
}

/** Tokenizes a query the way Prometheus's lexer does; stops at the first lexical error. */
export function lex(input: string): LexResult {
  const l = new Lexer(input);
  try {
    l.run();
  } catch (err) {
    if (err instanceof LexFailure) return { tokens: l.tokens, error: err.lexError };
    throw err;
  }
  return { tokens: l.tokens, error: null };
}
