// Growable typed-array columns used while decoding. Each doubles its capacity when full; a
// decoder fills a reused set of them and copies the filled parts out (`copy()`) at the end, so a
// decode allocates each result array once, at its exact size.

/** What a decoder needs of every column: emptying it for reuse, and its sizes. */
export interface Column {
  n: number;
  readonly a: { readonly byteLength: number; readonly BYTES_PER_ELEMENT: number };
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * One exact-size allocation that holds every result column of a decode, each at an 8-byte
 * aligned offset: one allocation per decode instead of one per column (measured: a zeroed
 * ArrayBuffer is as fast here as an uninitialized one, whose padding would need clearing).
 */
export class Arena {
  readonly buffer: ArrayBuffer;
  private off = 0;
  constructor(columns: readonly Column[]) {
    let total = 0;
    for (const c of columns) total += align8(c.n * c.a.BYTES_PER_ELEMENT);
    this.buffer = new ArrayBuffer(total);
  }
  take(bytes: number): number {
    const o = this.off;
    this.off = align8(o + bytes);
    return o;
  }
}

/** True on little-endian hosts (every platform Node ships for today except s390x). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class U32Col {
  a: Uint32Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Uint32Array(Math.max(cap, 8));
  }
  push(v: number): void {
    if (this.n === this.a.length) this.grow();
    this.a[this.n++] = v;
  }
  /** Makes room for k more elements (so a caller may write a[n .. n+k) directly). */
  reserve(k: number): void {
    while (this.n + k > this.a.length) this.grow();
  }
  push2(v1: number, v2: number): void {
    if (this.n + 2 > this.a.length) this.grow();
    const a = this.a;
    const n = this.n;
    a[n] = v1;
    a[n + 1] = v2;
    this.n = n + 2;
  }
  private grow(): void {
    const b = new Uint32Array(this.a.length * 2);
    b.set(this.a);
    this.a = b;
  }
  /** The filled part, without copying. */
  view(): Uint32Array {
    return this.a.subarray(0, this.n);
  }
  /** The filled part, copied into the arena (bit-exact, also for NaNs). */
  copy(arena: Arena): Uint32Array {
    const v = new Uint32Array(arena.buffer, arena.take(this.n * 4), this.n);
    v.set(this.a.subarray(0, this.n));
    return v;
  }
}

export class I32Col {
  a: Int32Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Int32Array(Math.max(cap, 8));
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  /** The filled part, copied into the arena (bit-exact, also for NaNs). */
  copy(arena: Arena): Int32Array {
    const v = new Int32Array(arena.buffer, arena.take(this.n * 4), this.n);
    v.set(this.a.subarray(0, this.n));
    return v;
  }
}

export class U8Col {
  a: Uint8Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Uint8Array(Math.max(cap, 8));
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint8Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  /** The filled part, copied into the arena (bit-exact, also for NaNs). */
  copy(arena: Arena): Uint8Array {
    const v = new Uint8Array(arena.buffer, arena.take(this.n * 1), this.n);
    v.set(this.a.subarray(0, this.n));
    return v;
  }
}

/**
 * A Float64Array column that can also be filled with the raw little-endian bytes of a wire
 * double: those bytes are copied, never passed through a JS number, so NaN payloads survive.
 */
export class F64Col {
  a: Float64Array;
  b: Uint8Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Float64Array(Math.max(cap, 8));
    this.b = new Uint8Array(this.a.buffer);
  }
  private grow(): void {
    const a = new Float64Array(this.a.length * 2);
    a.set(this.a); // Float64Array -> Float64Array set() copies bytes (memmove)
    this.a = a;
    this.b = new Uint8Array(a.buffer);
  }
  push(v: number): void {
    if (this.n === this.a.length) this.grow();
    this.a[this.n++] = v;
  }
  /** Appends the wire double at src[p..p+8); p < 0 appends +0. */
  pushWire(src: Uint8Array, p: number): void {
    if (this.n === this.a.length) this.grow();
    const i = this.n++;
    if (p < 0) {
      this.a[i] = 0;
      return;
    }
    writeWire(this.b, i << 3, src, p);
  }
  /** Overwrites element i with the wire double at src[p..p+8). */
  setWire(i: number, src: Uint8Array, p: number): void {
    writeWire(this.b, i << 3, src, p);
  }
  /** The filled part, copied into the arena (bit-exact, also for NaNs). */
  copy(arena: Arena): Float64Array {
    const v = new Float64Array(arena.buffer, arena.take(this.n * 8), this.n);
    v.set(this.a.subarray(0, this.n));
    return v;
  }
}

function writeWire(d: Uint8Array, o: number, s: Uint8Array, p: number): void {
  if (LITTLE_ENDIAN) {
    d[o] = s[p]!;
    d[o + 1] = s[p + 1]!;
    d[o + 2] = s[p + 2]!;
    d[o + 3] = s[p + 3]!;
    d[o + 4] = s[p + 4]!;
    d[o + 5] = s[p + 5]!;
    d[o + 6] = s[p + 6]!;
    d[o + 7] = s[p + 7]!;
  } else {
    for (let k = 0; k < 8; k++) d[o + k] = s[p + 7 - k]!;
  }
}
