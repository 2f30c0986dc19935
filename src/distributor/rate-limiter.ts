// Per-tenant rate limits of the distributor, as Mimir enforces them:
//
// - A token bucket per tenant with the semantics of golang.org/x/time/rate (which Mimir uses via
//   dskit limiter.RateLimiter): starts full, refills at `limit` tokens/s up to `burst`, `allowN`
//   takes n tokens or nothing, and n > burst is never allowed. An infinite limit allows everything.
// - The "global" strategy (Mimir's only one now, pkg/distributor/ingestion_rate_strategy.go): the
//   tenant's limit is for the whole cluster, so each distributor enforces limit / N, N = healthy
//   distributors in the ring (the full limit when N is 0). The burst is not divided.
// - Each tenant's limit and burst are re-read every recheck period (10 s, as Mimir), so a change of
//   N or of the tenant's limits takes effect without losing the bucket's state.
//
// Time is passed in (ms); nothing here reads a clock, so tests drive it.
import type { ValidationConfig } from './config.js';
import {
  type DistributorError,
  IngestionBurstSizeLimitedError,
  IngestionRateLimitedError,
  RequestRateLimitedError,
} from './errors.js';

/** A token bucket with golang.org/x/time/rate semantics; times in ms. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private size: number,
    now: number,
  ) {
    this.tokens = size;
    this.last = now;
  }

  get limit(): number {
    return this.rate;
  }
  get burst(): number {
    return this.size;
  }

  /** Tokens there would be at `now` (without taking any). */
  tokensAt(now: number): number {
    return this.advance(now)[1];
  }

  /** Takes n tokens if there are n (and n <= burst); otherwise takes none and returns false. */
  allowN(now: number, n: number): boolean {
    if (this.rate === Infinity) return true;
    const [t, tokens] = this.advance(now);
    const left = tokens - n;
    if (n > this.size || left < 0) return false;
    this.last = t;
    this.tokens = left;
    return true;
  }

  /** Changes the refill rate from `now` on, keeping the tokens earned so far. */
  setLimitAt(now: number, rate: number): void {
    [this.last, this.tokens] = this.advance(now);
    this.rate = rate;
  }

  /** Changes the bucket size from `now` on. */
  setBurstAt(now: number, size: number): void {
    [this.last, this.tokens] = this.advance(now);
    this.size = size;
  }

  private advance(now: number): [number, number] {
    const last = now < this.last ? now : this.last;
    const earned = this.rate === Infinity ? Infinity : ((now - last) * this.rate) / 1000;
    return [now, Math.min(this.size, this.tokens + earned)];
  }
}

/** Where a per-tenant limiter gets each tenant's local limit and burst. */
export interface RateLimitStrategy {
  limit(tenant: string): number;
  burst(tenant: string): number;
}

/** Mimir's recheck period of per-tenant limit and burst. */
export const RATE_LIMIT_RECHECK_PERIOD_MS = 10_000;

interface Entry {
  bucket: TokenBucket;
  recheckAt: number;
}

/** A token bucket per tenant (dskit limiter.RateLimiter). */
export class TenantRateLimiter {
  private readonly tenants = new Map<string, Entry>();

  constructor(
    private readonly strategy: RateLimitStrategy,
    private readonly recheckPeriodMs = RATE_LIMIT_RECHECK_PERIOD_MS,
  ) {}

  allowN(now: number, tenant: string, n: number): boolean {
    return this.bucket(now, tenant).allowN(now, n);
  }
  /** The tenant's current local limit (items/s). */
  limit(now: number, tenant: string): number {
    return this.bucket(now, tenant).limit;
  }
  /** The tenant's current burst. */
  burst(now: number, tenant: string): number {
    return this.bucket(now, tenant).burst;
  }
  tokensAt(now: number, tenant: string): number {
    return this.bucket(now, tenant).tokensAt(now);
  }

  /** Forgets tenants whose next recheck is before `cutoff` (dskit's rule); returns how many. */
  removeStaleEntries(cutoff: number): number {
    let removed = 0;
    for (const [tenant, e] of this.tenants) {
      if (e.recheckAt < cutoff) {
        this.tenants.delete(tenant);
        removed++;
      }
    }
    return removed;
  }

  private bucket(now: number, tenant: string): TokenBucket {
    let e = this.tenants.get(tenant);
    if (e === undefined) {
      e = { bucket: new TokenBucket(this.strategy.limit(tenant), this.strategy.burst(tenant), now), recheckAt: now + this.recheckPeriodMs };
      this.tenants.set(tenant, e);
      return e.bucket;
    }
    if (now >= e.recheckAt) {
      const limit = this.strategy.limit(tenant);
      const burst = this.strategy.burst(tenant);
      if (e.bucket.limit !== limit) e.bucket.setLimitAt(now, limit);
      if (e.bucket.burst !== burst) e.bucket.setBurstAt(now, burst);
      e.recheckAt = now + this.recheckPeriodMs;
    }
    return e.bucket;
  }
}

