/**
 * The RP's local-2FA decision (DESIGN.md §7): a pure function, no I/O. It tells an RP that has its
 * own 2FA setting whether to ask for its own second factor on this sign-in.
 *
 * | path    | local 2FA | ID token                                      | result | reason                            |
 * |---------|-----------|-----------------------------------------------|--------|-----------------------------------|
 * | direct  | on        | –                                             | ask    | direct_local_required             |
 * | direct  | off       | –                                             | skip   | local_disabled                    |
 * | unified | on or off | `amr` has `mfa`, `auth_time` within max age   | skip   | unified_mfa_satisfied             |
 * | unified | on        | `amr` has `mfa`, `auth_time` older / missing  | ask    | unified_mfa_stale_local_required  |
 * | unified | on        | `amr` without `mfa`                           | ask    | unified_no_mfa_local_required     |
 * | unified | off       | `amr` without `mfa` (or stale `mfa`)          | skip   | local_disabled                    |
 *
 * "ask" may also be answered by re-requesting the sign-in with `acr_values=urn:gatehouse:acr:mfa`
 * (see `buildStepUpRequest`) instead of the RP's own TOTP.
 *
 * With `requirePhishingResistant`, only phishing-resistant MFA (`amr` has `mfa` and `hwk` or `swk`: a
 * passkey or security key) bypasses local 2FA on the unified path. Any other unified sign-in gets
 * `unified_not_phishing_resistant` with `stepUpAcr` set: re-request the sign-in with
 * `acr_values=urn:gatehouse:acr:phr` (`stepUpAuthorizationParams({ phishingResistant: true })`); the
 * RP's own TOTP is no answer, being no more phishing resistant than Gatehouse's. `requireLocalMfa` is
 * true in that case too, so code that reads only it still does not let the sign-in through unchecked.
 */
import { amrIncludesMfa, amrIsPhishingResistant } from './claims.ts';
import { ACR_PHR } from './constants.ts';
import type { ValidatedIdTokenClaims } from './claims.ts';
import { epochSeconds } from './time.ts';

export type SignInPath = 'unified' | 'direct';

export type LocalMfaReason =
  | 'unified_mfa_satisfied'
  | 'unified_no_mfa_local_required'
  | 'unified_mfa_stale_local_required'
  | 'direct_local_required'
  | 'local_disabled'
  | 'unified_not_phishing_resistant';

export interface LocalMfaDecision {
  requireLocalMfa: boolean;
  reason: LocalMfaReason;
  /** Set when the sign-in must be requested again with this `acr` (phishing resistance demanded). */
  stepUpAcr?: typeof ACR_PHR;
}

export interface DecideLocalMfaInput {
  path: SignInPath;
  /** The RP's local 2FA setting for this user (org-wide switch, or the user's own enrolment). */
  localMfaEnabled: boolean;
  /**
   * The claims returned by `validateIdToken` — never a decoded, unverified payload: `amr` is only
   * meaningful once signature, `iss`, `aud`, `exp` and `nonce` were checked. Required for the
   * unified path; when missing there the token is treated as carrying no `mfa` (fail closed).
   * Ignored for the direct path.
   */
  claims?: ValidatedIdTokenClaims | undefined;
  /** The RP's max authentication age: an `mfa` older than this does not bypass local 2FA. */
  maxAuthAgeSeconds?: number | undefined;
  /** Clock for tests; default now. */
  now?: Date | undefined;
  /** Unified sign-ins must be phishing-resistant MFA (a passkey or security key at Gatehouse). */
  requirePhishingResistant?: boolean | undefined;
}

export function decideLocalMfa(input: DecideLocalMfaInput): LocalMfaDecision {
  if (input.path === 'direct') {
    return input.localMfaEnabled
      ? { requireLocalMfa: true, reason: 'direct_local_required' }
      : { requireLocalMfa: false, reason: 'local_disabled' };
  }

  const { claims } = input;
  if (input.requirePhishingResistant === true && !(claims !== undefined && amrIsPhishingResistant(claims) && isFresh(claims, input.maxAuthAgeSeconds, input.now))) {
    return { requireLocalMfa: true, reason: 'unified_not_phishing_resistant', stepUpAcr: ACR_PHR };
  }
  if (claims !== undefined && amrIncludesMfa(claims)) {
    if (isFresh(claims, input.maxAuthAgeSeconds, input.now)) return { requireLocalMfa: false, reason: 'unified_mfa_satisfied' };
    return input.localMfaEnabled
      ? { requireLocalMfa: true, reason: 'unified_mfa_stale_local_required' }
      : { requireLocalMfa: false, reason: 'local_disabled' };
  }
  return input.localMfaEnabled
    ? { requireLocalMfa: true, reason: 'unified_no_mfa_local_required' }
    : { requireLocalMfa: false, reason: 'local_disabled' };
}

/** Without a max age any `auth_time` is fresh; with one, a missing `auth_time` is not. */
function isFresh(claims: ValidatedIdTokenClaims, maxAuthAgeSeconds: number | undefined, now: Date | undefined): boolean {
  if (maxAuthAgeSeconds === undefined) return true;
  if (typeof claims.auth_time !== 'number') return false;
  return epochSeconds(now) - claims.auth_time <= maxAuthAgeSeconds;
}
