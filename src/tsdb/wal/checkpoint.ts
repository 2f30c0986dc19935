// Checkpoints: the records of segments [from, to] (and of the previous checkpoint) that still
// matter, compacted into dir/checkpoint.<to> in the same segment format, so that those segments can
// be deleted (docs/formats/wal.md, "Checkpoints"). Prometheus tsdb/wlog semantics:
//   series        kept when keep(ref)
//   samples, histogram samples, exemplars   kept when t >= mint
//   tombstones    kept when maxt >= mint
//   metadata      the latest entry per ref, for refs keep() accepts, written last
//   other types   dropped
// Kept entries are copied byte for byte behind their record's original header (entries are
// deltas against that header), so labels are never decoded into strings.
//
// The checkpoint is built in checkpoint.<to>.tmp, fsynced, renamed into place, the directory
// fsynced; then older checkpoints are deleted. A crash at any point leaves either the old or the
// new checkpoint complete (and a .tmp directory, removed by the next checkpoint).
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log/index.js';
import { filterRecord, recordType, RecordType, walkEntries } from '../record/index.js';
import { checkpointName, listCheckpoints, listSegments, listTmpCheckpoints, segmentPath, TMP_SUFFIX } from './format.js';
import { fsyncDir } from './fsutil.js';
import { scanSegment } from './reader.js';
import { Wal } from './writer.js';

export interface CheckpointStats {
  /** Index of the checkpoint written (= `to`). */
  index: number;
  totalSeries: number;
  droppedSeries: number;
  /** Float and histogram samples. */
  totalSamples: number;
  droppedSamples: number;
  totalTombstones: number;
  droppedTombstones: number;
  totalExemplars: number;
  droppedExemplars: number;
  totalMetadata: number;
  droppedMetadata: number;
  /** Records of types a checkpoint does not carry. */
  droppedRecords: number;
  /** Checkpoints deleted after this one was in place. */
  deletedCheckpoints: number[];
}

export interface CheckpointOptions {
  log?: Logger;
  signal?: AbortSignal;
}

/** Builds the filtered copy of one record; returns null when nothing of it is kept. */
class Filter {
  readonly latestMeta = new Map<number, Uint8Array>();

  constructor(readonly stats: CheckpointStats, private readonly keep: (ref: number) => boolean, private readonly mint: number) {}

  apply(rec: Uint8Array): Uint8Array | null {
    const type = recordType(rec);
    const s = this.stats;
    let total = 0;
    let kept = 0;
    const count = (ok: boolean): boolean => {
      total++;
      if (ok) kept++;
      return ok;
    };
    let out: Uint8Array | null | string;
    switch (type) {
      case RecordType.Series:
        out = filterRecord(rec, (ref) => count(this.keep(ref)));
        break;
      case RecordType.Samples:
      case RecordType.HistogramSamples:
      case RecordType.FloatHistogramSamples:
      case RecordType.CustomBucketsHistogramSamples:
      case RecordType.CustomBucketsFloatHistogramSamples:
      case RecordType.Exemplars:
      case RecordType.Tombstones:
        out = filterRecord(rec, (_ref, t) => count(t >= this.mint));
        break;
      case RecordType.Metadata: {
        const res = walkEntries(rec, (start, end, ref) => {
          s.totalMetadata++;
          if (this.keep(ref)) this.latestMeta.set(ref, rec.slice(start, end));
        });
        if (res !== null && res.error !== null) throw new Error(`checkpoint: undecodable metadata record: ${res.error}`);
        return null;
      }
      default:
        s.droppedRecords++;
        return null;
    }
    if (typeof out === 'string') throw new Error(`checkpoint: undecodable record of type ${type}: ${out}`);
    switch (type) {
      case RecordType.Series:
        s.totalSeries += total;
        s.droppedSeries += total - kept;
        break;
      case RecordType.Exemplars:
        s.totalExemplars += total;
        s.droppedExemplars += total - kept;
        break;
      case RecordType.Tombstones:
        s.totalTombstones += total;
        s.droppedTombstones += total - kept;
        break;
      default:
        s.totalSamples += total;
        s.droppedSamples += total - kept;
    }
    return out;
  }

