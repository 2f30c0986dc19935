// The parser's error: Prometheus's ParseErr, printed `<line>:<col>: parse error: <detail>`.
import type { PosRange } from '../ast.js';
import { PromQLError } from '../engine/api.js';
import { utf8Length } from './tokens.js';

export class ParseError extends PromQLError {
  /** where in the query (UTF-16 offsets, like AST positions) */
  readonly position: PosRange;
  /** the message without the position prefix, e.g. `unexpected end of input` */
  readonly detail: string;

  constructor(query: string, position: PosRange, detail: string) {
    super('bad_data', `${positionString(query, position.start)}: parse error: ${detail}`);
    this.name = 'ParseError';
    this.position = position;
    this.detail = detail;
  }
}

/**
 * Prometheus's PositionRange.StartPosInput: `line:col`, both 1-based, the column counted in UTF-8
 * bytes as Prometheus counts it; "unknown position" for an empty query.
 */
export function positionString(query: string, pos: number): string {
  if (query === '') return 'unknown position';
  if (pos < 0 || pos > query.length) return 'invalid position';
  const before = query.slice(0, pos);
  const lastBreak = before.lastIndexOf('\n');
  let line = 1;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 0x0a) line++;
  const col = utf8Length(before.slice(lastBreak + 1)) + 1;
  return `${line}:${col}`;
}
