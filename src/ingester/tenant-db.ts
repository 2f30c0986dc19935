// One tenant's storage in an ingester: its in-memory head and its WAL directory. A push appends
// to the head (synchronously, so WAL order is append order) and is acknowledged only once the
// records of what it added are in the WAL (unless -debug.ingester.ack-before-wal-write breaks
// that on purpose). Opening replays the WAL (checkpoint, then segments).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/index.js';
import type { DecodedWriteRequest, HistogramObject } from '../remotewrite/index.js';
import { AppendStats, type HeadOptions, TenantHead, WalBatch } from '../tsdb/head/index.js';
import { unsafeLabelsFromSorted } from '../tsdb/labels/index.js';
import {
  checkpoint, CUSTOM_BUCKETS_SCHEMA, decodeFloatHistogramSamples, decodeHistogramSamples, decodeSamplesInto, encodeFloatHistogramSamples, encodeHistogramSamples,
  encodeSamples, encodeSeries, forEachSeries, type HistogramDecodeOptions, isFloatHistogram, RecordType, type RefHistogramSample, replayWal,
  SampleBatch, Wal,
} from '../tsdb/wal/index.js';

/**
 * Replayed histograms take the form the append path stores (histogramOf's: doubles as numbers),
 * not the codec's default bigint for NaN payloads: the head compares a same-timestamp histogram
 * with isDeepStrictEqual, and the gRPC query path's protobufjs would turn a bigint into
 * Number(bits), a finite number. A number in an object property (such as `sum`) keeps the stale
 * marker's bits, as it does on the append path.
 */
const HEAD_HISTOGRAMS: HistogramDecodeOptions = { floats: 'number' };

export interface TenantDbOptions {
  dir: string;
  head: HeadOptions;
  syncMode: 'batch' | 'always';
  syncIntervalMs: number;
  segmentSize: number;
  log: Logger;
  /**
   * DEBUG ONLY (-debug.ingester.ack-before-wal-write): resolve append() at once and write the
   * records this many ms later. 0 = off.
   */
  ackBeforeWalWriteMs?: number;
}

export interface ReplayReport {
  durationMs: number;
  records: number;
  series: number;
  samples: number;
  refusedSamples: number;
  warnings: string[];
}

export class TenantDb {
  readonly tenant: string;
  readonly dir: string;
  readonly head: TenantHead;
  readonly wal: Wal;
  private readonly log: Logger;
  private checkpointing: Promise<void> | undefined;
  private readonly ackBeforeWalWriteMs: number;
  /** Debug mode only: records acknowledged but not yet given to the WAL, oldest first. */
  private readonly deferred: Array<{ due: number; records: Uint8Array[] }> = [];
  private deferTimer: NodeJS.Timeout | undefined;

  private constructor(tenant: string, dir: string, head: TenantHead, wal: Wal, log: Logger, ackBeforeWalWriteMs: number) {
    this.tenant = tenant;
    this.dir = dir;
    this.head = head;
    this.wal = wal;
    this.log = log;
    this.ackBeforeWalWriteMs = ackBeforeWalWriteMs;
  }

