// What the writer has had acknowledged, kept compactly. Values are a function of (series, time)
// (series.ts), so "acknowledged" is just a set of (series, timestamp) pairs; and timestamps lie on
// a grid (multiples of -tests.write-interval) and each writer owns a contiguous shard of series
// that it writes one tick (timestamp) at a time. So per shard:
//
// - a bitmap over grid indexes (t / interval): bit set = at least one batch of that tick acked;
// - for the rare tick where some batches were not acked, the acked series ranges of that tick;
// - the last tick the writer finished (`doneT`): the acks of ticks up to it are final.
//
// Memory: one bit per grid step per shard over -tests.write-read-series-test.max-query-age (pruned
// as time passes), plus the exceptions: 30 KiB for 7 days at 20 s, 450 KiB per hour at 1 ms.

/** A set of non-negative integers (grid indexes) over a sliding window, one bit each. */
export class GridBitmap {
  private words = new Uint32Array(16);
  /** Index of bit 0 of words[0]; a multiple of 32. */
  private base = 0;
  /** Words in use. */
  private n = 0;
  /** Indexes below this are gone (pruned). */
  private floor = 0;

  add(i: number): void {
    if (i < this.floor) return;
    if (this.n === 0) {
      this.base = Math.floor(i / 32) * 32;
      this.words.fill(0);
    } else if (i < this.base) {
      this.growFront(Math.ceil((this.base - i) / 32));
    }
    const w = Math.floor((i - this.base) / 32);
    if (w >= this.words.length) this.grow(w + 1);
    if (w >= this.n) this.n = w + 1;
    this.words[w] = ((this.words[w] as number) | (1 << ((i - this.base) % 32))) >>> 0;
  }

  has(i: number): boolean {
    if (i < this.floor || i < this.base || this.n === 0) return false;
    const w = Math.floor((i - this.base) / 32);
    if (w >= this.n) return false;
    return (((this.words[w] as number) >>> ((i - this.base) % 32)) & 1) === 1;
  }

  /** Forgets every index below i; releases whole words once enough of them are gone. */
  pruneBelow(i: number): void {
    if (i <= this.floor) return;
    this.floor = i;
    if (this.n === 0) return;
    const k = Math.min(this.n, Math.floor((i - this.base) / 32));
    if (k <= 0) return;
    if (k === this.n) {
      this.n = 0;
      return;
    }
    if (k < 16 && k * 4 < this.n) return; // amortise the copy
    this.words.copyWithin(0, k, this.n);
    this.words.fill(0, this.n - k, this.n);
    this.n -= k;
    this.base += k * 32;
  }

  /** Calls fn for every index in [lo, hi], in increasing order. */
  forEach(lo: number, hi: number, fn: (i: number) => void): void {
    if (this.n === 0) return;
    const from = Math.max(lo, this.floor, this.base);
    const to = Math.min(hi, this.base + this.n * 32 - 1);
    if (from > to) return;
    let w = Math.floor((from - this.base) / 32);
    const wEnd = Math.floor((to - this.base) / 32);
    for (; w <= wEnd; w++) {
      let bits = this.words[w] as number;
      if (bits === 0) continue;
      const wBase = this.base + w * 32;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits); // lowest set bit
        bits = (bits & (bits - 1)) >>> 0;
        const i = wBase + b;
        if (i < from) continue;
        if (i > to) return;
        fn(i);
      }
    }
  }

  /** The lowest and highest index present, or null when empty. */
  bounds(): [number, number] | null {
    let lo = -1;
    this.forEachWord((i) => {
      lo = i;
      return false;
    }, false);
    if (lo < 0) return null;
    let hi = lo;
    this.forEachWord((i) => {
      hi = i;
      return false;
    }, true);
    return [lo, hi];
  }

  /** Bytes held, for the memory gauge. */
  bytes(): number {
    return this.words.byteLength;
  }

  private forEachWord(fn: (i: number) => boolean, reverse: boolean): void {
    const minI = Math.max(this.floor, this.base);
    for (let k = 0; k < this.n; k++) {
      const w = reverse ? this.n - 1 - k : k;
      let bits = this.words[w] as number;
      const wBase = this.base + w * 32;
      // mask out pruned bits
      if (wBase < minI) bits = minI - wBase >= 32 ? 0 : (bits & ~((1 << (minI - wBase)) - 1)) >>> 0;
      if (bits === 0) continue;
      const b = reverse ? 31 - Math.clz32(bits) : 31 - Math.clz32(bits & -bits);
      if (!fn(wBase + b)) return;
    }
  }

  private grow(minWords: number): void {
    let cap = this.words.length * 2;
    while (cap < minWords) cap *= 2;
    const w = new Uint32Array(cap);
    w.set(this.words.subarray(0, this.n));
    this.words = w;
  }

  private growFront(k: number): void {
    const w = new Uint32Array(Math.max(this.words.length, this.n + k) * 2);
    w.set(this.words.subarray(0, this.n), k);
    this.words = w;
    this.n += k;
    this.base -= k * 32;
  }
}

