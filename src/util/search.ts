// Go's sort.Search, for code that follows Prometheus's use of it.

/** The smallest i in [0, n) for which pred(i) holds, or n; pred must be false, then true. */
export function search(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
