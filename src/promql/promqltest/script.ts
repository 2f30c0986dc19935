// The promqltest script language (Prometheus promql/promqltest; ../shared/conformance/
// PROMQLTEST_FORMAT.md): a file is a list of commands (`load`, `clear`, `eval`), each a header line
// plus the non-blank lines after it. Parsing follows the Go runner line by line, including its
// quirks (a scalar line or an `expected_fail_*` line ends an eval block). A malformed command does
// not abort the file: it becomes an `error` command at its line, and parsing goes on after it.
import { RE2JS } from 're2js';
import type { Labels } from '../value.js';
import { ScriptError, parseDurationMs, parseGoNumber, unquote } from './numbers.js';
import { Sequence } from './sequence.js';
import { isSTLine, parseSTLine, parseSeriesDesc } from './series.js';

export interface ClearCommand {
  readonly kind: 'clear';
  readonly line: number;
}

export interface LoadSeries {
  readonly labels: Labels;
  readonly values: Sequence;
  /** start-timestamp offsets per position (ms), when an `@st` line gave them */
  readonly st: readonly (number | null)[] | null;
  readonly line: number;
}

export interface LoadCommand {
  readonly kind: 'load';
  readonly line: number;
  readonly header: string;
  readonly intervalMs: number;
  readonly withNHCB: boolean;
  readonly series: readonly LoadSeries[];
  /** the block has `@st` lines */
  readonly startTimestamps: boolean;
}

/** A malformed command: reported as a failure at its line. */
export interface ErrorCommand {
  readonly kind: 'error';
  readonly line: number;
  readonly header: string;
  readonly isEval: boolean;
  readonly message: string;
}

/** `expect <kind> [msg: text | regex: re]`: without a matcher, anything matches. */
export class Expectation {
  readonly message: string | null;
  readonly regex: RE2JS | null;
  readonly source: string;

  constructor(type: 'msg' | 'regex' | null, text: string) {
    this.source = text;
    this.message = type === 'msg' ? text : null;
    this.regex = type === 'regex' ? RE2JS.compile(text) : null;
  }

  matches(s: string): boolean {
    if (this.message !== null) return s === this.message;
    if (this.regex !== null) return this.regex.matcher(s).find();
    return true;
  }

  describe(): string {
    if (this.message !== null) return `message ${JSON.stringify(this.message)}`;
    if (this.regex !== null) return `pattern ${JSON.stringify(this.source)}`;
    return 'anything';
  }
}

export interface ExpectedSeries {
  readonly labels: Labels;
  readonly key: string;
  /** 1-based position in the block (for `ordered`), as the Go runner counts it */
  readonly pos: number;
  readonly values: Sequence;
  readonly line: number;
}

export interface EvalCommand {
  readonly kind: 'eval';
  readonly line: number;
  readonly header: string;
  readonly expr: string;
  readonly isRange: boolean;
  /** instant: the evaluation time; range (or `expect range vector`): start, end, step */
  start: number;
  end: number;
  step: number;
  evalTime: number;
  /** old header forms eval_fail / eval_warn / eval_info / eval_ordered */
  readonly failMod: boolean;
  readonly warnMod: boolean;
  readonly infoMod: boolean;
  readonly orderedMod: boolean;
  expectedFailMessage: string | null;
  expectedFailRegexp: RE2JS | null;
  readonly expectFail: Expectation[];
  readonly expectWarn: Expectation[];
  readonly expectInfo: Expectation[];
  noWarn: boolean;
  noInfo: boolean;
  expectOrdered: boolean;
  expectScalar: boolean;
  /** the expected scalar (bits kept) */
  readonly scalar: Sequence;
  expectedString: string;
  hasExpectString: boolean;
  expectRangeVector: boolean;
  excludeFromRangeQuery: boolean;
  readonly expected: Map<string, ExpectedSeries>;
  /** the body lines as written, for reports */
  readonly body: string[];
}

export type Command = ClearCommand | LoadCommand | EvalCommand | ErrorCommand;

export function isFail(cmd: EvalCommand): boolean {
  return cmd.failMod || cmd.expectFail.length > 0;
}

export function isOrdered(cmd: EvalCommand): boolean {
  return cmd.orderedMod || cmd.expectOrdered;
}

const PAT_LOAD = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const PAT_EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const PAT_EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const PAT_EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const PAT_EXPECT_RANGE = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/;

/** Trimmed lines with comment lines blanked, as the Go runner's getLines. */
export function scriptLines(text: string): string[] {
  return text.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
}

export function labelsKey(ls: Labels): string {
  return ls.join('\xff');
}

