// The tenant of an incoming request, as Mimir resolves it for a write (dskit `user` and `tenant`):
//
// - multitenancy on (-auth.multitenancy-enabled=true): the X-Scope-OrgID header names the tenant.
//   Missing or empty: 401 "no org id" (dskit user.ErrNoOrgID, answered 401 by Mimir's auth
//   middleware). Invalid: 400 with the reason. Several tenants (a `|`-joined list, which Mimir
//   accepts for queries only, or several differing header values): 400 "multiple org IDs present"
//   (dskit user.ErrTooManyOrgIDs, from tenant.TenantID). Like dskit's tenant.TenantIDs, repeats of
//   one tenant ID ("a|a") count as that one tenant.
// - multitenancy off: always -auth.no-auth-tenant; the header is ignored (Mimir's fake auth).
//
// The tenant ID ends up in directory names, so it is validated here, at the door.
import type { IncomingHttpHeaders } from 'node:http';
import { MuninnError } from '../errors/index.js';
import { validateTenantId } from './tenant.js';

/** The header (lower case, as node hands it over) and gRPC metadata key carrying the tenant ID. */
export const ORG_ID_HEADER = 'x-scope-orgid';
/** Separator of a multi-tenant (federated query) org ID list. */
export const TENANT_ID_SEPARATOR = '|';

export const NO_ORG_ID_MESSAGE = 'no org id';
export const TOO_MANY_ORG_IDS_MESSAGE = 'multiple org IDs present';

export interface TenancyOptions {
  /** -auth.multitenancy-enabled */
  multitenancyEnabled: boolean;
  /** -auth.no-auth-tenant: the tenant of every request when multitenancy is off. */
  noAuthTenant: string;
}

/** Headers as node gives them: `req.headers` (repeats joined by ", ") or `req.headersDistinct`. */
export type TenantHeaders = IncomingHttpHeaders | NodeJS.Dict<string | readonly string[]>;

/**
 * The single tenant a write request belongs to. Throws MuninnError 'unauthorized' (401) when
 * multitenancy is on and no tenant is named, 'bad_data' (400) when the tenant ID is invalid or
 * several tenants are named. Pass `req.headersDistinct` to tell repeated headers apart; with
 * `req.headers` node has joined them with ", ", which is reported as several tenants as well.
 */
export function tenantFromHeaders(headers: TenantHeaders, opts: TenancyOptions): string {
  if (!opts.multitenancyEnabled) return opts.noAuthTenant;
  const v = headers[ORG_ID_HEADER];
  if (v === undefined) return resolveOrgId([]);
  if (typeof v === 'string') return resolveOrgId(v.split(','));
  return resolveOrgId(v);
}

/**
 * The same rules for gRPC: the values of the `x-scope-orgid` metadata key
 * (`call.metadata.get(ORG_ID_HEADER)`). 'unauthorized' maps to gRPC UNAUTHENTICATED.
 */
export function tenantFromMetadataValues(values: ReadonlyArray<string | Buffer>, opts: TenancyOptions): string {
  if (!opts.multitenancyEnabled) return opts.noAuthTenant;
  return resolveOrgId(values.map((x) => (typeof x === 'string' ? x : x.toString('utf8'))));
}

function resolveOrgId(values: readonly string[]): string {
  const ids: string[] = [];
  let named = false;
  for (const raw of values) {
    const value = raw.trim();
    if (value !== '') named = true;
    for (const id of value.split(TENANT_ID_SEPARATOR)) if (!ids.includes(id)) ids.push(id);
  }
  if (!named) throw new MuninnError('unauthorized', NO_ORG_ID_MESSAGE);
  // as dskit tenant.TenantIDs: every member must be valid, then there must be exactly one
  for (const id of ids) if (id !== '' || ids.length === 1) validateTenantId(id);
  if (ids.length > 1) throw new MuninnError('bad_data', TOO_MANY_ORG_IDS_MESSAGE);
  return ids[0] as string;
}
