// A head's chunks without per-series objects: each series has a slot number; its numeric state
// (newest sample, XOR encoder state, head chunk address) sits in typed-array columns indexed by
// that slot, and its chunk bytes in the head's ChunkArena. One shared XorEncoder, loaded from the
// columns for each append and stored back after, writes the head chunk in place in its arena
// slot, moving it to a larger slot when it fills (so the bytes are exactly XorChunk's).
//
// A closed (cut) chunk is a "span": its arena address and byte length packed in one number
// (address * 2^16 + length), which the series keeps with the chunk's time range.
import { BitWriter, UNSET_LEADING, XorEncoder, XorIterator } from '../chunkenc/index.js';
import { ChunkArena, SLAB_SPAN } from './chunk-arena.js';

const NO_CHUNK = -1;
const HEADER_BYTES = 2;
/** A new head chunk's slot: Prometheus's chunk allocation size. */
const FIRST_SLOT = 32;
const SPAN_LEN = 65536;
/** Compaction is tried when the slot slabs' free bytes exceed both of these. */
const COMPACT_MIN_WASTE = 1 << 20;
const COMPACT_WASTE_RATIO = 0.25;

export function spanAddr(span: number): number {
  return Math.floor(span / SPAN_LEN);
}

export function spanLen(span: number): number {
  return span % SPAN_LEN;
}

/** Writes a head chunk in its arena slot; grows by moving the chunk to a larger slot. */
class SlotWriter extends BitWriter {
  /** Arena address of the slot written (changes when the chunk moves). */
  addr = NO_CHUNK;

  constructor(private readonly arena: ChunkArena) {
    super(new Uint8Array(0), 0, 0);
  }

  protected override grow(need: number): void {
    const a = this.arena;
    const len = this.end - this.base;
    const addr = a.allocSlot(need - this.base);
    const buf = a.slab(addr);
    const off = addr % SLAB_SPAN;
    buf.set(this.buf.subarray(this.base, this.end), off);
    a.freeSlot(this.addr);
    this.addr = addr;
    this.buf = buf;
    this.base = off;
    this.end = off + len;
    this.limit = off + a.slotSizeAt(addr);
  }
}

export class HeadChunks {
  readonly arena = new ChunkArena();
  private cap = 0;
  private next = 0;
  private readonly freeSlots: number[] = [];
  /** Newest in-order sample time (-Infinity before the first): also the encoder's last t. */
  lastT: Float64Array = new Float64Array(0);
  /** Bit pattern of the newest in-order value (signed 32-bit words): also the encoder's. */
  vHi: Int32Array = new Int32Array(0);
  vLo: Int32Array = new Int32Array(0);
  /** Wall-clock time of the series' last accepted append. */
  lastAppendAt: Float64Array = new Float64Array(0);
  /** First sample time of the head chunk. */
  headMinT: Float64Array = new Float64Array(0);
  /** Arena address of the head chunk's slot; NO_CHUNK when the series has no head chunk. */
  private headAddr: Float64Array = new Float64Array(0);
  /** Encoder state of the head chunk: stream length in bytes, free bits of its last byte, ... */
  private headLen: Int32Array = new Int32Array(0);
  private free: Uint8Array = new Uint8Array(0);
  private tDelta: Float64Array = new Float64Array(0);
  private leading: Uint8Array = new Uint8Array(0);
  private trailing: Uint8Array = new Uint8Array(0);
  /** tDelta beyond 2^53 (the column holds NaN then), by slot. Rare. */
  private readonly bigDeltas = new Map<number, bigint>();
  private readonly writer: SlotWriter;
  private readonly enc: XorEncoder;
  /** Shared by the readers below; each use resets it (reads are synchronous). */
  private readonly it = new XorIterator(new Uint8Array(0), 0);
  /** maybeCompact() does nothing while the slot slabs' free bytes are below this. */
  private compactAt = COMPACT_MIN_WASTE;

  constructor() {
    this.writer = new SlotWriter(this.arena);
    this.enc = new XorEncoder(this.writer);
  }

