// Step `password`: email + password (DESIGN.md §5 step 1). Unknown email and wrong password answer the
// same; the accounts the password opens are narrowed to those the client may receive. Or, instead of
// both, a passkey (a discoverable credential with user verification): its user handle names the one
// account, so no password and no account choice follow.
import { chooseAccount, clientMayReceive } from '../../domain/account-choice.ts';
import { badRequest } from '../../domain/errors.ts';
import type { InteractionState } from '../steps.ts';
import { advance, field, render, type Turn } from '../turn.ts';
import type { Page } from './page.ts';
import { answerOptions, ceremonyBinding, postedAssertion, refuseAssertion } from './passkey-ceremony.ts';

const loginHintEmail = (turn: Turn) => {
  const hint = turn.interaction.params.login_hint;
  return typeof hint === 'string' && hint.includes('@') ? hint : '';
};

async function showPassword(turn: Turn, locals: { email?: string; error?: string } = {}) {
  const idps = await turn.deps.federation.buttons(turn.client.tenantId);
  return render(turn, 'interactions/login', { title: 'Sign in', email: locals.email ?? loginHintEmail(turn), error: locals.error, idps });
}

/** Sends the browser to the upstream identity provider; its callback comes back to this interaction. */
async function toUpstream(turn: Turn, slug: string, loginHint?: string) {
  const url = await turn.deps.federation.start({ slug, uid: turn.uid, clientTenantId: turn.client.tenantId, loginHint });
  turn.ctx.status = 303;
  turn.ctx.redirect(url.href);
}

export const passwordPage = {
  step: 'password',
  show: (turn) => showPassword(turn),
  actions: {
    async 'passkey-options'(turn) {
      answerOptions(turn, await turn.deps.webauthn.startPasswordless(ceremonyBinding(turn)));
    },

    async passkey(turn) {
      const { ctx, deps } = turn;
      const { flowId, response } = postedAssertion(turn);
      const outcome = await deps.webauthn.verifyPasskey(ceremonyBinding(turn), flowId, response, turn.request);
      if (!outcome.ok) return showPassword(turn, { error: refuseAssertion(turn, outcome) });
      const account = await deps.accounts.findById(outcome.accountId);
      if (!account || account.status !== 'active' || !clientMayReceive(turn.client.tenantId, account.tenant.id)) {
        // as for a password that opens no account this application may receive
        deps.onSignIn?.('bad_credentials');
        ctx.status = 403;
        return showPassword(turn, { error: `The account of this passkey cannot sign in to ${turn.client.name}. Sign in with another account.` });
      }
      deps.onSignIn?.('passkey_verified');
      await deps.events.emit({
        action: 'auth.passkey.succeeded',
        actorAccountId: account.id,
        tenantId: account.tenant.id,
        target: account.id,
        ...turn.request,
        detail: { authenticator: outcome.authenticatorId },
      });
      return advance(turn, { accountId: account.id, factors: [outcome.factor] });
    },

    async login(turn) {
      const { ctx, deps } = turn;
      const email = field(ctx, 'email').trim();
      const password = field(ctx, 'password');
      if (email && !password) {
        // email first: an address of a domain that signs in through an identity provider goes there
        const routed = await deps.federation.routeEmail(email, turn.client.tenantId);
        if (routed) return toUpstream(turn, routed.slug, email);
      }
      if (!email || !password) {
        ctx.status = 400;
        return showPassword(turn, { email, error: 'Enter your email and password.' });
      }
      const outcome = await deps.authenticate(email, password, turn.request);
      if (!outcome.ok) {
        deps.onSignIn?.(outcome.reason);
        ctx.status = outcome.reason === 'rate_limited' ? 429 : 401;
        if (outcome.reason === 'rate_limited') ctx.set('Retry-After', String(outcome.retryAfterSeconds));
        const error =
          outcome.reason === 'rate_limited'
            ? `Too many sign-in attempts. Try again in ${Math.ceil(outcome.retryAfterSeconds / 60)} minutes.`
            : 'Incorrect email or password.';
        return showPassword(turn, { email, error });
      }
      const hint = turn.interaction.params.login_hint;
      const choice = chooseAccount({ candidates: outcome.candidates, loginHint: typeof hint === 'string' ? hint : undefined, clientTenantId: turn.client.tenantId });
      if (choice.kind === 'none') {
        // The password is right, but for no account this application may receive: the same answer as a
        // wrong password, so the page does not reveal accounts in other tenants.
        deps.onSignIn?.('bad_credentials');
        ctx.status = 401;
        return showPassword(turn, { email, error: 'Incorrect email or password.' });
      }
      const state: InteractionState =
        choice.kind === 'single' ? { accountId: choice.account.id, factors: ['pwd'] } : { candidates: choice.accounts.map((a) => a.id), factors: ['pwd'] };
      await deps.events.emit({
        action: 'auth.password.succeeded',
        ...turn.request,
        ...(state.accountId ? { actorAccountId: state.accountId, target: state.accountId } : {}),
        detail: { accounts: outcome.candidates.length },
      });
      return advance(turn, state);
    },

    /** "Sign in with …": one of the buttons of the identity providers this application offers. */
    async federate(turn) {
      const slug = field(turn.ctx, 'idp');
      if (!slug) throw badRequest('Choose an identity provider to sign in with.', 'idp_not_offered');
      return toUpstream(turn, slug);
    },
  },
} satisfies Page;
