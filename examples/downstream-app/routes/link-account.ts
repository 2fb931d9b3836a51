/**
 * First unified sign-in of a Gatehouse identity whose verified email matches an unlinked local user:
 * offer to link them. The local password (when the account has one) proves the person owns the
 * local account too, so a Gatehouse identity cannot take over an account by email alone.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';
import { verifyPassword } from '../auth/passwords.ts';
import type { AppContext, AppDeps, AppState } from '../context.ts';
import { AppError } from '../http/errors.ts';
import { readForm } from '../http/forms.ts';
import type { PendingLink } from '../http/sessions.ts';
import type { LocalUser } from '../store/types.ts';
import { continueUnifiedSignIn } from '../sign-in.ts';
import { countFailure } from './guards.ts';

const linkForm = z.object({ password: z.string().max(1024).optional() });

async function loadLink(ctx: AppContext, deps: AppDeps): Promise<{ link: PendingLink; user: LocalUser } | undefined> {
  const link = ctx.state.session.pendingLink;
  const user = link ? await deps.store.getUser(link.localUserId) : undefined;
  if (!link || !user) {
    ctx.state.session.pendingLink = null;
    ctx.redirect('/login');
    return undefined;
  }
  return { link, user };
}

export function linkAccountRoutes(router: Router<AppState>, deps: AppDeps): void {
  const render = async (ctx: AppContext, link: PendingLink, user: LocalUser, error?: string) => {
    await deps.pages.render(ctx, 'link-account', {
      title: 'Link your accounts',
      email: user.email,
      gatehouseName: link.claims.name ?? link.claims.email ?? link.claims.sub,
      tenantName: link.claims.tenant?.name ?? null,
      needsPassword: user.passwordHash !== null,
      error,
    });
  };

  router.get('/link', async (ctx) => {
    const state = await loadLink(ctx, deps);
    if (state) await render(ctx, state.link, state.user);
  });

  router.post('/link', async (ctx) => {
    const state = await loadLink(ctx, deps);
    if (!state) return;
    const { link, user } = state;
    const form = readForm(ctx, linkForm);
    if (user.passwordHash !== null && !(await verifyPassword(user.passwordHash, form.password ?? ''))) {
      const { failures, exhausted } = countFailure(link.failures, deps);
      link.failures = failures;
      if (exhausted) {
        ctx.state.session.pendingLink = null;
        ctx.state.session.notice = 'Too many wrong passwords. The accounts were not linked.';
        return ctx.redirect('/login');
      }
      ctx.status = 401;
      return render(ctx, link, user, 'That is not the password of this Acme MDR account.');
    }
    if (!(await deps.store.linkGatehouseSub(user.id, link.claims.sub))) {
      ctx.state.session.pendingLink = null;
      throw new AppError('link_conflict', 409, 'This Acme MDR account is already linked to another Gatehouse account.');
    }
    deps.logger.info({ userId: user.id, requestId: ctx.state.requestId }, 'local user linked to Gatehouse');
    ctx.state.session.pendingLink = null;
    const linked = await deps.store.getUser(user.id);
    if (!linked) return ctx.redirect('/login');
    await continueUnifiedSignIn(ctx, deps, linked, link.claims, link.idToken);
  });
}
