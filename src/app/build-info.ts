// Version and revision, written into dist/build-info.json by scripts/postbuild.mjs.
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached !== undefined) return cached;
  const fallback: BuildInfo = { version: 'unknown', revision: 'unknown', branch: 'unknown', buildUser: 'unknown', buildDate: 'unknown' };
  try {
    // dist/src/app/build-info.js -> dist/build-info.json
    const text = readFileSync(new URL('../../build-info.json', import.meta.url), 'utf8');
    cached = { ...fallback, ...(JSON.parse(text) as Partial<BuildInfo>) };
  } catch {
    cached = fallback;
  }
  return cached;
}
