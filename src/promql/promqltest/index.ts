// Conformance runner for Prometheus's promqltest scripts (../shared/conformance/promqltest):
// parses the script language, loads the data into an in-memory Queryable, runs each eval against
// the engine and checks the result as Prometheus's Go runner does. CLI: ./cli.ts
// (`npm run promqltest`). See docs/promql.md, "Conformance".
export { parseScript, isFail, isOrdered, Expectation } from './script.js';
export type { Command, ClearCommand, LoadCommand, LoadSeries, EvalCommand, ErrorCommand, ExpectedSeries } from './script.js';
export { parseSeriesDesc, parseIdentity, parseValues, parseHistogramLiteral, parseSTSequence } from './series.js';
export type { SeriesDesc } from './series.js';
export { Sequence, Slot } from './sequence.js';
export type { HistValue } from './sequence.js';
export { parseGoNumber, parseDurationMs, readStringLiteral, unquote, ScriptError } from './numbers.js';
export { TestStorage, AppendError } from './storage.js';
export { almostEqual, histogramsMatch, compareResult, checkAnnotations, checkExpectedFailure, formatValue, DEFAULT_EPSILON } from './compare.js';
export { histogramExpression, combineHistograms } from './hist.js';
export { ScriptRunner, load } from './runner.js';
export type { QueryEngine, AtRewriter, CaseResult, CaseStatus, RunOptions } from './runner.js';
export { makeAtRewriter, atInsertionPoints, AT_UNSAFE_FUNCTIONS } from './at-rewrite.js';
export { UNSUPPORTED_FEATURES, unsupportedFeature } from './unsupported.js';
export type { UnsupportedFeature, EvalContext } from './unsupported.js';
export {
  ENGINE_OPTIONS,
  PARSER_OPTIONS,
  collectTestFiles,
  runFiles,
  totals,
  summarize,
  parseKnownFailures,
  checkKnownFailures,
  formatKnownFailures,
  formatFailure,
} from './corpus.js';
export type { CorpusRun, FileSummary, KnownFailuresCheck } from './corpus.js';
export { createEngine, createAtRewriter } from './engine-binding.js';
