// Set operations on postings: sorted, duplicate-free Uint32Arrays of series refs.
//
// Every function returns a new array (possibly a subarray of a new buffer) and never one of its
// inputs, so callers own results. They allocate the result (sized by an upper bound, trimmed) and
// nothing per element. When one side is much shorter than the other, they gallop (exponential then
// binary search) through the longer one instead of walking it.

/** A zero-length postings list (safe to share: it has no elements to change). */
export const EMPTY_POSTINGS: Uint32Array = new Uint32Array(0);

const GALLOP_RATIO = 8;

/** Trims `out` to its first n elements, copying only when that frees most of the buffer. */
function fit(out: Uint32Array, n: number): Uint32Array {
  if (n === out.length) return out;
  if (n === 0) return EMPTY_POSTINGS;
  return n >= out.length >>> 1 ? out.subarray(0, n) : out.slice(0, n);
}

/** First index i in [from, to) with a[i] >= x (to when none). */
export function lowerBound(a: Uint32Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i >= from with a[i] >= x, by exponential then binary search. */
export function gallop(a: Uint32Array, from: number, x: number): number {
  const n = a.length;
  if (from >= n || (a[from] as number) >= x) return from;
  let step = 1;
  let lo = from;
  let hi = from + 1;
  while (hi < n && (a[hi] as number) < x) {
    lo = hi;
    step <<= 1;
    hi = from + step;
  }
  return lowerBound(a, lo + 1, hi < n ? hi + 1 : n, x);
}

/** a ∩ b. */
export function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) {
    const t = a;
    a = b;
    b = t;
  }
  const na = a.length;
  const nb = b.length;
  if (na === 0) return EMPTY_POSTINGS;
  if ((a[na - 1] as number) < (b[0] as number) || (b[nb - 1] as number) < (a[0] as number)) return EMPTY_POSTINGS;
  const out = new Uint32Array(na);
  let n = 0;
  if (nb > na * GALLOP_RATIO) {
    // Leapfrog: gallop whichever side is behind, so clustered refs skip whole runs.
    let i = 0;
    let j = 0;
    while (i < na && j < nb) {
      const x = a[i] as number;
      const y = b[j] as number;
      if (x === y) {
        out[n++] = x;
        i++;
        j++;
      } else if (x < y) i = gallop(a, i + 1, y);
      else j = gallop(b, j + 1, x);
    }
    return fit(out, n);
  }
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      out[n++] = x;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return fit(out, n);
}

/** Whether a ∩ b is non-empty (stops at the first common ref). */
export function intersects(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length > b.length) {
    const t = a;
    a = b;
    b = t;
  }
  const na = a.length;
  const nb = b.length;
  if (na === 0) return false;
  if ((a[na - 1] as number) < (b[0] as number) || (b[nb - 1] as number) < (a[0] as number)) return false;
  // Leapfrog, galloping whichever side is behind.
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) return true;
    if (x < y) i = gallop(a, i + 1, y);
    else j = gallop(b, j + 1, x);
  }
  return false;
}

/** The intersection of all lists (shortest first; stops once empty). No lists: empty. */
export function intersectAll(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  if (lists.length === 1) return (lists[0] as Uint32Array).slice();
  const byLen = lists.slice().sort((x, y) => x.length - y.length);
  let r = intersect(byLen[0] as Uint32Array, byLen[1] as Uint32Array);
  for (let k = 2; k < byLen.length && r.length > 0; k++) r = intersect(r, byLen[k] as Uint32Array);
  return r;
}

/** a ∪ b. */
export function union(a: Uint32Array, b: Uint32Array): Uint32Array {
  const na = a.length;
  const nb = b.length;
  if (na === 0) return b.slice();
  if (nb === 0) return a.slice();
  const out = new Uint32Array(na + nb);
  if ((a[na - 1] as number) < (b[0] as number)) {
    out.set(a);
    out.set(b, na);
    return out;
  }
  if ((b[nb - 1] as number) < (a[0] as number)) {
    out.set(b);
    out.set(a, nb);
    return out;
  }
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < na && j < nb) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (y < x) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  if (i < na) {
    out.set(a.subarray(i), n);
    n += na - i;
  }
  if (j < nb) {
    out.set(b.subarray(j), n);
    n += nb - j;
  }
  return fit(out, n);
}

/**
 * The union of all lists. Two lists merge; more go through a bitmap over [min, max] when the refs
 * are dense enough (one bit per ref in the range), else a concatenation, a numeric sort and an
 * in-place dedupe.
 */
export function unionAll(lists: readonly Uint32Array[]): Uint32Array {
  let k = 0;
  let total = 0;
  let lo = 0xffffffff;
  let hi = 0;
  let first: Uint32Array | undefined;
  let second: Uint32Array | undefined;
  for (const l of lists) {
    if (l.length === 0) continue;
    k++;
    if (first === undefined) first = l;
    else if (second === undefined) second = l;
    total += l.length;
    const a = l[0] as number;
    const b = l[l.length - 1] as number;
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  }
  if (first === undefined) return EMPTY_POSTINGS;
  if (second === undefined) return first.slice();
  if (k === 2) return union(first, second);
  const range = hi - lo + 1;
  if (range <= total * 64) {
    const words = new Uint32Array((range + 31) >>> 5);
    for (const l of lists) {
      for (let i = 0; i < l.length; i++) {
        const d = (l[i] as number) - lo;
        words[d >>> 5] = (words[d >>> 5] as number) | (1 << (d & 31));
      }
    }
    const out = new Uint32Array(total < range ? total : range);
    let n = 0;
    for (let w = 0; w < words.length; w++) {
      let bits = (words[w] as number) | 0;
      const base = lo + w * 32;
      while (bits !== 0) {
        const t = bits & -bits;
        out[n++] = base + 31 - Math.clz32(t);
        bits ^= t;
      }
    }
    return fit(out, n);
  }
  const out = new Uint32Array(total);
  let off = 0;
  for (const l of lists) {
    out.set(l, off);
    off += l.length;
  }
  out.sort();
  let n = 1;
  for (let i = 1; i < total; i++) {
    const x = out[i] as number;
    if (x !== out[n - 1]) out[n++] = x;
  }
  return fit(out, n);
}

/** a \ b. */
export function subtract(a: Uint32Array, b: Uint32Array): Uint32Array {
  const na = a.length;
  const nb = b.length;
  if (na === 0) return EMPTY_POSTINGS;
  if (nb === 0 || (a[na - 1] as number) < (b[0] as number) || (b[nb - 1] as number) < (a[0] as number)) return a.slice();
  const out = new Uint32Array(na);
  let n = 0;
  if (na > nb * GALLOP_RATIO) {
    // Few refs to remove: find each in `a` and copy the runs between them.
    let i = 0;
    for (let j = 0; j < nb && i < na; j++) {
      const y = b[j] as number;
      const at = gallop(a, i, y);
      if (at > i) {
        out.set(a.subarray(i, at), n);
        n += at - i;
      }
      i = at < na && a[at] === y ? at + 1 : at;
    }
    if (i < na) {
      out.set(a.subarray(i), n);
      n += na - i;
    }
    return fit(out, n);
  }
  if (nb > na * GALLOP_RATIO) {
    let j = 0;
    for (let i = 0; i < na; i++) {
      const x = a[i] as number;
      j = gallop(b, j, x);
      if (j === nb || b[j] !== x) out[n++] = x;
    }
    return fit(out, n);
  }
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (x === y) {
      i++;
      j++;
    } else j++;
  }
  while (i < na) out[n++] = a[i++] as number;
  return fit(out, n);
}
