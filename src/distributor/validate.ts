// Validation of one decoded remote-write request for one tenant, as Mimir's distributor validates
// (pkg/distributor/validate.go and the prePushSortAndFilter/prePushValidation middlewares of
// pkg/distributor/distributor.go):
//
//   1. labels with an empty value are removed and every series' labels are sorted (in place);
//   2. each series is checked: its labels first (metric name present and valid, label count,
//      then per label in sorted order: name valid, name length, value valid UTF-8, value length,
//      repeated name), then its samples and histograms (too far in the future / past, histogram
//      schema). The first failure drops the whole series; the other series are kept;
//   3. samples and histograms of a kept series that repeat a timestamp are dropped (first kept);
//   4. exemplars of kept series are checked and invalid ones dropped silently (never an error);
//   5. metadata are checked (HELP cut to length, name/unit length) and dropped on failure.
//
// The request is walked as byte ranges: no string is created except for the first error's
// message. Output: masks of what to keep, counts of what was kept and of what was discarded by
// reason (cortex_discarded_*_total), and the first error (HTTP 400) to return after writing the
// rest. Decisions where we differ from Mimir are marked "Muninn:".
import type { DecodedWriteRequest } from '../remotewrite/index.js';
import { sortSeriesLabels } from '../remotewrite/index.js';
import { isLegacyLabelName, isLegacyMetricName, isValidUtf8, rangeEndsWith, rangeIs, rangesEqual, runeBoundaryAtMost, runeCount } from './bytes.js';
import type { NameValidationScheme, ValidationConfig } from './config.js';
import type { ValidationError } from './errors.js';
import { DiscardReason, Fail, FAIL_REASON, type FailDetail, METADATA_FAIL_REASON, type MetadataFail, metadataError, seriesError } from './validate-errors.js';

export { DiscardReason } from './validate-errors.js';

/** The per-tenant limits validation reads (the validation config plus the ingester's OOO window). */
export interface ValidationLimits
  extends Pick<
    ValidationConfig,
    | 'maxLabelNameLength'
    | 'maxLabelValueLength'
    | 'maxLabelNamesPerSeries'
    | 'maxLabelNamesPerInfoSeries'
    | 'maxMetadataLength'
    | 'creationGracePeriod'
    | 'pastGracePeriod'
    | 'enforceMetadataMetricName'
    | 'maxGlobalExemplarsPerUser'
    | 'maxExemplarsPerSeriesPerRequest'
  > {
  nameValidationScheme: NameValidationScheme;
  /** -ingester.out-of-order-time-window (ms): widens the past grace period. */
  outOfOrderTimeWindow: number;
}

export interface ValidationResult {
  /** 1 = write series i, 0 = dropped (invalid); length seriesCount */
  readonly keepSeries: Uint8Array;
  readonly keptSeries: number;
  /** per sample row: 0 = a repeated timestamp, not written; null = none. Rows of dropped series: see keepSeries */
  readonly sampleMask: Uint8Array | null;
  /** per histogram row, as sampleMask */
  readonly histogramMask: Uint8Array | null;
  /** per exemplar row: 1 = write (0 for every row of a dropped series) */
  readonly exemplarMask: Uint8Array;
  /** per metadata row: 1 = write */
  readonly metadataMask: Uint8Array;
  readonly keptSamples: number;
  readonly keptHistograms: number;
  readonly keptExemplars: number;
  readonly keptMetadata: number;
  /** The first invalid series (or, if none, metadata), to answer with after writing the rest. */
  readonly firstError: ValidationError | null;
  /** samples and histograms dropped, by reason */
  readonly discardedSamples: ReadonlyMap<string, number>;
  readonly discardedExemplars: ReadonlyMap<string, number>;
  readonly discardedMetadata: ReadonlyMap<string, number>;
}

/**
 * Items that count against the tenant's ingestion rate limit: samples, histograms, exemplars and
 * metadata that passed validation (Mimir's totalN). When no sample and no metadata passed, Mimir
 * skips the rate limiter and answers with the first error alone.
 */
export function ingestionItems(r: ValidationResult): number {
  return r.keptSamples + r.keptHistograms + r.keptExemplars + r.keptMetadata;
}

