// The lifecycler: the service through which an instance (an ingester) takes part in the ring
// (after dskit ring.Lifecycler). Every ring change is a CAS over the whole ring value.
//
// Starting:
//   1. tokens to reuse: this instance's tokens if the ring still has them (a restart after
//      -ingester.ring.unregister-on-shutdown=false left it LEAVING with them, or a crash left it
//      behind), else the tokens file's (-ingester.ring.tokens-file-path), else none;
//   2. register as PENDING with those tokens (registeredMs kept from an earlier registration);
//   3. JOINING: give up any reused token another instance now claims, keep at most num-tokens,
//      generate the missing ones unique in the ring; save them to the tokens file;
//   4. ACTIVE, checking once more in the same CAS that no other instance claimed one of the tokens
//      meanwhile (if one did, this instance yields it and takes a fresh one; the joining instance
//      always yields, since the other may be ACTIVE and never look again).
// Running: a heartbeat every heartbeat period (the timer is unref'd and stops with the service);
//   the heartbeat rewrites this instance's entry, re-adding it if it went missing (forgotten, or
//   the store lost it), and optionally auto-forgets instances silent for too long. A failed
//   heartbeat is logged once per failure streak and retried at the next period; it never stops the
//   service.
// Stopping: LEAVING (reads only), then onLeaving(), then, with unregisterOnShutdown, the entry is
//   removed; without it the instance stays LEAVING with its tokens so a restart takes them back.
//   Every KV call while stopping is bounded by kvTimeoutMs; failures are logged, and the service
//   still terminates (a dead store must not block shutdown).
import { BasicService, sleep } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { KVClient } from './kv/kv.js';
import {
  type InstanceDesc, type InstanceState, type RingDesc, EMPTY_RING_DESC, getInstance, ringTokens, sortUnique, withInstance, withoutInstance,
} from './model.js';
import { casRing, forgetInstance, instancesToForget } from './ops.js';
import { generateTokens, loadTokensFile, saveTokensFile } from './tokens.js';

export interface LifecyclerOptions {
  kv: KVClient;
  /** The ring's key in the store (prefix + "ring" for the ingesters' ring). */
  ringKey: string;
  instanceId: string;
  /** The address other components reach this instance's gRPC server at, host:port. */
  addr: string;
  zone?: string;
  numTokens: number;
  heartbeatPeriodMs: number;
  /** Where to keep the tokens across restarts; '' or undefined: nowhere. */
  tokensFilePath?: string;
  unregisterOnShutdown: boolean;
  log: Logger;
  /** Instances that have not heartbeaten for this long are removed by this one's heartbeat; 0 (default) off. */
  autoForgetUnhealthyPeriodMs?: number;
  /** Bound on each KV call while stopping. Default 10s. */
  kvTimeoutMs?: number;
  /** Runs once the instance is LEAVING, before it unregisters (e.g. to flush). Errors are logged. */
  onLeaving?: (signal: AbortSignal) => Promise<void>;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Random floats in [0, 1) for token generation. Default Math.random. */
  rnd?: () => number;
  /** Service name. Default 'ring-lifecycler'. */
  name?: string;
}

export class Lifecycler extends BasicService {
  readonly instanceId: string;
  readonly addr: string;
  readonly zone: string;
  readonly ringKey: string;
  private readonly o: LifecyclerOptions;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly rnd: () => number;
  private ringSt: InstanceState | null = null;
  private myTokens: readonly number[] = [];
  private registeredMs = 0;
  private lastBeatMs = 0;
  private lastDesc: RingDesc = EMPTY_RING_DESC;
  private registerAttempted = false;
  private heartbeatFailing = false;
  /** markLeaving() was called: the instance must not turn (or stay) ACTIVE */
  private leaving = false;
  /** the LEAVING state reached the store */
  private leavingWritten = false;

  constructor(opts: LifecyclerOptions) {
    super(opts.name ?? 'ring-lifecycler');
    if (opts.instanceId === '') throw new RangeError('ring lifecycler: empty instance id');
    if (!Number.isInteger(opts.numTokens) || opts.numTokens < 1) throw new RangeError(`ring lifecycler: num tokens must be a positive integer, got ${opts.numTokens}`);
    if (!(opts.heartbeatPeriodMs > 0)) throw new RangeError(`ring lifecycler: heartbeat period must be positive, got ${opts.heartbeatPeriodMs}`);
    this.o = opts;
    this.instanceId = opts.instanceId;
    this.addr = opts.addr;
    this.zone = opts.zone ?? '';
    this.ringKey = opts.ringKey;
    this.clock = opts.now ?? Date.now;
    this.rnd = opts.rnd ?? Math.random;
    this.log = opts.log.child({ component: 'ring-lifecycler', ring: opts.ringKey, instance: opts.instanceId });
  }

