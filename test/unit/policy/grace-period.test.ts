// Policy resolution with the grace period (DESIGN.md §8): the switch that applies to an account's
// tenant, and — when that partner grants a grace period — until when an affected user without MFA may
// still choose "Set up later". The clock is a parameter, so the deadline is tested exactly.
import { describe, expect, it } from '@jest/globals';
import { resolveMfaEnforcement, type PolicySettings } from '../../../src/domain/policy.ts';
import type { TenantKind } from '../../../src/domain/policy.ts';

const ON = new Date('2030-03-01T12:00:00Z');
const days = (n: number) => new Date(ON.getTime() + n * 86_400_000);

const tenant = (id: string, kind: TenantKind, settings: Partial<PolicySettings> = {}): PolicySettings => ({
  id,
  kind,
  enforceMfaPartnerUsers: false,
  enforceMfaOrganizations: false,
  enforcePhrPartnerUsers: false,
  enforcePhrOrganizations: false,
  ...settings,
});
const enforcingOrganizations = (id: string, kind: TenantKind, graceDays = 0) =>
  tenant(id, kind, { enforceMfaOrganizations: true, enforceMfaOrganizationsSince: ON, mfaGraceDays: graceDays });
const enforcingPartnerUsers = (id: string, kind: TenantKind, graceDays = 0) =>
  tenant(id, kind, { enforceMfaPartnerUsers: true, enforceMfaPartnerUsersSince: ON, mfaGraceDays: graceDays });
const enforcingBoth = (id: string, kind: TenantKind, graceDays = 0) =>
  tenant(id, kind, {
    enforceMfaPartnerUsers: true,
    enforceMfaPartnerUsersSince: ON,
    enforceMfaOrganizations: true,
    enforceMfaOrganizationsSince: ON,
    mfaGraceDays: graceDays,
  });

const platform = tenant('platform', 'platform');
const org = tenant('org', 'organization');
const sub = tenant('sub', 'sub_reseller');
const NOT_REQUIRED = { required: false, level: null, source: null, sourceTenantId: null, graceUntil: null, canDefer: false, passkeyGraceUntil: null, canDeferPasskey: false };

describe('MFA policy resolution with a grace period (DESIGN.md §8)', () => {
  it.each<[string, PolicySettings, PolicySettings | null, Date, Record<string, unknown>]>([
    ['no switch on: nothing required', tenant('dist', 'distributor'), platform, ON, NOT_REQUIRED],
    ['partner users, no grace: required at once, no skip', enforcingPartnerUsers('dist', 'distributor'), platform, ON, { required: true, source: 'partner_users', sourceTenantId: 'dist', graceUntil: null, canDefer: false }],
    ['partner users, 7-day grace, day 0: may defer until day 7', enforcingPartnerUsers('dist', 'distributor', 7), platform, ON, { required: true, graceUntil: days(7), canDefer: true }],
    ['partner users, 7-day grace, one second before the deadline: may defer', enforcingPartnerUsers('dist', 'distributor', 7), platform, new Date(days(7).getTime() - 1000), { canDefer: true }],
    ['partner users, 7-day grace, at the deadline: no skip', enforcingPartnerUsers('dist', 'distributor', 7), platform, days(7), { required: true, graceUntil: days(7), canDefer: false }],
    ['partner users, 7-day grace, after the deadline: no skip', enforcingPartnerUsers('dist', 'distributor', 7), platform, days(8), { canDefer: false }],
    ['30 days is the longest grace', enforcingPartnerUsers('dist', 'distributor', 30), platform, days(29), { graceUntil: days(30), canDefer: true }],
    ['a stored grace beyond 30 days counts as 30', enforcingPartnerUsers('dist', 'distributor', 90), platform, days(31), { graceUntil: days(30), canDefer: false }],
    ['organization under a distributor enforcing organizations with a grace: the distributor’s deadline', org, enforcingOrganizations('dist', 'distributor', 14), days(3), { required: true, source: 'organizations', sourceTenantId: 'dist', graceUntil: days(14), canDefer: true }],
    ['organization under a sub-reseller enforcing organizations, no grace', org, enforcingOrganizations('sub', 'sub_reseller'), ON, { required: true, sourceTenantId: 'sub', canDefer: false }],
    ['distributor enforcement does not reach a sub-reseller’s organizations (its parent, the sub-reseller, enforces nothing)', org, sub, ON, NOT_REQUIRED],
    ['distributor enforcement does not reach a sub-reseller’s own users', sub, enforcingBoth('dist', 'distributor', 7), ON, NOT_REQUIRED],
    ['the grace of the partner-users switch counts from that switch', tenant('dist', 'distributor', { enforceMfaPartnerUsers: true, enforceMfaPartnerUsersSince: days(10), enforceMfaOrganizations: true, enforceMfaOrganizationsSince: ON, mfaGraceDays: 5 }), platform, days(12), { source: 'partner_users', graceUntil: days(15), canDefer: true }],
    ['the grace of the organizations switch counts from that switch', org, tenant('dist', 'distributor', { enforceMfaPartnerUsers: true, enforceMfaPartnerUsersSince: days(10), enforceMfaOrganizations: true, enforceMfaOrganizationsSince: ON, mfaGraceDays: 5 }), days(12), { source: 'organizations', graceUntil: days(5), canDefer: false }],
    ['a switch on without a recorded start has no grace (nothing to count from)', tenant('dist', 'distributor', { enforceMfaPartnerUsers: true, mfaGraceDays: 7 }), platform, ON, { required: true, graceUntil: null, canDefer: false }],
  ])('%s', (_rule, t, parent, now, expected) => {
    expect(resolveMfaEnforcement(t, parent, now)).toMatchObject(expected);
  });
});

