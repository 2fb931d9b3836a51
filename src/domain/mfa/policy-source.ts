// Where "MFA is required for this account by tenant policy" comes from. The tenant-policy rules feed
// it from the tenant tree (DESIGN.md §8); tests substitute a double.
import { effectiveMfaPolicy } from '../policy.ts';

export interface PolicySubject {
  id: string;
  tenant: {
    id: string;
    kind: 'platform' | 'distributor' | 'sub_reseller' | 'organization';
    enforceMfaPartnerUsers: boolean;
    enforceMfaOrganizations: boolean;
  };
  parent: {
    id: string;
    kind: 'platform' | 'distributor' | 'sub_reseller' | 'organization';
    enforceMfaPartnerUsers: boolean;
    enforceMfaOrganizations: boolean;
  } | null;
}

export interface MfaPolicySource {
  requiresMfa(account: PolicySubject): boolean | Promise<boolean>;
}

export const tenantTreePolicy: MfaPolicySource = {
  requiresMfa: (account) => effectiveMfaPolicy(account.tenant, account.parent).required,
};
