export {
  EMPTY_LABELS,
  METRIC_NAME,
  LabelsBuilder,
  labelsFromStrings,
  labelsFromPairs,
  labelsFromRecord,
  unsafeLabelsFromSorted,
  labelsCount,
  labelName,
  labelValue,
  labelsGet,
  labelsHas,
  labelsEqual,
  labelsCompare,
  labelsToString,
  labelsToRecord,
} from './labels.js';
export type { Labels } from './labels.js';
export { LabelsHasher, labelsHash, fnv1_32, fnv1_32String, seriesToken, FNV1_32_OFFSET, FNV1_32_PRIME } from './hash.js';
export { SymbolTable } from './symbols.js';
export { Matcher, eq, neq, re, nre } from './matcher.js';
export type { MatchType } from './matcher.js';
export { InvalidLabelsError, InvalidMatcherError } from './errors.js';
export type { InvalidLabelsReason, InvalidMatcherReason } from './errors.js';
export { compareStrings, goQuote, isLegacyLabelName, formatLabelName } from './strings.js';
