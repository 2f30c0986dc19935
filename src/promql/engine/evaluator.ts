// The evaluator (Prometheus promql.evaluator): evaluates an expression at the steps
// start, start + interval, ..., end and returns one series per output label set with a point per
// step where it has a value. An instant query is a one-step evaluation; subqueries and
// step-invariant sub-expressions get evaluators of their own.
//
// Evaluation is node by node ("matrix at a time", like Prometheus): a node evaluates its
// children over all steps, then walks the steps. Methods are async only so that long loops can
// pause at the query's Ticker (cancellation, timeout, yielding to the event loop).
import type { Expr, MatrixSelector, SubqueryExpr, UnaryExpr, VectorSelector } from '../ast.js';
import type { FloatHistogram, FPoint, HPoint, Labels, Sample } from '../value.js';
import { evalAggregate } from './aggregate.js';
import { PromQLError } from './api.js';
import { evalBinary } from './binop.js';
import { evalCall } from './call.js';
import type { EMatrix, ESeries, QueryCtx } from './context.js';
import { addSamples, histogramSize, matrixSamples, resolveAt, tooManySamples } from './context.js';
import { dropMetadata, getLabel, labelsKey, METRIC_NAME } from './labels.js';
import { IncompatibleHistogramsError } from './hist.js';
import { goQuote } from '../../tsdb/labels/index.js';
import { extendFloats, noHistograms, smoothedValue } from './extended.js';
import { windowOf } from './series.js';

/** Called at each step with the input vectors (and, per sample, the index of its input series). */
export type StepFn = (vecs: readonly Sample[][], idxs: readonly number[][], ts: number, step: number) => Sample[];

export class Evaluator {
  readonly q: QueryCtx;
  readonly start: number;
  readonly end: number;
  readonly interval: number;
  readonly numSteps: number;

  constructor(q: QueryCtx, start: number, end: number, interval: number) {
    this.q = q;
    this.start = start;
    this.end = end;
    this.interval = interval;
    this.numSteps = end < start ? 0 : Math.floor((end - start) / interval) + 1;
  }

  /** One step only (an instant query, or an @-pinned/step-invariant part). */
  get single(): boolean {
    return this.start === this.end;
  }

  /** Pauses at the ticker when it asks for it. */
  async tick(): Promise<void> {
    const p = this.q.ticker.tick();
    if (p !== null) await p;
  }

  async eval(e: Expr): Promise<EMatrix> {
    const m = await this.#eval(e);
    // Without delayed name removal no series leaves a node still marked: the paths that drop
    // names per step have done it already (stepMatrices), any other drops here (Prometheus:
    // unary minus, range-vector functions), failing on label sets that now collide.
    if (!this.q.delayedNameRemoval && m.some((s) => s.dropName)) this.dropNamesNow(m);
    return m;
  }

  /**
   * Removes the names of the series marked for it, now, and fails if two series of the matrix
   * then have the same labels (Prometheus's Matrix.ContainsSameLabelset, whatever their times).
   */
  dropNamesNow(m: EMatrix): void {
    for (const s of m) {
      if (s.dropName) {
        s.metric = dropMetadata(s.metric);
        s.dropName = false;
      }
    }
    assertDistinctLabelsets(m);
  }