/** The per-tenant rate limits (a part of the validation config, overridable per tenant). */
export type TenantRateLimits = Pick<ValidationConfig, 'ingestionRate' | 'ingestionBurstSize' | 'ingestionBurstFactor' | 'requestRate' | 'requestBurstSize'>;

/** limit / healthy distributors; the whole limit when none is known or it is infinite. */
export function localShare(limit: number, healthyDistributors: number): number {
  if (!(healthyDistributors > 0) || limit === Infinity) return limit;
  return limit / healthyDistributors;
}

/**
 * Ingestion: local limit = ingestion_rate / N. Burst = ingestion_burst_size, or with a burst factor
 * ceil(factor x local limit) (Mimir's globalIngestionStrategyWithBurstFactor).
 */
export function globalIngestionStrategy(limits: (tenant: string) => TenantRateLimits, healthyDistributors: () => number): RateLimitStrategy {
  const limit = (tenant: string): number => localShare(limits(tenant).ingestionRate, healthyDistributors());
  return {
    limit,
    burst: (tenant) => {
      const l = limits(tenant);
      if (l.ingestionBurstFactor > 0) return Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(l.ingestionBurstFactor * limit(tenant)));
      return l.ingestionBurstSize;
    },
  };
}

/** Requests: request_rate / N, unlimited when request_rate is 0. */
export function globalRequestStrategy(limits: (tenant: string) => TenantRateLimits, healthyDistributors: () => number): RateLimitStrategy {
  return {
    limit: (tenant) => {
      const r = limits(tenant).requestRate;
      return r > 0 ? localShare(r, healthyDistributors()) : Infinity;
    },
    burst: (tenant) => (limits(tenant).requestRate > 0 ? limits(tenant).requestBurstSize : 0),
  };
}

export interface DistributorRateLimitsOptions {
  /** The tenant's limits (defaults, later with per-tenant overrides). */
  limits: (tenant: string) => TenantRateLimits;
  /** Healthy distributors in the distributors' ring; 1 (the default) when running alone. */
  healthyDistributors?: () => number;
  recheckPeriodMs?: number;
}

/** The distributor's per-tenant request and ingestion rate limits, answering with Mimir's 429 errors. */
export class DistributorRateLimits {
  readonly ingestion: TenantRateLimiter;
  readonly requests: TenantRateLimiter;
  private readonly limits: (tenant: string) => TenantRateLimits;

  constructor(opts: DistributorRateLimitsOptions) {
    const healthy = opts.healthyDistributors ?? ((): number => 1);
    this.limits = opts.limits;
    this.ingestion = new TenantRateLimiter(globalIngestionStrategy(opts.limits, healthy), opts.recheckPeriodMs);
    this.requests = new TenantRateLimiter(globalRequestStrategy(opts.limits, healthy), opts.recheckPeriodMs);
  }

  /** Counts one push request; null if allowed, else the 429 error (reason rate_limited). */
  checkRequest(tenant: string, now: number): DistributorError | null {
    if (this.requests.allowN(now, tenant, 1)) return null;
    const l = this.limits(tenant);
    return new RequestRateLimitedError(l.requestRate, l.requestBurstSize);
  }

  /**
   * Takes `items` (validated samples + histograms + exemplars + metadata) from the tenant's bucket;
   * null if allowed. Otherwise nothing is taken and the 429 error says why: the request alone is
   * larger than the burst (it could never pass), or the tenant is over its rate. The rate in the
   * message is the tenant's cluster-wide limit, as the user configured it.
   */
  checkIngestion(tenant: string, items: number, now: number): DistributorError | null {
    if (this.ingestion.allowN(now, tenant, items)) return null;
    const burst = this.ingestion.burst(now, tenant);
    if (items > burst) return new IngestionBurstSizeLimitedError(burst, items);
    const l = this.limits(tenant);
    const shownBurst = l.ingestionBurstFactor > 0 ? Math.trunc(l.ingestionRate * l.ingestionBurstFactor) : l.ingestionBurstSize;
    return new IngestionRateLimitedError(l.ingestionRate, shownBurst);
  }

  removeStaleEntries(cutoff: number): void {
    this.ingestion.removeStaleEntries(cutoff);
    this.requests.removeStaleEntries(cutoff);
  }
}
