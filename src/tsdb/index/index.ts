export { MemPostings, MAX_SERIES_REF } from './postings.js';
export type { PostingsStats } from './postings.js';
export {
  EMPTY_POSTINGS,
  intersect,
  intersectAll,
  intersects,
  union,
  unionAll,
  subtract,
  lowerBound,
  gallop,
} from './postings-ops.js';
export { select, labelValuesFor, labelNamesFor } from './select.js';
