// Which MFA step the login interaction shows (DESIGN.md §5 step 2).
import type { RequestedAcr } from '../amr.ts';
import { lockoutState } from './lockout.ts';

export type MfaRequirement = 'none' | 'verify' | 'enrol' | 'locked';
export type MfaReason = 'policy' | 'client' | 'request';

export interface MfaRequirementInput {
  hasConfirmedAuthenticator: boolean;
  /** The tenant's effective policy (`effectiveMfaPolicy(...).required`). */
  policyRequiresMfa: boolean;
  /** The client's `require_mfa`. */
  clientRequiresMfa: boolean;
  requestedAcr: RequestedAcr | undefined;
  lockedUntil: Date | null;
  now: Date;
}

/** Who demands MFA for this sign-in, for the enrolment page's explanation. */
export function mfaRequiredBy(input: Pick<MfaRequirementInput, 'policyRequiresMfa' | 'clientRequiresMfa' | 'requestedAcr'>): MfaReason[] {
  const reasons: MfaReason[] = [];
  if (input.policyRequiresMfa) reasons.push('policy');
  if (input.clientRequiresMfa) reasons.push('client');
  if (input.requestedAcr === 'mfa') reasons.push('request');
  return reasons;
}

export function mfaRequirement(input: MfaRequirementInput): MfaRequirement {
  // Having MFA means using it, whether or not anyone demands it.
  if (input.hasConfirmedAuthenticator) {
    return lockoutState({ lockedUntil: input.lockedUntil, now: input.now }).locked ? 'locked' : 'verify';
  }
  // A lock only stops code entry; an account without an authenticator has no code to enter.
  return mfaRequiredBy(input).length > 0 ? 'enrol' : 'none';
}