  /** Series slots in use. */
  get size(): number {
    return this.next - this.freeSlots.length;
  }

  /** A slot for a new series: no samples, no chunks. */
  addSeries(): number {
    const s = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.next++;
    if (s >= this.cap) this.grow();
    this.lastT[s] = -Infinity;
    this.vHi[s] = 0;
    this.vLo[s] = 0;
    this.lastAppendAt[s] = 0;
    this.headMinT[s] = 0;
    this.headAddr[s] = NO_CHUNK;
    this.headLen[s] = 0;
    return s;
  }

  /** Frees a series' slot and its head chunk (its closed chunks are freed by the caller). */
  removeSeries(s: number): void {
    this.dropHead(s);
    this.freeSlots.push(s);
  }

  hasHead(s: number): boolean {
    return (this.headAddr[s] as number) >= 0; // (false for a slot out of range too)
  }

  /** Samples in the head chunk (0 without one). */
  headSamples(s: number): number {
    const addr = this.headAddr[s] as number;
    if (addr === NO_CHUNK) return 0;
    const b = this.arena.slab(addr);
    const off = addr % SLAB_SPAN;
    return ((b[off] as number) << 8) | (b[off + 1] as number);
  }

  headBytes(s: number): number {
    return this.headAddr[s] === NO_CHUNK ? 0 : (this.headLen[s] as number);
  }

  /** The head chunk's bytes as a view (valid until the next append): copy to keep. */
  headView(s: number): Uint8Array {
    return this.arena.view(this.headAddr[s] as number, this.headLen[s] as number);
  }

  /** Starts an empty head chunk whose first sample will be at t (the series must have none). */
  openHead(s: number, t: number): void {
    const addr = this.arena.allocSlot(FIRST_SLOT);
    const b = this.arena.slab(addr);
    const off = addr % SLAB_SPAN;
    b[off] = 0;
    b[off + 1] = 0;
    this.headAddr[s] = addr;
    this.headLen[s] = HEADER_BYTES;
    this.free[s] = 0;
    this.tDelta[s] = 0;
    this.leading[s] = UNSET_LEADING;
    this.trailing[s] = 0;
    this.bigDeltas.delete(s);
    this.headMinT[s] = t;
  }

  /**
   * Appends to the head chunk (the series must have one): XorChunk's appender, with its state in
   * the columns. Throws RangeError, changing nothing, if t is no safe integer or the chunk is full.
   */
  append(s: number, t: number, v: number): void {
    const w = this.writer;
    const e = this.enc;
    const addr = this.headAddr[s] as number;
    const off = addr % SLAB_SPAN;
    w.addr = addr;
    w.buf = this.arena.slab(addr);
    w.base = off;
    w.end = off + (this.headLen[s] as number);
    w.limit = off + this.arena.slotSizeAt(addr);
    w.free = this.free[s] as number;
    e.t = this.lastT[s] as number;
    e.vHi = this.vHi[s] as number;
    e.vLo = this.vLo[s] as number;
    const d = this.tDelta[s] as number;
    e.tDelta = d;
    e.tDeltaBig = d !== d ? (this.bigDeltas.get(s) as bigint) : 0n;
    e.leading = this.leading[s] as number;
    e.trailing = this.trailing[s] as number;
    e.append(t, v);
    this.headAddr[s] = w.addr;
    this.headLen[s] = w.end - w.base;
    this.free[s] = w.free;
    this.lastT[s] = e.t;
    this.vHi[s] = e.vHi;
    this.vLo[s] = e.vLo;
    this.tDelta[s] = e.tDelta;
    if (e.tDelta !== e.tDelta) this.bigDeltas.set(s, e.tDeltaBig);
    this.leading[s] = e.leading;
    this.trailing[s] = e.trailing;
  }

