import { describe, it, expect } from '@jest/globals';
import { can, type Action, type Actor, type Role, type Target } from '../../../src/domain/permissions.ts';
import type { TenantKind } from '../../../src/domain/policy.ts';

// dist (distributor) ─┬─ dist-org (organization)
//                     └─ sub (sub_reseller) ── sub-org (organization)
// other (distributor)
const TENANTS: Record<string, { parent: string | null; kind: TenantKind }> = {
  platform: { parent: null, kind: 'platform' },
  dist: { parent: 'platform', kind: 'distributor' },
  'dist-org': { parent: 'dist', kind: 'organization' },
  sub: { parent: 'dist', kind: 'sub_reseller' },
  'sub-org': { parent: 'sub', kind: 'organization' },
  other: { parent: 'platform', kind: 'distributor' },
};

const tenantTarget = (tenantId: string): Target => {
  const tenant = TENANTS[tenantId];
  if (!tenant) throw new Error(`unknown tenant ${tenantId}`);
  return { tenantId, tenantParentId: tenant.parent, tenantKind: tenant.kind };
};
const account = (accountId: string, role: Role, tenantId: string): Target => ({ ...tenantTarget(tenantId), accountId, role });
const actor = (accountId: string, role: Role, tenantId: string, platformOperator = false): Actor => ({ accountId, role, tenantId, platformOperator });

const distOwner = actor('a-owner', 'owner', 'dist');
const distSuper = actor('a-super', 'super_admin', 'dist');
const distAdmin = actor('a-admin', 'admin', 'dist');
const distSupport = actor('a-support', 'support', 'dist');
const distUser = actor('a-user', 'user', 'dist');
const orgAdmin = actor('o-admin', 'admin', 'dist-org');
const operator = actor('p-op', 'user', 'platform', true);

