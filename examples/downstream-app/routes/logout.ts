/**
 * Signing out. RP-initiated: end the local session, then send the browser to Gatehouse's
 * end_session_endpoint with id_token_hint and post_logout_redirect_uri. Back-channel
 * (OpenID Back-Channel Logout 1.0): Gatehouse posts a logout_token; the kit validates it (including
 * its age and a replayed `jti`) and every session of that `sid` (or, without `sid`, of that `sub`)
 * ends — including sign-ins still waiting for the local second factor or for account linking.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { isRelyingPartyError } from '../../../src/relying-party/index.ts';
import type { LogoutTokenClaims } from '../../../src/relying-party/index.ts';
import type { AppDeps, AppState } from '../context.ts';
import type { Session } from '../http/sessions.ts';

function gatehouseIdentity(session: Session): { sub: string; sid: string | null } | undefined {
  const signIn = session.user?.evidence.gatehouse ?? session.pending?.evidence.gatehouse;
  if (signIn) return { sub: signIn.sub, sid: signIn.sid };
  const claims = session.pendingLink?.claims;
  return claims ? { sub: claims.sub, sid: claims.sid ?? null } : undefined;
}

export function sessionMatchesLogout(session: Session, logout: LogoutTokenClaims): boolean {
  const identity = gatehouseIdentity(session);
  if (!identity) return false;
  if (logout.sid !== undefined) {
    return identity.sid === logout.sid && (logout.sub === undefined || identity.sub === logout.sub);
  }
  return identity.sub === logout.sub;
}

function refuse(ctx: Context, description: string): void {
  ctx.status = 400;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'invalid_request', error_description: description };
}

/** Mounted before the session and CSRF middleware: Gatehouse calls it server to server. */
export function backchannelLogoutRoutes(router: Router, deps: AppDeps): void {
  router.post('/backchannel-logout', async (ctx) => {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const token = body?.logout_token;
    if (!deps.gatehouse) return refuse(ctx, 'unified login is not configured');
    if (typeof token !== 'string' || token.length === 0) return refuse(ctx, 'logout_token is required');
    let logout: LogoutTokenClaims;
    try {
      logout = await deps.gatehouse.validateLogoutToken(token);
    } catch (error) {
      const code = isRelyingPartyError(error) ? error.code : 'unavailable';
      deps.logger.warn({ code }, 'logout token refused');
      return refuse(ctx, `logout_token rejected (${code})`);
    }
    const ended = deps.sessions.destroyWhere((session) => sessionMatchesLogout(session, logout));
    deps.logger.info({ ended, bySid: logout.sid !== undefined }, 'back-channel logout');
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = '';
  });
}

export function logoutRoutes(router: Router<AppState>, deps: AppDeps): void {
  router.post('/logout', async (ctx) => {
    const signedIn = ctx.state.session.user;
    deps.sessions.destroy(ctx.state.session.id);
    const idToken = signedIn?.evidence.gatehouse?.idToken;
    if (idToken && deps.gatehouse) {
      const url = await deps.gatehouse.endSessionUrl(idToken).catch(() => undefined);
      if (url) return ctx.redirect(url.href);
    }
    ctx.redirect('/signed-out');
  });

  router.get('/signed-out', async (ctx) => {
    await deps.pages.render(ctx, 'signed-out', { title: 'Signed out' });
  });
}
