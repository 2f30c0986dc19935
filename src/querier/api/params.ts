// Request parameters of the Prometheus HTTP API, parsed as Prometheus parses them
// (web/api/v1/api.go parseTime, parseDuration, parseLimitParam, parseTimeParam) with the same
// error messages. Times are ms since the epoch, durations ms.
import { PromQLError } from '../../promql/engine/api.js';
import { parseDuration } from '../../promql/parser/index.js';
import { goQuote } from '../../tsdb/labels/index.js';
import { parseGoFloat } from '../../util/go-strconv.js';
import { MAX_TIME_MS, MIN_TIME_MS } from '../ingester-queryable.js';

/** Prometheus's MinTime / MaxTime formatted as RFC 3339 (accepted as times, as Prometheus does). */
export const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
export const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

/** A parameter error as Prometheus words it: `invalid parameter "name": why`. */
export function invalidParam(name: string, why: string): PromQLError {
  return new PromQLError('bad_data', `invalid parameter ${goQuote(name)}: ${why}`);
}

/** The message of a caught error (its text when it is not an Error). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Go's math.Round: half away from zero (JS's Math.round goes half up). */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

// ---- times -------------------------------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Go's time.Parse(time.RFC3339Nano, s) truncated to ms, or undefined. */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (m === null) return undefined;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || min > 59 || sec > 59) return undefined;
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  const frac = m[7] ?? '';
  const ms = frac === '' ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  return d.getTime() - offsetMin * 60_000 + ms;
}

/**
 * Prometheus's parseTime: unix seconds (any Go float; sub-ms digits rounded to ms as Prometheus
 * does) or RFC 3339 with up to nanosecond fractions (truncated to ms). Error text as Prometheus's.
 * Non-finite numbers (NaN, ±Inf), which Go turns into undefined int64 conversions, are refused.
 */
export function parseTime(s: string): number {
  const f = parseGoFloat(s);
  if (f !== undefined && Number.isFinite(f)) {
    // s, ns := math.Modf(t); ns = math.Round(ns*1000) / 1000; time.Unix(int64(s), int64(ns*1e9))
    const whole = Math.trunc(f);
    const frac = f - whole;
    const nsFrac = goRound(frac * 1000) / 1000;
    const nanos = Math.trunc(nsFrac * 1e9);
    // time.Unix normalises nanos into [0, 1e9) by borrowing a second; FromTime truncates to ms
    const sec = whole + Math.floor(nanos / 1e9);
    const nsec = nanos - Math.floor(nanos / 1e9) * 1e9;
    return sec * 1000 + Math.trunc(nsec / 1e6);
  }
  const t = parseRfc3339(s);
  if (t !== undefined) return t;
  if (s === MIN_TIME_FORMATTED) return MIN_TIME_MS;
  if (s === MAX_TIME_FORMATTED) return MAX_TIME_MS;
  throw new Error(`cannot parse ${goQuote(s)} to a valid timestamp`);
}

/** Prometheus's parseTimeParam: the default when absent or empty. Throws a bad_data PromQLError. */
export function parseTimeParam(form: FormValues, name: string, def: number): number {
  const v = form.value(name);
  if (v === '') return def;
  try {
    return parseTime(v);
  } catch (e) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(e as Error).message}`);
  }
}

// ---- durations ---------------------------------------------------------------------------------

/** prometheus/common model.ParseDuration ("1h30m", "5m", "0"); undefined when invalid. */
export function parsePromDuration(s: string): number | undefined {
  try {
    return parseDuration(s);
  } catch (e) {
    if (e instanceof PromQLError) return undefined;
    throw e;
  }
}

/**
 * Prometheus's API parseDuration: float seconds or a Prometheus duration, in ms (ns precision
 * lost below 1e-6 ms). Error text as Prometheus's.
 */
export function parseDurationParam(s: string): number {
  const f = parseGoFloat(s);
  if (f !== undefined) {
    const ns = f * 1e9;
    if (ns > 9223372036854775807 || ns < -9223372036854775808) {
      throw new Error(`cannot parse ${goQuote(s)} to a valid duration. It overflows int64`);
    }
    // Go's time.Duration(NaN) is math.MinInt64 on amd64 and arm64: a negative duration
    if (Number.isNaN(ns)) return -9223372036854.775;
    return Math.trunc(ns) / 1e6;
  }
  const d = parsePromDuration(s);
  if (d !== undefined) return d;
  throw new Error(`cannot parse ${goQuote(s)} to a valid duration`);
}

// ---- limit -------------------------------------------------------------------------------------

/** Prometheus's parseLimitParam: '' is 0 (no limit); strconv.Atoi's errors; negative refused. */
export function parseLimit(form: FormValues): number {
  const s = form.value('limit');
  if (s === '') return 0;
  if (!/^[+-]?\d+$/.test(s)) throw invalidParam('limit', `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const big = BigInt(s);
  if (big > 9223372036854775807n || big < -9223372036854775808n) throw invalidParam('limit', `strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  if (big < 0n) throw invalidParam('limit', 'limit must be non-negative');
  return Number(big);
}

// ---- form values -------------------------------------------------------------------------------

/** Request parameters as Go's http.Request.Form: POST form body values first, then the URL's. */
export class FormValues {
  private readonly body: URLSearchParams;
  private readonly query: URLSearchParams;

  constructor(query: URLSearchParams, body: URLSearchParams = new URLSearchParams()) {
    this.query = query;
    this.body = body;
  }

  /** Go's FormValue: the first value (body before URL), '' when absent. */
  value(name: string): string {
    return this.body.get(name) ?? this.query.get(name) ?? '';
  }

  /** Every value of a repeated parameter (body values first). */
  all(name: string): string[] {
    return [...this.body.getAll(name), ...this.query.getAll(name)];
  }

  has(name: string): boolean {
    return this.body.has(name) || this.query.has(name);
  }
}
