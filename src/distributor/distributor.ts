// The distributor (Mimir pkg/distributor): takes a decoded remote-write request for a tenant,
// validates it, applies the tenant's rate limits, finds each series' ingesters on the ring and
// writes it to them, answering once a quorum of each series' replicas stored it.
//
//   push -> running? -> request rate -> validate -> ingestion rate -> ring lookup per series
//        -> one Push per ingester (its series re-framed from the request's wire bytes)
//        -> quorum per series (quorum.ts) -> outcome
//
// Shutdown (DESIGN.md rules 3 and 4): a push that arrives once the service is not Running gets a
// retryable 503. Stopping waits for every push in flight and every replica call they started
// (calls still running after the answer went out, bounded by -distributor.remote-timeout) before
// the ingester clients are closed; a call that still reaches the closed pool gets a retryable
// error, never a crash.
import { MuninnError, UnavailableError } from '../errors/index.js';
import type { IngesterApi } from '../ingester/index.js';
import { BasicService, State, waitForAbort } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { Registry } from '../metrics/index.js';
import type { DecodedWriteRequest } from '../remotewrite/index.js';
import { SubsetEncoder } from '../remotewrite/index.js';
import { RingError, type Ring } from '../ring/index.js';
import { fnv1_32, fnv1_32String } from '../tsdb/labels/index.js';
import type { DistributorConfig } from './config.js';
import { InstanceLimiter } from './instance-limits.js';
import { DistributorMetrics } from './metrics.js';
import type { PushAdmission, PushOutcome, PushTarget, WrittenCounts } from './push-types.js';
import { QuorumTracker } from './quorum.js';
import { DistributorRateLimits, type TenantRateLimits } from './rate-limiter.js';
import { ingestionItems, validateWriteRequest, type ValidationLimits, type ValidationResult } from './validate.js';

/** Everything per tenant the distributor reads: validation limits and rate limits. */
export interface DistributorLimits extends ValidationLimits, TenantRateLimits {}

/** What the distributor needs of the ingester clients. */
export interface IngesterClients {
  get(addr: string): Pick<IngesterApi, 'push'>;
  close(): void;
}

export interface DistributorOptions {
  config: DistributorConfig;
  /** The tenant's limits: defaults merged with its runtime overrides; called per request. */
  limits: (tenant: string) => DistributorLimits;
  /** The ingesters' ring as last seen. */
  ring: () => Ring;
  /** Healthy distributors in the distributors' ring (the rate limits are divided among them). */
  healthyDistributors: () => number;
  clients: IngesterClients;
  log: Logger;
  registry: Registry;
  now?: () => number;
}

const NOTHING: WrittenCounts = Object.freeze({ samples: 0, histograms: 0, exemplars: 0 });
const STALE_RATE_LIMITER_PERIOD_MS = 60_000;

