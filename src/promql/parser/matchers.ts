// Label matcher validation for the parser, on the same matcher implementation storage uses
// (../../tsdb/labels: RE2 via re2js), with Go's regexp error text as Prometheus reports it.
import { RE2JS } from 're2js';
import type { LabelMatcher } from '../ast.js';
import { Matcher } from '../../tsdb/labels/index.js';

export interface CompiledMatcher {
  /** Prometheus's message for an invalid regex (`error parsing regexp: missing closing ): `(``), else null */
  readonly error: string | null;
  /** whether the matcher selects series without the label (only meaningful without error) */
  readonly matchesEmpty: boolean;
}

export function compileMatcher(type: LabelMatcher['type'], name: string, value: string): CompiledMatcher {
  try {
    return { error: null, matchesEmpty: new Matcher(type, name, value).matchesEmpty };
  } catch (err) {
    let message = err instanceof Error ? err.message : String(err);
    try {
      RE2JS.compile(value);
    } catch (plain) {
      if (plain instanceof Error && plain.message !== '') message = plain.message;
    }
    return { error: message, matchesEmpty: false };
  }
}