  /** Moves the head chunk's exact bytes to closed-chunk memory; returns its span. */
  closeHead(s: number): number {
    const len = this.headLen[s] as number;
    if (len >= SPAN_LEN) throw new RangeError(`a chunk of ${len} bytes is too long to close`);
    const to = this.arena.allocClosed(len);
    this.arena.slab(to).set(this.headView(s), to % SLAB_SPAN);
    this.dropHead(s);
    return to * SPAN_LEN + len;
  }

  /** Frees the head chunk, if any; the series' newest sample stays known (lastT, vHi, vLo). */
  dropHead(s: number): void {
    const addr = this.headAddr[s] as number;
    if (addr === NO_CHUNK) return;
    this.arena.freeSlot(addr);
    this.headAddr[s] = NO_CHUNK;
    this.headLen[s] = 0;
    this.bigDeltas.delete(s);
  }

  /** A closed chunk's bytes, as a view (the bytes never change while the span is live). */
  closedView(span: number): Uint8Array {
    return this.arena.view(spanAddr(span), spanLen(span));
  }

  freeClosed(span: number): void {
    this.arena.freeClosed(spanAddr(span), spanLen(span));
  }

  /** The shared iterator over a closed chunk (valid until the next iterator call). */
  iterClosed(span: number): XorIterator {
    const addr = spanAddr(span);
    const off = addr % SLAB_SPAN;
    this.it.resetAt(this.arena.slab(addr), off, off + spanLen(span));
    return this.it;
  }

  /** The shared iterator over the head chunk (the series must have one). */
  iterHead(s: number): XorIterator {
    const addr = this.headAddr[s] as number;
    const off = addr % SLAB_SPAN;
    this.it.resetAt(this.arena.slab(addr), off, off + (this.headLen[s] as number));
    return this.it;
  }

  /**
   * Compacts the head chunks' slot slabs when enough of them is free: head chunks grow from slot
   * to slot at different speeds, leaving the slabs of the classes they pass through sparsely used.
   * Cheap when there is nothing to do (a comparison); otherwise one pass over the slots.
   * Returns the number of head chunks moved.
   */
  maybeCompact(): number {
    const a = this.arena;
    const waste = a.slotReservedBytes - a.slotUsedBytes;
    if (waste < this.compactAt || waste < a.slotReservedBytes * COMPACT_WASTE_RATIO) return 0;
    const moved = this.compact();
    // try again once as much is wasted again (what compaction could not reclaim does not count)
    this.compactAt = Math.max(COMPACT_MIN_WASTE, a.slotReservedBytes - a.slotUsedBytes + a.slotReservedBytes * COMPACT_WASTE_RATIO);
    return moved;
  }

  /** Moves the head chunks out of the sparsest slot slabs (see ChunkArena.beginDrain), dropping them. */
  compact(): number {
    const a = this.arena;
    if (a.beginDrain() === 0) return 0;
    let moved = 0;
    for (let s = 0; s < this.next; s++) {
      const from = this.headAddr[s] as number;
      if (from === NO_CHUNK || !a.isDraining(from)) continue;
      const to = a.allocSlot(a.slotSizeAt(from));
      const off = to % SLAB_SPAN;
      a.slab(to).set(this.headView(s), off);
      a.freeSlot(from);
      this.headAddr[s] = to;
      moved++;
    }
    return moved;
  }

  private grow(): void {
    const cap = Math.max(1024, Math.ceil(this.cap * 1.5));
    this.lastT = growF64(this.lastT, cap);
    this.vHi = growI32(this.vHi, cap);
    this.vLo = growI32(this.vLo, cap);
    this.lastAppendAt = growF64(this.lastAppendAt, cap);
    this.headMinT = growF64(this.headMinT, cap);
    this.headAddr = growF64(this.headAddr, cap);
    this.headLen = growI32(this.headLen, cap);
    this.free = growU8(this.free, cap);
    this.tDelta = growF64(this.tDelta, cap);
    this.leading = growU8(this.leading, cap);
    this.trailing = growU8(this.trailing, cap);
    this.cap = cap;
  }
}

function growF64(a: Float64Array, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

function growI32(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

function growU8(a: Uint8Array, cap: number): Uint8Array {
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}