  /** This instance's state in the ring; null before it registered and after it unregistered. */
  ringState(): InstanceState | null {
    return this.ringSt;
  }

  tokens(): readonly number[] {
    return this.myTokens;
  }

  /** When the last successful heartbeat (or registration step) was written, ms since the epoch; 0 if never. */
  lastHeartbeatMs(): number {
    return this.lastBeatMs;
  }

  /** The ring as of this instance's last successful write to it. */
  ringDesc(): RingDesc {
    return this.lastDesc;
  }

  /** Ready to take traffic: ACTIVE in the ring. */
  isReady(): boolean {
    return this.ringSt === 'ACTIVE';
  }

  /** Writes a heartbeat now (the loop does this every period). Never throws; false if it failed. */
  async heartbeat(signal?: AbortSignal): Promise<boolean> {
    if (this.ringSt === null) return false;
    let missing = false;
    let forgotten: string[] = [];
    const period = this.o.autoForgetUnhealthyPeriodMs ?? 0;
    try {
      this.lastDesc = await casRing(
        this.o.kv,
        this.ringKey,
        (desc) => {
          const now = this.clock();
          const prev = getInstance(desc, this.instanceId);
          missing = prev === undefined;
          let next = withInstance(desc, this.self(this.ringSt ?? 'ACTIVE', now, prev));
          forgotten = period > 0 ? instancesToForget(next, now, period).filter((id) => id !== this.instanceId) : [];
          for (const id of forgotten) next = withoutInstance(next, id);
          return next;
        },
        { signal, log: this.log },
      );
    } catch (e) {
      if (signal?.aborted) return false;
      if (!this.heartbeatFailing) this.log.warn({ err: e }, 'ring heartbeat failed; retrying every heartbeat period');
      this.heartbeatFailing = true;
      return false;
    }
    this.lastBeatMs = this.clock();
    if (this.heartbeatFailing) this.log.info('ring heartbeat recovered');
    this.heartbeatFailing = false;
    if (missing) this.log.warn({ state: this.ringSt }, 'instance was missing from the ring; re-registered it');
    for (const id of forgotten) this.log.warn({ forgotten: id, periodMs: period }, 'auto-forgot an instance that stopped heartbeating');
    return true;
  }