  /** One metadata record with the latest entry of every kept ref (null if none). */
  metadataRecord(): Uint8Array | null {
    if (this.latestMeta.size === 0) return null;
    let size = 1;
    for (const e of this.latestMeta.values()) size += e.length;
    const out = new Uint8Array(size);
    out[0] = RecordType.Metadata;
    let p = 1;
    for (const e of this.latestMeta.values()) {
      out.set(e, p);
      p += e.length;
    }
    this.stats.droppedMetadata = this.stats.totalMetadata - this.latestMeta.size;
    return out;
  }
}

/**
 * Writes checkpoint.<to> from the latest checkpoint and segments [from, to] of dir, keeping the
 * series keep() accepts and data at or after mint; then deletes older checkpoints. The segments
 * must be complete (the writer has moved past `to`: call Wal.nextSegment first). Deleting the
 * covered segments is the caller's next step (Wal.truncateBefore(to + 1)). Throws on unreadable
 * input: a checkpoint must not silently lose series.
 */
export async function checkpoint(
  dir: string, from: number, to: number, keep: (ref: number) => boolean, mint: number, opts: CheckpointOptions = {},
): Promise<CheckpointStats> {
  const stats: CheckpointStats = {
    index: to, totalSeries: 0, droppedSeries: 0, totalSamples: 0, droppedSamples: 0, totalTombstones: 0, droppedTombstones: 0,
    totalExemplars: 0, droppedExemplars: 0, totalMetadata: 0, droppedMetadata: 0, droppedRecords: 0, deletedCheckpoints: [],
  };
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from) {
    throw new RangeError(`checkpoint: bad segment range ${from}..${to}`);
  }
  opts.log?.info({ component: 'wal', dir, fromSegment: from, toSegment: to, mint }, 'Creating checkpoint');

  const prev = (await listCheckpoints(dir)).at(-1);
  if (prev !== undefined) {
    if (prev.index >= to) throw new Error(`checkpoint: checkpoint ${prev.index} already covers segment ${to}`);
    if (from > prev.index + 1) throw new Error(`checkpoint: gap between checkpoint ${prev.index} and segment ${from}`);
    from = prev.index + 1;
  }
  const present = new Set(await listSegments(dir));
  for (let s = from; s <= to; s++) if (!present.has(s)) throw new Error(`checkpoint: segment ${s} is missing`);

  for (const t of await listTmpCheckpoints(dir)) await rm(t, { recursive: true, force: true });
  const final = join(dir, checkpointName(to));
  const tmp = final + TMP_SUFFIX;
  const out = await Wal.open(tmp, { syncMode: 'batch', syncIntervalMs: 60_000, log: opts.log });
  const filter = new Filter(stats, keep, mint);
  let writeError: unknown;
  let lastPromise: Promise<void> | null = null;
  const emit = (rec: Uint8Array): void => {
    const p = out.log([rec]); // copies rec before returning
    if (p !== lastPromise) {
      lastPromise = p;
      p.catch((e: unknown) => {
        writeError ??= e;
      });
    }
  };
  const sink = (rec: Uint8Array): void => {
    const kept = filter.apply(rec);
    if (kept !== null) emit(kept);
  };
  try {
    const sources: string[] = [];
    if (prev !== undefined) for (const s of await listSegments(prev.path)) sources.push(segmentPath(prev.path, s));
    for (let s = from; s <= to; s++) sources.push(segmentPath(dir, s));
    for (const path of sources) {
      const scan = await scanSegment(path, sink, opts.signal);
      if (scan.problem !== null) throw new Error(`checkpoint: cannot read ${path}: ${scan.problem.reason}`);
      if (scan.skipped > 0) stats.droppedRecords += scan.skipped;
    }
    const meta = filter.metadataRecord();
    if (meta !== null) emit(meta);
    await out.close();
    if (writeError !== undefined || out.failure !== undefined) throw writeError ?? out.failure;
    await fsyncDir(tmp);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    await fsyncDir(dir);
  } catch (err) {
    await out.close();
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  for (const c of await listCheckpoints(dir)) {
    if (c.index >= to) break;
    await rm(c.path, { recursive: true, force: true });
    stats.deletedCheckpoints.push(c.index);
  }
  opts.log?.info({ component: 'wal', dir, ...stats }, 'Checkpoint done');
  return stats;
}
