// Errors of the label layer. Both come from user input (remote-write series, PromQL selectors),
// so they are 'bad_data' (HTTP 400, gRPC INVALID_ARGUMENT) and never retryable.
import { MuninnError } from '../../errors/index.js';

export type InvalidLabelsReason = 'duplicate_label_name' | 'empty_label_name';

/** A label set that cannot be a series: a name given twice, or an empty name. */
export class InvalidLabelsError extends MuninnError {
  readonly reason: InvalidLabelsReason;
  /** The offending label name ('' for an empty name). */
  readonly labelName: string;
  constructor(reason: InvalidLabelsReason, labelName: string, message: string) {
    super('bad_data', message);
    this.name = 'InvalidLabelsError';
    this.reason = reason;
    this.labelName = labelName;
  }
}

export type InvalidMatcherReason = 'invalid_regex' | 'invalid_match_type';

/** A label matcher that cannot be built: a malformed RE2 regex or an unknown operator. */
export class InvalidMatcherError extends MuninnError {
  readonly reason: InvalidMatcherReason;
  constructor(reason: InvalidMatcherReason, message: string, options?: { cause?: unknown }) {
    super('bad_data', message, options);
    this.name = 'InvalidMatcherError';
    this.reason = reason;
  }
}
