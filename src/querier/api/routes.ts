// The Prometheus HTTP query API under -http.prometheus-http-prefix (Mimir serves it only there):
//
//   GET|POST <prefix>/api/v1/query            instant query
//   GET|POST <prefix>/api/v1/query_range      range query
//   GET|POST <prefix>/api/v1/series           series by match[]
//   GET|POST <prefix>/api/v1/labels           label names
//   GET      <prefix>/api/v1/label/:name/values
//   GET      <prefix>/api/v1/metadata         the ingesters' metric metadata (from remote write)
//   POST     <prefix>/api/v1/read             remote read (remote-read.ts)
//   GET      <prefix>/api/v1/user_stats       Mimir's tenant ingestion stats (also at the root path)
//   GET|POST <prefix>/api/v1/query_exemplars  always empty: the ingesters keep no exemplars
//   GET|POST <prefix>/api/v1/format_query
//   GET      <prefix>/api/v1/status/buildinfo
//
// Every handler: the tenant from X-Scope-OrgID first (401/400 in plain text, as Mimir's auth
// middleware answers), then "is the querier Running" (503), then the parameters (URL query and
// form-encoded POST body, body first, as Go's Request.FormValue), checked in Prometheus's order
// with its messages. A query runs with the request's signal (the client going away cancels it,
// ingester calls included) and a deadline of min(timeout parameter, -querier.timeout).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MuninnError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { Expr } from '../../promql/ast.js';
import type { StorageMatcher } from '../../promql/value.js';
import { PromQLError, type QueryResult } from '../../promql/engine/api.js';
import { formatExpr, parseExpr } from '../../promql/parser/index.js';
import { type HttpServer, sendJson, sendText } from '../../server/http.js';
import type { RequestContext } from '../../server/router.js';
import { type TenancyOptions, tenantFromHeaders } from '../../tenant/index.js';
import { isValidLabelName } from '../../promql/engine/labels.js';
import { goQuote, isLegacyLabelName } from '../../tsdb/labels/index.js';
import { MAX_TIME_MS, MIN_TIME_MS, compareLabels, mergeSortedUnique } from '../ingester-queryable.js';
import type { Querier, QueryEngine } from '../querier.js';
import { formatLabels, formatQueryData, toJson } from './format.js';
import { FormValues, errorMessage, invalidParam, parseDurationParam, parseLimit, parseTime, parseTimeParam } from './params.js';
import { QuerySignal, readForm } from './request.js';
import { apiErrorOf, respondError, respondNoContent, respondSuccess } from './respond.js';
import { hasSelectors, parseMatchersParam, unescapeName } from './selectors.js';

/** Prometheus's cap on points per series of a range query. */
export const MAX_POINTS_PER_SERIES = 11_000;

export const TRUNCATED_WARNING = 'results truncated due to limit';

export interface QueryApiDeps {
  querier: Querier;
  /** -http.prometheus-http-prefix ('' = at the root). */
  prefix: string;
  /** -auth.multitenancy-enabled / -auth.no-auth-tenant */
  tenancy: TenancyOptions;
  /** The answer of <prefix>/api/v1/status/buildinfo (`data`). */
  buildInfo: () => Record<string, unknown>;
  /** Label names as -validation.name-validation-scheme=utf8 allows them (any UTF-8); else legacy. */
  utf8Names?: boolean;
  log: Logger;
  /** Clock for `time` defaults and deadlines (tests). */
  now?: () => number;
}

type ApiHandler = (form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse) => Promise<void>;

