// Hashes over label sets.
//
// 1. labelsHash / LabelsHasher: the head's series-lookup hash. A stable (no random seed, same in
//    every process and version of this file) 2x32-bit hash in the style of MurmurHash3 x86_128
//    (two lanes that feed each other, 32-bit words, fmix32 finalizer), returned as a 53-bit
//    integer so it can be a Map key without BigInt. It is defined over UTF-8 bytes: each name and
//    value followed by a 0xff byte (0xff never occurs in UTF-8, so {a="bc"} and {ab="c"} differ).
//    The wire decoder can therefore hash the label bytes of a remote-write request with
//    addBytes() and get the same value as labelsHash() over the decoded strings, without creating
//    strings for series the head already has. Collisions are possible (53 bits): the head must
//    confirm with labelsEqual().
// 2. FNV-1 32-bit (multiply, then xor): Mimir's series token for the ring, computed over the tenant
//    ID and then each label name and value in sorted order, with no separators.
import type { Labels } from './labels.js';

const SEED1 = 0x9747b28c;
const SEED2 = 0x3c6ef372;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Streaming label-set hasher. Feed each name and each value, in label order, with addString()
 * or addBytes() (each call is one field and appends the 0xff separator), then sum(). Reusable
 * after reset(); allocates nothing.
 */
export class LabelsHasher {
  private h1 = SEED1;
  private h2 = SEED2;
  private word = 0; // pending bytes, little-endian
  private nWord = 0; // how many bytes are pending (0..3)
  private total = 0; // bytes fed, mod 2^32

  reset(): this {
    this.h1 = SEED1;
    this.h2 = SEED2;
    this.word = 0;
    this.nWord = 0;
    this.total = 0;
    return this;
  }

  private mix(k: number): void {
    let k1 = Math.imul(k, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    let h1 = this.h1 ^ k1;
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + this.h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    let k2 = Math.imul(k, C3);
    k2 = (k2 << 16) | (k2 >>> 16);
    k2 = Math.imul(k2, C4);
    let h2 = this.h2 ^ k2;
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h1) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    this.h1 = h1;
    this.h2 = h2;
  }

  /** Feeds one field given as a string (hashed as its UTF-8 bytes), then the separator. */
  addString(s: string): this {
    // Bytes gather in a local 32-bit word; mix() runs once per 4 bytes.
    let w = this.word;
    let nw = this.nWord;
    let bytes = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        w |= c << (nw << 3);
        bytes++;
        if (++nw === 4) {
          this.mix(w);
          w = 0;
          nw = 0;
        }
        continue;
      }
      // Encode to 2..4 UTF-8 bytes packed little-endian in `enc`, then push them.
      let enc: number;
      let k: number;
      if (c < 0x800) {
        enc = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
        k = 2;
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const lo = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            i++;
          } else {
            c = 0xfffd; // lone surrogate: what Buffer.from / TextEncoder write
          }
        }
        if (c < 0x10000) {
          enc = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
          k = 3;
        } else {
          enc = (0xf0 | (c >> 18)) | ((0x80 | ((c >> 12) & 0x3f)) << 8) | ((0x80 | ((c >> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24);
          k = 4;
        }
      }
      bytes += k;
      for (; k > 0; k--) {
        w |= (enc & 0xff) << (nw << 3);
        enc >>>= 8;
        if (++nw === 4) {
          this.mix(w);
          w = 0;
          nw = 0;
        }
      }
    }
    this.word = w;
    this.nWord = nw;
    this.total = (this.total + bytes) | 0;
    this.sep();
    return this;
  }

  /** Feeds one field given as UTF-8 bytes [start, end), then the separator. */
  addBytes(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let w = this.word;
    let nw = this.nWord;
    for (let i = start; i < end; i++) {
      w |= (bytes[i] as number) << (nw << 3);
      if (++nw === 4) {
        this.mix(w);
        w = 0;
        nw = 0;
      }
    }
    this.word = w;
    this.nWord = nw;
    this.total = (this.total + (end - start)) | 0;
    this.sep();
    return this;
  }

  private sep(): void {
    this.word |= 0xff << (this.nWord << 3);
    this.total = (this.total + 1) | 0;
    if (++this.nWord === 4) {
      this.mix(this.word);
      this.word = 0;
      this.nWord = 0;
    }
  }

  /** The hash of what was fed so far: an integer in [0, 2^53). Does not change the state. */
  sum(): number {
    let h1 = this.h1;
    let h2 = this.h2;
    if (this.nWord > 0) {
      let k1 = Math.imul(this.word, C1);
      k1 = (k1 << 15) | (k1 >>> 17);
      h1 ^= Math.imul(k1, C2);
      let k2 = Math.imul(this.word, C3);
      k2 = (k2 << 16) | (k2 >>> 16);
      h2 ^= Math.imul(k2, C4);
    }
    h1 ^= this.total;
    h2 ^= this.total;
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h1) | 0;
    h1 = fmix32(h1);
    h2 = fmix32(h2);
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h1) | 0;
    return (h2 >>> 11) * 0x100000000 + (h1 >>> 0);
  }
}

const shared = new LabelsHasher();

/** The series-lookup hash of a label set (see the file comment); in [0, 2^53). */
export function labelsHash(ls: Labels): number {
  shared.reset();
  for (let i = 0; i < ls.length; i++) shared.addString(ls[i] as string);
  return shared.sum();
}

export const FNV1_32_OFFSET = 2166136261;
export const FNV1_32_PRIME = 16777619;

/** FNV-1 32-bit over bytes [start, end), continuing from `h` (default: the offset basis). */
export function fnv1_32(bytes: Uint8Array, h: number = FNV1_32_OFFSET, start = 0, end = bytes.length): number {
  for (let i = start; i < end; i++) {
    h = Math.imul(h, FNV1_32_PRIME) ^ (bytes[i] as number);
  }
  return h >>> 0;
}

/** FNV-1 32-bit over the UTF-8 bytes of `s`, continuing from `h`; allocates nothing. */
export function fnv1_32String(s: string, h: number = FNV1_32_OFFSET): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h, FNV1_32_PRIME) ^ c;
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h, FNV1_32_PRIME) ^ (0xc0 | (c >> 6));
      h = Math.imul(h, FNV1_32_PRIME) ^ (0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const lo = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
        h = Math.imul(h, FNV1_32_PRIME) ^ (0xf0 | (c >> 18));
        h = Math.imul(h, FNV1_32_PRIME) ^ (0x80 | ((c >> 12) & 0x3f));
        h = Math.imul(h, FNV1_32_PRIME) ^ (0x80 | ((c >> 6) & 0x3f));
        h = Math.imul(h, FNV1_32_PRIME) ^ (0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h, FNV1_32_PRIME) ^ (0xe0 | (c >> 12));
    h = Math.imul(h, FNV1_32_PRIME) ^ (0x80 | ((c >> 6) & 0x3f));
    h = Math.imul(h, FNV1_32_PRIME) ^ (0x80 | (c & 0x3f));
  }
  return h >>> 0;
}

/**
 * Mimir's ring token for a series (shard by all labels): FNV-1 32 over the tenant ID, then each
 * label name and value in sorted order, no separators, all as UTF-8 bytes.
 */
export function seriesToken(tenant: string, ls: Labels): number {
  let h = fnv1_32String(tenant);
  for (let i = 0; i < ls.length; i++) h = fnv1_32String(ls[i] as string, h);
  return h;
}
