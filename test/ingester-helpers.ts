// Starting and stopping an in-process Ingester on a data directory, for ingester tests.
import { schema } from '../src/app/config.js';
import { defaultsOf } from '../src/config/index.js';
import { Ingester } from '../src/ingester/index.js';
import { silentLogger } from '../src/log/index.js';
import { createBareRegistry } from '../src/metrics/index.js';

export type TestConfig = ReturnType<typeof defaultsOf<typeof schema>>;

/** A new (not started) Ingester on dir with default config, adjusted by over. */
export function newIngester(dir: string, over: (c: TestConfig) => void = () => undefined): Ingester {
  const c = defaultsOf(schema);
  c.tsdb.dir = dir;
  over(c);
  return new Ingester({ tsdb: c.tsdb, ingester: c.ingester, limits: c.limits, log: silentLogger(), registry: createBareRegistry() });
}

export async function started(ing: Ingester): Promise<Ingester> {
  ing.startAsync();
  await ing.awaitRunning();
  return ing;
}

export async function stopped(ing: Ingester): Promise<void> {
  ing.stopAsync();
  await ing.awaitTerminated();
}