describe('who may do what (DESIGN.md §8)', () => {
  it.each<[string, Actor, Action, Target, boolean]>([
    // reset MFA: owner, super admin, admin of T, accounts in T and organizations directly under T, equal or lower rank
    ['admin resets MFA of a user in its own tenant', distAdmin, 'reset_mfa', account('u1', 'user', 'dist'), true],
    ['admin resets MFA of another admin (equal rank)', distAdmin, 'reset_mfa', account('a2', 'admin', 'dist'), true],
    ['admin may not reset MFA of a super admin (higher rank)', distAdmin, 'reset_mfa', account('s2', 'super_admin', 'dist'), false],
    ['admin may not reset MFA of the owner', distAdmin, 'reset_mfa', account('o2', 'owner', 'dist'), false],
    ['super admin resets MFA of an admin', distSuper, 'reset_mfa', account('a2', 'admin', 'dist'), true],
    ['super admin may not reset MFA of the owner', distSuper, 'reset_mfa', account('o2', 'owner', 'dist'), false],
    ['owner resets MFA of another owner', distOwner, 'reset_mfa', account('o2', 'owner', 'dist'), true],
    ['admin may not reset MFA of an organization owner (higher rank)', distAdmin, 'reset_mfa', account('oo', 'owner', 'dist-org'), false],
    ['admin resets MFA of an admin of an organization directly under it', distAdmin, 'reset_mfa', account('oa', 'admin', 'dist-org'), true],
    ['owner resets MFA of an end user of an organization directly under it', distOwner, 'reset_mfa', account('ou', 'user', 'dist-org'), true],
    ['distributor admin may not reset MFA in its sub-reseller', distOwner, 'reset_mfa', account('su', 'user', 'sub'), false],
    ['distributor admin may not reset MFA in the sub-reseller’s organizations', distOwner, 'reset_mfa', account('sou', 'user', 'sub-org'), false],
    ['admin may not reset MFA in another distributor', distOwner, 'reset_mfa', account('x', 'user', 'other'), false],
    ['organization admin may not reset MFA in its parent partner', orgAdmin, 'reset_mfa', account('u1', 'user', 'dist'), false],
    ['organization admin resets MFA of a user in its organization', orgAdmin, 'reset_mfa', account('ou', 'user', 'dist-org'), true],
    ['support may never reset MFA', distSupport, 'reset_mfa', account('u1', 'user', 'dist'), false],
    ['a user may not reset anyone’s MFA', distUser, 'reset_mfa', account('u1', 'user', 'dist'), false],
    ['reset without knowing the target’s role is refused', distOwner, 'reset_mfa', tenantTarget('dist'), false],
    ['a platform operator is not a tenant admin', operator, 'reset_mfa', account('u1', 'user', 'dist'), false],

    // set policy: owner, super admin, admin of T set T's policy; only partner tenants have one
    ['owner sets its distributor’s policy', distOwner, 'set_policy', tenantTarget('dist'), true],
    ['super admin sets its distributor’s policy', distSuper, 'set_policy', tenantTarget('dist'), true],
    ['admin sets its distributor’s policy', distAdmin, 'set_policy', tenantTarget('dist'), true],
    ['support may not change the policy', distSupport, 'set_policy', tenantTarget('dist'), false],
    ['a user may not change the policy', distUser, 'set_policy', tenantTarget('dist'), false],
    ['distributor admin may not set the sub-reseller’s policy', distOwner, 'set_policy', tenantTarget('sub'), false],
    ['distributor admin may not set a policy on an organization', distOwner, 'set_policy', tenantTarget('dist-org'), false],
    ['organization admin has no policy to set', orgAdmin, 'set_policy', tenantTarget('dist-org'), false],
    ['admin may not set another distributor’s policy', distOwner, 'set_policy', tenantTarget('other'), false],

    // view users and MFA status
    ['support views users of its tenant', distSupport, 'view_users', tenantTarget('dist'), true],
    ['support views users of an organization directly under its tenant', distSupport, 'view_users', tenantTarget('dist-org'), true],
    ['support may not view the sub-reseller’s users', distSupport, 'view_users', tenantTarget('sub'), false],
    ['admin views users of its tenant', distAdmin, 'view_users', tenantTarget('dist'), true],
    ['owner may not view another distributor’s users', distOwner, 'view_users', tenantTarget('other'), false],
    ['a user may not list its tenant’s users', distUser, 'view_users', tenantTarget('dist'), false],
    ['a user may not see another user', distUser, 'view_users', account('u1', 'user', 'dist'), false],
    ['a user sees itself', distUser, 'view_users', account('a-user', 'user', 'dist'), true],

    // own security settings
    ['a user manages its own security', distUser, 'manage_own_security', account('a-user', 'user', 'dist'), true],
    ['an owner manages its own security', distOwner, 'manage_own_security', account('a-owner', 'owner', 'dist'), true],
    ['an owner may not manage another account’s security settings', distOwner, 'manage_own_security', account('a-user', 'user', 'dist'), false],
    ['no account is no self', distOwner, 'manage_own_security', tenantTarget('dist'), false],

    // platform
    ['a platform operator manages the platform', operator, 'manage_platform', tenantTarget('platform'), true],
    ['a distributor owner does not manage the platform', distOwner, 'manage_platform', tenantTarget('platform'), false],
  ])('%s', (_rule, who, action, target, allowed) => {
    const decision = can(who, action, target);
    expect(decision.allowed).toBe(allowed);
    expect(decision.reason).toMatch(/\w/);
  });

  it('explains a refusal in words an admin page can show', () => {
    expect(can(distAdmin, 'reset_mfa', account('o2', 'owner', 'dist'))).toEqual({
      allowed: false,
      reason: 'admin may not reset MFA of a higher-ranked owner',
    });
    expect(can(distSupport, 'reset_mfa', account('u1', 'user', 'dist')).reason).toBe('support may not reset MFA');
  });
});
