// Memory for a head's chunk bytes: a few large slabs (Uint8Arrays) instead of one ArrayBuffer
// per chunk, which costs a JSArrayBuffer, a JSTypedArray, a V8 BackingStore and a malloc block
// for every chunk. Two kinds of slab:
//
// - slot slabs, for head chunks (which grow): a slab is cut into equal slots of one size class,
//   from 32 bytes up in steps of an eighth to a quarter; a free slot holds the offset of the next
//   free slot of its slab (a free list inside the slab);
// - closed slabs, for cut chunks (immutable): exact-size placement, one after the other. Only the
//   count of live bytes is kept; the slab goes when it drops to zero (truncation frees chunks in
//   about the order they were cut, so slabs empty in order).
//
// A slab whose last allocation is freed is dropped (not reused), so a view that a query still
// holds on it keeps seeing the bytes it was given. Slabs start at 4 KiB and double, per pool, up
// to 256 KiB, so a tenant with a handful of series holds little. Layout notes: docs/ingester.md.
//
// An address is slab index * SLAB_SPAN + offset: a plain number, below 2^37.

/** Largest slab, and the spacing of slab indexes in an address. */
export const SLAB_SPAN = 1 << 18;
const MIN_SLAB = 1 << 12;
/** Slab indexes stay below this, so that an address times 2^16 stays a safe integer. */
const MAX_SLABS = 1 << 19;
const NONE = -1;
/** openPos of a slot slab being emptied by compaction: no slot is handed out from it. */
const DRAINING = -2;

/** Slot sizes: 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, ... (four per doubling), up to SLAB_SPAN. */
export const SLOT_SIZES: readonly number[] = (() => {
  const out = [32];
  for (let p = 32; p < SLAB_SPAN; p *= 2) for (let k = 1; k <= 4; k++) out.push(p + (k * p) / 4);
  return out;
})();

/** Index in SLOT_SIZES of the smallest slot of at least n bytes. */
export function slotClassFor(n: number): number {
  if (n <= 32) return 0;
  // n in (2^e, 2^(e+1)]: the classes 2^e + k * 2^(e-2), k = 1..4
  const e = 31 - Math.clz32(n - 1);
  const k = Math.ceil((n - 2 ** e) / 2 ** (e - 2));
  return (e - 5) * 4 + k;
}

/** Pool index of the closed slabs (after the slot classes). */
const CLOSED = SLOT_SIZES.length;

export class ChunkArena {
  /** Slabs by index; null where one was dropped (the index is reused). */
  private readonly slabs: Array<Uint8Array | null> = [];
  /** Slot size of each slot slab; 0 for a closed slab. */
  private readonly slotSize: number[] = [];
  /** Slot slab: slots in use. Closed slab: bytes in use. */
  private readonly live: number[] = [];
  /** Offset of the first never-used byte. */
  private readonly bump: number[] = [];
  /** Slot slab: offset of the first free slot (NONE if none). */
  private readonly freeHead: number[] = [];
  /** Slot slab: its index in its class's `open` list, NONE when full, or DRAINING. */
  private readonly openPos: number[] = [];
  /** Per slot class: slabs with a free slot. */
  private readonly open: number[][] = SLOT_SIZES.map(() => []);
  /** Bytes of slabs held per pool (slot classes, then CLOSED): decides a pool's next slab size. */
  private readonly poolBytes: number[] = [...SLOT_SIZES.map(() => 0), 0];
  /** The closed slab being filled, or NONE. */
  private closedCur = NONE;
  private readonly freeIndexes: number[] = [];

  /** Bytes of all slabs held. */
  reservedBytes = 0;
  /** Bytes of slots in use and closed chunks not freed. */
  usedBytes = 0;
  /** Bytes of slot slabs held, and of their slots in use. */
  slotReservedBytes = 0;
  slotUsedBytes = 0;
  /** Slabs held. */
  slabCount = 0;

  /** The slab an address lies in. */
  slab(addr: number): Uint8Array {
    return this.slabs[Math.floor(addr / SLAB_SPAN)] as Uint8Array;
  }

  /** A view of len bytes at addr. */
  view(addr: number, len: number): Uint8Array {
    const off = addr % SLAB_SPAN;
    return this.slab(addr).subarray(off, off + len);
  }

  /** The size of the slot at addr (allocated by allocSlot). */
  slotSizeAt(addr: number): number {
    return this.slotSize[Math.floor(addr / SLAB_SPAN)] as number;
  }

  // ---- slots (head chunks) -------------------------------------------------------------------

