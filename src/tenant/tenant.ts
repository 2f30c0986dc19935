// Tenant IDs, validated as Mimir validates them (docs: configure-about-tenant-ids): at most 150
// bytes of letters, digits and the specials ! - _ . * ' ( ), and never "." or "..". A tenant ID is
// untrusted input that ends up in a directory name, so every component that uses one checks it.
import { MuninnError } from '../errors/index.js';

export const MAX_TENANT_ID_LENGTH = 150;
const ALLOWED = /^[a-zA-Z0-9!\-_.*'()]+$/;

/** Throws a bad_data MuninnError unless id is a valid tenant ID. */
export function validateTenantId(id: string): string {
  if (id.length === 0) throw new MuninnError('bad_data', 'tenant ID is empty');
  if (Buffer.byteLength(id) > MAX_TENANT_ID_LENGTH) {
    throw new MuninnError('bad_data', `tenant ID is too long: at most ${MAX_TENANT_ID_LENGTH} characters`);
  }
  if (id === '.' || id === '..') throw new MuninnError('bad_data', `tenant ID "${id}" is not allowed`);
  if (!ALLOWED.test(id)) {
    throw new MuninnError('bad_data', `tenant ID ${JSON.stringify(id)} contains unsupported characters: use letters, digits and ! - _ . * ' ( ) only`);
  }
  return id;
}

export function isValidTenantId(id: string): boolean {
  try {
    validateTenantId(id);
    return true;
  } catch {
    return false;
  }
}
