// The ring pages (Mimir's /ingester/ring and /distributor/ring): GET renders the ring the watcher
// last saw as HTML, or JSON with Accept: application/json; POST with the form field "forget"
// removes that instance from the ring (the button shown on unhealthy instances).
import type { IncomingMessage } from 'node:http';
import { MuninnError } from '../errors/index.js';
import { sendJson, sendText, type HttpServer } from '../server/http.js';
import { FORGET_FORM_FIELD, renderRingHtml, ringJson } from './http.js';
import type { KVClient } from './kv/kv.js';
import { forgetInstance } from './ops.js';
import type { RingWatcher } from './watcher.js';

const MAX_FORM_BYTES = 4096;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_FORM_BYTES) throw new MuninnError('bad_data', `form body larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function registerRingPage(http: HttpServer, path: string, watcher: RingWatcher, kv: KVClient): void {
  http.route('GET', path, (req, res) => {
    const ring = watcher.ring();
    if ((req.headers.accept ?? '').includes('application/json')) {
      sendJson(res, 200, ringJson(ring));
      return;
    }
    const html = renderRingHtml(ring, ring.now());
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html);
  });
  http.route('POST', path, async (req, res, ctx) => {
    const form = await readForm(req);
    const id = form.get(FORGET_FORM_FIELD) ?? '';
    if (id === '') throw new MuninnError('bad_data', `missing form field "${FORGET_FORM_FIELD}"`);
    const removed = await forgetInstance(kv, watcher.ringKey, id, { signal: ctx.signal, log: ctx.log });
    ctx.log.info({ instance: id, ring: watcher.ringKey, removed }, 'ring page: forget instance');
    if ((req.headers.accept ?? '').includes('application/json')) {
      sendJson(res, 200, { forgotten: removed ? id : null });
      return;
    }
    if (!removed) {
      sendText(res, 404, `instance ${JSON.stringify(id)} is not in the ring\n`);
      return;
    }
    // back to the page, as Mimir's page does after the form posts
    res.statusCode = 303;
    res.setHeader('Location', ctx.url.pathname);
    res.end();
  });
}
