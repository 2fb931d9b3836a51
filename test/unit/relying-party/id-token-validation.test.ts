/**
 * ID token validation (OIDC Core §3.1.3.7, ASVS 6.8.4): the RP trusts `amr`/`acr` only after
 * signature, iss, aud, azp, exp, iat, nonce and auth_time checks.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { RelyingPartyError, validateIdToken } from '../../../src/relying-party/index.ts';
import type { RelyingPartyErrorCode, ValidateIdTokenOptions } from '../../../src/relying-party/index.ts';
import {
  CLIENT_ID, ISSUER, NONCE, NOW, NOW_SECONDS,
  createSigner, idTokenClaims, jwksOf, sign, swapPayload, tamperSignature,
} from './token-factory.ts';
import type { TestSigner } from './token-factory.ts';

let signer: TestSigner;
let rsaSigner: TestSigner;
let jwks: JWTVerifyGetKey;

beforeAll(async () => {
  signer = await createSigner('ES256');
  rsaSigner = await createSigner('RS256');
  jwks = jwksOf(signer, rsaSigner);
});

function options(overrides: Partial<ValidateIdTokenOptions> = {}): ValidateIdTokenOptions {
  return { issuer: ISSUER, clientId: CLIENT_ID, jwks, nonce: NONCE, now: NOW, ...overrides };
}

async function expectCode(token: string, code: RelyingPartyErrorCode, overrides: Partial<ValidateIdTokenOptions> = {}): Promise<void> {
  const outcome = await validateIdToken(token, options(overrides)).then(
    () => 'accepted',
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(RelyingPartyError);
  expect((outcome as RelyingPartyError).code).toBe(code);
}

async function token(overrides: JWTPayload = {}): Promise<string> {
  return sign(signer, idTokenClaims(overrides));
}

describe('validateIdToken accepts a good token', () => {
  it('returns the claims of an ES256 token with amr/acr/tenant', async () => {
    const claims = await validateIdToken(await token(), options());
    expect(claims.sub).toBe('acct_7f3a');
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe('urn:gatehouse:acr:mfa');
    expect(claims.tenant).toEqual({ id: 'ten_1', name: 'Acme Partners' });
  });

  it('accepts RS256 (a per-client setting in Gatehouse)', async () => {
    const claims = await validateIdToken(await sign(rsaSigner, idTokenClaims()), options());
    expect(claims.sub).toBe('acct_7f3a');
  });

  it('accepts several audiences when azp is this client', async () => {
    const claims = await validateIdToken(await token({ aud: [CLIENT_ID, 'other-api'], azp: CLIENT_ID }), options());
    expect(claims.azp).toBe(CLIENT_ID);
  });

  it('accepts auth_time within the max age', async () => {
    await expect(validateIdToken(await token({ auth_time: NOW_SECONDS - 299 }), options({ maxAuthAgeSeconds: 300 }))).resolves.toBeDefined();
  });

  it('accepts a token expired by less than the clock tolerance', async () => {
    await expect(validateIdToken(await token({ exp: NOW_SECONDS - 3 }), options({ clockToleranceSeconds: 5 }))).resolves.toBeDefined();
  });
});

describe('validateIdToken rejects (threat → code)', () => {
  it('tampered signature → invalid_signature', async () => {
    await expectCode(tamperSignature(await token()), 'invalid_signature');
  });

  it('claims swapped under a genuine signature (amr upgraded to mfa) → invalid_signature', async () => {
    const genuine = await token({ amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
    await expectCode(swapPayload(genuine, idTokenClaims()), 'invalid_signature');
  });

  it('signed by a key the issuer does not publish (same kid) → invalid_signature', async () => {
    const attacker = await createSigner('ES256', signer.kid);
    await expectCode(await sign(attacker, idTokenClaims()), 'invalid_signature');
  });

  it('unknown kid → invalid_signature', async () => {
    const stranger = await createSigner('ES256', 'not-published');
    await expectCode(await sign(stranger, idTokenClaims()), 'invalid_signature');
  });

  it('alg "none" (unsecured JWT) → algorithm_not_allowed', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(idTokenClaims())).toString('base64url');
    await expectCode(`${header}.${body}.`, 'algorithm_not_allowed');
  });

  it('an algorithm outside the allowed list → algorithm_not_allowed', async () => {
    await expectCode(await sign(rsaSigner, idTokenClaims()), 'algorithm_not_allowed', { algorithms: ['ES256'] });
  });

  it('expired → expired', async () => {
    await expectCode(await token({ iat: NOW_SECONDS - 700, exp: NOW_SECONDS - 100 }), 'expired');
  });

  it('wrong audience → audience_mismatch', async () => {
    await expectCode(await token({ aud: 'some-other-app' }), 'audience_mismatch');
  });

  it('wrong issuer → issuer_mismatch', async () => {
    await expectCode(await token({ iss: 'http://127.0.0.1:3001' }), 'issuer_mismatch');
  });

  it('wrong nonce (replayed or injected token) → nonce_mismatch', async () => {
    await expectCode(await token({ nonce: 'someone-elses-nonce' }), 'nonce_mismatch');
  });

  it('missing nonce → nonce_mismatch', async () => {
    await expectCode(await token({ nonce: undefined }), 'nonce_mismatch');
  });

  it('an empty expected nonce never matches → nonce_mismatch', async () => {
    await expectCode(await token({ nonce: '' }), 'nonce_mismatch', { nonce: '' });
  });

  it('auth_time older than the max age → auth_time_stale', async () => {
    await expectCode(await token({ auth_time: NOW_SECONDS - 301 }), 'auth_time_stale', { maxAuthAgeSeconds: 300 });
  });

  it('no auth_time while a max age is set → auth_time_missing', async () => {
    await expectCode(await token({ auth_time: undefined }), 'auth_time_missing', { maxAuthAgeSeconds: 300 });
  });

  it('several audiences without azp → azp_mismatch', async () => {
    await expectCode(await token({ aud: [CLIENT_ID, 'other-api'] }), 'azp_mismatch');
  });

  it('azp naming another client → azp_mismatch', async () => {
    await expectCode(await token({ aud: [CLIENT_ID, 'other-api'], azp: 'other-api' }), 'azp_mismatch');
    await expectCode(await token({ azp: 'other-api' }), 'azp_mismatch');
  });

  it('iat in the future → invalid_iat', async () => {
    await expectCode(await token({ iat: NOW_SECONDS + 120 }), 'invalid_iat');
  });

  it('missing sub → missing_claim', async () => {
    await expectCode(await token({ sub: undefined }), 'missing_claim');
  });

  it('amr that is not an array of strings → invalid_claim', async () => {
    await expectCode(await token({ amr: 'mfa' }), 'invalid_claim');
  });

  it('not a JWS at all → malformed', async () => {
    await expectCode('not-a-token', 'malformed');
  });

  it('a key set that cannot be fetched → jwks_unavailable', async () => {
    const failingJwks: JWTVerifyGetKey = async () => {
      throw new TypeError('fetch failed');
    };
    await expectCode(await token(), 'jwks_unavailable', { jwks: failingJwks });
  });
});
