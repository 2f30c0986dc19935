// typeOf (../ast.ts) without re-walking subtrees: binary chains thousands of operators long are
// typed in linear time.
import type { Expr, ValueType } from '../ast.js';

const cache = new WeakMap<Expr, ValueType>();

/** The type an expression evaluates to (Prometheus Expr.Type()). */
export function exprType(e: Expr): ValueType {
  switch (e.type) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'Call':
      return e.func.returnType;
    default:
      break;
  }
  const known = cache.get(e);
  if (known !== undefined) return known;
  let t: ValueType;
  switch (e.type) {
    case 'ParenExpr':
    case 'UnaryExpr':
      t = exprType(e.expr);
      break;
    case 'BinaryExpr':
      t = exprType(e.lhs) === 'scalar' && exprType(e.rhs) === 'scalar' ? 'scalar' : 'vector';
      break;
    default: {
      const never: never = e;
      throw new Error(`unknown node ${(never as { type: string }).type}`);
    }
  }
  cache.set(e, t);
  return t;
}
