// Series descriptions: `name{l="v", ...} <items>` as in `load` blocks and expected results.
// Our own small parser (Prometheus ParseSeriesDesc): the identity allows only `=` matchers and
// PromQL string literals; items are `_`, `_xN`, numbers, `stale`, `axN`, `a+bxN`, `a-bxN` and
// native histograms `{{...}}`, `{{...}}xN`, `{{A}}+{{B}}xN`, `{{A}}-{{B}}xN`.
import { LabelsBuilder } from '../../tsdb/labels/index.js';
import type { Labels } from '../value.js';
import type { FloatHistogram } from '../value.js';
import { HINT_GAUGE, HINT_NOT_RESET, HINT_RESET, HINT_UNKNOWN, combineHistograms, emptyHistogram } from './hist.js';
import { parseDurationMs, parseGoFloat, parseGoInt, parseGoNumber, readStringLiteral } from './numbers.js';
import { Sequence } from './sequence.js';
import type { HistValue } from './sequence.js';

export interface SeriesDesc {
  labels: Labels;
  values: Sequence;
}

const IDENT_START = /[a-zA-Z_:]/;
const IDENT_PART = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_PART = /[a-zA-Z0-9_]/;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

function skipSpace(s: string, i: number): number {
  while (isSpace(s[i])) i++;
  return i;
}

function readWhile(s: string, i: number, start: RegExp, part: RegExp): number {
  if (i >= s.length || !start.test(s[i] as string)) return i;
  i++;
  while (i < s.length && part.test(s[i] as string)) i++;
  return i;
}

/**
 * Reads a series identity (`name`, `name{...}` or `{...}`) at s[i]. Returns the labels and the
 * index after it. Throws on a malformed identity.
 */
export function parseIdentity(s: string, i = 0): { labels: Labels; end: number } {
  const b = new LabelsBuilder();
  let name = '';
  const nameEnd = readWhile(s, i, IDENT_START, IDENT_PART);
  if (nameEnd > i) {
    name = s.slice(i, nameEnd);
    i = nameEnd;
  }
  const seen = new Set<string>();
  if (s[i] === '{') {
    i++;
    for (;;) {
      i = skipSpace(s, i);
      if (s[i] === '}') {
        i++;
        break;
      }
      let lname: string;
      const c = s[i];
      if (c === '"' || c === "'" || c === '`') {
        const lit = readStringLiteral(s, i);
        lname = lit.value;
        i = lit.end;
      } else {
        const e = readWhile(s, i, LABEL_START, LABEL_PART);
        if (e === i) throw new Error(`unexpected character ${JSON.stringify(s[i] ?? 'end of line')} in label set at column ${i + 1}`);
        lname = s.slice(i, e);
        i = e;
      }
      i = skipSpace(s, i);
      if (s[i] === ',' || s[i] === '}') {
        // a quoted metric name on its own: {"my.metric", a="b"}
        if (name !== '' || c === undefined || (c !== '"' && c !== "'" && c !== '`')) throw new Error(`label ${lname} has no value`);
        name = lname;
      } else {
        if (s[i] !== '=' || s[i + 1] === '~') throw new Error(`only "=" matchers are allowed in a series description (label ${lname})`);
        i = skipSpace(s, i + 1);
        const lit = readStringLiteral(s, i);
        i = lit.end;
        if (seen.has(lname)) throw new Error(`duplicate label ${lname}`);
        seen.add(lname);
        if (lname === '__name__') {
          if (name !== '') throw new Error('metric name given twice');
          name = lit.value;
        } else b.add(lname, lit.value);
      }
      i = skipSpace(s, i);
      if (s[i] === ',') i++;
      else if (s[i] !== '}') throw new Error(`expected "," or "}" in label set at column ${i + 1}`);
    }
  } else if (nameEnd === i && name === '') {
    throw new Error(`expected a series identity at column ${i + 1}`);
  }
  if (name !== '') b.add('__name__', name);
  return { labels: b.labels(), end: i };
}

