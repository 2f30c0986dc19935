// Writes dist/build-info.json (version, git revision, build date) and marks the bin executable.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const git = (...args) => {
  try {
    return execFileSync('git', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
};
const info = {
  version: pkg.version,
  revision: git('rev-parse', 'HEAD'),
  branch: git('rev-parse', '--abbrev-ref', 'HEAD'),
  buildUser: process.env.USER ?? 'unknown',
  buildDate: new Date().toISOString(),
};
writeFileSync(new URL('../dist/build-info.json', import.meta.url), JSON.stringify(info, null, 2) + '\n');
chmodSync(new URL('../dist/src/cli/main.js', import.meta.url), 0o755);
