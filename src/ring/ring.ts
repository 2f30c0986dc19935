// A snapshot of the hash ring for lookups (dskit ring.Ring: Get, GetReplicationSetForOperation,
// the default replication strategy). Immutable: the RingWatcher builds a new one per ring change;
// health is evaluated at call time against the clock, so a snapshot goes on telling healthy from
// unhealthy instances as heartbeats age.
//
// Replication, as dskit does it (ring.go findInstancesForKey + replication_strategy.go Filter):
// - Walk clockwise from the first token >= key, skipping instances already taken and, with zone
//   awareness, instances in a zone already taken. Stop at RF instances (or when every instance, or
//   with zone awareness every zone, is taken, or after one full turn).
// - An instance whose state the operation does not serve *extends* the walk by one (RF grows by
//   one), so its replica lands on the next instance: for writes any state but ACTIVE; for reads
//   PENDING and JOINING (LEAVING still serves reads). With zone awareness an extending instance does
//   not use up its zone, so the extra replica stays in the same zone.
// - An instance with a stale heartbeat does NOT extend the walk: it keeps its place, counting
//   towards RF. The taken instances are then filtered down to those healthy for the operation
//   (state served and heartbeat within the timeout); minSuccess = floor(max(RF, taken)/2) + 1 of the
//   taken ones, maxErrors = healthy - minSuccess. So an unhealthy or non-serving instance costs the
//   error budget, and fewer than minSuccess healthy instances is an error (no write is attempted).
// - Read-only instances (Mimir's read-only mode) are left out of write walks altogether, as if not
//   in the ring, which is what dskit gets by filtering them out of the (shuffle-shard) subring the
//   distributor writes through. Reads see them like any other instance.
//
// The walk for a given start token and operation depends only on the ring, not on time, so it is
// computed once per (start token, operation) and cached; a lookup is then a binary search, a filter
// over RF instances and one small result object.
import { MuninnError } from '../errors/index.js';
import { type InstanceDesc, type InstanceState, type RingDesc, EMPTY_RING_DESC, compareIds } from './model.js';

/** What a lookup is for: 'reporting' asks only whether the heartbeat is fresh (the ring page). */
export type Operation = 'write' | 'read' | 'reporting';

const SERVES: Record<Operation, ReadonlySet<InstanceState>> = {
  write: new Set<InstanceState>(['ACTIVE']),
  read: new Set<InstanceState>(['ACTIVE', 'PENDING', 'LEAVING']),
  reporting: new Set<InstanceState>(['PENDING', 'JOINING', 'ACTIVE', 'LEAVING']),
};

/** dskit Operation.ShouldExtendReplicaSetOnState. */
export function extendsReplicaSet(op: Operation, state: InstanceState): boolean {
  switch (op) {
    case 'write':
      return state !== 'ACTIVE';
    case 'read':
      return state !== 'ACTIVE' && state !== 'LEAVING';
    case 'reporting':
      return false;
    default: {
      const never: never = op;
      throw new Error(`unknown operation ${String(never)}`);
    }
  }
}

/** Whether the instance's heartbeat is within the timeout (a timeout <= 0 disables the check). */
export function isHeartbeatHealthy(inst: InstanceDesc, heartbeatTimeoutMs: number, nowMs: number): boolean {
  return heartbeatTimeoutMs <= 0 || nowMs - inst.heartbeatMs <= heartbeatTimeoutMs;
}

/** dskit InstanceDesc.IsHealthy: the operation is served in the instance's state and its heartbeat is fresh. */
export function isInstanceHealthy(inst: InstanceDesc, op: Operation, heartbeatTimeoutMs: number, nowMs: number): boolean {
  return SERVES[op].has(inst.state) && isHeartbeatHealthy(inst, heartbeatTimeoutMs, nowMs);
}

export interface RingOptions {
  replicationFactor: number;
  zoneAwarenessEnabled?: boolean;
  /** An instance whose last heartbeat is older is unhealthy; <= 0 never. */
  heartbeatTimeoutMs: number;
  /** The clock, ms since the epoch (tests inject one). Default Date.now. */
  now?: () => number;
}

