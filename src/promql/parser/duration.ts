// Prometheus durations (github.com/prometheus/common/model.Duration): `1h30m`, `5m`, `1d`, `2w`,
// `1y`, `500ms`, `0`. Units must come in the order y w d h m s ms, each at most once; a year is
// 365 days. Values are milliseconds here.
import { LiteralError } from './literals.js';

const UNITS: ReadonlyArray<readonly [string, bigint, number]> = [
  // unit, nanoseconds, position
  ['y', 365n * 86_400_000_000_000n, 1],
  ['w', 7n * 86_400_000_000_000n, 2],
  ['d', 86_400_000_000_000n, 3],
  ['h', 3_600_000_000_000n, 4],
  ['m', 60_000_000_000n, 5],
  ['s', 1_000_000_000n, 6],
  ['ms', 1_000_000n, 7],
];
const UNIT_MAP = new Map(UNITS.map(([u, mult, pos]) => [u, { mult, pos }]));
const MAX_NS = (1n << 63n) - 1n;

/** model.ParseDuration in milliseconds; throws LiteralError with Prometheus's message. */
export function parseDurationMs(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new LiteralError('empty duration string');
  const invalid = (): never => {
    throw new LiteralError(`not a valid duration string: ${JSON.stringify(s)}`);
  };
  let rest = s;
  let ns = 0n;
  let lastPos = 0;
  while (rest !== '') {
    const num = /^[0-9]+/.exec(rest);
    if (num === null) invalid();
    const digits = (num as RegExpExecArray)[0];
    const v = BigInt(digits);
    if (v > 0xffff_ffff_ffff_ffffn) invalid();
    rest = rest.slice(digits.length);
    const unitMatch = /^[^0-9]+/.exec(rest);
    if (unitMatch === null) invalid();
    const u = (unitMatch as RegExpExecArray)[0];
    rest = rest.slice(u.length);
    const unit = UNIT_MAP.get(u);
    if (unit === undefined) throw new LiteralError(`unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(s)}`);
    if (unit.pos <= lastPos) invalid();
    lastPos = unit.pos;
    if (v > (1n << 63n) / unit.mult) throw new LiteralError('duration out of range');
    ns += v * unit.mult;
    if (ns > MAX_NS) throw new LiteralError('duration out of range');
  }
  return Number(ns / 1_000_000n);
}

/** model.Duration.String(): `1h30m`, `90d` (years and weeks only when exact), `0s`; negative with a leading `-`. */
export function formatDurationMs(ms: number): string {
  if (ms < 0) return '-' + formatDurationMs(-ms);
  let rest = Math.trunc(ms);
  if (rest === 0) return '0s';
  let out = '';
  const unit = (name: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${name}`;
      rest -= v * mult;
    }
  };
  unit('y', 365 * 86_400_000, true);
  unit('w', 7 * 86_400_000, true);
  unit('d', 86_400_000, false);
  unit('h', 3_600_000, false);
  unit('m', 60_000, false);
  unit('s', 1000, false);
  unit('ms', 1, false);
  return out;
}
