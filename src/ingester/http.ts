// The ingester's HTTP endpoints (Mimir's paths): /ingester/flush, /ingester/shutdown,
// /ingester/tenants, /ingester/tsdb/{tenant}.
import { sendJson, sendText, type HttpServer } from '../server/http.js';
import { httpWhenRunning } from '../server/guard.js';
import { validateTenantId } from '../tenant/index.js';
import type { Ingester } from './ingester.js';

export function registerIngesterRoutes(http: HttpServer, ing: Ingester, shutdown: (reason: string) => void): void {
  http.route(['GET', 'POST'], '/ingester/flush', httpWhenRunning(ing, async (_req, res) => {
    await ing.flush();
    res.statusCode = 204;
    res.end();
  }));

  http.route(['GET', 'POST'], '/ingester/shutdown', httpWhenRunning(ing, async (_req, res) => {
    await ing.flush();
    sendText(res, 200, 'ingester WALs synced; shutting down\n');
    shutdown('/ingester/shutdown');
  }));

  http.route('GET', '/ingester/tenants', httpWhenRunning(ing, (req, res) => {
    const tenants = ing.tenants().map((t) => ({ tenant: t, series: ing.tenantDb(t)?.head.numSeries ?? 0 }));
    if ((req.headers.accept ?? '').includes('application/json') || !(req.headers.accept ?? '').includes('text/html')) {
      sendJson(res, 200, { tenants });
      return;
    }
    const rows = tenants.map((t) => `<tr><td><a href="tsdb/${encodeURIComponent(t.tenant)}">${esc(t.tenant)}</a></td><td>${t.series}</td></tr>`).join('\n');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html>\n<html><head><title>Ingester tenants</title></head><body><h1>Tenants</h1>\n<table border="1"><tr><th>Tenant</th><th>Series</th></tr>\n${rows}\n</table></body></html>\n`);
  }));

  http.route('GET', '/ingester/tsdb/:tenant', httpWhenRunning(ing, async (_req, res, ctx) => {
    const tenant = validateTenantId(ctx.params.tenant ?? '');
    const db = ing.tenantDb(tenant);
    if (db === undefined) {
      sendText(res, 404, `tenant ${JSON.stringify(tenant)} has no data in this ingester\n`);
      return;
    }
    let chunkBytes = 0;
    let chunks = 0;
    for (const s of db.head.allSeries()) {
      chunkBytes += s.chunkBytes();
      chunks += s.chunkCount();
    }
    const replay = ing.replays.get(tenant);
    sendJson(res, 200, {
      tenant,
      series: db.head.numSeries,
      chunks,
      chunkBytes,
      chunkArena: db.head.chunkMemory(),
      minTime: Number.isFinite(db.head.minT) ? db.head.minT : null,
      maxTime: Number.isFinite(db.head.maxT) ? db.head.maxT : null,
      walBytes: await db.walSizeBytes(),
      walSegments: db.wal.segmentRange(),
      lastReplay: replay ?? null,
    });
  }));
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
