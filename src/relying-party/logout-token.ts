/**
 * Logout token validation per OpenID Connect Back-Channel Logout 1.0 §2.6: signature and `iss`/`aud`/
 * `iat`/`exp` as for ID tokens, an `events` claim with the back-channel-logout member, `sub` and/or
 * `sid`, a `jti`, and no `nonce` (so an ID token can never pass as a logout token).
 *
 * A logout token is a bearer instruction ("end these sessions"). `exp` is optional in the spec, so a
 * captured token without one would be valid forever, and one with a far `exp` could be replayed to end
 * the user's later sessions. Every token is therefore held to a maximum age counted from `iat`
 * (default two minutes, as long as Gatehouse gives a logout token), and its `jti` is remembered for
 * exactly that long, so within its lifetime it is accepted once.
 */
import { checkAuthorizedParty, checkIssuedAt } from './claim-checks.ts';
import { BACKCHANNEL_LOGOUT_EVENT } from './constants.ts';
import { RelyingPartyError } from './errors.ts';
import { epochSeconds } from './time.ts';
import { verifySignedJwt } from './verify-jwt.ts';
import type { JwksGetter } from './verify-jwt.ts';
import { defaultReplayStore, type ReplayStore } from './replay-store.ts';

/** How long after `iat` a logout token is accepted when the caller does not say (Gatehouse issues them for 120 s). */
export const DEFAULT_LOGOUT_TOKEN_MAX_AGE_SECONDS = 120;

export interface ValidateLogoutTokenOptions {
  issuer: string;
  clientId: string;
  jwks: JwksGetter;
  /** Accepted `alg` values; default ES256 and RS256. */
  algorithms?: readonly string[] | undefined;
  /** Allowed clock skew for `exp` and `iat`; default 0. */
  clockToleranceSeconds?: number | undefined;
  /**
   * Reject tokens issued longer ago than this, whether or not they carry `exp` (which is checked as
   * well); default {@link DEFAULT_LOGOUT_TOKEN_MAX_AGE_SECONDS}. It is also how long a `jti` is remembered.
   */
  maxTokenAgeSeconds?: number | undefined;
  /**
   * Where accepted `jti`s are remembered to refuse a second use; default one in-memory store per
   * process. Pass a shared store when the RP runs several instances.
   */
  replayStore?: ReplayStore | undefined;
  /** Clock for tests; default now. */
  now?: Date | undefined;
}

export interface LogoutTokenClaims {
  /** End every session of this subject (when `sid` is absent) … */
  sub?: string;
  /** … or the session with this Gatehouse session id. */
  sid?: string;
  /** Unique token id: an RP may remember it to refuse replays (§2.6 step 8). */
  jti: string;
  iat: number;
}

/** Header `typ` values accepted: explicit typing (`logout+jwt`), or the generic/absent type of older OPs. */
const ACCEPTED_TYPES = new Set(['logout+jwt', 'jwt']);

export async function validateLogoutToken(token: string, options: ValidateLogoutTokenOptions): Promise<LogoutTokenClaims> {
  const { payload, protectedHeader } = await verifySignedJwt(token, {
    issuer: options.issuer,
    audience: options.clientId,
    jwks: options.jwks,
    algorithms: options.algorithms,
    clockToleranceSeconds: options.clockToleranceSeconds,
    now: options.now,
    requiredClaims: ['iss', 'aud', 'iat'],
  });
  const tolerance = options.clockToleranceSeconds ?? 0;
  const now = epochSeconds(options.now);

  const maxAge = options.maxTokenAgeSeconds ?? DEFAULT_LOGOUT_TOKEN_MAX_AGE_SECONDS;
  if (!Number.isFinite(maxAge) || maxAge < 0) throw new RangeError('maxTokenAgeSeconds must be a non-negative number');

  checkType(protectedHeader.typ);
  checkIssuedAt(payload, now, tolerance);
  const iat = payload.iat as number;
  if (now - iat > maxAge + tolerance) {
    throw new RelyingPartyError('expired', 'logout token was issued too long ago');
  }
  checkAuthorizedParty(payload, options.clientId);
  checkEvents(payload.events);
  if (payload.nonce !== undefined) {
    throw new RelyingPartyError('nonce_present', 'a logout token must not contain "nonce"');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) {
    throw new RelyingPartyError('missing_claim', 'missing required "jti" claim');
  }
  const sub = optionalString(payload.sub, 'sub');
  const sid = optionalString(payload.sid, 'sid');
  if (sub === undefined && sid === undefined) {
    throw new RelyingPartyError('missing_sub_and_sid', 'a logout token must contain "sub", "sid" or both');
  }
  // Only a token that passed every other check spends its jti, so a forged or broken token cannot
  // block the real one. It stays remembered until it would be refused as too old (or expired) anyway.
  const acceptableUntil = Math.min(iat + maxAge, typeof payload.exp === 'number' ? payload.exp : Infinity) + tolerance;
  const store = options.replayStore ?? defaultReplayStore;
  if (!(await store.firstUse(JSON.stringify([payload.iss, options.clientId, payload.jti]), acceptableUntil))) {
    throw new RelyingPartyError('replayed', 'this logout token was used already');
  }
  return {
    ...(sub !== undefined ? { sub } : {}),
    ...(sid !== undefined ? { sid } : {}),
    jti: payload.jti,
    iat,
  };
}

function checkType(typ: string | undefined): void {
  if (typ === undefined) return;
  const normalized = typ.toLowerCase().replace(/^application\//, '');
  if (!ACCEPTED_TYPES.has(normalized)) {
    throw new RelyingPartyError('invalid_typ', `unexpected "typ" header for a logout token: ${typ}`);
  }
}

function checkEvents(events: unknown): void {
  if (!isPlainObject(events) || !Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT) || !isPlainObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new RelyingPartyError('missing_events', `"events" must contain the member ${BACKCHANNEL_LOGOUT_EVENT} with an object value`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new RelyingPartyError('invalid_claim', `"${name}" must be a non-empty string`);
  }
  return value;
}
