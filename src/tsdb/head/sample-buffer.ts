// A growable, sorted-by-time list of (t, v) float samples in Float64Arrays. Typed arrays keep
// every NaN bit pattern (plain arrays may not), so the stale marker survives.
export class SampleBuffer {
  t: Float64Array;
  v: Float64Array;
  length = 0;

  constructor(capacity = 16) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  push(t: number, v: number): void {
    if (this.length === this.t.length) this.grow();
    this.t[this.length] = t;
    this.v[this.length] = v;
    this.length++;
  }

  /** First index whose time is >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.t[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insertAt(i: number, t: number, v: number): void {
    if (this.length === this.t.length) this.grow();
    this.t.copyWithin(i + 1, i, this.length);
    this.v.copyWithin(i + 1, i, this.length);
    this.t[i] = t;
    this.v[i] = v;
    this.length++;
  }

  /** Removes the samples older than t. */
  dropBefore(t: number): void {
    const k = this.lowerBound(t);
    if (k === 0) return;
    this.t.copyWithin(0, k, this.length);
    this.v.copyWithin(0, k, this.length);
    this.length -= k;
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const cap = Math.max(4, this.t.length * 2);
    const t = new Float64Array(cap);
    const v = new Float64Array(cap);
    t.set(this.t.subarray(0, this.length));
    v.set(this.v.subarray(0, this.length));
    this.t = t;
    this.v = v;
  }
}
