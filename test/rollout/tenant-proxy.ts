// A header-adding hop between Prometheus and HAProxy. Debian's Prometheus 2.42 (2.42.0+ds) sends
// none of the `headers:` of a remote_write section (checked: the request has only Host,
// User-Agent, Content-*, X-Prometheus-Remote-Write-Version), so Muninn answers 401 "no org id" and
// Prometheus drops every sample. This proxy adds X-Scope-OrgID and forwards the request unchanged
// to HAProxy's /api/v1/push, answering with HAProxy's status and body; a request it cannot forward
// (HAProxy unreachable, no answer) gets 503, which Prometheus retries, as HAProxy itself would.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TenantProxy {
  url: string;
  /** Requests forwarded, by the status answered (0: could not forward, answered 503). */
  statuses: Record<string, number>;
  close(): Promise<void>;
}

export async function startTenantProxy(target: string, tenant: string): Promise<TenantProxy> {
  const statuses: Record<string, number> = {};
  const t = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      headers['x-scope-orgid'] = tenant;
      headers['content-length'] = String(body.length);
      const out = request({ host: t.hostname, port: t.port, path: t.pathname, method: req.method, headers, timeout: 30_000 }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          const s = up.statusCode ?? 502;
          statuses[String(s)] = (statuses[String(s)] ?? 0) + 1;
          const h: Record<string, string> = {};
          for (const k of ['content-type', 'content-encoding', 'retry-after']) if (typeof up.headers[k] === 'string') h[k] = up.headers[k] as string;
          res.writeHead(s, h);
          res.end(Buffer.concat(parts));
        });
        up.on('error', () => fail());
      });
      let failed = false;
      const fail = (): void => {
        if (failed || res.headersSent) return;
        failed = true;
        statuses['0'] = (statuses['0'] ?? 0) + 1;
        res.writeHead(503);
        res.end('tenant proxy: no answer from HAProxy');
      };
      out.on('timeout', () => out.destroy(new Error('timeout')));
      out.on('error', fail);
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/v1/push`,
    statuses,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
