// An expanded list of series values (one per position: nothing, a float or a histogram). Floats
// live in a Float64Array and are copied by their 32-bit halves, so NaN payloads (the stale marker
// 0x7ff0000000000002) survive exactly; they never pass through a plain JS array.
import type { FloatHistogram } from '../value.js';

export const Slot = { Omitted: 0, Float: 1, Histogram: 2 } as const;
export type Slot = (typeof Slot)[keyof typeof Slot];

/** A histogram value of a series description, and whether `counter_reset_hint:` was written. */
export interface HistValue {
  readonly h: FloatHistogram;
  readonly hintSet: boolean;
}

const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

export class Sequence {
  length = 0;
  kinds: Uint8Array;
  floats: Float64Array;
  #words: Uint32Array;
  readonly hists: (HistValue | undefined)[] = [];

  constructor(capacity = 8) {
    this.kinds = new Uint8Array(capacity);
    this.floats = new Float64Array(capacity);
    this.#words = new Uint32Array(this.floats.buffer);
  }

  #grow(extra: number): void {
    const need = this.length + extra;
    if (need <= this.kinds.length) return;
    let cap = this.kinds.length * 2;
    while (cap < need) cap *= 2;
    const k = new Uint8Array(cap);
    k.set(this.kinds);
    const f = new Float64Array(cap);
    new Uint32Array(f.buffer).set(this.#words); // bit-exact copy
    this.kinds = k;
    this.floats = f;
    this.#words = new Uint32Array(f.buffer);
  }

  kind(i: number): Slot {
    return this.kinds[i] as Slot;
  }

  pushOmitted(n = 1): void {
    this.#grow(n);
    for (let j = 0; j < n; j++) this.kinds[this.length++] = Slot.Omitted;
  }

  pushFloat(v: number): void {
    this.#grow(1);
    this.kinds[this.length] = Slot.Float;
    this.floats[this.length] = v;
    this.length++;
  }

  pushStale(): void {
    this.#grow(1);
    const i = this.length++;
    this.kinds[i] = Slot.Float;
    this.#words[2 * i + HI] = STALE_HI;
    this.#words[2 * i + LO] = STALE_LO;
  }

  pushHistogram(h: HistValue): void {
    this.#grow(1);
    this.kinds[this.length] = Slot.Histogram;
    this.hists[this.length] = h;
    this.length++;
  }

  /** Appends every position of `other` (float bits copied exactly). */
  append(other: Sequence): void {
    this.#grow(other.length);
    const ow = other.#words;
    for (let i = 0; i < other.length; i++) {
      const j = this.length++;
      const k = other.kinds[i] as Slot;
      this.kinds[j] = k;
      if (k === Slot.Float) {
        this.#words[2 * j] = ow[2 * i] as number;
        this.#words[2 * j + 1] = ow[2 * i + 1] as number;
      } else if (k === Slot.Histogram) {
        this.hists[j] = other.hists[i];
      }
    }
  }

  isStale(i: number): boolean {
    return this.kinds[i] === Slot.Float && this.#words[2 * i + HI] === STALE_HI && this.#words[2 * i + LO] === STALE_LO;
  }

  /** Copies the float at position i into dst[j] bit for bit. */
  copyFloatTo(i: number, dst: Uint32Array, j: number): void {
    dst[2 * j] = this.#words[2 * i] as number;
    dst[2 * j + 1] = this.#words[2 * i + 1] as number;
  }

  histogram(i: number): HistValue | undefined {
    return this.kinds[i] === Slot.Histogram ? this.hists[i] : undefined;
  }
}

/** Whether the float64 at index i of the array whose 32-bit view is `words` is the stale marker. */
export function wordsAreStale(words: Uint32Array, i: number): boolean {
  return words[2 * i + HI] === STALE_HI && words[2 * i + LO] === STALE_LO;
}

const SCRATCH = new Float64Array(1);
const SCRATCH_W = new Uint32Array(SCRATCH.buffer);

/** Whether a number is exactly the stale-marker NaN (valid only if its bits were preserved). */
export function isStaleNumber(v: number): boolean {
  SCRATCH[0] = v;
  return SCRATCH_W[HI] === STALE_HI && SCRATCH_W[LO] === STALE_LO;
}
