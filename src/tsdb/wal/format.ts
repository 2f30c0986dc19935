// The WAL's on-disk layout (Prometheus tsdb/wlog; docs/formats/wal.md): constants, file names
// and directory listings.
//
//   <dir>/00000000, 00000001, ...     segments, numbered without gaps
//   <dir>/checkpoint.00000041/         a checkpoint covering segments <= 41, itself segments 00000000...
//   <dir>/checkpoint.00000041.tmp/     a checkpoint being written (deleted when found)
//
// A segment is a sequence of 32 KiB pages holding record fragments:
//   type <1 byte> | length <uint16 BE> | CRC32C(data) <uint32 BE> | data <length bytes>
// type: low 3 bits 0 = rest of page is zero padding, 1 full, 2 first, 3 middle, 4 last;
// bit 3 = snappy-compressed record, bit 4 = zstd-compressed record; bits 5-7 reserved (zero).
// A fragment never crosses a page boundary and a record never crosses a segment boundary.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const PAGE_SIZE = 32 * 1024;
export const HEADER_SIZE = 7;
export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;

export const FRAG_PAD = 0;
export const FRAG_FULL = 1;
export const FRAG_FIRST = 2;
export const FRAG_MIDDLE = 3;
export const FRAG_LAST = 4;
export const FRAG_TYPE_MASK = 0x07;
export const FLAG_SNAPPY = 0x08;
export const FLAG_ZSTD = 0x10;
export const RESERVED_MASK = 0xe0;

const CHECKPOINT_PREFIX = 'checkpoint.';
export const TMP_SUFFIX = '.tmp';

export function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

export function segmentPath(dir: string, i: number): string {
  return join(dir, segmentName(i));
}

export function checkpointName(i: number): string {
  return CHECKPOINT_PREFIX + segmentName(i);
}

/** Payload bytes a record can still get in a segment filled to segOff (0 if no fragment fits). */
export function segmentCapacity(segOff: number, segmentSize: number): number {
  if (segOff >= segmentSize) return 0; // full, or made oversized by one big record
  const pages = Math.floor(segmentSize / PAGE_SIZE);
  const cur = Math.floor(segOff / PAGE_SIZE);
  const inPage = segOff % PAGE_SIZE;
  let cap = 0;
  let fullPages = pages - cur;
  if (inPage > 0) {
    cap += Math.max(0, PAGE_SIZE - inPage - HEADER_SIZE);
    fullPages--;
  }
  return cap + Math.max(0, fullPages) * (PAGE_SIZE - HEADER_SIZE);
}

async function entries(dir: string): Promise<Array<{ name: string; isDir: boolean }>> {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents.map((e) => ({ name: e.name, isDir: e.isDirectory() }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Segment indexes in dir, ascending (files named by digits only). */
export async function listSegments(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await entries(dir)) {
    if (!e.isDir && /^\d+$/.test(e.name)) out.push(Number(e.name));
  }
  return out.sort((a, b) => a - b);
}

export interface CheckpointRef {
  index: number;
  path: string;
}

/** Finished checkpoints in dir, ascending by index. */
export async function listCheckpoints(dir: string): Promise<CheckpointRef[]> {
  const out: CheckpointRef[] = [];
  for (const e of await entries(dir)) {
    const m = /^checkpoint\.(\d+)$/.exec(e.name);
    if (m !== null && e.isDir) out.push({ index: Number(m[1]), path: join(dir, e.name) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Names of unfinished checkpoint directories (checkpoint.N.tmp) in dir. */
export async function listTmpCheckpoints(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((e) => e.name.startsWith(CHECKPOINT_PREFIX) && e.name.endsWith(TMP_SUFFIX)).map((e) => join(dir, e.name));
}
