// Snappy block-format decompression (no framing), for WAL records Prometheus wrote with
// --storage.tsdb.wal-compression (snappy is its default there). Muninn never compresses records.
//
// Block: uncompressed length <uvarint>, then elements. An element's tag byte has its kind in the
// low 2 bits:
//   0 literal: length-1 in the upper 6 bits, or 60..63 = length-1 in the next 1..4 bytes (LE)
//   1 copy: length 4 + bits 2-4, offset = bits 5-7 << 8 | next byte
//   2 copy: length 1 + upper 6 bits, offset <uint16 LE>
//   3 copy: length 1 + upper 6 bits, offset <uint32 LE>
// A copy repeats `length` bytes starting `offset` bytes back in the output (it may overlap itself).

/** Largest decompressed record accepted; guards against a corrupt length allocating gigabytes. */
export const MAX_DECOMPRESSED = 512 * 1024 * 1024;

/** The decompressed bytes, or a string naming what is wrong. */
export function snappyDecode(src: Uint8Array): Uint8Array | string {
  let p = 0;
  let n = 0;
  let mul = 1;
  for (let i = 0; ; i++) {
    if (p >= src.length || i >= 5) return 'snappy: bad length preamble';
    const c = src[p++] as number;
    n += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) break;
  }
  if (n > MAX_DECOMPRESSED) return `snappy: decompressed length ${n} too large`;
  const out = new Uint8Array(n);
  let o = 0;
  while (p < src.length) {
    const tag = src[p++] as number;
    let len: number;
    let off: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const k = len - 59;
          if (p + k > src.length) return 'snappy: truncated literal length';
          len = 0;
          for (let i = 0; i < k; i++) len += (src[p + i] as number) * 2 ** (8 * i);
          p += k;
        }
        len += 1;
        if (p + len > src.length || o + len > n) return 'snappy: literal overruns';
        out.set(src.subarray(p, p + len), o);
        p += len;
        o += len;
        continue;
      }
      case 1:
        if (p >= src.length) return 'snappy: truncated copy';
        len = 4 + ((tag >>> 2) & 7);
        off = ((tag >>> 5) << 8) | (src[p++] as number);
        break;
      case 2:
        if (p + 2 > src.length) return 'snappy: truncated copy';
        len = 1 + (tag >>> 2);
        off = (src[p] as number) | ((src[p + 1] as number) << 8);
        p += 2;
        break;
      default:
        if (p + 4 > src.length) return 'snappy: truncated copy';
        len = 1 + (tag >>> 2);
        off = ((src[p] as number) | ((src[p + 1] as number) << 8) | ((src[p + 2] as number) << 16)) + (src[p + 3] as number) * 0x1000000;
        p += 4;
        break;
    }
    if (off === 0 || off > o || o + len > n) return 'snappy: bad copy';
    if (off >= len) {
      out.copyWithin(o, o - off, o - off + len);
      o += len;
    } else {
      for (let i = 0; i < len; i++, o++) out[o] = out[o - off] as number;
    }
  }
  if (o !== n) return `snappy: decompressed ${o} bytes, header says ${n}`;
  return out;
}
