// Small helpers shared by tests.
import { mulberry32 } from '../src/util/random.js';

export { mulberry32 };

/** Rejects with `message` if p does not settle within ms: a hang becomes a failure, not a stall. */
export function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(t));
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending callbacks, microtasks and promise chains run (a macrotask turn). */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

/** 'pending', or how the promise settled, after letting it run for a few turns. */
export async function settledState(p: Promise<unknown>, turns = 3): Promise<'pending' | 'resolved' | { rejected: unknown }> {
  let out: 'pending' | 'resolved' | { rejected: unknown } = 'pending';
  p.then(() => { out = 'resolved'; }, (e: unknown) => { out = { rejected: e }; });
  await ticks(turns);
  return out;
}
