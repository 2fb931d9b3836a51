// GET /federation/callback: where every upstream identity provider sends the browser back. The state
// names the login interaction; the interaction continues at its own page (under /interaction/:uid,
// where its cookie is sent) with the upstream sign-in as first factor, and Gatehouse's MFA from there.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { FederatedSignIn } from '../domain/federation/signin.ts';
import { FEDERATION_CALLBACK_PATH } from '../domain/federation/signin.ts';
import type { InteractionStates } from '../interactions/state.ts';
import { requestInfo } from '../interactions/turn.ts';

export function createFederationRouter(deps: { federation: FederatedSignIn; states: InteractionStates; issuer: string }): Router {
  const router = new Router();
  router.get(FEDERATION_CALLBACK_PATH, async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    // the callback URL as the upstream built it: the issuer's origin with this request's query
    const url = new URL(`${deps.issuer}${FEDERATION_CALLBACK_PATH}${ctx.querystring ? `?${ctx.querystring}` : ''}`);
    const result = await deps.federation.complete(url, requestInfo(ctx));
    // several accounts: the interaction's account-choice step lists them
    await deps.states.save(result.uid, 'candidates' in result ? { candidates: result.candidates, factors: result.factors } : { accountId: result.accountId, factors: result.factors });
    ctx.status = 303;
    ctx.redirect(`/interaction/${result.uid}`);
  });
  return router;
}
