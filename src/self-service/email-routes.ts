// Email verification pages: /email/verify/:token (the link in the mail) and /email/verify/resend
// ("send the link again", one answer for every address).
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { isGatehouseError } from '../domain/errors.ts';
import type { EmailVerification } from '../domain/email-verification.ts';
import { field, requestInfo, type Render } from './forms.ts';

export interface EmailRoutesDeps {
  verification: EmailVerification;
  render: Render;
  /** runs before every page (no-store, form parsing, CSRF). */
  middleware: Middleware[];
}

export function createEmailRouter(deps: EmailRoutesDeps): Router {
  const { verification, render } = deps;
  const router = new Router({ prefix: '/email' });
  router.use(...deps.middleware);

  // Before /verify/:token, which would otherwise take "resend" for a token.
  router.get('/verify/resend', async (ctx) => {
    await render(ctx, 'email/resend', { title: 'Confirm your email address', email: '' });
  });

  router.post('/verify/resend', async (ctx) => {
    const email = field(ctx, 'email').trim();
    let outcome;
    try {
      outcome = await verification.resend(email, requestInfo(ctx));
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500) throw e;
      ctx.status = e.status;
      return render(ctx, 'email/resend', { title: 'Confirm your email address', email, error: e.message });
    }
    if (!outcome.ok) {
      ctx.status = 429;
      ctx.set('Retry-After', String(outcome.retryAfterSeconds));
      const minutes = Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60));
      return render(ctx, 'email/resend', { title: 'Confirm your email address', email, error: `Too many requests for a confirmation link. Try again in ${minutes} minutes.` });
    }
    await render(ctx, 'email/sent', { title: 'Check your email', email });
  });

  // Opening the link is the confirmation: it works from any browser and needs no sign-in.
  router.get('/verify/:token', async (ctx) => {
    try {
      const verified = await verification.verify(ctx.params.token ?? '', requestInfo(ctx));
      await render(ctx, 'email/verified', { title: 'Email address confirmed', ...verified });
    } catch (e) {
      if (!isGatehouseError(e) || e.code !== 'link_invalid') throw e;
      ctx.status = 410;
      await render(ctx, 'email/link-invalid', { title: "This link can't be used", message: e.message });
    }
  });

  return router;
}