/** Sorted, disjoint, non-adjacent [lo, hi) ranges; adding merges. */
export function addRange(ranges: Array<[number, number]>, lo: number, hi: number): void {
  if (hi <= lo) return;
  let i = 0;
  while (i < ranges.length && (ranges[i] as [number, number])[1] < lo) i++;
  let j = i;
  while (j < ranges.length && (ranges[j] as [number, number])[0] <= hi) {
    const r = ranges[j] as [number, number];
    lo = Math.min(lo, r[0]);
    hi = Math.max(hi, r[1]);
    j++;
  }
  ranges.splice(i, j - i, [lo, hi]);
}

function rangesContain(ranges: ReadonlyArray<readonly [number, number]>, x: number): boolean {
  for (const [lo, hi] of ranges) {
    if (x < lo) return false;
    if (x < hi) return true;
  }
  return false;
}

function overlap(ranges: ReadonlyArray<readonly [number, number]>, lo: number, hi: number): number {
  let n = 0;
  for (const [a, b] of ranges) n += Math.max(0, Math.min(b, hi) - Math.max(a, lo));
  return n;
}

/** The acks of one writer's shard: series [lo, hi). */
export class ShardAcks {
  readonly lo: number;
  readonly hi: number;
  private readonly step: number;
  private readonly ticks = new GridBitmap();
  private readonly partial = new Map<number, Array<[number, number]>>();
  /** The last tick the writer finished: acks of ticks up to it are final. */
  doneT = -Infinity;

  constructor(lo: number, hi: number, stepMs: number) {
    this.lo = lo;
    this.hi = hi;
    this.step = stepMs;
  }

  /** Records a finished tick with the series ranges acked in it (sorted, merged, within the shard). */
  record(t: number, acked: ReadonlyArray<readonly [number, number]>): void {
    const i = t / this.step;
    if (!Number.isInteger(i)) throw new RangeError(`timestamp ${t} is not a multiple of the write interval ${this.step}`);
    const n = overlap(acked, this.lo, this.hi);
    if (n > 0) {
      this.ticks.add(i);
      if (n < this.hi - this.lo) this.partial.set(i, acked.map(([a, b]) => [a, b]));
    }
    if (t > this.doneT) this.doneT = t;
  }

  isAcked(id: number, t: number): boolean {
    if (id < this.lo || id >= this.hi) return false;
    const i = t / this.step;
    if (!Number.isInteger(i) || !this.ticks.has(i)) return false;
    const p = this.partial.get(i);
    return p === undefined || rangesContain(p, id);
  }

  /** Calls fn for each acked timestamp of series id in [fromT, toT], in increasing order. */
  forEachAcked(id: number, fromT: number, toT: number, fn: (t: number) => void): void {
    if (id < this.lo || id >= this.hi) return;
    this.ticks.forEach(Math.ceil(fromT / this.step), Math.floor(toT / this.step), (i) => {
      const p = this.partial.get(i);
      if (p === undefined || rangesContain(p, id)) fn(i * this.step);
    });
  }

