// Ring tokens: generating them, and the tokens file (-ingester.ring.tokens-file-path) an instance
// keeps them in across restarts, so a restarted ingester owns the same series as before. The file
// is Mimir's format, {"tokens":[1,2,3]}, written atomically (temp file, fsync, rename).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log/index.js';
import { sortUnique } from './model.js';

const UINT32_SPACE = 4294967296;

/**
 * n random uint32 tokens, unique among themselves and not in `taken` (the tokens already in the
 * ring), sorted. `rnd` returns floats in [0, 1) like Math.random (tests pass a seeded one).
 * Throws if n unique tokens cannot be found in a bounded number of draws (a broken rnd).
 */
export function generateTokens(n: number, taken: ReadonlySet<number>, rnd: () => number = Math.random): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`token count must be a non-negative integer, got ${n}`);
  const out = new Set<number>();
  const maxDraws = n * 100 + 1000;
  for (let draws = 0; out.size < n; draws++) {
    if (draws >= maxDraws) throw new Error(`could not generate ${n} unique tokens in ${maxDraws} draws (${out.size} found)`);
    const t = Math.floor(rnd() * UINT32_SPACE) >>> 0;
    if (!taken.has(t)) out.add(t);
  }
  return sortUnique(out);
}

/** Mimir's token file body: {"tokens":[...]}. */
export function encodeTokensFile(tokens: readonly number[]): string {
  return JSON.stringify({ tokens });
}

/** The tokens of a token file's text, sorted and unique; throws an Error saying what is wrong. */
export function decodeTokensFile(text: string): number[] {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  const tokens = (v as Record<string, unknown>)['tokens'];
  if (!Array.isArray(tokens)) throw new Error('no "tokens" list');
  for (const t of tokens) {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= UINT32_SPACE) throw new Error(`not a uint32 token: ${JSON.stringify(t)}`);
  }
  return sortUnique(tokens as number[]);
}

/**
 * The tokens saved at `path`, or null when there are none to reuse: the file is missing (logged
 * at info: a first start), unreadable, corrupt or empty (logged as a warning). Never throws.
 */
export async function loadTokensFile(path: string, log?: Logger): Promise<number[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      log?.info({ path }, 'no tokens file; new tokens will be generated');
    } else {
      log?.warn({ path, err: e }, 'cannot read the tokens file; new tokens will be generated');
    }
    return null;
  }
  try {
    const tokens = decodeTokensFile(text);
    if (tokens.length === 0) {
      log?.warn({ path }, 'tokens file holds no tokens; new tokens will be generated');
      return null;
    }
    return tokens;
  } catch (e) {
    log?.warn({ path, err: e instanceof Error ? e.message : String(e) }, 'corrupt tokens file; new tokens will be generated');
    return null;
  }
}

/**
 * Writes the tokens file atomically: a temp file in the same directory (created if missing) is
 * written and fsynced, then renamed over `path`, so a crash leaves the old file or the new one,
 * never a torn one. Throws on failure (the temp file is removed).
 */
export async function saveTokensFile(path: string, tokens: readonly number[]): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(encodeTokensFile(tokens), 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  // make the rename itself durable; not every platform lets a directory be fsynced
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}