const NUM = String.raw`(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF]|[nN][aA][nN]`;
const FLOAT_ITEM = new RegExp(String.raw`^(?:([+-]?)(${NUM})|(stale))(?:([+-])(${NUM}))?(?:x([0-9]+))?$`);
const BLANK_ITEM = /^_(?:x([0-9]+))?$/;

function number(text: string): number {
  const v = parseGoNumber(text);
  if (v === null) throw new Error(`invalid number ${JSON.stringify(text)}`);
  return v;
}

function repeatCount(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > 10_000_000) throw new Error(`repeat count ${text} too large`);
  return n;
}

/** Expands one float item (`_`, `_xN`, `v`, `vxN`, `a+bxN`, `a-bxN`, `stale`) into `out`. */
function parseFloatItem(word: string, out: Sequence): void {
  const blank = BLANK_ITEM.exec(word);
  if (blank !== null) {
    out.pushOmitted(blank[1] === undefined ? 1 : repeatCount(blank[1]));
    return;
  }
  const m = FLOAT_ITEM.exec(word);
  if (m === null) throw new Error(`invalid series value ${JSON.stringify(word)} (want a number, "stale", "_", or "a+bxN")`);
  const stale = m[3] !== undefined;
  const incSign = m[4];
  const times = m[6];
  if (incSign !== undefined && times === undefined) throw new Error(`invalid series value ${JSON.stringify(word)}: an increment needs xN`);
  const n = times === undefined ? 0 : repeatCount(times);
  if (stale) {
    if (incSign !== undefined) throw new Error(`invalid series value ${JSON.stringify(word)}: stale markers cannot be incremented`);
    for (let j = 0; j <= n; j++) out.pushStale();
    return;
  }
  const base = number(m[2] as string);
  let v = m[1] === '-' ? -base : base;
  out.pushFloat(v);
  if (incSign === undefined) {
    for (let j = 1; j <= n; j++) out.pushFloat(v);
    return;
  }
  const incAbs = number(m[5] as string);
  const inc = incSign === '-' ? -incAbs : incAbs;
  // Repeated addition, as Prometheus does (not a + i*b): the floats match bit for bit.
  for (let j = 1; j <= n; j++) {
    v += inc;
    out.pushFloat(v);
  }
}

const HINTS: Record<string, number> = { unknown: HINT_UNKNOWN, reset: HINT_RESET, not_reset: HINT_NOT_RESET, gauge: HINT_GAUGE };
const FLOAT_KEYS = new Set(['sum', 'count', 'z_bucket', 'z_bucket_w']);
const INT_KEYS = new Set(['schema', 'offset', 'n_offset']);
const LIST_KEYS = new Set(['buckets', 'n_buckets', 'custom_values']);

function signedFloat(text: string): number {
  let sign = 1;
  let t = text;
  if (t.startsWith('+') || t.startsWith('-')) {
    sign = t.startsWith('-') ? -1 : 1;
    t = t.slice(1);
  }
  const v = parseGoNumber(t) ?? parseGoFloat(t);
  if (v === null || t === '' || /^[+-]/.test(t)) throw new Error(`invalid number ${JSON.stringify(text)} in histogram`);
  return sign * v;
}

function signedInt(text: string): number {
  const v = parseGoInt(text);
  if (v === null) throw new Error(`invalid integer ${JSON.stringify(text)} in histogram`);
  return v;
}

