export { validateTenantId, isValidTenantId, MAX_TENANT_ID_LENGTH } from './tenant.js';
export {
  NO_ORG_ID_MESSAGE,
  ORG_ID_HEADER,
  TENANT_ID_SEPARATOR,
  tenantFromHeaders,
  tenantFromMetadataValues,
  TOO_MANY_ORG_IDS_MESSAGE,
} from './from-request.js';
export type { TenancyOptions, TenantHeaders } from './from-request.js';
