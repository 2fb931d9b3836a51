import { describe, it, expect } from '@jest/globals';
import { GatehouseError } from '../../../src/domain/errors.ts';
import {
  ACR_1FA,
  ACR_MFA,
  ACR_PHR,
  ACR_VALUES_SUPPORTED,
  FACTOR_AMR,
  PAPE_MFA,
  acrFromAmr,
  amrFor,
  requestedAcr,
  satisfiesAcr,
  type Factor,
} from '../../../src/domain/amr.ts';

describe('the amr/acr contract (DESIGN.md §6)', () => {
  it.each<[string, Factor[], string[], string]>([
    ['password', ['pwd'], ['pwd'], ACR_1FA],
    ['password + TOTP', ['pwd', 'otp'], ['pwd', 'otp', 'mfa'], ACR_MFA],
    ['password + recovery code', ['pwd', 'recovery_code'], ['pwd', 'otp', 'mfa'], ACR_MFA],
    ['upstream IdP', ['fed'], ['fed'], ACR_1FA],
    ['upstream IdP + Gatehouse TOTP', ['fed', 'otp'], ['fed', 'otp', 'mfa'], ACR_MFA],
    ['upstream IdP that did MFA, trusted for it', ['fed', 'fed_mfa'], ['fed', 'mfa'], ACR_MFA],
    ['password + passkey / security key', ['pwd', 'hwk'], ['pwd', 'hwk', 'mfa'], ACR_PHR],
    ['password + synced passkey (software key)', ['pwd', 'swk'], ['pwd', 'swk', 'mfa'], ACR_PHR],
    ['passkey alone, with user verification', ['passkey_hwk'], ['hwk', 'user', 'mfa'], ACR_PHR],
    ['synced passkey alone, with user verification', ['passkey_swk'], ['swk', 'user', 'mfa'], ACR_PHR],
    ['password on a remembered browser (no code typed now)', ['pwd', 'remembered'], ['pwd', 'mfa'], ACR_MFA],
  ])('%s → amr %j, acr %s', (_how, factors, amr, acr) => {
    expect(amrFor(factors)).toEqual(amr);
    expect(acrFromAmr(amrFor(factors))).toBe(acr);
  });
});

describe('amr collection', () => {
  it.each<[string, Factor[], string[]]>([
    ['factors proved in any order give the same amr', ['otp', 'pwd'], ['pwd', 'otp', 'mfa']],
    ['a factor proved twice is listed once', ['pwd', 'otp', 'otp'], ['pwd', 'otp', 'mfa']],
    ['TOTP and a recovery code both say otp, once', ['pwd', 'otp', 'recovery_code'], ['pwd', 'otp', 'mfa']],
    ['a second factor alone is not MFA', ['otp'], ['otp']],
    ['two first factors are not MFA', ['pwd', 'fed'], ['pwd', 'fed']],
    ['a trusted upstream MFA plus Gatehouse TOTP', ['fed', 'fed_mfa', 'otp'], ['fed', 'otp', 'mfa']],
    ['nothing proved', [], []],
    ['a security key alone (without user verification) is not MFA', ['hwk'], ['hwk']],
    ['upstream IdP + passkey', ['fed', 'hwk'], ['fed', 'hwk', 'mfa']],
    ['password + TOTP + a passkey added in the same sign-in', ['pwd', 'otp', 'hwk'], ['pwd', 'hwk', 'otp', 'mfa']],
    ['password, then a passwordless passkey in a step-up', ['pwd', 'passkey_hwk'], ['pwd', 'hwk', 'user', 'mfa']],
    ['password + recovery code + passkey', ['pwd', 'recovery_code', 'swk'], ['pwd', 'swk', 'otp', 'mfa']],
  ])('%s', (_rule, factors, amr) => {
    expect(amrFor(factors)).toEqual(amr);
  });

  it('every factor reports what it proves (RFC 8176 values plus fed)', () => {
    expect(FACTOR_AMR).toEqual({
      pwd: ['pwd'],
      otp: ['otp'],
      recovery_code: ['otp'],
      fed: ['fed'],
      fed_mfa: ['mfa'],
      remembered: ['mfa'],
      hwk: ['hwk'],
      swk: ['swk'],
      passkey_hwk: ['hwk', 'user', 'mfa'],
      passkey_swk: ['swk', 'user', 'mfa'],
    });
  });

  it('advertises the phishing-resistant level with the others', () => {
    expect(ACR_VALUES_SUPPORTED).toEqual(['urn:gatehouse:acr:1fa', 'urn:gatehouse:acr:mfa', 'urn:gatehouse:acr:phr']);
  });
});

describe('acr from amr', () => {
  it.each([
    [['pwd'], ACR_1FA],
    [['otp'], ACR_1FA],
    [['pwd', 'otp', 'mfa'], ACR_MFA],
    [['fed', 'mfa'], ACR_MFA],
    [['pwd', 'hwk', 'mfa'], ACR_PHR],
    [['pwd', 'swk', 'mfa'], ACR_PHR],
    [['hwk', 'user', 'mfa'], ACR_PHR],
    [['hwk'], ACR_1FA],
    [['pwd', 'hwk'], ACR_1FA],
    [[], ACR_1FA],
  ])('amr %j → %s', (amr, acr) => {
    expect(acrFromAmr(amr)).toBe(acr);
  });
});

