// The ring page (dskit ring/http.go): an HTML table of the instances and the same data as JSON.
// Rendering only; the route (GET shows, POST with form field "forget" removes an instance through
// forgetInstance(), then redirects back) is wired by the HTTP API.
import { formatDuration } from '../util/duration.js';
import type { InstanceDesc } from './model.js';
import type { Ring } from './ring.js';

/** The form field the page's forget buttons post the instance id in (as dskit's page). */
export const FORGET_FORM_FIELD = 'forget';

export interface RingPageRow {
  readonly id: string;
  /** The registered state, or UNHEALTHY when the heartbeat is older than the timeout (as dskit shows it). */
  readonly state: string;
  readonly registeredState: string;
  readonly healthy: boolean;
  readonly address: string;
  readonly zone: string;
  readonly heartbeatMs: number;
  readonly registeredMs: number;
  readonly readOnly: boolean;
  readonly tokens: readonly number[];
  /** Fraction of the token space owned, 0..1. */
  readonly ownership: number;
}

/** The rows of the page, sorted by instance id. */
export function ringPageRows(ring: Ring, nowMs: number): RingPageRow[] {
  const own = ring.tokenOwnership();
  return ring.instances.map((i: InstanceDesc) => {
    const healthy = ring.isHealthy(i, 'reporting', nowMs);
    return {
      id: i.id,
      state: healthy ? i.state : 'UNHEALTHY',
      registeredState: i.state,
      healthy,
      address: i.addr,
      zone: i.zone,
      heartbeatMs: i.heartbeatMs,
      registeredMs: i.registeredMs,
      readOnly: i.readOnly === true,
      tokens: i.tokens,
      ownership: own.get(i.id) ?? 0,
    };
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function iso(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '';
}

function ago(nowMs: number, thenMs: number): string {
  if (thenMs <= 0) return 'never';
  const d = nowMs - thenMs;
  // a heartbeat from a clock ahead of ours
  if (d < 0) return `in ${formatDuration(Math.ceil(-d))}`;
  return `${formatDuration(Math.floor(d))} ago`;
}

/** The ring page: one row per instance, a forget button on each unhealthy one. */
export function renderRingHtml(ring: Ring, nowMs: number): string {
  const rows = ringPageRows(ring, nowMs);
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>Ring status</title>',
    '<style>table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}tr.unhealthy{background:#fdd}td.num{text-align:right}</style>',
    '</head><body>',
    '<h1>Ring status</h1>',
    `<p>Current time: ${escapeHtml(iso(nowMs))}. Instances: ${rows.length}, healthy: ${rows.filter((r) => r.healthy).length}. ` +
      `Replication factor: ${ring.replicationFactor}, zone awareness: ${ring.zoneAwarenessEnabled ? 'enabled' : 'disabled'}, ` +
      `heartbeat timeout: ${escapeHtml(formatDuration(ring.heartbeatTimeoutMs))}.</p>`,
    '<table><thead><tr><th>Instance</th><th>Zone</th><th>State</th><th>Address</th><th>Registered</th><th>Last heartbeat</th><th>Tokens</th><th>Ownership</th><th>Actions</th></tr></thead><tbody>',
  );
  for (const r of rows) {
    const state = r.healthy ? r.state : `UNHEALTHY (${r.registeredState})`;
    const forget = r.healthy
      ? ''
      : `<form method="POST" action=""><input type="hidden" name="${FORGET_FORM_FIELD}" value="${escapeHtml(r.id)}"><button type="submit">Forget</button></form>`;
    out.push(
      `<tr${r.healthy ? '' : ' class="unhealthy"'}>` +
        `<td>${escapeHtml(r.id)}</td>` +
        `<td>${escapeHtml(r.zone)}</td>` +
        `<td>${escapeHtml(state)}${r.readOnly ? ' (read-only)' : ''}</td>` +
        `<td>${escapeHtml(r.address)}</td>` +
        `<td>${escapeHtml(iso(r.registeredMs))}</td>` +
        `<td title="${escapeHtml(iso(r.heartbeatMs))}">${escapeHtml(ago(nowMs, r.heartbeatMs))}</td>` +
        `<td class="num">${r.tokens.length}</td>` +
        `<td class="num">${(r.ownership * 100).toFixed(2)}%</td>` +
        `<td>${forget}</td>` +
        '</tr>',
    );
  }
  out.push('</tbody></table>', '</body></html>', '');
  return out.join('\n');
}

/** The page's data as JSON (dskit's field names, plus read_only and ownership as a 0..1 fraction). */
export function ringJson(ring: Ring, nowMs: number = ring.now()): {
  shards: Array<{ id: string; state: string; address: string; timestamp: string; registered_timestamp: string; zone: string; read_only: boolean; tokens: number[]; ownership: number }>;
  now: string;
} {
  return {
    shards: ringPageRows(ring, nowMs).map((r) => ({
      id: r.id,
      state: r.state,
      address: r.address,
      timestamp: iso(r.heartbeatMs),
      registered_timestamp: iso(r.registeredMs),
      zone: r.zone,
      read_only: r.readOnly,
      tokens: [...r.tokens],
      ownership: r.ownership,
    })),
    now: iso(nowMs),
  };
}