  /** Acked samples of series [lo, hi) with timestamps in [fromT, toT]. */
  countAcked(lo: number, hi: number, fromT: number, toT: number): number {
    const a = Math.max(lo, this.lo);
    const b = Math.min(hi, this.hi);
    if (a >= b) return 0;
    let n = 0;
    this.ticks.forEach(Math.ceil(fromT / this.step), Math.floor(toT / this.step), (i) => {
      const p = this.partial.get(i);
      n += p === undefined ? b - a : overlap(p, a, b);
    });
    return n;
  }

  /** Oldest and newest acked tick, or null. */
  bounds(): [number, number] | null {
    const b = this.ticks.bounds();
    return b === null ? null : [b[0] * this.step, b[1] * this.step];
  }

  prune(minT: number): void {
    const i = Math.ceil(minT / this.step);
    this.ticks.pruneBelow(i);
    for (const k of this.partial.keys()) if (k < i) this.partial.delete(k);
  }

  bytes(): number {
    return this.ticks.bytes() + this.partial.size * 64;
  }
}

/** The acks of every shard. Shards split [0, numSeries) into `shards` contiguous ranges. */
export class AckLog {
  readonly numSeries: number;
  readonly stepMs: number;
  readonly shards: readonly ShardAcks[];

  constructor(numSeries: number, shards: number, stepMs: number) {
    this.numSeries = numSeries;
    this.stepMs = stepMs;
    const k = Math.max(1, Math.min(shards, numSeries));
    const out: ShardAcks[] = [];
    for (let s = 0; s < k; s++) out.push(new ShardAcks(Math.floor((s * numSeries) / k), Math.floor(((s + 1) * numSeries) / k), stepMs));
    this.shards = out;
  }

  shardOf(id: number): ShardAcks | undefined {
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.shards[mid] as ShardAcks;
      if (id < s.lo) hi = mid - 1;
      else if (id >= s.hi) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** Each shard's doneT now: a reader checks only ticks up to them (acks after it started may be missing from what it read). */
  cuts(): Cuts {
    return new Cuts(this, this.shards.map((s) => s.doneT));
  }

  /** Oldest and newest acked tick over all shards, or null. */
  bounds(): [number, number] | null {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of this.shards) {
      const b = s.bounds();
      if (b === null) continue;
      lo = Math.min(lo, b[0]);
      hi = Math.max(hi, b[1]);
    }
    return lo === Infinity ? null : [lo, hi];
  }

  prune(minT: number): void {
    for (const s of this.shards) s.prune(minT);
  }

  bytes(): number {
    let n = 0;
    for (const s of this.shards) n += s.bytes();
    return n;
  }
}

/** The acks as they stood at one moment: per shard, ticks after the cut are left out. */
export class Cuts {
  private readonly log: AckLog;
  private readonly doneT = new Map<ShardAcks, number>();

  constructor(log: AckLog, doneT: readonly number[]) {
    this.log = log;
    log.shards.forEach((s, i) => this.doneT.set(s, doneT[i] ?? -Infinity));
  }

  private cutOf(s: ShardAcks): number {
    return this.doneT.get(s) ?? -Infinity;
  }

  /** The newest finished tick over all shards (-Infinity when none). */
  maxDone(): number {
    let m = -Infinity;
    for (const t of this.doneT.values()) m = Math.max(m, t);
    return m;
  }

  isAcked(id: number, t: number): boolean {
    const s = this.log.shardOf(id);
    return s !== undefined && t <= this.cutOf(s) && s.isAcked(id, t);
  }

  forEachAcked(id: number, fromT: number, toT: number, fn: (t: number) => void): void {
    const s = this.log.shardOf(id);
    if (s === undefined) return;
    s.forEachAcked(id, fromT, Math.min(toT, this.cutOf(s)), fn);
  }

  countAcked(lo: number, hi: number, fromT: number, toT: number): number {
    let n = 0;
    for (const s of this.log.shards) {
      if (s.hi <= lo || s.lo >= hi) continue;
      n += s.countAcked(lo, hi, fromT, Math.min(toT, this.cutOf(s)));
    }
    return n;
  }
}
