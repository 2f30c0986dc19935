// Number and string literals the way Prometheus reads and prints them (Go's strconv).

/** A literal Prometheus rejects: the message is what Prometheus reports. */
export class LiteralError extends Error {}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's underscoreOK: `_` only between digits, or between a base prefix and a digit. */
function underscoresOk(s: string): boolean {
  let saw = '^';
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1] as string)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt(s, 0, 64), or null where Go fails (syntax or range). */
function parseIntBase0(s: string): number | null {
  if (!/^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$/.test(s)) return null;
  if (s.includes('_') && !underscoresOk(s)) return null;
  const body = s.replace(/_/g, '');
  let big: bigint;
  if (/^0[xXoObB]/.test(body)) {
    if (body.length === 2) return null;
    big = BigInt(body.toLowerCase());
  } else if (body.length > 1 && body[0] === '0') {
    if (!/^[0-7]+$/.test(body)) return null;
    big = BigInt('0o' + body.slice(1));
  } else {
    big = BigInt(body);
  }
  if (big > INT64_MAX || big < INT64_MIN) return null;
  return Number(big);
}

/** strconv.ParseFloat(s, 64) for the decimal forms PromQL's lexer produces (and inf/nan). */
function parseFloat64(s: string): number {
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === 'infinity' || lower === '+inf' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  const syntax = (): never => {
    throw new LiteralError(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  };
  if (!/^[+-]?(\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?$/.test(s)) syntax();
  if (s.includes('_') && !underscoresOk(s)) syntax();
  const v = Number(s.replace(/_/g, ''));
  if (!Number.isFinite(v)) throw new LiteralError(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`);
  return v;
}

/** Prometheus's parser.number(): ParseInt(s, 0, 64), else ParseFloat(s, 64). Throws LiteralError. */
export function parseNumberLiteral(s: string): number {
  const i = parseIntBase0(s);
  if (i !== null) return i;
  return parseFloat64(s);
}

// ---- strings ----------------------------------------------------------------------------

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

/**
 * UTF-8 bytes to a JS string. Bytes that are not valid UTF-8 (possible through `\x`/octal escapes)
 * become lone surrogates U+DC80..U+DCFF ("surrogateescape"), so no information is lost and such
 * strings stay recognizably invalid; formatExpr prints them back as `\xNN`.
 */
export function decodeUtf8Escaped(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let cp = -1;
    let len = 1;
    if (b < 0x80) {
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
    }
    if (cp < 0 && len > 1 && i + len <= bytes.length) {
      let v = b & (0xff >> (len + 1));
      let ok = true;
      for (let j = 1; j < len; j++) {
        const c = bytes[i + j] as number;
        if ((c & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        v = (v << 6) | (c & 0x3f);
      }
      const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) cp = v;
      else len = 1;
    } else if (cp < 0) {
      len = 1;
    }
    if (cp < 0) {
      out += String.fromCharCode(0xdc00 + b);
      i += 1;
    } else {
      out += String.fromCodePoint(cp);
      i += len;
    }
  }
  return out;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34 };

/**
 * Prometheus's strutil.Unquote: "..." and '...' with Go escapes (\x and octal escapes are bytes,
 * \u and \U code points), `...` raw. Throws LiteralError("invalid syntax") on malformed input
 * (the lexer already rejects that, so the parser never sees it).
 */
export function unquoteString(s: string): string {
  const n = s.length;
  const bad = (): never => {
    throw new LiteralError('invalid syntax');
  };
  if (n < 2) bad();
  const quote = s[0] as string;
  if (quote !== s[n - 1]) bad();
  const body = s.slice(1, n - 1);
  if (quote === '`') {
    if (body.includes('`')) bad();
    return body;
  }
  if (quote !== '"' && quote !== "'") bad();
  if (body.includes('\n')) bad();
  if (!body.includes('\\') && !body.includes(quote)) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const cp = body.codePointAt(i) as number;
    if (cp !== 0x5c) {
      if (String.fromCodePoint(cp) === quote) bad();
      pushUtf8(bytes, cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const c = body[i + 1];
    if (c === undefined) bad();
    const esc = c as string;
    if (esc === "'" || esc === '"') {
      if (esc !== quote) bad();
      bytes.push(esc.charCodeAt(0));
      i += 2;
      continue;
    }
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
      continue;
    }
    if (esc >= '0' && esc <= '7') {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) bad();
      const v = parseInt(oct, 8);
      if (v > 255) bad();
      bytes.push(v);
      i += 4;
      continue;
    }
    const width = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
    if (width === 0) bad();
    const hex = body.slice(i + 2, i + 2 + width);
    if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) bad();
    const v = parseInt(hex, 16);
    if (esc === 'x') bytes.push(v);
    else {
      if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) bad();
      pushUtf8(bytes, v);
    }
    i += 2 + width;
  }
  return decodeUtf8Escaped(bytes);
}
