import { describe, it, expect } from '@jest/globals';
import { mfaRequiredBy, mfaRequirement, type MfaRequirementInput } from '../../../src/domain/mfa/requirement.ts';

const now = new Date('2025-06-01T12:00:00Z');
const later = new Date('2025-06-01T12:15:00Z');
const earlier = new Date('2025-06-01T11:45:00Z');

const base: MfaRequirementInput = {
  hasConfirmedAuthenticator: false,
  policyRequiresMfa: false,
  clientRequiresMfa: false,
  requestedAcr: undefined,
  lockedUntil: null,
  now,
};

describe('which MFA step a sign-in gets (DESIGN.md §5 step 2)', () => {
  it.each<[string, Partial<MfaRequirementInput>, ReturnType<typeof mfaRequirement>]>([
    ['no authenticator, nobody requires MFA → none', {}, 'none'],
    ['no authenticator, request asks for 1fa → none', { requestedAcr: '1fa' }, 'none'],
    ['confirmed authenticator → verify (having MFA means using it)', { hasConfirmedAuthenticator: true }, 'verify'],
    ['confirmed authenticator, request asks for 1fa → verify all the same', { hasConfirmedAuthenticator: true, requestedAcr: '1fa' }, 'verify'],
    ['confirmed authenticator and policy → verify', { hasConfirmedAuthenticator: true, policyRequiresMfa: true }, 'verify'],
    ['no authenticator, tenant policy enforces MFA → enrol', { policyRequiresMfa: true }, 'enrol'],
    ['no authenticator, client has require_mfa → enrol', { clientRequiresMfa: true }, 'enrol'],
    ['no authenticator, request asks for acr mfa → enrol', { requestedAcr: 'mfa' }, 'enrol'],
    ['confirmed authenticator, locked until later → locked', { hasConfirmedAuthenticator: true, lockedUntil: later }, 'locked'],
    ['confirmed authenticator, lock expired → verify', { hasConfirmedAuthenticator: true, lockedUntil: earlier }, 'verify'],
    ['confirmed authenticator, lock ends now → verify', { hasConfirmedAuthenticator: true, lockedUntil: now }, 'verify'],
    ['no authenticator, locked, policy requires MFA → enrol (no code is asked, so the lock does not apply)', { policyRequiresMfa: true, lockedUntil: later }, 'enrol'],
    ['no authenticator, locked, nobody requires MFA → none', { lockedUntil: later }, 'none'],
  ])('%s', (_rule, input, expected) => {
    expect(mfaRequirement({ ...base, ...input })).toBe(expected);
  });
});

describe('who requires MFA (for the enrolment page)', () => {
  it.each<[string, Partial<MfaRequirementInput>, string[]]>([
    ['nobody', {}, []],
    ['the request asking for 1fa is no requirement', { requestedAcr: '1fa' }, []],
    ['the tenant policy', { policyRequiresMfa: true }, ['policy']],
    ['the client', { clientRequiresMfa: true }, ['client']],
    ['the request', { requestedAcr: 'mfa' }, ['request']],
    ['all three, in that order', { policyRequiresMfa: true, clientRequiresMfa: true, requestedAcr: 'mfa' }, ['policy', 'client', 'request']],
  ])('%s', (_rule, input, expected) => {
    expect(mfaRequiredBy({ ...base, ...input })).toEqual(expected);
  });
});