export class Distributor extends BasicService implements PushTarget {
  readonly metrics: DistributorMetrics;
  private readonly o: DistributorOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly rateLimits: DistributorRateLimits;
  private readonly instance: InstanceLimiter;
  private readonly encoder = new SubsetEncoder();
  private inflight = 0;
  private readonly calls = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];

  constructor(opts: DistributorOptions) {
    super('distributor');
    this.o = opts;
    this.log = opts.log.child({ component: 'distributor' });
    this.now = opts.now ?? Date.now;
    this.metrics = new DistributorMetrics(opts.registry);
    this.rateLimits = new DistributorRateLimits({ limits: opts.limits, healthyDistributors: opts.healthyDistributors });
    const c = opts.config;
    this.instance = new InstanceLimiter(() => c);
  }

  /** Push requests in flight and replica calls still running. */
  inflightWork(): { pushes: number; calls: number } {
    return { pushes: this.inflight, calls: this.calls.size };
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    const stopTicker = this.instance.startTicker();
    const cleanup = setInterval(() => this.rateLimits.removeStaleEntries(this.now() - STALE_RATE_LIMITER_PERIOD_MS), STALE_RATE_LIMITER_PERIOD_MS);
    cleanup.unref();
    try {
      await waitForAbort(signal);
    } finally {
      stopTicker();
      clearInterval(cleanup);
    }
  }

  protected override async stopping(): Promise<void> {
    const t0 = Date.now();
    const before = this.inflightWork();
    while (this.inflight > 0 || this.calls.size > 0) {
      if (this.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
      else await Promise.allSettled([...this.calls]);
    }
    this.o.clients.close();
    this.log.info({ durationMs: Date.now() - t0, waitedFor: before }, 'distributor stopped: in-flight pushes done, ingester clients closed');
  }

  admit(): PushAdmission | MuninnError {
    if (this.state() !== State.Running) return new UnavailableError(`the distributor is not running (${this.state()})`);
    const p = this.instance.startPush();
    if (p instanceof MuninnError) {
      this.metrics.instanceRejected.inc({ reason: p.reason });
      return p;
    }
    this.metrics.inflightPush.inc();
    let bytes = 0;
    let released = false;
    return {
      addBytes: (n: number): MuninnError | null => {
        const e = p.addBytes(n);
        if (e !== null) {
          this.metrics.instanceRejected.inc({ reason: e.reason });
          return e;
        }
        if (!released) {
          bytes += n;
          this.metrics.inflightPushBytes.inc(n);
        }
        return null;
      },
      release: (): void => {
        if (released) return;
        released = true;
        p.release();
        this.metrics.inflightPush.dec();
        this.metrics.inflightPushBytes.dec(bytes);
      },
    };
  }

  async push(tenant: string, req: DecodedWriteRequest, _signal?: AbortSignal): Promise<PushOutcome> {
    // Ingester calls are not cancelled with the client's request: once sent they run to their
    // answer or -distributor.remote-timeout, so replicas do not diverge on a client disconnect.
    if (this.state() !== State.Running) return { written: NOTHING, error: new UnavailableError(`the distributor is not running (${this.state()})`) };
    this.inflight++;
    try {
      return await this.doPush(tenant, req);
    } catch (e) {
      // nothing above throws by design; a bug here must still answer retryably
      this.log.error({ tenant, err: e }, 'push failed unexpectedly');
      return { written: NOTHING, error: e instanceof MuninnError ? e : new MuninnError('internal', `push failed: ${String(e)}`, { cause: e }) };
    } finally {
      this.inflight--;
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async doPush(tenant: string, req: DecodedWriteRequest): Promise<PushOutcome> {
    const now = this.now();
    const m = this.metrics;
    const user = { user: tenant };
    const samplesIn = req.timestamps.length + req.histograms.count;
    m.requestsIn.inc(user);
    if (samplesIn > 0) m.samplesIn.inc(user, samplesIn);
    if (req.exemplars.count > 0) m.exemplarsIn.inc(user, req.exemplars.count);
    if (req.metadata.count > 0) m.metadataIn.inc(user, req.metadata.count);

    const requestLimited = this.rateLimits.checkRequest(tenant, now);
    if (requestLimited !== null) {
      this.discardAll(tenant, req, requestLimited.reason);
      return { written: NOTHING, error: requestLimited };
    }

    const v = validateWriteRequest(req, this.o.limits(tenant), now);
    for (const [reason, n] of v.discardedSamples) m.discardedSamples.inc({ reason, user: tenant }, n);
    for (const [reason, n] of v.discardedExemplars) m.discardedExemplars.inc({ reason, user: tenant }, n);
    for (const [reason, n] of v.discardedMetadata) m.discardedMetadata.inc({ reason, user: tenant }, n);
    if (v.keptSamples + v.keptHistograms === 0 && v.keptMetadata === 0 && v.keptExemplars === 0) {
      return { written: NOTHING, error: v.firstError };
    }

    const limited = this.rateLimits.checkIngestion(tenant, ingestionItems(v), now);
    if (limited !== null) {
      const reason = limited.reason;
      if (v.keptSamples + v.keptHistograms > 0) m.discardedSamples.inc({ reason, user: tenant }, v.keptSamples + v.keptHistograms);
      if (v.keptExemplars > 0) m.discardedExemplars.inc({ reason, user: tenant }, v.keptExemplars);
      if (v.keptMetadata > 0) m.discardedMetadata.inc({ reason, user: tenant }, v.keptMetadata);
      return { written: NOTHING, error: limited };
    }
    this.instance.addIngested(ingestionItems(v));
    m.receivedRequests.inc(user);
    if (v.keptSamples + v.keptHistograms > 0) m.receivedSamples.inc(user, v.keptSamples + v.keptHistograms);
    if (v.keptExemplars > 0) m.receivedExemplars.inc(user, v.keptExemplars);
    if (v.keptMetadata > 0) m.receivedMetadata.inc(user, v.keptMetadata);
    this.updateLatestSeen(tenant, req, v);

    const kept: WrittenCounts = { samples: v.keptSamples, histograms: v.keptHistograms, exemplars: v.keptExemplars };
    let plan: FanoutPlan;
    try {
      plan = this.plan(tenant, req, v, now);
    } catch (e) {
      if (e instanceof RingError) return { written: NOTHING, error: e };
      throw e;
    }
    const tracker = new QuorumTracker(plan.minSuccess, plan.maxErrors);
    if (tracker.state === 'done') return { written: kept, error: v.firstError };

    const failure = await new Promise<MuninnError | null>((resolve) => {
      for (const g of plan.groups.values()) {
        const body = this.encoder.encode(req, g.series, g.series.length, v, g.metadata, g.metadata.length);
        const items = g.items;
        this.send(g.addr, tenant, body, (e) => {
          const before = tracker.state;
          const after = tracker.record(items, items.length, e);
          if (before === 'pending' && after !== 'pending') resolve(after === 'failed' ? tracker.error : null);
        });
      }
    });
    if (failure === null) return { written: kept, error: v.firstError };
    return { written: this.writtenSoFar(req, v, plan, tracker), error: failure };
  }

  /** The replication set of every kept series and metadata entry, grouped per ingester. */
  private plan(tenant: string, req: DecodedWriteRequest, v: ValidationResult, now: number): FanoutPlan {
    const ring = this.o.ring();
    const nItems = v.keptSeries + v.keptMetadata;
    const minSuccess = new Uint8Array(nItems);
    const maxErrors = new Uint8Array(nItems);
    const groups = new Map<string, Group>();
    const seriesOfItem: number[] = [];
    const tenantHash = fnv1_32String(tenant);
    const b = req.bytes;
    const r = req.labelRanges;
    let item = 0;
    // With no more instances than replicas, every token's replication set is all of them: look
    // it up once (bench:ingest, one process: the per-series token and lookup were ~10% of the CPU)
    const shared = ring.instanceCount <= ring.replicationFactor ? ring.get(0, 'write', now) : null;
    const place = (token: number, add: (g: Group) => void): void => {
      const rs = shared ?? ring.get(token, 'write', now);
      minSuccess[item] = rs.minSuccess;
      maxErrors[item] = rs.maxErrors;
      for (const inst of rs.instances) {
        let g = groups.get(inst.addr);
        if (g === undefined) {
          g = { addr: inst.addr, series: [], metadata: [], items: [] };
          groups.set(inst.addr, g);
        }
        add(g);
        g.items.push(item);
      }
      item++;
    };
    for (let i = 0; i < req.seriesCount; i++) {
      if (v.keepSeries[i] !== 1) continue;
      // Mimir's shard-by-all-labels token: FNV-1 32 over the tenant, then each sorted name and value
      let h = tenantHash;
      if (shared === null) {
        for (let l = req.labelOffsets[i]!, end = req.labelOffsets[i + 1]!; l < end; l++) {
          const q = l * 4;
          h = fnv1_32(b, h, r[q]!, r[q + 1]!);
          h = fnv1_32(b, h, r[q + 2]!, r[q + 3]!);
        }
      }
      seriesOfItem.push(i);
      place(h, (g) => g.series.push(i));
    }
    for (let mi = 0; mi < req.metadata.count; mi++) {
      if (v.metadataMask[mi] !== 1) continue;
      // Mimir's shard-by-metric-name token: tenant, then the metric family name
      const [s, e] = metadataNameRange(req, mi);
      seriesOfItem.push(-1);
      place(fnv1_32(b, tenantHash, s, e), (g) => g.metadata.push(mi));
    }
    return { groups, minSuccess, maxErrors, seriesOfItem };
  }

  /** Sends one ingester its share; onResult runs exactly once, by -distributor.remote-timeout at the latest. */
  private send(addr: string, tenant: string, body: Uint8Array, onResult: (e: MuninnError | null) => void): void {
    const timeoutMs = this.o.config.remoteTimeout;
    const ac = new AbortController();
    const t0 = process.hrtime.bigint();
    let settled = false;
    const finish = (e: MuninnError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const status = e === null ? '2xx' : `${Math.floor(e.httpStatus / 100)}xx`;
      this.metrics.ingesterPushDuration.observe({ status }, Number(process.hrtime.bigint() - t0) / 1e9);
      this.metrics.ingesterAppends.inc({ ingester: addr, type: 'samples' });
      if (e !== null) this.metrics.ingesterAppendFailures.inc({ ingester: addr, type: 'samples', status });
      onResult(e);
    };
    const timer = setTimeout(() => {
      finish(new MuninnError('timeout', `failed pushing to ingester ${addr}: no answer within ${timeoutMs}ms (-distributor.remote-timeout)`));
      ac.abort();
    }, timeoutMs);
    timer.unref();
    let p: Promise<unknown>;
    try {
      p = this.o.clients.get(addr).push(tenant, body, ac.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    const call: Promise<void> = p.then(
      () => finish(null),
      (e: unknown) => finish(pushError(addr, e)),
    ).finally(() => this.calls.delete(call));
    this.calls.add(call);
  }

  /** What reached a quorum when the push failed: the series stored so far. */
  private writtenSoFar(req: DecodedWriteRequest, v: ValidationResult, plan: FanoutPlan, t: QuorumTracker): WrittenCounts {
    const w = { samples: 0, histograms: 0, exemplars: 0 };
    for (let item = 0; item < plan.seriesOfItem.length; item++) {
      const i = plan.seriesOfItem[item]!;
      if (i < 0 || !t.stored(item)) continue;
      w.samples += countKept(v.sampleMask, req.sampleOffsets[i]!, req.sampleOffsets[i + 1]!);
      w.histograms += countKept(v.histogramMask, req.histogramOffsets[i]!, req.histogramOffsets[i + 1]!);
      w.exemplars += countKept(v.exemplarMask, req.exemplarOffsets[i]!, req.exemplarOffsets[i + 1]!);
    }
    return w;
  }

  private discardAll(tenant: string, req: DecodedWriteRequest, reason: string): void {
    const n = req.timestamps.length + req.histograms.count;
    if (n > 0) this.metrics.discardedSamples.inc({ reason, user: tenant }, n);
    if (req.exemplars.count > 0) this.metrics.discardedExemplars.inc({ reason, user: tenant }, req.exemplars.count);
    if (req.metadata.count > 0) this.metrics.discardedMetadata.inc({ reason, user: tenant }, req.metadata.count);
  }

  private updateLatestSeen(tenant: string, req: DecodedWriteRequest, v: ValidationResult): void {
    let max = -Infinity;
    for (let i = 0; i < req.seriesCount; i++) {
      if (v.keepSeries[i] !== 1) continue;
      const end = req.sampleOffsets[i + 1]!;
      if (end > req.sampleOffsets[i]!) max = Math.max(max, req.timestamps[end - 1]!);
    }
    if (max > -Infinity) this.metrics.latestSeenSample.set({ user: tenant }, max / 1000);
  }
}

interface Group {
  addr: string;
  /** series indexes in the request */
  series: number[];
  /** metadata rows */
  metadata: number[];
  /** quorum items these correspond to */
  items: number[];
}

interface FanoutPlan {
  groups: Map<string, Group>;
  minSuccess: Uint8Array;
  maxErrors: Uint8Array;
  /** series index of each item, -1 for metadata */
  seriesOfItem: number[];
}

function countKept(mask: Uint8Array | null, from: number, to: number): number {
  if (mask === null) return to - from;
  let n = 0;
  for (let k = from; k < to; k++) n += mask[k]!;
  return n;
}

/** Byte range of the metric family name of metadata row mi (2.0: the series' __name__). */
function metadataNameRange(req: DecodedWriteRequest, mi: number): [number, number] {
  const s = req.metadata.strings;
  const series = req.metadata.series[mi]!;
  if (series < 0) return [s[mi * 6]!, s[mi * 6 + 1]!];
  const b = req.bytes;
  const r = req.labelRanges;
  for (let l = req.labelOffsets[series]!, end = req.labelOffsets[series + 1]!; l < end; l++) {
    const q = l * 4;
    if (r[q + 1]! - r[q]! === 8 && b.toString('latin1', r[q]!, r[q + 1]!) === '__name__') return [r[q + 2]!, r[q + 3]!];
  }
  return [0, 0];
}

/** An ingester's failure in our terms; 5xx-class errors name the ingester, 4xx keep its message. */
function pushError(addr: string, e: unknown): MuninnError {
  if (e instanceof MuninnError) {
    if (e.httpStatus >= 500 || e.code === 'canceled') return new MuninnError(e.code === 'canceled' ? 'unavailable' : e.code, `failed pushing to ingester ${addr}: ${e.message}`, { cause: e });
    return e;
  }
  return new MuninnError('internal', `failed pushing to ingester ${addr}: ${String(e)}`, { cause: e });
}
