// Runs the compiled tests with node's built-in runner (Node 20's runner does not expand globs or
// discover .ts files, so the files are listed here). Arguments narrow the run to folders or files
// under test/ (e.g. `node scripts/run-tests.mjs test/unit`). The runner's summary is the last output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const dist = join(root, 'dist');
const args = process.argv.slice(2);
const roots = (args.length > 0 ? args : ['test']).map((a) => join(dist, relative(root, resolve(root, a)).replace(/\.ts$/, '.js')));

function collect(p, out) {
  if (!existsSync(p)) throw new Error(`no such test path: ${relative(dist, p)} (did the build run?)`);
  if (statSync(p).isDirectory()) {
    for (const e of readdirSync(p).sort()) collect(join(p, e), out);
  } else if (p.endsWith('.test.js')) out.push(p);
  return out;
}

const files = roots.flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
