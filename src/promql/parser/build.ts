// Builds the AST (../ast.ts) from lezer's concrete tree, reading every literal from the original
// query through the position map, and collects the errors Prometheus's grammar actions raise
// while parsing (bad numbers/durations/regexes, unknown functions, misplaced offset/@, ...).
// A subtree containing an error node is not built (Bail): its errors are lezer's to report.
import type {
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  FunctionSignature,
  LabelMatcher,
  NumberLiteral,
  StringLiteral,
  VectorMatchCardinality,
  VectorSelector,
} from '../ast.js';
import { isSetOperator, typeOf } from '../ast.js';
import { EXPERIMENTAL_AGGREGATIONS, FUNCTION_SIGNATURES } from '../functions/signatures.js';
import { Bail, BuildContext, type Mutable, type RawMatching, type SyntaxNode } from './build-context.js';
import { duration } from './build-durations.js';
import { atExpr, extendedRange, matrixSelector, offsetExpr, subquery } from './build-modifiers.js';
import { compileMatcher } from './matchers.js';
import { goQuoteString, type Token } from './tokens.js';

export { Bail, type ParseOptions, type PendingError, type RawMatching } from './build-context.js';

const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Pow: '^', Mul: '*', Div: '/', Mod: '%', Atan2: 'atan2', Add: '+', Sub: '-', Eql: '==', Gte: '>=', Gtr: '>', Lte: '<=', Lss: '<',
  Neq: '!=', TrimUpper: '</', TrimLower: '>/', And: 'and', Or: 'or', Unless: 'unless',
};

const SALVAGE_EXPRS: ReadonlySet<string> = new Set([
  'NumberDurationLiteral', 'StringLiteral', 'VectorSelector', 'MatrixSelector', 'SubqueryExpr', 'OffsetExpr', 'StepInvariantExpr',
  'AnchoredExpr', 'SmoothedExpr', 'ParenExpr', 'UnaryExpr', 'BinaryExpr', 'FunctionCall', 'AggregateExpr',
]);

const TOKEN_OPS: Readonly<Partial<Record<Token['kind'], BinaryOp>>> = {
  POW: '^', MUL: '*', DIV: '/', MOD: '%', ATAN2: 'atan2', ADD: '+', SUB: '-', EQLC: '==', GTE: '>=', GTR: '>', LTE: '<=', LSS: '<',
  NEQ: '!=', TRIM_UPPER: '</', TRIM_LOWER: '>/', LAND: 'and', LOR: 'or', LUNLESS: 'unless',
};

const AGGREGATE_OPS: Readonly<Record<string, AggregateOp>> = {
  Avg: 'avg', Bottomk: 'bottomk', Count: 'count', CountValues: 'count_values', Group: 'group', Max: 'max', Min: 'min',
  Quantile: 'quantile', LimitK: 'limitk', LimitRatio: 'limit_ratio', Stddev: 'stddev', Stdvar: 'stdvar', Sum: 'sum', Topk: 'topk',
};

const MATCH_OPS: Readonly<Record<string, LabelMatcher['type']>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };


type ChainItem =
  | { readonly kind: 'atom'; readonly node: SyntaxNode }
  | { readonly kind: 'number'; readonly token: Token }
  | { readonly kind: 'prefix'; readonly op: '+' | '-'; readonly start: number }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly mods: BinaryModifiers }
  | { readonly kind: 'postfix'; readonly node: SyntaxNode };

interface BinaryModifiers {
  readonly returnBool: boolean;
  readonly raw: RawMatching;
  /** where a fill modifier ends (-1 without one) */
  readonly fillEnd: number;
}

/** Prometheus's operator precedences (generated_parser.y); `^` is right-associative. */
const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  or: 1, and: 2, unless: 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3, '</': 3, '>/': 3, '+': 4, '-': 4, '*': 5, '/': 5, '%': 5, atan2: 5, '^': 6,
};

export class Builder extends BuildContext {
  readonly rawMatching = new WeakMap<BinaryExpr, RawMatching>();

  // ---- expressions --------------------------------------------------------------------------

  /** The top node's expression; null when the input holds none. */
  top(root: SyntaxNode): Expr | null {
    const kids = this.kids(root);
    const first = kids[0];
    if (first === undefined) return null;
    if (kids.length > 1) throw new Bail();
    return this.expr(first);
  }

