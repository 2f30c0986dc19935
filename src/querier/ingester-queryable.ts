// Reading a tenant's series from the ingesters (Mimir's distributor query path as the querier
// uses it: ring.GetReplicationSetForOperation(Read) + QueryStream to every instance).
//
// - Every read goes to every ingester the ring says may hold data for reads
//   (`Ring.getAllHealthy('read')`): series are spread by token, so any ingester may hold some of
//   the tenant's series. All are called at once and all answers are waited for.
// - Failures within the replication set's budget are tolerated: up to `maxErrors` instances, or,
//   with zone awareness, failures confined to at most `maxUnavailableZones` zones. With quorum
//   writes, the ingesters that did answer hold every acknowledged sample. One failure too many
//   cancels the calls still running and fails the read with a retryable error (503).
// - Series with identical labels from several ingesters (replicas) are merged, samples with equal
//   timestamps kept once (./merge.ts); results are sorted by labels (Prometheus's order).
// - The caller's AbortSignal cancels the ingester calls; a cancelled read rejects with the
//   signal's reason (the engine's timeout or the client going away), not an ingester error.
// - -querier.max-query-lookback clamps the start of every read to now - lookback.
import { compareMetadata, metadataEntryKey, type MetricMetadata } from '../ingester/metadata.js';
import { MuninnError } from '../errors/index.js';
import type { IngesterApi, MatcherSpec, StreamSeries } from '../ingester/api.js';
import type { Logger } from '../log/index.js';
import type { Queryable, StorageMatcher, StorageSeries } from '../promql/value.js';
import type { ReplicationSet, Ring } from '../ring/index.js';
import type { InstanceDesc } from '../ring/index.js';
import { compareLabels } from '../promql/engine/labels.js';
import { compareStrings } from '../tsdb/labels/index.js';
import { type HistogramConverter, mergeReplicas, type ReplicaPart, storedHistogramToFloat } from './merge.js';

export { compareLabels };

/**
 * Prometheus's bounds of "no time given" (web/api/v1 MinTime / MaxTime) in ms, as JS numbers:
 * what the series and label endpoints use without start/end. Reads clamp to them, so the values
 * sent to ingesters are always finite int64s.
 */
export const MIN_TIME_MS = -9223309901258974000;
export const MAX_TIME_MS = 9223309901258974999;

/** Where the querier finds ingester clients (IngesterClientPool). */
export interface IngesterClients {
  get(addr: string): IngesterApi;
}

export interface IngesterQuerierOptions {
  /** The current ring of ingesters (RingWatcher.ring()). */
  ring: () => Ring;
  clients: IngesterClients;
  log: Logger;
  /** -querier.max-query-lookback: reads start no earlier than now - this; 0 = no limit. */
  maxQueryLookbackMs?: number;
  /** The same per tenant (runtime overrides); when set it wins over maxQueryLookbackMs. */
  maxQueryLookbackFor?: (tenant: string) => number;
  now?: () => number;
  /** Stored histogram shape -> FloatHistogram (default: storedHistogramToFloat). */
  histogramToFloat?: HistogramConverter;
}

/** The reason a signal was aborted, as an Error (a MuninnError 'canceled' when it gave none). */
export function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new MuninnError('canceled', typeof r === 'string' && r !== '' ? r : 'query canceled');
}

function toSpecs(ms: readonly StorageMatcher[]): MatcherSpec[] {
  return ms.map((m) => ({ type: m.type, name: m.name, value: m.value }));
}

/** Merges sorted string lists into one sorted list without duplicates (Go's order). */
export function mergeSortedUnique(lists: readonly (readonly string[])[]): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const s of l) set.add(s);
  return [...set].sort(compareStrings);
}

export class IngesterQuerier {
  private readonly o: IngesterQuerierOptions;
  private readonly toFloat: HistogramConverter;

  constructor(opts: IngesterQuerierOptions) {
    this.o = opts;
    this.toFloat = opts.histogramToFloat ?? storedHistogramToFloat;
  }

  /** The engine's view of one tenant's data. */
  queryable(tenant: string): Queryable {
    return {
      select: (matchers, mint, maxt, signal) => this.select(tenant, matchers, mint, maxt, signal),
      labelNames: (matchers, mint, maxt, signal) => this.labelNames(tenant, matchers, mint, maxt, signal),
      labelValues: (name, matchers, mint, maxt, signal) => this.labelValues(tenant, name, matchers, mint, maxt, signal),
    };
  }

