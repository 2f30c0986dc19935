// The plain-object form of a remote-write request: what the encoder takes (tests, load
// generators) and what `toObjects` builds from a decoded request (tests, debugging). Not for the
// hot path: it allocates per sample.
import {
  type DecodedWriteRequest,
  exemplarLabelsOf,
  labelsOf,
  metadataOf,
  type NumberLists,
  ONEOF_FLOAT,
  ONEOF_INT,
  type SpanLists,
} from './decoded.js';

/** A double: a number, or a bigint giving the exact IEEE-754 bits (e.g. STALE_NAN_BITS). */
export type F64 = number | bigint;

export interface SampleObject {
  value: F64;
  /** ms since the epoch; a safe integer */
  timestamp: number;
  /** 2.0 only; 0 or absent = not set */
  startTimestamp?: number;
}

export interface ExemplarObject {
  /** flat [name1, value1, ...] */
  labels: string[];
  value: F64;
  timestamp: number;
}

export interface BucketSpanObject {
  offset: number;
  length: number;
}

export interface HistogramObject {
  /** set for an integer histogram (written even when 0) */
  countInt?: number;
  /** set for a float histogram (written even when 0) */
  countFloat?: F64;
  sum?: F64;
  schema?: number;
  zeroThreshold?: F64;
  zeroCountInt?: number;
  zeroCountFloat?: F64;
  negativeSpans?: BucketSpanObject[];
  negativeDeltas?: number[];
  negativeCounts?: F64[];
  positiveSpans?: BucketSpanObject[];
  positiveDeltas?: number[];
  positiveCounts?: F64[];
  /** 0 UNKNOWN, 1 YES, 2 NO, 3 GAUGE */
  resetHint?: number;
  timestamp?: number;
  customValues?: F64[];
  /** 2.0 only */
  startTimestamp?: number;
}

/** 2.0 per-series metadata. */
export interface SeriesMetadataObject {
  type: number;
  help: string;
  unit: string;
}

export interface SeriesObject {
  /** flat [name1, value1, name2, value2, ...] */
  labels: string[];
  samples?: SampleObject[];
  histograms?: HistogramObject[];
  exemplars?: ExemplarObject[];
  /** 2.0 only */
  metadata?: SeriesMetadataObject;
  /** 2.0 only: the legacy TimeSeries field 6 (0 or absent = not set) */
  createdTimestamp?: number;
}

/** 1.0 request-level metadata (MetricMetadata). */
export interface MetricMetadataObject {
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}

export interface WriteRequestObject {
  series: SeriesObject[];
  /** 1.0 only */
  metadata?: MetricMetadataObject[];
}

function list(l: NumberLists, h: number): number[] {
  return Array.from(l.values.subarray(l.offsets[h]!, l.offsets[h + 1]!));
}

function spans(l: SpanLists, h: number): BucketSpanObject[] {
  const out: BucketSpanObject[] = [];
  for (let k = l.offsets[h]!; k < l.offsets[h + 1]!; k++) out.push({ offset: l.spanOffset[k]!, length: l.spanLength[k]! });
  return out;
}

/**
 * Histogram row h as an object with every field set (defaults included); of each oneof only
 * the member that was present. Doubles are plain numbers here (NaN payloads are not kept: read
 * them from the columns with valueBits).
 */
export function histogramOf(req: DecodedWriteRequest, h: number): HistogramObject {
  const c = req.histograms;
  const o: HistogramObject = {};
  if (c.countKind[h] === ONEOF_INT) o.countInt = c.countValue[h]!;
  else if (c.countKind[h] === ONEOF_FLOAT) o.countFloat = c.countValue[h]!;
  o.sum = c.sum[h]!;
  o.schema = c.schema[h]!;
  o.zeroThreshold = c.zeroThreshold[h]!;
  if (c.zeroCountKind[h] === ONEOF_INT) o.zeroCountInt = c.zeroCount[h]!;
  else if (c.zeroCountKind[h] === ONEOF_FLOAT) o.zeroCountFloat = c.zeroCount[h]!;
  o.negativeSpans = spans(c.negativeSpans, h);
  o.negativeDeltas = list(c.negativeDeltas, h);
  o.negativeCounts = list(c.negativeCounts, h);
  o.positiveSpans = spans(c.positiveSpans, h);
  o.positiveDeltas = list(c.positiveDeltas, h);
  o.positiveCounts = list(c.positiveCounts, h);
  o.resetHint = c.resetHint[h]!;
  o.timestamp = c.timestamps[h]!;
  o.customValues = list(c.customValues, h);
  if (req.version === 2) o.startTimestamp = c.startTimestamps[h]!;
  return o;
}

/**
 * The whole request as objects, every field present with its default (samples, histograms and
 * exemplars always arrays; 2.0-only fields only for 2.0; `metadata` of a 2.0 series only if the
 * series carried one).
 */
export function toObjects(req: DecodedWriteRequest): WriteRequestObject {
  const series: SeriesObject[] = [];
  for (let i = 0; i < req.seriesCount; i++) {
    const s: SeriesObject = { labels: labelsOf(req, i), samples: [], histograms: [], exemplars: [] };
    for (let k = req.sampleOffsets[i]!; k < req.sampleOffsets[i + 1]!; k++) {
      const smp: SampleObject = { value: req.values[k]!, timestamp: req.timestamps[k]! };
      if (req.startTimestamps !== null) smp.startTimestamp = req.startTimestamps[k]!;
      s.samples!.push(smp);
    }
    for (let h = req.histogramOffsets[i]!; h < req.histogramOffsets[i + 1]!; h++) s.histograms!.push(histogramOf(req, h));
    for (let e = req.exemplarOffsets[i]!; e < req.exemplarOffsets[i + 1]!; e++) {
      s.exemplars!.push({ labels: exemplarLabelsOf(req, e), value: req.exemplars.values[e]!, timestamp: req.exemplars.timestamps[e]! });
    }
    if (req.version === 2) {
      const m = req.seriesMetadata![i]!;
      if (m >= 0) {
        const md = metadataOf(req, m);
        s.metadata = { type: md.type, help: md.help, unit: md.unit };
      }
      s.createdTimestamp = req.createdTimestamps![i]!;
    }
    series.push(s);
  }
  const out: WriteRequestObject = { series };
  if (req.version === 1) {
    out.metadata = [];
    for (let m = 0; m < req.metadata.count; m++) {
      const md = metadataOf(req, m);
      out.metadata.push({ type: md.type, metricFamilyName: md.metricFamilyName, help: md.help, unit: md.unit });
    }
  }
  return out;
}