/** Mimir's exemplar label-set limit: names and values together, in runes (OpenMetrics). */
export const EXEMPLAR_MAX_LABEL_SET_LENGTH = 128;
/** Exemplars older than the request's oldest sample by more than this are dropped. */
export const EXEMPLAR_MAX_AGE_BEHIND_SAMPLES_MS = 5 * 60_000;
/** Exponential schemas -4..8 and -53 (custom buckets) are valid. */
export const MIN_HISTOGRAM_SCHEMA = -4;
export const MAX_HISTOGRAM_SCHEMA = 8;
export const CUSTOM_BUCKETS_SCHEMA = -53;

const NAME_LABEL = Buffer.from('__name__');
const INFO_SUFFIX = Buffer.from('_info');

function add(m: Map<string, number>, reason: string, n: number): void {
  if (n > 0) m.set(reason, (m.get(reason) ?? 0) + n);
}

/**
 * Removes every label whose value is empty (Prometheus treats it as absent; Mimir drops them
 * before validation), compacting labelRanges/labelOffsets in place. No-op (one scan) if none.
 */
export function dropEmptyLabelValues(req: DecodedWriteRequest): void {
  const r = req.labelRanges;
  const lo = req.labelOffsets;
  const n = req.seriesCount;
  const total = lo[n]!;
  let first = -1;
  for (let l = 0; l < total; l++) {
    if (r[l * 4 + 2] === r[l * 4 + 3]) {
      first = l;
      break;
    }
  }
  if (first < 0) return;
  let i = 0;
  while (lo[i + 1]! <= first) i++;
  let w = lo[i]!;
  let oldStart = w;
  for (; i < n; i++) {
    const oldEnd = lo[i + 1]!;
    lo[i] = w;
    for (let l = oldStart; l < oldEnd; l++) {
      if (r[l * 4 + 2] === r[l * 4 + 3]) continue;
      if (w !== l) r.copyWithin(w * 4, l * 4, l * 4 + 4);
      w++;
    }
    oldStart = oldEnd;
  }
  lo[n] = w;
}

/**
 * Validates `req` for one tenant at wall-clock time `nowMs`. Mutates req: drops empty-valued
 * labels, sorts labels, cuts over-long metadata HELP. Never throws for any decoded request.
 */
export function validateWriteRequest(req: DecodedWriteRequest, limits: ValidationLimits, nowMs: number): ValidationResult {
  dropEmptyLabelValues(req);
  sortSeriesLabels(req);
  return new Validator(req, limits, nowMs).run();
}

class Validator {
  private readonly b: Buffer;
  private readonly utf8: boolean;
  private readonly maxTs: number;
  private readonly minTs: number;
  /** details of the current series' failure (valid when a check returned a Fail) */
  private readonly fail: FailDetail = { label: -1, nameLabel: -1, ts: 0, num: 0 };

  private firstError: ValidationError | null = null;
  private readonly discardedSamples = new Map<string, number>();
  private readonly discardedExemplars = new Map<string, number>();
  private readonly discardedMetadata = new Map<string, number>();
  private sampleMask: Uint8Array | null = null;
  private histogramMask: Uint8Array | null = null;
  private dupes: Set<number> | null = null;

  constructor(
    private readonly req: DecodedWriteRequest,
    private readonly limits: ValidationLimits,
    now: number,
  ) {
    this.b = req.bytes;
    this.utf8 = limits.nameValidationScheme === 'utf8';
    this.maxTs = now + limits.creationGracePeriod;
    this.minTs = limits.pastGracePeriod > 0 ? now - limits.pastGracePeriod - limits.outOfOrderTimeWindow : -Infinity;
  }