  /** A slot of at least n bytes (n <= SLAB_SPAN). Its bytes are not cleared. */
  allocSlot(n: number): number {
    if (n > SLAB_SPAN) throw new RangeError(`a chunk slot of ${n} bytes is larger than a slab (${SLAB_SPAN})`);
    const cls = slotClassFor(n);
    const size = SLOT_SIZES[cls] as number;
    const open = this.open[cls] as number[];
    let s = open.length > 0 ? (open[open.length - 1] as number) : NONE;
    if (s === NONE) {
      s = this.newSlab(cls, size);
      this.openPos[s] = open.length;
      open.push(s);
    }
    const buf = this.slabs[s] as Uint8Array;
    let off = this.freeHead[s] as number;
    if (off !== NONE) {
      this.freeHead[s] = readLink(buf, off);
    } else {
      off = this.bump[s] as number;
      this.bump[s] = off + size;
    }
    if (this.freeHead[s] === NONE && (this.bump[s] as number) + size > buf.length) this.unlistOpen(s, cls);
    this.live[s] = (this.live[s] as number) + 1;
    this.usedBytes += size;
    this.slotUsedBytes += size;
    return s * SLAB_SPAN + off;
  }

  /** Gives back a slot from allocSlot. */
  freeSlot(addr: number): void {
    const s = Math.floor(addr / SLAB_SPAN);
    const off = addr - s * SLAB_SPAN;
    const size = this.slotSize[s] as number;
    const buf = this.slabs[s];
    if (buf == null || size === 0 || off % size !== 0) throw new Error(`freeSlot(${addr}): not a slot`);
    const cls = slotClassFor(size);
    this.usedBytes -= size;
    this.slotUsedBytes -= size;
    const live = (this.live[s] as number) - 1;
    this.live[s] = live;
    if (live === 0) {
      if ((this.openPos[s] as number) >= 0) this.unlistOpen(s, cls);
      this.dropSlab(s, cls);
      return;
    }
    writeLink(buf, off, this.freeHead[s] as number);
    this.freeHead[s] = off;
    if (this.openPos[s] === NONE) {
      const open = this.open[cls] as number[];
      this.openPos[s] = open.length;
      open.push(s);
    }
  }

  /** Whether the slot at addr lies in a slab that compaction is emptying. */
  isDraining(addr: number): boolean {
    return this.openPos[Math.floor(addr / SLAB_SPAN)] === DRAINING;
  }

  /**
   * Starts a compaction of the slot slabs: per class, keeps the largest (then fullest) slabs that
   * together have room for all the class's slots in use, and marks the others draining (no slot is handed out
   * from them any more). Returns the number of slots in draining slabs; the caller moves each of
   * them (allocSlot of the same size, copy, freeSlot), which fills free slots of the kept slabs
   * without making a new slab, and drops the draining slabs as they empty.
   */
  beginDrain(): number {
    const byClass = new Map<number, number[]>();
    for (let s = 0; s < this.slabs.length; s++) {
      const size = this.slotSize[s] as number;
      if (this.slabs[s] == null || size === 0 || this.openPos[s] === DRAINING) continue;
      const cls = slotClassFor(size);
      const list = byClass.get(cls);
      if (list === undefined) byClass.set(cls, [s]);
      else list.push(s);
    }
    let moving = 0;
    for (const [cls, list] of byClass) {
      if (list.length < 2) continue;
      const size = SLOT_SIZES[cls] as number;
      const slots = (s: number): number => (this.slabs[s] as Uint8Array).length / size;
      let live = 0;
      for (const s of list) live += this.live[s] as number;
      // the largest slabs first (the fewest to keep), the fullest first among equals (the fewest moves)
      list.sort((x, y) => slots(y) - slots(x) || (this.live[y] as number) - (this.live[x] as number));
      let room = 0;
      let k = 0;
      while (k < list.length && room < live) room += slots(list[k++] as number);
      for (; k < list.length; k++) {
        const s = list[k] as number;
        if ((this.openPos[s] as number) >= 0) this.unlistOpen(s, cls);
        this.openPos[s] = DRAINING;
        moving += this.live[s] as number;
      }
    }
    return moving;
  }

  // ---- closed chunks -------------------------------------------------------------------------