/** Registers the query API routes on the server. */
export function registerQueryApi(http: HttpServer, deps: QueryApiDeps): void {
  const p = deps.prefix;
  const api = new QueryApi(deps);
  const add = (methods: readonly string[], path: string, h: ApiHandler, opts: { tenant: boolean } = { tenant: true }): void => {
    http.route(methods, `${p}${path}`, (req, res, ctx) => api.serve(req, res, ctx, h, opts.tenant));
  };
  const GP = ['GET', 'POST'] as const;
  add(GP, '/api/v1/query', (f, t, c, r) => api.query(f, t, c, r));
  add(GP, '/api/v1/query_range', (f, t, c, r) => api.queryRange(f, t, c, r));
  add(GP, '/api/v1/series', (f, t, c, r) => api.series(f, t, c, r));
  add(GP, '/api/v1/labels', (f, t, c, r) => api.labelNames(f, t, c, r));
  add(['GET'], '/api/v1/label/:name/values', (f, t, c, r) => api.labelValues(f, t, c, r));
  add(['GET'], '/api/v1/metadata', (f, t, c, r) => api.metadata(f, t, c, r));
  add(GP, '/api/v1/query_exemplars', (f, t, c, r) => api.queryExemplars(f, t, c, r));
  // Mimir's querier serves the tenant's ingestion stats at the root path too
  add(['GET'], '/api/v1/user_stats', (f, t, c, r) => api.userStats(f, t, c, r));
  if (p !== '') http.route(['GET'], '/api/v1/user_stats', (req, res, ctx) => api.serve(req, res, ctx, (f, t, c, r) => api.userStats(f, t, c, r), true));
  add(GP, '/api/v1/format_query', (f, t, c, r) => api.formatQuery(f, t, c, r), { tenant: false });
  // every target already serves /api/v1/status/buildinfo at the root
  if (p !== '') add(['GET'], '/api/v1/status/buildinfo', (f, t, c, r) => api.buildInfo(f, t, c, r), { tenant: false });
}

class QueryApi {
  private readonly d: QueryApiDeps;
  private readonly now: () => number;

  constructor(deps: QueryApiDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
  }

