// `load_with_nhcb`: every classic histogram of a load block (X_bucket{le=...}, X_count, X_sum) is
// also stored as a native histogram with custom buckets (schema -53) named X, at each timestamp
// where classic samples exist (Prometheus util/convertnhcb, as the Go runner uses it).
import { LabelsBuilder } from '../../tsdb/labels/index.js';
import type { FloatHistogram, Labels } from '../value.js';
import { CUSTOM_BUCKETS_SCHEMA, emptyHistogram } from './hist.js';
import { parseGoFloat } from './numbers.js';
import { labelsKey } from './script.js';
import type { LoadSeries } from './script.js';
import { Slot } from './sequence.js';

class TempHistogram {
  buckets: { le: number; count: number }[] = [];
  count = 0;
  sum = 0;
  hasCount = false;
  err: string | null = null;

  setBucketCount(le: number, count: number): void {
    if (this.err !== null) return;
    if (Number.isNaN(le)) {
      this.err = 'bucket boundary must not be NaN';
      return;
    }
    if (count < 0) {
      this.err = `bucket count must be non-negative: le=${le}, count=${count}`;
      return;
    }
    const b = this.buckets;
    const last = b[b.length - 1];
    if (last === undefined || last.le < le) {
      if (last !== undefined && count < last.count) {
        this.err = `count is not cumulative: ${count} < ${last.count}`;
        return;
      }
      b.push({ le, count });
      return;
    }
    let i = b.findIndex((x) => x.le >= le);
    if (i < 0) i = b.length;
    if (b[i]?.le === le) return; // duplicate
    const prev = b[i - 1];
    if (prev !== undefined && count < prev.count) {
      this.err = `count is not cumulative: ${count} < ${prev.count}`;
      return;
    }
    const next = b[i];
    if (next !== undefined && count > next.count) {
      this.err = `count is not cumulative: ${count} > ${next.count}`;
      return;
    }
    b.splice(i, 0, { le, count });
  }

  setCount(count: number): void {
    if (this.err !== null) return;
    if (count < 0) {
      this.err = `count must be non-negative: count=${count}`;
      return;
    }
    this.count = count;
    this.hasCount = true;
  }

  setSum(sum: number): void {
    if (this.err === null) this.sum = sum;
  }

  convert(): FloatHistogram {
    if (this.err !== null) throw new Error(this.err);
    const b = this.buckets.slice();
    let count = this.count;
    if (!this.hasCount) {
      const last = b[b.length - 1];
      if (last === undefined) throw new Error('count must be provided when no buckets are present');
      count = last.count;
    }
    const last = b[b.length - 1];
    if (last === undefined || last.le !== Infinity) b.push({ le: Infinity, count });
    const h = emptyHistogram();
    h.schema = CUSTOM_BUCKETS_SCHEMA;
    h.count = count;
    h.sum = this.sum;
    let prev = 0;
    const entries: [number, number][] = [];
    b.forEach((x, i) => {
      entries.push([i, x.count - prev]);
      prev = x.count;
      if (x.le !== Infinity) h.customValues.push(x.le);
    });
    if (count !== (b[b.length - 1] as { count: number }).count) throw new Error(`count mismatch: count=${count} != le=+Inf count=${b[b.length - 1]?.count}`);
    // compacted: empty buckets dropped
    let next = 0;
    for (const [idx, c] of entries) {
      if (c === 0) continue;
      const lastSpan = h.positiveSpans[h.positiveSpans.length - 1];
      if (lastSpan !== undefined && idx === next) lastSpan.length++;
      else h.positiveSpans.push({ offset: h.positiveSpans.length === 0 ? idx : idx - next, length: 1 });
      h.positiveBuckets.push(c);
      next = idx + 1;
    }
    return h;
  }
}

function metricName(ls: Labels): string {
  for (let i = 0; i < ls.length; i += 2) if (ls[i] === '__name__') return ls[i + 1] as string;
  return '';
}

function baseLabels(ls: Labels, name: string): Labels {
  const b = new LabelsBuilder();
  for (let i = 0; i < ls.length; i += 2) {
    const n = ls[i] as string;
    if (n === '__name__' || n === 'le') continue;
    b.add(n, ls[i + 1] as string);
  }
  b.add('__name__', name);
  return b.labels();
}

/** The NHCB series (labels, samples sorted by time) for the classic histograms of a load block. */
export function convertClassicHistograms(series: readonly LoadSeries[], intervalMs: number): { labels: Labels; samples: { t: number; h: FloatHistogram }[] }[] {
  const families = new Map<string, { labels: Labels; byTs: Map<number, TempHistogram> }>();
  for (const s of series) {
    const name = metricName(s.labels);
    let kind: 'bucket' | 'count' | 'sum';
    let base: string;
    if (name.endsWith('_bucket')) {
      kind = 'bucket';
      base = name.slice(0, -'_bucket'.length);
    } else if (name.endsWith('_sum')) {
      kind = 'sum';
      base = name.slice(0, -'_sum'.length);
    } else if (name.endsWith('_count')) {
      kind = 'count';
      base = name.slice(0, -'_count'.length);
    } else continue;
    let le = NaN;
    if (kind === 'bucket') {
      let leText: string | null = null;
      for (let i = 0; i < s.labels.length; i += 2) if (s.labels[i] === 'le') leText = s.labels[i + 1] as string;
      if (leText === null) throw new Error(`expected bucket label in metric ${name}`);
      le = parseGoFloat(leText) ?? NaN;
      if (Number.isNaN(le)) continue;
    }
    const labels = baseLabels(s.labels, base);
    const key = labelsKey(labels);
    let fam = families.get(key);
    if (fam === undefined) {
      fam = { labels, byTs: new Map() };
      families.set(key, fam);
    }
    for (let i = 0; i < s.values.length; i++) {
      if (s.values.kind(i) !== Slot.Float) continue;
      const t = i * intervalMs;
      let th = fam.byTs.get(t);
      if (th === undefined) {
        th = new TempHistogram();
        fam.byTs.set(t, th);
      }
      const f = s.values.floats[i] as number;
      if (kind === 'bucket') th.setBucketCount(le, f);
      else if (kind === 'count') th.setCount(f);
      else th.setSum(f);
    }
  }
  return [...families.values()].map((fam) => ({
    labels: fam.labels,
    samples: [...fam.byTs.entries()].sort((a, b) => a[0] - b[0]).map(([t, th]) => ({ t, h: th.convert() })),
  }));
}
