// What validation found wrong, as codes for the hot path (src/distributor/validate.ts), and the
// 400 errors with their messages, built only for the first failure of a request. Messages quote
// the offending label or series (cut to 200 runes; invalid UTF-8 shown as U+FFFD), name the Mimir
// error ID, and for a limit the flag that changes it.
import type { DecodedWriteRequest } from '../remotewrite/index.js';
import { labelsOf, stringAt } from '../remotewrite/index.js';
import { truncateRunes } from './bytes.js';
import { ErrorId, reasonOf, ValidationError, withId, withTenantLimit } from './errors.js';

/** `reason` label values of cortex_discarded_{samples,exemplars,metadata}_total (Mimir's). */
export const DiscardReason = {
  missingMetricName: reasonOf(ErrorId.missingMetricName),
  invalidMetricName: reasonOf(ErrorId.invalidMetricName),
  maxLabelNamesPerSeries: reasonOf(ErrorId.maxLabelNamesPerSeries),
  maxLabelNamesPerInfoSeries: reasonOf(ErrorId.maxLabelNamesPerInfoSeries),
  invalidLabel: reasonOf(ErrorId.invalidLabel),
  invalidLabelValue: reasonOf(ErrorId.invalidLabelValue),
  labelNameTooLong: reasonOf(ErrorId.labelNameTooLong),
  labelValueTooLong: reasonOf(ErrorId.labelValueTooLong),
  duplicateLabelNames: reasonOf(ErrorId.duplicateLabelNames),
  tooFarInFuture: reasonOf(ErrorId.tooFarInFuture),
  tooFarInPast: reasonOf(ErrorId.tooFarInPast),
  duplicateTimestamp: reasonOf(ErrorId.duplicateTimestamp),
  invalidNativeHistogramSchema: reasonOf(ErrorId.invalidNativeHistogramSchema),
  exemplarLabelsMissing: reasonOf(ErrorId.exemplarLabelsMissing),
  exemplarLabelsTooLong: reasonOf(ErrorId.exemplarLabelsTooLong),
  exemplarTimestampInvalid: reasonOf(ErrorId.exemplarTimestampInvalid),
  exemplarLabelsBlank: 'exemplar_labels_blank',
  exemplarTooOld: 'exemplar_too_old',
  exemplarTooFarInFuture: 'exemplar_too_far_in_future',
  tooManyExemplarsPerSeriesPerRequest: 'too_many_exemplars_per_series_per_request',
  metadataMissingMetricName: reasonOf(ErrorId.missingMetricName),
  metadataMetricNameTooLong: reasonOf(ErrorId.metadataMetricNameTooLong),
  metadataUnitTooLong: reasonOf(ErrorId.metadataUnitTooLong),
  rateLimited: 'rate_limited',
} as const;

/** Which series check failed (0 = none). */
export const Fail = {
  None: 0,
  MissingName: 1,
  InvalidMetricName: 2,
  TooManyLabels: 3,
  TooManyInfoLabels: 4,
  InvalidLabel: 5,
  LabelNameTooLong: 6,
  InvalidLabelValue: 7,
  LabelValueTooLong: 8,
  DuplicateLabel: 9,
  TooFarInFuture: 10,
  TooFarInPast: 11,
  InvalidSchema: 12,
} as const;
export type Fail = (typeof Fail)[keyof typeof Fail];

/** Discard reason of each Fail, indexed by it. */
export const FAIL_REASON: readonly string[] = [
  '',
  DiscardReason.missingMetricName,
  DiscardReason.invalidMetricName,
  DiscardReason.maxLabelNamesPerSeries,
  DiscardReason.maxLabelNamesPerInfoSeries,
  DiscardReason.invalidLabel,
  DiscardReason.labelNameTooLong,
  DiscardReason.invalidLabelValue,
  DiscardReason.labelValueTooLong,
  DiscardReason.duplicateLabelNames,
  DiscardReason.tooFarInFuture,
  DiscardReason.tooFarInPast,
  DiscardReason.invalidNativeHistogramSchema,
];

