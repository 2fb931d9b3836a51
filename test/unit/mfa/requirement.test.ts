import { describe, it, expect } from '@jest/globals';
import { acceptableAcr, maySkipSetup, mfaRequiredBy, mfaRequirement, requiredAcr, secondFactorPending, type MfaFacts } from '../../../src/domain/mfa/requirement.ts';
import type { Factor } from '../../../src/domain/amr.ts';

const now = new Date('2025-06-01T12:00:00Z');
const later = new Date('2025-06-01T12:15:00Z');
const earlier = new Date('2025-06-01T11:45:00Z');

const base: MfaFacts = {
  hasAuthenticator: false,
  hasWebauthn: false,
  policyRequiresMfa: false,
  policyRequiresPhr: false,
  clientRequiresMfa: false,
  clientRequiresPhr: false,
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
    ['client requires phr, no authenticator → enrol (a passkey)', { clientRequiresPhr: true }, 'enrol'],
    ['tenant policy requires phr, no authenticator → enrol (a passkey)', { policyRequiresMfa: true, policyRequiresPhr: true }, 'enrol'],
    ['client requires phr, only an authenticator app → verify it first', { hasAuthenticator: true, clientRequiresPhr: true }, 'verify'],
    ['tenant policy requires phr, a passkey → verify (with the passkey)', { hasAuthenticator: true, hasWebauthn: true, policyRequiresMfa: true, policyRequiresPhr: true }, 'verify'],
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
    ['TOTP proved, the client requires phr, no passkey → enrol a passkey (the code is not enough)', { hasAuthenticator: true, clientRequiresPhr: true }, ['pwd', 'otp'], 'enrol'],
    ['TOTP proved, the tenant policy requires phr, a passkey → verify with the passkey', { hasAuthenticator: true, hasWebauthn: true, policyRequiresMfa: true, policyRequiresPhr: true }, ['pwd', 'otp'], 'verify'],
    ['recovery code proved, the client requires phr, a passkey → verify with the passkey', { hasAuthenticator: true, hasWebauthn: true, clientRequiresPhr: true }, ['pwd', 'recovery_code'], 'verify'],
    ['passkey proved, the tenant policy requires phr → none', { hasAuthenticator: true, hasWebauthn: true, policyRequiresPhr: true }, ['pwd', 'hwk'], 'none'],
  ])('%s', (_rule, input, proved, expected) => {
    expect(mfaRequirement({ ...base, ...input }, proved)).toBe(expected);
  });
});

