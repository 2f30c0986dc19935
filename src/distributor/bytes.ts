// Checks on byte ranges of a request body, for validation without creating strings: UTF-8
// validity and rune counts exactly as Go's unicode/utf8 sees them (Mimir is written in Go, and its
// limits and checks are defined by Go's view of a string), and Prometheus' legacy name rules.

/**
 * Width of the UTF-8 sequence starting at b[p] (p < end), or 0 if it is not a valid one (Go then
 * takes that byte as one RuneError). Valid means: shortest form, no surrogates, at most U+10FFFF.
 */
export function utf8SeqWidth(b: Uint8Array, p: number, end: number): number {
  const c = b[p]!;
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0; // continuation byte, or C0/C1 (overlong)
  if (c < 0xe0) return p + 1 < end && (b[p + 1]! & 0xc0) === 0x80 ? 2 : 0;
  if (c < 0xf0) {
    if (p + 2 >= end) return 0;
    const c1 = b[p + 1]!;
    const lo = c === 0xe0 ? 0xa0 : 0x80; // E0: no overlongs
    const hi = c === 0xed ? 0x9f : 0xbf; // ED: no surrogates
    return c1 >= lo && c1 <= hi && (b[p + 2]! & 0xc0) === 0x80 ? 3 : 0;
  }
  if (c < 0xf5) {
    if (p + 3 >= end) return 0;
    const c1 = b[p + 1]!;
    const lo = c === 0xf0 ? 0x90 : 0x80; // F0: no overlongs
    const hi = c === 0xf4 ? 0x8f : 0xbf; // F4: nothing above U+10FFFF
    return c1 >= lo && c1 <= hi && (b[p + 2]! & 0xc0) === 0x80 && (b[p + 3]! & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

/** True if b[start, end) is valid UTF-8 (Go's utf8.Valid). ASCII runs cost one compare a byte. */
export function isValidUtf8(b: Uint8Array, start: number, end: number): boolean {
  let p = start;
  while (p < end) {
    if (b[p]! < 0x80) {
      p++;
      continue;
    }
    const w = utf8SeqWidth(b, p, end);
    if (w === 0) return false;
    p += w;
  }
  return true;
}

/** Number of runes in b[start, end) as Go counts them (each invalid byte is one rune). */
export function runeCount(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  let p = start;
  while (p < end) {
    if (b[p]! < 0x80) p++;
    else p += utf8SeqWidth(b, p, end) || 1;
    n++;
  }
  return n;
}

/**
 * The largest length <= max at which b[start, end) can be cut without splitting a rune, where an
 * invalid byte counts as a rune of its own (as Go's `for i := range s` steps through a string).
 */
export function runeBoundaryAtMost(b: Uint8Array, start: number, end: number, max: number): number {
  if (end - start <= max) return end - start;
  let p = start;
  let last = 0;
  while (p < end) {
    const off = p - start;
    if (off > max) break;
    last = off;
    p += b[p]! < 0x80 ? 1 : utf8SeqWidth(b, p, end) || 1;
  }
  return last;
}

const NAME_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-zA-Z_]/.test(ch)) NAME_CHAR[c] = 1; // may start a legacy name
  else if (/[0-9]/.test(ch)) NAME_CHAR[c] = 2; // may continue one
}
const COLON = 0x3a;

/** Prometheus' legacy label name: [a-zA-Z_][a-zA-Z0-9_]* */
export function isLegacyLabelName(b: Uint8Array, start: number, end: number): boolean {
  if (start === end || NAME_CHAR[b[start]!] !== 1) return false;
  for (let p = start + 1; p < end; p++) if (NAME_CHAR[b[p]!] === 0) return false;
  return true;
}

/** Prometheus' legacy metric name: [a-zA-Z_:][a-zA-Z0-9_:]* */
export function isLegacyMetricName(b: Uint8Array, start: number, end: number): boolean {
  if (start === end) return false;
  const c0 = b[start]!;
  if (NAME_CHAR[c0] !== 1 && c0 !== COLON) return false;
  for (let p = start + 1; p < end; p++) {
    const c = b[p]!;
    if (NAME_CHAR[c] === 0 && c !== COLON) return false;
  }
  return true;
}

/** True if b[as, ae) and b[bs, be) hold the same bytes. */
export function rangesEqual(b: Uint8Array, as: number, ae: number, bs: number, be: number): boolean {
  const n = ae - as;
  if (n !== be - bs) return false;
  for (let k = 0; k < n; k++) if (b[as + k] !== b[bs + k]) return false;
  return true;
}

/** True if b[start, end) holds exactly the ASCII bytes of `s`. */
export function rangeIs(b: Uint8Array, start: number, end: number, s: Uint8Array): boolean {
  if (end - start !== s.length) return false;
  for (let k = 0; k < s.length; k++) if (b[start + k] !== s[k]) return false;
  return true;
}

/** True if b[start, end) ends with the ASCII bytes of `s`. */
export function rangeEndsWith(b: Uint8Array, start: number, end: number, s: Uint8Array): boolean {
  if (end - start < s.length) return false;
  const from = end - s.length;
  for (let k = 0; k < s.length; k++) if (b[from + k] !== s[k]) return false;
  return true;
}

/** At most `max` code points of s, plus whether anything was cut (for error messages only). */
export function truncateRunes(s: string, max: number): { text: string; cut: boolean } {
  if (s.length <= max) return { text: s, cut: false };
  let n = 0;
  let i = 0;
  while (i < s.length && n < max) {
    const cp = s.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    n++;
  }
  return { text: s.slice(0, i), cut: i < s.length };
}
