/** Step-up requests ask Gatehouse for `acr=urn:gatehouse:acr:mfa` (DESIGN.md §6). */
import { describe, expect, it } from '@jest/globals';
import { ACR_1FA, ACR_MFA, AMR_MFA, buildStepUpRequest, stepUpAuthorizationParams } from '../../../src/relying-party/index.ts';

describe('step-up', () => {
  it('exports the Gatehouse acr/amr vocabulary', () => {
    expect(ACR_MFA).toBe('urn:gatehouse:acr:mfa');
    expect(ACR_1FA).toBe('urn:gatehouse:acr:1fa');
    expect(AMR_MFA).toBe('mfa');
  });

  it('asks for acr_values=urn:gatehouse:acr:mfa, nothing else by default', () => {
    expect(stepUpAuthorizationParams()).toEqual({ acr_values: ACR_MFA });
  });

  it('asks for acr_values=urn:gatehouse:acr:phr (a passkey or security key) when phishing resistance is demanded', () => {
    expect(stepUpAuthorizationParams({ phishingResistant: true })).toEqual({ acr_values: 'urn:gatehouse:acr:phr' });
  });

  it('adds prompt=login and max_age when asked', () => {
    expect(stepUpAuthorizationParams({ promptLogin: true, maxAgeSeconds: 0 })).toEqual({ acr_values: ACR_MFA, prompt: 'login', max_age: '0' });
  });

  it('refuses a negative or fractional max_age', () => {
    expect(() => stepUpAuthorizationParams({ maxAgeSeconds: -1 })).toThrow(RangeError);
    expect(() => stepUpAuthorizationParams({ maxAgeSeconds: 1.5 })).toThrow(RangeError);
  });

  it('builds a full code + PKCE S256 authorization request', () => {
    const url = buildStepUpRequest({
      authorizationEndpoint: 'http://127.0.0.1:3000/auth',
      clientId: 'acme-mdr',
      redirectUri: 'http://127.0.0.1:4000/callback',
      state: 'st',
      nonce: 'no',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      maxAgeSeconds: 300,
    });
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:3000/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'acme-mdr',
      redirect_uri: 'http://127.0.0.1:4000/callback',
      scope: 'openid email profile',
      state: 'st',
      nonce: 'no',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      acr_values: ACR_MFA,
      max_age: '300',
    });
  });
});