  /** Room for n immutable bytes (n <= SLAB_SPAN), placed after the previous closed chunk. */
  allocClosed(n: number): number {
    if (n > SLAB_SPAN) throw new RangeError(`a chunk of ${n} bytes is larger than a slab (${SLAB_SPAN})`);
    let s = this.closedCur;
    if (s === NONE || (this.bump[s] as number) + n > (this.slabs[s] as Uint8Array).length) {
      s = this.newSlab(CLOSED, n);
      this.closedCur = s;
    }
    const off = this.bump[s] as number;
    this.bump[s] = off + n;
    this.live[s] = (this.live[s] as number) + n;
    this.usedBytes += n;
    return s * SLAB_SPAN + off;
  }

  /** Gives back n bytes at addr from allocClosed; the slab goes when none of it is in use. */
  freeClosed(addr: number, n: number): void {
    const s = Math.floor(addr / SLAB_SPAN);
    if (this.slabs[s] == null || this.slotSize[s] !== 0) throw new Error(`freeClosed(${addr}): not a closed chunk`);
    const live = (this.live[s] as number) - n;
    if (live < 0) throw new Error(`freeClosed(${addr}, ${n}): more than the slab holds`);
    this.live[s] = live;
    this.usedBytes -= n;
    if (live === 0) this.dropSlab(s, CLOSED);
  }

  /** Per slab in use: its kind, size and use (for tests and diagnostics). */
  slabStats(): Array<{ index: number; slotSize: number; bytes: number; live: number }> {
    const out = [];
    for (let s = 0; s < this.slabs.length; s++) {
      const b = this.slabs[s];
      if (b != null) out.push({ index: s, slotSize: this.slotSize[s] as number, bytes: b.length, live: this.live[s] as number });
    }
    return out;
  }

  // ---- slabs ---------------------------------------------------------------------------------

  /**
   * A new slab for a pool (a slot class, or CLOSED), at least `min` bytes (the slot size, or the
   * closed chunk to place): about as large as the pool's slabs together (so a pool's slabs double),
   * from MIN_SLAB to SLAB_SPAN; a slot slab holds a whole number of slots.
   */
  private newSlab(pool: number, min: number): number {
    const s = this.freeIndexes.length > 0 ? (this.freeIndexes.pop() as number) : this.slabs.length;
    if (s >= MAX_SLABS) throw new RangeError(`chunk arena is full (${MAX_SLABS} slabs)`);
    const held = this.poolBytes[pool] as number;
    let bytes = MIN_SLAB;
    while (bytes < SLAB_SPAN && bytes < held) bytes *= 2;
    if (bytes < min) bytes = min;
    const slotSize = pool === CLOSED ? 0 : min;
    const buf = new Uint8Array(slotSize > 0 ? bytes - (bytes % slotSize) : bytes);
    this.poolBytes[pool] = held + buf.length;
    if (slotSize > 0) this.slotReservedBytes += buf.length;
    if (s === this.slabs.length) {
      this.slabs.push(buf);
      this.slotSize.push(slotSize);
      this.live.push(0);
      this.bump.push(0);
      this.freeHead.push(NONE);
      this.openPos.push(NONE);
    } else {
      this.slabs[s] = buf;
      this.slotSize[s] = slotSize;
      this.live[s] = 0;
      this.bump[s] = 0;
      this.freeHead[s] = NONE;
      this.openPos[s] = NONE;
    }
    this.reservedBytes += buf.length;
    this.slabCount++;
    return s;
  }

  private dropSlab(s: number, pool: number): void {
    const n = (this.slabs[s] as Uint8Array).length;
    this.poolBytes[pool] = (this.poolBytes[pool] as number) - n;
    if (pool !== CLOSED) this.slotReservedBytes -= n;
    this.reservedBytes -= n;
    this.slabCount--;
    this.slabs[s] = null;
    if (s === this.closedCur) this.closedCur = NONE;
    this.freeIndexes.push(s);
  }

  /** Takes slot slab s out of its class's open list (swapping the last one into its place). */
  private unlistOpen(s: number, cls: number): void {
    const open = this.open[cls] as number[];
    const at = this.openPos[s] as number;
    const last = open.pop() as number;
    if (last !== s) {
      open[at] = last;
      this.openPos[last] = at;
    }
    this.openPos[s] = NONE;
  }
}

// A free slot's first four bytes: the offset of the next free slot of the slab plus one (0: none).
function readLink(b: Uint8Array, off: number): number {
  return (((b[off] as number) << 24) | ((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number)) - 1;
}

function writeLink(b: Uint8Array, off: number, next: number): void {
  const x = next + 1;
  b[off] = x >>> 24;
  b[off + 1] = (x >>> 16) & 0xff;
  b[off + 2] = (x >>> 8) & 0xff;
  b[off + 3] = x & 0xff;
}