/** Builds the float histogram of a `{{...}}` body (the text between the braces). */
export function parseHistogramLiteral(body: string): HistValue {
  const h: FloatHistogram = emptyHistogram();
  let hintSet = false;
  const seen = new Set<string>();
  let buckets: number[] = [];
  let nBuckets: number[] = [];
  let offset = 0;
  let nOffset = 0;
  let i = 0;
  for (;;) {
    i = skipSpace(body, i);
    if (i >= body.length) break;
    const keyEnd = readWhile(body, i, /[a-z_]/, /[a-z_]/);
    const key = body.slice(i, keyEnd);
    if (key === '' || body[keyEnd] !== ':') throw new Error(`invalid histogram item at ${JSON.stringify(body.slice(i))} (want key:value)`);
    if (seen.has(key)) throw new Error(`duplicate key "${key}" in histogram`);
    seen.add(key);
    i = skipSpace(body, keyEnd + 1);
    if (LIST_KEYS.has(key)) {
      if (body[i] !== '[') throw new Error(`histogram ${key} needs a [list]`);
      const close = body.indexOf(']', i);
      if (close < 0) throw new Error(`unterminated list for ${key}`);
      const items = body.slice(i + 1, close).trim();
      const list = items === '' ? [] : items.split(/[ \t]+/).map(signedFloat);
      i = close + 1;
      if (key === 'buckets') buckets = list;
      else if (key === 'n_buckets') nBuckets = list;
      else h.customValues = list;
      continue;
    }
    let end = i;
    while (end < body.length && !isSpace(body[end])) end++;
    const value = body.slice(i, end);
    i = end;
    if (FLOAT_KEYS.has(key)) {
      const v = signedFloat(value);
      if (key === 'sum') h.sum = v;
      else if (key === 'count') h.count = v;
      else if (key === 'z_bucket') h.zeroCount = v;
      else h.zeroThreshold = v;
    } else if (INT_KEYS.has(key)) {
      const v = signedInt(value);
      if (key === 'schema') h.schema = v;
      else if (key === 'offset') offset = v;
      else nOffset = v;
    } else if (key === 'counter_reset_hint') {
      const hint = HINTS[value];
      if (hint === undefined) throw new Error(`invalid counter_reset_hint ${JSON.stringify(value)}`);
      h.counterResetHint = hint;
      hintSet = true;
    } else {
      throw new Error(`unknown histogram key "${key}"`);
    }
  }
  if (buckets.length > 0) {
    h.positiveSpans = [{ offset, length: buckets.length }];
    h.positiveBuckets = buckets;
  }
  if (nBuckets.length > 0) {
    h.negativeSpans = [{ offset: nOffset, length: nBuckets.length }];
    h.negativeBuckets = nBuckets;
  }
  return { h, hintSet };
}

/** Reads `{{...}}` at s[i]; returns the value and the index after the closing braces. */
function readHistogram(s: string, i: number): { value: HistValue; end: number } {
  const close = s.indexOf('}}', i + 2);
  if (close < 0) throw new Error('unterminated histogram "{{"');
  return { value: parseHistogramLiteral(s.slice(i + 2, close)), end: close + 2 };
}

function parseHistogramItem(s: string, i: number, out: Sequence): number {
  const first = readHistogram(s, i);
  i = first.end;
  const c = s[i];
  if (c === 'x') {
    const m = /^x([0-9]+)/.exec(s.slice(i));
    if (m === null) throw new Error('expected a repeat count after "x"');
    const n = repeatCount(m[1] as string);
    for (let j = 0; j <= n; j++) out.pushHistogram(first.value);
    return i + m[0].length;
  }
  if ((c === '+' || c === '-') && s.startsWith('{{', i + 1)) {
    const inc = readHistogram(s, i + 1);
    const m = /^x([0-9]+)/.exec(s.slice(inc.end));
    if (m === null) throw new Error('a histogram increment needs xN');
    const n = repeatCount(m[1] as string);
    let cur = first.value.h;
    out.pushHistogram(first.value);
    for (let j = 1; j <= n; j++) {
      if (cur.schema > inc.value.h.schema) throw new Error(`error combining histograms: cannot merge from schema ${inc.value.h.schema} to ${cur.schema}`);
      cur = combineHistograms(cur, inc.value.h, c === '+' ? 1 : -1);
      out.pushHistogram({ h: cur, hintSet: first.value.hintSet });
    }
    return inc.end + m[0].length;
  }
  out.pushHistogram(first.value);
  return i;
}

