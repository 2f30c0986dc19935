// Ring updates through the KV store: a CAS over the decoded ring, and forgetting instances (the
// ring page's "forget" button; auto-forget of instances that stopped heartbeating long ago).
import type { Logger } from '../log/index.js';
import type { KVClient } from './kv/kv.js';
import { type InstanceDesc, type RingDesc, EMPTY_RING_DESC, decodeRingDesc, encodeRingDesc, withoutInstance } from './model.js';

export interface CasRingOptions {
  signal?: AbortSignal;
  /** Where undecodable values and dropped entries are reported. */
  log?: Logger;
}

/**
 * A CAS over the decoded ring: f gets the current ring (the empty ring when the key is absent, or
 * when its value is not a ring at all: logged, and then overwritten) and returns the new ring, or
 * null to leave the value as it is. Invalid entries the decoder drops are logged and not written
 * back. f may run more than once (the store retries on conflict), so it must not have side effects
 * beyond remembering its last result. Resolves with the ring now stored.
 */
export async function casRing(kv: KVClient, key: string, f: (current: RingDesc) => RingDesc | null, opts: CasRingOptions = {}): Promise<RingDesc> {
  let result: RingDesc = EMPTY_RING_DESC;
  await kv.cas(
    key,
    (bytes) => {
      const d = decodeRingDesc(bytes);
      let current = EMPTY_RING_DESC;
      if (!d.ok) {
        opts.log?.warn({ key, error: d.error }, 'ring value in the KV store is not a ring; replacing it');
      } else {
        current = d.desc;
        for (const x of d.dropped) opts.log?.warn({ key, instance: x.id, reason: x.reason }, 'dropping an invalid instance entry from the ring');
      }
      const next = f(current);
      result = next ?? current;
      if (next === null) return d.ok && d.dropped.length === 0 ? null : encodeRingDesc(current);
      return encodeRingDesc(next);
    },
    opts.signal,
  );
  return result;
}

/** Removes instance `id` from the ring; true if it was there. */
export async function forgetInstance(kv: KVClient, key: string, id: string, opts: CasRingOptions = {}): Promise<boolean> {
  let found = false;
  await casRing(
    kv,
    key,
    (desc) => {
      const next = withoutInstance(desc, id);
      found = next !== desc;
      return found ? next : null;
    },
    opts,
  );
  if (found) opts.log?.info({ key, instance: id }, 'instance forgotten from the ring');
  return found;
}

/** The ids of instances whose last heartbeat is more than forgetPeriodMs before nowMs. */
export function instancesToForget(desc: RingDesc, nowMs: number, forgetPeriodMs: number): string[] {
  const out: string[] = [];
  for (const id of Object.keys(desc.instances)) {
    if (nowMs - (desc.instances[id] as InstanceDesc).heartbeatMs > forgetPeriodMs) out.push(id);
  }
  return out;
}

/**
 * Auto-forget (dskit AutoForgetDelegate): removes every instance that has not heartbeaten for
 * more than forgetPeriodMs, except `keepId` (the caller itself). Resolves with the ids removed.
 */
export async function forgetUnhealthyInstances(
  kv: KVClient,
  key: string,
  forgetPeriodMs: number,
  nowMs: number,
  opts: CasRingOptions & { keepId?: string } = {},
): Promise<string[]> {
  let removed: string[] = [];
  await casRing(
    kv,
    key,
    (desc) => {
      removed = instancesToForget(desc, nowMs, forgetPeriodMs).filter((id) => id !== opts.keepId);
      let next = desc;
      for (const id of removed) next = withoutInstance(next, id);
      return removed.length > 0 ? next : null;
    },
    opts,
  );
  for (const id of removed) opts.log?.warn({ key, instance: id, forgetPeriodMs }, 'auto-forgot an instance that stopped heartbeating');
  return removed;
}
