// The effective MFA requirement for an account in a tenant (DESIGN.md §8). Only partner tenants
// (distributor, sub_reseller) have settings; an organization follows its direct parent's
// "Enforce MFA for all organizations". Nothing cascades further down. Each switch has a
// phishing-resistant level (a passkey or security key only, acr phr) that follows the same rules and
// enforces MFA by itself.

import { isPartner, type TenantKind } from './kinds.ts';

export type { TenantKind };

export interface PolicyTenant {
  id: string;
  kind: TenantKind;
  enforceMfaPartnerUsers: boolean;
  enforceMfaOrganizations: boolean;
  enforcePhrPartnerUsers: boolean;
  enforcePhrOrganizations: boolean;
}

export type PolicyScope = 'partner_users' | 'organizations';
/** `mfa`: any second factor · `phr`: phishing-resistant MFA, only a passkey or security key. */
export type PolicyLevel = 'mfa' | 'phr';

export type EffectiveMfaPolicy =
  | { required: true; level: PolicyLevel; source: PolicyScope; sourceTenantId: string }
  | { required: false; level: null; source: null; sourceTenantId: null };

const NOT_REQUIRED: EffectiveMfaPolicy = { required: false, level: null, source: null, sourceTenantId: null };

/** The switches of one scope of a partner's policy. */
const SWITCHES = {
  partner_users: { mfa: 'enforceMfaPartnerUsers', phr: 'enforcePhrPartnerUsers' },
  organizations: { mfa: 'enforceMfaOrganizations', phr: 'enforcePhrOrganizations' },
} as const satisfies Record<PolicyScope, Record<PolicyLevel, keyof PolicyTenant>>;

function scopePolicy(source: PolicyTenant, scope: PolicyScope): EffectiveMfaPolicy {
  const switches = SWITCHES[scope];
  if (source[switches.phr]) return { required: true, level: 'phr', source: scope, sourceTenantId: source.id };
  if (source[switches.mfa]) return { required: true, level: 'mfa', source: scope, sourceTenantId: source.id };
  return NOT_REQUIRED;
}

/** `parent` is the tenant's direct parent (null for the platform). */
export function effectiveMfaPolicy(tenant: PolicyTenant, parent: PolicyTenant | null): EffectiveMfaPolicy {
  if (isPartner(tenant.kind)) return scopePolicy(tenant, 'partner_users');
  if (tenant.kind === 'organization' && parent && isPartner(parent.kind)) return scopePolicy(parent, 'organizations');
  return NOT_REQUIRED;
}

/** A partner's policy as stored: the switches, since when each is on, and the grace period. */
export interface PolicySettings extends PolicyTenant {
  enforceMfaPartnerUsersSince?: Date | null | undefined;
  enforceMfaOrganizationsSince?: Date | null | undefined;
  enforcePhrPartnerUsersSince?: Date | null | undefined;
  enforcePhrOrganizationsSince?: Date | null | undefined;
  /** 0–30 days after a switch was turned on during which an affected user may defer setup. */
  mfaGraceDays?: number | undefined;
}

export const MAX_GRACE_DAYS = 30;
const DAY_MS = 86_400_000;

export type MfaEnforcement =
  | { required: false; level: null; source: null; sourceTenantId: null; graceUntil: null; canDefer: false; passkeyGraceUntil: null; canDeferPasskey: false }
  | {
      required: true;
      level: PolicyLevel;
      source: PolicyScope;
      sourceTenantId: string;
      /** the end of the grace period for an account without any MFA; null when the policy gives none. */
      graceUntil: Date | null;
      /** an account without MFA may still choose "Set up later" (until graceUntil, exclusive). */
      canDefer: boolean;
      /** level phr: the end of the grace period for an account with MFA but no passkey; null otherwise. */
      passkeyGraceUntil: Date | null;
      /** an account with MFA but no passkey may still choose "Set up later" for the passkey. */
      canDeferPasskey: boolean;
    };

const SINCE = {
  partner_users: { mfa: 'enforceMfaPartnerUsersSince', phr: 'enforcePhrPartnerUsersSince' },
  organizations: { mfa: 'enforceMfaOrganizationsSince', phr: 'enforcePhrOrganizationsSince' },
} as const satisfies Record<PolicyScope, Record<PolicyLevel, keyof PolicySettings>>;

/**
 * The effective policy with its grace periods at `now`: the switch that applies (effectiveMfaPolicy)
 * and, when its tenant grants a grace period, the deadlines counted from the moment each switch was
 * turned on. An account without MFA may defer while every switch on in its scope allows it (the
 * earliest deadline); an account with MFA but no passkey, under the phr level, until the deadline of
 * the phr switch. After the deadline, setup has no skip.
 */
export function resolveMfaEnforcement(tenant: PolicySettings, parent: PolicySettings | null, now: Date): MfaEnforcement {
  const effective = effectiveMfaPolicy(tenant, parent);
  if (!effective.required) return { ...effective, graceUntil: null, canDefer: false, passkeyGraceUntil: null, canDeferPasskey: false };
  const source = effective.sourceTenantId === tenant.id ? tenant : parent;
  const days = Math.min(Math.max(Math.trunc(source?.mfaGraceDays ?? 0), 0), MAX_GRACE_DAYS);
  /** The deadline of one switch of the scope; undefined while it is off. */
  const deadline = (level: PolicyLevel): Date | null | undefined => {
    if (!source?.[SWITCHES[effective.source][level]]) return undefined;
    const since = source[SINCE[effective.source][level]];
    return since && days > 0 ? new Date(since.getTime() + days * DAY_MS) : null;
  };
  const deadlines = [deadline('mfa'), deadline('phr')].filter((d) => d !== undefined);
  // a switch without a deadline allows no deferral; otherwise the earliest deadline counts
  const dated = deadlines.filter((d): d is Date => d !== null);
  const graceUntil = dated.length === deadlines.length ? (dated.sort((a, b) => a.getTime() - b.getTime())[0] ?? null) : null;
  const passkeyGraceUntil = effective.level === 'phr' ? (deadline('phr') ?? null) : null;
  const ahead = (d: Date | null) => d !== null && now.getTime() < d.getTime();
  return { ...effective, graceUntil, canDefer: ahead(graceUntil), passkeyGraceUntil, canDeferPasskey: ahead(passkeyGraceUntil) };
}