/** Details of a series failure, filled in by the checks. */
export interface FailDetail {
  /** label row at fault */
  label: number;
  /** label row of __name__, -1 if none */
  nameLabel: number;
  /** timestamp at fault */
  ts: number;
  /** label count, or histogram schema */
  num: number;
}

/** The limits quoted in series messages. */
export interface MessageLimits {
  maxLabelNamesPerSeries: number;
  maxLabelNamesPerInfoSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
}

const MSG_MAX = 200;

/** bytes [s, e) as a string cut to 200 runes (invalid UTF-8 shows as U+FFFD) */
function str(req: DecodedWriteRequest, s: number, e: number): string {
  return truncateRunes(stringAt(req, s, e), MSG_MAX).text;
}

/** Series i as {name="value", ...}, cut to 200 runes; with `ellipsis`, a cut is marked with "…". */
function seriesText(req: DecodedWriteRequest, i: number, ellipsis = false): string {
  const ls = labelsOf(req, i);
  let out = '{';
  for (let k = 0; k < ls.length; k += 2) {
    if (k > 0) out += ', ';
    out += `${ls[k]!}=${JSON.stringify(ls[k + 1]!)}`;
  }
  const t = truncateRunes(`${out}}`, MSG_MAX);
  return t.cut && ellipsis ? `${t.text}\u2026` : t.text;
}

function valueOf(req: DecodedWriteRequest, l: number): string {
  const r = req.labelRanges;
  return l < 0 ? '' : str(req, r[l * 4 + 2]!, r[l * 4 + 3]!);
}

function nameOf(req: DecodedWriteRequest, l: number): string {
  const r = req.labelRanges;
  return str(req, r[l * 4]!, r[l * 4 + 1]!);
}