function durations(from: string, to: string, step: string): [number, number, number] {
  let s: number;
  let e: number;
  let st: number;
  try {
    s = parseDurationMs(from);
  } catch (err) {
    throw new Error(`invalid start timestamp definition ${JSON.stringify(from)}: ${(err as Error).message}`);
  }
  try {
    e = parseDurationMs(to);
  } catch (err) {
    throw new Error(`invalid end timestamp definition ${JSON.stringify(to)}: ${(err as Error).message}`);
  }
  if (e < s) throw new Error(`invalid test definition, end timestamp (${to}) is before start timestamp (${from})`);
  try {
    st = parseDurationMs(step);
  } catch (err) {
    throw new Error(`invalid step definition ${JSON.stringify(step)}: ${(err as Error).message}`);
  }
  return [s, e, st];
}

/** Index of the last line of the block starting at `i` (the line before the next blank one). */
function blockEnd(lines: readonly string[], i: number): number {
  while (i + 1 < lines.length && lines[i + 1] !== '') i++;
  return i;
}

function parseLoad(lines: readonly string[], i: number): { cmd: LoadCommand; last: number } {
  const header = lines[i] as string;
  const line = i + 1;
  const m = PAT_LOAD.exec(header);
  if (m === null) throw new ScriptError(line, 'invalid load command. (load[_with_nhcb] <step:duration>)');
  let intervalMs: number;
  try {
    intervalMs = parseDurationMs(m[2] as string);
  } catch (err) {
    throw new ScriptError(line, `invalid step definition ${JSON.stringify(m[2])}: ${(err as Error).message}`);
  }
  const byKey = new Map<string, LoadSeries>();
  let pending: { labels: Labels; offsets: (number | null)[]; line: number } | null = null;
  let defaultST: (number | null)[] | null = null;
  let startTimestamps = false;
  while (i + 1 < lines.length && lines[i + 1] !== '') {
    i++;
    const def = lines[i] as string;
    try {
      if (isSTLine(def)) {
        if (pending !== null) throw new ScriptError(pending.line, '@st line has no following sample line');
        startTimestamps = true;
        const st = parseSTLine(def);
        if (st.labels === null) defaultST = st.offsets;
        else pending = { labels: st.labels, offsets: st.offsets, line: i + 1 };
        continue;
      }
      const desc = parseSeriesDesc(def);
      let st: (number | null)[] | null = null;
      if (pending !== null) {
        if (labelsKey(pending.labels) !== labelsKey(desc.labels)) throw new ScriptError(pending.line, '@st metric does not match the following sample line metric');
        if (pending.offsets.length !== desc.values.length) {
          throw new ScriptError(pending.line, `@st line has ${pending.offsets.length} values but sample line has ${desc.values.length}`);
        }
        st = pending.offsets;
        pending = null;
      } else if (defaultST !== null) {
        st = defaultST;
      }
      byKey.set(labelsKey(desc.labels), { labels: desc.labels, values: desc.values, st, line: i + 1 });
    } catch (err) {
      if (err instanceof ScriptError) throw err;
      throw new ScriptError(i + 1, (err as Error).message);
    }
  }
  if (pending !== null) throw new ScriptError(pending.line, '@st line has no following sample line');
  return { cmd: { kind: 'load', line, header, intervalMs, withNHCB: m[1] === 'with_nhcb', series: [...byKey.values()], startTimestamps }, last: i };
}

