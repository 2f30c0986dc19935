// Number, duration and string-literal reading as the promqltest scripts need it, following Go's
// strconv (ParseInt with base 0, then ParseFloat, Unquote) and Prometheus's model.ParseDuration.

/** A script-level syntax error; `line` is 1-based (0 when unknown). */
export class ScriptError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.name = 'ScriptError';
    this.line = line;
  }
}

const INT_BASE0 = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/;
const DECIMAL_FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/;
const SPECIAL = /^([+-]?)(inf|infinity)$/i;
const INT64_MAX = (1n << 63n) - 1n;

/** Go's underscoreOK for base-0 integer literals: `_` only between digits or after the prefix. */
function underscoresOk(body: string): boolean {
  if (!body.includes('_')) return true;
  if (body.startsWith('_') || body.endsWith('_') || body.includes('__')) return false;
  // "0_7" (octal) and "0x_1" are fine; "1_000" too.
  return true;
}

/** strconv.ParseInt(s, 0, 64) as a number (rounded like float64(n)), or null when Go would fail. */
export function parseGoInt(s: string): number | null {
  const m = INT_BASE0.exec(s);
  if (m === null) return null;
  const sign = m[1] ?? '';
  let body = m[2] ?? '';
  if (!underscoresOk(body)) return null;
  body = body.replace(/_/g, '');
  let big: bigint;
  if (/^0[xX]/.test(body)) big = BigInt(`0x${body.slice(2)}`);
  else if (/^0[oO]/.test(body)) big = BigInt(`0o${body.slice(2)}`);
  else if (/^0[bB]/.test(body)) big = BigInt(`0b${body.slice(2)}`);
  else if (body.length > 1 && body.startsWith('0')) big = BigInt(`0o${body.slice(1)}`);
  else big = BigInt(body);
  if (sign === '-') big = -big;
  if (big > INT64_MAX || big < -INT64_MAX - 1n) return null;
  return Number(big);
}

/** strconv.ParseFloat(s, 64), or null when Go would fail. */
export function parseGoFloat(s: string): number | null {
  if (DECIMAL_FLOAT.test(s)) return Number(s);
  const sp = SPECIAL.exec(s);
  if (sp !== null) return sp[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  const hx = HEX_FLOAT.exec(s);
  if (hx !== null) {
    const int = hx[2] ?? '';
    const frac = hx[3] ?? '';
    if (int === '' && frac === '') return null;
    const mant = BigInt(`0x${int}${frac}` === '0x' ? '0x0' : `0x${int}${frac}`);
    const v = Number(mant) * 2 ** (Number(hx[4]) - 4 * frac.length);
    return hx[1] === '-' ? -v : v;
  }
  return null;
}

/** The Go runner's parseNumber: ParseInt(s, 0, 64), falling back to ParseFloat(s, 64). */
export function parseGoNumber(s: string): number | null {
  const i = parseGoInt(s);
  if (i !== null) return i;
  return parseGoFloat(s);
}

const DURATION = /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Prometheus model.ParseDuration in milliseconds (`0`, `1m30s`, `500ms`, ...); throws on bad input. */
export function parseDurationMs(s: string): number {
  if (s === '') throw new Error('empty duration string');
  if (s === '0') return 0;
  const m = DURATION.exec(s);
  if (m === null) throw new Error(`not a valid duration string: "${s}"`);
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * (UNIT_MS[i] as number);
  }
  if (!Number.isSafeInteger(ms)) throw new Error(`duration out of range: "${s}"`);
  return ms;
}

/** Appends the UTF-8 encoding of code point `cp` to `out`. */
function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34 };
const UTF8 = new TextDecoder('utf-8');

/**
 * Reads a PromQL string literal ("...", '...' or `...`, Go escapes) starting at `s[i]`.
 * Returns the value and the index just past the closing quote. Byte escapes (\xNN, octal) are
 * collected as UTF-8 bytes; invalid UTF-8 decodes to U+FFFD (JavaScript strings cannot hold it).
 */
export function readStringLiteral(s: string, i: number): { value: string; end: number } {
  const q = s[i];
  if (q !== '"' && q !== "'" && q !== '`') throw new Error(`expected a string literal at column ${i + 1}`);
  if (q === '`') {
    const close = s.indexOf('`', i + 1);
    if (close < 0) throw new Error('unterminated raw string');
    return { value: s.slice(i + 1, close), end: close + 1 };
  }
  const bytes: number[] = [];
  let j = i + 1;
  for (;;) {
    if (j >= s.length) throw new Error('unterminated quoted string');
    const c = s[j] as string;
    if (c === q) return { value: UTF8.decode(new Uint8Array(bytes)), end: j + 1 };
    if (c === '\n') throw new Error('newline in string');
    if (c !== '\\') {
      const cp = s.codePointAt(j) as number;
      pushUtf8(bytes, cp);
      j += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = s[j + 1];
    if (e === undefined) throw new Error('unterminated escape');
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      if ((e === "'" && q === '"') || (e === '"' && q === "'")) throw new Error(`unknown escape sequence \\${e}`);
      bytes.push(simple);
      j += 2;
      continue;
    }
    let hexLen = 0;
    if (e === 'x') hexLen = 2;
    else if (e === 'u') hexLen = 4;
    else if (e === 'U') hexLen = 8;
    if (hexLen > 0) {
      const hex = s.slice(j + 2, j + 2 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLen) throw new Error(`invalid escape \\${e}${hex}`);
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new Error(`invalid Unicode code point \\${e}${hex}`);
        pushUtf8(bytes, v);
      }
      j += 2 + hexLen;
      continue;
    }
    if (e >= '0' && e <= '7') {
      const oct = s.slice(j + 1, j + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error(`invalid octal escape \\${oct}`);
      const v = parseInt(oct, 8);
      if (v > 255) throw new Error(`octal escape out of range \\${oct}`);
      bytes.push(v);
      j += 4;
      continue;
    }
    throw new Error(`unknown escape sequence \\${e}`);
  }
}

/** Go's strconv.Unquote for a whole token (used by `expect string`). */
export function unquote(token: string): string {
  const r = readStringLiteral(token, 0);
  if (r.end !== token.length) throw new Error('trailing characters after the string literal');
  if (token[0] === "'" && [...r.value].length !== 1) throw new Error('single-quoted string must hold one character');
  return r.value;
}
