/**
 * ID token validation per OpenID Connect Core 1.0 §3.1.3.7 (ASVS 6.8.4): the token is trusted only
 * after signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` and, when the RP sets a max age,
 * `auth_time` checks. Every failure is a {@link RelyingPartyError} with a stable code.
 */
import type { JWTPayload } from 'jose';
import { checkAuthorizedParty, checkIssuedAt } from './claim-checks.ts';
import type { IdTokenClaims, ValidatedIdTokenClaims } from './claims.ts';
import { RelyingPartyError } from './errors.ts';
import { epochSeconds } from './time.ts';
import { verifySignedJwt } from './verify-jwt.ts';
import type { JwksGetter } from './verify-jwt.ts';

export interface ValidateIdTokenOptions {
  /** Expected `iss`: the issuer identifier exactly as in discovery, e.g. `http://127.0.0.1:3000`. */
  issuer: string;
  /** This RP's client_id: must be in `aud`, and equal `azp` when present. */
  clientId: string;
  /** jose key resolver over the issuer's JWKS (`createRemoteJWKSet(jwks_uri)`). */
  jwks: JwksGetter;
  /** The nonce this RP sent in the authorization request (kept server-side or in a signed cookie). */
  nonce: string;
  /** When set, `auth_time` is required and must be no older than this many seconds. */
  maxAuthAgeSeconds?: number | undefined;
  /** Allowed clock skew for `exp`, `nbf`, `iat` and `auth_time`; default 0. */
  clockToleranceSeconds?: number | undefined;
  /** Accepted `alg` values; default ES256 and RS256. */
  algorithms?: readonly string[] | undefined;
  /** Clock for tests; default now. */
  now?: Date | undefined;
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat'] as const;

export async function validateIdToken(idToken: string, options: ValidateIdTokenOptions): Promise<ValidatedIdTokenClaims> {
  const { payload } = await verifySignedJwt(idToken, {
    issuer: options.issuer,
    audience: options.clientId,
    jwks: options.jwks,
    algorithms: options.algorithms,
    clockToleranceSeconds: options.clockToleranceSeconds,
    now: options.now,
    requiredClaims: REQUIRED_CLAIMS,
  });
  const tolerance = options.clockToleranceSeconds ?? 0;
  const now = epochSeconds(options.now);

  checkSubject(payload);
  checkIssuedAt(payload, now, tolerance);
  checkAuthorizedParty(payload, options.clientId);
  checkNonce(payload, options.nonce);
  checkAuthTime(payload, now, tolerance, options.maxAuthAgeSeconds);
  checkClaimShapes(payload);

  return payload as ValidatedIdTokenClaims;
}

function checkSubject(payload: JWTPayload): void {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new RelyingPartyError('invalid_claim', '"sub" must be a non-empty string');
  }
}

function checkNonce(payload: JWTPayload, expected: string): void {
  if (typeof expected !== 'string' || expected.length === 0) {
    throw new RelyingPartyError('nonce_mismatch', 'no expected nonce was supplied');
  }
  if (payload.nonce !== expected) {
    throw new RelyingPartyError('nonce_mismatch', '"nonce" does not match the authorization request');
  }
}

function checkAuthTime(payload: JWTPayload, now: number, tolerance: number, maxAge: number | undefined): void {
  const authTime = payload.auth_time;
  if (authTime !== undefined && (typeof authTime !== 'number' || !Number.isFinite(authTime))) {
    throw new RelyingPartyError('invalid_claim', '"auth_time" must be a number');
  }
  if (maxAge === undefined) return;
  if (authTime === undefined) {
    throw new RelyingPartyError('auth_time_missing', '"auth_time" is required when a max age is set');
  }
  if (now - authTime > maxAge + tolerance) {
    throw new RelyingPartyError('auth_time_stale', 'the user authenticated longer ago than the max age allows');
  }
}

function checkClaimShapes(payload: JWTPayload): void {
  const claims = payload as Partial<Record<keyof IdTokenClaims, unknown>>;
  const stringClaims = ['acr', 'sid', 'email', 'name', 'nonce', 'azp'] as const;
  for (const name of stringClaims) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') {
      throw new RelyingPartyError('invalid_claim', `"${name}" must be a string`);
    }
  }
  if (claims.amr !== undefined && !(Array.isArray(claims.amr) && claims.amr.every((v) => typeof v === 'string'))) {
    throw new RelyingPartyError('invalid_claim', '"amr" must be an array of strings');
  }
  if (claims.email_verified !== undefined && typeof claims.email_verified !== 'boolean') {
    throw new RelyingPartyError('invalid_claim', '"email_verified" must be a boolean');
  }
  if (claims.tenant !== undefined && !isTenant(claims.tenant)) {
    throw new RelyingPartyError('invalid_claim', '"tenant" must be an object with string "id" and "name"');
  }
}

function isTenant(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const tenant = value as Record<string, unknown>;
  return typeof tenant.id === 'string' && typeof tenant.name === 'string';
}