export interface ReplicationSet {
  /** The instances to call. */
  readonly instances: readonly InstanceDesc[];
  /** How many of them may fail with the operation still succeeding. */
  readonly maxErrors: number;
  /** How many of them must succeed: instances.length - maxErrors (quorum of the set it should have). */
  readonly minSuccess: number;
  readonly zoneAwarenessEnabled: boolean;
  /** getAllHealthy with zone awareness: how many whole zones may fail (maxErrors is then 0); else 0. */
  readonly maxUnavailableZones: number;
  /** Distinct zones of `instances`, in order of first appearance. */
  readonly zones: readonly string[];
}

export type RingErrorReason = 'empty_ring' | 'too_many_unhealthy';

/** A lookup the ring cannot answer now. Retryable (HTTP 503, gRPC UNAVAILABLE): rings change. */
export class RingError extends MuninnError {
  readonly reason: RingErrorReason;
  constructor(reason: RingErrorReason, message: string) {
    super('unavailable', message);
    this.name = 'RingError';
    this.reason = reason;
  }
}

const UINT32_SPACE = 4294967296;
/** Instance indexes are packed below tokens in one float64 sort key: token * 2^20 + index < 2^53. */
const MAX_RING_INSTANCES = 1 << 20;

type WalkOp = 'write' | 'read';

export class Ring {
  readonly desc: RingDesc;
  readonly replicationFactor: number;
  readonly zoneAwarenessEnabled: boolean;
  readonly heartbeatTimeoutMs: number;
  /** Instances sorted by id; indexes into this are what the token table holds. */
  readonly instances: readonly InstanceDesc[];
  /** Every token, sorted ascending (a token claimed by two instances appears twice). */
  readonly tokens: Uint32Array;
  /** tokenOwners[i]: index in `instances` of the instance that registered tokens[i]. */
  readonly tokenOwners: Uint32Array;
  private readonly clock: () => number;
  private readonly byId = new Map<string, number>();
  private readonly zoneIdx: Int32Array;
  private readonly zoneNames: string[] = [];
  private readonly walks: Record<WalkOp, Array<readonly number[] | undefined>>;
  /** Per operation: instances with tokens eligible for its walks, and their distinct zones. */
  private readonly eligible: Record<WalkOp, { instances: number; zones: number }>;

  constructor(desc: RingDesc, opts: RingOptions) {
    if (!Number.isInteger(opts.replicationFactor) || opts.replicationFactor < 1) {
      throw new RangeError(`replication factor must be a positive integer, got ${opts.replicationFactor}`);
    }
    this.desc = desc;
    this.replicationFactor = opts.replicationFactor;
    this.zoneAwarenessEnabled = opts.zoneAwarenessEnabled ?? false;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs;
    this.clock = opts.now ?? Date.now;

    const ids = Object.keys(desc.instances).sort(compareIds);
    if (ids.length >= MAX_RING_INSTANCES) throw new RangeError(`too many instances in the ring: ${ids.length}`);
    this.instances = ids.map((id) => desc.instances[id] as InstanceDesc);
    const zoneByName = new Map<string, number>();
    this.zoneIdx = new Int32Array(ids.length);
    let total = 0;
    this.instances.forEach((inst, i) => {
      this.byId.set(inst.id, i);
      let z = zoneByName.get(inst.zone);
      if (z === undefined) {
        z = this.zoneNames.length;
        zoneByName.set(inst.zone, z);
        this.zoneNames.push(inst.zone);
      }
      this.zoneIdx[i] = z;
      total += inst.tokens.length;
    });

    const keys = new Float64Array(total);
    let k = 0;
    this.instances.forEach((inst, i) => {
      for (const t of inst.tokens) keys[k++] = t * MAX_RING_INSTANCES + i;
    });
    keys.sort();
    this.tokens = new Uint32Array(total);
    this.tokenOwners = new Uint32Array(total);
    for (let j = 0; j < total; j++) {
      const key = keys[j] as number;
      const token = Math.floor(key / MAX_RING_INSTANCES);
      this.tokens[j] = token;
      this.tokenOwners[j] = key - token * MAX_RING_INSTANCES;
    }

    this.walks = { write: new Array(total), read: new Array(total) };
    this.eligible = { write: this.countEligible('write'), read: this.countEligible('read') };
  }