/** Parses the value items of s from index i on. */
export function parseValues(s: string, i: number, out = new Sequence()): Sequence {
  for (;;) {
    i = skipSpace(s, i);
    if (i >= s.length) return out;
    if (s.startsWith('{{', i)) {
      i = parseHistogramItem(s, i, out);
      if (i < s.length && !isSpace(s[i])) throw new Error(`unexpected ${JSON.stringify(s.slice(i))} after a histogram`);
      continue;
    }
    let end = i;
    while (end < s.length && !isSpace(s[end])) end++;
    parseFloatItem(s.slice(i, end), out);
    i = end;
  }
}

/** Parses a whole series description line: identity, then value items. */
export function parseSeriesDesc(line: string): SeriesDesc {
  const { labels, end } = parseIdentity(line, 0);
  if (end < line.length && !isSpace(line[end])) throw new Error(`unexpected ${JSON.stringify(line.slice(end))} after the series identity`);
  return { labels, values: parseValues(line, end) };
}

// ---- start-timestamp lines (`metric{...}@st <items>`) ------------------------------------------

/** Whether a load line is a start-timestamp line: the first word ends in `@st`. */
export function isSTLine(line: string): boolean {
  const m = /^(\S*)[ \t]/.exec(line);
  return m !== null && (m[1] as string).endsWith('@st');
}

function durationPrefix(s: string): { ms: number; rest: string } {
  const m = /^([+-]?)([0-9]+[a-wyzA-WYZ]*)(.*)$/.exec(s);
  if (m === null) throw new Error(`expected a duration in ${JSON.stringify(s)}`);
  const ms = parseDurationMs(m[2] as string);
  return { ms: m[1] === '-' ? -ms : ms, rest: m[3] as string };
}

/** Start-timestamp offsets per position (ms relative to the sample), null = none. */
export function parseSTSequence(items: string): (number | null)[] {
  const out: (number | null)[] = [];
  const prev = (): number => {
    for (let i = out.length - 1; i >= 0; i--) if (out[i] !== null) return out[i] as number;
    return 0;
  };
  for (const item of items.split(/[ \t]+/).filter((x) => x !== '')) {
    if (item === '_') {
      out.push(null);
      continue;
    }
    const blank = /^_x([0-9]+)$/.exec(item);
    if (blank !== null) {
      const n = repeatCount(blank[1] as string);
      if (n === 0) throw new Error(`invalid ST item ${item}: invalid repeat count`);
      for (let j = 0; j < n; j++) out.push(null);
      continue;
    }
    if (item === '*' || item.startsWith('*x')) {
      const n = item === '*' ? 0 : repeatCount(item.slice(2));
      const p = prev();
      for (let j = 0; j <= n; j++) out.push(p);
      continue;
    }
    const base = durationPrefix(item);
    if (base.rest === '') {
      out.push(base.ms);
      continue;
    }
    if (base.rest.startsWith('x')) {
      const n = repeatCount(base.rest.slice(1));
      for (let j = 0; j <= n; j++) out.push(base.ms);
      continue;
    }
    if (base.rest[0] !== '+' && base.rest[0] !== '-') throw new Error(`invalid ST item ${item}`);
    const delta = durationPrefix(base.rest.slice(1));
    const step = base.rest[0] === '-' ? -delta.ms : delta.ms;
    if (!delta.rest.startsWith('x')) throw new Error(`invalid ST item ${item}: expected 'x<count>' after step duration`);
    const n = repeatCount(delta.rest.slice(1));
    let v = base.ms;
    for (let j = 0; j <= n; j++) {
      out.push(v);
      v += step;
    }
  }
  return out;
}

/** Parses `metric{...}@st <items>`; labels are null for a standalone `@st <items>` line. */
export function parseSTLine(line: string): { labels: Labels | null; offsets: (number | null)[] } {
  const sp = line.search(/[ \t]/);
  const ident = line.slice(0, sp).slice(0, -'@st'.length);
  const offsets = parseSTSequence(line.slice(sp + 1));
  if (ident === '') return { labels: null, offsets };
  const { labels, end } = parseIdentity(ident, 0);
  if (end !== ident.length) throw new Error(`invalid @st line metric ${JSON.stringify(ident)}`);
  return { labels, offsets };
}