  run(): ValidationResult {
    const req = this.req;
    const n = req.seriesCount;
    const keep = new Uint8Array(n);
    const exemplarMask = new Uint8Array(req.exemplars.count);
    let keptSeries = 0;
    let keptSamples = 0;
    let keptHistograms = 0;
    let keptExemplars = 0;
    const exemplarsOn = this.limits.maxGlobalExemplarsPerUser > 0 && req.exemplars.count > 0;
    const [minExTs, maxExTs] = exemplarsOn ? this.exemplarTimeRange() : [0, 0];

    for (let i = 0; i < n; i++) {
      const s0 = req.sampleOffsets[i]!;
      const s1 = req.sampleOffsets[i + 1]!;
      const h0 = req.histogramOffsets[i]!;
      const h1 = req.histogramOffsets[i + 1]!;
      let fail: Fail = this.checkLabels(i);
      if (fail === Fail.None) fail = this.checkSamples(s0, s1);
      if (fail === Fail.None) fail = this.checkHistograms(h0, h1);
      if (fail !== Fail.None) {
        // Muninn: every sample and histogram of the dropped series is counted as discarded;
        // Mimir adds one per rejected series.
        add(this.discardedSamples, FAIL_REASON[fail]!, s1 - s0 + (h1 - h0));
        if (this.firstError === null) this.firstError = seriesError(req, i, fail, this.fail, this.limits);
        continue;
      }
      keep[i] = 1;
      keptSeries++;
      const ds = s1 - s0 > 1 ? this.dedupe(req.timestamps, s0, s1, 'sample') : 0;
      const dh = h1 - h0 > 1 ? this.dedupe(req.histograms.timestamps, h0, h1, 'histogram') : 0;
      add(this.discardedSamples, DiscardReason.duplicateTimestamp, ds + dh);
      keptSamples += s1 - s0 - ds;
      keptHistograms += h1 - h0 - dh;
      if (exemplarsOn) keptExemplars += this.checkExemplars(i, exemplarMask, minExTs, maxExTs);
    }

    const metadataMask = new Uint8Array(req.metadata.count);
    const keptMetadata = this.checkMetadata(keep, metadataMask);
    return {
      keepSeries: keep,
      keptSeries,
      sampleMask: this.sampleMask,
      histogramMask: this.histogramMask,
      exemplarMask,
      metadataMask,
      keptSamples,
      keptHistograms,
      keptExemplars,
      keptMetadata,
      firstError: this.firstError,
      discardedSamples: this.discardedSamples,
      discardedExemplars: this.discardedExemplars,
      discardedMetadata: this.discardedMetadata,
    };
  }

  // ---- series ----

  private checkLabels(i: number): Fail {
    const b = this.b;
    const r = this.req.labelRanges;
    const from = this.req.labelOffsets[i]!;
    const to = this.req.labelOffsets[i + 1]!;
    const lim = this.limits;
    // Muninn: a series left with no labels is refused as nameless; Mimir drops it silently, but
    // the remote-write spec forbids a 2xx for data not written.
    let nameAt = -1;
    for (let l = from; l < to; l++) {
      if (rangeIs(b, r[l * 4]!, r[l * 4 + 1]!, NAME_LABEL)) {
        nameAt = l;
        break;
      }
    }
    this.fail.nameLabel = nameAt;
    if (nameAt < 0) return Fail.MissingName;
    const ms = r[nameAt * 4 + 2]!;
    const me = r[nameAt * 4 + 3]!;
    if (!(this.utf8 ? isValidUtf8(b, ms, me) : isLegacyMetricName(b, ms, me))) return Fail.InvalidMetricName;
    const count = to - from;
    if (count > lim.maxLabelNamesPerSeries) {
      this.fail.num = count;
      if (!rangeEndsWith(b, ms, me, INFO_SUFFIX)) return Fail.TooManyLabels;
      if (count > lim.maxLabelNamesPerInfoSeries) return Fail.TooManyInfoLabels;
    }
    for (let l = from; l < to; l++) {
      const q = l * 4;
      const ns = r[q]!;
      const ne = r[q + 1]!;
      const vs = r[q + 2]!;
      const ve = r[q + 3]!;
      this.fail.label = l;
      if (!(this.utf8 ? ne > ns && isValidUtf8(b, ns, ne) : isLegacyLabelName(b, ns, ne))) return Fail.InvalidLabel;
      if (ne - ns > lim.maxLabelNameLength) return Fail.LabelNameTooLong;
      if (!isValidUtf8(b, vs, ve)) return Fail.InvalidLabelValue;
      if (ve - vs > lim.maxLabelValueLength) return Fail.LabelValueTooLong;
      if (l > from && rangesEqual(b, r[q - 4]!, r[q - 3]!, ns, ne)) return Fail.DuplicateLabel;
    }
    return Fail.None;
  }