  /** A ring with no instances. */
  static empty(opts: RingOptions): Ring {
    return new Ring(EMPTY_RING_DESC, opts);
  }

  now(): number {
    return this.clock();
  }

  get instanceCount(): number {
    return this.instances.length;
  }

  instance(id: string): InstanceDesc | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.instances[i];
  }

  hasInstance(id: string): boolean {
    return this.byId.has(id);
  }

  isHealthy(inst: InstanceDesc, op: Operation, nowMs: number = this.clock()): boolean {
    return isInstanceHealthy(inst, op, this.heartbeatTimeoutMs, nowMs);
  }

  /**
   * The replication set for a series token: the instances to send the operation to and the error
   * budget (see the file comment). Throws RingError when the ring has no tokens or fewer than a
   * quorum of the instances the key maps to are healthy.
   */
  get(key: number, op: WalkOp, nowMs: number = this.clock()): ReplicationSet {
    const n = this.tokens.length;
    if (n === 0) throw new RingError('empty_ring', 'empty ring');
    const start = this.search(key >>> 0);
    const walk = this.walks[op][start] ?? this.walk(start, op);
    const rf = Math.max(this.replicationFactor, walk.length);
    const minSuccess = Math.floor(rf / 2) + 1;
    const healthy: InstanceDesc[] = [];
    const zones: string[] = [];
    let unhealthy: string[] | undefined;
    for (const i of walk) {
      const inst = this.instances[i] as InstanceDesc;
      if (isInstanceHealthy(inst, op, this.heartbeatTimeoutMs, nowMs)) {
        healthy.push(inst);
        if (!zones.includes(inst.zone)) zones.push(inst.zone);
      } else {
        (unhealthy ??= []).push(inst.addr === '' ? inst.id : inst.addr);
      }
    }
    if (healthy.length < minSuccess) {
      const which = unhealthy === undefined ? '' : ` - unhealthy instances: ${unhealthy.join(',')}`;
      const where = this.zoneAwarenessEnabled ? ' across different availability zones' : '';
      throw new RingError('too_many_unhealthy', `at least ${minSuccess} live replicas required${where}, could only find ${healthy.length}${which}`);
    }
    return {
      instances: healthy,
      maxErrors: healthy.length - minSuccess,
      minSuccess,
      zoneAwarenessEnabled: this.zoneAwarenessEnabled,
      maxUnavailableZones: 0,
      zones,
    };
  }

  /**
   * Every instance that may hold data for the operation, with the failures a fan-out to all of
   * them tolerates (dskit GetReplicationSetForOperation, what queriers use; dskit's GetAllHealthy
   * is the same set with no error budget). Without zone awareness: max(instances, RF) - RF/2 must
   * answer. With it: up to (min(zones, RF)/2 + 1) - 1 zones may fail, every instance of a zone
   * with an unhealthy instance is left out, and maxUnavailableZones is what remains of that
   * budget. Read-only instances are left out of 'write'. Throws RingError when the ring has no
   * tokens or too many instances are unhealthy.
   */
  getAllHealthy(op: WalkOp, nowMs: number = this.clock()): ReplicationSet {
    if (this.tokens.length === 0) throw new RingError('empty_ring', 'empty ring');
    let healthy: InstanceDesc[] = [];
    const failedZones = new Set<string>();
    let considered = 0;
    for (const inst of this.instances) {
      if (op === 'write' && inst.readOnly === true) continue;
      considered++;
      if (isInstanceHealthy(inst, op, this.heartbeatTimeoutMs, nowMs)) healthy.push(inst);
      else failedZones.add(inst.zone);
    }
    let maxErrors = 0;
    let maxUnavailableZones = 0;
    if (this.zoneAwarenessEnabled) {
      const replicatedZones = Math.min(this.eligible[op].zones, this.replicationFactor);
      maxUnavailableZones = Math.floor(replicatedZones / 2);
      if (failedZones.size > maxUnavailableZones) {
        throw new RingError('too_many_unhealthy', `too many unhealthy instances in the ring: ${failedZones.size} zones have unhealthy instances, at most ${maxUnavailableZones} may`);
      }
      if (failedZones.size > 0) healthy = healthy.filter((i) => !failedZones.has(i.zone));
      maxUnavailableZones -= failedZones.size;
    } else {
      const required = Math.max(considered, this.replicationFactor) - Math.floor(this.replicationFactor / 2);
      if (healthy.length < required) {
        throw new RingError('too_many_unhealthy', `too many unhealthy instances in the ring: ${healthy.length} healthy, ${required} required`);
      }
      maxErrors = healthy.length - required;
    }
    const zones: string[] = [];
    for (const i of healthy) if (!zones.includes(i.zone)) zones.push(i.zone);
    return {
      instances: healthy,
      maxErrors,
      minSuccess: healthy.length - maxErrors,
      zoneAwarenessEnabled: this.zoneAwarenessEnabled,
      maxUnavailableZones,
      zones,
    };
  }

  /**
   * The fraction of the token space each instance owns as the first replica (token t owns the
   * keys after the previous token up to t): sums to 1 over the ring when it has tokens, 0 for an
   * instance without tokens. What dskit's ring page shows as "ownership".
   */
  tokenOwnership(): Map<string, number> {
    const owned = new Float64Array(this.instances.length);
    const n = this.tokens.length;
    for (let j = 0; j < n; j++) {
      const t = this.tokens[j] as number;
      // the first token's range wraps around the top of the space
      const span = j === 0 ? UINT32_SPACE - ((this.tokens[n - 1] as number) - t) : t - (this.tokens[j - 1] as number);
      const o = this.tokenOwners[j] as number;
      owned[o] = (owned[o] as number) + span;
    }
    const out = new Map<string, number>();
    this.instances.forEach((inst, i) => out.set(inst.id, (owned[i] as number) / UINT32_SPACE));
    return out;
  }

  /** Instances healthy for writes (ACTIVE, heartbeat fresh), as dskit's lifecycler counts them. */
  healthyInstanceCount(nowMs: number = this.clock()): number {
    let c = 0;
    for (const inst of this.instances) if (isInstanceHealthy(inst, 'write', this.heartbeatTimeoutMs, nowMs)) c++;
    return c;
  }

  /** Distinct zones of the instances that have tokens, sorted. */
  zones(): string[] {
    const set = new Set<string>();
    for (const inst of this.instances) if (inst.tokens.length > 0) set.add(inst.zone);
    return [...set].sort(compareIds);
  }

  /** Index of the first token >= key, wrapping to 0 past the last. */
  private search(key: number): number {
    const t = this.tokens;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((t[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo === t.length ? 0 : lo;
  }

  private countEligible(op: WalkOp): { instances: number; zones: number } {
    const zones = new Set<number>();
    let instances = 0;
    this.instances.forEach((inst, i) => {
      if (inst.tokens.length === 0 || (op === 'write' && inst.readOnly === true)) return;
      instances++;
      zones.add(this.zoneIdx[i] as number);
    });
    return { instances, zones: zones.size };
  }

  /** dskit findInstancesForKey from token index `start`; cached. */
  private walk(start: number, op: WalkOp): readonly number[] {
    const n = this.tokens.length;
    const { instances: maxInstances, zones: maxZones } = this.eligible[op];
    const zoneAware = this.zoneAwarenessEnabled;
    let want = this.replicationFactor;
    const taken: number[] = [];
    const takenZones: number[] = [];
    for (let it = 0, j = start; it < n && taken.length < Math.min(maxInstances, want) && takenZones.length < maxZones; it++, j++) {
      if (j === n) j = 0;
      const i = this.tokenOwners[j] as number;
      if (taken.includes(i)) continue;
      const inst = this.instances[i] as InstanceDesc;
      if (op === 'write' && inst.readOnly === true) continue;
      const z = this.zoneIdx[i] as number;
      const zoned = zoneAware && inst.zone !== '';
      if (zoned && takenZones.includes(z)) continue;
      taken.push(i);
      if (extendsReplicaSet(op, inst.state)) want++;
      else if (zoned) takenZones.push(z);
    }
    this.walks[op][start] = taken;
    return taken;
  }
}
