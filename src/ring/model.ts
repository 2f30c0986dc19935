// The ring's data model (dskit ring.Desc / InstanceDesc) and its codec: JSON as UTF-8 bytes, the
// value stored under the ring key in the KV store (layout: docs/formats/ring.md).
//
// The bytes come from a shared store, so decodeRingDesc treats them as untrusted: it never throws,
// a value that is not a ring at all is an error result, and an entry that is not a valid instance
// is dropped with a reason while the rest of the ring is kept.

export type InstanceState = 'PENDING' | 'JOINING' | 'ACTIVE' | 'LEAVING';

export const INSTANCE_STATES: readonly InstanceState[] = ['PENDING', 'JOINING', 'ACTIVE', 'LEAVING'];

export interface InstanceDesc {
  readonly id: string;
  /** gRPC address, host:port. */
  readonly addr: string;
  /** Availability zone; '' when none. */
  readonly zone: string;
  readonly state: InstanceState;
  /** Sorted ascending, unique uint32s. */
  readonly tokens: readonly number[];
  /** Last heartbeat, ms since the epoch. */
  readonly heartbeatMs: number;
  /** When the instance first registered, ms since the epoch (0 if unknown). */
  readonly registeredMs: number;
  /** Read-only instances take no writes but still serve reads (Mimir's read-only mode). */
  readonly readOnly?: boolean;
}

export interface RingDesc {
  readonly instances: Readonly<Record<string, InstanceDesc>>;
}

export const EMPTY_RING_DESC: RingDesc = Object.freeze({ instances: Object.freeze({}) });

// Bounds on what a decoded value may hold, far above any real ring, so a corrupt or hostile value
// cannot make every reader allocate without limit.
export const MAX_RING_BYTES = 64 * 1024 * 1024;
export const MAX_INSTANCES = 10_000;
export const MAX_TOKENS_PER_INSTANCE = 65_536;
export const MAX_ID_LENGTH = 1024;
const MAX_ADDR_LENGTH = 1024;
const MAX_ZONE_LENGTH = 256;
/** Largest valid timestamp (ms), the end of ECMAScript's date range. */
const MAX_TIME_MS = 8.64e15;
const UINT32_LIMIT = 4294967296;

// ---- encoding ---------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** JSON bytes of the ring; instances in id order, so equal rings encode to equal bytes. */
export function encodeRingDesc(desc: RingDesc): Uint8Array {
  const instances: Record<string, unknown> = {};
  for (const id of sortedIds(desc)) {
    const i = desc.instances[id] as InstanceDesc;
    const o: Record<string, unknown> = {
      id,
      addr: i.addr,
      zone: i.zone,
      state: i.state,
      tokens: i.tokens,
      heartbeatMs: i.heartbeatMs,
      registeredMs: i.registeredMs,
    };
    if (i.readOnly === true) o['readOnly'] = true;
    instances[id] = o;
  }
  return encoder.encode(JSON.stringify({ instances }));
}

// ---- decoding ---------------------------------------------------------------------------------

export interface DroppedInstance {
  /** The entry's key (possibly truncated for logging). */
  readonly id: string;
  readonly reason: string;
}

export type RingDecodeResult =
  | { readonly ok: true; readonly desc: RingDesc; readonly dropped: readonly DroppedInstance[] }
  | { readonly ok: false; readonly error: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shortId(id: string): string {
  return id.length <= 128 ? id : `${id.slice(0, 128)}...`;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TIME_MS;
}

/** Checks one entry; returns the instance or why it is dropped. */
function decodeInstance(id: string, v: unknown): InstanceDesc | string {
  if (id === '') return 'empty instance id';
  if (id.length > MAX_ID_LENGTH) return `instance id longer than ${MAX_ID_LENGTH} characters`;
  if (id === '__proto__') return 'reserved instance id';
  if (!isPlainObject(v)) return 'entry is not an object';
  if (v['id'] !== undefined && v['id'] !== id) return 'id field differs from the entry key';
  const { addr, zone, state, tokens, heartbeatMs, registeredMs, readOnly } = v;
  if (typeof addr !== 'string' || addr.length > MAX_ADDR_LENGTH) return 'addr is not a string of reasonable length';
  if (zone !== undefined && (typeof zone !== 'string' || zone.length > MAX_ZONE_LENGTH)) return 'zone is not a string of reasonable length';
  if (typeof state !== 'string' || !(INSTANCE_STATES as readonly string[]).includes(state)) {
    return `state is not one of ${INSTANCE_STATES.join(', ')}`;
  }
  if (!Array.isArray(tokens)) return 'tokens is not a list';
  if (tokens.length > MAX_TOKENS_PER_INSTANCE) return `more than ${MAX_TOKENS_PER_INSTANCE} tokens`;
  let sorted = true;
  for (let k = 0; k < tokens.length; k++) {
    const t: unknown = tokens[k];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= UINT32_LIMIT) return `token ${k} is not a uint32`;
    if (k > 0 && t <= (tokens[k - 1] as number)) sorted = false;
  }
  if (!isTime(heartbeatMs)) return 'heartbeatMs is not a timestamp';
  if (registeredMs !== undefined && !isTime(registeredMs)) return 'registeredMs is not a timestamp';
  if (readOnly !== undefined && typeof readOnly !== 'boolean') return 'readOnly is not a boolean';
  // the order of tokens carries no meaning: repair rather than drop
  const toks = sorted ? (tokens as number[]).slice() : sortUnique(tokens as number[]);
  const inst: InstanceDesc = {
    id,
    addr,
    zone: (zone as string | undefined) ?? '',
    state: state as InstanceState,
    tokens: toks,
    heartbeatMs,
    registeredMs: (registeredMs as number | undefined) ?? 0,
  };
  return readOnly === true ? { ...inst, readOnly: true } : inst;
}

