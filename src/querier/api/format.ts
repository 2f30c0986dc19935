// The JSON of Prometheus's query API, byte for byte as Prometheus writes it (web/api/v1
// json_codec.go + util/jsonutil, and promql.Scalar/String.MarshalJSON), checked against a real
// Prometheus:
//
// - vectors and matrices: sample timestamps as seconds with exactly three decimals when not whole
//   ("1.500", "3"); values as strings in Go's strconv 'f' format, switching to 'e' below 1e-6 and
//   from 1e21 ("1e+21", "1.5e-07"), "NaN", "+Inf", "-Inf", "-0";
// - scalars and strings: [t/1000 as a JSON number ("1.5"), value] with a scalar's value in plain
//   'f' format ("1000000000000000000000", "0.0000001");
// - native histograms: {"count","sum","buckets":[[rule, lower, upper, count], ...]} with the
//   buckets of Prometheus's AllBucketIterator, empty buckets left out, "buckets" left out when
//   none is left;
// - strings escaped as Prometheus's jsoniter does: <, >, & as \u escapes, control characters
//   other than \n \r \t as \u00XX, U+2028/9 as they are.
import { allBuckets, bucketBoundaryRule } from '../../promql/histogram/index.js';
import type { FloatHistogram, Labels, QueryValue, Sample, Series } from '../../promql/value.js';
import { formatFloatE, formatFloatF } from '../../util/go-strconv.js';
import { getBound } from './bounds.js';

// ---- numbers -----------------------------------------------------------------------------------

/** A sample value as Prometheus's JSON writes it (jsonutil.MarshalFloat), without quotes. */
export function formatSampleValue(f: number): string {
  const abs = Math.abs(f);
  return abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? formatFloatE(f) : formatFloatF(f);
}

/** A sample timestamp (ms) as Prometheus's JSON writes it (jsonutil.MarshalTimestamp). */
export function formatSampleTime(ms: number): string {
  let t = Math.trunc(ms);
  let out = '';
  if (t < 0) {
    out = '-';
    t = -t;
  }
  const secs = Math.floor(t / 1000);
  const frac = t - secs * 1000;
  out += String(secs);
  if (frac !== 0) out += `.${frac < 100 ? '0' : ''}${frac < 10 ? '0' : ''}${frac}`;
  return out;
}

/** A scalar's or string's timestamp: float64(t)/1000 through Go's encoding/json (= JS's number text). */
export function formatScalarTime(ms: number): string {
  return JSON.stringify(ms / 1000);
}

// ---- strings -----------------------------------------------------------------------------------

const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\ud800-\udfff]/;

/** A JSON string literal as Prometheus's jsoniter (HTML-safe) writes it. */
export function jsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // lone surrogate: invalid UTF-8 in Go
    else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i]!;
  }
  return `${out}"`;
}

/** A label set as a JSON object; `dropName` leaves out __name__ (delayed name removal). */
export function formatLabels(ls: Labels, dropName = false): string {
  let out = '{';
  let first = true;
  for (let i = 0; i + 1 < ls.length; i += 2) {
    const n = ls[i] as string;
    if (dropName && n === '__name__') continue;
    if (!first) out += ',';
    first = false;
    out += `${jsonString(n)}:${jsonString(ls[i + 1] as string)}`;
  }
  return `${out}}`;
}

// ---- histograms --------------------------------------------------------------------------------

/** A native histogram as Prometheus's JSON writes it (jsonutil.MarshalHistogram). */
export function formatHistogram(h: FloatHistogram): string {
  let out = `{"count":"${formatSampleValue(h.count)}","sum":"${formatSampleValue(h.sum)}"`;
  let found = false;
  for (const b of allBuckets(h, getBound)) {
    if (b.count === 0) continue;
    out += found ? ',' : ',"buckets":[';
    found = true;
    out += `[${bucketBoundaryRule(b)},"${formatSampleValue(b.lower)}","${formatSampleValue(b.upper)}","${formatSampleValue(b.count)}"]`;
  }
  if (found) out += ']';
  return `${out}}`;
}

// ---- query results -----------------------------------------------------------------------------

function formatSample(s: Sample): string {
  const m = formatLabels(s.metric, s.dropName === true);
  if (s.h !== null) return `{"metric":${m},"histogram":[${formatSampleTime(s.t)},${formatHistogram(s.h)}]}`;
  return `{"metric":${m},"value":[${formatSampleTime(s.t)},"${formatSampleValue(s.f)}"]}`;
}

function formatSeries(s: Series): string {
  let out = `{"metric":${formatLabels(s.metric, s.dropName === true)}`;
  if (s.floats.length > 0) {
    out += ',"values":[';
    for (let i = 0; i < s.floats.length; i++) {
      const p = s.floats[i]!;
      out += `${i > 0 ? ',' : ''}[${formatSampleTime(p.t)},"${formatSampleValue(p.f)}"]`;
    }
    out += ']';
  }
  if (s.histograms.length > 0) {
    out += ',"histograms":[';
    for (let i = 0; i < s.histograms.length; i++) {
      const p = s.histograms[i]!;
      out += `${i > 0 ? ',' : ''}[${formatSampleTime(p.t)},${formatHistogram(p.h)}]`;
    }
    out += ']';
  }
  return `${out}}`;
}

/** The `data` object of a query answer: {"resultType":...,"result":...}. */
export function formatQueryData(v: QueryValue): string {
  switch (v.type) {
    case 'vector':
      return `{"resultType":"vector","result":[${v.value.map(formatSample).join(',')}]}`;
    case 'matrix':
      return `{"resultType":"matrix","result":[${v.value.map(formatSeries).join(',')}]}`;
    case 'scalar':
      return `{"resultType":"scalar","result":[${formatScalarTime(v.value.t)},"${formatFloatF(v.value.v)}"]}`;
    case 'string':
      return `{"resultType":"string","result":[${formatScalarTime(v.value.t)},${jsonString(v.value.s)}]}`;
    default: {
      const never: never = v;
      throw new Error(`unknown value type ${(never as { type: string }).type}`);
    }
  }
}

/** Any plain JSON value with Go's string escaping (for data other than query results). */
export function toJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue;
      parts.push(`${jsonString(k)}:${toJson(x)}`);
    }
    return `{${parts.join(',')}}`;
  }
  throw new TypeError(`cannot encode ${typeof v} as JSON`);
}

/**
 * The envelope of a successful answer, its `data` already JSON: warnings and infos only when
 * there are some (Prometheus's omitempty).
 */
export function successBody(dataJson: string | undefined, warnings: readonly string[] = [], infos: readonly string[] = []): string {
  let out = '{"status":"success"';
  if (dataJson !== undefined) out += `,"data":${dataJson}`;
  if (warnings.length > 0) out += `,"warnings":${toJson(warnings)}`;
  if (infos.length > 0) out += `,"infos":${toJson(infos)}`;
  return `${out}}`;
}

/** The envelope of an error answer. */
export function errorBody(errorType: string, message: string, warnings: readonly string[] = [], infos: readonly string[] = []): string {
  let out = `{"status":"error","errorType":${jsonString(errorType)},"error":${jsonString(message)}`;
  if (warnings.length > 0) out += `,"warnings":${toJson(warnings)}`;
  if (infos.length > 0) out += `,"infos":${toJson(infos)}`;
  return `${out}}`;
}
