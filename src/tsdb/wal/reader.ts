// Reads one segment file: validates fragments page by page, reassembles records and hands each
// to a sink. It never throws on bad content: it stops at the first problem and reports where the
// last whole record ends, which is where a repair cuts the file (docs/formats/wal.md, "Repair").
//
// Reads go in page-aligned chunks; as no fragment crosses a page boundary, a fragment lies wholly
// in one chunk (only a record made of several fragments is copied, into a reassembly buffer).
import { open } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';
import {
  FLAG_SNAPPY, FLAG_ZSTD, FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, FRAG_PAD, FRAG_TYPE_MASK, HEADER_SIZE, PAGE_SIZE, RESERVED_MASK,
} from './format.js';
import { snappyDecode } from './snappy.js';

const CHUNK_PAGES = 16;

export interface SegmentProblem {
  /** File offset where reading could not go on. */
  offset: number;
  reason: string;
  /** True when the data simply ends early (a torn write); false for bytes that are wrong. */
  torn: boolean;
}

export interface SegmentScan {
  size: number;
  /** Offset just past the last whole record: where a repair cuts the file. */
  goodEnd: number;
  /** Records handed to the sink. */
  records: number;
  /** Whole records that could not be handed over (zstd-compressed: not supported yet). */
  skipped: number;
  problem: SegmentProblem | null;
}

/**
 * Receives each record, a plain Uint8Array (not a Buffer, so rec.slice() copies), valid only
 * during the call: copy it to keep it.
 */
export type RecordSink = (rec: Uint8Array) => void;

class Parser {
  goodEnd = 0;
  records = 0;
  skipped = 0;
  problem: SegmentProblem | null = null;
  private inRecord = false;
  private recFlags = 0;
  private recStart = 0;
  private asm = new Uint8Array(64 * 1024);
  private asmLen = 0;

  constructor(private readonly sink: RecordSink | null) {}

  private fail(offset: number, reason: string, torn: boolean): false {
    this.problem = { offset: this.inRecord ? this.recStart : offset, reason: `${reason} at offset ${offset}`, torn };
    return false;
  }

  private append(data: Uint8Array): void {
    const need = this.asmLen + data.length;
    if (need > this.asm.length) {
      const next = new Uint8Array(Math.max(need, this.asm.length * 2));
      next.set(this.asm.subarray(0, this.asmLen));
      this.asm = next;
    }
    this.asm.set(data, this.asmLen);
    this.asmLen = need;
  }

  private deliver(rec: Uint8Array, flags: number, offset: number): boolean {
    if (flags & FLAG_ZSTD) {
      this.skipped++;
      return true;
    }
    let out = rec;
    if (flags & FLAG_SNAPPY) {
      const dec = snappyDecode(rec);
      if (typeof dec === 'string') return this.fail(offset, `undecodable snappy record (${dec})`, false);
      out = dec;
    }
    this.records++;
    if (this.sink !== null) this.sink(out);
    return true;
  }

  /** Parses `len` bytes of buf that start at file offset `base` (a page boundary). */
  feed(buf: Uint8Array, len: number, base: number): boolean {
    for (let pageStart = 0; pageStart < len; pageStart += PAGE_SIZE) {
      const pageEnd = Math.min(pageStart + PAGE_SIZE, len);
      const partial = pageEnd - pageStart < PAGE_SIZE;
      let p = pageStart;
      while (p < pageEnd) {
        const t = buf[p] as number;
        if (t === FRAG_PAD) {
          for (let q = p + 1; q < pageEnd; q++) {
            if (buf[q] !== 0) return this.fail(base + q, 'non-zero byte in page padding', false);
          }
          break;
        }
        const abs = base + p;
        if (pageEnd - p < HEADER_SIZE) {
          return partial ? this.fail(abs, 'truncated fragment header', true) : this.fail(abs, 'fragment header crosses a page boundary', false);
        }
        if (t & RESERVED_MASK) return this.fail(abs, `reserved bits set in fragment type 0x${t.toString(16)}`, false);
        const ft = t & FRAG_TYPE_MASK;
        const flags = t & (FLAG_SNAPPY | FLAG_ZSTD);
        if (ft > FRAG_LAST) return this.fail(abs, `invalid fragment type ${ft}`, false);
        if (flags === (FLAG_SNAPPY | FLAG_ZSTD)) return this.fail(abs, 'both compression flags set', false);
        const n = ((buf[p + 1] as number) << 8) | (buf[p + 2] as number);
        const crc = (((buf[p + 3] as number) << 24) | ((buf[p + 4] as number) << 16) | ((buf[p + 5] as number) << 8) | (buf[p + 6] as number)) >>> 0;
        const dataEnd = p + HEADER_SIZE + n;
        if (dataEnd > pageStart + PAGE_SIZE) return this.fail(abs, `fragment of ${n} bytes crosses a page boundary`, false);
        if (dataEnd > pageEnd) return this.fail(abs, 'truncated fragment', true);
        const data = buf.subarray(p + HEADER_SIZE, dataEnd);
        if (crc32c(data) !== crc) return this.fail(abs, 'checksum mismatch', false);
        switch (ft) {
          case FRAG_FULL:
            if (this.inRecord) return this.fail(abs, 'full fragment inside a record', false);
            if (!this.deliver(data, flags, abs)) return false;
            this.goodEnd = base + dataEnd;
            break;
          case FRAG_FIRST:
            if (this.inRecord) return this.fail(abs, 'first fragment inside a record', false);
            this.inRecord = true;
            this.recFlags = flags;
            this.recStart = abs;
            this.asmLen = 0;
            this.append(data);
            break;
          case FRAG_MIDDLE:
          case FRAG_LAST:
            if (!this.inRecord) return this.fail(abs, `${ft === FRAG_LAST ? 'last' : 'middle'} fragment outside a record`, false);
            if (flags !== this.recFlags) return this.fail(abs, 'compression flags differ between fragments', false);
            this.append(data);
            if (ft === FRAG_LAST) {
              if (!this.deliver(this.asm.subarray(0, this.asmLen), flags, this.recStart)) return false;
              this.inRecord = false;
              this.goodEnd = base + dataEnd;
            }
            break;
          default:
            return this.fail(abs, `invalid fragment type ${ft}`, false);
        }
        p = dataEnd;
      }
    }
    return true;
  }

  finish(size: number): void {
    if (this.problem === null && this.inRecord) this.fail(size, 'record without its last fragment', true);
  }
}

/**
 * Reads a segment, handing every whole record to sink (null: only validate). Throws only on I/O
 * errors or an aborted signal; bad content ends the scan with `problem` set.
 */
export async function scanSegment(path: string, sink: RecordSink | null, signal?: AbortSignal): Promise<SegmentScan> {
  const fh = await open(path, 'r');
  try {
    let size = (await fh.stat()).size;
    const parser = new Parser(sink);
    const chunk = new Uint8Array(CHUNK_PAGES * PAGE_SIZE);
    let pos = 0;
    while (pos < size) {
      signal?.throwIfAborted();
      const want = Math.min(chunk.length, size - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(chunk, got, want - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < want) size = pos + got; // the file shrank while we read it
      if (!parser.feed(chunk, got, pos)) break;
      pos += got;
    }
    parser.finish(size);
    return { size, goodEnd: parser.goodEnd, records: parser.records, skipped: parser.skipped, problem: parser.problem };
  } finally {
    await fh.close();
  }
}