  private checkSamples(s0: number, s1: number): Fail {
    const ts = this.req.timestamps;
    for (let k = s0; k < s1; k++) {
      const t = ts[k]!;
      if (t > this.maxTs || t < this.minTs) {
        this.fail.ts = t;
        return t > this.maxTs ? Fail.TooFarInFuture : Fail.TooFarInPast;
      }
    }
    return Fail.None;
  }

  private checkHistograms(h0: number, h1: number): Fail {
    const h = this.req.histograms;
    for (let k = h0; k < h1; k++) {
      const t = h.timestamps[k]!;
      if (t > this.maxTs || t < this.minTs) {
        this.fail.ts = t;
        return t > this.maxTs ? Fail.TooFarInFuture : Fail.TooFarInPast;
      }
      const s = h.schema[k]!;
      if ((s < MIN_HISTOGRAM_SCHEMA || s > MAX_HISTOGRAM_SCHEMA) && s !== CUSTOM_BUCKETS_SCHEMA) {
        this.fail.num = s;
        return Fail.InvalidSchema;
      }
    }
    return Fail.None;
  }

  /**
   * Marks rows [from, to) that repeat an earlier row's timestamp as dropped (Mimir keeps the first
   * of each timestamp); returns how many. Sorted input (the usual case) costs one pass.
   */
  private dedupe(ts: Float64Array, from: number, to: number, kind: 'sample' | 'histogram'): number {
    let sorted = true;
    for (let k = from + 1; k < to && sorted; k++) if (ts[k]! <= ts[k - 1]!) sorted = false;
    if (sorted) return 0;
    const seen = (this.dupes ??= new Set<number>());
    seen.clear();
    let mask = kind === 'sample' ? this.sampleMask : this.histogramMask;
    let d = 0;
    for (let k = from; k < to; k++) {
      const t = ts[k]!;
      if (!seen.has(t)) {
        seen.add(t);
        continue;
      }
      if (mask === null) {
        mask = new Uint8Array(ts.length).fill(1);
        if (kind === 'sample') this.sampleMask = mask;
        else this.histogramMask = mask;
      }
      mask[k] = 0;
      d++;
    }
    return d;
  }

  // ---- exemplars ----

  /**
   * [oldest, newest] exemplar timestamp accepted: no older than 5 minutes before the request's
   * oldest sample (and, with a past grace period, no older than samples may be); no newer than
   * the creation grace period. Without samples the lower bound is 0, as in Mimir.
   */
  private exemplarTimeRange(): [number, number] {
    const req = this.req;
    let earliest = Infinity;
    for (let k = 0; k < req.timestamps.length; k++) earliest = Math.min(earliest, req.timestamps[k]!);
    const ht = req.histograms.timestamps;
    for (let k = 0; k < req.histograms.count; k++) earliest = Math.min(earliest, ht[k]!);
    let min = 0;
    if (earliest !== Infinity) {
      min = earliest - EXEMPLAR_MAX_AGE_BEHIND_SAMPLES_MS;
      if (this.limits.pastGracePeriod > 0) min = Math.max(min, this.minTs);
    }
    return [min, this.maxTs];
  }

  /** Checks the exemplars of kept series i, dropping invalid ones silently; returns how many are kept. */
  private checkExemplars(i: number, mask: Uint8Array, minTs: number, maxTs: number): number {
    const e0 = this.req.exemplarOffsets[i]!;
    let e1 = this.req.exemplarOffsets[i + 1]!;
    const perSeries = this.limits.maxExemplarsPerSeriesPerRequest;
    if (perSeries > 0 && e1 - e0 > perSeries) {
      add(this.discardedExemplars, DiscardReason.tooManyExemplarsPerSeriesPerRequest, e1 - e0 - perSeries);
      e1 = e0 + perSeries;
    }
    let kept = 0;
    for (let e = e0; e < e1; e++) {
      const reason = this.exemplarProblem(e, minTs, maxTs);
      if (reason !== null) {
        add(this.discardedExemplars, reason, 1);
        continue;
      }
      mask[e] = 1;
      kept++;
    }
    return kept;
  }