  protected override async starting(signal: AbortSignal): Promise<void> {
    try {
      await this.join(signal);
    } catch (e) {
      // stopped while starting: stopping() cleans up what was registered
      if (signal.aborted) return;
      throw e;
    }
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.o.heartbeatPeriodMs, signal);
      if (signal.aborted) break;
      await this.heartbeat(signal);
    }
  }

  /**
   * Writes this instance as LEAVING (writers skip it and extend their replica sets past it; it
   * still serves reads). Called by stopping(), or earlier by a process that starts shutting down
   * while it still serves (so writers move away before its listener closes); later heartbeats
   * keep the state. Never throws; a failed write is logged.
   */
  async markLeaving(signal: AbortSignal): Promise<void> {
    if (this.ringSt === null) return; // not registered (yet, or any more): nothing to leave
    this.leaving = true;
    if (this.ringSt === 'PENDING' || this.ringSt === 'JOINING') return; // the join's last step writes LEAVING
    if (this.ringSt === 'LEAVING' && this.leavingWritten) return;
    const from = this.ringSt;
    this.ringSt = 'LEAVING';
    try {
      await this.writeSelf('LEAVING', signal);
      this.leavingWritten = true;
      this.log.info({ from }, 'instance is LEAVING the ring');
    } catch (e) {
      this.log.warn({ err: e }, 'could not mark the instance LEAVING in the ring');
    }
  }

  protected override async stopping(): Promise<void> {
    if (!this.registerAttempted) return;
    const timeout = this.o.kvTimeoutMs ?? 10_000;
    if (this.ringSt !== null) {
      // (again if an earlier markLeaving() could not write it)
      await this.markLeaving(AbortSignal.timeout(timeout));
      if (this.o.onLeaving !== undefined) {
        try {
          await this.o.onLeaving(AbortSignal.timeout(timeout));
        } catch (e) {
          this.log.warn({ err: e }, 'leaving hook failed');
        }
      }
    }
    if (!this.o.unregisterOnShutdown) {
      if (this.ringSt !== null) this.log.info({ tokens: this.myTokens.length }, 'instance stays in the ring as LEAVING with its tokens (unregister on shutdown is off)');
      return;
    }
    try {
      await forgetInstance(this.o.kv, this.ringKey, this.instanceId, { signal: AbortSignal.timeout(timeout), log: this.log });
      this.ringSt = null;
      this.log.info('instance unregistered from the ring');
    } catch (e) {
      this.log.warn({ err: e }, 'could not unregister the instance from the ring; it will show as unhealthy until forgotten');
    }
  }

  private self(state: InstanceState, nowMs: number, prev?: InstanceDesc): InstanceDesc {
    const inst: InstanceDesc = {
      id: this.instanceId,
      addr: this.addr,
      zone: this.zone,
      state,
      tokens: this.myTokens,
      heartbeatMs: nowMs,
      registeredMs: this.registeredMs,
    };
    return prev?.readOnly === true ? { ...inst, readOnly: true } : inst;
  }

  private async writeSelf(state: InstanceState, signal: AbortSignal): Promise<void> {
    this.lastDesc = await casRing(
      this.o.kv,
      this.ringKey,
      (desc) => withInstance(desc, this.self(state, this.clock(), getInstance(desc, this.instanceId))),
      { signal, log: this.log },
    );
    this.lastBeatMs = this.clock();
  }

  private async join(signal: AbortSignal): Promise<void> {
    const kv = this.o.kv;
    const path = this.o.tokensFilePath ?? '';
    const fileTokens = path === '' ? null : await loadTokensFile(path, this.log);
    const n = this.o.numTokens;

    // PENDING, with the tokens to reuse
    let prevState: InstanceState | undefined;
    let source = 'none';
    this.registerAttempted = true;
    this.lastDesc = await casRing(
      kv,
      this.ringKey,
      (desc) => {
        const now = this.clock();
        const prev = getInstance(desc, this.instanceId);
        prevState = prev?.state;
        if (prev !== undefined && prev.tokens.length > 0) {
          this.myTokens = prev.tokens;
          source = 'ring';
        } else if (fileTokens !== null) {
          this.myTokens = fileTokens;
          source = 'file';
        } else {
          this.myTokens = [];
          source = 'none';
        }
        this.registeredMs = prev !== undefined && prev.registeredMs > 0 ? prev.registeredMs : now;
        return withInstance(desc, this.self('PENDING', now, prev));
      },
      { signal, log: this.log },
    );
    this.ringSt = 'PENDING';
    this.lastBeatMs = this.clock();
    this.log.info({ previousState: prevState ?? null, reusedTokens: this.myTokens.length, tokensFrom: source }, 'instance registered in the ring as PENDING');

    // JOINING, with settled tokens
    const candidates = this.myTokens;
    this.lastDesc = await casRing(
      kv,
      this.ringKey,
      (desc) => {
        const others = ringTokens(desc, this.instanceId);
        let toks = candidates.filter((t) => !others.has(t));
        if (toks.length > n) toks = toks.slice(0, n);
        if (toks.length < n) {
          for (const t of toks) others.add(t);
          toks = sortUnique([...toks, ...generateTokens(n - toks.length, others, this.rnd)]);
        }
        this.myTokens = toks;
        return withInstance(desc, this.self('JOINING', this.clock(), getInstance(desc, this.instanceId)));
      },
      { signal, log: this.log },
    );
    this.ringSt = 'JOINING';
    const kept = this.myTokens.filter((t) => candidates.includes(t)).length;
    this.log.info({ tokens: this.myTokens.length, reused: kept, generated: this.myTokens.length - kept }, 'instance is JOINING the ring');
    let saved = await this.saveTokens(path);

    // ACTIVE, yielding any token claimed meanwhile
    let conflicts = 0;
    this.lastDesc = await casRing(
      kv,
      this.ringKey,
      (desc) => {
        const others = ringTokens(desc, this.instanceId);
        const mine = this.myTokens.filter((t) => !others.has(t));
        conflicts = this.myTokens.length - mine.length;
        if (conflicts > 0) {
          for (const t of mine) others.add(t);
          this.myTokens = sortUnique([...mine, ...generateTokens(conflicts, others, this.rnd)]);
        }
        return withInstance(desc, this.self(this.leaving ? 'LEAVING' : 'ACTIVE', this.clock(), getInstance(desc, this.instanceId)));
      },
      { signal, log: this.log },
    );
    if (this.leaving) {
      // markLeaving() came during the join: stay LEAVING rather than turn ACTIVE
      this.ringSt = 'LEAVING';
      this.leavingWritten = true;
      this.lastBeatMs = this.clock();
      this.log.info('instance joined as LEAVING: shutdown began while it was joining');
      return;
    }
    this.ringSt = 'ACTIVE';
    this.lastBeatMs = this.clock();
    if (conflicts > 0) {
      this.log.warn({ conflicts }, 'another instance claimed some of the tokens while joining; replaced them');
      saved = await this.saveTokens(path);
    }
    this.log.info({ tokens: this.myTokens.length, tokensFileSaved: saved }, 'instance is ACTIVE in the ring');
  }

  private async saveTokens(path: string): Promise<boolean> {
    if (path === '') return false;
    try {
      await saveTokensFile(path, this.myTokens);
      return true;
    } catch (e) {
      this.log.error({ err: e, path }, 'could not save the tokens file; a restart will generate new tokens');
      return false;
    }
  }
}
