// The pages of the login interaction (docs/sign-in-sequence.md): password → account choice → MFA
// (verify, recovery code, forced setup) → the interaction's result once, with the final amr/acr. Every page
// lives under /interaction/:uid (the interaction cookie's path) and follows POST → redirect → GET.
// Which handler may run is decided by the step `nextStep` names, never by the URL alone.
import Router from '@koa/router';
import type { Context } from 'koa';
import { PAGES } from './pages/index.ts';
import type { Handler, Page } from './pages/page.ts';
import { conclude, loadTurn, type InteractionDeps } from './turn.ts';
import { stepUnavailable } from './steps.ts';

export type { InteractionDeps };


/** Every name used by some page, with the pages that serve it. */
function handlersByName(kind: 'actions' | 'views'): Map<string, Map<Page['step'], Handler>> {
  const byName = new Map<string, Map<Page['step'], Handler>>();
  for (const page of Object.values(PAGES) as Page[]) {
    for (const [name, handler] of Object.entries(page[kind] ?? {})) {
      const steps = byName.get(name) ?? new Map<Page['step'], Handler>();
      steps.set(page.step, handler);
      byName.set(name, steps);
    }
  }
  return byName;
}

export function createInteractionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(...deps.middleware);

  /** Runs the handler of the current step's page, or refuses when that page has none of this name. */
  const dispatch = (handlers: Map<Page['step'], Handler>) => async (ctx: Context) => {
    const turn = await loadTurn(ctx, deps);
    const handler = handlers.get(turn.step);
    if (!handler) throw stepUnavailable();
    await handler(turn);
  };

  router.get('/', async (ctx) => {
    const turn = await loadTurn(ctx, deps);
    await (PAGES[turn.step] as Page).show(turn);
  });
  for (const [name, handlers] of handlersByName('views')) router.get(`/${name}`, dispatch(handlers));
  for (const [name, handlers] of handlersByName('actions')) router.post(`/${name}`, dispatch(handlers));

  // Cancelling is possible at every step.
  router.post('/abort', async (ctx) => {
    const turn = await loadTurn(ctx, deps);
    await deps.states.clear(turn.uid);
    await conclude(turn, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' });
  });

  return router;
}
