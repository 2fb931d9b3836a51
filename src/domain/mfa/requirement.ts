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
  /** the policy requires phishing-resistant MFA (a passkey or security key only). */
  policyRequiresPhr: boolean;
  /**
   * the policy's grace period: until then its forced setup (of any authenticator, or of the passkey a
   * phishing-resistant policy asks of an account with another authenticator) offers "Set up later".
   */
  policySetupDeferrableUntil?: Date | undefined;
}

/** Everything the requirement depends on, for one account, one client and one authorization request. */
export interface MfaFacts extends AccountMfa {
  /** whether one of the account's authenticators is a passkey or security key (WebAuthn). */
  hasWebauthn: boolean;
  /** The client's `require_mfa`. */
  clientRequiresMfa: boolean;
  /** The client's `require_phishing_resistant_mfa`. */
  clientRequiresPhr: boolean;
  requestedAcr: RequestedAcr | undefined;
  lockedUntil: Date | null;
  now: Date;
}

export function mfaFacts(input: {
  account: AccountMfa;
  hasWebauthn: boolean;
  client: { requireMfa: boolean; requirePhr: boolean };
  /** the authorization request's parameters (acr_values, claims) */
  params: { acr_values?: unknown; claims?: unknown };
  lockedUntil: Date | null;
  now: Date;
}): MfaFacts {
  return {
    hasAuthenticator: input.account.hasAuthenticator,
    hasWebauthn: input.hasWebauthn,
    policyRequiresMfa: input.account.policyRequiresMfa,
    policyRequiresPhr: input.account.policyRequiresPhr,
    policySetupDeferrableUntil: input.account.policySetupDeferrableUntil,
    clientRequiresMfa: input.client.requireMfa,
    clientRequiresPhr: input.client.requirePhr,
    requestedAcr: requestedAcr(input.params),
    lockedUntil: input.lockedUntil,
    now: input.now,
  };
}

type Demands = Pick<MfaFacts, 'policyRequiresMfa' | 'policyRequiresPhr' | 'clientRequiresMfa' | 'clientRequiresPhr' | 'requestedAcr'>;

/** Who demands MFA for this sign-in, for the enrolment page's explanation (phr is MFA too). */
export function mfaRequiredBy(facts: Demands): MfaReason[] {
  const reasons: MfaReason[] = [];
  if (facts.policyRequiresMfa || facts.policyRequiresPhr) reasons.push('policy');
  if (facts.clientRequiresMfa || facts.clientRequiresPhr) reasons.push('client');
  if (facts.requestedAcr === 'mfa' || facts.requestedAcr === 'phr') reasons.push('request');
  return reasons;
}

/** Who demands phishing-resistant MFA (a passkey or security key) for this sign-in. */
export function phrRequiredBy(facts: Demands): MfaReason[] {
  const reasons: MfaReason[] = [];
  if (facts.policyRequiresPhr) reasons.push('policy');
  if (facts.clientRequiresPhr) reasons.push('client');
  if (facts.requestedAcr === 'phr') reasons.push('request');
  return reasons;
}

const onlyThePolicy = (reasons: MfaReason[]) => reasons.length === 1 && reasons[0] === 'policy';

/**
 * "Set up later" (the policy's grace period): only while the deadline is ahead, and only when the
 * tenant policy is the sole reason for the setup — a client's require_mfa or require_phishing_resistant_mfa,
 * or a request for acr mfa or phr, has no grace period. The setup deferred is an authenticator for an
 * account without MFA, or the passkey a phishing-resistant policy asks of an account that has only
 * other authenticators.
 */
export function maySkipSetup(facts: Demands & Pick<MfaFacts, 'hasAuthenticator' | 'hasWebauthn' | 'policySetupDeferrableUntil' | 'now'>): boolean {
  if (!facts.policySetupDeferrableUntil || facts.policySetupDeferrableUntil.getTime() <= facts.now.getTime()) return false;
  if (!facts.hasAuthenticator) return onlyThePolicy(mfaRequiredBy(facts));
  return !facts.hasWebauthn && onlyThePolicy(phrRequiredBy(facts));
}

/**
 * The level this sign-in must reach: `phr` when the request, the client or the tenant policy asks for
 * it, `mfa` when anything else demands MFA or the account has an authenticator.
 */
export function requiredAcr(facts: Demands & Pick<MfaFacts, 'hasAuthenticator'>): RequestedAcr | undefined {
  if (phrRequiredBy(facts).length > 0) return 'phr';
  // Having MFA means using it, whether or not anyone demands it.
  return facts.hasAuthenticator || mfaRequiredBy(facts).length > 0 ? 'mfa' : undefined;
}

/**
 * The level a session must reach now: `requiredAcr`, except that while the user may still "Set up
 * later", a session without the deferred setup is accepted — an account that has an authenticator
 * still uses it.
 */
export function acceptableAcr(facts: Parameters<typeof maySkipSetup>[0]): RequestedAcr | undefined {
  if (!maySkipSetup(facts)) return requiredAcr(facts);
  return facts.hasAuthenticator ? 'mfa' : undefined;
}

/**
 * An account that has an authenticator uses it (`requiredAcr`): until a second factor is proved, the
 * sign-in has a code to ask for or a lock to show, whatever the other facts say.
 */
export const secondFactorPending = (hasAuthenticator: boolean, proved: readonly Factor[]): boolean => hasAuthenticator && !provesMfa(proved);

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
