// Which page of the login interaction comes next (src/interactions/steps.ts), as a rule table.
import { describe, expect, it } from '@jest/globals';
import { nextStep, type InteractionState, type MfaFacts } from '../../../src/interactions/steps.ts';

const now = new Date('2026-03-01T12:00:00Z');
const facts = (over: Partial<MfaFacts> = {}): MfaFacts => ({
  hasConfirmedAuthenticator: false,
  policyRequiresMfa: false,
  clientRequiresMfa: false,
  requestedAcr: undefined,
  lockedUntil: null,
  now,
  ...over,
});
const chosen: InteractionState = { accountId: 'a1', factors: ['pwd'] };

describe('next page of the sign-in interaction', () => {
  it.each<[string, InteractionState, MfaFacts | undefined, string]>([
    ['nothing entered yet → password', { factors: [] }, undefined, 'password'],
    ['password opened several accounts → choose', { candidates: ['a1', 'a2'], factors: ['pwd'] }, undefined, 'choose'],
    ['account without MFA, nothing requires it → finish', chosen, facts(), 'finish'],
    ['account with an authenticator → verify (having MFA means using it)', chosen, facts({ hasConfirmedAuthenticator: true }), 'verify'],
    ['client requires MFA, no authenticator → forced setup', chosen, facts({ clientRequiresMfa: true }), 'enrol'],
    ['tenant policy requires MFA, no authenticator → forced setup', chosen, facts({ policyRequiresMfa: true }), 'enrol'],
    ['request asks acr mfa, no authenticator → forced setup', chosen, facts({ requestedAcr: 'mfa' }), 'enrol'],
    ['authenticator, locked → locked page', chosen, facts({ hasConfirmedAuthenticator: true, lockedUntil: new Date(now.getTime() + 60_000) }), 'locked'],
    ['authenticator, lock expired → verify', chosen, facts({ hasConfirmedAuthenticator: true, lockedUntil: new Date(now.getTime() - 1) }), 'verify'],
    ['second factor proved → finish', { accountId: 'a1', factors: ['pwd', 'otp'] }, facts({ hasConfirmedAuthenticator: true }), 'finish'],
    ['just enrolled → recovery codes before finishing', { accountId: 'a1', factors: ['pwd', 'otp'], recoveryCodesSealed: 'v1.x' }, facts(), 'recovery_codes'],
  ])('%s', (_rule, state, mfa, expected) => {
    expect(nextStep(state, mfa)).toBe(expected);
  });
});
