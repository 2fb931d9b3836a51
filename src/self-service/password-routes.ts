// Forgotten password pages: /password/forgot (email → "check your email", with "send again"),
// /password/reset/:token (choose the account when the address has several, then a new password).
// Thin: each handler reads the form, calls src/domain/password-reset.ts and renders the outcome.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { isGatehouseError } from '../domain/errors.ts';
import { isReturnUid, type PasswordReset, type ResetChoice } from '../domain/password-reset.ts';
import { MIN_PASSWORD_LENGTH } from '../domain/passwords.ts';
import { field, requestInfo, type Render } from './forms.ts';

export interface PasswordRoutesDeps {
  reset: PasswordReset;
  render: Render;
  /** minutes a reset link lasts (said on the pages). */
  linkMinutes: number;
  /** runs before every page (no-store, form parsing, CSRF). */
  middleware: Middleware[];
}

export function createPasswordRouter(deps: PasswordRoutesDeps): Router {
  const { reset, render } = deps;
  const router = new Router({ prefix: '/password' });
  router.use(...deps.middleware);

  /** The sign-in the user came from, carried along so "Back to sign-in" returns to it. */
  const interactionOf = (value: unknown) => (isReturnUid(value) ? value : undefined);

  router.get('/forgot', async (ctx) => {
    await render(ctx, 'password/forgot', { title: 'Forgot your password?', interaction: interactionOf(ctx.query.interaction), email: '' });
  });

  router.post('/forgot', async (ctx) => {
    const email = field(ctx, 'email').trim();
    const interaction = interactionOf(field(ctx, 'interaction'));
    let outcome;
    try {
      outcome = await reset.requestLink(email, requestInfo(ctx), interaction);
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500) throw e;
      ctx.status = e.status;
      return render(ctx, 'password/forgot', { title: 'Forgot your password?', interaction, email, error: e.message });
    }
    if (!outcome.ok) {
      ctx.status = 429;
      ctx.set('Retry-After', String(outcome.retryAfterSeconds));
      const minutes = Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60));
      return render(ctx, 'password/forgot', { title: 'Forgot your password?', interaction, email, error: `Too many requests for a reset link. Try again in ${minutes} minutes.` });
    }
    // One answer for every address (the lookup and the mail happen after it).
    await render(ctx, 'password/sent', { title: 'Check your email', email, interaction, expiresInMinutes: deps.linkMinutes });
  });

  async function linkInvalid(ctx: Context, message: string): Promise<void> {
    await reset.recordRefused(requestInfo(ctx));
    ctx.status = 410;
    await render(ctx, 'password/link-invalid', { title: "This link can't be used", message, expiresInMinutes: deps.linkMinutes });
  }

  router.get('/reset/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    try {
      const { choices } = await reset.open(token);
      await render(ctx, 'password/reset', { title: 'Choose a new password', token, choices, minLength: MIN_PASSWORD_LENGTH });
    } catch (e) {
      if (isGatehouseError(e) && e.code === 'link_invalid') return linkInvalid(ctx, e.message);
      throw e;
    }
  });

  router.post('/reset/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    const selected = field(ctx, 'account');
    try {
      const done = await reset.complete(
        token,
        { ...(selected ? { accountId: selected } : {}), password: field(ctx, 'password'), confirm: field(ctx, 'password_confirm') },
        requestInfo(ctx),
      );
      await render(ctx, 'password/changed', { title: 'Password changed', email: done.email, tenantName: done.tenantName, interaction: done.returnUid });
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500) throw e;
      if (e.code === 'link_invalid') return linkInvalid(ctx, e.message);
      // A bad password or no account chosen: the same form again, the link still unused.
      let choices: ResetChoice[];
      try {
        ({ choices } = await reset.open(token));
      } catch (inner) {
        if (isGatehouseError(inner) && inner.code === 'link_invalid') return linkInvalid(ctx, inner.message);
        throw inner;
      }
      ctx.status = e.status;
      await render(ctx, 'password/reset', { title: 'Choose a new password', token, choices, selected, minLength: MIN_PASSWORD_LENGTH, error: e.message });
    }
  });

  return router;
}
