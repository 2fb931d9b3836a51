// Which page of the login interaction comes next (src/interactions/steps.ts), as a rule table.
import { describe, expect, it } from '@jest/globals';
import { nextStep, type InteractionState } from '../../../src/interactions/steps.ts';
import type { MfaFacts } from '../../../src/domain/mfa/requirement.ts';

const now = new Date('2026-03-01T12:00:00Z');
const facts = (over: Partial<MfaFacts> = {}): MfaFacts => ({
  hasAuthenticator: false,
  hasWebauthn: false,
  policyRequiresMfa: false,
  policyRequiresPhr: false,
  clientRequiresMfa: false,
  clientRequiresPhr: false,
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
    ['account with an authenticator → verify (having MFA means using it)', chosen, facts({ hasAuthenticator: true }), 'verify'],
    ['client requires MFA, no authenticator → forced setup', chosen, facts({ clientRequiresMfa: true }), 'enrol'],
    ['tenant policy requires MFA, no authenticator → forced setup', chosen, facts({ policyRequiresMfa: true }), 'enrol'],
    ['request asks acr mfa, no authenticator → forced setup', chosen, facts({ requestedAcr: 'mfa' }), 'enrol'],
    ['authenticator, locked → locked page', chosen, facts({ hasAuthenticator: true, lockedUntil: new Date(now.getTime() + 60_000) }), 'locked'],
    ['authenticator, lock expired → verify', chosen, facts({ hasAuthenticator: true, lockedUntil: new Date(now.getTime() - 1) }), 'verify'],
    ['second factor proved → finish', { accountId: 'a1', factors: ['pwd', 'otp'] }, facts({ hasAuthenticator: true }), 'finish'],
    ['just enrolled → recovery codes before finishing', { accountId: 'a1', factors: ['pwd', 'otp'], recoveryCodesSealed: 'v1.x' }, facts(), 'recovery_codes'],
    ['signed in with a recovery code → the codes left, before finishing', { accountId: 'a1', factors: ['pwd', 'recovery_code'], remainingRecoveryCodes: 3 }, facts({ hasAuthenticator: true }), 'recovery_used'],
    ['policy with grace, user chose "Set up later" → finish (password only)', { ...chosen, setupDeferred: true }, facts({ policyRequiresMfa: true, policySetupDeferrableUntil: new Date(now.getTime() + 86_400_000) }), 'finish'],
    ['policy with grace, no deferral chosen → forced setup (offering the skip)', chosen, facts({ policyRequiresMfa: true, policySetupDeferrableUntil: new Date(now.getTime() + 86_400_000) }), 'enrol'],
    ['deferral chosen but the deadline passed → forced setup', { ...chosen, setupDeferred: true }, facts({ policyRequiresMfa: true, policySetupDeferrableUntil: new Date(now.getTime() - 1) }), 'enrol'],
    ['deferral chosen, but the client also requires MFA → forced setup (a client has no grace period)', { ...chosen, setupDeferred: true }, facts({ policyRequiresMfa: true, clientRequiresMfa: true, policySetupDeferrableUntil: new Date(now.getTime() + 86_400_000) }), 'enrol'],
    ['second factor a passkey → finish', { accountId: 'a1', factors: ['pwd', 'hwk'] }, facts({ hasAuthenticator: true, hasWebauthn: true }), 'finish'],
    ['passwordless passkey → finish', { accountId: 'a1', factors: ['passkey_hwk'] }, facts({ hasAuthenticator: true, hasWebauthn: true, policyRequiresMfa: true }), 'finish'],
    ['request asks for phr, TOTP proved, a passkey → verify', { accountId: 'a1', factors: ['pwd', 'otp'] }, facts({ hasAuthenticator: true, hasWebauthn: true, requestedAcr: 'phr' }), 'verify'],
    ['request asks for phr, TOTP proved, no passkey → enrol one', { accountId: 'a1', factors: ['pwd', 'otp'] }, facts({ hasAuthenticator: true, requestedAcr: 'phr' }), 'enrol'],
    ['client requires phr, TOTP proved, no passkey → enrol one', { accountId: 'a1', factors: ['pwd', 'otp'] }, facts({ hasAuthenticator: true, clientRequiresPhr: true }), 'enrol'],
    ['policy requires phr, TOTP proved, no passkey, "Set up later" within the grace → finish (acr mfa)', { accountId: 'a1', factors: ['pwd', 'otp'], setupDeferred: true }, facts({ hasAuthenticator: true, policyRequiresPhr: true, policySetupDeferrableUntil: new Date(now.getTime() + 86_400_000) }), 'finish'],
    ['policy requires phr, "Set up later" chosen but the password alone → verify the app first', { ...chosen, setupDeferred: true }, facts({ hasAuthenticator: true, policyRequiresPhr: true, policySetupDeferrableUntil: new Date(now.getTime() + 86_400_000) }), 'verify'],
    ['policy and client both require phr, deferral chosen → enrol a passkey (a client has no grace period)', { accountId: 'a1', factors: ['pwd', 'otp'], setupDeferred: true }, facts({ hasAuthenticator: true, policyRequiresPhr: true, clientRequiresPhr: true, policySetupDeferrableUntil: new Date(now.getTime() + 86_400_000) }), 'enrol'],
    ['just enrolled a passkey → recovery codes before finishing', { accountId: 'a1', factors: ['pwd', 'hwk'], recoveryCodesSealed: 'v1.x' }, facts(), 'recovery_codes'],
    ['an enrolment in progress does not count as a second factor', { accountId: 'a1', factors: ['pwd'], enrolmentFlowId: 'f' }, facts({ clientRequiresMfa: true }), 'enrol'],
  ])('%s', (_rule, state, mfa, expected) => {
    expect(nextStep('login', state, mfa)).toBe(expected);
  });

  it('serves the consent prompt with the consent page, whatever the state', () => {
    expect(nextStep('consent', { factors: [] }, undefined)).toBe('consent');
    expect(nextStep('consent', chosen, facts({ hasAuthenticator: true }))).toBe('consent');
  });
});
