// Rewrites the query, token by token, into text that the lezer grammar reads with the same
// structure Prometheus's yacc grammar gives the original, and maps lezer's positions back.
//
// The two grammars differ at the edges; this closes the gaps:
// - numbers and durations become digit runs of the same length (lezer has no `5.`, `0X1F`,
//   `0x_1F`, out-of-order `5m1h`; the values are read from the original tokens anyway);
// - strings become `"xx..."` of the same length (values come from the original tokens);
// - comments become spaces (Prometheus ends a comment at \r too);
// - a call of a function lezer does not know (`foo(x)`, `min_of(a, b)` outside a duration) gets
//   a name lezer knows, so it parses as a call; the builder reports unknown names;
// - `offset` where an operand is expected is a metric name for Prometheus, a keyword for lezer:
//   it becomes an identifier; `atan2` there is an error for Prometheus but a metric name for
//   lezer: it becomes `*`, which lezer rejects at the same place;
// - binary operators become `^` (see below);
// - a trailing comma in call arguments is an error for Prometheus that does not stop parsing;
//   it is blanked out and reported by the builder.
import type { Token, TokenKind } from './tokens.js';

/** Function names lezer's grammar recognizes in expressions. */
const LEZER_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    'abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max clamp_min cos cosh ' +
    'count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv double_exponential_smoothing exp ' +
    'first_over_time floor histogram_avg histogram_count histogram_fraction histogram_quantile histogram_quantiles histogram_stddev ' +
    'histogram_stdvar histogram_sum hour idelta increase info irate label_join label_replace last_over_time ln log10 log2 ' +
    'mad_over_time max_over_time min_over_time minute month pi predict_linear present_over_time quantile_over_time rad range rate ' +
    'resets round scalar sgn sin sinh sort sort_by_label sort_by_label_desc sort_desc sqrt start_timestamp stddev_over_time ' +
    'stdvar_over_time step sum_over_time tan tanh time timestamp ts_of_first_over_time ts_of_last_over_time ts_of_max_over_time ' +
    'ts_of_min_over_time vector year'
  ).split(' '),
);

const BINARY_OPERATORS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW', 'EQLC', 'NEQ', 'LSS', 'LTE', 'GTR', 'GTE', 'TRIM_UPPER', 'TRIM_LOWER', 'LAND', 'LOR', 'LUNLESS',
  'ATAN2',
]);

const CALLABLE: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'IDENTIFIER', 'SUM', 'AVG', 'COUNT', 'MIN', 'MAX', 'GROUP', 'STDDEV', 'STDVAR', 'TOPK', 'BOTTOMK', 'COUNT_VALUES', 'QUANTILE',
  'LIMITK', 'LIMIT_RATIO', 'START', 'END', 'STEP', 'RANGE', 'MIN_OF', 'MAX_OF',
]);

type ParenKind = 'call' | 'group' | 'aggrGroup' | 'fill' | 'dur' | 'paren';

