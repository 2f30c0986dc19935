// Writes the test series the way Prometheus's remote write does, and records what was acked.
//
// The series are split into shards, one per writer (-tests.write-concurrency). A writer writes its
// shard one tick at a time: a tick is a timestamp on the grid (multiples of -tests.write-interval,
// never ahead of the clock), one sample per series, sent in requests of -tests.write-batch-size
// series, in order, so a series never gets an older sample after a newer one. A writer that falls
// behind skips to the newest grid point instead of back-filling.
//
// Each request is retried like Prometheus's queue manager does it: 5xx, 429, network errors and
// timeouts are retried with exponential backoff (-tests.write-min-backoff doubling up to
// -tests.write-max-backoff, with jitter; a Retry-After header wins), until the request is acked,
// -tests.write-retry-timeout passes, or the test stops. Any other status (4xx) drops the request:
// retrying would not help. Only acked requests go into the ack log.
import { compressSync } from 'snappy';
import { sleep } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import { type AckLog, addRange, type ShardAcks } from './acked.js';
import { parseRetryAfter, type TestClient, type WriteOutcome } from './client.js';
import { SeriesEncoder } from './encode.js';
import { type TestMetrics, TEST_NAME } from './metrics.js';
import { alignDown } from './series.js';

export interface RetryPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Give up on a request after retrying it this long; 0 = never. */
  retryTimeoutMs: number;
}

/** What to do after an attempt. */
export type Verdict = 'acked' | 'retry' | 'drop' | 'aborted';

/** Prometheus's rule: 2xx acked; 5xx, 429 and no answer retried; anything else dropped. */
export function classify(o: WriteOutcome): Verdict {
  switch (o.kind) {
    case 'ok':
      return 'acked';
    case 'network':
      return 'retry';
    case 'aborted':
      return 'aborted';
    case 'http':
      return o.status >= 500 || o.status === 429 ? 'retry' : 'drop';
    default: {
      const never: never = o;
      throw new Error(`unknown outcome ${String(never)}`);
    }
  }
}

/**
 * The wait before retry number `retry` (0 for the first retry): a Retry-After delay when given,
 * else min * 2^retry capped at max, with "equal jitter" (half fixed, half random) so that writers
 * failing together do not retry together.
 */
export function backoffDelay(retry: number, p: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const b = Math.min(p.maxBackoffMs, p.minBackoffMs * 2 ** Math.min(retry, 40));
  return b / 2 + random() * (b / 2);
}

/** Paces writes at `rate` samples per second across all writers (0 = no pacing). */
export class Pacer {
  private next = 0;
  private readonly rate: number;
  private readonly now: () => number;

  constructor(rate: number, now: () => number) {
    this.rate = rate;
    this.now = now;
  }

  /** Resolves once n more samples may go (or when the signal aborts). */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (this.rate <= 0) return;
    const now = this.now();
    const start = Math.max(now, this.next);
    this.next = start + (n * 1000) / this.rate;
    if (start > now) await sleep(start - now, signal);
  }
}

/** Least time between two log lines about dropped writes of one kind. */
const LOG_EVERY_MS = 10_000;

/**
 * One log line per key per interval: a persistent failure (a limit hit by every request) must
 * not flood the log. The line after a quiet spell says how many were left out (`suppressed`).
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  private readonly every: number;
  private readonly now: () => number;

  constructor(everyMs: number, now: () => number) {
    this.every = everyMs;
    this.now = now;
  }

  log(key: string, emit: (suppressed: number) => void): void {
    const now = this.now();
    const e = this.last.get(key);
    if (e !== undefined && now - e.at < this.every) {
      e.suppressed++;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    emit(e?.suppressed ?? 0);
  }
}

export interface TickReport {
  samples: number;
  acked: number;
  dropped: number;
}

export interface WriterOptions {
  client: TestClient;
  acks: AckLog;
  batchSize: number;
  /** Samples per second over all writers; 0 = unpaced. */
  rate: number;
  retry: RetryPolicy;
  metrics: TestMetrics;
  log: Logger;
  now?: () => number;
  random?: () => number;
}

type SendResult = 'acked' | 'non_retryable' | 'retry_timeout' | 'stopped';

export class SeriesWriter {
  private readonly o: WriterOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly pacer: Pacer;
  private readonly encoders = new Map<ShardAcks, SeriesEncoder>();
  private readonly throttle: LogThrottle;

  constructor(opts: WriterOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.pacer = new Pacer(opts.rate, this.now);
    this.throttle = new LogThrottle(LOG_EVERY_MS, this.now);
  }

  /** Writes tick t for every series, the shards concurrently; resolves once each request is acked or given up. */
  async writeTick(t: number, signal?: AbortSignal): Promise<TickReport> {
    const reports = await Promise.all(this.o.acks.shards.map((s) => this.writeShardTick(s, t, signal)));
    return reports.reduce((a, r) => ({ samples: a.samples + r.samples, acked: a.acked + r.acked, dropped: a.dropped + r.dropped }), { samples: 0, acked: 0, dropped: 0 });
  }

