// Syntax error messages as Prometheus's yacc grammar words them: "unexpected <token>" plus the
// context its error rules add ("in label matching, expected string", "in grouping opts,
// expected label", "in offset, ...", "in @, expected timestamp", ...). Lezer says where the
// first syntax error is; the context comes from the tokens before it.
import { AGGREGATORS, describeToken, type Token, type TokenKind } from './tokens.js';

export interface SyntaxErrorInfo {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

type Paren = 'group' | 'aggr' | 'other';

const MATCH_OPS: ReadonlySet<TokenKind> = new Set<TokenKind>(['EQL', 'NEQ', 'EQL_REGEX', 'NEQ_REGEX']);

/** The message for a syntax error first detected at query position `pos`. */
export function syntaxError(query: string, tokens: readonly Token[], pos: number): SyntaxErrorInfo {
  let k = tokens.findIndex((t) => t.kind === 'EOF' || t.end > pos);
  if (k < 0) k = tokens.length;
  const tok: Token = tokens[k] ?? { kind: 'EOF', start: query.length, end: query.length, text: '' };
  const msg = `unexpected ${describeToken(tok)}${context(tokens, k, tok)}`;
  return { message: msg, start: tok.start, end: tok.end };
}

function context(tokens: readonly Token[], k: number, tok: Token): string {
  let braces = false;
  let brackets = false;
  let colon = false;
  const parens: Paren[] = [];
  /** depths of the open by/without groupings (whose closing paren may precede an aggregation body) */
  const groupOpen: number[] = [];
  let lastClosed: 'aggrGroup' | null = null;
  let lastClosedAggregateBody = false;
  for (let i = 0; i < k; i++) {
    const t = tokens[i] as Token;
    const prev = tokens[i - 1];
    switch (t.kind) {
      case 'LEFT_BRACE':
        braces = true;
        break;
      case 'RIGHT_BRACE':
        braces = false;
        break;
      case 'LEFT_BRACKET':
        brackets = true;
        colon = false;
        break;
      case 'RIGHT_BRACKET':
        brackets = false;
        break;
      case 'COLON':
        colon = true;
        break;
      case 'LEFT_PAREN': {
        const pk = prev?.kind;
        const group = pk === 'ON' || pk === 'IGNORING' || pk === 'GROUP_LEFT' || pk === 'GROUP_RIGHT' || ((pk === 'BY' || pk === 'WITHOUT') && groupingKeyword(tokens, i - 1));
        const aggr = (pk !== undefined && AGGREGATORS.has(pk)) || (pk === 'RIGHT_PAREN' && lastClosed === 'aggrGroup');
        parens.push(group ? 'group' : aggr ? 'aggr' : 'other');
        if (group && (pk === 'BY' || pk === 'WITHOUT')) groupOpen.push(parens.length);
        break;
      }
      case 'RIGHT_PAREN': {
        lastClosed = groupOpen[groupOpen.length - 1] === parens.length ? 'aggrGroup' : null;
        if (lastClosed !== null) groupOpen.pop();
        parens.pop();
        break;
      }
      default:
        break;
    }
    lastClosedAggregateBody = t.kind === 'RIGHT_PAREN' && closesAggregateBody(tokens, i);
    if (t.kind !== 'RIGHT_PAREN') lastClosed = null;
  }
  const prev = tokens[k - 1];
  const pk = prev?.kind;
  if (braces) {
    if (pk === 'LEFT_BRACE' || pk === 'COMMA') return ' in label matching, expected identifier or "}"';
    if (pk === 'IDENTIFIER') return ' in label matching, expected label matching operator';
    if (pk !== undefined && MATCH_OPS.has(pk)) return ' in label matching, expected string';
    return ' in label matching, expected "," or "}"';
  }
  if (brackets) {
    const complete = pk === 'NUMBER' || pk === 'DURATION' || pk === 'RIGHT_PAREN';
    if (!colon) return complete ? ' in subquery or range, expected ":" or "]"' : ' in subquery or range selector, expected number, duration, step(), or range()';
    if (pk === 'COLON') return ' in subquery selector, expected number, duration, step(), range(), or "]"';
    return complete ? ' in subquery selector, expected "]"' : ' in subquery or range selector, expected number, duration, step(), or range()';
  }
  if (parens[parens.length - 1] === 'group') {
    if (pk === 'LEFT_PAREN' || pk === 'COMMA') return ' in grouping opts, expected label';
    return ' in grouping opts, expected "," or ")"';
  }
  if (tok.kind !== 'LEFT_PAREN' && (pk === 'ON' || pk === 'IGNORING' || pk === 'GROUP_LEFT' || pk === 'GROUP_RIGHT' || ((pk === 'BY' || pk === 'WITHOUT') && (groupingKeyword(tokens, k - 1) || lastClosedAggregateBody)))) {
    return ' in grouping opts, expected "("';
  }
  let j = k - 1;
  while (tokens[j]?.kind === 'ADD' || tokens[j]?.kind === 'SUB') j--;
  if (tokens[j]?.kind === 'OFFSET' && !isOperand(tokens, j)) return ' in offset, expected number, duration, step(), or range()';
  if (tokens[j]?.kind === 'AT') return ' in @, expected timestamp';
  if ((pk === 'START' || pk === 'END') && tokens[k - 2]?.kind === 'AT') return ' in @, expected timestamp';
  // yacc's error recovery unwinds to the enclosing aggregation's `aggregate_op error` rule
  if (parens.includes('aggr')) return ' in aggregation';
  return '';
}

/** Whether by/without at index i follows an aggregation operator (else it is a metric name). */
function groupingKeyword(tokens: readonly Token[], i: number): boolean {
  const before = tokens[i - 1];
  if (before === undefined) return false;
  if (AGGREGATORS.has(before.kind)) return true;
  return before.kind === 'RIGHT_PAREN' && closesAggregateBody(tokens, i - 1);
}

/** Whether the `)` at index i closes `agg(...)` (the body of an aggregation). */
function closesAggregateBody(tokens: readonly Token[], i: number): boolean {
  let depth = 0;
  for (let j = i; j >= 0; j--) {
    const t = tokens[j] as Token;
    if (t.kind === 'RIGHT_PAREN') depth++;
    else if (t.kind === 'LEFT_PAREN') {
      depth--;
      if (depth === 0) {
        const before = tokens[j - 1];
        if (before === undefined) return false;
        if (AGGREGATORS.has(before.kind)) return true;
        // `sum by (x) (...)`
        if (before.kind === 'RIGHT_PAREN') return false;
        return false;
      }
    }
  }
  return false;
}

/** Whether the `offset` at index i stands where an operand is expected (a metric name). */
function isOperand(tokens: readonly Token[], i: number): boolean {
  const prev = tokens[i - 1];
  if (prev === undefined) return true;
  return ['LEFT_PAREN', 'COMMA', 'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW', 'EQLC', 'NEQ', 'LSS', 'LTE', 'GTR', 'GTE', 'TRIM_UPPER', 'TRIM_LOWER', 'LAND', 'LOR', 'LUNLESS', 'ATAN2', 'BOOL'].includes(prev.kind);
}
