// Running whole script files and folders, summarising per file, and the known-failures list
// (one case id per line, `#` comments) that the conformance test compares a run against.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EngineOptions } from '../engine/api.js';
import type { ParseOptions } from '../parser/index.js';
import { ScriptRunner } from './runner.js';
import type { CaseResult, RunOptions } from './runner.js';

/** The parser options of Prometheus's runner (TestParserOpts): every experimental syntax on. */
export const PARSER_OPTIONS: ParseOptions = {
  enableExperimentalFunctions: true,
  experimentalDurationExpr: true,
  enableExtendedRangeSelectors: true,
  enableBinopFillModifiers: true,
};

/** Engine settings for the scripts (PROMQLTEST_FORMAT.md §4.6, with Muninn's default limits). */
export const ENGINE_OPTIONS: EngineOptions = {
  lookbackDeltaMs: 5 * 60_000,
  maxSamples: 50_000_000,
  timeoutMs: 10 * 60_000,
  // Prometheus's runner enables experimental functions (TestParserOpts.EnableExperimentalFunctions).
  enableExperimentalFunctions: true,
  // A subquery without a step (`x[5m:]`) uses 1m, as NoStepSubqueryIntervalFn in the Go runner.
  defaultEvaluationIntervalMs: 60_000,
  parseOptions: PARSER_OPTIONS,
  // Prometheus's runner (promqltest.NewTestEngine) runs with delayed name removal on.
  enableDelayedNameRemoval: true,
};

export interface FileSummary {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
}

export interface CorpusRun {
  cases: CaseResult[];
  files: FileSummary[];
}

/** The `.test` files named by `paths` (folders are read one level deep, sorted). */
export function collectTestFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e.endsWith('.test')) out.push(join(p, e));
    } else {
      out.push(p);
    }
  }
  return out;
}

export function summarize(file: string, cases: readonly CaseResult[]): FileSummary {
  const s: FileSummary = { file, passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) s[c.status]++;
  return s;
}

/** Runs every file (case ids use the file's base name: `operators.test:123`). */
export async function runFiles(files: readonly string[], opts: RunOptions, onFile?: (s: FileSummary, cases: CaseResult[]) => void): Promise<CorpusRun> {
  const runner = new ScriptRunner(opts);
  const run: CorpusRun = { cases: [], files: [] };
  for (const f of files) {
    const name = basename(f);
    const cases = await runner.runScript(name, readFileSync(f, 'utf8'));
    const s = summarize(name, cases);
    run.cases.push(...cases);
    run.files.push(s);
    onFile?.(s, cases);
  }
  return run;
}

export function totals(run: CorpusRun): { passed: number; failed: number; skipped: number } {
  const t = { passed: 0, failed: 0, skipped: 0 };
  for (const f of run.files) {
    t.passed += f.passed;
    t.failed += f.failed;
    t.skipped += f.skipped;
  }
  return t;
}

/** Case ids of a known-failures file: one per line, `#` starts a comment. */
export function parseKnownFailures(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split('\n')) {
    const id = (raw.split('#', 1)[0] ?? '').trim();
    if (id !== '') out.add(id);
  }
  return out;
}

export interface KnownFailuresCheck {
  /** failing, but not listed */
  unexpected: CaseResult[];
  /** listed, but passing now (remove them from the list) */
  nowPassing: string[];
  /** listed, but skipped or not in the run at all (remove them too) */
  stale: string[];
}

export function checkKnownFailures(cases: readonly CaseResult[], known: ReadonlySet<string>): KnownFailuresCheck {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const r: KnownFailuresCheck = { unexpected: [], nowPassing: [], stale: [] };
  for (const c of cases) if (c.status === 'failed' && !known.has(c.id)) r.unexpected.push(c);
  for (const id of known) {
    const c = byId.get(id);
    if (c === undefined || c.status === 'skipped') r.stale.push(id);
    else if (c.status === 'passed') r.nowPassing.push(id);
  }
  return r;
}

/** A known-failures file for the failing cases of a run, grouped by file, with each message. */
export function formatKnownFailures(cases: readonly CaseResult[], header: string): string {
  const lines = header.split('\n').map((l) => `# ${l}`.trimEnd());
  let file = '';
  for (const c of cases) {
    if (c.status !== 'failed') continue;
    if (c.file !== file) {
      file = c.file;
      lines.push('', `# ${file}`);
    }
    const why = (c.message ?? '').split('\n', 1)[0]?.replace(/\s+/g, ' ').slice(0, 140) ?? '';
    lines.push(`${c.id}  # ${why}`);
  }
  return lines.join('\n') + '\n';
}

/** A failing case for humans: id, eval line, what went wrong, expected and actual results. */
export function formatFailure(c: CaseResult): string {
  const indent = (s: string): string =>
    s
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
  const out = [`FAIL ${c.id}: ${c.header}`, `  ${c.message ?? ''}`];
  if (c.expected !== undefined) out.push('  expected:', indent(c.expected));
  if (c.actual !== undefined) out.push('  actual:', indent(c.actual));
  return out.join('\n');
}
