// Replay: reads the latest checkpoint, then every segment after it, in order, and repairs what
// it cannot read (docs/formats/wal.md, "Replay and repair").
//
// Bad content never makes replay throw and never stops a start: at the first unreadable point of
// a segment (torn or truncated fragment, bad checksum, impossible fragment sequence, non-zero
// padding) the segment is cut back to its last whole record and every later segment is deleted,
// as Prometheus's wlog repair does (later records may depend on the lost ones, so they are not
// replayed past a hole). A checkpoint is written atomically; if one is unreadable anyway, the rest
// of it is skipped with a warning and left on disk. I/O errors (EIO, EACCES) and an aborted
// signal do reject.
import { rm } from 'node:fs/promises';
import type { Logger } from '../../log/index.js';
import { join } from 'node:path';
import { listCheckpoints, listSegments, segmentName, segmentPath } from './format.js';
import { fsyncDir, truncateDurably } from './fsutil.js';
import { scanSegment } from './reader.js';

export interface ReplayProgress {
  phase: 'checkpoint' | 'segment';
  /** Segment index being read (inside the checkpoint directory for phase 'checkpoint'). */
  segment: number;
  /** 1-based position of this segment among the `total` of its phase. */
  index: number;
  total: number;
}

export interface ReplayOptions {
  log?: Logger;
  onProgress?: (p: ReplayProgress) => void;
  /** Cut corrupt data off (default true). False: only report it, change nothing on disk. */
  repair?: boolean;
  signal?: AbortSignal;
}

export interface ReplayRepair {
  segment: number;
  /** Where the segment was cut: the end of its last whole record. */
  offset: number;
  reason: string;
  /** True for a write that simply ended early; false for bytes that are wrong. */
  torn: boolean;
  truncatedBytes: number;
  deletedSegments: number[];
  /** False when ReplayOptions.repair was false: found, reported, not cut. */
  applied: boolean;
}

export interface ReplayResult {
  /** Index of the checkpoint read, or null. */
  checkpoint: number | null;
  /** Segments read, first..last (-1, -1 when none). */
  first: number;
  last: number;
  records: number;
  /** Whole records not handed over (zstd-compressed; not supported yet). */
  skipped: number;
  repair: ReplayRepair | null;
  warnings: string[];
}

/**
 * Receives every record in log order. `segment` is the WAL segment it came from, or the
 * checkpoint's index when fromCheckpoint. The bytes are valid only during the call.
 */
export type ReplaySink = (rec: Uint8Array, segment: number, fromCheckpoint: boolean) => void;

export async function replayWal(dir: string, onRecord: ReplaySink, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const log = opts.log;
  const repairOn = opts.repair ?? true;
  const result: ReplayResult = { checkpoint: null, first: -1, last: -1, records: 0, skipped: 0, repair: null, warnings: [] };
  const warn = (fields: Record<string, unknown>, msg: string): void => {
    result.warnings.push(`${msg} ${JSON.stringify(fields)}`);
    log?.warn({ component: 'wal', dir, ...fields }, msg);
  };

  const cp = (await listCheckpoints(dir)).at(-1);
  if (cp !== undefined) {
    result.checkpoint = cp.index;
    const cpSegs = await listSegments(cp.path);
    for (const [i, s] of cpSegs.entries()) {
      opts.onProgress?.({ phase: 'checkpoint', segment: s, index: i + 1, total: cpSegs.length });
      const scan = await scanSegment(segmentPath(cp.path, s), (rec) => onRecord(rec, cp.index, true), opts.signal);
      result.records += scan.records;
      result.skipped += scan.skipped;
      if (scan.problem !== null) {
        warn({ checkpoint: cp.index, segment: s, offset: scan.problem.offset, reason: scan.problem.reason },
          'WAL: checkpoint is corrupt; the rest of it is skipped');
        break;
      }
    }
  }

  const all = await listSegments(dir);
  const segs = cp === undefined ? all : all.filter((s) => s > cp.index);
  const expectFirst = cp === undefined ? segs[0] : cp.index + 1;
  if (segs.length > 0 && expectFirst !== undefined && segs[0] !== expectFirst) {
    warn({ expected: segmentName(expectFirst), found: segmentName(segs[0] as number) }, 'WAL: segments missing after the checkpoint');
  }
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as number;
    const prev = segs[i - 1];
    if (prev !== undefined && s !== prev + 1) warn({ after: segmentName(prev), next: segmentName(s) }, 'WAL: gap in segment numbering');
    opts.onProgress?.({ phase: 'segment', segment: s, index: i + 1, total: segs.length });
    const path = segmentPath(dir, s);
    const scan = await scanSegment(path, (rec) => onRecord(rec, s, false), opts.signal);
    if (result.first < 0) result.first = s;
    result.last = s;
    result.records += scan.records;
    result.skipped += scan.skipped;
    if (scan.skipped > 0) warn({ segment: s, records: scan.skipped }, 'WAL: skipped zstd-compressed records (not supported)');
    const isLast = i === segs.length - 1;
    if (scan.problem !== null) {
      const later = segs.slice(i + 1);
      result.repair = {
        segment: s, offset: scan.goodEnd, reason: scan.problem.reason, torn: scan.problem.torn,
        truncatedBytes: scan.size - scan.goodEnd, deletedSegments: later, applied: repairOn,
      };
      warn({ segment: s, offset: scan.goodEnd, reason: scan.problem.reason, torn: scan.problem.torn, truncatedBytes: scan.size - scan.goodEnd, deletedSegments: later.length, repair: repairOn },
        isLast && scan.problem.torn ? 'WAL: torn write at the end of the log; cutting it off' : 'WAL: corruption; cutting the log at the last whole record');
      if (repairOn) {
        await truncateDurably(path, scan.goodEnd);
        for (const l of later) await rm(join(dir, segmentName(l)), { force: true });
        if (later.length > 0) await fsyncDir(dir);
      }
      break;
    }
    log?.info({ component: 'wal', dir, segment: s, maxSegment: segs.at(-1) }, 'WAL segment loaded');
    if (isLast && scan.size > scan.goodEnd && repairOn) {
      // Only zero padding follows the last record: drop it so appends continue right after it.
      await truncateDurably(path, scan.goodEnd);
    }
  }
  log?.info({ component: 'wal', dir, checkpoint: result.checkpoint, first: result.first, last: result.last, records: result.records }, 'WAL replay done');
  return result;
}
