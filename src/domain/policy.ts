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
