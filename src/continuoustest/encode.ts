// Remote write 1.0 `prometheus.WriteRequest` bodies for the test series, written straight into a
// reused byte buffer: one TimeSeries per series with its two labels and one sample. The load
// generator encodes millions of samples a second this way; the general encoder (remotewrite
// encode.ts) is the test oracle.
//
//   WriteRequest.timeseries (1) { labels (1) { name (1), value (2) } x2, samples (2) { value (1) double, timestamp (2) int64 } }
import { METRIC_NAME, SERIES_ID_LABEL, sampleValue } from './series.js';

const ascii = new TextEncoder();

function labelBytes(name: string, value: string): Uint8Array {
  const n = ascii.encode(name);
  const v = ascii.encode(value);
  const inner = 2 + n.length + 2 + v.length;
  if (n.length > 127 || v.length > 127 || inner > 127) throw new RangeError('label too long for the fixed layout');
  const out = new Uint8Array(2 + inner);
  out.set([0x0a, inner, 0x0a, n.length], 0);
  out.set(n, 4);
  out.set([0x12, v.length], 4 + n.length);
  out.set(v, 6 + n.length);
  return out;
}

const NAME_LABEL = labelBytes('__name__', METRIC_NAME);
/** The series_id label up to its value's length byte: 0x0a, len, 0x0a, 9, "series_id", 0x12. */
const ID_LABEL_HEAD = (() => {
  const n = ascii.encode(SERIES_ID_LABEL);
  const out = new Uint8Array(4 + n.length + 1);
  out.set([0x0a, 0, 0x0a, n.length], 0);
  out.set(n, 4);
  out[4 + n.length] = 0x12;
  return out;
})();

function varintLen(n: number): number {
  let k = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    k++;
  }
  return k;
}

export class SeriesEncoder {
  private buf = new Uint8Array(64 * 1024);
  private dv = new DataView(this.buf.buffer);
  private pos = 0;

  /** The WriteRequest holding one sample at time t (ms, >= 0) for each series in [lo, hi). */
  encode(lo: number, hi: number, t: number): Uint8Array {
    if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`timestamp must be a non-negative safe integer, got ${t}`);
    this.pos = 0;
    const tsLen = varintLen(t);
    const sampleLen = 1 + 8 + 1 + tsLen;
    for (let id = lo; id < hi; id++) {
      const digits = String(id);
      const idLabelInner = ID_LABEL_HEAD.length - 2 + 1 + digits.length;
      const seriesLen = NAME_LABEL.length + 2 + idLabelInner + 2 + sampleLen;
      this.ensure(1 + varintLen(seriesLen) + seriesLen);
      const b = this.buf;
      b[this.pos++] = 0x0a;
      this.varint(seriesLen);
      b.set(NAME_LABEL, this.pos);
      this.pos += NAME_LABEL.length;
      b.set(ID_LABEL_HEAD, this.pos);
      b[this.pos + 1] = idLabelInner;
      this.pos += ID_LABEL_HEAD.length;
      b[this.pos++] = digits.length;
      for (let k = 0; k < digits.length; k++) b[this.pos++] = digits.charCodeAt(k);
      b[this.pos++] = 0x12;
      b[this.pos++] = sampleLen;
      b[this.pos++] = 0x09;
      this.dv.setFloat64(this.pos, sampleValue(id, t), true);
      this.pos += 8;
      b[this.pos++] = 0x10;
      this.varint(t);
    }
    return this.buf.subarray(0, this.pos);
  }

  private varint(n: number): void {
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }
}
