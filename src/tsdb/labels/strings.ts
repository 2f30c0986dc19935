// String helpers shared by labels and matchers: Prometheus's (Go's) string order and quoting.
//
// Go compares strings byte-wise over UTF-8, which is code point order. JavaScript's `<` compares
// UTF-16 code units, which differs when one side has a surrogate pair (a code point >= U+10000)
// and the other a BMP character in U+E000..U+FFFF. compareStrings() gives Go's order.

/** Go's string order (UTF-8 bytes = code points): negative, 0 or positive. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        // Surrogates (code points >= U+10000) sort after U+E000..U+FFFF.
        x += x >= 0xe000 ? -0x800 : 0x2000;
        y += y >= 0xe000 ? -0x800 : 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label name in the classic charset `[a-zA-Z_][a-zA-Z0-9_]*` (printed unquoted). */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME.test(name);
}

const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/; // printable ASCII except " and \
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u; // Go's unicode.IsPrint minus the space
const HEX = '0123456789abcdef';

/** Go's unicode.IsPrint for one code point: letters, marks, numbers, punctuation, symbols, ASCII space. */
export function isGoPrintable(cp: number): boolean {
  if (cp >= 0x20 && cp < 0x7f) return true;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

/**
 * Go's strconv.Quote: a double-quoted string with Go escapes. Printable characters (letters,
 * marks, numbers, punctuation, symbols, ASCII space) stay as they are; \a \b \f \n \r \t \v \\ \"
 * use short escapes; other control characters become \xNN, other non-printable BMP characters
 * \uNNNN and others \UNNNNNNNN. A lone surrogate (invalid UTF-16) prints as U+FFFD, which is what
 * its UTF-8 encoding holds.
 */
export function goQuote(s: string): string {
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      } else {
        cp = 0xfffd;
      }
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      cp = 0xfffd;
    }
    out += quoteCodePoint(cp);
  }
  return out + '"';
}

/**
 * One code point (not a surrogate) inside a Go quoted literal, as strconv.Quote (quote `"`) and
 * strconv.QuoteRune (quote `'`) escape it: the quote character and \ escaped, \a \b \f \n \r \t \v,
 * printable characters as they are, other control characters \xNN, others \uNNNN or \UNNNNNNNN.
 */
export function quoteCodePoint(cp: number, quote = 0x22): string {
  if (cp === quote || cp === 0x5c) return '\\' + String.fromCharCode(cp);
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
    default:
      break;
  }
  if (isGoPrintable(cp)) return String.fromCodePoint(cp);
  if (cp < 0x20 || cp === 0x7f) return '\\x' + HEX[cp >> 4] + HEX[cp & 15];
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** A label name as Prometheus prints it: bare when legacy-valid, otherwise quoted. */
export function formatLabelName(name: string): string {
  return isLegacyLabelName(name) ? name : goQuote(name);
}
