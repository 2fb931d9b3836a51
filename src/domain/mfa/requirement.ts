// Which MFA step the login interaction shows (DESIGN.md §5 step 2), from facts computed once per
// request by `mfaFacts` — the step-up check on the provider side and the interaction pages read the
// same facts the same way.
import { amrFor, provesMfa, requestedAcr, satisfiesAcr, type Factor, type RequestedAcr } from '../amr.ts';
import { lockoutState } from './lockout.ts';

export type MfaRequirement = 'none' | 'verify' | 'enrol' | 'locked';
export type MfaReason = 'policy' | 'client' | 'request';

/** What the account itself brings: its authenticators, and whether its tenant's policy requires MFA. */
export interface AccountMfa {
  hasAuthenticator: boolean;
  policyRequiresMfa: boolean;
  /** the policy's grace period: until then its forced setup offers "Set up later". */
  policySetupDeferrableUntil?: Date | undefined;
}

/** Everything the requirement depends on, for one account, one client and one authorization request. */
export interface MfaFacts extends AccountMfa {
  /** whether one of the account's authenticators is a passkey or security key (WebAuthn). */
  hasWebauthn: boolean;
  /** The client's `require_mfa`. */
  clientRequiresMfa: boolean;
  requestedAcr: RequestedAcr | undefined;
  lockedUntil: Date | null;
  now: Date;
}

export function mfaFacts(input: {
  account: AccountMfa;
  hasWebauthn: boolean;
  client: { requireMfa: boolean };
  /** the authorization request's parameters (acr_values, claims) */
  params: { acr_values?: unknown; claims?: unknown };
  lockedUntil: Date | null;
  now: Date;
}): MfaFacts {
  return {
    hasAuthenticator: input.account.hasAuthenticator,
    hasWebauthn: input.hasWebauthn,
    policyRequiresMfa: input.account.policyRequiresMfa,
    policySetupDeferrableUntil: input.account.policySetupDeferrableUntil,
    clientRequiresMfa: input.client.requireMfa,
    requestedAcr: requestedAcr(input.params),
    lockedUntil: input.lockedUntil,
    now: input.now,
  };
}

/** Who demands MFA for this sign-in, for the enrolment page's explanation. */
export function mfaRequiredBy(facts: Pick<MfaFacts, 'policyRequiresMfa' | 'clientRequiresMfa' | 'requestedAcr'>): MfaReason[] {
  const reasons: MfaReason[] = [];
  if (facts.policyRequiresMfa) reasons.push('policy');
  if (facts.clientRequiresMfa) reasons.push('client');
  if (facts.requestedAcr === 'mfa' || facts.requestedAcr === 'phr') reasons.push('request');
  return reasons;
}

/**
 * "Set up later" (the policy's grace period): only an account without MFA, only while the deadline is
 * ahead, and only when the tenant policy is the sole reason — a client's require_mfa or a request for
 * acr mfa has no grace period.
 */
export function maySkipSetup(facts: Pick<MfaFacts, 'hasAuthenticator' | 'policyRequiresMfa' | 'policySetupDeferrableUntil' | 'clientRequiresMfa' | 'requestedAcr' | 'now'>): boolean {
  if (facts.hasAuthenticator || !facts.policySetupDeferrableUntil) return false;
  if (facts.policySetupDeferrableUntil.getTime() <= facts.now.getTime()) return false;
  const reasons = mfaRequiredBy(facts);
  return reasons.length === 1 && reasons[0] === 'policy';
}

/** The level this sign-in must reach: `phr` when the request asks for it, `mfa` when anything demands MFA. */
export function requiredAcr(facts: Pick<MfaFacts, 'hasAuthenticator' | 'policyRequiresMfa' | 'clientRequiresMfa' | 'requestedAcr'>): RequestedAcr | undefined {
  if (facts.requestedAcr === 'phr') return 'phr';
  // Having MFA means using it, whether or not anyone demands it.
  return facts.hasAuthenticator || mfaRequiredBy(facts).length > 0 ? 'mfa' : undefined;
}

/** What is still missing, given the factors this sign-in has proved so far. */
export function mfaRequirement(facts: MfaFacts, proved: readonly Factor[] = []): MfaRequirement {
  const required = requiredAcr(facts);
  if (satisfiesAcr(required, amrFor(proved))) return 'none';
  // A lock only stops code entry; an account without an authenticator has no code to enter.
  if (facts.hasAuthenticator && lockoutState({ lockedUntil: facts.lockedUntil, now: facts.now }).locked) return 'locked';
  if (required === 'phr' && !facts.hasWebauthn) {
    // Only a passkey reaches phr, and the account has none yet: it adds one, but an account that has
    // another authenticator proves it first, so a password alone never adds a factor.
    return facts.hasAuthenticator && !provesMfa(proved) ? 'verify' : 'enrol';
  }
  return facts.hasAuthenticator ? 'verify' : 'enrol';
}
