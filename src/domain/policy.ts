// The effective MFA requirement for an account in a tenant (DESIGN.md §8). Only partner tenants
// (distributor, sub_reseller) have settings; an organization follows its direct parent's
// "Enforce MFA for all organizations". Nothing cascades further down.

import { isPartner, type TenantKind } from './kinds.ts';

export type { TenantKind };

export interface PolicyTenant {
  id: string;
  kind: TenantKind;
  enforceMfaPartnerUsers: boolean;
  enforceMfaOrganizations: boolean;
}

export type EffectiveMfaPolicy =
  | { required: true; source: 'partner_users' | 'organizations'; sourceTenantId: string }
  | { required: false; source: null; sourceTenantId: null };

const NOT_REQUIRED: EffectiveMfaPolicy = { required: false, source: null, sourceTenantId: null };

/** `parent` is the tenant's direct parent (null for the platform). */
export function effectiveMfaPolicy(tenant: PolicyTenant, parent: PolicyTenant | null): EffectiveMfaPolicy {
  if (isPartner(tenant.kind)) {
    return tenant.enforceMfaPartnerUsers ? { required: true, source: 'partner_users', sourceTenantId: tenant.id } : NOT_REQUIRED;
  }
  if (tenant.kind === 'organization' && parent && isPartner(parent.kind)) {
    return parent.enforceMfaOrganizations ? { required: true, source: 'organizations', sourceTenantId: parent.id } : NOT_REQUIRED;
  }
  return NOT_REQUIRED;
}

/** A partner's policy as stored: the two switches, since when each is on, and the grace period. */
export interface PolicySettings extends PolicyTenant {
  enforceMfaPartnerUsersSince?: Date | null | undefined;
  enforceMfaOrganizationsSince?: Date | null | undefined;
  /** 0–30 days after a switch was turned on during which an affected user may defer setup. */
  mfaGraceDays?: number | undefined;
}

export const MAX_GRACE_DAYS = 30;
const DAY_MS = 86_400_000;

export type MfaEnforcement =
  | { required: false; source: null; sourceTenantId: null; graceUntil: null; canDefer: false }
  | {
      required: true;
      source: 'partner_users' | 'organizations';
      sourceTenantId: string;
      /** the end of the grace period; null when the policy has none. */
      graceUntil: Date | null;
      /** an account without MFA may still choose "Set up later" (until graceUntil, exclusive). */
      canDefer: boolean;
    };

/**
 * The effective policy with its grace period at `now`: the switch that applies (effectiveMfaPolicy)
 * and, when its tenant grants a grace period, the deadline counted from the moment that switch was
 * turned on. After the deadline, setup has no skip.
 */
export function resolveMfaEnforcement(tenant: PolicySettings, parent: PolicySettings | null, now: Date): MfaEnforcement {
  const effective = effectiveMfaPolicy(tenant, parent);
  if (!effective.required) return { ...effective, graceUntil: null, canDefer: false };
  const source = effective.sourceTenantId === tenant.id ? tenant : parent;
  const since = effective.source === 'partner_users' ? source?.enforceMfaPartnerUsersSince : source?.enforceMfaOrganizationsSince;
  const days = Math.min(Math.max(Math.trunc(source?.mfaGraceDays ?? 0), 0), MAX_GRACE_DAYS);
  const graceUntil = since && days > 0 ? new Date(since.getTime() + days * DAY_MS) : null;
  return { ...effective, graceUntil, canDefer: graceUntil !== null && now.getTime() < graceUntil.getTime() };
}
