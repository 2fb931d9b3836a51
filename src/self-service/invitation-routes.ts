// The invitation landing page /password/set/:token: the invitee chooses a first password. Thin: each
// handler reads the form, calls src/domain/invitations.ts and renders the outcome.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { isGatehouseError } from '../domain/errors.ts';
import type { InvitationAcceptance } from '../domain/invitations.ts';
import { MIN_PASSWORD_LENGTH } from '../domain/passwords.ts';
import { field, requestInfo, type Render } from './forms.ts';

export interface InvitationRoutesDeps {
  invitations: InvitationAcceptance;
  render: Render;
  /** hours an invitation link lasts (said on the pages). */
  linkHours: number;
  /** runs before every page (no-store, form parsing, CSRF). */
  middleware: Middleware[];
}

export function createInvitationRouter(deps: InvitationRoutesDeps): Router {
  const { invitations, render } = deps;
  const router = new Router({ prefix: '/password/set' });
  router.use(...deps.middleware);

  async function linkInvalid(ctx: Context): Promise<void> {
    await invitations.recordRefused(requestInfo(ctx));
    ctx.status = 410;
    await render(ctx, 'password/invitation-invalid', { title: "This invitation link can't be used", linkHours: deps.linkHours });
  }

  router.get('/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    try {
      const invitation = await invitations.open(token);
      await render(ctx, 'password/set', { title: 'Choose your password', token, invitation, minLength: MIN_PASSWORD_LENGTH });
    } catch (e) {
      if (isGatehouseError(e) && e.code === 'link_invalid') return linkInvalid(ctx);
      throw e;
    }
  });

  router.post('/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    try {
      const invitation = await invitations.accept(token, { password: field(ctx, 'password'), confirm: field(ctx, 'password_confirm') }, requestInfo(ctx));
      await render(ctx, 'password/set-done', { title: 'Your password is set', invitation });
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500) throw e;
      if (e.code === 'link_invalid') return linkInvalid(ctx);
      // a password the rules refuse: the same form again, the link still unused
      let invitation;
      try {
        invitation = await invitations.open(token);
      } catch (inner) {
        if (isGatehouseError(inner) && inner.code === 'link_invalid') return linkInvalid(ctx);
        throw inner;
      }
      ctx.status = e.status;
      await render(ctx, 'password/set', { title: 'Choose your password', token, invitation, minLength: MIN_PASSWORD_LENGTH, error: e.message });
    }
  });

  return router;
}
