// The ingester: per-tenant heads with WALs, pushes, queries, limits, and its lifecycle. It serves
// only while Running; on shutdown it refuses new pushes (retryable), lets the in-flight ones
// finish, then syncs and closes every WAL.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MuninnError, UnavailableError } from '../errors/index.js';
import { BasicService, State, waitForAbort } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { Registry } from '../metrics/index.js';
import { decodeWriteRequest, type DecodedWriteRequest, metadataOf } from '../remotewrite/index.js';
import { isValidTenantId, validateTenantId } from '../tenant/index.js';
import type { HeadLimits } from '../tsdb/head/index.js';
import { SampleBuffer } from '../tsdb/head/index.js';
import { Matcher } from '../tsdb/labels/index.js';
import type {
  IngesterApi, MatcherSpec, PushResult, QueryParams, StreamChunk, StreamSeries, TimeRange, UserStats,
} from './api.js';
import type { IngesterConfig, LimitsConfig, TsdbConfig } from './config.js';
import { type MetricMetadata, metricTypeName, TenantMetadata } from './metadata.js';
import { IngesterMetrics } from './metrics.js';
import { type ReplayReport, TenantDb } from './tenant-db.js';

/** TSDB block range: head chunks are cut at its boundaries (Mimir's default 2h). */
export const BLOCK_RANGE_MS = 2 * 3_600_000;
/** Series per QueryStream batch. */
export const QUERY_BATCH_SIZE = 128;

export interface RingInfo {
  /** Healthy ingesters in the ring (this one included). */
  healthyIngesters: number;
  replicationFactor: number;
}

export interface IngesterOptions {
  tsdb: TsdbConfig;
  ingester: IngesterConfig;
  limits: LimitsConfig;
  log: Logger;
  registry: Registry;
  /** For converting global limits to local ones; a single ingester with RF 1 when absent. */
  ringInfo?: () => RingInfo;
  /** Per-tenant overrides (the runtime config, later). */
  tenantLimits?: (tenant: string) => Partial<LimitsConfig> | undefined;
  now?: () => number;
}

/** Mimir's conversion of a global (cluster-wide, pre-replication) limit to this ingester's share. */
export function localLimit(global: number, ring: RingInfo): number {
  if (global <= 0) return 0;
  const n = Math.max(1, ring.healthyIngesters);
  return Math.max(1, Math.floor((global / n) * ring.replicationFactor));
}

export class Ingester extends BasicService implements IngesterApi {
  private readonly opts: IngesterOptions;
  private readonly log: Logger;
  readonly metrics: IngesterMetrics;
  private readonly dbs = new Map<string, TenantDb>();
  private readonly opening = new Map<string, Promise<TenantDb>>();
  private readonly metadata = new Map<string, TenantMetadata>();
  private totalSeries = 0;
  private inflight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly rates = new Map<string, { count: number; rate: number }>();
  readonly replays = new Map<string, ReplayReport>();

