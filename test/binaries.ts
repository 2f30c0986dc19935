// Finding the system binaries tests and the cluster launcher run (etcd, haproxy, prometheus).
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The executable `name`: $envVar if set, else the first on PATH, else the fallback paths (Debian
 * puts haproxy in /usr/sbin, often not on a user's PATH); null if there is none.
 */
export function findBinary(name: string, envVar: string, fallbacks: readonly string[]): string | null {
  const fromEnv = process.env[envVar];
  const candidates = [
    ...(fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : []),
    ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, name)),
    ...fallbacks,
  ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Kills `child` with SIGKILL if this process exits while it still runs, so a test or launcher
 * that dies without cleaning up leaves no etcd or haproxy behind. Returns the untrack function,
 * to call once the child exited.
 */
export function killOnExit(child: ChildProcess): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of running) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  running.add(child);
  return () => running.delete(child);
}
