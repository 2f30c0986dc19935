// Answers of the query API: Prometheus's JSON envelope, its error types and their statuses
// (web/api/v1 respondError), the annotation caps, and what errors from the engine, the querier and
// the ingesters become.
import type { ServerResponse } from 'node:http';
import { MuninnError } from '../../errors/index.js';
import { PromQLError, type PromQLErrorType } from '../../promql/engine/api.js';
import { errorBody, successBody } from './format.js';

/** Prometheus's errorType values this API answers with, and their HTTP statuses. */
export type ApiErrorType = PromQLErrorType;

export const STATUS_OF: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  unavailable: 503,
  internal: 500,
};

export interface ApiError {
  type: ApiErrorType;
  message: string;
}

/** Prometheus's cap on annotations per answer (api.go: AsStrings(query, 10, 10)). */
export const MAX_ANNOTATIONS = 10;

/** Caps warnings or infos at 10, adding "N more warning annotations omitted" as Prometheus does. */
export function capAnnotations(list: readonly string[], kind: 'warning' | 'info'): string[] {
  if (list.length <= MAX_ANNOTATIONS) return [...list];
  return [...list.slice(0, MAX_ANNOTATIONS), `${list.length - MAX_ANNOTATIONS} more ${kind} annotations omitted`];
}

/** The API error for anything thrown while answering. */
export function apiErrorOf(e: unknown): ApiError {
  if (e instanceof PromQLError) return { type: e.errorType, message: e.message };
  if (e instanceof MuninnError) {
    switch (e.code) {
      case 'bad_data':
        return { type: 'bad_data', message: e.message };
      case 'timeout':
        return { type: 'timeout', message: e.message };
      case 'canceled':
        return { type: 'canceled', message: e.message };
      case 'unavailable':
      case 'pool_closed':
      case 'too_many_requests':
        return { type: 'unavailable', message: e.message };
      default:
        return { type: 'internal', message: e.message };
    }
  }
  return { type: 'internal', message: e instanceof Error ? e.message : String(e) };
}

function send(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** 200 with `data` (already JSON; undefined leaves it out) and the capped annotations. */
export function respondSuccess(res: ServerResponse, dataJson: string | undefined, warnings: readonly string[] = [], infos: readonly string[] = []): void {
  send(res, 200, successBody(dataJson, capAnnotations(warnings, 'warning'), capAnnotations(infos, 'info')));
}

export function respondError(res: ServerResponse, err: ApiError, warnings: readonly string[] = []): void {
  send(res, STATUS_OF[err.type], errorBody(err.type, err.message, capAnnotations(warnings, 'warning')));
}

/** 204 without a body (Prometheus's answer when a handler returns no data, e.g. exemplars of `1`). */
export function respondNoContent(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = 204;
  res.end();
}
