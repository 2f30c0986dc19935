// formatExpr: Prometheus's Expr.String() (used by /api/v1/format_query and in messages):
// canonical spacing, durations as Prometheus prints them, matchers sorted, names quoted when they
// are not classic identifiers. Parsing the output gives the same AST (positions aside).
import type { AtModifier, BinaryExpr, DurationExpr, Expr, VectorSelector } from '../ast.js';
import { compareStrings, formatLabelName } from '../../tsdb/labels/index.js';
import { formatDurationMs } from './duration.js';
import { formatDurationExpr } from './duration-expr.js';
import { formatFloatG } from '../../util/go-strconv.js';
import { goQuoteString } from './tokens.js';

function labelList(names: readonly string[]): string {
  return names.map(formatLabelName).join(', ');
}

function atString(at: AtModifier | null): string {
  if (at === null) return '';
  switch (at.kind) {
    case 'time':
      return ` @ ${(at.ms / 1000).toFixed(3)}`;
    case 'start':
      return ' @ start()';
    case 'end':
      return ' @ end()';
    default: {
      const never: never = at;
      throw new Error(`unknown @ modifier ${JSON.stringify(never)}`);
    }
  }
}

function offsetString(offset: number, expr: DurationExpr | undefined): string {
  if (expr !== undefined) return ` offset ${formatDurationExpr(expr)}`;
  if (offset > 0) return ` offset ${formatDurationMs(offset)}`;
  if (offset < 0) return ` offset -${formatDurationMs(-offset)}`;
  return '';
}

function rangeString(ms: number, expr: DurationExpr | undefined): string {
  return expr !== undefined ? formatDurationExpr(expr) : formatDurationMs(ms);
}

function extendedString(vs: VectorSelector): string {
  return (vs.anchored === true ? ' anchored' : '') + (vs.smoothed === true ? ' smoothed' : '');
}

/** The selector without its @ and offset. */
function selectorString(vs: VectorSelector): string {
  const labels: string[] = [];
  for (const m of vs.matchers) {
    if (m.name === '__name__' && m.type === '=' && m.value === vs.name && m.value !== '') continue;
    labels.push(`${formatLabelName(m.name)}${m.type}${goQuoteString(m.value)}`);
  }
  if (labels.length === 0) return vs.name;
  labels.sort(compareStrings);
  return `${vs.name}{${labels.join(',')}}`;
}

function numberString(val: number, duration: boolean | undefined): string {
  if (duration === true && Number.isFinite(val)) {
    const ms = Math.round(val * 1000);
    return ms < 0 ? `-${formatDurationMs(-ms)}` : formatDurationMs(ms);
  }
  return formatFloatG(val);
}

function matchingString(e: BinaryExpr): string {
  let matching = '';
  const vm = e.matching;
  if (vm !== null) {
    const grouped = vm.card === 'many-to-one' || vm.card === 'one-to-many';
    if (vm.matchingLabels.length > 0 || vm.on || grouped) {
      matching = ` ${vm.on ? 'on' : 'ignoring'} (${labelList(vm.matchingLabels)})`;
      if (grouped) matching += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${labelList(vm.include)})`;
    }
    const f = vm.fill;
    if (f !== undefined) {
      if (f.lhs !== null && f.rhs !== null && Object.is(f.lhs, f.rhs)) matching += ` fill(${formatFloatG(f.lhs)})`;
      else {
        if (f.lhs !== null) matching += ` fill_left(${formatFloatG(f.lhs)})`;
        if (f.rhs !== null) matching += ` fill_right(${formatFloatG(f.rhs)})`;
      }
    }
  }
  return matching;
}

export function formatExpr(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      return numberString(e.val, e.duration);
    case 'StringLiteral':
      return goQuoteString(e.val);
    case 'VectorSelector':
      return selectorString(e) + atString(e.at) + offsetString(e.offset, e.offsetExpr) + extendedString(e);
    case 'MatrixSelector': {
      const vs = e.vectorSelector;
      return `${selectorString(vs)}[${rangeString(e.range, e.rangeExpr)}]${atString(vs.at)}${offsetString(vs.offset, vs.offsetExpr)}${extendedString(vs)}`;
    }
    case 'SubqueryExpr': {
      const step = e.stepExpr !== undefined ? formatDurationExpr(e.stepExpr) : e.step !== 0 ? formatDurationMs(e.step) : '';
      return `${formatExpr(e.expr)}[${rangeString(e.range, e.rangeExpr)}:${step}]${atString(e.at)}${offsetString(e.offset, e.offsetExpr)}`;
    }
    case 'ParenExpr':
      return `(${formatExpr(e.expr)})`;
    case 'UnaryExpr':
      return `${e.op}${formatExpr(e.expr)}`;
    case 'BinaryExpr': {
      // a long left spine (`a + b + c + ...`) without deep recursion
      const spine: BinaryExpr[] = [e];
      for (let l = e.lhs; l.type === 'BinaryExpr'; l = l.lhs) spine.push(l);
      let out = formatExpr((spine[spine.length - 1] as BinaryExpr).lhs);
      for (let i = spine.length - 1; i >= 0; i--) {
        const b = spine[i] as BinaryExpr;
        out += ` ${b.op}${b.returnBool ? ' bool' : ''}${matchingString(b)} ${formatExpr(b.rhs)}`;
      }
      return out;
    }
    case 'AggregateExpr': {
      let s: string = e.op;
      if (e.without) s += ` without (${labelList(e.grouping)}) `;
      else if (e.grouping.length > 0) s += ` by (${labelList(e.grouping)}) `;
      return `${s}(${e.param !== null ? `${formatExpr(e.param)}, ` : ''}${formatExpr(e.expr)})`;
    }
    case 'Call':
      return `${e.func.name}(${e.args.map(formatExpr).join(', ')})`;
    default: {
      const never: never = e;
      throw new Error(`unknown node ${(never as { type: string }).type}`);
    }
  }
}
