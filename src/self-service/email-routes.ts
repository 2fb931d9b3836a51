// Email verification pages: /email/verify/:token (the link in the mail) and /email/verify/resend
// ("send the link again", one answer for every address); and /email/change/:token, the link an email
// change mails to the new address (opening it shows what will change; the button confirms it).
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { isGatehouseError } from '../domain/errors.ts';
import type { EmailChange } from '../domain/email-change.ts';
import type { EmailVerification } from '../domain/email-verification.ts';
import { field, requestInfo, type Render } from './forms.ts';

export interface EmailRoutesDeps {
  verification: EmailVerification;
  change: EmailChange;
  /** minutes an email-change link lasts (said on its pages). */
  changeLinkMinutes: number;
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

  // ---- email change: the link mailed to the new address ----
  const changeInvalid = async (ctx: Context, message: string) => {
    ctx.status = 410;
    await render(ctx, 'email/change-invalid', { title: "This link can't be used", message, linkMinutes: deps.changeLinkMinutes });
  };

  // A GET spends nothing, so a mail scanner fetching the link changes nothing; the button posts.
  router.get('/change/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    try {
      const pending = await deps.change.peek(token);
      await render(ctx, 'email/change-confirm', { title: 'Confirm your new email address', token, from: pending.from, to: pending.to, tenantName: pending.account.tenant.name });
    } catch (e) {
      if (!isGatehouseError(e) || e.code !== 'link_invalid') throw e;
      await deps.change.recordRefused(requestInfo(ctx));
      await changeInvalid(ctx, e.message);
    }
  });

  router.post('/change/:token', async (ctx) => {
    try {
      const changed = await deps.change.confirm(ctx.params.token ?? '', requestInfo(ctx));
      await render(ctx, 'email/changed', { title: 'Email address changed', ...changed, signInHref: '/account/profile' });
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500) throw e;
      if (e.code === 'link_invalid') return changeInvalid(ctx, e.message);
      ctx.status = e.status;
      await render(ctx, 'email/change-invalid', { title: 'Your email address was not changed', message: e.message, linkMinutes: deps.changeLinkMinutes });
    }
  });

  return router;
}