  /** Opens (creating if needed) the tenant's directory, replays its WAL, and opens it for writing. */
  static async open(tenant: string, opts: TenantDbOptions): Promise<{ db: TenantDb; replay: ReplayReport }> {
    const walDir = join(opts.dir, 'wal');
    await mkdir(walDir, { recursive: true });
    const head = new TenantHead(opts.head);
    const log = opts.log.child({ tenant });
    const t0 = Date.now();
    const report: ReplayReport = { durationMs: 0, records: 0, series: 0, samples: 0, refusedSamples: 0, warnings: [] };
    const batch = new SampleBatch();
    let lastLog = 0;
    const res = await replayWal(walDir, (rec) => {
      switch (rec[0]) {
        case RecordType.Series:
          forEachSeries(rec, (ref, labels) => {
            head.replaySeries(ref, unsafeLabelsFromSorted(labels));
            report.series++;
          });
          break;
        case RecordType.Samples: {
          const err = decodeSamplesInto(rec, batch);
          if (err !== null) {
            report.warnings.push(`samples record: ${err}`);
            break;
          }
          for (let i = 0; i < batch.count; i++) {
            if (head.replaySample(batch.refs[i] as number, batch.ts[i] as number, batch.vs[i] as number)) report.samples++;
            else report.refusedSamples++;
          }
          break;
        }
        case RecordType.HistogramSamples:
        case RecordType.CustomBucketsHistogramSamples:
        case RecordType.FloatHistogramSamples:
        case RecordType.CustomBucketsFloatHistogramSamples: {
          // counted with the float samples, as the ingester counts ingested samples
          const float = rec[0] === RecordType.FloatHistogramSamples || rec[0] === RecordType.CustomBucketsFloatHistogramSamples;
          const r = float ? decodeFloatHistogramSamples(rec, HEAD_HISTOGRAMS) : decodeHistogramSamples(rec, HEAD_HISTOGRAMS);
          if (r.error !== null) {
            report.warnings.push(`${float ? 'float ' : ''}histogram samples record: ${r.error}`);
            break;
          }
          for (const { ref, t, h } of r.histograms) {
            if (head.replayHistogram(ref, t, h)) report.samples++;
            else report.refusedSamples++;
          }
          break;
        }
        default:
          break; // tombstones, exemplars, metadata: not kept by the head yet
      }
    }, {
      log,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastLog < 1000 && p.index !== p.total) return;
        lastLog = now;
        log.info({ component: 'ingester', phase: p.phase, segment: p.segment, index: p.index, total: p.total }, `WAL replay: ${p.phase} ${p.index}/${p.total}`);
      },
    });
    report.records = res.records;
    report.warnings.push(...res.warnings);
    if (res.repair !== null) {
      report.warnings.push(`WAL repaired: segment ${res.repair.segment} cut at byte ${res.repair.offset} (${res.repair.reason}); ${res.repair.truncatedBytes} bytes dropped`);
    }
    const wal = await Wal.open(walDir, { syncMode: opts.syncMode, syncIntervalMs: opts.syncIntervalMs, segmentSize: opts.segmentSize, log });
    report.durationMs = Date.now() - t0;
    return { db: new TenantDb(tenant, opts.dir, head, wal, log, opts.ackBeforeWalWriteMs ?? 0), replay: report };
  }

  /**
   * Appends a decoded request to the head and logs what it added. Resolves once the WAL has the
   * records (and, in 'always' mode, has fsynced them). A WAL failure rejects with a retryable error.
   */
  async append(req: DecodedWriteRequest): Promise<AppendStats> {
    const stats = new AppendStats();
    const batch = new WalBatch();
    this.head.appendRequest(req, batch, stats);
    if (batch.isEmpty()) return stats;
    if (this.ackBeforeWalWriteMs > 0) {
      this.deferred.push({ due: Date.now() + this.ackBeforeWalWriteMs, records: encodeBatch(batch) });
      this.scheduleDeferred();
      return stats;
    }
    await this.wal.log(encodeBatch(batch));
    return stats;
  }

  /** Debug mode: hands the WAL, in order, every deferred batch that is due (all of them if `all`). */
  private writeDeferred(all: boolean): Promise<void> {
    const now = Date.now();
    const writes: Array<Promise<void>> = [];
    while (this.deferred.length > 0 && (all || this.deferred[0]!.due <= now)) {
      writes.push(this.wal.log(this.deferred.shift()!.records));
    }
    return Promise.all(writes).then(() => undefined);
  }

  private scheduleDeferred(): void {
    if (this.deferTimer !== undefined || this.deferred.length === 0) return;
    this.deferTimer = setTimeout(() => {
      this.deferTimer = undefined;
      this.writeDeferred(false).catch((e: unknown) => this.log.error({ tenant: this.tenant, err: e }, 'deferred WAL write failed (-debug.ingester.ack-before-wal-write)'));
      this.scheduleDeferred();
    }, Math.max(0, this.deferred[0]!.due - Date.now()));
  }

  /**
   * Drops head data older than mint and, when enough closed WAL segments have piled up, folds the
   * oldest two thirds of them into a checkpoint (live series, samples >= mint) and deletes them,
   * which bounds replay time. One at a time.
   */
  truncate(mint: number): Promise<void> {
    this.checkpointing ??= this.doTruncate(mint).finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  private async doTruncate(mint: number): Promise<void> {
    const removed = this.head.truncate(mint, 0);
    if (removed > 0) this.log.debug({ removed }, 'removed idle series from the head');
    const { first, last } = this.wal.segmentRange();
    if (first < 0 || last - first < 3) return;
    const to = first + Math.floor(((last - first) * 2) / 3) - 1;
    if (to < first) return;
    const t0 = Date.now();
    const stats = await checkpoint(join(this.dir, 'wal'), first, to, (ref) => this.head.series(ref) !== undefined, mint, { log: this.log });
    await this.wal.truncateBefore(to + 1);
    this.log.info({ durationMs: Date.now() - t0, from: first, to, droppedSeries: stats.droppedSeries, droppedSamples: stats.droppedSamples }, 'WAL checkpoint done');
  }

  /** Bytes on disk of the WAL directory (segments and checkpoints). */
  async walSizeBytes(): Promise<number> {
    return dirSize(join(this.dir, 'wal'));
  }

  async close(): Promise<void> {
    await this.checkpointing?.catch(() => undefined);
    clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
    await this.writeDeferred(true);
    await this.wal.close();
  }
}

export function encodeBatch(b: WalBatch): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (b.seriesRefs.length > 0) {
    out.push(encodeSeries(b.seriesRefs.map((ref, i) => ({ ref, labels: b.seriesLabels[i] as unknown as string[] }))));
  }
  if (b.samples > 0) out.push(encodeSamples({ refs: b.sampleRefs, ts: b.sampleTs, vs: b.sampleVs }, b.samples));
  if (b.histogramRefs.length > 0) out.push(...encodeHistograms(b));
  return out;
}

/**
 * The batch's histograms (histogramOf's objects, as the head stores them) as records: integer and
 * float ones, and within each exponential and custom-bucket ones, go in records of their own, as
 * Prometheus writes them. Replay appends in record order, so where a series changes kind within
 * the batch the records are cut (as Prometheus's headAppender starts a new batch there): each
 * series' histograms stay in time order.
 */
function encodeHistograms(b: WalBatch): Uint8Array[] {
  const out: Uint8Array[] = [];
  let ints: RefHistogramSample[] = [];
  let floats: RefHistogramSample[] = [];
  const kindOf = new Map<number, number>();
  const flush = (): void => {
    out.push(...encodeHistogramSamples(ints), ...encodeFloatHistogramSamples(floats));
    ints = [];
    floats = [];
    kindOf.clear();
  };
  for (let i = 0; i < b.histogramRefs.length; i++) {
    const ref = b.histogramRefs[i] as number;
    const h = b.histograms[i] as HistogramObject;
    const float = isFloatHistogram(h);
    const kind = (float ? 2 : 0) + (h.schema === CUSTOM_BUCKETS_SCHEMA ? 1 : 0);
    const prev = kindOf.get(ref);
    if (prev !== undefined && prev !== kind) flush();
    kindOf.set(ref, kind);
    (float ? floats : ints).push({ ref, t: b.histogramTs[i] as number, h });
  }
  flush();
  return out;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
