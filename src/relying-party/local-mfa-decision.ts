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
 */
import { amrIncludesMfa } from './claims.ts';
import type { ValidatedIdTokenClaims } from './claims.ts';
import { epochSeconds } from './time.ts';

export type SignInPath = 'unified' | 'direct';

export type LocalMfaReason =
  | 'unified_mfa_satisfied'
  | 'unified_no_mfa_local_required'
  | 'unified_mfa_stale_local_required'
  | 'direct_local_required'
  | 'local_disabled';

export interface LocalMfaDecision {
  requireLocalMfa: boolean;
  reason: LocalMfaReason;
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
}

export function decideLocalMfa(input: DecideLocalMfaInput): LocalMfaDecision {
  if (input.path === 'direct') {
    return input.localMfaEnabled
      ? { requireLocalMfa: true, reason: 'direct_local_required' }
      : { requireLocalMfa: false, reason: 'local_disabled' };
  }

  const { claims } = input;
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
