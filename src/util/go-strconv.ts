// Go's text forms of float64 where they show up in what Prometheus prints or accepts:
// strconv.FormatFloat with the shortest round-trip digits in the 'f', 'e' and 'g' formats (fmt's
// %v and %g are 'g'), fmt's %f (six decimals), and strconv.ParseFloat. Infinities print as
// "+Inf"/"-Inf" and NaN as "NaN", as in Go.

function special(f: number): string | null {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  return null;
}

/** Shortest round-trip digits (no dot) and decimal exponent of |f| (finite, non-zero): d.ddd x 10^exp. */
function shortestDigits(f: number): { digits: string; exp: number } {
  const e = Math.abs(f).toExponential(); // shortest round-trip digits, as Go's -1 precision
  const at = e.indexOf('e');
  return { digits: e.slice(0, at).replace('.', ''), exp: Number(e.slice(at + 1)) };
}

/** d.ddde±XX: the exponent with two digits at least. */
function exponentForm(sign: string, digits: string, exp: number): string {
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const ae = Math.abs(exp);
  return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
}

/** ddd.ddd: no exponent, as many zeros as the position of the digits needs. */
function decimalForm(sign: string, digits: string, exp: number): string {
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return sign + digits + '0'.repeat(intLen - digits.length);
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64): "1000000000000000000000", "0.00000015", "-0". */
export function formatFloatF(f: number): string {
  const s = special(f);
  if (s !== null) return s;
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const { digits, exp } = shortestDigits(f);
  return decimalForm(f < 0 ? '-' : '', digits, exp);
}

/** Go's strconv.FormatFloat(f, 'e', -1, 64): "1e+21", "1.5e-07", "0e+00". */
export function formatFloatE(f: number): string {
  const s = special(f);
  if (s !== null) return s;
  if (f === 0) return Object.is(f, -0) ? '-0e+00' : '0e+00';
  const { digits, exp } = shortestDigits(f);
  return exponentForm(f < 0 ? '-' : '', digits, exp);
}

/**
 * Go's strconv.FormatFloat(f, 'g', -1, 64), which is also fmt's %g and %v (fmt.Sprint): the
 * exponent form below 1e-4 and from 1e6 on, e.g. "1e+06", "1e-05", "0.0001", "123456".
 */
export function formatFloatG(f: number): string {
  const s = special(f);
  if (s !== null) return s;
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const { digits, exp } = shortestDigits(f);
  const sign = f < 0 ? '-' : '';
  return exp < -4 || exp >= 6 ? exponentForm(sign, digits, exp) : decimalForm(sign, digits, exp);
}

/** Go's %f (strconv.FormatFloat(f, 'f', 6, 64)): six decimals, no exponent at any magnitude. */
export function formatFloatF6(f: number): string {
  const s = special(f);
  if (s !== null) return s;
  if (Math.abs(f) >= 1e21) return `${BigInt(f).toString()}.000000`; // toFixed switches to exponents there
  return f.toFixed(6);
}

const DECIMAL = /^[+-]?(?:\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const HEX = /^([+-]?)0[xX]_?((?:[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)?\.?(?:[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)?)[pP]([+-]?\d+(?:_\d+)*)$/;
const SPECIAL = /^([+-]?)(inf|infinity)$/i;

/**
 * Go's strconv.ParseFloat(s, 64): a decimal or hex float, inf/infinity with an optional sign, or
 * nan (any case). Undefined when Go would return an error (syntax, or out of range: ±1e400 is an
 * error). Underscores are accepted only with a base prefix, as Go does.
 */
export function parseGoFloat(s: string): number | undefined {
  if (s === '') return undefined;
  const sp = SPECIAL.exec(s);
  if (sp !== null) return sp[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (DECIMAL.test(s)) {
    if (s.includes('_')) return undefined; // decimal: no underscores in Go
    const f = Number(s.replace(/^\+/, ''));
    if (!Number.isFinite(f)) return undefined; // ErrRange
    return f;
  }
  const h = HEX.exec(s);
  if (h !== null) {
    const mant = (h[2] as string).replace(/_/g, '');
    if (mant === '' || mant === '.') return undefined;
    const [ip = '', fp = ''] = mant.split('.');
    let m = 0;
    for (const c of ip) m = m * 16 + parseInt(c, 16);
    let scale = 1;
    for (const c of fp) {
      scale /= 16;
      m += parseInt(c, 16) * scale;
    }
    const f = m * 2 ** Number((h[3] as string).replace(/_/g, ''));
    if (!Number.isFinite(f)) return undefined;
    return h[1] === '-' ? -f : f;
  }
  return undefined;
}
