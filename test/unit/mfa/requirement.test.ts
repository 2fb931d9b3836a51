import { describe, it, expect } from '@jest/globals';
import { maySkipSetup, mfaRequiredBy, mfaRequirement, requiredAcr, type MfaFacts } from '../../../src/domain/mfa/requirement.ts';
import type { Factor } from '../../../src/domain/amr.ts';

const now = new Date('2025-06-01T12:00:00Z');
const later = new Date('2025-06-01T12:15:00Z');
const earlier = new Date('2025-06-01T11:45:00Z');

const base: MfaFacts = {
  hasAuthenticator: false,
  hasWebauthn: false,
  policyRequiresMfa: false,
  clientRequiresMfa: false,
  requestedAcr: undefined,
  lockedUntil: null,
  now,
};

describe('which MFA step a sign-in gets (DESIGN.md §5 step 2)', () => {
  it.each<[string, Partial<MfaFacts>, ReturnType<typeof mfaRequirement>]>([
    ['no authenticator, nobody requires MFA → none', {}, 'none'],
    ['no authenticator, request asks for 1fa → none', { requestedAcr: '1fa' }, 'none'],
    ['an authenticator → verify (having MFA means using it)', { hasAuthenticator: true }, 'verify'],
    ['an authenticator, request asks for 1fa → verify all the same', { hasAuthenticator: true, requestedAcr: '1fa' }, 'verify'],
    ['an authenticator and policy → verify', { hasAuthenticator: true, policyRequiresMfa: true }, 'verify'],
    ['no authenticator, tenant policy enforces MFA → enrol', { policyRequiresMfa: true }, 'enrol'],
    ['no authenticator, client has require_mfa → enrol', { clientRequiresMfa: true }, 'enrol'],
    ['no authenticator, request asks for acr mfa → enrol', { requestedAcr: 'mfa' }, 'enrol'],
    ['an authenticator, locked until later → locked', { hasAuthenticator: true, lockedUntil: later }, 'locked'],
    ['an authenticator, lock expired → verify', { hasAuthenticator: true, lockedUntil: earlier }, 'verify'],
    ['an authenticator, lock ends now → verify', { hasAuthenticator: true, lockedUntil: now }, 'verify'],
    ['no authenticator, locked, policy requires MFA → enrol (no code is asked, so the lock does not apply)', { policyRequiresMfa: true, lockedUntil: later }, 'enrol'],
    ['no authenticator, locked, nobody requires MFA → none', { lockedUntil: later }, 'none'],
    ['a passkey → verify', { hasAuthenticator: true, hasWebauthn: true }, 'verify'],
    ['request asks for phr, a passkey → verify (with the passkey)', { hasAuthenticator: true, hasWebauthn: true, requestedAcr: 'phr' }, 'verify'],
    ['request asks for phr, no authenticator → enrol (a passkey)', { requestedAcr: 'phr' }, 'enrol'],
    [
      'request asks for phr, only an authenticator app → verify it first, so a password alone never adds a passkey',
      { hasAuthenticator: true, requestedAcr: 'phr' },
      'verify',
    ],
    ['request asks for phr, a passkey, locked → locked', { hasAuthenticator: true, hasWebauthn: true, requestedAcr: 'phr', lockedUntil: later }, 'locked'],
  ])('%s', (_rule, input, expected) => {
    expect(mfaRequirement({ ...base, ...input })).toBe(expected);
  });
});

