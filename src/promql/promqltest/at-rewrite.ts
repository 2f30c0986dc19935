// The `@` re-run of the Go runner (atModifierTestCases): every vector selector, range selector
// and subquery without `@` gets `@ <eval time>`, selectors inside subqueries are left alone, and
// the re-run does not apply when the query calls a function that is not step-invariant. We insert
// ` @ <seconds>` into the query text right after each such node (its position range covers its
// modifiers), so positions in annotations stay those of the original text before each insertion.
import type { Expr } from '../ast.js';

/** Functions whose result depends on the evaluation time even with step-invariant arguments. */
export const AT_UNSAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  'time',
  'timestamp',
  'predict_linear',
  'start',
  'end',
  'range',
  'step',
  'hour',
  'minute',
  'month',
  'year',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
]);

/**
 * The insertion points (UTF-16 offsets) for `@`, or null when a call makes the re-run
 * inapplicable.
 */
export function atInsertionPoints(root: Expr): number[] | null {
  const points: number[] = [];
  let unsafe = false;
  const walk = (e: Expr): void => {
    switch (e.type) {
      case 'NumberLiteral':
      case 'StringLiteral':
        return;
      case 'VectorSelector':
        if (e.at === null) points.push(e.pos.end);
        return;
      case 'MatrixSelector':
        if (e.vectorSelector.at === null) points.push(e.pos.end);
        return;
      case 'SubqueryExpr':
        // Go sets the subquery's @ and then leaves everything under it untouched.
        if (e.at === null) points.push(e.pos.end);
        return;
      case 'ParenExpr':
      case 'UnaryExpr':
        walk(e.expr);
        return;
      case 'BinaryExpr':
        walk(e.lhs);
        walk(e.rhs);
        return;
      case 'AggregateExpr':
        if (e.param !== null) walk(e.param);
        walk(e.expr);
        return;
      case 'Call':
        if (AT_UNSAFE_FUNCTIONS.has(e.func.name)) unsafe = true;
        for (const a of e.args) walk(a);
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown node ${(never as { type: string }).type}`);
      }
    }
  };
  walk(root);
  return unsafe ? null : points.sort((a, b) => a - b);
}

/** `@ <seconds with 3 decimals>`, as Prometheus prints the modifier. */
export function formatAt(timeMs: number): string {
  return `@ ${(timeMs / 1000).toFixed(3)}`;
}

/** The query with ` @ <t>` inserted at each point (sorted offsets). */
export function insertAt(query: string, points: readonly number[], timeMs: number): string {
  let out = '';
  let last = 0;
  for (const p of points) {
    out += `${query.slice(last, p)} ${formatAt(timeMs)}`;
    last = p;
  }
  return out + query.slice(last);
}

/** An AtRewriter over a parse function (which must accept the experimental syntax of the scripts). */
export function makeAtRewriter(parse: (query: string) => Expr): (query: string, timeMs: number) => string | null {
  return (query, timeMs) => {
    let root: Expr;
    try {
      root = parse(query);
    } catch {
      return null; // the main run reports the parse error
    }
    const points = atInsertionPoints(root);
    return points === null ? null : insertAt(query, points, timeMs);
  };
}