/** The 400 error for series i, which failed `fail`. */
export function seriesError(req: DecodedWriteRequest, i: number, fail: Fail, d: FailDetail, lim: MessageLimits): ValidationError {
  const r = req.labelRanges;
  const l = d.label;
  switch (fail) {
    case Fail.MissingName:
      return new ValidationError(ErrorId.missingMetricName, withId('received a series without a metric name', ErrorId.missingMetricName));
    case Fail.InvalidMetricName: {
      let name = valueOf(req, d.nameLabel);
      const ascii = name.replace(/[^\x00-\x7f]/g, '');
      if (ascii !== name) name = `${ascii} (non-ascii characters removed)`;
      return new ValidationError(ErrorId.invalidMetricName, withId(`received a series with an invalid metric name: '${name}'`, ErrorId.invalidMetricName));
    }
    case Fail.TooManyLabels:
      return new ValidationError(
        ErrorId.maxLabelNamesPerSeries,
        withTenantLimit(`received a series with ${d.num} labels, over the limit of ${lim.maxLabelNamesPerSeries}, series: '${seriesText(req, i, true)}'`, ErrorId.maxLabelNamesPerSeries, 'validation.max-label-names-per-series'),
      );
    case Fail.TooManyInfoLabels:
      return new ValidationError(
        ErrorId.maxLabelNamesPerInfoSeries,
        withTenantLimit(`received an info series with ${d.num} labels, over the limit of ${lim.maxLabelNamesPerInfoSeries}, series: '${seriesText(req, i, true)}'`, ErrorId.maxLabelNamesPerInfoSeries, 'validation.max-label-names-per-info-series'),
      );
    case Fail.InvalidLabel:
      return new ValidationError(ErrorId.invalidLabel, withId(`received a series with an invalid label name: '${nameOf(req, l)}' series: '${seriesText(req, i)}'`, ErrorId.invalidLabel));
    case Fail.LabelNameTooLong:
      return new ValidationError(
        ErrorId.labelNameTooLong,
        withTenantLimit(`received a series with a label name over the length limit of ${lim.maxLabelNameLength}, label: '${nameOf(req, l)}' series: '${seriesText(req, i)}'`, ErrorId.labelNameTooLong, 'validation.max-length-label-name'),
      );
    case Fail.InvalidLabelValue:
      return new ValidationError(
        ErrorId.invalidLabelValue,
        withId(`received a series whose value of label '${nameOf(req, l)}' is not valid UTF-8: '${valueOf(req, l)}' metric: '${valueOf(req, d.nameLabel)}'`, ErrorId.invalidLabelValue),
      );
    case Fail.LabelValueTooLong:
      return new ValidationError(
        ErrorId.labelValueTooLong,
        withTenantLimit(
          `received a series with a label value of ${r[l * 4 + 3]! - r[l * 4 + 2]!} bytes, over the limit of ${lim.maxLabelValueLength}, label: '${nameOf(req, l)}', value: '${valueOf(req, l)}' (truncated) series: '${seriesText(req, i)}'`,
          ErrorId.labelValueTooLong,
          'validation.max-length-label-value',
        ),
      );
    case Fail.DuplicateLabel:
      return new ValidationError(ErrorId.duplicateLabelNames, withId(`received a series with a repeated label name, label: '${nameOf(req, l)}' series: '${seriesText(req, i)}'`, ErrorId.duplicateLabelNames));
    case Fail.TooFarInFuture:
      return new ValidationError(
        ErrorId.tooFarInFuture,
        withTenantLimit(`received a sample with a timestamp too far in the future, timestamp: ${d.ts} series: '${valueOf(req, d.nameLabel)}'`, ErrorId.tooFarInFuture, 'validation.create-grace-period'),
      );
    case Fail.TooFarInPast:
      return new ValidationError(
        ErrorId.tooFarInPast,
        withTenantLimit(`received a sample with a timestamp too far in the past, timestamp: ${d.ts} series: '${valueOf(req, d.nameLabel)}'`, ErrorId.tooFarInPast, 'validation.past-grace-period'),
      );
    case Fail.InvalidSchema:
      return new ValidationError(ErrorId.invalidNativeHistogramSchema, withId(`received a native histogram sample with an invalid schema: ${d.num}`, ErrorId.invalidNativeHistogramSchema));
    case Fail.None:
      throw new Error('unreachable: seriesError without a failure');
    default: {
      const never: never = fail;
      throw new Error(`unknown failure ${String(never)}`);
    }
  }
}

export type MetadataFail = 'missing_name' | 'name_too_long' | 'unit_too_long';

/** The 400 error for a metadata entry with family name b[ns, ne) and unit b[us, ue). */
export function metadataError(req: DecodedWriteRequest, fail: MetadataFail, ns: number, ne: number, us: number, ue: number): ValidationError {
  switch (fail) {
    case 'missing_name':
      return new ValidationError(ErrorId.metadataMissingMetricName, withId('received metric metadata without a metric name', ErrorId.metadataMissingMetricName));
    case 'name_too_long':
      return new ValidationError(
        ErrorId.metadataMetricNameTooLong,
        withTenantLimit(`received metric metadata whose metric name is over the length limit, metric name: '${str(req, ns, ne)}'`, ErrorId.metadataMetricNameTooLong, 'validation.max-metadata-length'),
      );
    case 'unit_too_long':
      return new ValidationError(
        ErrorId.metadataUnitTooLong,
        withTenantLimit(`received metric metadata whose unit is over the length limit, unit: '${str(req, us, ue)}' metric name: '${str(req, ns, ne)}'`, ErrorId.metadataUnitTooLong, 'validation.max-metadata-length'),
      );
    default: {
      const never: never = fail;
      throw new Error(`unknown metadata failure ${String(never)}`);
    }
  }
}

/** Discard reason of each metadata failure. */
export const METADATA_FAIL_REASON: Readonly<Record<MetadataFail, string>> = {
  missing_name: DiscardReason.metadataMissingMetricName,
  name_too_long: DiscardReason.metadataMetricNameTooLong,
  unit_too_long: DiscardReason.metadataUnitTooLong,
};
