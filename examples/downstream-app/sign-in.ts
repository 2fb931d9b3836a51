/**
 * The steps every sign-in shares, whichever the path: apply the local-2FA decision of the kit
 * (DESIGN.md §7), hold a pending sign-in while Acme MDR's own second factor is asked, and finally
 * start a fresh signed-in session.
 */
import { decideLocalMfa } from '../../src/relying-party/index.ts';
import type { LocalMfaDecision, ValidatedIdTokenClaims } from '../../src/relying-party/index.ts';
import type { LocalFactor } from './auth/second-factor.ts';
import type { AppContext, AppDeps } from './context.ts';
import { renewSession } from './http/sessions.ts';
import type { SignInEvidence } from './http/sessions.ts';
import type { LocalUser, OrgSettings } from './store/types.ts';

/** The app's local 2FA setting for this user: the org-wide switch, or the user's own enrolment. */
export function localMfaEnabledFor(user: LocalUser, settings: OrgSettings): boolean {
  return settings.requireTwoFactor || user.totp !== null;
}

export function directEvidence(decision: LocalMfaDecision): SignInEvidence {
  return { path: 'direct', amr: ['pwd'], acr: null, reason: decision.reason, gatehouse: null };
}

export function unifiedEvidence(claims: ValidatedIdTokenClaims, idToken: string, decision: LocalMfaDecision): SignInEvidence {
  return {
    path: 'unified',
    amr: claims.amr ?? [],
    acr: claims.acr ?? null,
    reason: decision.reason,
    gatehouse: {
      sub: claims.sub,
      sid: claims.sid ?? null,
      idToken,
      authTime: claims.auth_time ?? null,
      tenant: claims.tenant ?? null,
    },
  };
}

/** Unified login: the decision from the validated ID token, then on to the second factor or in. */
export async function continueUnifiedSignIn(
  ctx: AppContext,
  deps: AppDeps,
  user: LocalUser,
  claims: ValidatedIdTokenClaims,
  idToken: string,
): Promise<void> {
  const settings = await deps.store.getSettings();
  const decision = decideLocalMfa({
    path: 'unified',
    localMfaEnabled: localMfaEnabledFor(user, settings),
    claims,
    maxAuthAgeSeconds: deps.maxAuthAgeSeconds,
    now: deps.clock(),
  });
  deps.logger.info({ path: 'unified', reason: decision.reason, requestId: ctx.state.requestId }, 'local 2FA decision');
  continueSignIn(ctx, deps, user, unifiedEvidence(claims, idToken, decision), decision.requireLocalMfa);
}

export function continueSignIn(ctx: AppContext, deps: AppDeps, user: LocalUser, evidence: SignInEvidence, requireLocalMfa: boolean): void {
  if (!requireLocalMfa) {
    completeSignIn(ctx, deps, user.id, evidence, null);
    ctx.redirect('/');
    return;
  }
  ctx.state.session.pending = { userId: user.id, evidence, failures: 0, enrolSecret: null };
  ctx.state.session.pendingLink = null;
  ctx.redirect('/login/two-factor');
}

export function completeSignIn(ctx: AppContext, deps: AppDeps, userId: string, evidence: SignInEvidence, localFactor: LocalFactor | null): void {
  renewSession(ctx, deps.sessions, deps.cookie, (fresh) => {
    fresh.user = { userId, evidence, localFactor, signedInAt: deps.clock().toISOString() };
  });
  deps.logger.info({ path: evidence.path, reason: evidence.reason, localFactor, requestId: ctx.state.requestId }, 'signed in');
}