  /** Series matching the matchers with samples in [mint, maxt], merged over replicas, sorted by labels. */
  async select(tenant: string, matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<StorageSeries[]> {
    const r = this.range(tenant, mint, maxt);
    if (r === null) return [];
    const specs = toSpecs(matchers);
    const answers = await this.fanOut(signal, async (api, s) => {
      const out: StreamSeries[] = [];
      for await (const batch of api.queryStream(tenant, { mint: r.mint, maxt: r.maxt, matchers: specs }, s)) {
        if (s.aborted) throw abortError(s);
        for (const x of batch) out.push(x);
      }
      return out;
    });
    if (signal.aborted) throw abortError(signal);
    const byLabels = new Map<string, { labels: string[]; parts: ReplicaPart[] }>();
    for (const a of answers) {
      for (const s of a.value) {
        const key = JSON.stringify(s.labels);
        let e = byLabels.get(key);
        if (e === undefined) {
          e = { labels: s.labels, parts: [] };
          byLabels.set(key, e);
        }
        e.parts.push({ rank: a.rank, series: s });
      }
    }
    const out: StorageSeries[] = [];
    for (const e of byLabels.values()) {
      const merged = mergeReplicas(e.labels, e.parts, r.mint, r.maxt, this.toFloat);
      if (merged.t.length > 0 || merged.histograms.length > 0) out.push(merged);
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }

  async labelNames(tenant: string, matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<string[]> {
    const r = this.range(tenant, mint, maxt);
    if (r === null) return [];
    const specs = toSpecs(matchers);
    const answers = await this.fanOut(signal, (api, s) => api.labelNames(tenant, { mint: r.mint, maxt: r.maxt, matchers: specs }, s));
    return mergeSortedUnique(answers.map((a) => a.value));
  }

  async labelValues(tenant: string, name: string, matchers: readonly StorageMatcher[], mint: number, maxt: number, signal: AbortSignal): Promise<string[]> {
    const r = this.range(tenant, mint, maxt);
    if (r === null) return [];
    const specs = toSpecs(matchers);
    const answers = await this.fanOut(signal, (api, s) => api.labelValues(tenant, name, { mint: r.mint, maxt: r.maxt, matchers: specs }, s));
    return mergeSortedUnique(answers.map((a) => a.value)).filter((v) => v !== '');
  }

  /** Label sets of the series matching any of the matcher sets, deduplicated, sorted by labels. */
  async series(tenant: string, matcherSets: ReadonlyArray<readonly StorageMatcher[]>, mint: number, maxt: number, signal: AbortSignal): Promise<string[][]> {
    const r = this.range(tenant, mint, maxt);
    if (r === null) return [];
    const sets = matcherSets.map(toSpecs);
    const answers = await this.fanOut(signal, (api, s) => api.series(tenant, { mint: r.mint, maxt: r.maxt, matcherSets: sets }, s));
    const seen = new Map<string, string[]>();
    for (const a of answers) for (const ls of a.value) seen.set(JSON.stringify(ls), ls);
    return [...seen.values()].sort(compareLabels);
  }

  /** The tenant's metric metadata: union over the ingesters, deduplicated, sorted (metric, type, help, unit). */
  async metricsMetadata(tenant: string, signal: AbortSignal): Promise<MetricMetadata[]> {
    const answers = await this.fanOut(signal, (api, s) => api.metricsMetadata(tenant, s));
    const seen = new Map<string, MetricMetadata>();
    for (const a of answers) for (const m of a.value) seen.set(`${m.metric}\u0000${metadataEntryKey(m)}`, m);
    return [...seen.values()].sort(compareMetadata);
  }

  /**
   * The tenant's ingestion statistics as Mimir's distributor sums them: every healthy ingester
   * must answer (no error budget); series and ingestion rate divided by the replication factor.
   */
  async userStats(tenant: string, signal: AbortSignal): Promise<{ ingestionRate: number; numSeries: number; apiIngestionRate: number; ruleIngestionRate: number }> {
    const answers = await this.fanOut(signal, (api, s) => api.userStats(tenant, s), true);
    let rate = 0;
    let series = 0;
    for (const a of answers) {
      rate += a.value.ingestionRate;
      series += a.value.numSeries;
    }
    const rf = this.o.ring().replicationFactor;
    return { ingestionRate: rate / rf, numSeries: Math.floor(series / rf), apiIngestionRate: rate, ruleIngestionRate: 0 };
  }

  /** The read range after clamping to -querier.max-query-lookback and int64 bounds; null when empty. */
  private range(tenant: string, mint: number, maxt: number): { mint: number; maxt: number } | null {
    let lo = Number.isNaN(mint) ? MIN_TIME_MS : Math.max(mint, MIN_TIME_MS);
    const hi = Number.isNaN(maxt) ? MAX_TIME_MS : Math.min(maxt, MAX_TIME_MS);
    const lb = this.o.maxQueryLookbackFor?.(tenant) ?? this.o.maxQueryLookbackMs ?? 0;
    if (lb > 0 && Number.isFinite(lb)) lo = Math.max(lo, (this.o.now ?? Date.now)() - lb);
    return hi < lo ? null : { mint: Math.ceil(lo), maxt: Math.floor(hi) };
  }

  /**
   * Calls fn on every ingester of the read replication set at once and returns the answers of
   * those that succeeded (with their rank in the set), once all have answered; throws when more
   * failed than the set tolerates, or with the signal's reason when the caller gave up.
   */
  private async fanOut<T>(signal: AbortSignal, fn: (api: IngesterApi, signal: AbortSignal) => Promise<T>, everyIngester = false): Promise<Array<{ rank: number; value: T }>> {
    if (signal.aborted) throw abortError(signal);
    const set: ReplicationSet = this.o.ring().getAllHealthy('read');
    const instances = set.instances;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<Array<{ rank: number; value: T }>>((resolve, reject) => {
        const results: Array<{ rank: number; value: T }> = [];
        const failures: Array<{ inst: InstanceDesc; err: unknown }> = [];
        const failedZones = new Set<string>();
        let pending = instances.length;
        let settled = false;
        const finish = (): void => {
          if (settled || pending > 0) return;
          settled = true;
          if (signal.aborted) reject(abortError(signal));
          else resolve(results.sort((a, b) => a.rank - b.rank));
        };
        const tooMany = (): boolean => (everyIngester ? failures.length > 0 : set.zoneAwarenessEnabled ? failedZones.size > set.maxUnavailableZones : failures.length > set.maxErrors);
        if (pending === 0) {
          finish();
          return;
        }
        instances.forEach((inst, rank) => {
          let p: Promise<T>;
          try {
            p = fn(this.o.clients.get(inst.addr), ac.signal);
          } catch (e) {
            p = Promise.reject(e);
          }
          p.then(
            (value) => {
              pending--;
              results.push({ rank, value });
              finish();
            },
            (err: unknown) => {
              pending--;
              if (settled) return;
              if (signal.aborted) {
                settled = true;
                reject(abortError(signal));
                return;
              }
              failures.push({ inst, err });
              failedZones.add(inst.zone);
              this.o.log.debug({ component: 'querier', ingester: inst.addr, err: err instanceof Error ? err.message : String(err) }, 'ingester query failed');
              if (tooMany()) {
                settled = true;
                ac.abort(new MuninnError('canceled', 'too many ingesters failed'));
                reject(fanOutError(failures, set));
                return;
              }
              finish();
            },
          );
        });
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!ac.signal.aborted) ac.abort(new MuninnError('canceled', 'read finished'));
    }
  }
}

/** The error of a read that lost too many ingesters: a client error as it is, otherwise 503. */
function fanOutError(failures: ReadonlyArray<{ inst: InstanceDesc; err: unknown }>, set: ReplicationSet): MuninnError {
  const last = failures[failures.length - 1] as { inst: InstanceDesc; err: unknown };
  if (last.err instanceof MuninnError && last.err.code === 'bad_data') return last.err;
  const msg = last.err instanceof Error ? last.err.message : String(last.err);
  const budget = set.zoneAwarenessEnabled ? `${set.maxUnavailableZones} zone(s)` : `${set.maxErrors} of ${set.instances.length}`;
  return new MuninnError('unavailable', `failed to query ingesters: ${failures.length} failed, at most ${budget} may: ${last.inst.addr}: ${msg}`, { cause: last.err });
}