export interface SanitizeNote {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

export interface Sanitized {
  /** the text for lezer */
  readonly text: string;
  /** a position in `text` to the query's position */
  toOriginal(pos: number): number;
  /** trailing commas in call arguments (reported by the builder in order with its own errors) */
  readonly trailingCommas: readonly SanitizeNote[];
}

interface Segment {
  s: number;
  sEnd: number;
  o: number;
  oEnd: number;
}

export function sanitize(query: string, tokens: readonly Token[], lexErrorAt: number | null): Sanitized {
  let text = '';
  const segs: Segment[] = [];
  const push = (piece: string, oStart: number, oEnd: number): void => {
    segs.push({ s: text.length, sEnd: text.length + piece.length, o: oStart, oEnd });
    text += piece;
  };
  const trailingCommas: SanitizeNote[] = [];
  // Two tokens written together (`1h30m.5`, `NaN.5`) could run into one lezer token once
  // replaced: keep them apart with a space that maps to nothing in the query.
  const emit = (piece: string, t: Token): void => {
    if (text.length > 0 && segs[segs.length - 1]?.oEnd === t.start && /[\w:.]$/.test(text) && /^[\w:.]/.test(piece)) push(' ', t.start, t.start);
    push(piece, t.start, t.end);
  };
  const stack: ParenKind[] = [];
  let bracketDepth = 0;
  let lastClosed: ParenKind | null = null;
  let binaryCount = 0;
  let braces = false;
  let cursor = 0;

  // the token before i, skipping unary signs when looking for `offset`/`@` contexts
  const kindAt = (i: number): TokenKind | undefined => tokens[i]?.kind;
  const afterOffset = (i: number): boolean => {
    let j = i - 1;
    while (kindAt(j) === 'ADD' || kindAt(j) === 'SUB') j--;
    return kindAt(j) === 'OFFSET';
  };
  const inDuration = (i: number): boolean => bracketDepth > 0 || stack[stack.length - 1] === 'dur' || afterOffset(i);
  // whether the next token stands where an operand is expected (so `and`, `offset` there are metric names)
  let expectNext = true;
  const expectsOperandAfter = (t: Token, i: number, operandHere: boolean): boolean => {
    const top = stack[stack.length - 1];
    switch (t.kind) {
      case 'LAND':
      case 'LOR':
      case 'LUNLESS':
        return !operandHere; // at an operand position they are metric names
      case 'LEFT_PAREN':
        return true;
      case 'COMMA':
        return top === 'call' || top === 'dur';
      case 'BOOL':
      case 'GROUP_LEFT':
      case 'GROUP_RIGHT':
      case 'AT':
        return true;
      case 'OFFSET':
        return !operandHere || inDuration(i);
      case 'RIGHT_PAREN': {
        // the paren is popped below; peek at what it closes
        return top === 'group' || top === 'fill';
      }
      default:
        return BINARY_OPERATORS.has(t.kind);
    }
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'EOF') break;
    if (t.start > cursor) push(query.slice(cursor, t.start).replace(/[^\n]/g, ' '), cursor, t.start);
    cursor = t.end;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    let piece = t.text;
    const expectOperand = expectNext;
    expectNext = expectsOperandAfter(t, i, expectOperand);

    if (t.kind === 'LEFT_BRACE') braces = true;
    else if (t.kind === 'RIGHT_BRACE') braces = false;
    const top = stack[stack.length - 1];
    if (BINARY_OPERATORS.has(t.kind) && !expectOperand && !braces && bracketDepth === 0 && top !== 'dur' && top !== 'group' && top !== 'aggrGroup') {
      // Every binary operator becomes `^` (the builder reads operators from the tokens and
      // re-associates): lezer force-breaks long left-associative chains (`a + b + ...` with a
      // few hundred terms), right-associative ones it parses. Every 64th stays `+` so that the
      // nesting stays shallow.
      piece = (binaryCount++ % 64 === 63 ? '+' : '^') + ' '.repeat(t.text.length - 1);
      emit(piece, t);
      continue;
    }
    switch (t.kind) {
      case 'NUMBER':
      case 'DURATION':
        // `.5` may directly follow an identifier or Inf/NaN (`rate.5`, `NaN.5`): keep the dot and
        // the words so the tokens stay apart
        const grouping = stack[stack.length - 1] === 'group' || stack[stack.length - 1] === 'aggrGroup';
        if (/^(inf|nan)$/i.test(t.text) && !grouping) piece = t.text.toLowerCase();
        else piece = t.text.startsWith('.') ? '.' + '1'.repeat(t.text.length - 1) : '1'.repeat(t.text.length);
        break;
      case 'STRING':
        piece = '"' + 'x'.repeat(t.text.length - 2) + '"';
        break;
      case 'OFFSET':
        if (expectOperand && !inDuration(i)) piece = 'o' + '_'.repeat(t.text.length - 1);
        break;
      case 'ATAN2':
        if (expectOperand) piece = '*' + ' '.repeat(t.text.length - 1);
        else piece = 'atan2';
        break;
      case 'STEP':
      case 'RANGE':
      case 'MIN_OF':
      case 'MAX_OF':
      case 'START':
      case 'END':
        // lezer matches these function names case-sensitively; Prometheus does not
        piece = t.text.toLowerCase();
        break;
      case 'IDENTIFIER':
        if (next?.kind === 'LEFT_PAREN' && !LEZER_FUNCTIONS.has(t.text)) {
          const durFn = (t.text === 'min_of' || t.text === 'max_of') && inDuration(i);
          if (!durFn) piece = 'abs';
        }
        break;
      case 'COMMA':
        if (
          (next?.kind === 'RIGHT_PAREN' || next?.kind === 'COMMA') &&
          prev?.kind !== 'LEFT_PAREN' &&
          prev?.kind !== 'COMMA' &&
          stack[stack.length - 1] === 'call'
        ) {
          piece = ' ';
          trailingCommas.push({ message: 'trailing commas not allowed in function call args', start: t.start, end: t.end });
        }
        break;
      case 'LEFT_PAREN': {
        let kind: ParenKind = 'paren';
        const pk = prev?.kind;
        const durCall = pk !== undefined && CALLABLE.has(pk) && afterOffset(i - 1);
        if (bracketDepth > 0 || stack[stack.length - 1] === 'dur' || afterOffset(i) || durCall) {
          kind = 'dur';
        } else if (pk === 'BY' || pk === 'WITHOUT') kind = 'aggrGroup';
        else if (pk === 'ON' || pk === 'IGNORING' || pk === 'GROUP_LEFT' || pk === 'GROUP_RIGHT') kind = 'group';
        else if (pk === 'FILL' || pk === 'FILL_LEFT' || pk === 'FILL_RIGHT') kind = 'fill';
        else if (pk !== undefined && CALLABLE.has(pk)) kind = 'call';
        else if (pk === 'RIGHT_PAREN' && lastClosed === 'aggrGroup') kind = 'call';
        stack.push(kind);
        break;
      }
      case 'RIGHT_PAREN':
        lastClosed = stack.pop() ?? null;
        break;
      case 'LEFT_BRACKET':
        bracketDepth++;
        break;
      case 'RIGHT_BRACKET':
        bracketDepth = Math.max(0, bracketDepth - 1);
        break;
      default:
        break;
    }
    emit(piece, t);
  }
  if (cursor < query.length) {
    const tail = query.slice(cursor);
    if (lexErrorAt !== null) push(tail, cursor, query.length);
    else push(tail.replace(/[^\n]/g, ' '), cursor, query.length);
  }

  const toOriginal = (pos: number): number => {
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const sg = segs[mid] as Segment;
      if (pos < sg.s) hi = mid - 1;
      else if (pos >= sg.sEnd && !(pos === sg.sEnd && mid === segs.length - 1)) lo = mid + 1;
      else {
        if (sg.sEnd - sg.s === sg.oEnd - sg.o) return sg.o + (pos - sg.s);
        return pos === sg.s ? sg.o : sg.oEnd;
      }
    }
    return pos <= 0 ? 0 : query.length;
  };
  return { text, toOriginal, trailingCommas };
}
