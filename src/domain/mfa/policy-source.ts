// Where "MFA is required for this account by tenant policy" comes from. The tenant-policy rules feed
// it from the tenant tree (DESIGN.md §8); tests substitute a double.
import { effectiveMfaPolicy, type PolicyTenant } from '../policy.ts';
import type { AccountMfa } from './requirement.ts';

export interface PolicySubject {
  id: string;
  tenant: PolicyTenant;
  parent: PolicyTenant | null;
}

export interface MfaPolicySource {
  requiresMfa(account: PolicySubject): boolean | Promise<boolean>;
}

export const tenantTreePolicy: MfaPolicySource = {
  requiresMfa: (account) => effectiveMfaPolicy(account.tenant, account.parent).required,
};

/** The account's side of the MFA facts, from an account read with its tenant, parent and MFA status. */
export async function accountMfa(account: PolicySubject & { mfaStatus: 'active' | 'inactive' }, policy: MfaPolicySource): Promise<AccountMfa> {
  return { hasAuthenticator: account.mfaStatus === 'active', policyRequiresMfa: await policy.requiresMfa(account) };
}
