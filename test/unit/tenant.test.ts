import '../harness.js';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { MuninnError } from '../../src/errors/index.js';
import {
  isValidTenantId,
  MAX_TENANT_ID_LENGTH,
  NO_ORG_ID_MESSAGE,
  type TenantHeaders,
  tenantFromHeaders,
  tenantFromMetadataValues,
  TOO_MANY_ORG_IDS_MESSAGE,
  validateTenantId,
} from '../../src/tenant/index.js';

const ON = { multitenancyEnabled: true, noAuthTenant: 'anonymous' };
const OFF = { multitenancyEnabled: false, noAuthTenant: 'anonymous' };

type Expect = string | { code: 'unauthorized' | 'bad_data'; status: number; message: RegExp };
const unauthorized: Expect = { code: 'unauthorized', status: 401, message: new RegExp(`^${NO_ORG_ID_MESSAGE}$`) };
const multiple: Expect = { code: 'bad_data', status: 400, message: new RegExp(`^${TOO_MANY_ORG_IDS_MESSAGE}$`) };
const invalid = (m: RegExp): Expect => ({ code: 'bad_data', status: 400, message: m });

function check(name: string, got: () => string, want: Expect): void {
  if (typeof want === 'string') {
    assert.equal(got(), want, name);
    return;
  }
  assert.throws(got, (e: unknown) => {
    assert.ok(e instanceof MuninnError, `${name}: ${String(e)}`);
    assert.equal(e.code, want.code, name);
    assert.equal(e.httpStatus, want.status, name);
    assert.match(e.message, want.message, name);
    assert.equal(e.retryable, false, name);
    return true;
  }, name);
}

test('tenantFromHeaders with multitenancy on', () => {
  const cases: Array<[string, TenantHeaders, Expect]> = [
    ['plain', { 'x-scope-orgid': 'team-a' }, 'team-a'],
    ['all allowed specials', { 'x-scope-orgid': "a!-_.*'()Z9" }, "a!-_.*'()Z9"],
    ['exactly 150 bytes', { 'x-scope-orgid': 'a'.repeat(MAX_TENANT_ID_LENGTH) }, 'a'.repeat(MAX_TENANT_ID_LENGTH)],
    ['missing', {}, unauthorized],
    ['empty', { 'x-scope-orgid': '' }, unauthorized],
    ['blank', { 'x-scope-orgid': '   ' }, unauthorized],
    ['other headers only', { 'x-org-id': 'a', authorization: 'Bearer x' }, unauthorized],
    ['151 bytes', { 'x-scope-orgid': 'a'.repeat(MAX_TENANT_ID_LENGTH + 1) }, invalid(/too long/)],
    ['"."', { 'x-scope-orgid': '.' }, invalid(/not allowed/)],
    ['".."', { 'x-scope-orgid': '..' }, invalid(/not allowed/)],
    ['path traversal', { 'x-scope-orgid': '../x' }, invalid(/unsupported characters/)],
    ['slash', { 'x-scope-orgid': 'a/b' }, invalid(/unsupported characters/)],
    ['space inside', { 'x-scope-orgid': 'a b' }, invalid(/unsupported characters/)],
    ['non-ASCII', { 'x-scope-orgid': 'é' }, invalid(/unsupported characters/)],
    ['"|"-joined list', { 'x-scope-orgid': 'a|b' }, multiple],
    ['list with an invalid member', { 'x-scope-orgid': 'a|../x' }, invalid(/unsupported characters/)],
    ['list with an empty member', { 'x-scope-orgid': 'a|' }, multiple],
    ['only separators', { 'x-scope-orgid': '|' }, invalid(/empty/)],
    ['repeats of one tenant (as dskit dedups)', { 'x-scope-orgid': 'a|a' }, 'a'],
    ['several header values (headersDistinct)', { 'x-scope-orgid': ['a', 'b'] }, multiple],
    ['several header values joined by node', { 'x-scope-orgid': 'a, b' }, multiple],
    ['one header value repeated', { 'x-scope-orgid': ['a', 'a'] }, 'a'],
    ['single-element array', { 'x-scope-orgid': ['team-b'] }, 'team-b'],
    ['empty array', { 'x-scope-orgid': [] }, unauthorized],
  ];
  for (const [name, headers, want] of cases) check(name, () => tenantFromHeaders(headers, ON), want);
});

test('tenantFromHeaders with multitenancy off: always the no-auth tenant, header ignored', () => {
  const headers: IncomingHttpHeaders[] = [{}, { 'x-scope-orgid': 'team-a' }, { 'x-scope-orgid': '../x' }, { 'x-scope-orgid': 'a|b' }, { 'x-scope-orgid': '' }];
  for (const h of headers) assert.equal(tenantFromHeaders(h, OFF), 'anonymous');
  assert.equal(tenantFromHeaders({ 'x-scope-orgid': 'x' }, { multitenancyEnabled: false, noAuthTenant: 'fake' }), 'fake');
});

test('tenantFromMetadataValues (gRPC): same rules, UNAUTHENTICATED when missing', () => {
  const cases: Array<[string, Array<string | Buffer>, Expect]> = [
    ['string', ['t1'], 't1'],
    ['buffer', [Buffer.from('t2')], 't2'],
    ['missing', [], unauthorized],
    ['empty', [''], unauthorized],
    ['two', ['a', 'b'], multiple],
    ['invalid', ['..'], invalid(/not allowed/)],
  ];
  for (const [name, values, want] of cases) check(name, () => tenantFromMetadataValues(values, ON), want);
  assert.equal(tenantFromMetadataValues([], OFF), 'anonymous');
  try {
    tenantFromMetadataValues([], ON);
    assert.fail('expected a throw');
  } catch (e) {
    assert.ok(e instanceof MuninnError);
    assert.equal(e.grpcStatus, GrpcStatus.UNAUTHENTICATED);
  }
});

test('new error codes: statuses and retryability', () => {
  const u = new MuninnError('unauthorized', 'x');
  assert.deepEqual([u.httpStatus, u.grpcStatus, u.retryable], [401, GrpcStatus.UNAUTHENTICATED, false]);
  const m = new MuninnError('unsupported_media_type', 'x');
  assert.deepEqual([m.httpStatus, m.grpcStatus, m.retryable], [415, GrpcStatus.INVALID_ARGUMENT, false]);
});

test('validateTenantId / isValidTenantId agree', () => {
  for (const id of ['a', 'A-1', "x'(y)*!", '.a', 'a..b', 'a'.repeat(150)]) {
    assert.equal(validateTenantId(id), id);
    assert.equal(isValidTenantId(id), true);
  }
  for (const id of ['', '.', '..', 'a/b', 'a|b', 'a'.repeat(151), 'ä']) assert.equal(isValidTenantId(id), false, id);
});