describe('the acr an authorization request asks for', () => {
  const essential = (extra: object) => ({ id_token: { acr: { essential: true, ...extra } } });

  it.each<[string, { acr_values?: string; claims?: string | object }, 'phr' | 'mfa' | '1fa' | undefined]>([
    ['acr_values = phr URN', { acr_values: ACR_PHR }, 'phr'],
    ['acr_values listing mfa then phr: phr wins', { acr_values: `${ACR_MFA} ${ACR_PHR}` }, 'phr'],
    ['acr_values listing phr then 1fa: phr, never a downgrade', { acr_values: `${ACR_PHR} ${ACR_1FA}` }, 'phr'],
    ['essential acr claim with value phr', { claims: essential({ value: ACR_PHR }) }, 'phr'],
    ['nothing asked', {}, undefined],
    ['acr_values = mfa URN', { acr_values: ACR_MFA }, 'mfa'],
    ['acr_values = 1fa URN', { acr_values: ACR_1FA }, '1fa'],
    ['acr_values = PAPE multi-factor (a synonym of mfa)', { acr_values: PAPE_MFA }, 'mfa'],
    ['acr_values listing 1fa then mfa: mfa wins, never a downgrade', { acr_values: `${ACR_1FA} ${ACR_MFA}` }, 'mfa'],
    ['acr_values with only unknown values', { acr_values: 'urn:other:gold silver' }, undefined],
    ['acr_values with an unknown value and 1fa', { acr_values: `urn:other:gold ${ACR_1FA}` }, '1fa'],
    ['acr_values with extra spaces', { acr_values: `  ${ACR_MFA}  ` }, 'mfa'],
    ['empty acr_values', { acr_values: '' }, undefined],
    ['acr_values naming object properties (constructor toString)', { acr_values: 'constructor toString' }, undefined],
    ['essential acr claim with value mfa (object)', { claims: essential({ value: ACR_MFA }) }, 'mfa'],
    ['essential acr claim with value mfa (JSON string)', { claims: JSON.stringify(essential({ value: ACR_MFA })) }, 'mfa'],
    ['essential acr claim with values [1fa, PAPE]', { claims: essential({ values: [ACR_1FA, PAPE_MFA] }) }, 'mfa'],
    ['essential acr claim with value 1fa', { claims: essential({ value: ACR_1FA }) }, '1fa'],
    ['voluntary acr claim (not essential) is not a requirement', { claims: { id_token: { acr: { value: ACR_MFA } } } }, undefined],
    ['acr claim asked for userinfo, not the ID token', { claims: { userinfo: { acr: { essential: true, value: ACR_MFA } } } }, undefined],
    ['claims parameter without acr', { claims: { id_token: { email: null } } }, undefined],
    ['essential acr claim with unknown values', { claims: essential({ values: ['urn:other:gold', 42] }) }, undefined],
    ['acr_values 1fa plus essential mfa claim', { acr_values: ACR_1FA, claims: essential({ value: ACR_MFA }) }, 'mfa'],
  ])('%s → %s', (_case, request, expected) => {
    expect(requestedAcr(request)).toBe(expected);
  });

  it('refuses a claims parameter that is not JSON rather than ignoring what it asks', () => {
    expect(() => requestedAcr({ claims: '{"id_token":' })).toThrow(GatehouseError);
    expect(() => requestedAcr({ claims: '{"id_token":' })).toThrow(/claims parameter is not valid JSON/);
  });
});

describe('whether a session meets the requested acr', () => {
  it.each<[string, 'phr' | 'mfa' | '1fa' | undefined, string[], boolean]>([
    ['mfa requested, password + passkey session (phr satisfies mfa)', 'mfa', ['pwd', 'hwk', 'mfa'], true],
    ['mfa requested, passwordless passkey session', 'mfa', ['hwk', 'user', 'mfa'], true],
    ['phr requested, password + TOTP session → step-up (TOTP is not phishing resistant)', 'phr', ['pwd', 'otp', 'mfa'], false],
    ['phr requested, trusted upstream MFA → step-up', 'phr', ['fed', 'mfa'], false],
    ['phr requested, a remembered browser (pwd, mfa) → step-up', 'phr', ['pwd', 'mfa'], false],
    ['phr requested, password session → step-up', 'phr', ['pwd'], false],
    ['phr requested, password + passkey', 'phr', ['pwd', 'hwk', 'mfa'], true],
    ['phr requested, password + synced passkey', 'phr', ['pwd', 'swk', 'mfa'], true],
    ['phr requested, passwordless passkey', 'phr', ['hwk', 'user', 'mfa'], true],
    ['phr requested, a key without MFA (hwk alone) → step-up', 'phr', ['hwk'], false],
    ['1fa requested, passkey session', '1fa', ['hwk', 'user', 'mfa'], true],
    ['nothing requested, password session', undefined, ['pwd'], true],
    ['1fa requested, password session', '1fa', ['pwd'], true],
    ['1fa requested, MFA session', '1fa', ['pwd', 'otp', 'mfa'], true],
    ['mfa requested, password session → step-up', 'mfa', ['pwd'], false],
    ['mfa requested, upstream IdP session → step-up', 'mfa', ['fed'], false],
    ['mfa requested, MFA session', 'mfa', ['pwd', 'otp', 'mfa'], true],
    ['mfa requested, trusted upstream MFA', 'mfa', ['fed', 'mfa'], true],
    ['mfa requested, otp without a first factor is not enough', 'mfa', ['otp'], false],
  ])('%s → %s', (_case, requested, amr, expected) => {
    expect(satisfiesAcr(requested, amr)).toBe(expected);
  });
});

