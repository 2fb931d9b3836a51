import { describe, it, expect } from '@jest/globals';
import { effectiveMfaPolicy, type PolicyTenant, type TenantKind } from '../../../src/domain/policy.ts';

const tenant = (id: string, kind: TenantKind, partnerUsers = false, organizations = false): PolicyTenant => ({
  id,
  kind,
  enforceMfaPartnerUsers: partnerUsers,
  enforceMfaOrganizations: organizations,
  enforcePhrPartnerUsers: false,
  enforcePhrOrganizations: false,
});

const platform = tenant('platform', 'platform', true, true);
const distributorEnforcingBoth = tenant('dist', 'distributor', true, true);
const distributorEnforcingNothing = tenant('dist', 'distributor');
const subResellerEnforcingNothing = tenant('sub', 'sub_reseller');

const NOT_REQUIRED = { required: false, level: null, source: null, sourceTenantId: null };

describe('effective MFA policy for an account in a tenant (DESIGN.md §8)', () => {
  it.each<[string, PolicyTenant, PolicyTenant | null, object]>([
    ['platform accounts: the platform has no policy settings', platform, null, NOT_REQUIRED],
    ['distributor with "partner users" on', tenant('dist', 'distributor', true), platform, { required: true, level: 'mfa', source: 'partner_users', sourceTenantId: 'dist' }],
    ['distributor with only "organizations" on: its own users are not covered', tenant('dist', 'distributor', false, true), platform, NOT_REQUIRED],
    ['sub-reseller with "partner users" on', tenant('sub', 'sub_reseller', true), distributorEnforcingNothing, { required: true, level: 'mfa', source: 'partner_users', sourceTenantId: 'sub' }],
    ['sub-reseller under a distributor enforcing both: nothing cascades', subResellerEnforcingNothing, distributorEnforcingBoth, NOT_REQUIRED],
    ['organization under a distributor with "organizations" on', tenant('org', 'organization'), distributorEnforcingBoth, { required: true, level: 'mfa', source: 'organizations', sourceTenantId: 'dist' }],
    ['organization under a distributor with only "partner users" on', tenant('org', 'organization'), tenant('dist', 'distributor', true, false), NOT_REQUIRED],
    ['organization under a sub-reseller with "organizations" on', tenant('org', 'organization'), tenant('sub', 'sub_reseller', false, true), { required: true, level: 'mfa', source: 'organizations', sourceTenantId: 'sub' }],
    ['organization under a sub-reseller enforcing nothing (grandparent distributor enforces both): nothing cascades', tenant('org', 'organization'), subResellerEnforcingNothing, NOT_REQUIRED],
    ['organization: its own flags are not settings and are ignored', tenant('org', 'organization', true, true), distributorEnforcingNothing, NOT_REQUIRED],
    ['organization without a partner parent', tenant('org', 'organization'), null, NOT_REQUIRED],
  ])('%s', (_rule, t, parent, expected) => {
    expect(effectiveMfaPolicy(t, parent)).toEqual(expected);
  });
});

describe('the phishing-resistant level follows the same inheritance (DESIGN.md §8)', () => {
  const withPhr = (t: PolicyTenant, partnerUsers: boolean, organizations: boolean): PolicyTenant => ({ ...t, enforcePhrPartnerUsers: partnerUsers, enforcePhrOrganizations: organizations });
  it.each<[string, PolicyTenant, PolicyTenant | null, object]>([
    ['distributor with "partner users" at phr', withPhr(tenant('dist', 'distributor', true), true, false), platform, { required: true, level: 'phr', source: 'partner_users', sourceTenantId: 'dist' }],
    ['distributor with phr for partner users alone (MFA switch off): phr enforces MFA by itself', withPhr(tenant('dist', 'distributor'), true, false), platform, { required: true, level: 'phr', source: 'partner_users', sourceTenantId: 'dist' }],
    ['distributor with phr only for organizations: its own users need any MFA', withPhr(tenant('dist', 'distributor', true, true), false, true), platform, { required: true, level: 'mfa', source: 'partner_users', sourceTenantId: 'dist' }],
    ['organization under a distributor with "organizations" at phr', tenant('org', 'organization'), withPhr(tenant('dist', 'distributor', false, true), false, true), { required: true, level: 'phr', source: 'organizations', sourceTenantId: 'dist' }],
    ['organization under a distributor with phr only for partner users: any MFA', tenant('org', 'organization'), withPhr(tenant('dist', 'distributor', true, true), true, false), { required: true, level: 'mfa', source: 'organizations', sourceTenantId: 'dist' }],
    ['organization under a sub-reseller with "organizations" at phr', tenant('org', 'organization'), withPhr(tenant('sub', 'sub_reseller'), false, true), { required: true, level: 'phr', source: 'organizations', sourceTenantId: 'sub' }],
    ['sub-reseller under a distributor at phr for everything: nothing cascades', subResellerEnforcingNothing, withPhr(distributorEnforcingBoth, true, true), NOT_REQUIRED],
    ['organization under a sub-reseller enforcing nothing: the distributor’s phr does not reach it', tenant('org', 'organization'), subResellerEnforcingNothing, NOT_REQUIRED],
    ['organization: its own phr flags are not settings and are ignored', withPhr(tenant('org', 'organization'), true, true), distributorEnforcingNothing, NOT_REQUIRED],
  ])('%s', (_rule, t, parent, expected) => {
    expect(effectiveMfaPolicy(t, parent)).toEqual(expected);
  });
});