describe('phishing-resistant policy resolution with a grace period', () => {
  // the organizations switch on since ON, its phishing-resistant level since day 10
  const phrOrganizations = (graceDays: number, mfaSwitch = true) =>
    tenant('dist', 'distributor', {
      enforceMfaOrganizations: mfaSwitch,
      enforceMfaOrganizationsSince: mfaSwitch ? ON : null,
      enforcePhrOrganizations: true,
      enforcePhrOrganizationsSince: days(10),
      mfaGraceDays: graceDays,
    });
  it.each<[string, PolicySettings, PolicySettings | null, Date, Record<string, unknown>]>([
    ['level phr: an account with MFA but no passkey may defer the passkey until the phr switch’s deadline', org, phrOrganizations(7), days(12), { level: 'phr', passkeyGraceUntil: days(17), canDeferPasskey: true }],
    ['level phr: an account without MFA gets the earlier deadline, the one of the MFA switch (already passed)', org, phrOrganizations(7), days(12), { graceUntil: days(7), canDefer: false }],
    ['level phr alone (MFA switch off): the phr switch’s deadline for everyone', org, phrOrganizations(7, false), days(12), { level: 'phr', graceUntil: days(17), canDefer: true, passkeyGraceUntil: days(17), canDeferPasskey: true }],
    ['level phr, after the phr deadline: no skip', org, phrOrganizations(7), days(17), { passkeyGraceUntil: days(17), canDeferPasskey: false }],
    ['level phr, no grace: required at once', org, phrOrganizations(0), days(10), { level: 'phr', graceUntil: null, canDefer: false, passkeyGraceUntil: null, canDeferPasskey: false }],
    ['level mfa: no passkey grace (nothing asks for a passkey)', org, enforcingOrganizations('dist', 'distributor', 7), ON, { level: 'mfa', passkeyGraceUntil: null, canDeferPasskey: false }],
    ['a sub-reseller’s organization is not reached by a distributor’s phr level', org, sub, days(12), NOT_REQUIRED],
  ])('%s', (_rule, t, parent, now, expected) => {
    expect(resolveMfaEnforcement(t, parent, now)).toMatchObject(expected);
  });
});
