// The PromQL syntax tree (after Prometheus promql/parser/ast.go), produced by the parser
// (./parser/) from @prometheus-io/lezer-promql's concrete tree, evaluated by the engine
// (./engine/). Times and durations are in milliseconds; positions are UTF-16 offsets into the
// query string. Nodes are plain readonly objects discriminated by `type`.
import type { MatchType } from '../tsdb/labels/index.js';

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string' | 'none';

export interface PosRange {
  readonly start: number;
  readonly end: number;
}

export interface LabelMatcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
}

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^' | 'atan2'
  | '==' | '!=' | '>' | '<' | '>=' | '<='
  /** native histogram trim operators: `h </ x` drops observations above x, `h >/ x` below x */
  | '</' | '>/'
  | 'and' | 'or' | 'unless';

export type AggregateOp =
  | 'sum' | 'avg' | 'count' | 'min' | 'max' | 'group' | 'stddev' | 'stdvar'
  | 'topk' | 'bottomk' | 'quantile' | 'count_values' | 'limitk' | 'limit_ratio';

/** @ modifier: a fixed time, or start()/end() of the query (resolved by the engine). */
export type AtModifier = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' } | { readonly kind: 'end' };

export interface NumberLiteral {
  readonly type: 'NumberLiteral';
  readonly val: number;
  readonly pos: PosRange;
  /** written as a duration (`1h` = 3600): printed back as a duration */
  readonly duration?: boolean;
}

export interface StringLiteral {
  readonly type: 'StringLiteral';
  readonly val: string;
  readonly pos: PosRange;
}

export interface VectorSelector {
  readonly type: 'VectorSelector';
  /** The metric name if given as `name{...}`, else ''. The matchers always include it (as __name__="name"). */
  readonly name: string;
  readonly matchers: readonly LabelMatcher[];
  /** offset in ms (negative offsets allowed) */
  readonly offset: number;
  readonly at: AtModifier | null;
  readonly pos: PosRange;
  /** the offset as written when it is a duration expression (see DurationExpr) */
  readonly offsetExpr?: DurationExpr;
  /** experimental extended range selectors: `x[5m] anchored` / `x[5m] smoothed` (set on the range's selector) */
  readonly anchored?: boolean;
  readonly smoothed?: boolean;
}

export interface MatrixSelector {
  readonly type: 'MatrixSelector';
  /** its offset / @ are those of the range selector */
  readonly vectorSelector: VectorSelector;
  /** range in ms */
  readonly range: number;
  readonly pos: PosRange;
  /** the range as written when it is a duration expression (see DurationExpr) */
  readonly rangeExpr?: DurationExpr;
}

export interface SubqueryExpr {
  readonly type: 'SubqueryExpr';
  readonly expr: Expr;
  readonly range: number;
  /** step in ms; 0 = the engine's default evaluation interval */
  readonly step: number;
  readonly offset: number;
  readonly at: AtModifier | null;
  readonly pos: PosRange;
  /** range, step and offset as written when they are duration expressions (see DurationExpr) */
  readonly rangeExpr?: DurationExpr;
  readonly stepExpr?: DurationExpr;
  readonly offsetExpr?: DurationExpr;
}

export interface ParenExpr {
  readonly type: 'ParenExpr';
  readonly expr: Expr;
  readonly pos: PosRange;
}

export interface UnaryExpr {
  readonly type: 'UnaryExpr';
  readonly op: '+' | '-';
  readonly expr: Expr;
  readonly pos: PosRange;
}

export type VectorMatchCardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

export interface VectorMatching {
  readonly card: VectorMatchCardinality;
  /** the on(...) / ignoring(...) labels */
  readonly matchingLabels: readonly string[];
  /** true for on(...), false for ignoring(...) (and for no clause: ignoring nothing) */
  readonly on: boolean;
  /** group_left(...) / group_right(...) extra labels */
  readonly include: readonly string[];
  /** experimental fill modifiers: `fill(v)`, `fill_left(v)`, `fill_right(v)`; null = no filling on that side */
  readonly fill?: { readonly lhs: number | null; readonly rhs: number | null };
}

export interface BinaryExpr {
  readonly type: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  /** comparison with the bool modifier */
  readonly returnBool: boolean;
  /** set when both sides are vectors; null otherwise */
  readonly matching: VectorMatching | null;
  readonly pos: PosRange;
}

export interface AggregateExpr {
  readonly type: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** topk/bottomk/limitk/limit_ratio/quantile: a number expr; count_values: a string expr */
  readonly param: Expr | null;
  readonly grouping: readonly string[];
  /** without(...) rather than by(...) */
  readonly without: boolean;
  readonly pos: PosRange;
}

/**
 * A duration written as arithmetic (experimental duration expressions): `[26m+4m]`,
 * `[step()*2:]`, `offset -(min_of(range(), 5m))`. Numbers are seconds, as Prometheus evaluates
 * them. The parser folds expressions without step()/range() into the ms field next to them
 * (range, step, offset) and keeps the expression for printing; with step() or range() the ms
 * field stays 0 until resolveDurationExprs() (./parser/) evaluates them for a query.
 */
export type DurationExpr =
  | { readonly type: 'DurationNumber'; readonly seconds: number; /** written as a duration (`5m`) */ readonly duration: boolean }
  | { readonly type: 'DurationStep' }
  | { readonly type: 'DurationRange' }
  | { readonly type: 'DurationUnary'; readonly op: '+' | '-'; readonly expr: DurationExpr }
  | { readonly type: 'DurationBinary'; readonly op: '+' | '-' | '*' | '/' | '%' | '^'; readonly lhs: DurationExpr; readonly rhs: DurationExpr }
  | { readonly type: 'DurationCall'; readonly func: 'min_of' | 'max_of'; readonly lhs: DurationExpr; readonly rhs: DurationExpr }
  | { readonly type: 'DurationParen'; readonly expr: DurationExpr };

export interface FunctionSignature {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  /** number of trailing optional arguments of argTypes; -1 = the last one repeats without bound */
  readonly variadic: number;
  readonly returnType: ValueType;
  /** not in Prometheus's default function set (needs a feature flag there) */
  readonly experimental: boolean;
}

export interface Call {
  readonly type: 'Call';
  readonly func: FunctionSignature;
  readonly args: readonly Expr[];
  readonly pos: PosRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;

const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['and', 'or', 'unless']);

export function isComparison(op: BinaryOp): boolean {
  return COMPARISON_OPS.has(op);
}

export function isSetOperator(op: BinaryOp): boolean {
  return SET_OPS.has(op);
}

/** The expression without enclosing parentheses. */
export function unwrapParens(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

const typeCache = new WeakMap<Expr, ValueType>();

/**
 * The type an expression evaluates to (Prometheus Expr.Type()). Types of parentheses, unary and
 * binary expressions are cached per node, so that binary chains thousands of operators long are
 * typed in linear time while the parser builds them bottom-up.
 */
export function typeOf(e: Expr): ValueType {
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
  const known = typeCache.get(e);
  if (known !== undefined) return known;
  let t: ValueType;
  switch (e.type) {
    case 'ParenExpr':
    case 'UnaryExpr':
      t = typeOf(e.expr);
      break;
    case 'BinaryExpr':
      t = typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
      break;
    default: {
      const never: never = e;
      throw new Error(`unknown node ${(never as { type: string }).type}`);
    }
  }
  typeCache.set(e, t);
  return t;
}