  /**
   * After a syntax error: builds what can be built (every complete expression and label matcher)
   * for the errors Prometheus's grammar actions raise before it meets the syntax error.
   */
  salvage(n: SyntaxNode): void {
    if (SALVAGE_EXPRS.has(n.name)) {
      try {
        this.expr(n);
        return;
      } catch (err) {
        if (!(err instanceof Bail)) throw err;
      }
    } else if (n.name === 'DurationExpr' || n.name === 'OffsetDurationExpr') {
      try {
        duration(this, n, 'offset');
        return;
      } catch (err) {
        if (!(err instanceof Bail)) throw err;
      }
    } else if (n.name === 'LabelMatchers') {
      for (let c = n.firstChild; c !== null; c = c.nextSibling) {
        try {
          this.labelMatcher(c, []);
        } catch (err) {
          if (!(err instanceof Bail)) throw err;
        }
      }
      return;
    }
    for (let c = n.firstChild; c !== null; c = c.nextSibling) this.salvage(c);
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'BinaryExpr':
      case 'UnaryExpr':
      case 'NumberDurationLiteral':
      case 'OffsetExpr':
      case 'StepInvariantExpr':
      case 'MatrixSelector':
      case 'SubqueryExpr':
      case 'AnchoredExpr':
      case 'SmoothedExpr': {
        // Operator chains: lezer's tree gets associativity wrong around postfix modifiers
        // (`a + b offset 5m` reads as `(a + b) offset 5m`) and unary minus on literals (`-1^2`),
        // so flatten the chain in source order and re-associate it with Prometheus's precedences.
        const items: ChainItem[] = [];
        this.flatten(n, items);
        const chain = { items, i: 0 };
        const e = this.climb(chain, 0);
        if (chain.i !== items.length) throw new Bail();
        return e;
      }
      default:
        return this.atom(n);
    }
  }

  private atom(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'StringLiteral':
        return this.stringLiteral(n);
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'ParenExpr': {
        const [inner] = this.kids(n);
        if (inner === undefined) throw new Bail();
        return { type: 'ParenExpr', expr: this.expr(inner), pos: { start: this.o(n.from), end: this.o(n.to) } };
      }
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      default:
        throw new Bail();
    }
  }

  private flatten(n: SyntaxNode, out: ChainItem[]): void {
    switch (n.name) {
      case 'BinaryExpr': {
        const kids = this.kids(n);
        const lhs = kids[0];
        const opNode = kids[1];
        const rhs = kids[kids.length - 1];
        if (lhs === undefined || opNode === undefined || rhs === undefined || kids.length < 3) throw new Bail();
        if (BINARY_OPS[opNode.name] === undefined) throw new Bail();
        // the operator as written (the text lezer saw has `^` for every operator, see sanitize.ts)
        const opTok = this.tokenAt(this.o(opNode.from));
        const op = opTok === undefined ? undefined : TOKEN_OPS[opTok.kind];
        if (op === undefined) throw new Bail();
        this.flatten(lhs, out);
        out.push({ kind: 'binary', op, mods: this.binaryModifiers(kids.slice(2, -1)) });
        this.flatten(rhs, out);
        return;
      }
      case 'UnaryExpr': {
        const [opNode, inner] = this.kids(n);
        if (opNode === undefined || inner === undefined) throw new Bail();
        out.push({ kind: 'prefix', op: this.text(opNode) === '-' ? '-' : '+', start: this.o(opNode.from) });
        this.flatten(inner, out);
        return;
      }
      case 'NumberDurationLiteral': {
        const { signs, num } = this.signedNumber(n);
        for (const s of signs) out.push({ kind: 'prefix', op: s.kind === 'SUB' ? '-' : '+', start: s.start });
        out.push({ kind: 'number', token: num });
        return;
      }
      case 'OffsetExpr':
      case 'StepInvariantExpr':
      case 'MatrixSelector':
      case 'SubqueryExpr':
      case 'AnchoredExpr':
      case 'SmoothedExpr': {
        const [operand] = this.kids(n);
        if (operand === undefined) throw new Bail();
        this.flatten(operand, out);
        out.push({ kind: 'postfix', node: n });
        return;
      }
      default:
        out.push({ kind: 'atom', node: n });
    }
  }

  /** Precedence climbing over a flattened chain (Prometheus's yacc precedences). */
  private climb(chain: { items: ChainItem[]; i: number }, minPrec: number): Expr {
    let lhs = this.operand(chain);
    for (;;) {
      const it = chain.items[chain.i];
      if (it === undefined || it.kind !== 'binary') break;
      const prec = PRECEDENCE[it.op];
      if (prec < minPrec) break;
      chain.i++;
      const rhs = this.climb(chain, it.op === '^' ? prec : prec + 1);
      lhs = this.makeBinary(lhs, it.op, it.mods, rhs);
    }
    return lhs;
  }

  private operand(chain: { items: ChainItem[]; i: number }): Expr {
    const it = chain.items[chain.i++];
    if (it === undefined) throw new Bail();
    let e: Expr;
    switch (it.kind) {
      case 'prefix': {
        // unary_op expr %prec MUL: the operand takes in only `^` (and postfix modifiers)
        const inner = this.climb(chain, PRECEDENCE['^']);
        if (inner.type === 'NumberLiteral') return { ...inner, val: it.op === '-' ? -inner.val : inner.val, pos: { start: it.start, end: inner.pos.end } };
        return { type: 'UnaryExpr', op: it.op, expr: inner, pos: { start: it.start, end: inner.pos.end } };
      }
      case 'number': {
        const { val, duration } = this.tokenValue(it.token);
        const lit: Mutable<NumberLiteral> = { type: 'NumberLiteral', val, pos: { start: it.token.start, end: it.token.end } };
        if (duration) lit.duration = true;
        e = lit;
        break;
      }
      case 'atom':
        e = this.atom(it.node);
        break;
      default:
        throw new Bail();
    }
    for (let p = chain.items[chain.i]; p !== undefined && p.kind === 'postfix'; p = chain.items[chain.i]) {
      chain.i++;
      e = this.postfix(e, p.node);
    }
    return e;
  }

  private postfix(e: Expr, n: SyntaxNode): Expr {
    switch (n.name) {
      case 'MatrixSelector':
        return matrixSelector(this, e, n);
      case 'SubqueryExpr':
        return subquery(this, e, n);
      case 'OffsetExpr':
        return offsetExpr(this, e, n);
      case 'StepInvariantExpr':
        return atExpr(this, e, n);
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        return extendedRange(this, e, n);
      default:
        throw new Bail();
    }
  }

  private stringLiteral(n: SyntaxNode): StringLiteral {
    return { type: 'StringLiteral', val: this.stringNode(n), pos: { start: this.o(n.from), end: this.o(n.to) } };
  }

  private vectorSelector(n: SyntaxNode): VectorSelector {
    let name = '';
    const matchers: LabelMatcher[] = [];
    for (const c of this.kids(n)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') this.labelMatchers(c, matchers);
      else throw new Bail();
    }
    if (name !== '') matchers.push({ type: '=', name: '__name__', value: name });
    return { type: 'VectorSelector', name, matchers, offset: 0, at: null, pos: { start: this.o(n.from), end: this.o(n.to) } };
  }

  private labelMatchers(n: SyntaxNode, out: LabelMatcher[]): void {
    for (const m of this.kids(n)) this.labelMatcher(m, out);
  }

  private labelMatcher(m: SyntaxNode, out: LabelMatcher[]): void {
    if (m.name === 'QuotedLabelName') {
      const [s] = this.kids(m);
      if (s === undefined) throw new Bail();
      out.push({ type: '=', name: '__name__', value: this.stringNode(s) });
      return;
    }
    if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') throw new Bail();
    const [nameNode, opNode, valueNode] = this.kids(m);
    if (nameNode === undefined || opNode === undefined || valueNode === undefined) throw new Bail();
    let label: string;
    if (nameNode.name === 'LabelName') label = this.text(nameNode);
    else {
      const [s] = this.kids(nameNode);
      if (s === undefined) throw new Bail();
      label = this.stringNode(s);
    }
    const opKind = this.kids(opNode)[0]?.name;
    const type = opKind === undefined ? undefined : MATCH_OPS[opKind];
    if (type === undefined) throw new Bail();
    const value = this.stringNode(valueNode);
    const err = compileMatcher(type, label, value).error;
    if (err !== null) this.fail(err, this.o(m.from), this.o(m.to), this.o(m.to));
    out.push({ type, name: label, value });
  }

  private groupingLabels(n: SyntaxNode): string[] {
    const out: string[] = [];
    for (const c of this.kids(n)) {
      if (c.name === 'LabelName') out.push(this.text(c));
      else if (c.name === 'QuotedLabelName') {
        const [s] = this.kids(c);
        if (s === undefined) throw new Bail();
        out.push(this.stringNode(s));
      } else throw new Bail();
    }
    return out;
  }

  // ---- durations ----------------------------------------------------------------------------

  // ---- selectors and modifiers ----------------------------------------------------------------

  // ---- operators ------------------------------------------------------------------------------

  private binaryModifiers(mods: SyntaxNode[]): BinaryModifiers {
    let returnBool = false;
    let card: VectorMatchCardinality = 'one-to-one';
    let matchingLabels: string[] = [];
    let on = false;
    let include: string[] = [];
    let fill: { lhs: number | null; rhs: number | null } | undefined;
    let fillEnd = -1;
    for (const m of mods) {
      if (m.name === 'BoolModifier') returnBool = true;
      else if (m.name === 'MatchingModifierClause') {
        for (const c of this.kids(m)) {
          if (c.name === 'On') on = true;
          else if (c.name === 'Ignoring') on = false;
          else if (c.name === 'GroupLeft') card = 'many-to-one';
          else if (c.name === 'GroupRight') card = 'one-to-many';
          else if (c.name === 'GroupingLabels') {
            if (card === 'one-to-one') matchingLabels = this.groupingLabels(c);
            else include = this.groupingLabels(c);
          } else throw new Bail();
        }
      } else if (m.name === 'FillModifier') {
        fill = { lhs: null, rhs: null };
        fillEnd = this.o(m.to);
        for (const c of this.kids(m)) {
          const [, lit] = this.kids(c);
          if (lit === undefined) throw new Bail();
          const v = this.numberLiteral(lit).val;
          if (c.name === 'FillClause') fill = { lhs: v, rhs: v };
          else if (c.name === 'FillLeftClause') fill.lhs = v;
          else if (c.name === 'FillRightClause') fill.rhs = v;
          else throw new Bail();
        }
      } else throw new Bail();
    }
    return { returnBool, raw: { card, matchingLabels, on, include, fill }, fillEnd };
  }

  private makeBinary(lhs: Expr, op: BinaryOp, mods: BinaryModifiers, rhs: Expr): BinaryExpr {
    const pos = { start: lhs.pos.start, end: rhs.pos.end };
    const { card, matchingLabels, on, include, fill } = mods.raw;
    if (fill !== undefined && !this.opts.enableBinopFillModifiers) {
      this.fail('binop fill modifiers are experimental and not enabled', pos.start, pos.end, mods.fillEnd);
    }
    let matching: BinaryExpr['matching'] = null;
    if (typeOf(lhs) === 'vector' && typeOf(rhs) === 'vector') {
      const m: Mutable<NonNullable<BinaryExpr['matching']>> = {
        card: isSetOperator(op) && card === 'one-to-one' ? 'many-to-many' : card, matchingLabels, on, include,
      };
      if (fill !== undefined) m.fill = fill;
      matching = m;
    }
    const bin: BinaryExpr = { type: 'BinaryExpr', op, lhs, rhs, returnBool: mods.returnBool, matching, pos };
    this.rawMatching.set(bin, mods.raw);
    return bin;
  }

  // ---- calls ----------------------------------------------------------------------------------

  private args(body: SyntaxNode): Expr[] {
    if (body.name !== 'FunctionCallBody') throw new Bail();
    return this.kids(body).map((a) => this.expr(a));
  }

  private call(n: SyntaxNode): Call {
    const [ident, body] = this.kids(n);
    if (ident === undefined || body === undefined) throw new Bail();
    const name = this.text(ident);
    const start = this.o(n.from);
    const end = this.o(n.to);
    const args = this.args(body);
    let func: FunctionSignature | undefined = FUNCTION_SIGNATURES.get(name);
    const identEnd = this.o(ident.to);
    if (func === undefined) {
      this.fail(`unknown function with name ${goQuoteString(name)}`, start, identEnd, end);
      func = { name, argTypes: [], variadic: -1, returnType: 'vector', experimental: false };
    } else if (func.experimental && !this.opts.enableExperimentalFunctions) {
      this.fail(`function ${goQuoteString(name)} is not enabled`, start, identEnd, end);
    }
    return { type: 'Call', func, args, pos: { start, end } };
  }

  private aggregate(n: SyntaxNode): AggregateExpr {
    let op: AggregateOp | undefined;
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] | undefined;
    for (const c of this.kids(n)) {
      if (c.name === 'AggregateOp') {
        const k = this.kids(c)[0]?.name;
        op = k === undefined ? undefined : AGGREGATE_OPS[k];
      } else if (c.name === 'AggregateModifier') {
        const [kw, labels] = this.kids(c);
        if (kw === undefined || labels === undefined) throw new Bail();
        without = kw.name === 'Without';
        grouping = this.groupingLabels(labels);
      } else if (c.name === 'FunctionCallBody') args = this.args(c);
      else throw new Bail();
    }
    if (op === undefined || args === undefined) throw new Bail();
    const pos = { start: this.o(n.from), end: this.o(n.to) };
    const result = (param: Expr | null, expr: Expr): AggregateExpr => ({ type: 'AggregateExpr', op: op as AggregateOp, expr, param, grouping, without, pos });
    const placeholder = (): AggregateExpr => result(null, this.dummySelector(pos.start, pos.end));
    if (args.length === 0) {
      this.fail('no arguments for aggregate expression provided', pos.start, pos.end, pos.end);
      return placeholder();
    }
    const withParam = op === 'topk' || op === 'bottomk' || op === 'count_values' || op === 'quantile' || op === 'limitk' || op === 'limit_ratio';
    if (withParam && EXPERIMENTAL_AGGREGATIONS.has(op) && !this.opts.enableExperimentalFunctions) {
      this.fail(`${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`, pos.start, pos.end, pos.end);
      return placeholder();
    }
    const want = withParam ? 2 : 1;
    if (args.length !== want) {
      this.fail(`wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`, pos.start, pos.end, pos.end);
      return placeholder();
    }
    return result(withParam ? (args[0] as Expr) : null, args[want - 1] as Expr);
  }
}
