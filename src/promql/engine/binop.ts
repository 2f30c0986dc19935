// Binary operators (Prometheus VectorAnd/Or/Unless, VectorBinop, VectorscalarBinop,
// scalarBinop, vectorElemBinop): vector matching with on/ignoring and group_left/group_right,
// comparison filters and `bool`, set operators, native-histogram arithmetic.
import type { BinaryExpr, BinaryOp, VectorMatching } from '../ast.js';
import { isComparison, isSetOperator, typeOf } from '../ast.js';
import type { FloatHistogram, Labels, Sample } from '../value.js';
import type { AnnotationKind } from './annotations.js';
import { PromQLError } from './api.js';
import type { EMatrix, ESeries } from './context.js';
import type { Evaluator } from './evaluator.js';
import { IncompatibleHistogramsError } from './hist.js';
import { trimHistogram } from './trim.js';
import type { HistogramOps } from './hist.js';
import { compareLabels, deleteLabels, dropMetadata, formatLabels, keepLabels, keyWith, keyWithout, labelsKey, METRIC_NAME, setLabel, getLabel } from './labels.js';


/** Operators after which the result is no longer the metric the name says (Prometheus changesMetricSchema). */
function changesMetricSchema(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '^' || op === '%' || op === 'atan2';
}

/** Go's math.Pow (differs from ** for a base of ±1 and NaN/infinite exponents). */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

export function scalarBinop(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '^':
      return goPow(l, r);
    case '%':
      return l % r;
    case '==':
      return l === r ? 1 : 0;
    case '!=':
      return l !== r ? 1 : 0;
    case '>':
      return l > r ? 1 : 0;
    case '<':
      return l < r ? 1 : 0;
    case '>=':
      return l >= r ? 1 : 0;
    case '<=':
      return l <= r ? 1 : 0;
    case 'atan2':
      return Math.atan2(l, r);
    case 'and':
    case 'or':
    case 'unless':
    case '</':
    case '>/':
      throw new PromQLError('internal', `operator "${op}" not allowed for Scalar operations`);
    default: {
      const never: never = op;
      throw new PromQLError('internal', `unknown operator ${String(never)}`);
    }
  }
}

interface ElemResult {
  f: number;
  h: FloatHistogram | null;
  keep: boolean;
  /** an annotation that also drops the sample (Prometheus returns it as the error) */
  err: { kind: AnnotationKind; msg: string } | null;
  /** an annotation that keeps the sample */
  info: { kind: AnnotationKind; msg: string } | null;
}

function incompatible(l: string, op: BinaryOp, r: string): ElemResult {
  return { f: 0, h: null, keep: false, err: { kind: 'info', msg: `incompatible sample types encountered for binary operator "${op}": ${l} ${op} ${r}` }, info: null };
}

const ok = (f: number, h: FloatHistogram | null, keep: boolean): ElemResult => ({ f, h, keep, err: null, info: null });

/** Prometheus vectorElemBinop: one pair of sample values. */
function elemBinop(hist: HistogramOps, op: BinaryOp, lf: number, rf: number, lh: FloatHistogram | null, rh: FloatHistogram | null): ElemResult {
  if (lh === null && rh === null) {
    switch (op) {
      case '==':
        return ok(lf, null, lf === rf);
      case '!=':
        return ok(lf, null, lf !== rf);
      case '>':
        return ok(lf, null, lf > rf);
      case '<':
        return ok(lf, null, lf < rf);
      case '>=':
        return ok(lf, null, lf >= rf);
      case '<=':
        return ok(lf, null, lf <= rf);
      case '</':
      case '>/':
        return incompatible('float', op, 'float');
      default:
        return ok(scalarBinop(op, lf, rf), null, true);
    }
  }
  if (lh === null && rh !== null) {
    if (op === '*') return ok(0, hist.mul(rh, lf), true);
    return incompatible('float', op, 'histogram');
  }
  if (lh !== null && rh === null) {
    if (op === '*') return ok(0, hist.mul(lh, rf), true);
    if (op === '/') return ok(0, hist.div(lh, rf), true);
    if (op === '</' || op === '>/') return ok(0, trimHistogram(lh, rf, op === '</'), true);
    return incompatible('histogram', op, 'float');
  }
  const a = lh as FloatHistogram;
  const b = rh as FloatHistogram;
  switch (op) {
    case '+':
    case '-': {
      const what = op === '+' ? 'addition' : 'subtraction';
      let r;
      try {
        r = op === '+' ? hist.add(a, b) : hist.sub(a, b);
      } catch (e) {
        if (e instanceof IncompatibleHistogramsError) {
          return { f: 0, h: null, keep: false, err: { kind: 'warning', msg: `incompatible bucket layout encountered for binary operator ${op}` }, info: null };
        }
        throw e;
      }
      if (op === '-') r.h = { ...r.h, counterResetHint: 3 }; // the result of a subtraction is a gauge
      const info = r.nhcbBoundsReconciled ? { kind: 'info' as const, msg: `mismatched custom buckets were reconciled during ${what}` } : null;
      const err = r.counterResetCollision ? { kind: 'warning' as const, msg: `conflicting counter resets during histogram ${what}` } : null;
      return { f: 0, h: r.h, keep: true, err, info };
    }
    case '==':
      return ok(0, a, hist.equals(a, b));
    case '!=':
      return ok(0, a, !hist.equals(a, b));
    default:
      return incompatible('histogram', op, 'histogram');
  }
}