  async #eval(e: Expr): Promise<EMatrix> {
    const p = this.q.ticker.checkpoint();
    if (p !== null) await p;
    if (this.numSteps === 0) return [];
    if (this.numSteps > 1 && this.q.invariant.has(e) && e.type !== 'NumberLiteral') return this.#invariant(e);
    switch (e.type) {
      case 'NumberLiteral':
        return this.#literal(e.val);
      case 'StringLiteral':
        throw new PromQLError('internal', 'string literal evaluated as a vector');
      case 'ParenExpr':
        return this.eval(e.expr);
      case 'UnaryExpr':
        return this.#unary(e);
      case 'VectorSelector':
        return this.#vectorSelector(e);
      case 'MatrixSelector':
        return this.#matrixSelector(e);
      case 'SubqueryExpr':
        return this.subquery(e);
      case 'BinaryExpr':
        return evalBinary(this, e);
      case 'AggregateExpr':
        return evalAggregate(this, e);
      case 'Call':
        return evalCall(this, e);
      default: {
        const never: never = e;
        throw new PromQLError('internal', `unknown expression node ${(never as { type: string }).type}`);
      }
    }
  }

  /**
   * Evaluates `exprs` (null entries stay empty), then calls `fn` at every step with the samples
   * of each input at that step, and assembles the outputs into series (Prometheus rangeEval).
   * In a one-step evaluation the output keeps the order `fn` returned.
   */
  async rangeEval(exprs: readonly (Expr | null)[], fn: StepFn, init?: (mats: readonly EMatrix[]) => void): Promise<EMatrix> {
    const q = this.q;
    const original = q.samples;
    const mats: EMatrix[] = [];
    for (const e of exprs) mats.push(e === null ? [] : await this.eval(e));
    init?.(mats);
    return this.stepMatrices(mats, original, fn);
  }

  /**
   * The stepping half of rangeEval, over already evaluated inputs. Without delayed name removal,
   * outputs marked for it lose their names at each step (as Prometheus's functions and operators
   * drop them), so outputs that then share labels merge across steps and fail at the same step;
   * `dropPerStep` false leaves that to the caller (range-vector functions: see evalCall).
   */
  async stepMatrices(mats: readonly EMatrix[], original: number, fn: StepFn, dropPerStep = true): Promise<EMatrix> {
    const q = this.q;
    const dropNow = dropPerStep && !q.delayedNameRemoval;
    // one unnamed label array per input array, so every step reuses it (and byLabels hits)
    const unnamed = new Map<Labels, Labels>();
    const unname = (m: Labels): Labels => {
      let u = unnamed.get(m);
      if (u === undefined) {
        u = dropMetadata(m);
        unnamed.set(m, u);
      }
      return u;
    };
    const curF = mats.map((m) => new Int32Array(m.length));
    const curH = mats.map((m) => new Int32Array(m.length));
    // One Sample object per input series, updated in place at every step: step functions use
    // their input samples only during the step (outputs are copied into points right away).
    const pools: (Sample | undefined)[][] = mats.map((m) => new Array<Sample | undefined>(m.length));
    let temp = q.samples;
    const out = new Map<string, { s: ESeries; last: number }>();
    const byLabels = new Map<Labels, { s: ESeries; last: number }>(); // the same, by label array identity
    for (let step = 0; step < this.numSteps; step++) {
      const ts = this.start + step * this.interval;
      await this.tick();
      q.samples = temp;
      const vecs: Sample[][] = [];
      const idxs: number[][] = [];
      for (let j = 0; j < mats.length; j++) {
        const m = mats[j] as EMatrix;
        const cf = curF[j] as Int32Array;
        const ch = curH[j] as Int32Array;
        const pool = pools[j] as (Sample | undefined)[];
        const vec: Sample[] = [];
        const idx: number[] = [];
        for (let k = 0; k < m.length; k++) {
          const s = m[k] as ESeries;
          const fp = s.floats[cf[k] as number];
          let f = 0;
          let h: FloatHistogram | null = null;
          if (fp !== undefined && fp.t === ts) {
            f = fp.f;
            cf[k] = (cf[k] as number) + 1;
          } else {
            const hp = s.histograms[ch[k] as number];
            if (hp === undefined || hp.t !== ts) continue;
            h = hp.h;
            ch[k] = (ch[k] as number) + 1;
          }
          let smp = pool[k];
          if (smp === undefined) {
            smp = { metric: s.metric, t: ts, f, h, dropName: s.dropName };
            pool[k] = smp;
          } else {
            smp.t = ts;
            smp.f = f;
            smp.h = h;
          }
          vec.push(smp);
          idx.push(k);
        }
        addSamples(q, vec.length);
        vecs.push(vec);
        idxs.push(idx);
      }
      let res = fn(vecs, idxs, ts, step);
      if (dropNow && res.some((s) => s.dropName === true)) {
        // new objects: a step function may hand back its (reused) input samples
        res = res.map((s) => (s.dropName === true ? { metric: unname(s.metric), t: s.t, f: s.f, h: s.h } : s));
      }
      let n = 0;
      for (const s of res) n += s.h === null ? 1 : histogramSize(s.h);
      q.samples += n;
      temp += n;
      if (q.samples > q.maxSamples) throw tooManySamples();
      if (this.single) {
        if (dropNow) assertDistinctLabelsets(res);
        const mat: EMatrix = res.map((s) => sampleSeries(s, ts));
        q.samples = original + matrixSamples(mat);
        return mat;
      }
      for (const s of res) {
        let e = byLabels.get(s.metric);
        if (e === undefined) {
          const key = labelsKey(s.metric);
          e = out.get(key);
          if (e === undefined) {
            out.set(key, { s: sampleSeries(s, ts), last: ts });
            continue;
          }
          byLabels.set(s.metric, e);
        }
        if (e.last === ts) throw sameLabelset();
        e.last = ts;
        pushPoint(e.s, ts, s);
      }
    }
    const mat: EMatrix = [];
    for (const e of out.values()) mat.push(e.s);
    q.samples = original + matrixSamples(mat);
    return mat;
  }

  /** A step-invariant expression: evaluated at the first step only, then repeated. */
  async #invariant(e: Expr): Promise<EMatrix> {
    const one = new Evaluator(this.q, this.start, this.start, this.interval);
    const m = await one.eval(e);
    for (const s of m) {
      const fp = s.floats[0];
      const hp = s.histograms[0];
      if (fp !== undefined) {
        const floats: FPoint[] = new Array<FPoint>(this.numSteps);
        for (let i = 0; i < this.numSteps; i++) floats[i] = { t: this.start + i * this.interval, f: fp.f };
        addSamples(this.q, this.numSteps - 1);
        s.floats = floats;
      } else if (hp !== undefined) {
        const hs: HPoint[] = new Array<HPoint>(this.numSteps);
        for (let i = 0; i < this.numSteps; i++) hs[i] = { t: this.start + i * this.interval, h: hp.h };
        addSamples(this.q, (this.numSteps - 1) * histogramSize(hp.h));
        s.histograms = hs;
      }
      await this.tick();
    }
    return m;
  }

  #literal(v: number): EMatrix {
    const floats: FPoint[] = new Array<FPoint>(this.numSteps);
    for (let i = 0; i < this.numSteps; i++) floats[i] = { t: this.start + i * this.interval, f: v };
    addSamples(this.q, this.numSteps);
    return [{ metric: [], floats, histograms: [], dropName: false }];
  }

  async #unary(e: UnaryExpr): Promise<EMatrix> {
    const m = await this.eval(e.expr);
    if (e.op === '+') return m;
    const hist = this.q.hist;
    for (const s of m) {
      s.floats = s.floats.map((p) => ({ t: p.t, f: -p.f }));
      s.histograms = s.histograms.map((p) => ({ t: p.t, h: hist.neg(p.h) }));
      s.dropName = true;
    }
    return m;
  }

  async #vectorSelector(vs: VectorSelector): Promise<EMatrix> {
    const q = this.q;
    const loaded = q.series.get(vs) ?? [];
    const at = resolveAt(q, vs.at);
    if (vs.smoothed === true) return this.#smoothedSelector(vs, at);
    const stats = q.statsSelectors.has(vs);
    const out: EMatrix = [];
    for (const ls of loaded) {
      await this.tick();
      const floats: FPoint[] = [];
      const histograms: HPoint[] = [];
      for (let i = 0; i < this.numSteps; i++) {
        if ((i & 8191) === 8191) {
          const p = q.ticker.checkpoint();
          if (p !== null) await p;
        }
        const ts = this.start + i * this.interval;
        const smp = ls.at((at ?? ts) - vs.offset, q.lookbackMs, stats);
        if (smp === null) continue;
        if (smp.h === null) {
          floats.push({ t: ts, f: smp.f });
          addSamples(q, 1);
        } else {
          histograms.push({ t: ts, h: smp.h });
          addSamples(q, histogramSize(smp.h));
        }
      }
      if (floats.length + histograms.length > 0) out.push({ metric: ls.metric, floats, histograms, dropName: false });
    }
    return out;
  }

  /** `x smoothed`: at each step the value interpolated between the samples around it. */
  async #smoothedSelector(vs: VectorSelector, at: number | null): Promise<EMatrix> {
    const q = this.q;
    const lb = q.lookbackMs;
    const out: EMatrix = [];
    for (const ls of q.series.get(vs) ?? []) {
      await this.tick();
      const floats: FPoint[] = [];
      const histograms: HPoint[] = [];
      for (let i = 0; i < this.numSteps; i++) {
        const ts = this.start + i * this.interval;
        const ref = (at ?? ts) - vs.offset;
        const fw = windowOf(ls.rangeFloats(), ref - lb, ref + lb);
        const hw = windowOf(ls.rangeHistograms(), ref - lb, ref + lb);
        if (fw.length > 0 && hw.length > 0) {
          q.annos.add('warning', `encountered a mix of histograms and floats for metric name ${goQuote(getLabel(ls.metric, METRIC_NAME))}`, vs.pos);
          continue;
        }
        if (hw.length > 0) {
          const h = this.#smoothedHistogram(vs, ls.metric, hw, ref);
          if (h === null) continue;
          histograms.push({ t: ts, h });
          addSamples(q, histogramSize(h));
          continue;
        }
        const f = smoothedValue(fw, ref);
        if (f === null) continue;
        floats.push({ t: ts, f });
        addSamples(q, 1);
      }
      if (floats.length + histograms.length > 0) out.push({ metric: ls.metric, floats, histograms, dropName: false });
    }
    return out;
  }

  /** smoothedValue for histograms: h1·(1-x) + h2·x between the samples around ref. */
  #smoothedHistogram(vs: VectorSelector, metric: Labels, w: readonly HPoint[], ref: number): FloatHistogram | null {
    let i = 0;
    while (i < w.length && (w[i] as HPoint).t < ref) i++;
    const next = w[i];
    if (next !== undefined && next.t === ref) return next.h;
    if (i === 0) return null;
    const prev = w[i - 1] as HPoint;
    if (next === undefined) return prev.h;
    const x = (ref - prev.t) / (next.t - prev.t);
    const hist = this.q.hist;
    try {
      return hist.add(hist.mul(prev.h, 1 - x), hist.mul(next.h, x)).h;
    } catch (e) {
      if (!(e instanceof IncompatibleHistogramsError)) throw e;
      this.q.annos.add('warning', `vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${goQuote(getLabel(metric, METRIC_NAME))}`, vs.pos);
      return null;
    }
  }

  /** A range selector evaluated on its own (an instant query for `x[5m]`): raw points. */
  async #matrixSelector(ms: MatrixSelector): Promise<EMatrix> {
    if (!this.single) throw new PromQLError('internal', 'cannot do range evaluation of matrix selector');
    const q = this.q;
    const vs = ms.vectorSelector;
    const maxt = (resolveAt(q, vs.at) ?? this.start) - vs.offset;
    const mint = maxt - ms.range;
    const out: EMatrix = [];
    const extended = vs.anchored === true || vs.smoothed === true;
    const readMin = extended ? mint - q.lookbackMs : mint;
    const readMax = vs.smoothed === true ? maxt + q.lookbackMs : maxt;
    for (const ls of q.series.get(vs) ?? []) {
      await this.tick();
      let floats = windowOf(ls.rangeFloats(), readMin, readMax);
      const histograms = windowOf(ls.rangeHistograms(), readMin, readMax);
      if (extended) {
        if (histograms.length > 0) throw noHistograms();
        floats = extendFloats(floats, mint, maxt, vs.smoothed === true);
      }
      if (floats.length + histograms.length === 0) continue;
      const s: ESeries = { metric: ls.metric, floats, histograms, dropName: false };
      addSamples(q, floats.length);
      for (const p of histograms) addSamples(q, histogramSize(p.h));
      out.push(s);
    }
    return out;
  }

  /**
   * Evaluates a subquery's inner expression at its own steps: absolute multiples of its step,
   * covering (first ref - offset - range, last ref - offset], where ref is each of this
   * evaluator's steps (or the @ time).
   */
  async subquery(sq: SubqueryExpr): Promise<EMatrix> {
    const q = this.q;
    const at = resolveAt(q, sq.at);
    const step = sq.step > 0 ? sq.step : q.defaultStepMs;
    const refStart = (at ?? this.start) - sq.offset;
    const refEnd = (at ?? this.end) - sq.offset;
    const from = refStart - sq.range;
    const innerStart = Math.floor(from / step) * step + step; // first multiple of step after `from`
    const inner = new Evaluator(q, innerStart, refEnd, step);
    return inner.eval(sq.expr);
  }
}

function sameLabelset(): PromQLError {
  return new PromQLError('execution', 'vector cannot contain metrics with the same labelset');
}

/** Fails with Prometheus's error if two of the items have the same labels. */
export function assertDistinctLabelsets(items: Iterable<{ metric: Labels }>): void {
  const seen = new Set<string>();
  for (const s of items) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw sameLabelset();
    seen.add(k);
  }
}

function sampleSeries(s: Sample, ts: number): ESeries {
  return s.h === null
    ? { metric: s.metric, floats: [{ t: ts, f: s.f }], histograms: [], dropName: s.dropName === true }
    : { metric: s.metric, floats: [], histograms: [{ t: ts, h: s.h }], dropName: s.dropName === true };
}

function pushPoint(series: ESeries, ts: number, s: Sample): void {
  if (s.h === null) series.floats.push({ t: ts, f: s.f });
  else series.histograms.push({ t: ts, h: s.h });
}
