// GET /continuous-test/check[?start=<unix s>&end=<unix s>]: checkAll() as JSON (CheckAllResult),
// for the rollout test's final check. 200 with the result whether or not it passed (look at
// missing and mismatched); 400 for a bad start or end; 503 when the test is not running (the check
// needs its client and what it recorded).
import { State } from '../lifecycle/index.js';
import { type HttpServer, sendJson } from '../server/http.js';
import type { CheckRange, ContinuousTest } from './service.js';

export const CHECK_PATH = '/continuous-test/check';

export function registerContinuousTestRoutes(http: HttpServer, test: ContinuousTest): void {
  http.route('GET', CHECK_PATH, async (_req, res, ctx) => {
    const st = test.state();
    if (st !== State.Running) {
      sendJson(res, 503, { status: 'error', error: `the continuous test is ${st}, not Running` });
      return;
    }
    const range: CheckRange = {};
    for (const [param, key] of [['start', 'fromT'], ['end', 'toT']] as const) {
      const v = ctx.url.searchParams.get(param);
      if (v === null) continue;
      const secs = Number(v);
      if (v.trim() === '' || !Number.isFinite(secs)) {
        sendJson(res, 400, { status: 'error', error: `invalid ${param} ${JSON.stringify(v)}: want a Unix time in seconds` });
        return;
      }
      range[key] = Math.round(secs * 1000);
    }
    try {
      sendJson(res, 200, await test.checkAll(ctx.signal, range));
    } catch (e) {
      if (ctx.signal.aborted) return; // the client went away
      sendJson(res, 503, { status: 'error', error: e instanceof Error ? e.message : String(e) });
    }
  });
}