  /** Runs one writer per shard until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.o.acks.shards.map((s) => this.runShard(s, signal)));
  }

  private async runShard(shard: ShardAcks, signal: AbortSignal): Promise<void> {
    const step = this.o.acks.stepMs;
    let last = -Infinity;
    while (!signal.aborted) {
      const now = this.now();
      let t = alignDown(now, step);
      if (t <= last) t = last + step;
      if (t > now) {
        await sleep(t - now, signal);
        continue;
      }
      try {
        await this.writeShardTick(shard, t, signal);
      } catch (e) {
        // a bug, not a write failure (those are outcomes): keep writing, but say so
        this.o.log.error({ err: e, shard: [shard.lo, shard.hi], t }, 'continuous test: writing a tick failed unexpectedly');
        await sleep(step, signal);
      }
      last = t;
    }
  }

  /** Writes tick t for one shard, batch after batch, and records the acked ranges. */
  private async writeShardTick(shard: ShardAcks, t: number, signal: AbortSignal | undefined): Promise<TickReport> {
    const acked: Array<[number, number]> = [];
    const report: TickReport = { samples: 0, acked: 0, dropped: 0 };
    try {
      for (let lo = shard.lo; lo < shard.hi; lo += this.o.batchSize) {
        const hi = Math.min(shard.hi, lo + this.o.batchSize);
        const n = hi - lo;
        if (isAborted(signal)) break;
        await this.pacer.take(n, signal);
        if (isAborted(signal)) break;
        report.samples += n;
        const r = await this.sendBatch(shard, lo, hi, t, signal);
        if (r === 'acked') {
          addRange(acked, lo, hi);
          report.acked += n;
          this.o.metrics.samplesAcked.inc({ test: TEST_NAME }, n);
        } else {
          report.dropped += n;
          this.o.metrics.samplesDropped.inc({ test: TEST_NAME, reason: r }, n);
        }
      }
    } finally {
      // record even when stopped midway: what was acked, was acked
      shard.record(t, acked);
    }
    return report;
  }

  private encoderOf(shard: ShardAcks): SeriesEncoder {
    let e = this.encoders.get(shard);
    if (e === undefined) {
      e = new SeriesEncoder();
      this.encoders.set(shard, e);
    }
    return e;
  }

  /** Sends one batch until it is acked or given up. */
  private async sendBatch(shard: ShardAcks, lo: number, hi: number, t: number, signal: AbortSignal | undefined): Promise<SendResult> {
    const body = compressSync(this.encoderOf(shard).encode(lo, hi, t));
    const first = this.now();
    const { metrics: m, retry: p } = this.o;
    const test = TEST_NAME;
    for (let attempt = 0; ; attempt++) {
      m.writesTotal.inc({ test });
      const t0 = performance.now();
      const out = await this.o.client.write(body, signal);
      const verdict = classify(out);
      if (verdict !== 'aborted') m.writesDuration.observe({ test }, (performance.now() - t0) / 1000);
      switch (verdict) {
        case 'acked':
          return 'acked';
        case 'aborted':
          return 'stopped';
        case 'drop': {
          const status = out.kind === 'http' ? out.status : 0;
          m.writesFailedTotal.inc({ test, status_code: String(status) });
          this.throttle.log(`drop:${status}`, (suppressed) => this.o.log.warn({ status, body: out.kind === 'http' ? out.body : undefined, series: [lo, hi], t, suppressed },
            'continuous test: write rejected with a non-retryable status; samples dropped'));
          return 'non_retryable';
        }
        case 'retry': {
          const status = out.kind === 'http' ? out.status : 0;
          m.writesFailedTotal.inc({ test, status_code: String(status) });
          const retryAfter = out.kind === 'http' ? parseRetryAfter(out.retryAfter, this.now()) : undefined;
          const delay = backoffDelay(attempt, p, this.random, retryAfter);
          const elapsed = this.now() - first;
          const detail = out.kind === 'http' ? `HTTP ${out.status}: ${out.body.trim()}` : out.kind === 'network' ? out.message : '';
          if (p.retryTimeoutMs > 0 && elapsed + delay > p.retryTimeoutMs) {
            this.throttle.log('retry_timeout', (suppressed) => this.o.log.warn({ attempts: attempt + 1, elapsedMs: elapsed, last: detail, series: [lo, hi], t, suppressed },
              'continuous test: write still failing after -tests.write-retry-timeout; samples dropped'));
            return 'retry_timeout';
          }
          this.o.log.debug({ attempt: attempt + 1, delayMs: Math.round(delay), last: detail, series: [lo, hi], t }, 'continuous test: write failed, retrying');
          await sleep(delay, signal);
          if (isAborted(signal)) return 'stopped';
          break;
        }
        default: {
          const never: never = verdict;
          throw new Error(`unknown verdict ${String(never)}`);
        }
      }
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
