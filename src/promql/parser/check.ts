// Prometheus's checkAST: type checks and the semantic rules run after a clean parse, in the
// same order (children before their parent), so the first error is the one Prometheus reports.
import { type BinaryExpr, type Expr, isComparison, isSetOperator, type PosRange, typeOf, type ValueType, type VectorSelector } from '../ast.js';
import { argTypeAt, maxArgs, minArgs } from '../functions/signatures.js';
import type { RawMatching } from './build.js';
import { compileMatcher } from './matchers.js';
import { isSpace } from './lexer.js';
import { goQuoteString } from './tokens.js';

export class CheckError extends Error {
  constructor(
    readonly detail: string,
    readonly position: PosRange,
  ) {
    super(detail);
  }
}

/** Prometheus's DocumentedType. */
export function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

export function checkExpr(query: string, root: Expr, raw: { get(e: BinaryExpr): RawMatching | undefined }): void {
  const bypassEmptyCheck = new WeakSet<VectorSelector>();
  const fail = (detail: string, position: PosRange): never => {
    throw new CheckError(detail, position);
  };
  const expectType = (e: Expr, want: ValueType, context: string): void => {
    const t = check(e);
    if (t !== want) fail(`expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`, e.pos);
  };

  /** The checks of one binary expression whose operands have been checked. */
  const checkBinary = (e: BinaryExpr): void => {
    const lt = typeOf(e.lhs);
    const rt = check(e.rhs);
    const opRange = (): PosRange => {
      let start = e.lhs.pos.end;
      while (start < query.length && isSpace(query.charCodeAt(start))) start++;
      let end = e.rhs.pos.start - 1;
      while (end > start && isSpace(query.charCodeAt(end))) end--;
      return { start, end };
    };
    const m = raw.get(e);
    if (e.returnBool && !isComparison(e.op)) fail('bool modifier can only be used on comparison operators', opRange());
    if (isComparison(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') fail('comparisons between scalars must use BOOL modifier', opRange());
    if (m !== undefined && m.on) {
      for (const l of m.matchingLabels) {
        if (m.include.includes(l)) fail(`label ${goQuoteString(l)} must not occur in ON and GROUP clause at once`, opRange());
      }
    }
    if (lt !== 'scalar' && lt !== 'vector') fail('binary expression must contain only scalar and instant vector types', e.lhs.pos);
    if (rt !== 'scalar' && rt !== 'vector') fail('binary expression must contain only scalar and instant vector types', e.rhs.pos);
    if (m !== undefined) {
      if (lt !== 'vector' || rt !== 'vector') {
        if (m.matchingLabels.length > 0) fail('vector matching only allowed between instant vectors', e.pos);
        if (m.fill !== undefined) fail('filling in missing series only allowed between instant vectors', e.pos);
      } else if (isSetOperator(e.op)) {
        if (m.card === 'one-to-many' || m.card === 'many-to-one') fail(`no grouping allowed for ${goQuoteString(e.op)} operation`, e.pos);
        if (m.fill !== undefined) fail('filling in missing series not allowed for set operators', e.pos);
      }
    }
    if ((lt === 'scalar' || rt === 'scalar') && isSetOperator(e.op)) fail(`set operator ${goQuoteString(e.op)} not allowed in binary scalar expression`, e.pos);
  };

  const check = (e: Expr): ValueType => {
    const typ = typeOf(e);
    switch (e.type) {
      case 'AggregateExpr':
        expectType(e.expr, 'vector', 'aggregation expression');
        if (e.param !== null) expectType(e.param, e.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
        break;
      case 'BinaryExpr': {
        // children first, like the recursion, but walking a long left spine (`a + b + c + ...`)
        // without deep recursion
        const spine: BinaryExpr[] = [e];
        for (let l = e.lhs; l.type === 'BinaryExpr'; l = l.lhs) spine.push(l);
        check((spine[spine.length - 1] as BinaryExpr).lhs);
        for (let i = spine.length - 1; i > 0; i--) checkBinary(spine[i] as BinaryExpr);
        checkBinary(e);
        break;
      }
      case 'Call': {
        const f = e.func;
        const n = e.args.length;
        if (f.variadic === 0) {
          if (n !== f.argTypes.length) fail(`expected ${f.argTypes.length} argument(s) in call to ${goQuoteString(f.name)}, got ${n}`, e.pos);
        } else if (n < minArgs(f)) {
          fail(`expected at least ${minArgs(f)} argument(s) in call to ${goQuoteString(f.name)}, got ${n}`, e.pos);
        } else if (n > maxArgs(f)) {
          fail(`expected at most ${maxArgs(f)} argument(s) in call to ${goQuoteString(f.name)}, got ${n}`, e.pos);
        }
        const second = e.args[1];
        if (f.name === 'info' && second !== undefined) {
          const t2 = typeOf(second);
          if (t2 !== 'vector') fail(`expected type instant vector in call to function ${goQuoteString(f.name)}, got ${documentedType(t2)}`, e.pos);
          if (second.type === 'VectorSelector' && second.name !== '') fail('expected label selectors only, got vector selector instead', second.pos);
          else if (second.type === 'VectorSelector') bypassEmptyCheck.add(second);
          else fail('expected label selectors only', second.pos);
        }
        e.args.forEach((arg, i) => {
          const want = argTypeAt(f, i);
          if (want === undefined) return;
          const t = check(arg);
          if (t !== want) fail(`expected type ${documentedType(want)} in call to function ${goQuoteString(f.name)}, got ${documentedType(t)}`, arg.pos);
        });
        break;
      }
      case 'ParenExpr':
        check(e.expr);
        break;
      case 'UnaryExpr': {
        const t = check(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          fail(`unary expression only allowed on expressions of type scalar or instant vector, got ${goQuoteString(documentedType(t))}`, e.pos);
        }
        break;
      }
      case 'SubqueryExpr': {
        const t = check(e.expr);
        if (t !== 'vector') fail(`subquery is only allowed on instant vector, got ${t} instead`, e.pos);
        break;
      }
      case 'MatrixSelector':
        check(e.vectorSelector);
        break;
      case 'VectorSelector': {
        if (e.name !== '') {
          // the last matcher is the name given outside the braces
          for (const m of e.matchers.slice(0, -1)) {
            if (m.name === '__name__') fail(`metric name must not be set twice: ${goQuoteString(e.name)} or ${goQuoteString(m.value)}`, e.pos);
          }
          break;
        }
        if (!bypassEmptyCheck.has(e) && !e.matchers.some((m) => !compileMatcher(m.type, m.name, m.value).matchesEmpty)) {
          fail('vector selector must contain at least one non-empty matcher', e.pos);
        }
        break;
      }
      case 'NumberLiteral':
      case 'StringLiteral':
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown node ${(never as { type: string }).type}`);
      }
    }
    return typ;
  };
  check(root);
}
