// The promqltest conformance runner's command line:
//
//   npm run promqltest -- [options] [files or folders ...]
//   (default folder: test/conformance/promqltest, a copy of the corpus)
//
// Prints every failing case (file:line, query, what went wrong, expected and actual results),
// one summary line per file, and ends with ONE JSON line {"passed":N,"failed":N,"skipped":N}.
// Exit status: 1 if a case failed (with --known-failures: if a case failed that is not listed,
// or a listed case passes now), else 0.
//
// Options:
//   --known-failures <file>        compare failures with a list of case ids
//   --write-known-failures <file>  write the failing case ids to a file
//   --no-at-rerun                  skip the `@` re-run of instant evals
//   --no-range-rerun               skip the range re-run of instant evals
//   --timeout <ms>                 per-query deadline (default 60000)
//   --skipped                      also list the skipped cases with their feature
//   --quiet                        print failing case ids only
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createAtRewriter, createEngine } from './engine-binding.js';
import { checkKnownFailures, collectTestFiles, formatFailure, formatKnownFailures, parseKnownFailures, runFiles, totals } from './corpus.js';

/** the corpus copied into the repository (test/conformance/promqltest/SOURCE.md) */
const DEFAULT_DIR = 'test/conformance/promqltest';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'known-failures': { type: 'string' },
      'write-known-failures': { type: 'string' },
      'no-at-rerun': { type: 'boolean', default: false },
      'no-range-rerun': { type: 'boolean', default: false },
      timeout: { type: 'string' },
      skipped: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const files = collectTestFiles(positionals.length > 0 ? positionals : [DEFAULT_DIR]);
  const engine = createEngine();
  const atRewriter = values['no-at-rerun'] ? null : createAtRewriter();
  const run = await runFiles(
    files,
    { engine, atRewriter, rangeRerun: !values['no-range-rerun'], queryTimeoutMs: values.timeout === undefined ? undefined : Number(values.timeout) },
    (_s, cases) => {
      for (const c of cases) {
        if (c.status === 'failed') console.log(values.quiet ? `FAIL ${c.id}` : `${formatFailure(c)}\n`);
        else if (c.status === 'skipped' && values.skipped) console.log(`SKIP ${c.id} (${c.feature}): ${c.header}`);
      }
    },
  );
  for (const f of run.files) console.log(`${f.file.padEnd(28)} passed ${String(f.passed).padStart(4)}  failed ${String(f.failed).padStart(4)}  skipped ${String(f.skipped).padStart(4)}`);
  let status = run.cases.some((c) => c.status === 'failed') ? 1 : 0;
  if (values['write-known-failures'] !== undefined) {
    const header = [
      'promqltest cases that fail today (npm run promqltest -- --write-known-failures <file>).',
      'One case id (file:line of the eval) per line; test/conformance/promqltest.test.ts fails if a case',
      'fails that is not listed here, or if a listed case passes (then delete its line: the list only shrinks).',
    ].join('\n');
    writeFileSync(values['write-known-failures'], formatKnownFailures(run.cases, header));
  }
  if (values['known-failures'] !== undefined) {
    const check = checkKnownFailures(run.cases, parseKnownFailures(readFileSync(values['known-failures'], 'utf8')));
    for (const c of check.unexpected) console.log(`not in the known failures: ${c.id}`);
    for (const id of check.nowPassing) console.log(`passes now, remove it from the known failures: ${id}`);
    for (const id of check.stale) console.log(`not run or skipped, remove it from the known failures: ${id}`);
    status = check.unexpected.length > 0 || check.nowPassing.length > 0 || check.stale.length > 0 ? 1 : 0;
  }
  console.log(JSON.stringify(totals(run)));
  return status;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 2;
  },
);
