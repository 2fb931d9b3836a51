/**
 * Acme MDR's own second factor during sign-in: verify the TOTP (or a recovery code), or — when the
 * user has none yet — explain, offer "Ask Gatehouse for MFA instead" (unified login) and a forced
 * setup (QR + setup key + code + Finish, then recovery codes shown once).
 */
import type { Router } from '@koa/router';
import { z } from 'zod';
import { generateRecoveryCodes, hashRecoveryCodes } from '../auth/recovery-codes.ts';
import { verifyLocalSecondFactor } from '../auth/second-factor.ts';
import { formatSetupKey, matchTotpStep, newTotpSecret, otpauthUri, qrCodeDataUrl } from '../auth/totp.ts';
import type { AppContext, AppDeps, AppState } from '../context.ts';
import { REASON_TEXT } from '../decision-text.ts';
import { readForm } from '../http/forms.ts';
import type { PendingSignIn } from '../http/sessions.ts';
import type { LocalUser } from '../store/types.ts';
import { completeSignIn } from '../sign-in.ts';
import { countFailure } from './guards.ts';

const codeForm = z.object({
  code: z.string().max(32).optional(),
  recovery_code: z.string().max(64).optional(),
});
const setupForm = z.object({ code: z.string().max(32) });

interface Pending {
  pending: PendingSignIn;
  user: LocalUser;
}

async function loadPending(ctx: AppContext, deps: AppDeps): Promise<Pending | undefined> {
  const pending = ctx.state.session.pending;
  const user = pending ? await deps.store.getUser(pending.userId) : undefined;
  if (!pending || !user) {
    ctx.state.session.pending = null;
    ctx.redirect('/login');
    return undefined;
  }
  return { pending, user };
}

export function secondFactorRoutes(router: Router<AppState>, deps: AppDeps): void {
  const renderChallenge = async (ctx: AppContext, { pending, user }: Pending, error?: string) => {
    await deps.pages.render(ctx, 'two-factor', {
      title: 'Two-factor authentication',
      hasLocalTotp: user.totp !== null,
      path: pending.evidence.path,
      reason: pending.evidence.reason,
      reasonText: REASON_TEXT[pending.evidence.reason],
      canStepUp: pending.evidence.path === 'unified' && deps.gatehouse !== null,
      error,
    });
  };

  const renderSetup = async (ctx: AppContext, { pending, user }: Pending, error?: string) => {
    pending.enrolSecret ??= newTotpSecret();
    await deps.pages.render(ctx, 'enrol', {
      title: 'Set up two-factor authentication',
      qrDataUrl: await qrCodeDataUrl(otpauthUri(deps.appName, user.email, pending.enrolSecret)),
      setupKey: formatSetupKey(pending.enrolSecret),
      action: '/login/two-factor/setup',
      cancelAction: '/login/cancel',
      error,
    });
  };

  const failed = async (ctx: AppContext, state: Pending, message: string, view: 'challenge' | 'setup') => {
    const { failures, exhausted } = countFailure(state.pending.failures, deps);
    state.pending.failures = failures;
    if (exhausted) {
      ctx.state.session.pending = null;
      ctx.state.session.notice = 'Too many wrong codes. Sign in again.';
      ctx.redirect('/login');
      return;
    }
    ctx.status = 401;
    if (view === 'challenge') await renderChallenge(ctx, state, message);
    else await renderSetup(ctx, state, message);
  };

  router.get('/login/two-factor', async (ctx) => {
    const state = await loadPending(ctx, deps);
    if (state) await renderChallenge(ctx, state);
  });

  router.post('/login/two-factor', async (ctx) => {
    const state = await loadPending(ctx, deps);
    if (!state) return;
    const form = readForm(ctx, codeForm);
    const factor = await verifyLocalSecondFactor(deps.store, state.user, { code: form.code, recoveryCode: form.recovery_code }, deps.clock());
    if (!factor) {
      await failed(ctx, state, form.recovery_code ? 'That recovery code is not valid or was already used.' : 'That code is not valid. Wait for a new code and try again.', 'challenge');
      return;
    }
    completeSignIn(ctx, deps, state.user.id, state.pending.evidence, factor);
    ctx.redirect('/');
  });

  router.post('/login/two-factor/step-up', async (ctx) => {
    const state = await loadPending(ctx, deps);
    if (!state) return;
    if (state.pending.evidence.path !== 'unified' || !deps.gatehouse) return ctx.redirect('/login/two-factor');
    const { flow, url } = await deps.gatehouse.startAuthorization({ stepUp: true, maxAgeSeconds: deps.maxAuthAgeSeconds ?? null });
    ctx.state.session.pending = null;
    ctx.state.session.flow = flow;
    ctx.redirect(url.href);
  });

  router.get('/login/two-factor/setup', async (ctx) => {
    const state = await loadPending(ctx, deps);
    if (!state) return;
    if (state.user.totp) return ctx.redirect('/login/two-factor');
    await renderSetup(ctx, state);
  });

  router.post('/login/two-factor/setup', async (ctx) => {
    const state = await loadPending(ctx, deps);
    if (!state) return;
    const secret = state.pending.enrolSecret;
    if (state.user.totp || !secret) return ctx.redirect('/login/two-factor');
    const form = readForm(ctx, setupForm);
    const step = await matchTotpStep(secret, form.code, deps.clock());
    if (step === undefined) {
      await failed(ctx, state, 'That code is not valid. Check the time on your phone and try the current code.', 'setup');
      return;
    }
    const codes = generateRecoveryCodes();
    await deps.store.enableTotp(state.user.id, secret, await hashRecoveryCodes(codes), step);
    completeSignIn(ctx, deps, state.user.id, state.pending.evidence, 'totp');
    await deps.pages.render(ctx, 'recovery-codes', { title: 'Save your recovery codes', codes, continueUrl: '/' });
  });
}