describe('what is still missing once factors are proved', () => {
  it.each<[string, Partial<MfaFacts>, Factor[], ReturnType<typeof mfaRequirement>]>([
    ['TOTP proved, MFA asked → none', { hasAuthenticator: true }, ['pwd', 'otp'], 'none'],
    ['passkey proved, MFA asked → none (phr satisfies mfa)', { hasAuthenticator: true, hasWebauthn: true }, ['pwd', 'hwk'], 'none'],
    ['TOTP proved, phr asked, a passkey → verify with the passkey', { hasAuthenticator: true, hasWebauthn: true, requestedAcr: 'phr' }, ['pwd', 'otp'], 'verify'],
    ['TOTP proved, phr asked, no passkey → enrol a passkey', { hasAuthenticator: true, requestedAcr: 'phr' }, ['pwd', 'otp'], 'enrol'],
    ['passkey proved, phr asked → none', { hasAuthenticator: true, hasWebauthn: true, requestedAcr: 'phr' }, ['pwd', 'hwk'], 'none'],
    ['passwordless passkey, policy requires MFA → none', { hasAuthenticator: true, hasWebauthn: true, policyRequiresMfa: true }, ['passkey_hwk'], 'none'],
    ['password only, nothing asked, no authenticator → none', {}, ['pwd'], 'none'],
  ])('%s', (_rule, input, proved, expected) => {
    expect(mfaRequirement({ ...base, ...input }, proved)).toBe(expected);
  });
});

describe('the level a sign-in must reach', () => {
  it.each<[string, Partial<MfaFacts>, ReturnType<typeof requiredAcr>]>([
    ['nothing asked, no authenticator', {}, undefined],
    ['an authenticator', { hasAuthenticator: true }, 'mfa'],
    ['tenant policy', { policyRequiresMfa: true }, 'mfa'],
    ['client require_mfa', { clientRequiresMfa: true }, 'mfa'],
    ['request asks for mfa', { requestedAcr: 'mfa' }, 'mfa'],
    ['request asks for phr', { requestedAcr: 'phr' }, 'phr'],
    ['request asks for phr, client asks for mfa → phr', { requestedAcr: 'phr', clientRequiresMfa: true }, 'phr'],
  ])('%s → %s', (_rule, input, expected) => {
    expect(requiredAcr({ ...base, ...input })).toBe(expected);
  });
});

describe('who requires MFA (for the enrolment page)', () => {
  it.each<[string, Partial<MfaFacts>, string[]]>([
    ['nobody', {}, []],
    ['the request asking for 1fa is no requirement', { requestedAcr: '1fa' }, []],
    ['the tenant policy', { policyRequiresMfa: true }, ['policy']],
    ['the client', { clientRequiresMfa: true }, ['client']],
    ['the request', { requestedAcr: 'mfa' }, ['request']],
    ['all three, in that order', { policyRequiresMfa: true, clientRequiresMfa: true, requestedAcr: 'mfa' }, ['policy', 'client', 'request']],
    ['the request asking for phr', { requestedAcr: 'phr' }, ['request']],
  ])('%s', (_rule, input, expected) => {
    expect(mfaRequiredBy({ ...base, ...input })).toEqual(expected);
  });
});

describe('"Set up later" during the policy\'s grace period', () => {
  const deadline = new Date('2025-06-08T12:00:00Z');
  it.each<[string, Partial<MfaFacts>, boolean]>([
    ['policy alone, deadline ahead → may skip', { policyRequiresMfa: true, policySetupDeferrableUntil: deadline }, true],
    ['policy without grace → no skip', { policyRequiresMfa: true }, false],
    ['deadline reached → no skip', { policyRequiresMfa: true, policySetupDeferrableUntil: now }, false],
    ['the client also requires MFA → no skip', { policyRequiresMfa: true, clientRequiresMfa: true, policySetupDeferrableUntil: deadline }, false],
    ['the request asks for acr mfa → no skip', { policyRequiresMfa: true, requestedAcr: 'mfa', policySetupDeferrableUntil: deadline }, false],
    ['the account already has MFA → nothing to skip', { hasAuthenticator: true, policyRequiresMfa: true, policySetupDeferrableUntil: deadline }, false],
  ])('%s', (_rule, input, expected) => {
    expect(maySkipSetup({ ...base, ...input })).toBe(expected);
  });
});
