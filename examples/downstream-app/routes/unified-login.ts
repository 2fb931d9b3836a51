/**
 * "Sign in with Gatehouse": authorization code + PKCE + state + nonce (openid-client), ID token
 * validated by the kit, the Gatehouse `sub` mapped to a local user (linked, offered for linking by
 * verified email, or created), then the local-2FA decision (DESIGN.md §7, rows 3–5).
 */
import type { Router } from '@koa/router';
import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import { RelyingPartyError } from '../../../src/relying-party/index.ts';
import type { ValidatedIdTokenClaims } from '../../../src/relying-party/index.ts';
import type { AppContext, AppDeps, AppState } from '../context.ts';
import { AppError } from '../http/errors.ts';
import type { AuthorizationFlow } from '../http/sessions.ts';
import type { GatehouseClient } from '../oidc/gatehouse-client.ts';
import { StoreConflictError } from '../store/types.ts';
import { continueUnifiedSignIn } from '../sign-in.ts';
import { requireGatehouse } from './guards.ts';

const AUTHORIZATION_ERRORS: Record<string, string> = {
  access_denied: 'Sign-in with Gatehouse was cancelled.',
  login_required: 'Gatehouse needs you to sign in again.',
  unmet_authentication_requirements: 'Gatehouse could not complete multi-factor authentication for this sign-in.',
  interaction_required: 'Gatehouse needs you to complete sign-in on its pages.',
};

async function exchange(gatehouse: GatehouseClient, callbackUrl: URL, flow: AuthorizationFlow) {
  try {
    return await gatehouse.finishAuthorization(callbackUrl, flow);
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof AuthorizationResponseError) {
      const message = AUTHORIZATION_ERRORS[error.error] ?? 'Gatehouse did not sign you in.';
      throw new AppError(`gatehouse_${error.error}`, 400, `${message} You can try again.`, error.error_description);
    }
    if (error instanceof RelyingPartyError) {
      throw new AppError('id_token_rejected', 400, 'The sign-in response from Gatehouse could not be verified. Try again.', `${error.code}: ${error.message}`);
    }
    if (error instanceof ResponseBodyError) {
      throw new AppError('token_exchange_failed', 502, 'Gatehouse refused to complete the sign-in. Try again.', `${error.error}: ${error.error_description ?? ''}`);
    }
    throw new AppError('sign_in_failed', 400, 'The sign-in with Gatehouse could not be completed. Try again.', String(error));
  }
}

/** Linked user, a link offer (redirect), or a newly created user. */
async function mapIdentity(ctx: AppContext, deps: AppDeps, claims: ValidatedIdTokenClaims, idToken: string): Promise<void> {
  const linked = await deps.store.findUserByGatehouseSub(claims.sub);
  if (linked) return continueUnifiedSignIn(ctx, deps, linked, claims, idToken);

  const email = claims.email;
  const sameEmail = email ? await deps.store.findUserByEmail(email) : undefined;
  if (sameEmail) {
    if (sameEmail.gatehouseSub !== null) {
      throw new AppError('email_linked_elsewhere', 409, `The Acme MDR account for ${sameEmail.email} is already linked to another Gatehouse account. Sign in with that Gatehouse account, or ask your administrator.`);
    }
    if (claims.email_verified !== true) {
      throw new AppError('email_unverified', 409, 'An Acme MDR account uses this email address, but Gatehouse has not verified that it is yours, so the two cannot be linked. Verify your email in Gatehouse, or sign in with your Acme MDR password.');
    }
    ctx.state.session.pendingLink = { localUserId: sameEmail.id, claims, idToken, failures: 0 };
    ctx.redirect('/link');
    return;
  }

  try {
    const created = await deps.store.createUser({
      email: email ?? `${claims.sub}@users.gatehouse.invalid`,
      name: claims.name ?? email ?? 'Gatehouse user',
      passwordHash: null,
      gatehouseSub: claims.sub,
    });
    deps.logger.info({ userId: created.id, requestId: ctx.state.requestId }, 'local user created from unified login');
    return continueUnifiedSignIn(ctx, deps, created, claims, idToken);
  } catch (error) {
    if (error instanceof StoreConflictError) {
      throw new AppError('account_conflict', 409, 'Your Acme MDR account was changed while you signed in. Sign in again.', error.message);
    }
    throw error;
  }
}

export function unifiedLoginRoutes(router: Router<AppState>, deps: AppDeps, callbackPath: string): void {
  router.post('/login/gatehouse', async (ctx) => {
    const gatehouse = requireGatehouse(deps);
    const { flow, url } = await gatehouse.startAuthorization({ stepUp: false, maxAgeSeconds: null });
    Object.assign(ctx.state.session, { flow, pending: null, pendingLink: null });
    ctx.redirect(url.href);
  });

  router.post('/login/gatehouse/step-up', async (ctx) => {
    const gatehouse = requireGatehouse(deps);
    const { flow, url } = await gatehouse.startAuthorization({ stepUp: true, maxAgeSeconds: deps.maxAuthAgeSeconds ?? null });
    Object.assign(ctx.state.session, { flow, pending: null, pendingLink: null });
    ctx.redirect(url.href);
  });

  router.get(callbackPath, async (ctx) => {
    const gatehouse = requireGatehouse(deps);
    const flow = ctx.state.session.flow;
    ctx.state.session.flow = null;
    if (!flow) {
      throw new AppError('flow_missing', 400, 'This sign-in response expired or was already used. Start the sign-in again.');
    }
    const callbackUrl = new URL(ctx.originalUrl, deps.publicUrl);
    const { claims, idToken } = await exchange(gatehouse, callbackUrl, flow);
    await mapIdentity(ctx, deps, claims, idToken);
  });
}
