export { validateTenantId, isValidTenantId, MAX_TENANT_ID_LENGTH } from './tenant.js';
