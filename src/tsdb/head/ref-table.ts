// Series by ref. Refs are handed out densely from 1, so a plain array indexed by ref costs one
// pointer per series, where a Map costs several words per entry.
import type { MemSeries } from './series.js';

export class RefTable {
  private readonly slots: Array<MemSeries | undefined> = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(ref: number): MemSeries | undefined {
    return this.slots[ref];
  }

  has(ref: number): boolean {
    return this.slots[ref] !== undefined;
  }

  set(ref: number, s: MemSeries): void {
    if (this.slots[ref] === undefined) this.count++;
    // fill up to ref first so the array stays packed (holey only by deletions)
    while (this.slots.length < ref) this.slots.push(undefined);
    this.slots[ref] = s;
  }

  delete(ref: number): void {
    if (this.slots[ref] === undefined) return;
    this.slots[ref] = undefined;
    this.count--;
  }

  *values(): IterableIterator<MemSeries> {
    for (const s of this.slots) if (s !== undefined) yield s;
  }
}