/**
 * Decodes a ring value. null (no value under the key) is the empty ring. Never throws: bytes
 * that are not a ring give { ok: false }, invalid entries are left out and listed in `dropped`.
 */
export function decodeRingDesc(bytes: Uint8Array | null): RingDecodeResult {
  if (bytes === null) return { ok: true, desc: EMPTY_RING_DESC, dropped: [] };
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'value is not bytes' };
  if (bytes.length > MAX_RING_BYTES) return { ok: false, error: `value larger than ${MAX_RING_BYTES} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    return { ok: false, error: `not JSON in UTF-8: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!isPlainObject(parsed)) return { ok: false, error: 'not a JSON object' };
  const raw = parsed['instances'];
  if (!isPlainObject(raw)) return { ok: false, error: 'no "instances" object' };
  const instances: Record<string, InstanceDesc> = {};
  const dropped: DroppedInstance[] = [];
  let n = 0;
  for (const id of Object.keys(raw)) {
    if (n >= MAX_INSTANCES) {
      dropped.push({ id: shortId(id), reason: `more than ${MAX_INSTANCES} instances` });
      continue;
    }
    const r = decodeInstance(id, raw[id]);
    if (typeof r === 'string') {
      dropped.push({ id: shortId(id), reason: r });
      continue;
    }
    instances[id] = r;
    n++;
  }
  return { ok: true, desc: { instances }, dropped };
}

// ---- operations -------------------------------------------------------------------------------

export function sortedIds(desc: RingDesc): string[] {
  return Object.keys(desc.instances).sort(compareIds);
}

/** Code-unit order: deterministic, locale-independent. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function getInstance(desc: RingDesc, id: string): InstanceDesc | undefined {
  return Object.hasOwn(desc.instances, id) ? desc.instances[id] : undefined;
}

/** A copy of the ring with `inst` added or replaced. */
export function withInstance(desc: RingDesc, inst: InstanceDesc): RingDesc {
  if (inst.id === '__proto__') throw new RangeError('reserved instance id "__proto__"');
  return { instances: { ...desc.instances, [inst.id]: inst } };
}

/** A copy of the ring without instance `id` (the same ring if it is not there). */
export function withoutInstance(desc: RingDesc, id: string): RingDesc {
  if (!Object.hasOwn(desc.instances, id)) return desc;
  const instances = { ...desc.instances };
  delete instances[id];
  return { instances };
}

/** Every token of every instance, optionally leaving one instance out. */
export function ringTokens(desc: RingDesc, exceptId?: string): Set<number> {
  const out = new Set<number>();
  for (const id of Object.keys(desc.instances)) {
    if (id === exceptId) continue;
    for (const t of (desc.instances[id] as InstanceDesc).tokens) out.add(t);
  }
  return out;
}

const STATE_RANK: Record<InstanceState, number> = { PENDING: 0, JOINING: 1, ACTIVE: 2, LEAVING: 3 };

/** Which of two entries for one instance is the newer: the later heartbeat, then the later state. */
function newer(a: InstanceDesc, b: InstanceDesc): InstanceDesc {
  if (a.heartbeatMs !== b.heartbeatMs) return a.heartbeatMs > b.heartbeatMs ? a : b;
  if (a.state !== b.state) return STATE_RANK[a.state] > STATE_RANK[b.state] ? a : b;
  return b;
}

/**
 * Merges two views of one ring (for example the value read back after a failed CAS and the local
 * view): every instance in either is kept, and where both have it the entry with the later
 * heartbeat wins (on a tie the later lifecycle state, then `b`). Like dskit's Desc.Merge without
 * tombstones: a merge cannot tell "removed" from "not seen yet", so removal is a CAS that deletes
 * the entry (withoutInstance), never a merge.
 */
export function mergeRingDescs(a: RingDesc, b: RingDesc): RingDesc {
  const instances: Record<string, InstanceDesc> = { ...a.instances };
  for (const id of Object.keys(b.instances)) {
    const theirs = b.instances[id] as InstanceDesc;
    const ours = Object.hasOwn(instances, id) ? instances[id] : undefined;
    instances[id] = ours === undefined ? theirs : newer(ours, theirs);
  }
  return { instances };
}

export function sortUnique(tokens: Iterable<number>): number[] {
  const a = Array.from(tokens).sort((x, y) => x - y);
  let w = 0;
  for (let r = 0; r < a.length; r++) {
    if (r === 0 || a[r] !== a[w - 1]) a[w++] = a[r] as number;
  }
  a.length = w;
  return a;
}
