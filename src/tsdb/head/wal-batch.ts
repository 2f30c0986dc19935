// What one append to a head adds to the WAL: the series it created and the samples it accepted.
// The ingester turns it into WAL records and logs them before acknowledging the push. Values sit
// in a Float64Array so NaN bit patterns (the stale marker) survive.
import type { Labels } from '../labels/index.js';

export class WalBatch {
  seriesRefs: number[] = [];
  seriesLabels: Labels[] = [];
  sampleRefs = new Uint32Array(256);
  sampleTs = new Float64Array(256);
  sampleVs = new Float64Array(256);
  samples = 0;
  histogramRefs: number[] = [];
  histogramTs: number[] = [];
  histograms: unknown[] = [];

  reset(): void {
    this.seriesRefs.length = 0;
    this.seriesLabels.length = 0;
    this.samples = 0;
    this.histogramRefs.length = 0;
    this.histogramTs.length = 0;
    this.histograms.length = 0;
  }

  addSeries(ref: number, labels: Labels): void {
    this.seriesRefs.push(ref);
    this.seriesLabels.push(labels);
  }

  addSample(ref: number, t: number, v: number): void {
    if (this.samples === this.sampleRefs.length) this.grow();
    this.sampleRefs[this.samples] = ref;
    this.sampleTs[this.samples] = t;
    this.sampleVs[this.samples] = v;
    this.samples++;
  }

  addHistogram(ref: number, t: number, h: unknown): void {
    this.histogramRefs.push(ref);
    this.histogramTs.push(t);
    this.histograms.push(h);
  }

  isEmpty(): boolean {
    return this.seriesRefs.length === 0 && this.samples === 0 && this.histogramRefs.length === 0;
  }

  private grow(): void {
    const n = this.sampleRefs.length * 2;
    const r = new Uint32Array(n);
    const t = new Float64Array(n);
    const v = new Float64Array(n);
    r.set(this.sampleRefs);
    t.set(this.sampleTs);
    v.set(this.sampleVs);
    this.sampleRefs = r;
    this.sampleTs = t;
    this.sampleVs = v;
  }
}