function parseEval(lines: readonly string[], i: number): { cmd: EvalCommand; last: number } {
  const header = lines[i] as string;
  const line = i + 1;
  const inst = PAT_EVAL_INSTANT.exec(header);
  const rng = PAT_EVAL_RANGE.exec(header);
  if (inst === null && rng === null) {
    throw new ScriptError(
      line,
      "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] instant [at <offset:duration>] <query>' or 'eval[_fail|_warn] range from <from> to <to> step <step> <query>'",
    );
  }
  const isRange = inst === null;
  const mod = (isRange ? rng?.[1] : inst[1]) ?? '';
  const expr = (isRange ? rng?.[5] : inst[3]) as string;
  const fail = (msg: string): ScriptError => new ScriptError(line, `error in eval ${expr} (line ${line}): ${msg}`);
  let start = 0;
  let end = 0;
  let step = 0;
  if (isRange && rng !== null) {
    try {
      [start, end, step] = durations(rng[2] as string, rng[3] as string, rng[4] as string);
    } catch (err) {
      throw fail((err as Error).message);
    }
  } else if (inst !== null) {
    const at = inst[2] ?? '';
    try {
      start = parseDurationMs(at);
    } catch (err) {
      throw fail(`invalid timestamp definition ${JSON.stringify(at)}: ${(err as Error).message}`);
    }
  }
  const cmd: EvalCommand = {
    kind: 'eval',
    line,
    header,
    expr,
    isRange,
    start,
    end,
    step,
    evalTime: start,
    failMod: mod === 'fail',
    warnMod: mod === 'warn',
    infoMod: mod === 'info',
    orderedMod: mod === 'ordered',
    expectedFailMessage: null,
    expectedFailRegexp: null,
    expectFail: [],
    expectWarn: [],
    expectInfo: [],
    noWarn: false,
    noInfo: false,
    expectOrdered: false,
    expectScalar: false,
    scalar: new Sequence(1),
    expectedString: '',
    hasExpectString: false,
    expectRangeVector: false,
    excludeFromRangeQuery: false,
    expected: new Map(),
    body: [],
  };
  let j = 1;
  for (; i + 1 < lines.length; j++) {
    i++;
    const def = lines[i] as string;
    if (def === '') {
      i--;
      break;
    }
    cmd.body.push(def);
    if (cmd.failMod && def.startsWith('expected_fail_message')) {
      cmd.expectedFailMessage = def.slice('expected_fail_message'.length).trim();
      break;
    }
    if (cmd.failMod && def.startsWith('expected_fail_regexp')) {
      const pattern = def.slice('expected_fail_regexp'.length).trim();
      try {
        cmd.expectedFailRegexp = RE2JS.compile(pattern);
      } catch (err) {
        throw fail(`invalid regexp '${pattern}' for expected_fail_regexp: ${(err as Error).message}`);
      }
      break;
    }
    if (def.startsWith('expect range vector')) {
      const m = PAT_EXPECT_RANGE.exec(def);
      if (m === null) throw fail(`invalid range vector definition ${JSON.stringify(def)}`);
      try {
        [cmd.start, cmd.end, cmd.step] = durations(m[1] as string, m[2] as string, m[3] as string);
      } catch (err) {
        throw fail((err as Error).message);
      }
      cmd.expectRangeVector = true;
      cmd.evalTime = cmd.end;
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (def.startsWith('expect string')) {
      if (def === 'expect string') throw fail('expected string literal not valid - a quoted string literal is required');
      const lit = def.startsWith('expect string ') ? def.slice('expect string '.length) : '';
      if (lit === '') throw fail('expected string literal not valid - a quoted string literal is required');
      try {
        cmd.expectedString = unquote(lit);
      } catch {
        throw fail('expected string literal not valid - check that the string is correctly quoted');
      }
      cmd.hasExpectString = true;
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (def.split(' ')[0] === 'expect') {
      const m = PAT_EXPECT.exec(def.trim());
      if (m === null) throw fail('invalid expect statement, must match `expect <type> <match_type>: <string>` format');
      const type = m[1] as string;
      let e: Expectation;
      try {
        e = new Expectation((m[2] as 'msg' | 'regex' | undefined) ?? null, (m[3] ?? '').trim());
      } catch {
        throw fail(`invalid regex ${(m[3] ?? '').trim()} for ${type}`);
      }
      switch (type) {
        case 'fail':
          cmd.expectFail.push(e);
          break;
        case 'warn':
          cmd.expectWarn.push(e);
          break;
        case 'info':
          cmd.expectInfo.push(e);
          break;
        case 'no_warn':
          cmd.noWarn = true;
          break;
        case 'no_info':
          cmd.noInfo = true;
          break;
        default:
          cmd.expectOrdered = true;
      }
      j--;
      if (cmd.expectInfo.length > 0 && cmd.noInfo) throw fail('invalid expect lines, info and no_info cannot be used together');
      if (cmd.expectWarn.length > 0 && cmd.noWarn) throw fail('invalid expect lines, warn and no_warn cannot be used together');
      if (cmd.expectFail.length > 1) throw fail('invalid expect lines, multiple expect fail lines are not allowed');
      continue;
    }
    const f = parseGoNumber(def);
    if (f !== null) {
      cmd.expectScalar = true;
      cmd.scalar.pushFloat(f);
      break;
    }
    let desc;
    try {
      desc = parseSeriesDesc(def);
    } catch (err) {
      throw new ScriptError(i + 1, (err as Error).message);
    }
    if (desc.values.length > 1 && !isRange && !cmd.expectRangeVector) {
      throw fail("expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' directive to enable a range vector result for an instant query");
    }
    cmd.expectScalar = false;
    const key = labelsKey(desc.labels);
    cmd.expected.set(key, { labels: desc.labels, key, pos: j, values: desc.values, line: i + 1 });
  }
  return { cmd, last: i };
}

/** Parses a whole script. Malformed commands become ErrorCommands; parsing continues after them. */
export function parseScript(text: string): Command[] {
  const lines = scriptLines(text);
  const cmds: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l === '') continue;
    const word = (l.split(/[\t ]+/, 1)[0] ?? '').toLowerCase();
    try {
      if (word === 'clear') {
        cmds.push({ kind: 'clear', line: i + 1 });
      } else if (word.startsWith('load')) {
        const r = parseLoad(lines, i);
        cmds.push(r.cmd);
        i = r.last;
      } else if (word.startsWith('eval')) {
        const r = parseEval(lines, i);
        cmds.push(r.cmd);
        i = r.last;
      } else {
        throw new ScriptError(i + 1, `invalid command ${JSON.stringify(l)}`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      cmds.push({ kind: 'error', line: i + 1, header: l, isEval: word.startsWith('eval'), message });
      i = blockEnd(lines, i);
    }
  }
  return cmds;
}
