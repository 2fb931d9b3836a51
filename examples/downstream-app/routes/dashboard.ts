/** The dashboard: who signed in, by which path, Gatehouse's `amr`/`acr` and the decision reason. */
import type { Router } from '@koa/router';
import type { AppDeps, AppState } from '../context.ts';
import { REASON_TEXT } from '../decision-text.ts';
import { currentUser } from './guards.ts';

export function dashboardRoutes(router: Router<AppState>, deps: AppDeps): void {
  router.get('/', async (ctx) => {
    const current = await currentUser(ctx, deps);
    if (!current) return;
    const { evidence } = current.signIn;
    const authTime = evidence.gatehouse?.authTime;
    await deps.pages.render(ctx, 'dashboard', {
      title: 'Dashboard',
      user: current.user,
      signIn: current.signIn,
      evidence,
      reasonText: REASON_TEXT[evidence.reason],
      authTime: typeof authTime === 'number' ? new Date(authTime * 1000).toISOString() : null,
      canStepUp: evidence.path === 'unified' && deps.gatehouse !== null && !evidence.amr.includes('mfa'),
    });
  });
}
