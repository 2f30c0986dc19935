// The WAL writer: appends records to numbered segment files in Prometheus's page format.
//
// How a log() call travels (docs/formats/wal.md, "Writing"):
//  1. Synchronously, its records are cut into fragments and copied into the batch being filled
//     (`filling`), with padding and segment cuts decided right there. Calls cannot interleave or
//     tear each other's records because nothing awaits between the first fragment and the last.
//  2. One pump (at most one runs) takes the filled batch, writes it with one write(2) per segment
//     it touches, and in 'always' mode then fsyncs before taking the next batch. Calls arriving
//     during the write and fsync fill the next batch, which the following write and fsync cover
//     together: group commit.
//  3. The batch's promise, shared by its callers, resolves after the write ('batch') or after
//     the covering fsync ('always'). In 'batch' mode an unref'd timer fsyncs at most once per
//     syncIntervalMs while unsynced data exists.
//
// Close is not send (DESIGN.md rule 4): after close() starts, log() rejects at once with a
// retryable UnavailableError; calls accepted before that are written, synced and resolved by
// close(). A failed write or fsync makes the WAL 'failed': every pending and later call rejects
// with UnavailableError (its cause the I/O error) and the owner should restart, which replays and
// repairs the tail.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';
import { UnavailableError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import {
  DEFAULT_SEGMENT_SIZE, FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, HEADER_SIZE, PAGE_SIZE, listCheckpoints, listSegments,
  segmentCapacity, segmentPath,
} from './format.js';
import { fsyncDir, truncateDurably } from './fsutil.js';
import { scanSegment } from './reader.js';

export type SyncMode = 'batch' | 'always';

export const DEFAULT_SYNC_INTERVAL_MS = 100;

export interface WalOptions {
  /** Bytes per segment, a multiple of 32 KiB. Default 128 MiB. */
  segmentSize?: number;
  /** 'always': log() resolves after an fsync covering its records. 'batch': after write(2). */
  syncMode: SyncMode;
  /** 'batch' mode: fsync unsynced data at most this often (ms). Default 100. */
  syncIntervalMs?: number;
  log?: Logger;
}

export interface WalStats {
  /** fsync/fdatasync calls on segment files (including those when a segment is finished). */
  fsyncs: number;
  fsyncSeconds: number;
  /** write(2) calls. */
  writes: number;
  bytesWritten: number;
  recordsLogged: number;
  /** Batches written (each one write per segment touched, shared by every log() call in it). */
  batches: number;
  segmentsCreated: number;
  currentSegment: number;
}

interface Run {
  seg: number;
  start: number;
}

interface Batch {
  buf: Buffer;
  len: number;
  /** Byte ranges of buf by segment: run i covers [runs[i].start, runs[i+1].start). */
  runs: Run[];
  /** appendedSeq after this batch's last byte. */
  endSeq: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface SyncWaiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

type State = 'open' | 'closing' | 'closed' | 'failed';

const INITIAL_BATCH_BYTES = 64 * 1024;
const MAX_SPARE_BYTES = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

function validate(opts: WalOptions): { segmentSize: number; syncIntervalMs: number } {
  if (opts.syncMode !== 'batch' && opts.syncMode !== 'always') throw new RangeError(`wal: syncMode must be 'batch' or 'always', got ${String(opts.syncMode)}`);
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  if (!Number.isInteger(segmentSize) || segmentSize < PAGE_SIZE || segmentSize % PAGE_SIZE !== 0) {
    throw new RangeError(`wal: segmentSize must be a positive multiple of ${PAGE_SIZE}, got ${segmentSize}`);
  }
  const syncIntervalMs = opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
  if (!Number.isFinite(syncIntervalMs) || syncIntervalMs < 0) throw new RangeError(`wal: syncIntervalMs must be >= 0, got ${syncIntervalMs}`);
  return { segmentSize, syncIntervalMs };
}

export class Wal {
  readonly dir: string;
  private readonly segmentSize: number;
  private readonly syncMode: SyncMode;
  private readonly syncIntervalMs: number;
  private readonly logger: Logger | undefined;

  private state: State = 'open';
  private failureCause: unknown = undefined;

  // Append (logical) position: where the next byte goes once everything filled is written.
  private seg: number;
  private segOff: number;
  private firstSeg: number;
  private appendedSeq = 0;
  private writtenSeq = 0;
  private syncedSeq = 0;

  private filling: Batch | null = null;
  private writing: Batch | null = null;
  private spare: Buffer | null = null;
  private unsynced: Batch[] = [];
  private syncWaiters: SyncWaiter[] = [];
  private syncRequested = false;
  private pumping: Promise<void> | null = null;

  private file: FileHandle | null;
  private fileSeg: number;
  private timer: NodeJS.Timeout | null = null;
  private lastSyncAt = Date.now();
  private closing: Promise<void> | null = null;

  private readonly counters = { fsyncs: 0, fsyncSeconds: 0, writes: 0, bytesWritten: 0, recordsLogged: 0, batches: 0, segmentsCreated: 0 };

  private constructor(dir: string, opts: WalOptions, checked: { segmentSize: number; syncIntervalMs: number }, file: FileHandle, seg: number, segOff: number, firstSeg: number) {
    this.dir = dir;
    this.segmentSize = checked.segmentSize;
    this.syncIntervalMs = checked.syncIntervalMs;
    this.syncMode = opts.syncMode;
    this.logger = opts.log;
    this.file = file;
    this.fileSeg = seg;
    this.seg = seg;
    this.segOff = segOff;
    this.firstSeg = firstSeg;
  }

  /**
   * Opens (creating if needed) the WAL in dir for appending. The last segment's tail is checked
   * and cut back to its last whole record, so new records never follow a torn write. Replay
   * (replayWal) before opening: it repairs corruption in every segment, this only the last one.
   */
  static async open(dir: string, opts: WalOptions): Promise<Wal> {
    const checked = validate(opts);
    await mkdir(dir, { recursive: true });
    const segs = await listSegments(dir);
    const cps = await listCheckpoints(dir);
    const cpIndex = cps.at(-1)?.index ?? -1;
    const last = segs.at(-1);
    let seg: number;
    let segOff = 0;
    let created = false;
    if (last !== undefined && last > cpIndex) {
      seg = last;
      const path = segmentPath(dir, last);
      const scan = await scanSegment(path, null);
      segOff = scan.goodEnd;
      if (scan.size > scan.goodEnd) {
        if (scan.problem !== null) {
          opts.log?.warn({ component: 'wal', dir, segment: last, offset: scan.goodEnd, reason: scan.problem.reason, bytes: scan.size - scan.goodEnd },
            'WAL: cutting a torn or corrupt tail off the last segment before appending');
        }
        await truncateDurably(path, scan.goodEnd);
      }
    } else {
      seg = cpIndex + 1;
      created = true;
    }
    const file = await open(segmentPath(dir, seg), 'a');
    try {
      if (created) await fsyncDir(dir);
    } catch (err) {
      await file.close();
      throw err;
    }
    const wal = new Wal(dir, opts, checked, file, seg, segOff, Math.min(segs[0] ?? seg, seg));
    if (created) wal.counters.segmentsCreated++;
    return wal;
  }

  /** The error that failed the WAL (a write or fsync), if it failed. */
  get failure(): unknown {
    return this.failureCause;
  }

  get closed(): boolean {
    return this.state === 'closed' || this.closing !== null;
  }

  get stats(): WalStats {
    return { ...this.counters, currentSegment: this.seg };
  }

  /** First and last segment index (last: the segment new records go to). */
  segmentRange(): { first: number; last: number } {
    return { first: this.firstSeg, last: this.seg };
  }

  private unavailable(): UnavailableError {
    if (this.state === 'failed' || this.failureCause !== undefined) {
      return new UnavailableError(`WAL ${this.dir} failed: ${String((this.failureCause as Error | undefined)?.message ?? this.failureCause)}`, { cause: this.failureCause });
    }
    return new UnavailableError(`WAL ${this.dir} is closed`);
  }

  /**
   * Appends records. Resolves once they are written ('batch') or written and fsynced ('always');
   * rejects with a retryable UnavailableError if the WAL is closing, closed or failed. Records of
   * one call stay together and in order; the arrays may be reused once log() has returned.
   */
  log(records: readonly Uint8Array[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    for (const r of records) {
      if (!(r instanceof Uint8Array)) return Promise.reject(new TypeError('wal: records must be Uint8Arrays'));
    }
    if (records.length === 0) return Promise.resolve();
    const b = this.batch();
    const saved = { len: b.len, runs: b.runs.length, endSeq: b.endSeq, seg: this.seg, segOff: this.segOff, appendedSeq: this.appendedSeq };
    try {
      for (const r of records) this.append(b, r);
    } catch (err) {
      // Only allocation can throw here; undo the partial append so no torn record is written.
      b.len = saved.len;
      b.runs.length = saved.runs;
      b.endSeq = saved.endSeq;
      this.seg = saved.seg;
      this.segOff = saved.segOff;
      this.appendedSeq = saved.appendedSeq;
      return Promise.reject(err);
    }
    this.counters.recordsLogged += records.length;
    this.kick();
    return b.promise;
  }

  /** Fsyncs everything logged before the call (resolves at once if it is all synced). */
  sync(): Promise<void> {
    if (this.state !== 'open') {
      // Closing syncs everything accepted; failed rejects.
      return (this.closing ?? Promise.resolve()).then(() => {
        if (this.failureCause !== undefined) throw this.unavailable();
      });
    }
    const seq = this.appendedSeq;
    if (seq <= this.syncedSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ seq, resolve, reject });
      this.kick();
    });
  }

  /**
   * Starts a new segment: records logged after this call go to it. Resolves with its index once
   * every earlier record is written and the previous segment is fsynced and closed.
   */
  nextSegment(): Promise<number> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    const b = this.batch();
    this.cut(b);
    const seg = this.seg;
    this.kick();
    return b.promise.then(() => seg);
  }

  /** Deletes segments with an index below `segment` (never the one being written). */
  async truncateBefore(segment: number): Promise<number> {
    const limit = Math.min(segment, this.fileSeg, this.seg);
    let removed = 0;
    for (const s of await listSegments(this.dir)) {
      if (s >= limit) break;
      await rm(segmentPath(this.dir, s), { force: true });
      removed++;
    }
    this.firstSeg = Math.max(this.firstSeg, limit);
    return removed;
  }

  /**
   * Stops accepting records, writes and fsyncs the ones accepted, closes the file. Idempotent; a
   * second call joins the first. Never rejects: a write or fsync failure is logged and left in
   * `failure`.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    this.clearTimer();
    if (this.state === 'closing') {
      this.syncRequested = true;
      this.kick();
    }
    while (this.pumping !== null) await this.pumping;
    const f = this.file;
    this.file = null;
    if (f !== null) {
      try {
        await f.close();
      } catch (err) {
        this.logger?.error({ component: 'wal', dir: this.dir, err }, 'WAL: closing the segment file failed');
      }
    }
    this.state = 'closed';
  }

  // ---- filling (synchronous) ----

  private batch(): Batch {
    if (this.filling !== null) return this.filling;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers await the shared promise; this keeps a batch nobody awaits (one whose only append
    // was rolled back) from becoming an unhandled rejection.
    promise.catch(() => undefined);
    const buf = this.spare ?? Buffer.allocUnsafe(INITIAL_BATCH_BYTES);
    this.spare = null;
    this.filling = { buf, len: 0, runs: [{ seg: this.seg, start: 0 }], endSeq: this.appendedSeq, promise, resolve, reject };
    return this.filling;
  }

  private reserve(b: Batch, n: number): void {
    const need = b.len + n;
    if (need <= b.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, b.buf.length * 2));
    b.buf.copy(next, 0, 0, b.len);
    b.buf = next;
  }

  private advance(b: Batch, n: number): void {
    b.len += n;
    this.segOff += n;
    this.appendedSeq += n;
    b.endSeq = this.appendedSeq;
  }

  private pad(b: Batch): void {
    const inPage = this.segOff % PAGE_SIZE;
    if (inPage === 0) return;
    const n = PAGE_SIZE - inPage;
    this.reserve(b, n);
    b.buf.fill(0, b.len, b.len + n);
    this.advance(b, n);
  }

  private cut(b: Batch): void {
    this.pad(b);
    this.seg++;
    this.segOff = 0;
    b.runs.push({ seg: this.seg, start: b.len });
  }

  private append(b: Batch, rec: Uint8Array): void {
    const n = rec.length;
    // Records never cross segments: cut if it does not fit (unless the segment is empty, in
    // which case an oversized record gets an oversized segment).
    if (this.segOff > 0 && n > segmentCapacity(this.segOff, this.segmentSize)) this.cut(b);
    let off = 0;
    let first = true;
    do {
      if (PAGE_SIZE - (this.segOff % PAGE_SIZE) <= HEADER_SIZE) this.pad(b);
      const l = Math.min(n - off, PAGE_SIZE - (this.segOff % PAGE_SIZE) - HEADER_SIZE);
      const last = off + l === n;
      const type = first ? (last ? FRAG_FULL : FRAG_FIRST) : last ? FRAG_LAST : FRAG_MIDDLE;
      const part = rec.subarray(off, off + l);
      this.reserve(b, HEADER_SIZE + l);
      const buf = b.buf;
      const p = b.len;
      buf[p] = type;
      buf.writeUInt16BE(l, p + 1);
      buf.writeUInt32BE(crc32c(part), p + 3);
      buf.set(part, p + HEADER_SIZE);
      this.advance(b, HEADER_SIZE + l);
      off += l;
      first = false;
    } while (off < n);
  }

  // ---- the pump (asynchronous, one at a time) ----

  private kick(): void {
    if (this.pumping === null) this.pumping = this.pump();
  }

  /** Whether an fsync is due: something written is unsynced and someone is waiting for it. */
  private needSync(): boolean {
    if (this.syncedSeq >= this.writtenSeq) return false;
    return this.syncWaiters.length > 0 || (this.syncMode === 'always' && this.unsynced.length > 0) || this.syncRequested;
  }

  /** Resolves the batches and sync() calls that the fsyncs so far cover. */
  private settle(): void {
    while (this.unsynced.length > 0 && (this.unsynced[0] as Batch).endSeq <= this.syncedSeq) (this.unsynced.shift() as Batch).resolve();
    while (this.syncWaiters.length > 0 && (this.syncWaiters[0] as SyncWaiter).seq <= this.syncedSeq) (this.syncWaiters.shift() as SyncWaiter).resolve();
  }

  private async pump(): Promise<void> {
    // Let the rest of the current tick's log() calls join the first batch.
    await null;
    try {
      for (;;) {
        // One batch per turn: in 'always' mode its fsync comes before the next batch is taken,
        // so a steady stream of calls cannot starve the fsync (and its callers) behind writes.
        const b = this.filling;
        if (b !== null) {
          this.filling = null;
          this.writing = b;
          await this.writeBatch(b);
          this.writing = null;
          this.writtenSeq = b.endSeq;
          this.counters.batches++;
          if (b.buf.length <= MAX_SPARE_BYTES && (this.spare === null || this.spare.length < b.buf.length)) this.spare = b.buf;
          b.buf = EMPTY;
          if (this.syncMode === 'always') this.unsynced.push(b);
          else b.resolve();
          this.settle();
          this.scheduleSync(); // also under a load that never lets the pump go idle
        }
        if (this.needSync()) {
          await this.fsync();
        } else if (this.filling === null) {
          this.syncRequested = false;
          break;
        }
      }
      this.scheduleSync();
    } catch (err) {
      this.fail(err);
    }
    this.pumping = null;
  }

  private async writeBatch(b: Batch): Promise<void> {
    for (let i = 0; i < b.runs.length; i++) {
      const run = b.runs[i] as Run;
      const end = b.runs[i + 1]?.start ?? b.len;
      if (run.seg !== this.fileSeg) await this.switchSegment(run.seg);
      let off = run.start;
      while (off < end) {
        const f = this.file;
        if (f === null) throw new Error('segment file is not open');
        const { bytesWritten } = await f.write(b.buf, off, end - off, null);
        this.counters.writes++;
        this.counters.bytesWritten += bytesWritten;
        off += bytesWritten;
      }
    }
  }

  private async switchSegment(seg: number): Promise<void> {
    const old = this.file;
    if (old !== null) {
      await this.timedSync(old);
      this.file = null;
      await old.close();
    }
    this.file = await open(segmentPath(this.dir, seg), 'a');
    this.fileSeg = seg;
    this.counters.segmentsCreated++;
    await fsyncDir(this.dir);
  }

  private async timedSync(f: FileHandle): Promise<void> {
    const t0 = performance.now();
    await f.datasync();
    this.counters.fsyncs++;
    this.counters.fsyncSeconds += (performance.now() - t0) / 1000;
  }

  private async fsync(): Promise<void> {
    const target = this.writtenSeq;
    this.syncRequested = false;
    const f = this.file;
    if (f === null) throw new Error('segment file is not open');
    await this.timedSync(f);
    this.lastSyncAt = Date.now();
    if (target > this.syncedSeq) this.syncedSeq = target;
    this.settle();
  }

  private scheduleSync(): void {
    if (this.syncMode !== 'batch' || this.timer !== null || this.state !== 'open' || this.syncedSeq >= this.writtenSeq) return;
    const delay = Math.max(0, this.lastSyncAt + this.syncIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state !== 'open') return;
      this.syncRequested = true;
      this.kick();
    }, delay);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private fail(err: unknown): void {
    this.failureCause = err;
    if (this.state !== 'closed') this.state = 'failed';
    this.clearTimer();
    const e = this.unavailable();
    const pending: Array<{ reject: (e: unknown) => void }> = [];
    if (this.writing !== null) pending.push(this.writing);
    if (this.filling !== null) pending.push(this.filling);
    pending.push(...this.unsynced, ...this.syncWaiters);
    this.writing = null;
    this.filling = null;
    this.unsynced = [];
    this.syncWaiters = [];
    for (const p of pending) p.reject(e);
    try {
      this.logger?.error({ component: 'wal', dir: this.dir, err }, 'WAL: write or fsync failed; the WAL refuses further records until restarted');
    } catch {
      // logging must not break failure handling
    }
  }
}
