// PATCH on a User (RFC 7644 §3.5.2) as the pure function applies it to what an account holds: the
// shapes provisioning clients send (with and without a path, capitalised ops, string booleans), the
// read-only attributes refused with scimType mutability, and a bad operation changing nothing.
import { describe, expect, it } from '@jest/globals';
import { applyUserPatch, parsePatch } from '../../../src/domain/scim/patch.ts';
import { PATCH_OP_SCHEMA, type UserFields } from '../../../src/domain/scim/user-model.ts';

const ann: UserFields = { userName: 'ann@example.com', name: 'Ann Lee', externalId: 'ext-1', active: true, role: 'user' };
const patch = (...Operations: unknown[]) => parsePatch({ schemas: [PATCH_OP_SCHEMA], Operations });
const apply = (...ops: unknown[]) => applyUserPatch(ann, patch(...ops));

describe('SCIM PATCH of a User', () => {
  it.each<[string, unknown[], Partial<UserFields>]>([
    ['replace active=false (deactivation)', [{ op: 'replace', path: 'active', value: false }], { active: false }],
    ['"Replace" with the value "False" as a string', [{ op: 'Replace', path: 'active', value: 'False' }], { active: false }],
    ['replace without a path', [{ op: 'replace', value: { active: false, displayName: 'Ann L.' } }], { active: false, name: 'Ann L.' }],
    ['replace userName', [{ op: 'replace', path: 'userName', value: 'ann.lee@example.com' }], { userName: 'ann.lee@example.com' }],
    ['a path with the schema URN', [{ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:displayName', value: 'Dr Ann' }], { name: 'Dr Ann' }],
    ['name parts build the one name', [{ op: 'replace', path: 'name.givenName', value: 'Anna' }, { op: 'replace', path: 'name.familyName', value: 'Berg' }], { name: 'Anna Berg' }],
    ['a name object', [{ op: 'replace', path: 'name', value: { givenName: 'Anna', familyName: 'Berg' } }], { name: 'Anna Berg' }],
    ['displayName wins over name parts', [{ op: 'replace', value: { displayName: 'AB', name: { givenName: 'Anna' } } }], { name: 'AB' }],
    ['remove displayName', [{ op: 'remove', path: 'displayName' }], { name: null }],
    ['add externalId', [{ op: 'add', path: 'externalId', value: 'ext-2' }], { externalId: 'ext-2' }],
    ['remove externalId', [{ op: 'remove', path: 'externalId' }], { externalId: null }],
    ['replace roles', [{ op: 'replace', path: 'roles', value: [{ value: 'admin', primary: true }] }], { role: 'admin' }],
    ['add a single role object', [{ op: 'add', path: 'roles', value: { value: 'support' } }], { role: 'support' }],
    ['remove roles', [{ op: 'remove', path: 'roles' }], { role: 'user' }],
    ['operations apply in order', [{ op: 'replace', path: 'active', value: false }, { op: 'replace', path: 'active', value: true }], { active: true }],
  ])('%s', (_name, ops, changed) => {
    expect(apply(...ops)).toEqual({ ...ann, ...changed });
  });

  it('removing a role the account does not hold changes nothing; removing its role gives it user', () => {
    const admin = { ...ann, role: 'admin' as const };
    expect(applyUserPatch(admin, patch({ op: 'remove', path: 'roles[value eq "support"]' })).role).toBe('admin');
    expect(applyUserPatch(admin, patch({ op: 'remove', path: 'roles[value eq "admin"]' })).role).toBe('user');
  });

  it.each<[string, unknown, string]>([
    ['emails is read-only', { op: 'replace', path: 'emails[type eq "work"].value', value: 'x@example.com' }, 'mutability'],
    ['groups is read-only', { op: 'add', path: 'groups', value: [{ value: 'admin' }] }, 'mutability'],
    ['id is read-only', { op: 'replace', path: 'id', value: 'x' }, 'mutability'],
    ['userName cannot be removed', { op: 'remove', path: 'userName' }, 'mutability'],
    ['active cannot be removed', { op: 'remove', path: 'active' }, 'mutability'],
    ['an attribute not kept', { op: 'replace', path: 'title', value: 'CEO' }, 'invalidPath'],
    ['active must be a boolean', { op: 'replace', path: 'active', value: 'maybe' }, 'invalidValue'],
    ['an unknown role', { op: 'replace', path: 'roles', value: [{ value: 'god' }] }, 'invalidValue'],
    ['two roles, none primary', { op: 'replace', path: 'roles', value: [{ value: 'admin' }, { value: 'user' }] }, 'invalidValue'],
    ['a name too long', { op: 'replace', path: 'displayName', value: 'x'.repeat(201) }, 'invalidValue'],
    ['no-path value that is not an object', { op: 'replace', value: 'x' }, 'invalidValue'],
  ])('%s → 400 %s, nothing applied', (_name, op, scimType) => {
    expect(() => apply({ op: 'replace', path: 'displayName', value: 'changed first' }, op)).toThrow(expect.objectContaining({ code: scimType, status: 400 }) as unknown as Error);
  });

  it.each<[string, unknown, string]>([
    ['no PatchOp schema', { schemas: [], Operations: [{ op: 'replace', path: 'active', value: false }] }, 'invalidSyntax'],
    ['no operations', { schemas: [PATCH_OP_SCHEMA], Operations: [] }, 'invalidSyntax'],
    ['an unknown op', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'move', path: 'active' }] }, 'invalidSyntax'],
    ['remove without a path', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'remove' }] }, 'noTarget'],
    ['replace without a value', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'active' }] }, 'invalidValue'],
    ['too many operations', { schemas: [PATCH_OP_SCHEMA], Operations: Array.from({ length: 101 }, () => ({ op: 'replace', path: 'active', value: true })) }, 'tooMany'],
    ['not an object', 'active=false', 'invalidSyntax'],
  ])('a body with %s is refused with %s', (_name, body, scimType) => {
    expect(() => parsePatch(body)).toThrow(expect.objectContaining({ code: scimType, status: 400 }) as unknown as Error);
  });
});