const DEFAULT_MATCHING: VectorMatching = { card: 'one-to-one', matchingLabels: [], on: false, include: [] };
const SET_MATCHING: VectorMatching = { card: 'many-to-many', matchingLabels: [], on: false, include: [] };

export async function evalBinary(ev: Evaluator, e: BinaryExpr): Promise<EMatrix> {
  const lt = typeOf(e.lhs);
  const rt = typeOf(e.rhs);
  const op = e.op;
  if (lt === 'scalar' && rt === 'scalar') {
    return ev.rangeEval([e.lhs, e.rhs], (v, _i, ts) => {
      const l = v[0]?.[0];
      const r = v[1]?.[0];
      if (l === undefined || r === undefined) return [];
      return [{ metric: [], t: ts, f: scalarBinop(op, l.f, r.f), h: null }];
    });
  }
  if (lt === 'vector' && rt === 'vector') return vectorVector(ev, e);
  const swap = lt === 'scalar';
  const annotate = (kind: AnnotationKind, msg: string): void => ev.q.annos.add(kind, msg, e.pos);
  return ev.rangeEval([e.lhs, e.rhs], (v) => {
    const vec = (swap ? v[1] : v[0]) ?? [];
    const sc = (swap ? v[0] : v[1])?.[0];
    if (sc === undefined) return [];
    return vectorScalar(ev.q.hist, op, vec, sc.f, swap, e.returnBool, annotate);
  });
}

function vectorScalar(
  hist: HistogramOps,
  op: BinaryOp,
  vec: readonly Sample[],
  scalar: number,
  swap: boolean,
  returnBool: boolean,
  annotate: (kind: AnnotationKind, msg: string) => void,
): Sample[] {
  const out: Sample[] = [];
  const cmp = isComparison(op);
  for (const s of vec) {
    let lf = s.f;
    let rf = scalar;
    let lh: FloatHistogram | null = s.h;
    let rh: FloatHistogram | null = null;
    if (swap) {
      [lf, rf] = [rf, lf];
      [lh, rh] = [rh, lh];
    }
    const r = elemBinop(hist, op, lf, rf, lh, rh);
    if (r.info !== null) annotate(r.info.kind, r.info.msg);
    if (r.err !== null) {
      annotate(r.err.kind, r.err.msg);
      if (r.err.kind !== 'warning') continue;
    }
    let f = r.f;
    let h = r.h;
    let keep = r.keep;
    if (cmp && swap) {
      f = rf;
      h = rh;
    }
    if (returnBool) {
      f = keep ? 1 : 0;
      h = null;
      keep = true;
    }
    if (!keep) continue;
    out.push({ metric: s.metric, t: s.t, f, h, dropName: changesMetricSchema(op) || returnBool || s.dropName === true });
  }
  return out;
}