  private exemplarProblem(e: number, minTs: number, maxTs: number): string | null {
    const ex = this.req.exemplars;
    const b = this.b;
    const lf = ex.labelOffsets[e]!;
    const lt = ex.labelOffsets[e + 1]!;
    if (lt === lf) return DiscardReason.exemplarLabelsMissing;
    const ts = ex.timestamps[e]!;
    if (ts === 0) return DiscardReason.exemplarTimestampInvalid;
    let len = 0;
    let anyFull = false;
    const r = ex.labelRanges;
    for (let l = lf; l < lt; l++) {
      const q = l * 4;
      const ns = r[q]!;
      const ne = r[q + 1]!;
      const vs = r[q + 2]!;
      const ve = r[q + 3]!;
      if (ne > ns && ve > vs) anyFull = true;
      len += runeCount(b, ns, ne) + runeCount(b, vs, ve);
    }
    if (len > EXEMPLAR_MAX_LABEL_SET_LENGTH) return DiscardReason.exemplarLabelsTooLong;
    if (!anyFull) return DiscardReason.exemplarLabelsBlank;
    if (ts < minTs) return DiscardReason.exemplarTooOld;
    if (ts > maxTs) return DiscardReason.exemplarTooFarInFuture;
    return null;
  }

  // ---- metadata ----

  /**
   * 1.0 metadata (series -1) as Mimir checks it. 2.0 per-series metadata of a kept series: its
   * metric family is the series' metric name. Muninn: a 2.0 Metadata with no type, help or unit
   * carries nothing and is ignored (neither kept nor discarded); metadata of a dropped series is
   * dropped with it, uncounted.
   */
  private checkMetadata(keep: Uint8Array, mask: Uint8Array): number {
    const md = this.req.metadata;
    const s = md.strings;
    const max = this.limits.maxMetadataLength;
    let kept = 0;
    for (let m = 0; m < md.count; m++) {
      const q = m * 6;
      const series = md.series[m]!;
      let ns = s[q]!;
      let ne = s[q + 1]!;
      const hs = s[q + 2]!;
      const he = s[q + 3]!;
      const us = s[q + 4]!;
      const ue = s[q + 5]!;
      if (series >= 0) {
        if (keep[series] !== 1) continue;
        if (md.type[m] === 0 && he === hs && ue === us) continue;
        const at = this.metricNameLabel(series);
        if (at < 0) continue; // not reached: a kept series has a name
        ns = this.req.labelRanges[at * 4 + 2]!;
        ne = this.req.labelRanges[at * 4 + 3]!;
      } else if (this.limits.enforceMetadataMetricName && ne === ns) {
        this.metadataFailed('missing_name', ns, ne, us, ue);
        continue;
      }
      if (he - hs > max) s[q + 3] = hs + runeBoundaryAtMost(this.b, hs, he, max);
      if (ne - ns > max) {
        this.metadataFailed('name_too_long', ns, ne, us, ue);
        continue;
      }
      if (ue - us > max) {
        this.metadataFailed('unit_too_long', ns, ne, us, ue);
        continue;
      }
      mask[m] = 1;
      kept++;
    }
    return kept;
  }

  private metricNameLabel(i: number): number {
    const r = this.req.labelRanges;
    for (let l = this.req.labelOffsets[i]!; l < this.req.labelOffsets[i + 1]!; l++) {
      if (rangeIs(this.b, r[l * 4]!, r[l * 4 + 1]!, NAME_LABEL)) return l;
    }
    return -1;
  }

  private metadataFailed(fail: MetadataFail, ns: number, ne: number, us: number, ue: number): void {
    add(this.discardedMetadata, METADATA_FAIL_REASON[fail], 1);
    if (this.firstError === null) this.firstError = metadataError(this.req, fail, ns, ne, us, ue);
  }
}
