// Which page of the login interaction comes next: a pure decision over the interaction's state.
import type { Factor } from '../domain/amr.ts';
import { mfaRequirement } from '../domain/mfa/requirement.ts';

export interface InteractionState {
  /** accounts whose password matched, when the user still has to choose one. */
  candidates?: string[];
  accountId?: string;
  factors: Factor[];
  /** recovery codes issued by enrolment, sealed, until the user confirms they saved them. */
  recoveryCodesSealed?: string;
  /** set after a recovery-code sign-in so the last page can show how many remain. */
  remainingRecoveryCodes?: number;
}

export type Step = 'password' | 'choose' | 'verify' | 'enrol' | 'recovery_codes' | 'locked' | 'finish';

export interface MfaFacts {
  hasConfirmedAuthenticator: boolean;
  policyRequiresMfa: boolean;
  clientRequiresMfa: boolean;
  requestedAcr: 'mfa' | '1fa' | undefined;
  lockedUntil: Date | null;
  now: Date;
}

const SECOND_FACTORS: readonly Factor[] = ['otp', 'recovery_code'];
export const hasSecondFactor = (state: InteractionState) => state.factors.some((f) => SECOND_FACTORS.includes(f));

export function nextStep(state: InteractionState, mfa: MfaFacts | undefined): Step {
  if (!state.accountId) return state.candidates?.length ? 'choose' : 'password';
  if (state.recoveryCodesSealed) return 'recovery_codes';
  if (hasSecondFactor(state) || !mfa) return 'finish';
  const requirement = mfaRequirement(mfa);
  if (requirement === 'none') return 'finish';
  return requirement;
}