  async serve(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, h: ApiHandler, needsTenant: boolean): Promise<void> {
    // a late 'error' (client reset) must never be an unhandled 'error' event
    req.on('error', () => undefined);
    let tenant = '';
    if (needsTenant) {
      try {
        tenant = tenantFromHeaders(req.headersDistinct, this.d.tenancy);
      } catch (e) {
        const status = e instanceof MuninnError ? e.httpStatus : 400;
        sendText(res, status, `${e instanceof Error ? e.message : String(e)}\n`);
        return;
      }
    }
    try {
      this.d.querier.checkRunning();
      const body = await readForm(req, ctx.signal);
      await h(new FormValues(ctx.url.searchParams, body), tenant, ctx, res);
    } catch (e) {
      const err = apiErrorOf(e);
      if (err.type === 'internal') ctx.log.error({ err: e, path: ctx.url.pathname }, 'query API request failed');
      respondError(res, err);
    }
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** Prometheus's `timeout` parameter and `lookback_delta` (extractQueryOpts). */
  private queryOptions(form: FormValues): { timeoutMs: number | undefined; lookbackDeltaMs: number | undefined } {
    const to = form.value('timeout');
    const timeoutMs = to === '' ? undefined : durationParam(to, (why) => invalidParam('timeout', why));
    const lb = form.value('lookback_delta');
    const lookbackDeltaMs = lb === '' ? undefined : durationParam(lb, (why) => new PromQLError('bad_data', `error parsing lookback delta duration: ${why}`));
    return { timeoutMs, lookbackDeltaMs };
  }

  async query(form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const limit = parseLimit(form);
    const ts = parseTimeParam(form, 'time', this.now());
    const opts = this.queryOptions(form);
    const query = form.value('query');
    checkQuery(query);
    await this.run(ctx, res, { ...opts, tenant }, (engine, signal) => engine.instantQuery(this.d.querier.queryable(tenant), query, ts, signal), limit);
  }

  async queryRange(form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const limit = parseLimit(form);
    const start = timeParam(form, 'start');
    const end = timeParam(form, 'end');
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    const step = durationParam(form.value('step'), (why) => invalidParam('step', why));
    if (!(step > 0)) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    // Go: end.Sub(start) / step > 11000 in integer nanoseconds
    const stepNs = Math.trunc(step * 1e6);
    if (stepNs <= 0 || Math.trunc(((end - start) * 1e6) / stepNs) > MAX_POINTS_PER_SERIES) {
      throw new PromQLError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    const opts = this.queryOptions(form);
    const query = form.value('query');
    checkQuery(query);
    // Prometheus's engine steps in whole milliseconds (durationMilliseconds truncates)
    const stepMs = Math.trunc(step);
    if (stepMs <= 0) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    await this.run(ctx, res, { ...opts, tenant }, (engine, signal) => engine.rangeQuery(this.d.querier.queryable(tenant), query, start, end, stepMs, signal), limit);
  }

  private async run(
    ctx: RequestContext,
    res: ServerResponse,
    opts: { timeoutMs: number | undefined; lookbackDeltaMs: number | undefined; tenant: string },
    exec: (engine: QueryEngine, signal: AbortSignal) => Promise<QueryResult>,
    limit: number,
  ): Promise<void> {
    const q = this.d.querier;
    // a deadline already passed: Prometheus's context expires before the query runs
    if (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) {
      throw new PromQLError('timeout', `query timed out in ${opts.timeoutMs === 0 ? 'query queue' : 'query execution'}`);
    }
    const timeoutMs = opts.timeoutMs !== undefined ? Math.min(opts.timeoutMs, q.config.timeout) : q.config.timeout;
    const engine = q.engine({ tenant: opts.tenant, ...(opts.lookbackDeltaMs !== undefined ? { lookbackDeltaMs: opts.lookbackDeltaMs } : {}), ...(opts.timeoutMs !== undefined ? { timeoutMs } : {}) });
    const qs = new QuerySignal(ctx.signal, timeoutMs);
    let result: QueryResult;
    try {
      result = await exec(engine, qs.signal);
    } catch (e) {
      throw qs.translate(e);
    } finally {
      qs.done();
    }
    const warnings = [...result.annotations.warnings];
    let value = result.value;
    if (limit > 0 && (value.type === 'vector' || value.type === 'matrix') && value.value.length > limit) {
      value = value.type === 'vector' ? { type: 'vector', value: value.value.slice(0, limit) } : { type: 'matrix', value: value.value.slice(0, limit) };
      warnings.push(TRUNCATED_WARNING);
    }
    respondSuccess(res, formatQueryData(value), warnings, result.annotations.infos);
  }

  // ---- metadata queries ------------------------------------------------------------------------

  /** A metadata read under -querier.timeout (Prometheus has none; a hung ingester must not hold a request forever). */
  private async read<T>(ctx: RequestContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const qs = new QuerySignal(ctx.signal, this.d.querier.config.timeout, 'query execution');
    try {
      return await fn(qs.signal);
    } catch (e) {
      throw qs.translate(e);
    } finally {
      qs.done();
    }
  }

  async series(form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const matches = form.all('match[]');
    if (matches.length === 0) throw new PromQLError('bad_data', 'no match[] parameter provided');
    const limit = parseLimit(form);
    const start = parseTimeParam(form, 'start', MIN_TIME_MS);
    const end = parseTimeParam(form, 'end', MAX_TIME_MS);
    const sets = parseMatchersParam(matches);
    const all = await this.read(ctx, (signal) => this.d.querier.ingesters.series(tenant, sets, start, end, signal));
    all.sort(compareLabels);
    const warnings: string[] = [];
    let out = all;
    if (limit > 0 && all.length > limit) {
      out = all.slice(0, limit);
      warnings.push(TRUNCATED_WARNING);
    }
    respondSuccess(res, `[${out.map((ls) => formatLabels(ls)).join(',')}]`, warnings);
  }

  async labelNames(form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const ing = this.d.querier.ingesters;
    await this.labelStrings(form, ctx, res, (matchers, start, end, signal) => ing.labelNames(tenant, matchers, start, end, signal));
  }

  async labelValues(form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    let name = ctx.params.name ?? '';
    if (name.startsWith('U__')) name = unescapeName(name);
    if (!this.validLabelName(name)) throw new PromQLError('bad_data', `invalid label name: ${goQuote(name)}`);
    const ing = this.d.querier.ingesters;
    await this.labelStrings(form, ctx, res, (matchers, start, end, signal) => ing.labelValues(tenant, name, matchers, start, end, signal));
  }

  /**
   * Label names or values: `limit`, `start`, `end`, then `match[]`; each selector is read on its
   * own (none: all series), the answers merged, sorted and cut at the limit.
   */
  private async labelStrings(
    form: FormValues,
    ctx: RequestContext,
    res: ServerResponse,
    read: (matchers: readonly StorageMatcher[], start: number, end: number, signal: AbortSignal) => Promise<string[]>,
  ): Promise<void> {
    const limit = parseLimit(form);
    const start = parseTimeParam(form, 'start', MIN_TIME_MS);
    const end = parseTimeParam(form, 'end', MAX_TIME_MS);
    const sets = parseMatchersParam(form.all('match[]'));
    const lists = await this.read(ctx, (signal) => Promise.all((sets.length === 0 ? [[]] : sets).map((m) => read(m, start, end, signal))));
    this.respondStrings(res, mergeSortedUnique(lists), limit);
  }

  private respondStrings(res: ServerResponse, list: string[], limit: number): void {
    const warnings: string[] = [];
    let out = list;
    if (limit > 0 && list.length > limit) {
      out = list.slice(0, limit);
      warnings.push(TRUNCATED_WARNING);
    }
    respondSuccess(res, toJson(out), warnings);
  }

  private validLabelName(name: string): boolean {
    return this.d.utf8Names === true ? isValidLabelName(name) : isLegacyLabelName(name);
  }

  /**
   * /api/v1/metadata: the metric metadata the ingesters hold (sent with remote write), as
   * Prometheus answers it: { metric: [{ type, help, unit }, ...] }, metrics in name order.
   * `metric` keeps one metric; `limit` >= 0 keeps that many metrics (0: none), `limit_per_metric`
   * > 0 that many entries each (Prometheus's rules).
   */
  async metadata(form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const int = (name: string): number => {
      const v = form.value(name);
      if (v === '') return -1;
      if (!/^[+-]?\d+$/.test(v)) throw new PromQLError('bad_data', `${name} must be a number`);
      return Number(v);
    };
    const limit = int('limit');
    const perMetric = int('limit_per_metric');
    const metric = form.value('metric');
    const all = await this.read(ctx, (signal) => this.d.querier.ingesters.metricsMetadata(tenant, signal));
    const byMetric = new Map<string, string[]>();
    for (const m of all) {
      if (metric !== '' && m.metric !== metric) continue;
      let list = byMetric.get(m.metric);
      if (list === undefined) {
        if (limit >= 0 && byMetric.size >= limit) break;
        list = [];
        byMetric.set(m.metric, list);
      }
      if (perMetric > 0 && list.length >= perMetric) continue;
      list.push(`{"type":${toJson(m.type)},"help":${toJson(m.help)},"unit":${toJson(m.unit)}}`);
    }
    respondSuccess(res, `{${[...byMetric].map(([name, list]) => `${toJson(name)}:[${list.join(',')}]`).join(',')}}`);
  }

  /** Mimir's /api/v1/user_stats: the tenant's series and ingestion rate over the ingesters (JSON, not the API envelope). */
  async userStats(_form: FormValues, tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const s = await this.read(ctx, (signal) => this.d.querier.ingesters.userStats(tenant, signal));
    sendJson(res, 200, { ingestionRate: s.ingestionRate, numSeries: s.numSeries, APIIngestionRate: s.apiIngestionRate, RuleIngestionRate: s.ruleIngestionRate });
  }

  /** Exemplars: the ingesters keep none, so a query with selectors gets []; one without, 204. */
  async queryExemplars(form: FormValues, _tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    const start = parseTimeParam(form, 'start', MIN_TIME_MS);
    const end = parseTimeParam(form, 'end', MAX_TIME_MS);
    if (end < start) throw new PromQLError('bad_data', 'end timestamp must not be before start timestamp');
    let expr: Expr;
    try {
      expr = parseExpr(form.value('query'));
    } catch (e) {
      throw new PromQLError('bad_data', errorMessage(e));
    }
    if (!hasSelectors(expr)) {
      respondNoContent(res);
      return;
    }
    respondSuccess(res, '[]');
  }

  async formatQuery(form: FormValues, _tenant: string, ctx: RequestContext, res: ServerResponse): Promise<void> {
    let expr: Expr;
    try {
      expr = parseExpr(form.value('query'));
    } catch (e) {
      throw invalidParam('query', errorMessage(e));
    }
    respondSuccess(res, toJson(formatExpr(expr)));
  }

  async buildInfo(_form: FormValues, _tenant: string, _ctx: RequestContext, res: ServerResponse): Promise<void> {
    respondSuccess(res, toJson(this.d.buildInfo()));
  }
}

/** Prometheus parses the query when it creates it: parse errors are `invalid parameter "query"`. */
function checkQuery(query: string): void {
  try {
    parseExpr(query);
  } catch (e) {
    if (e instanceof PromQLError && e.errorType !== 'bad_data') throw e;
    throw invalidParam('query', errorMessage(e));
  }
}

function timeParam(form: FormValues, name: string): number {
  try {
    return parseTime(form.value(name));
  } catch (e) {
    throw invalidParam(name, errorMessage(e));
  }
}

/** A duration parameter (parseDurationParam); its error as `fail` words it. */
function durationParam(value: string, fail: (why: string) => Error): number {
  try {
    return parseDurationParam(value);
  } catch (e) {
    throw fail(errorMessage(e));
  }
}
