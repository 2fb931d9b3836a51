/**
 * Direct sign-in with Acme MDR's own email + password; Acme MDR's own TOTP follows when the local
 * decision says so (DESIGN.md §7, rows 1–2).
 */
import type { Router } from '@koa/router';
import { z } from 'zod';
import { decideLocalMfa } from '../../../src/relying-party/index.ts';
import { verifyPassword } from '../auth/passwords.ts';
import type { AppDeps, AppState } from '../context.ts';
import { readForm } from '../http/forms.ts';
import { continueSignIn, directEvidence, localMfaEnabledFor } from '../sign-in.ts';

const loginForm = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(1024),
});

export function directLoginRoutes(router: Router<AppState>, deps: AppDeps): void {
  router.get('/login', async (ctx) => {
    const session = ctx.state.session;
    if (session.user) return ctx.redirect('/');
    const notice = session.notice;
    session.notice = null;
    await deps.pages.render(ctx, 'login', { title: 'Sign in', notice, email: '' });
  });

  router.post('/login', async (ctx) => {
    const form = readForm(ctx, loginForm);
    const user = await deps.store.findUserByEmail(form.email);
    const passwordOk = await verifyPassword(user?.passwordHash, form.password);
    if (!user || !passwordOk) {
      ctx.status = 401;
      await deps.pages.render(ctx, 'login', { title: 'Sign in', error: 'Incorrect email or password.', email: form.email });
      return;
    }
    const settings = await deps.store.getSettings();
    const decision = decideLocalMfa({ path: 'direct', localMfaEnabled: localMfaEnabledFor(user, settings) });
    deps.logger.info({ path: 'direct', reason: decision.reason, requestId: ctx.state.requestId }, 'local 2FA decision');
    continueSignIn(ctx, deps, user, directEvidence(decision), decision.requireLocalMfa);
  });

  router.post('/login/cancel', (ctx) => {
    const session = ctx.state.session;
    session.pending = null;
    session.pendingLink = null;
    session.flow = null;
    ctx.redirect('/login');
  });
}
