// A small path router: exact segments, ":name" parameters and a trailing "*" for the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/index.js';

export interface RequestContext {
  params: Record<string, string>;
  url: URL;
  /** Aborts when the client goes away before the response is finished. */
  signal: AbortSignal;
  log: Logger;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => void | Promise<void>;

export interface Route {
  methods: readonly string[];
  pattern: string;
  /** The route label of cortex_request_duration_seconds. */
  name: string;
  handler: Handler;
}

interface Compiled extends Route {
  segments: string[];
  rest: boolean;
}

/** Mimir-style route name: "/api/v1/push" -> "api_v1_push", parameters as their names. */
export function routeName(pattern: string): string {
  const n = pattern
    .replace(/^\/+|\/+$/g, '')
    .replace(/[:*]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '_');
  return n === '' ? 'root' : n;
}

export class Router {
  private readonly routes: Compiled[] = [];

  add(route: Route): void {
    const segs = route.pattern.split('/').filter((s) => s !== '');
    const rest = segs[segs.length - 1] === '*';
    if (rest) segs.pop();
    if (this.routes.some((r) => r.pattern === route.pattern && r.methods.some((m) => route.methods.includes(m)))) {
      throw new Error(`route ${route.methods.join(',')} ${route.pattern} registered twice`);
    }
    this.routes.push({ ...route, segments: segs, rest });
  }

  /** The route for a path and method; "method" when only another method matches. */
  match(method: string, path: string): { route: Compiled; params: Record<string, string> } | 'method' | undefined {
    const parts = path.split('/').filter((s) => s !== '');
    let methodMismatch = false;
    for (const r of this.routes) {
      const params = matchSegments(r, parts);
      if (params === undefined) continue;
      if (!r.methods.includes(method) && !(method === 'HEAD' && r.methods.includes('GET'))) {
        methodMismatch = true;
        continue;
      }
      return { route: r, params };
    }
    return methodMismatch ? 'method' : undefined;
  }

  list(): readonly Route[] {
    return this.routes;
  }
}

function matchSegments(r: Compiled, parts: string[]): Record<string, string> | undefined {
  if (r.rest ? parts.length < r.segments.length : parts.length !== r.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segments.length; i++) {
    const s = r.segments[i] as string;
    const p = parts[i] as string;
    if (s.startsWith(':')) {
      try {
        params[s.slice(1)] = decodeURIComponent(p);
      } catch {
        return undefined;
      }
    } else if (s !== p) return undefined;
  }
  if (r.rest) params['*'] = parts.slice(r.segments.length).join('/');
  return params;
}
