// Per-instance limits of a distributor (Mimir pkg/distributor/instance_limits.go and
// startPushRequest/checkRequestSize in distributor.go): push requests in flight, their bytes, and
// this instance's ingestion rate (an exponentially weighted moving average ticked every second).
// Going over any of them is a retryable 503: the sender backs off or another distributor serves it.
import { InstanceLimitError } from './errors.js';

/** Mimir's util/math EwmaRate: rate() is the smoothed events/s, updated by tick() every interval. */
export class EwmaRate {
  private pending = 0;
  private last = 0;
  private started = false;

  constructor(
    private readonly alpha = 0.2,
    private readonly intervalMs = 1000,
  ) {}

  add(n: number): void {
    this.pending += n;
  }

  tick(): void {
    const instant = this.pending / (this.intervalMs / 1000);
    this.pending = 0;
    if (this.started) this.last += this.alpha * (instant - this.last);
    else {
      this.started = true;
      this.last = instant;
    }
  }

  rate(): number {
    return this.last;
  }
}

export interface InstanceLimits {
  /** items/s; 0 = no limit */
  maxIngestionRate: number;
  /** 0 = no limit */
  maxInflightPushRequests: number;
  /** 0 = no limit */
  maxInflightPushRequestsBytes: number;
}

/** One admitted push request. release() is idempotent; call it once the request is done. */
export interface PushPermit {
  /**
   * Adds the request's body size once it is known; null if within
   * -distributor.instance-limits.max-inflight-push-requests-bytes, else the 503 error (the bytes
   * are then not counted; the caller still calls release()).
   */
  addBytes(bytes: number): InstanceLimitError | null;
  release(): void;
}

/** Ingestion rate tick interval (Mimir's instanceIngestionRateTickInterval). */
export const INSTANCE_RATE_TICK_MS = 1000;

export class InstanceLimiter {
  /** Items accepted by this instance; feed it with addIngested(), tick it every second. */
  readonly ingestionRate = new EwmaRate(0.2, INSTANCE_RATE_TICK_MS);
  private inflightRequests = 0;
  private inflightBytesTotal = 0;

  /** `limits` is read on every call, so a runtime change applies at once. */
  constructor(private readonly limits: () => InstanceLimits) {}

  get inflight(): number {
    return this.inflightRequests;
  }
  get inflightBytes(): number {
    return this.inflightBytesTotal;
  }

  /**
   * Admits a push request, or returns the 503 error if this instance has its maximum of requests
   * in flight or is at its maximum ingestion rate (checked in that order, as Mimir does).
   */
  startPush(): PushPermit | InstanceLimitError {
    const il = this.limits();
    if (il.maxInflightPushRequests > 0 && this.inflightRequests + 1 > il.maxInflightPushRequests) {
      return InstanceLimitError.maxInflightPushRequests(il.maxInflightPushRequests);
    }
    if (il.maxIngestionRate > 0 && this.ingestionRate.rate() >= il.maxIngestionRate) {
      return InstanceLimitError.maxIngestionRate(il.maxIngestionRate);
    }
    this.inflightRequests++;
    let bytes = 0;
    let released = false;
    return {
      addBytes: (n: number): InstanceLimitError | null => {
        if (released || n <= 0) return null;
        const max = this.limits().maxInflightPushRequestsBytes;
        if (max > 0 && this.inflightBytesTotal + n > max) return InstanceLimitError.maxInflightPushRequestsBytes(max);
        this.inflightBytesTotal += n;
        bytes += n;
        return null;
      },
      release: (): void => {
        if (released) return;
        released = true;
        this.inflightRequests--;
        this.inflightBytesTotal -= bytes;
      },
    };
  }

  /** Records items that passed validation and the tenant's rate limit (Mimir counts them there). */
  addIngested(items: number): void {
    this.ingestionRate.add(items);
  }

  /** Ticks the ingestion rate every second until the returned stop function is called; unref'd. */
  startTicker(): () => void {
    const t = setInterval(() => this.ingestionRate.tick(), INSTANCE_RATE_TICK_MS);
    t.unref();
    return () => clearInterval(t);
  }
}
