/**
 * Test issuer for the relying-party kit: keys generated per test run, a local JWKS, and helpers to
 * sign ID tokens and logout tokens with jose. Nothing here is shared with the kit's own code.
 */
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload, JWTVerifyGetKey } from 'jose';

export const ISSUER = 'http://127.0.0.1:3000';
export const CLIENT_ID = 'acme-mdr';
export const NONCE = 'n-0S6_WzA2Mj';
/** A fixed clock: 2025-06-01T12:00:00Z. */
export const NOW = new Date('2025-06-01T12:00:00Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

export interface TestSigner {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigner(alg: 'ES256' | 'RS256' = 'ES256', kid = `${alg.toLowerCase()}-key-1`): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export function jwksOf(...signers: TestSigner[]): JWTVerifyGetKey {
  return createLocalJWKSet({ keys: signers.map((s) => s.publicJwk) });
}

export async function sign(
  signer: TestSigner,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...header }).sign(signer.privateKey);
}

/** Claims of a good ID token issued a few seconds before {@link NOW}; override any of them. */
export function idTokenClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: 'acct_7f3a',
    aud: CLIENT_ID,
    iat: NOW_SECONDS - 5,
    exp: NOW_SECONDS + 300,
    auth_time: NOW_SECONDS - 60,
    nonce: NONCE,
    amr: ['pwd', 'otp', 'mfa'],
    acr: 'urn:gatehouse:acr:mfa',
    email: 'dana@acme.test',
    email_verified: true,
    name: 'Dana Ops',
    tenant: { id: 'ten_1', name: 'Acme Partners' },
    ...overrides,
  };
}

/** Claims of a good logout token issued a few seconds before {@link NOW}; override any of them. */
export function logoutTokenClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: NOW_SECONDS - 2,
    exp: NOW_SECONDS + 120,
    jti: 'lt-4c1e9b',
    sub: 'acct_7f3a',
    sid: 'sid-08a1',
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    ...overrides,
  };
}

/** Replaces one character of the signature segment, keeping the token well-formed. */
export function tamperSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const index = Math.floor(signature.length / 2);
  const replaced = signature[index] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, index)}${replaced}${signature.slice(index + 1)}`;
}

/** Replaces the payload while keeping the original signature (a forged claim set). */
export function swapPayload(token: string, payload: JWTPayload): string {
  const [header, , signature] = token.split('.');
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${header}.${encoded}.${signature}`;
}
