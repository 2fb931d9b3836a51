// The first platform operator's setup page, reached through the one-time link printed at first start.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Runtime } from '../runtime.ts';
import type { ViewRenderer } from '../http/views.ts';
import { createBootstrap } from '../domain/bootstrap.ts';
import { createOperatorSetupRepo } from '../store/repositories/operator-setup.ts';
import { isGatehouseError } from '../domain/errors.ts';

const field = (ctx: Context, name: string): string => {
  const v = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

export function bootstrapOf(runtime: Runtime) {
  return createBootstrap({
    tenants: runtime.repos.tenants,
    accounts: runtime.repos.accounts,
    emailTokens: runtime.repos.emailTokens,
    operatorSetup: createOperatorSetupRepo(runtime.database.db),
    hasher: runtime.hasher,
    events: runtime.events,
  });
}

export function createSetupRouter(runtime: Runtime, views: ViewRenderer, middleware: Middleware[]): Router {
  const bootstrap = bootstrapOf(runtime);
  const router = new Router({ prefix: '/setup/:token' });
  router.use(...middleware);

  router.get('/', async (ctx) => {
    if (!(await bootstrap.isSetupTokenUsable(ctx.params.token ?? ''))) {
      ctx.status = 400;
      return views.render(ctx, 'setup/invalid', { title: 'Setup link not valid' });
    }
    await views.render(ctx, 'setup/operator', { title: 'Set up Gatehouse', token: ctx.params.token, email: '', error: undefined });
  });

  router.post('/', async (ctx) => {
    const token = ctx.params.token ?? '';
    const email = field(ctx, 'email');
    try {
      if (field(ctx, 'password') !== field(ctx, 'password_confirm')) {
        ctx.status = 400;
        return views.render(ctx, 'setup/operator', { title: 'Set up Gatehouse', token, email, error: 'The two passwords do not match.' });
      }
      const account = await bootstrap.completeSetup(token, { email, password: field(ctx, 'password'), name: field(ctx, 'name') }, { ip: ctx.ip, requestId: ctx.state.requestId as string });
      await views.render(ctx, 'setup/done', { title: 'Gatehouse is ready', email: account.email, issuer: runtime.config.issuer });
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500) throw e;
      ctx.status = e.status;
      await views.render(ctx, 'setup/operator', { title: 'Set up Gatehouse', token, email, error: e.message });
    }
  });
  return router;
}