async function vectorVector(ev: Evaluator, e: BinaryExpr): Promise<EMatrix> {
  const op = e.op;
  const isSet = isSetOperator(op);
  const matching = e.matching ?? (isSet ? SET_MATCHING : DEFAULT_MATCHING);
  const card = isSet ? 'many-to-many' : matching.card;
  if (card === 'many-to-many' && !isSet) throw new PromQLError('internal', 'many-to-many only allowed for set operators');

  // Join signature per input series, as small ordinals.
  const names = new Set(matching.matchingLabels);
  const ignored = new Set([METRIC_NAME, ...matching.matchingLabels]);
  const sigOf = matching.on ? (m: Labels) => keyWith(m, names) : (m: Labels) => keyWithout(m, ignored);
  const ordinals = new Map<string, number>();
  let sigL: Int32Array = new Int32Array(0);
  let sigR: Int32Array = new Int32Array(0);
  const init = (mats: readonly EMatrix[]): void => {
    const sigs = (m: EMatrix): Int32Array => {
      const a = new Int32Array(m.length);
      m.forEach((s: ESeries, i) => {
        const k = sigOf(s.metric);
        let o = ordinals.get(k);
        if (o === undefined) {
          o = ordinals.size;
          ordinals.set(k, o);
        }
        a[i] = o;
      });
      return a;
    };
    sigL = sigs(mats[0] ?? []);
    sigR = sigs(mats[1] ?? []);
  };

  if (isSet) {
    return ev.rangeEval(
      [e.lhs, e.rhs],
      (v, idx) => {
        const lhs = v[0] ?? [];
        const rhs = v[1] ?? [];
        const li = idx[0] ?? [];
        const ri = idx[1] ?? [];
        switch (op) {
          case 'and': {
            if (lhs.length === 0 || rhs.length === 0) return [];
            const present = new Set<number>();
            for (const i of ri) present.add(sigR[i] as number);
            return lhs.filter((_, k) => present.has(sigL[li[k] as number] as number));
          }
          case 'or': {
            if (lhs.length === 0) return rhs.slice();
            if (rhs.length === 0) return lhs.slice();
            const present = new Set<number>();
            for (const i of li) present.add(sigL[i] as number);
            const out = lhs.slice();
            rhs.forEach((s, k) => {
              if (!present.has(sigR[ri[k] as number] as number)) out.push(s);
            });
            return out;
          }
          default: {
            if (lhs.length === 0 || rhs.length === 0) return lhs.slice();
            const present = new Set<number>();
            for (const i of ri) present.add(sigR[i] as number);
            return lhs.filter((_, k) => !present.has(sigL[li[k] as number] as number));
          }
        }
      },
      init,
    );
  }

  const hist = ev.q.hist;
  const annos = ev.q.annos;
  // Result labels by (lhs labels, rhs labels) object identity: input series keep their label arrays.
  const resultCache = new Map<Labels, Map<Labels, Labels>>();
  const include = matching.include;
  const resultMetric = (l: Labels, r: Labels): Labels => {
    let byRight = resultCache.get(l);
    if (byRight === undefined) {
      byRight = new Map();
      resultCache.set(l, byRight);
    }
    const hit = byRight.get(r);
    if (hit !== undefined) return hit;
    let m = l;
    if (changesMetricSchema(op)) m = dropMetadata(m);
    if (card === 'one-to-one') m = matching.on ? keepLabels(m, names) : deleteLabels(m, names);
    for (const n of include) m = setLabel(m, n, getLabel(r, n));
    byRight.set(r, m);
    return m;
  };
  const swap = card === 'one-to-many';

  const fillL = matching.fill?.lhs ?? null;
  const fillR = matching.fill?.rhs ?? null;
  const matchLabels = matching.on ? (m: Labels) => keepLabels(m, names) : (m: Labels) => deleteLabels(m, ignored);

  return ev.rangeEval(
    [e.lhs, e.rhs],
    (v, idx, ts) => {
      let lhs = v[0] ?? [];
      let rhs = v[1] ?? [];
      let li = idx[0] ?? [];
      let ri = idx[1] ?? [];
      let ls = sigL;
      let rs = sigR;
      if (lhs.length === 0 && rhs.length === 0) return [];
      if ((lhs.length === 0 || rhs.length === 0) && fillL === null && fillR === null) return [];
      if (swap) {
        [lhs, rhs] = [rhs, lhs];
        [li, ri] = [ri, li];
        [ls, rs] = [rs, ls];
      }
      // The rhs is the "one" side: one sample per signature.
      const right = new Map<number, Sample>();
      rhs.forEach((r, k) => {
        const sig = rs[ri[k] as number] as number;
        const dup = right.get(sig);
        if (dup !== undefined) {
          const side = swap ? 'left' : 'right';
          const pair = [r.metric, dup.metric].sort(compareLabels).map(formatLabels);
          throw new PromQLError(
            'execution',
            `found duplicate series for the match group ${formatLabels(matchLabels(r.metric))} on the ${side} hand-side of the operation: [${pair.join(', ')}]` +
              ';many-to-many matching not allowed: matching labels must be unique on one side',
          );
        }
        right.set(sig, r);
      });
      const matched = new Map<number, Set<string> | null>();
      const out: Sample[] = [];
      const doBinOp = (l: Sample, r: Sample, sig: number): void => {
        const res = swap ? elemBinop(hist, op, r.f, l.f, r.h, l.h) : elemBinop(hist, op, l.f, r.f, l.h, r.h);
        if (res.info !== null) annos.add(res.info.kind, res.info.msg, e.pos);
        if (res.err !== null) {
          annos.add(res.err.kind, res.err.msg, e.pos);
          return;
        }
        let f = res.f;
        let h = res.h;
        if (e.returnBool) {
          h = null;
          f = res.keep ? 1 : 0;
        }
        const metric = resultMetric(l.metric, r.metric);
        if (card === 'one-to-one') {
          if (matched.has(sig)) throw new PromQLError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
          matched.set(sig, null);
        } else {
          const mk = labelsKey(metric);
          let set = matched.get(sig);
          if (set === undefined || set === null) {
            set = new Set();
            matched.set(sig, set);
          } else if (set.has(mk)) {
            throw new PromQLError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
          }
          set.add(mk);
        }
        if (!res.keep && !e.returnBool) return;
        out.push({ metric, t: ts, f, h, dropName: e.returnBool || (l.dropName === true && !changesMetricSchema(op)) });
      };
      lhs.forEach((l, k) => {
        const sig = ls[li[k] as number] as number;
        let r = right.get(sig);
        if (r === undefined) {
          if (fillR === null) return;
          r = { metric: matchLabels(l.metric), t: ts, f: fillR, h: null };
        }
        doBinOp(l, r, sig);
      });
      if (fillL !== null) {
        for (const [sig, r] of right) {
          if (matched.has(sig)) continue;
          doBinOp({ metric: matchLabels(r.metric), t: ts, f: fillL, h: null }, r, sig);
        }
      }
      return out;
    },
    init,
  );
}
