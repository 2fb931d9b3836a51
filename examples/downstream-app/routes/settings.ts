/**
 * Settings > Account: the user's own two-factor authentication (enable with QR + setup key + code +
 * Finish, recovery codes shown once; new device; disable) and the organization's local 2FA setting
 * "Require 2FA for sign-in" (admins). Under unified login the page says Gatehouse enforces MFA.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';
import { generateRecoveryCodes, hashRecoveryCodes } from '../auth/recovery-codes.ts';
import { verifyLocalSecondFactor } from '../auth/second-factor.ts';
import { formatSetupKey, matchTotpStep, newTotpSecret, otpauthUri, qrCodeDataUrl } from '../auth/totp.ts';
import type { AppContext, AppDeps, AppState } from '../context.ts';
import { AppError } from '../http/errors.ts';
import { readForm } from '../http/forms.ts';
import { currentUser } from './guards.ts';
import type { CurrentUser } from './guards.ts';

const codeForm = z.object({ code: z.string().max(32).optional(), recovery_code: z.string().max(64).optional() });
const setupForm = z.object({ code: z.string().max(32) });
const orgForm = z.object({ require_2fa: z.literal('on').optional() });

export function settingsRoutes(router: Router<AppState>, deps: AppDeps): void {
  const renderAccount = async (ctx: AppContext, current: CurrentUser, error?: string) => {
    const notice = ctx.state.session.notice;
    ctx.state.session.notice = null;
    const totp = current.user.totp;
    await deps.pages.render(ctx, 'settings', {
      title: 'Settings · Account',
      user: current.user,
      totpEnabled: totp !== null,
      recoveryCodesLeft: totp ? totp.recoveryCodes.filter((c) => c.usedAt === null).length : 0,
      settings: await deps.store.getSettings(),
      unifiedConfigured: deps.gatehouse !== null,
      error,
      notice,
    });
  };

  const renderSetup = async (ctx: AppContext, current: CurrentUser, secret: string, error?: string) => {
    await deps.pages.render(ctx, 'enrol', {
      title: 'Set up two-factor authentication',
      qrDataUrl: await qrCodeDataUrl(otpauthUri(deps.appName, current.user.email, secret)),
      setupKey: formatSetupKey(secret),
      action: '/settings/account/2fa/setup',
      cancelAction: '/settings/account/2fa/cancel',
      error,
    });
  };

  router.get('/settings', (ctx) => ctx.redirect('/settings/account'));

  router.get('/settings/account', async (ctx) => {
    const current = await currentUser(ctx, deps);
    if (current) await renderAccount(ctx, current);
  });

  router.post('/settings/account/2fa/enable', async (ctx) => {
    if (!(await currentUser(ctx, deps))) return;
    ctx.state.session.enrolment = { secret: newTotpSecret() };
    ctx.redirect('/settings/account/2fa/setup');
  });

  router.get('/settings/account/2fa/setup', async (ctx) => {
    const current = await currentUser(ctx, deps);
    if (!current) return;
    const enrolment = ctx.state.session.enrolment;
    if (!enrolment) return ctx.redirect('/settings/account');
    await renderSetup(ctx, current, enrolment.secret);
  });

  router.post('/settings/account/2fa/setup', async (ctx) => {
    const current = await currentUser(ctx, deps);
    if (!current) return;
    const enrolment = ctx.state.session.enrolment;
    if (!enrolment) return ctx.redirect('/settings/account');
    const form = readForm(ctx, setupForm);
    const step = await matchTotpStep(enrolment.secret, form.code, deps.clock());
    if (step === undefined) {
      ctx.status = 400;
      return renderSetup(ctx, current, enrolment.secret, 'That code is not valid. Check the time on your phone and try the current code.');
    }
    const codes = generateRecoveryCodes();
    await deps.store.enableTotp(current.user.id, enrolment.secret, await hashRecoveryCodes(codes), step);
    ctx.state.session.enrolment = null;
    deps.logger.info({ userId: current.user.id, requestId: ctx.state.requestId }, 'local 2FA enabled');
    await deps.pages.render(ctx, 'recovery-codes', {
      title: 'Two-factor authentication is on',
      codes,
      continueUrl: '/settings/account',
    });
  });

  router.post('/settings/account/2fa/cancel', (ctx) => {
    ctx.state.session.enrolment = null;
    ctx.redirect('/settings/account');
  });

  router.post('/settings/account/2fa/disable', async (ctx) => {
    const current = await currentUser(ctx, deps);
    if (!current) return;
    if ((await deps.store.getSettings()).requireTwoFactor) {
      ctx.status = 409;
      return renderAccount(ctx, current, 'Your organization requires two-factor authentication for sign-in, so it cannot be disabled.');
    }
    const form = readForm(ctx, codeForm);
    const factor = await verifyLocalSecondFactor(deps.store, current.user, { code: form.code, recoveryCode: form.recovery_code }, deps.clock());
    if (!factor) {
      ctx.status = 400;
      return renderAccount(ctx, current, 'Enter a current code from your authenticator app (or a recovery code) to disable two-factor authentication.');
    }
    await deps.store.disableTotp(current.user.id);
    deps.logger.info({ userId: current.user.id, requestId: ctx.state.requestId }, 'local 2FA disabled');
    ctx.state.session.notice = 'Two-factor authentication is off. Consider turning it back on soon.';
    ctx.redirect('/settings/account');
  });

  router.post('/settings/organization/2fa', async (ctx) => {
    const current = await currentUser(ctx, deps);
    if (!current) return;
    if (!current.user.isAdmin) throw new AppError('forbidden', 403, 'Only administrators can change the organization\'s sign-in settings.');
    const form = readForm(ctx, orgForm);
    const settings = await deps.store.updateSettings({ requireTwoFactor: form.require_2fa === 'on' });
    deps.logger.info({ userId: current.user.id, requireTwoFactor: settings.requireTwoFactor, requestId: ctx.state.requestId }, 'local 2FA setting changed');
    ctx.state.session.notice = settings.requireTwoFactor
      ? 'Two-factor authentication is now required for sign-in to Acme MDR.'
      : 'Two-factor authentication is no longer required for sign-in to Acme MDR.';
    ctx.redirect('/settings/account');
  });
}
