// Endpoints every target serves: /ready, /metrics, /services, /config, /api/v1/status/buildinfo.
import type { ServerResponse } from 'node:http';
import { renderYaml, type ConfigMode } from '../config/index.js';
import type { Registry } from '../metrics/index.js';
import type { State } from '../lifecycle/index.js';
import { type HttpServer, sendJson, sendText } from '../server/http.js';
import { buildInfo } from './build-info.js';
import { type MuninnConfig, schema } from './config.js';

export interface StatusSource {
  readiness(): { ready: boolean; reason: string };
  moduleStates(): Array<{ name: string; state: State }>;
}

export function registerStatusRoutes(http: HttpServer, registry: Registry, config: MuninnConfig, src: StatusSource): void {
  http.route('GET', '/ready', (_req, res) => {
    const r = src.readiness();
    sendText(res, r.ready ? 200 : 503, r.ready ? 'ready\n' : `${r.reason}\n`);
  });

  http.route('GET', '/metrics', async (_req, res) => {
    const body = await registry.metrics();
    res.statusCode = 200;
    res.setHeader('Content-Type', registry.contentType);
    res.end(body);
  });

  http.route('GET', '/services', (req, res) => {
    const services = src.moduleStates();
    if (wantsJson(req.headers.accept)) {
      sendJson(res, 200, { services });
      return;
    }
    const rows = services.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.state)}</td></tr>`).join('\n');
    sendHtml(res, `<!DOCTYPE html>\n<html><head><title>Muninn services</title></head><body>\n<h1>Services</h1>\n<table border="1">\n<tr><th>Service</th><th>State</th></tr>\n${rows}\n</table>\n</body></html>\n`);
  });

  http.route('GET', '/config', (_req, res, ctx) => {
    const m = ctx.url.searchParams.get('mode') ?? '';
    const mode: ConfigMode | undefined = m === '' ? 'full' : m === 'diff' ? 'diff' : m === 'defaults' ? 'defaults' : undefined;
    if (mode === undefined) {
      sendText(res, 400, `unknown mode "${m}": use mode=diff, mode=defaults or no mode\n`);
      return;
    }
    const body = renderYaml(schema, config, mode);
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(body);
  });

  http.route('GET', '/api/v1/status/buildinfo', (_req, res) => {
    const b = buildInfo();
    sendJson(res, 200, {
      status: 'success',
      data: {
        application: 'Muninn',
        version: b.version,
        revision: b.revision,
        branch: b.branch,
        buildUser: b.buildUser,
        buildDate: b.buildDate,
        goVersion: `node ${process.version}`,
        features: {},
      },
    });
  });
}

function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.includes('application/json') && !accept.includes('text/html');
}

function sendHtml(res: ServerResponse, body: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
