// The tenant tree as MFA policy source: whether the policy requires MFA of an account, and until when
// its grace period lets an account without MFA choose "Set up later", measured with the injected clock.
import { describe, expect, it } from '@jest/globals';
import { accountMfa, createTenantTreePolicy } from '../../../src/domain/mfa/policy-source.ts';
import type { PolicySettings } from '../../../src/domain/policy.ts';

const ON = new Date('2030-03-01T12:00:00Z');
const DAY = 86_400_000;
const distributor = (graceDays: number): PolicySettings => ({
  id: 'd',
  kind: 'distributor',
  enforceMfaPartnerUsers: false,
  enforceMfaOrganizations: true,
  enforceMfaOrganizationsSince: ON,
  enforcePhrPartnerUsers: false,
  enforcePhrOrganizations: false,
  mfaGraceDays: graceDays,
});
const org: PolicySettings = { id: 'o', kind: 'organization', enforceMfaPartnerUsers: false, enforceMfaOrganizations: false, enforcePhrPartnerUsers: false, enforcePhrOrganizations: false };
const orgUser = (parent: PolicySettings, mfaStatus: 'active' | 'inactive' = 'inactive') => ({ id: 'a', tenant: org, parent, mfaStatus });

describe('tenant tree policy source with the grace period', () => {
  it('gives the deadline while the grace period runs, and none after it', async () => {
    const during = createTenantTreePolicy(() => new Date(ON.getTime() + 6 * DAY));
    expect(await accountMfa(orgUser(distributor(7)), during)).toEqual({ hasAuthenticator: false, policyRequiresMfa: true, policyRequiresPhr: false, policySetupDeferrableUntil: new Date(ON.getTime() + 7 * DAY) });
    const after = createTenantTreePolicy(() => new Date(ON.getTime() + 7 * DAY));
    expect(await accountMfa(orgUser(distributor(7)), after)).toEqual({ hasAuthenticator: false, policyRequiresMfa: true, policyRequiresPhr: false });
  });

  it('gives no deadline without a grace period, nor to an account that already has MFA', async () => {
    const now = createTenantTreePolicy(() => ON);
    expect(await accountMfa(orgUser(distributor(0)), now)).toEqual({ hasAuthenticator: false, policyRequiresMfa: true, policyRequiresPhr: false });
    expect(await accountMfa(orgUser(distributor(7), 'active'), now)).toEqual({ hasAuthenticator: true, policyRequiresMfa: true, policyRequiresPhr: false });
  });

  it('never reaches an organization whose parent does not enforce', async () => {
    const off = { ...distributor(7), enforceMfaOrganizations: false, enforceMfaOrganizationsSince: null };
    expect(await accountMfa(orgUser(off), createTenantTreePolicy(() => ON))).toEqual({ hasAuthenticator: false, policyRequiresMfa: false, policyRequiresPhr: false });
  });

  it('phr level: requires a passkey; an account with MFA but no passkey gets the phr switch’s deadline, one with a passkey none', async () => {
    const phr: PolicySettings = { ...distributor(7), enforcePhrOrganizations: true, enforcePhrOrganizationsSince: new Date(ON.getTime() + 10 * DAY) };
    const policy = createTenantTreePolicy(() => new Date(ON.getTime() + 12 * DAY));
    expect(await accountMfa(orgUser(phr, 'active'), policy, async () => false)).toEqual({ hasAuthenticator: true, policyRequiresMfa: true, policyRequiresPhr: true, policySetupDeferrableUntil: new Date(ON.getTime() + 17 * DAY) });
    expect(await accountMfa(orgUser(phr, 'active'), policy, async () => true)).toEqual({ hasAuthenticator: true, policyRequiresMfa: true, policyRequiresPhr: true });
    // without MFA at all, the MFA switch's grace (from ON) has run out
    expect(await accountMfa(orgUser(phr), policy)).toEqual({ hasAuthenticator: false, policyRequiresMfa: true, policyRequiresPhr: true });
  });
});
