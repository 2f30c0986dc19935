// In-memory postings of the head: label name -> label value -> sorted list of series refs, plus
// the list of all series refs (Prometheus's AllPostingsKey, {"", ""}).
//
// Memory layout: a value that only one series has (common for high-cardinality labels) stores the
// ref itself as a number; otherwise a RefList holds a Uint32Array with slack for appends. Refs
// grow monotonically as the head creates series, so adding appends in place; an out-of-order add
// inserts.
//
// Snapshots: get() returns a view of a list's buffer. Lists are append-only in place and
// copy-on-write for anything else (insert in the middle, delete), so a view never changes after it
// is handed out: appends land past its end, and deletes build a new buffer. A query can hold a view
// across an await while ingestion and GC go on. Views are read-only by contract: never write to one.
import { compareStrings } from '../labels/strings.js';
import type { Labels } from '../labels/labels.js';
import { MuninnError } from '../../errors/index.js';
import { EMPTY_POSTINGS, lowerBound, subtract, unionAll } from './postings-ops.js';

/** Largest series ref the postings can hold (refs are stored as uint32). */
export const MAX_SERIES_REF = 0xffffffff;

class RefList {
  buf: Uint32Array;
  len: number;
  constructor(cap: number) {
    this.buf = new Uint32Array(cap);
    this.len = 0;
  }
  view(): Uint32Array {
    return this.buf.subarray(0, this.len);
  }
}

type Entry = number | RefList;

function nextCap(n: number): number {
  return n < 8 ? 8 : n < 4096 ? n * 2 : n + (n >>> 1);
}

/** Adds ref to list; returns false when it was already there. */
function insert(list: RefList, ref: number): boolean {
  const n = list.len;
  const buf = list.buf;
  if (n === 0 || ref > (buf[n - 1] as number)) {
    if (n === buf.length) {
      const grown = new Uint32Array(nextCap(n));
      grown.set(buf);
      list.buf = grown;
    }
    list.buf[n] = ref;
    list.len = n + 1;
    return true;
  }
  const at = lowerBound(buf, 0, n, ref);
  if (buf[at] === ref) return false;
  // Copy-on-write: views of the old buffer stay valid.
  const next = new Uint32Array(n + 1 > buf.length ? nextCap(n + 1) : buf.length);
  next.set(buf.subarray(0, at));
  next[at] = ref;
  next.set(buf.subarray(at, n), at + 1);
  list.buf = next;
  list.len = n + 1;
  return true;
}

/** `a` if it spans its whole buffer, else a copy that does (no hidden slack held by a list). */
function exact(a: Uint32Array): Uint32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}

function checkRef(ref: number): void {
  if (!Number.isInteger(ref) || ref < 0 || ref > MAX_SERIES_REF) {
    throw new MuninnError('internal', `series ref ${ref} out of range [0, ${MAX_SERIES_REF}]`);
  }
}

export interface PostingsStats {
  /** Label names with at least one value. */
  labelNames: number;
  /** Distinct (name, value) pairs. */
  labelPairs: number;
  /** Pairs held inline as a single ref (no list). */
  inlinePairs: number;
  /** Refs over all (name, value) lists, not counting the all-series list. */
  entries: number;
  /** Series in the all-series list. */
  series: number;
  /** Bytes of list buffers (capacity, including slack). */
  bufferBytes: number;
}

export class MemPostings {
  private readonly m = new Map<string, Map<string, Entry>>();
  private readonly all = new RefList(64);

  /** Number of series (refs in the all-series list). */
  get numSeries(): number {
    return this.all.len;
  }

  /** Indexes series `ref` under each of its labels. Labels with an empty value are skipped. */
  add(ref: number, ls: Labels): void {
    checkRef(ref);
    insert(this.all, ref);
    for (let i = 0; i < ls.length; i += 2) {
      const name = ls[i] as string;
      const value = ls[i + 1] as string;
      if (value === '') continue;
      let values = this.m.get(name);
      if (values === undefined) {
        values = new Map();
        this.m.set(name, values);
      }
      const e = values.get(value);
      if (e === undefined) {
        values.set(value, ref);
      } else if (typeof e === 'number') {
        if (e !== ref) {
          const list = new RefList(4);
          list.buf[0] = e < ref ? e : ref;
          list.buf[1] = e < ref ? ref : e;
          list.len = 2;
          values.set(value, list);
        }
      } else {
        insert(e, ref);
      }
    }
  }

  /** Removes one series. Costs a pass over each of its lists: use deleteMany() for a GC batch. */
  delete(ref: number, ls: Labels): void {
    this.deleteMany([ref], () => ls);
  }

