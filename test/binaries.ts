// Finding the system binaries tests and the cluster launcher run (etcd, haproxy, prometheus).
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