  constructor(opts: IngesterOptions) {
    super('ingester');
    this.opts = opts;
    this.log = opts.log.child({ component: 'ingester' });
    this.metrics = new IngesterMetrics(opts.registry);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  protected override async starting(signal: AbortSignal): Promise<void> {
    const root = this.opts.tsdb.dir;
    await mkdir(root, { recursive: true });
    const t0 = Date.now();
    const entries = await readdir(root, { withFileTypes: true });
    const tenants = entries.filter((e) => e.isDirectory() && isValidTenantId(e.name)).map((e) => e.name).sort();
    if (tenants.length > 0) this.log.info({ tenants: tenants.length }, 'replaying tenant WALs');
    for (const [i, tenant] of tenants.entries()) {
      if (signal.aborted) return;
      const db = await this.openDb(tenant);
      this.log.info({ tenant, index: i + 1, total: tenants.length, series: db.head.numSeries }, `tenant ${i + 1}/${tenants.length} opened`);
    }
    if (tenants.length > 0) this.log.info({ durationMs: Date.now() - t0, tenants: tenants.length, series: this.totalSeries }, 'WAL replay done');
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    const truncate = setInterval(() => void this.truncateAll(), this.opts.tsdb.headTruncationInterval);
    truncate.unref();
    const rate = setInterval(() => this.updateRates(), RATE_INTERVAL_MS);
    rate.unref();
    const retain = this.opts.ingester.metadataRetainPeriod;
    const purge = setInterval(() => this.purgeMetadata(), Math.max(1000, Math.min(60_000, retain / 2)));
    purge.unref();
    try {
      await waitForAbort(signal);
    } finally {
      clearInterval(truncate);
      clearInterval(rate);
      clearInterval(purge);
    }
  }

  protected override async stopping(): Promise<void> {
    // the state is Stopping: new pushes are refused; wait for the ones in flight
    if (this.inflight > 0) {
      this.log.info({ inflight: this.inflight }, 'waiting for in-flight pushes');
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    await Promise.allSettled([...this.opening.values()]);
    const t0 = Date.now();
    await Promise.all([...this.dbs.values()].map((db) => db.close()));
    this.log.info({ durationMs: Date.now() - t0, tenants: this.dbs.size }, 'WALs synced and closed');
  }

  private checkRunning(): void {
    if (this.state() !== State.Running) throw new UnavailableError(`ingester is not running (state ${this.state()})`);
  }

  // ---- tenants -------------------------------------------------------------------------------

  private limitsFor(tenant: string): HeadLimits {
    const l = { ...this.opts.limits, ...this.opts.tenantLimits?.(tenant) };
    const ring = this.opts.ringInfo?.() ?? { healthyIngesters: 1, replicationFactor: 1 };
    return {
      maxSeries: localLimit(l.maxGlobalSeriesPerUser, ring),
      maxSeriesPerMetric: localLimit(l.maxGlobalSeriesPerMetric, ring),
      outOfOrderWindowMs: l.outOfOrderTimeWindow,
      nativeHistograms: l.nativeHistogramsIngestionEnabled,
    };
  }

  private openDb(tenant: string): Promise<TenantDb> {
    const have = this.dbs.get(tenant);
    if (have !== undefined) return Promise.resolve(have);
    let p = this.opening.get(tenant);
    if (p !== undefined) return p;
    const max = this.opts.ingester.maxTenants;
    if (max > 0 && this.dbs.size + this.opening.size >= max) {
      this.metrics.instanceRejected.inc({ reason: 'max_tenants' });
      return Promise.reject(new MuninnError('unavailable', `cannot add tenant: this ingester holds its maximum of ${max} tenants (err-mimir-ingester-max-tenants); -ingester.instance-limits.max-tenants sets it`));
    }
    const maxSeries = this.opts.ingester.maxSeries;
    p = TenantDb.open(tenant, {
      dir: join(this.opts.tsdb.dir, tenant),
      syncMode: this.opts.tsdb.walSyncMode,
      syncIntervalMs: this.opts.tsdb.walSyncInterval,
      segmentSize: this.opts.tsdb.walSegmentSizeBytes,
      log: this.opts.log,
      ackBeforeWalWriteMs: this.opts.ingester.debugAckBeforeWalWrite,
      head: {
        tenant,
        chunkRangeMs: BLOCK_RANGE_MS,
        limits: () => this.limitsFor(tenant),
        instanceSeriesFull: () => (maxSeries > 0 && this.totalSeries >= maxSeries ? maxSeries : false),
        onSeriesCreated: (n) => {
          this.totalSeries += n;
          this.metrics.memorySeries.inc(n);
          this.metrics.seriesCreated.inc({ user: tenant }, n);
        },
        onSeriesRemoved: (n) => {
          this.totalSeries -= n;
          this.metrics.memorySeries.dec(n);
          this.metrics.seriesRemoved.inc({ user: tenant }, n);
        },
        ...(this.opts.now !== undefined ? { now: this.opts.now } : {}),
      },
    }).then(({ db, replay }) => {
      this.dbs.set(tenant, db);
      this.replays.set(tenant, replay);
      this.metrics.memoryUsers.set(this.dbs.size);
      this.metrics.replayDuration.observe(replay.durationMs / 1000);
      if (replay.records > 0 || replay.warnings.length > 0) {
        this.log.info({ tenant, ...replay, warnings: undefined }, 'tenant WAL replayed');
        for (const w of replay.warnings) this.log.warn({ tenant }, w);
      }
      return db;
    }).finally(() => this.opening.delete(tenant));
    this.opening.set(tenant, p);
    return p;
  }

  tenants(): string[] {
    return [...this.dbs.keys()].sort();
  }

  tenantDb(tenant: string): TenantDb | undefined {
    return this.dbs.get(tenant);
  }

  // ---- push ----------------------------------------------------------------------------------

  async push(tenant: string, body: Uint8Array): Promise<PushResult> {
    this.checkRunning();
    validateTenantId(tenant);
    const maxInflight = this.opts.ingester.maxInflightPushRequests;
    if (maxInflight > 0 && this.inflight >= maxInflight) {
      this.metrics.instanceRejected.inc({ reason: 'max_inflight_push_requests' });
      throw new MuninnError('unavailable', `the ingester is handling its maximum of ${maxInflight} push requests (err-mimir-ingester-max-inflight-push-requests); -ingester.instance-limits.max-inflight-push-requests sets it`);
    }
    this.inflight++;
    this.metrics.inflightPush.inc();
    try {
      const req = decodeWriteRequest(body);
      if (req.metadata.count > 0) this.appendMetadata(tenant, req);
      const db = await this.openDb(tenant);
      // the state may have changed while the tenant was opening
      this.checkRunning();
      let stats;
      try {
        stats = await db.append(req);
      } catch (e) {
        // the WAL failed: what is in memory is not durable; stop so a restart replays the WAL
        if (this.state() === State.Running) {
          this.log.error({ tenant, err: e }, 'WAL write failed; stopping the ingester');
          this.stopAsync();
        }
        throw e instanceof MuninnError ? e : new UnavailableError(`WAL write failed: ${String(e)}`, { cause: e });
      }
      const accepted = stats.accepted + stats.acceptedHistograms;
      this.metrics.ingestedSamples.inc(accepted);
      const rate = this.rates.get(tenant) ?? { count: 0, rate: 0 };
      rate.count += accepted;
      this.rates.set(tenant, rate);
      let failed = 0;
      for (const [reason, n] of stats.discarded) {
        this.metrics.discarded.inc({ reason, user: tenant }, n);
        failed += n;
      }
      if (failed > 0) this.metrics.ingestedSamplesFailures.inc(failed);
      if (stats.retryableError !== null) {
        this.metrics.instanceRejected.inc({ reason: 'max_series' });
        throw stats.retryableError;
      }
      if (stats.firstError !== null) throw stats.firstError;
      return { accepted };
    } finally {
      this.inflight--;
      this.metrics.inflightPush.dec();
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  // ---- queries -------------------------------------------------------------------------------

  async *queryStream(tenant: string, q: QueryParams, signal?: AbortSignal): AsyncIterable<StreamSeries[]> {
    this.checkRunning();
    validateTenantId(tenant);
    const matchers = toMatchers(q.matchers);
    const db = this.dbs.get(tenant);
    if (db === undefined) return;
    const selected = db.head.select(matchers, q.mint, q.maxt);
    let batch: StreamSeries[] = [];
    for (const s of selected) {
      if (signal?.aborted) throw new MuninnError('canceled', 'query canceled');
      const out: StreamSeries = { labels: [...s.labels], chunks: [], samples: null, histograms: [] };
      if (q.samples === true || s.ooo !== null) {
        const buf = new SampleBuffer(16);
        s.samplesIn(q.mint, q.maxt, buf);
        out.samples = { t: buf.t.slice(0, buf.length), v: buf.v.slice(0, buf.length) };
      } else {
        const chunks: Array<{ minT: number; maxT: number; data: Uint8Array }> = [];
        s.chunksIn(q.mint, q.maxt, chunks);
        out.chunks = chunks.map((c): StreamChunk => ({ minT: c.minT, maxT: c.maxT, encoding: 1, data: c.data }));
      }
      if (s.histograms !== null) {
        for (const h of s.histograms) if (h.t >= q.mint && h.t <= q.maxt) out.histograms.push(h);
      }
      if (out.chunks.length === 0 && (out.samples === null || out.samples.t.length === 0) && out.histograms.length === 0) continue;
      batch.push(out);
      if (batch.length >= QUERY_BATCH_SIZE) {
        this.metrics.queriedSeries.inc(batch.length);
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) {
      this.metrics.queriedSeries.inc(batch.length);
      yield batch;
    }
  }

  async labelNames(tenant: string, q: TimeRange & { matchers: MatcherSpec[] }): Promise<string[]> {
    this.checkRunning();
    validateTenantId(tenant);
    const db = this.dbs.get(tenant);
    if (db === undefined) return [];
    return db.head.labelNames(toMatchers(q.matchers));
  }

  async labelValues(tenant: string, name: string, q: TimeRange & { matchers: MatcherSpec[] }): Promise<string[]> {
    this.checkRunning();
    validateTenantId(tenant);
    const db = this.dbs.get(tenant);
    if (db === undefined) return [];
    return db.head.labelValues(name, toMatchers(q.matchers));
  }

  async series(tenant: string, q: TimeRange & { matcherSets: MatcherSpec[][] }): Promise<string[][]> {
    this.checkRunning();
    validateTenantId(tenant);
    const db = this.dbs.get(tenant);
    if (db === undefined) return [];
    const seen = new Set<number>();
    const out: string[][] = [];
    for (const set of q.matcherSets) {
      for (const s of db.head.select(toMatchers(set), q.mint, q.maxt)) {
        if (seen.has(s.ref)) continue;
        seen.add(s.ref);
        out.push([...s.labels]);
      }
    }
    return out;
  }

  /** Every metadata entry of the tenant, sorted (metric, type, help, unit). */
  async metricsMetadata(tenant: string): Promise<MetricMetadata[]> {
    this.checkRunning();
    validateTenantId(tenant);
    return this.metadata.get(tenant)?.list() ?? [];
  }

  private appendMetadata(tenant: string, req: DecodedWriteRequest): void {
    let md = this.metadata.get(tenant);
    if (md === undefined) {
      md = new TenantMetadata();
      this.metadata.set(tenant, md);
    }
    const l = { ...this.opts.limits, ...this.opts.tenantLimits?.(tenant) };
    const ring = this.opts.ringInfo?.() ?? { healthyIngesters: 1, replicationFactor: 1 };
    const limits = { maxPerUser: localLimit(l.maxGlobalMetadataPerUser, ring), maxPerMetric: localLimit(l.maxGlobalMetadataPerMetric, ring) };
    const now = (this.opts.now ?? Date.now)();
    const before = md.size;
    for (let i = 0; i < req.metadata.count; i++) {
      const m = metadataOf(req, i);
      const reason = md.add({ metric: m.metricFamilyName, type: metricTypeName(m.type), help: m.help, unit: m.unit }, now, limits);
      if (reason !== null) this.metrics.discardedMetadata.inc({ reason, user: tenant });
    }
    this.metrics.memoryMetadata.inc(md.size - before);
  }

  /** Drops metadata not sent again within -ingester.metadata-retain-period. */
  purgeMetadata(): void {
    const before = (this.opts.now ?? Date.now)() - this.opts.ingester.metadataRetainPeriod;
    for (const [tenant, md] of this.metadata) {
      this.metrics.memoryMetadata.dec(md.purge(before));
      if (md.size === 0) this.metadata.delete(tenant);
    }
  }

  async userStats(tenant: string): Promise<UserStats> {
    this.checkRunning();
    validateTenantId(tenant);
    return { ingestionRate: this.rates.get(tenant)?.rate ?? 0, numSeries: this.dbs.get(tenant)?.head.numSeries ?? 0 };
  }

  // ---- maintenance ---------------------------------------------------------------------------

  /** Syncs every tenant's WAL (the /ingester/flush endpoint). */
  async flush(): Promise<void> {
    await Promise.all([...this.dbs.values()].map((db) => db.wal.sync()));
  }

  async truncateAll(): Promise<void> {
    if (this.state() !== State.Running) return;
    const mint = (this.opts.now ?? Date.now)() - this.opts.tsdb.retentionPeriod;
    for (const db of this.dbs.values()) {
      try {
        await db.truncate(mint);
      } catch (e) {
        this.log.error({ tenant: db.tenant, err: e }, 'head truncation or WAL checkpoint failed');
      }
    }
  }

  private updateRates(): void {
    for (const r of this.rates.values()) {
      const instant = r.count / (RATE_INTERVAL_MS / 1000);
      r.rate = r.rate === 0 ? instant : r.rate * 0.8 + instant * 0.2;
      r.count = 0;
    }
  }
}

const RATE_INTERVAL_MS = 15_000;

export function toMatchers(specs: readonly MatcherSpec[]): Matcher[] {
  return specs.map((m) => new Matcher(m.type, m.name, m.value));
}