  /**
   * Removes a batch of series; labelsOf(ref) gives each one's label set (undefined: skip). Each
   * affected list is rebuilt once (copy-on-write), whatever the number of its refs removed.
   */
  deleteMany(refs: ArrayLike<number>, labelsOf: (ref: number) => Labels | undefined): void {
    if (refs.length === 0) return;
    const del = Uint32Array.from(refs).sort();
    const touched = new Map<RefList, { values: Map<string, Entry>; name: string; value: string }>();
    for (let r = 0; r < refs.length; r++) {
      const ref = refs[r] as number;
      const ls = labelsOf(ref);
      if (ls === undefined) continue;
      for (let i = 0; i < ls.length; i += 2) {
        const name = ls[i] as string;
        const value = ls[i + 1] as string;
        const values = this.m.get(name);
        const e = values?.get(value);
        if (values === undefined || e === undefined) continue;
        if (typeof e === 'number') {
          if (e === ref) {
            values.delete(value);
            if (values.size === 0) this.m.delete(name);
          }
        } else if (!touched.has(e)) {
          touched.set(e, { values, name, value });
        }
      }
    }
    for (const [list, where] of touched) {
      const kept = subtract(list.view(), del);
      if (kept.length === 0) {
        where.values.delete(where.value);
        if (where.values.size === 0 && this.m.get(where.name) === where.values) this.m.delete(where.name);
      } else if (kept.length === 1) {
        where.values.set(where.value, kept[0] as number);
      } else if (kept.length !== list.len) {
        list.buf = exact(kept);
        list.len = kept.length;
      }
    }
    const all = subtract(this.all.view(), del);
    if (all.length !== this.all.len) {
      this.all.buf = all.length === 0 ? new Uint32Array(64) : exact(all);
      this.all.len = all.length;
    }
  }

  /**
   * The refs of series with label name=value, sorted. get('', '') is the all-series list.
   * The result is a read-only snapshot (see the file comment).
   */
  get(name: string, value: string): Uint32Array {
    if (name === '' && value === '') return this.all.view();
    return this.postingsFor(name, value);
  }

  /** The all-series list (read-only snapshot). */
  allPostings(): Uint32Array {
    return this.all.view();
  }

  /** Like get() without the all-series special case. */
  postingsFor(name: string, value: string): Uint32Array {
    const e = this.m.get(name)?.get(value);
    if (e === undefined) return EMPTY_POSTINGS;
    return typeof e === 'number' ? Uint32Array.of(e) : e.view();
  }

  /** The union of the lists of name=v for each v in `values` (a new array). */
  postingsForValues(name: string, values: readonly string[]): Uint32Array {
    const byValue = this.m.get(name);
    if (byValue === undefined) return EMPTY_POSTINGS;
    const lists: Uint32Array[] = [];
    const singles: number[] = [];
    for (const v of values) {
      const e = byValue.get(v);
      if (e === undefined) continue;
      if (typeof e === 'number') singles.push(e);
      else lists.push(e.view());
    }
    if (singles.length > 0) lists.push(Uint32Array.from(singles).sort());
    return unionAll(lists);
  }

  /** The union of the lists of name=v for each value v of `name` with keep(v) (a new array). */
  postingsWhere(name: string, keep: (value: string) => boolean): Uint32Array {
    const byValue = this.m.get(name);
    if (byValue === undefined) return EMPTY_POSTINGS;
    const lists: Uint32Array[] = [];
    const singles: number[] = [];
    for (const [v, e] of byValue) {
      if (!keep(v)) continue;
      if (typeof e === 'number') singles.push(e);
      else lists.push(e.view());
    }
    if (singles.length > 0) lists.push(Uint32Array.from(singles).sort());
    return unionAll(lists);
  }

  /** Calls fn for each value of `name` with its postings; stops when fn returns false. */
  forEachValue(name: string, fn: (value: string, postings: Uint32Array) => boolean | void): void {
    const byValue = this.m.get(name);
    if (byValue === undefined) return;
    for (const [v, e] of byValue) {
      if (fn(v, typeof e === 'number' ? Uint32Array.of(e) : e.view()) === false) return;
    }
  }

  /** Label names with at least one series, sorted. */
  labelNames(): string[] {
    return [...this.m.keys()].sort(compareStrings);
  }

  /** Values of label `name`, sorted. */
  labelValues(name: string): string[] {
    const byValue = this.m.get(name);
    return byValue === undefined ? [] : [...byValue.keys()].sort(compareStrings);
  }

  /** Values of label `name`, in no particular order (cheaper when the caller filters first). */
  labelValuesUnsorted(name: string): string[] {
    const byValue = this.m.get(name);
    return byValue === undefined ? [] : [...byValue.keys()];
  }

  hasLabelName(name: string): boolean {
    return this.m.has(name);
  }

  /** Drops the append slack of every list (e.g. after WAL replay). Views stay valid. */
  shrinkToFit(): void {
    for (const byValue of this.m.values()) {
      for (const e of byValue.values()) {
        if (typeof e !== 'number' && e.buf.length > e.len) e.buf = e.buf.slice(0, e.len);
      }
    }
    if (this.all.buf.length > this.all.len && this.all.len > 0) this.all.buf = this.all.buf.slice(0, this.all.len);
  }

  stats(): PostingsStats {
    let labelPairs = 0;
    let inlinePairs = 0;
    let entries = 0;
    let bufferBytes = this.all.buf.byteLength;
    for (const byValue of this.m.values()) {
      for (const e of byValue.values()) {
        labelPairs++;
        if (typeof e === 'number') {
          inlinePairs++;
          entries++;
        } else {
          entries += e.len;
          bufferBytes += e.buf.byteLength;
        }
      }
    }
    return { labelNames: this.m.size, labelPairs, inlinePairs, entries, series: this.all.len, bufferBytes };
  }
}
