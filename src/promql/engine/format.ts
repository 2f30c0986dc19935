// Go's float formatting where the engine prints numbers into labels or messages:
// strconv.FormatFloat(f, 'f', -1, 64) (count_values) and %g (warnings).

/** Shortest round-trip digits and decimal exponent of |f| (f finite, non-zero): 0.d1d2... x 10^dp. */
function digits(f: number): { digs: string; dp: number } {
  const [mant, exp] = Math.abs(f).toExponential().split('e') as [string, string];
  const digs = mant.replace('.', '');
  return { digs, dp: Number(exp) + 1 };
}

function special(f: number): string | null {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  return null;
}

/** strconv.FormatFloat(f, 'f', -1, 64). */
export function formatFloatF(f: number): string {
  const s = special(f);
  if (s !== null) return s;
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const { digs, dp } = digits(f);
  const sign = f < 0 ? '-' : '';
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digs}`;
  if (dp >= digs.length) return sign + digs + '0'.repeat(dp - digs.length);
  return `${sign}${digs.slice(0, dp)}.${digs.slice(dp)}`;
}

/** fmt's %g / strconv.FormatFloat(f, 'g', -1, 64). */
export function formatG(f: number): string {
  const s = special(f);
  if (s !== null) return s;
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const { digs, dp } = digits(f);
  const exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    // %e with the shortest digits, exponent with at least two digits
    const sign = f < 0 ? '-' : '';
    const m = digs.length > 1 ? `${digs[0]}.${digs.slice(1)}` : digs;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return formatFloatF(f);
}
