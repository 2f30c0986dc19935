// Go-style durations ("300ms", "1m30s", "2h0m0s"), as Mimir's flags and YAML take them.
// Values are held as milliseconds (a float, so "1.5ms" and "250us" survive); Infinity stands for
// Go's maximum duration, which Mimir prints as 2562047h47m16.854775807s and means "no limit".

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 6e10,
  h: 3.6e12,
};

/** Go's math.MaxInt64 nanoseconds, as Go prints it. */
export const GO_MAX_DURATION = '2562047h47m16.854775807s';
const MAX_FINITE_MS = 9_223_372_036_854; // MaxInt64 ns in ms, rounded down

export class DurationParseError extends Error {
  constructor(input: string, why: string) {
    super(`invalid duration "${input}": ${why}`);
    this.name = 'DurationParseError';
  }
}

/** Parses a Go duration. "infinity"/"inf" and Go's maximum give Infinity. */
export function parseDuration(input: string): number {
  const s = input.trim();
  if (s === '') throw new DurationParseError(input, 'empty');
  if (s === 'infinity' || s === 'inf' || s === GO_MAX_DURATION) return Infinity;
  if (s === '0') return 0;
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '') throw new DurationParseError(input, 'no number');
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (m === null) throw new DurationParseError(input, 'expected a number followed by a unit (ns, us, ms, s, m, h)');
    const num = Number(m[1]);
    const unit = UNIT_NS[m[2] as string] as number;
    total += num * unit;
    rest = rest.slice(m[0].length);
  }
  const ms = total / 1e6;
  if (ms >= MAX_FINITE_MS) return sign > 0 ? Infinity : -Infinity;
  return sign * ms;
}

/** Formats milliseconds the way Go's time.Duration.String() does ("2m0s", "1h30m0s", "150ms"). */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return GO_MAX_DURATION;
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let ns = Math.round(Math.abs(ms) * 1e6);
  let out: string;
  if (ns < 1e9) {
    // below one second Go uses a single unit
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trimFloat(ns / 1e3)}µs`;
    else out = `${trimFloat(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12);
    ns -= h * 3.6e12;
    const m = Math.floor(ns / 6e10);
    ns -= m * 6e10;
    const sec = trimFloat(ns / 1e9);
    out = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(x: number): string {
  // at most 9 fractional digits, no trailing zeros
  return Number(x.toFixed(9)).toString();
}

/** A delay that setTimeout can take: Infinity and values past 2^31-1 ms become undefined (no timer). */
export function timerDelay(ms: number): number | undefined {
  if (!Number.isFinite(ms) || ms <= 0 || ms > 2_147_483_647) return undefined;
  return ms;
}
