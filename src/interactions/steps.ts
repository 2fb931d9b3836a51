// Which page of the login interaction comes next: a pure decision over the interaction's state, the
// prompt oidc-provider asks for, and the MFA facts of the chosen account. Every handler serves only the
// step this function names (src/interactions/pages.ts).
import { provesMfa, type Factor } from '../domain/amr.ts';
import { GatehouseError } from '../domain/errors.ts';
import { maySkipSetup, mfaRequirement, type MfaFacts } from '../domain/mfa/requirement.ts';

export interface InteractionState {
  /** accounts whose password matched, when the user still has to choose one. */
  candidates?: string[];
  accountId?: string;
  factors: Factor[];
  /** the authenticator setup this interaction started (a flow bound to it). */
  enrolmentFlowId?: string;
  /** recovery codes issued by enrolment, sealed, until the user confirms they saved them. */
  recoveryCodesSealed?: string;
  /** set after a recovery-code sign-in, so the last page can show how many remain. */
  remainingRecoveryCodes?: number;
  /** the user chose "Set up later" during the policy's grace period. */
  setupDeferred?: boolean;
}

/** A handler asked for outside the step it serves (or a choice the step does not offer now). */
export const stepUnavailable = () =>
  new GatehouseError('step_unavailable', 409, 'This step of the sign-in is not available now. Go back to the sign-in page and continue from there.');

export const STEPS = ['password', 'choose', 'verify', 'locked', 'enrol', 'recovery_codes', 'recovery_used', 'consent', 'finish'] as const;
export type Step = (typeof STEPS)[number];


/**
 * `prompt` is the prompt oidc-provider opened this interaction for; `mfa` the facts of the chosen
 * account (undefined until an account is chosen).
 */
export function nextStep(prompt: string, state: InteractionState, mfa: MfaFacts | undefined): Step {
  if (prompt === 'consent') return 'consent';
  if (!state.accountId) return state.candidates?.length ? 'choose' : 'password';
  if (state.recoveryCodesSealed) return 'recovery_codes';
  if (state.remainingRecoveryCodes !== undefined && provesMfa(state.factors)) return 'recovery_used';
  if (!mfa) return 'finish';
  const requirement = mfaRequirement(mfa, state.factors);
  // a deferral counts only while the grace period still allows one
  if (requirement === 'enrol' && state.setupDeferred && maySkipSetup(mfa)) return 'finish';
  return requirement === 'none' ? 'finish' : requirement;
}
