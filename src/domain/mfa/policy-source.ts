// Where "MFA is required for this account by tenant policy" comes from. The tenant-policy rules feed
// it from the tenant tree (DESIGN.md §8), with the policy's grace period; tests substitute a double.
import { effectiveMfaPolicy, resolveMfaEnforcement, type PolicySettings } from '../policy.ts';
import type { AccountMfa } from './requirement.ts';

export interface PolicySubject {
  id: string;
  tenant: PolicySettings;
  parent: PolicySettings | null;
}

export interface MfaPolicySource {
  requiresMfa(account: PolicySubject): boolean | Promise<boolean>;
  /** Whether the policy requires phishing-resistant MFA (a passkey or security key only); absent = never. */
  requiresPhishingResistant?(account: PolicySubject): boolean | Promise<boolean>;
  /**
   * While the policy's grace period runs, the end of it: an account without MFA (or, when the policy
   * requires phishing-resistant MFA, one without a passkey) may still choose "Set up later" until then.
   * Null (or absent) when the policy allows no deferral now.
   */
  deferralDeadline?(account: PolicySubject, has: { authenticator: boolean }): Date | null | Promise<Date | null>;
}

/** The tenant tree's policy; `now` is the clock the grace period is measured with (tests move it). */
export function createTenantTreePolicy(now: () => Date = () => new Date()): MfaPolicySource {
  return {
    requiresMfa: (account) => effectiveMfaPolicy(account.tenant, account.parent).required,
    requiresPhishingResistant: (account) => effectiveMfaPolicy(account.tenant, account.parent).level === 'phr',
    deferralDeadline: (account, has) => {
      const enforcement = resolveMfaEnforcement(account.tenant, account.parent, now());
      if (!has.authenticator) return enforcement.canDefer ? enforcement.graceUntil : null;
      return enforcement.canDeferPasskey ? enforcement.passkeyGraceUntil : null;
    },
  };
}

export const tenantTreePolicy: MfaPolicySource = createTenantTreePolicy();

/**
 * The account's side of the MFA facts, from an account read with its tenant, parent and MFA status.
 * `hasWebauthn` is asked only when the policy requires phishing-resistant MFA of an account with MFA.
 */
export async function accountMfa(
  account: PolicySubject & { mfaStatus: 'active' | 'inactive' },
  policy: MfaPolicySource,
  hasWebauthn: () => Promise<boolean> = async () => false,
): Promise<AccountMfa> {
  const hasAuthenticator = account.mfaStatus === 'active';
  const policyRequiresMfa = await policy.requiresMfa(account);
  const policyRequiresPhr = policyRequiresMfa && policy.requiresPhishingResistant ? await policy.requiresPhishingResistant(account) : false;
  const unmet = policyRequiresMfa && (!hasAuthenticator || (policyRequiresPhr && !(await hasWebauthn())));
  const deadline = unmet && policy.deferralDeadline ? await policy.deferralDeadline(account, { authenticator: hasAuthenticator }) : null;
  return { hasAuthenticator, policyRequiresMfa, policyRequiresPhr, ...(deadline ? { policySetupDeferrableUntil: deadline } : {}) };
}