describe('a second factor still pending, from the account alone', () => {
  const provedSets: Factor[][] = [['pwd'], ['fed'], ['fed_mfa'], ['pwd', 'otp'], ['pwd', 'recovery_code'], ['pwd', 'hwk'], ['passkey_hwk'], ['pwd', 'remembered']];
  const variants: Partial<MfaFacts>[] = [];
  for (const hasWebauthn of [false, true])
    for (const policyRequiresMfa of [false, true])
      for (const policyRequiresPhr of [false, true])
        for (const clientRequiresMfa of [false, true])
          for (const clientRequiresPhr of [false, true])
            for (const requestedAcr of [undefined, '1fa', 'mfa', 'phr'] as const)
              for (const lockedUntil of [null, later]) variants.push({ hasWebauthn, policyRequiresMfa, policyRequiresPhr, clientRequiresMfa, clientRequiresPhr, requestedAcr, lockedUntil });

  // verify or locked: neither 'none' nor an 'enrol' that a deferred setup could let finish (nextStep)
  it('says so only when, whatever the other facts, a code is still to ask or a lock to show', () => {
    let pending = 0;
    for (const proved of provedSets) {
      if (!secondFactorPending(true, proved)) continue;
      for (const variant of variants) {
        pending++;
        const requirement = mfaRequirement({ ...base, ...variant, hasAuthenticator: true }, proved);
        expect({ proved, variant, pageComesNext: requirement === 'verify' || requirement === 'locked' }).toEqual({ proved, variant, pageComesNext: true });
      }
    }
    expect(pending).toBeGreaterThan(variants.length); // the password, and an upstream sign-in without MFA
  });

  it.each<[Factor[], boolean, boolean]>([
    [['pwd'], true, true],
    [['fed'], true, true],
    [['pwd', 'otp'], true, false],
    [['passkey_hwk'], true, false],
    [['pwd'], false, false],
  ])('%j with an authenticator %s → %s', (proved, hasAuthenticator, expected) => {
    expect(secondFactorPending(hasAuthenticator, proved)).toBe(expected);
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
    ['client require_phishing_resistant_mfa → phr', { clientRequiresPhr: true }, 'phr'],
    ['tenant policy at phr → phr', { policyRequiresMfa: true, policyRequiresPhr: true }, 'phr'],
    ['tenant policy at phr, request asks for mfa → phr (never a downgrade)', { policyRequiresPhr: true, requestedAcr: 'mfa' }, 'phr'],
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
    ['the client requiring phr', { clientRequiresPhr: true }, ['client']],
    ['the tenant policy requiring phr', { policyRequiresPhr: true }, ['policy']],
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
    ['policy at phr alone, no authenticator, deadline ahead → may skip', { policyRequiresMfa: true, policyRequiresPhr: true, policySetupDeferrableUntil: deadline }, true],
    ['policy at phr, an authenticator app only, deadline ahead → may skip the passkey', { hasAuthenticator: true, policyRequiresMfa: true, policyRequiresPhr: true, policySetupDeferrableUntil: deadline }, true],
    ['policy at phr, an authenticator app only, deadline reached → no skip', { hasAuthenticator: true, policyRequiresMfa: true, policyRequiresPhr: true, policySetupDeferrableUntil: now }, false],
    ['policy at phr, a passkey already → nothing to skip', { hasAuthenticator: true, hasWebauthn: true, policyRequiresMfa: true, policyRequiresPhr: true, policySetupDeferrableUntil: deadline }, false],
    ['policy at phr, the client also requires phr → no skip', { hasAuthenticator: true, policyRequiresPhr: true, clientRequiresPhr: true, policySetupDeferrableUntil: deadline }, false],
    ['policy at phr, the request asks for phr → no skip', { hasAuthenticator: true, policyRequiresPhr: true, requestedAcr: 'phr', policySetupDeferrableUntil: deadline }, false],
    ['policy at phr, an authenticator app, the client requires only mfa (met by the app) → may skip the passkey', { hasAuthenticator: true, policyRequiresPhr: true, clientRequiresMfa: true, policySetupDeferrableUntil: deadline }, true],
    ['the client requires phr and the account has no MFA → no skip', { policyRequiresMfa: true, clientRequiresPhr: true, policySetupDeferrableUntil: deadline }, false],
  ])('%s', (_rule, input, expected) => {
    expect(maySkipSetup({ ...base, ...input })).toBe(expected);
  });
});

describe('the level a session must reach now, with the grace period', () => {
  const deadline = new Date('2025-06-08T12:00:00Z');
  it.each<[string, Partial<MfaFacts>, ReturnType<typeof acceptableAcr>]>([
    ['no grace: what is required', { policyRequiresPhr: true, hasAuthenticator: true }, 'phr'],
    ['deferred setup, no authenticator: nothing', { policyRequiresMfa: true, policySetupDeferrableUntil: deadline }, undefined],
    ['deferred passkey, an authenticator app: the app is still used (mfa)', { hasAuthenticator: true, policyRequiresPhr: true, policySetupDeferrableUntil: deadline }, 'mfa'],
    ['grace over: phr', { hasAuthenticator: true, policyRequiresPhr: true, policySetupDeferrableUntil: now }, 'phr'],
  ])('%s', (_rule, input, expected) => {
    expect(acceptableAcr({ ...base, ...input })).toBe(expected);
  });
});
