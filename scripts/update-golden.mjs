#!/usr/bin/env node
// Regenerates the golden files the tests compare against, from the built code in dist/:
//   test/golden/help.txt   the exact -help output: renderHelp(schema, 'muninn') of src/app/config.ts
//
// Run it after `npm run build` whenever an option changes (added, renamed, new default or help
// text), then review the diff of test/golden/ before committing: that diff is the change users
// see in `muninn -help`.
//   npm run build && node scripts/update-golden.mjs
// With --check it writes nothing and exits 1 if a golden file is out of date.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const dist = new URL('dist/src/', root);
const check = process.argv.includes('--check');

for (const f of ['app/config.js', 'config/index.js']) {
  if (!existsSync(new URL(f, dist))) {
    console.error(`dist/src/${f} not found: run \`npm run build\` first`);
    process.exit(1);
  }
}
const { schema } = await import(new URL('app/config.js', dist).href);
const { renderHelp } = await import(new URL('config/index.js', dist).href);

const golden = [['test/golden/help.txt', renderHelp(schema, 'muninn')]];

let stale = 0;
for (const [rel, text] of golden) {
  const file = new URL(rel, root);
  const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (old === text) {
    console.log(`${rel}: up to date`);
    continue;
  }
  stale++;
  if (check) {
    console.error(`${rel}: out of date (run: node scripts/update-golden.mjs)`);
  } else {
    writeFileSync(file, text);
    console.log(`${rel}: ${old === undefined ? 'written' : 'updated'} (${fileURLToPath(file)}); review the diff`);
  }
}
process.exit(check && stale > 0 ? 1 : 0);
