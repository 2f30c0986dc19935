// day_of_month, day_of_week, day_of_year, days_in_month, hour, minute, month, year: float samples
// read as Unix seconds (truncated to whole seconds, as Go's time.Unix(int64(v), 0)), in UTC.
// Without an argument they use vector(time()). The calendar is computed on whole days (proleptic
// Gregorian, as Go's time package), so it works far outside JS Date's range.
import type { Vector } from '../value.js';
import type { FunctionImpl } from './types.js';
import { EMPTY_LABELS, floatSample, vectorArg } from './util.js';

interface Civil {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday */
  weekday: number;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** Howard Hinnant's civil_from_days over Unix seconds (an integer). */
function civil(secs: number): Civil {
  const days = Math.floor(secs / 86400);
  const sod = secs - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {
    year,
    month,
    day,
    hour: Math.floor(sod / 3600),
    minute: Math.floor((sod % 3600) / 60),
    weekday: (((days + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
  };
}

function daysInMonth(c: Civil): number {
  if (c.month === 2) return isLeap(c.year) ? 29 : 28;
  return [4, 6, 9, 11].includes(c.month) ? 30 : 31;
}

function dayOfYear(c: Civil): number {
  return (DAYS_BEFORE_MONTH[c.month - 1] as number) + c.day + (c.month > 2 && isLeap(c.year) ? 1 : 0);
}

function dateFunction(f: (c: Civil) => number): FunctionImpl {
  const at = (secs: number): number => (Number.isFinite(secs) ? f(civil(Math.trunc(secs))) : NaN);
  return (args, ctx) => {
    if (args.length === 0) return [floatSample(EMPTY_LABELS, ctx.t, at(Math.trunc(ctx.t / 1000)), false)];
    const out: Vector = [];
    for (const s of vectorArg(args, 0)) if (s.h === null) out.push(floatSample(s.metric, ctx.t, at(s.f), true));
    return out;
  };
}

export const DATE_FUNCTIONS: ReadonlyArray<readonly [string, FunctionImpl]> = [
  ['day_of_month', dateFunction((c) => c.day)],
  ['day_of_week', dateFunction((c) => c.weekday)],
  ['day_of_year', dateFunction(dayOfYear)],
  ['days_in_month', dateFunction(daysInMonth)],
  ['hour', dateFunction((c) => c.hour)],
  ['minute', dateFunction((c) => c.minute)],
  ['month', dateFunction((c) => c.month)],
  ['year', dateFunction((c) => c.year)],
];
