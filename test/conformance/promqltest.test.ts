// Prometheus's promqltest scripts (test/conformance/promqltest) against Muninn's engine,
// in-process. Fails if a case fails that test/conformance/known-failures.txt does not list, and
// if a listed case passes now or is no longer run (the list may only shrink: delete those lines).
// Cases needing an unsupported experimental feature are skipped (src/promql/promqltest/
// unsupported.ts) and counted separately.
import '../harness.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import {
  checkKnownFailures,
  collectTestFiles,
  createAtRewriter,
  createEngine,
  formatFailure,
  parseKnownFailures,
  runFiles,
  totals,
} from '../../src/promql/promqltest/index.js';

/** The repository root: the nearest folder above this (compiled) file with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const ROOT = repoRoot();
// the corpus copied into the repository (test/conformance/promqltest/SOURCE.md)
const CORPUS = join(ROOT, 'test', 'conformance', 'promqltest');
const KNOWN = join(ROOT, 'test', 'conformance', 'known-failures.txt');

test('promqltest corpus: no failures beyond test/conformance/known-failures.txt', { skip: existsSync(CORPUS) ? false : `no corpus at ${CORPUS}` }, async (t) => {
  const run = await runFiles(collectTestFiles([CORPUS]), { engine: createEngine(), atRewriter: createAtRewriter() });
  const sum = totals(run);
  for (const f of run.files) t.diagnostic(`${f.file}: passed ${f.passed}, failed ${f.failed}, skipped ${f.skipped}`);
  t.diagnostic(JSON.stringify(sum));
  const known = parseKnownFailures(existsSync(KNOWN) ? readFileSync(KNOWN, 'utf8') : '');
  const check = checkKnownFailures(run.cases, known);
  const problems: string[] = [];
  for (const c of check.unexpected) problems.push(`new failure (fix it, or list it in known-failures.txt):\n${formatFailure(c)}`);
  for (const id of check.nowPassing) problems.push(`passes now: remove ${id} from test/conformance/known-failures.txt`);
  for (const id of check.stale) problems.push(`skipped or not run: remove ${id} from test/conformance/known-failures.txt`);
  assert.ok(problems.length === 0, `${problems.length} conformance problem(s):\n\n${problems.join('\n\n')}`);
  assert.ok(sum.passed > 0, 'no case passed: is the engine wired in?');
});
