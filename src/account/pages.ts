// The account console's pages at /account: Profile, Security Settings, Sessions, Password. Each page
// turns a request into one self-service use case and renders its answer. Every form carries a CSRF
// token, posts, and redirects (POST → 303 → GET) with a banner, or answers the form again with the
// error and its 4xx status; pages need no JavaScript. Sensitive actions need an authentication at
// most five minutes old: without one the action is refused (401) with a button that confirms the
// user's identity through the console's own re-authentication request and comes back.
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Console, ConsoleUser } from '../console/framework.ts';
import type { ViewRenderer } from '../http/views.ts';
import { bodyFields } from '../http/body.ts';
import { restrictFormAction } from '../http/security-headers.ts';
import { GatehouseError, isGatehouseError } from '../domain/errors.ts';
import type { RequestInfo } from '../domain/events.ts';
import type { MfaSelfService, SecondFactorProof } from '../domain/mfa/self-service.ts';
import type { AccountSessions } from '../domain/account-sessions.ts';
import type { PasswordChange } from '../domain/password-change.ts';
import type { EmailChange } from '../domain/email-change.ts';
import type { TenantKind } from '../domain/kinds.ts';
import { MAX_LABEL_LENGTH } from '../domain/mfa/self-service.ts';
import { parseAuthenticationResponse, parseRegistrationResponse, type Webauthn } from '../domain/mfa/webauthn.ts';

export const ACCOUNT_BASE = '/account';

/** Sensitive actions need an authentication at most this old (password, and a code when MFA is on). */
export const ACCOUNT_RECENT_AUTH_SECONDS = 5 * 60;

interface Section {
  key: 'profile' | 'security' | 'sessions' | 'password';
  label: string;
  href: string;
}

const SECTIONS: Section[] = [
  { key: 'profile', label: 'Profile', href: `${ACCOUNT_BASE}/profile` },
  { key: 'security', label: 'Security Settings', href: `${ACCOUNT_BASE}/security` },
  { key: 'sessions', label: 'Sessions', href: `${ACCOUNT_BASE}/sessions` },
  { key: 'password', label: 'Password', href: `${ACCOUNT_BASE}/password` },
];

export interface AccountPagesOptions {
  console: Console;
  views: ViewRenderer;
  selfService: MfaSelfService;
  /** no-store, form parsing, CSRF. */
  pageMiddleware: Middleware[];
  /** minutes an MFA reset link lasts (said on the pages). */
  resetLinkMinutes: number;
  sessions: AccountSessions;
  passwordChange: PasswordChange;
  emailChange: EmailChange;
  /** minutes an email-change link lasts (said on the pages). */
  emailChangeLinkMinutes: number;
  /** minimum length of a new password (said on the form). */
  minPasswordLength: number;
  /** passkeys and security keys: registration from Security Settings. */
  webauthn: Webauthn;
  now?: (() => Date) | undefined;
}

const text = (fields: Record<string, unknown>, name: string): string => {
  const v = fields[name];
  return typeof v === 'string' ? v : '';
};

/** Where a confirmation comes back to: a page of this console, never elsewhere. */
const backTo = (value: unknown, fallback = `${ACCOUNT_BASE}/security`): string =>
  typeof value === 'string' && value.startsWith(`${ACCOUNT_BASE}/`) && !value.startsWith('//') && !/[\\\r\n]/.test(value) && value.length < 500 ? value : fallback;

const TENANT_KIND_LABEL = { platform: 'Platform', distributor: 'Distributor', sub_reseller: 'Sub-reseller', organization: 'Organization' } as const satisfies Record<TenantKind, string>;

/** Flow ids are base64url from the flow store; anything else is refused before a lookup. */
const FLOW_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function createAccountPages(options: AccountPagesOptions): Middleware {
  const { console, views, selfService } = options;
  const epoch = () => Math.floor((options.now ? options.now() : new Date()).getTime() / 1000);
  const router = new Router({ prefix: ACCOUNT_BASE });
  const page = options.pageMiddleware as unknown as RouterMiddleware[];

  const account = (ctx: Context) => console.user(ctx).account;
  const sessionId = (ctx: Context) => {
    const id = ctx.state.consoleSessionId as string | undefined;
    if (!id) throw new GatehouseError('console_signed_out', 401, 'Your session has ended. Sign in again to continue.');
    return id;
  };
  const request = (ctx: Context): RequestInfo => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined });

  async function render(ctx: Context, template: string, current: Section['key'] | undefined, locals: Record<string, unknown>) {
    const a = account(ctx);
    await views.render(ctx, template, {
      homeHref: `${ACCOUNT_BASE}/`,
      signedInAs: a.email,
      consoleNav: SECTIONS.map((s) => ({ ...s, current: s.key === current })),
      consoleTenant: { name: a.tenant.name, kind: TENANT_KIND_LABEL[a.tenant.kind] },
      consoleBase: ACCOUNT_BASE,
      flash: await console.takeFlash(ctx),
      wide: true,
      ...locals,
    });
  }

  const done = async (ctx: Context, to: string, kind: 'success' | 'info', message: string) => {
    await console.flash(ctx, { kind, text: message });
    ctx.status = 303;
    ctx.redirect(to);
  };

  /**
   * Recent enough: authenticated within five minutes, and with a code or a passkey / security key
   * (`hwk`/`swk`) when the account has MFA (a sign-in that used neither — a remembered browser — does
   * not count).
   */
  const typedCode = (user: ConsoleUser) => user.account.mfaStatus !== 'active' || ['otp', 'hwk', 'swk'].some((value) => user.session.amr.includes(value));
  const recent: Middleware = async (ctx: Context, next: Next) => {
    const user = console.user(ctx);
    const { account: a } = user;
    if (epoch() - user.session.authTime <= ACCOUNT_RECENT_AUTH_SECONDS && typedCode(user)) return next();
    ctx.status = 401;
    await render(ctx, 'account/confirm', undefined, {
      title: 'Confirm your identity',
      returnTo: backTo(text(bodyFields(ctx), 'return_to')),
      mfaActive: a.mfaStatus === 'active',
    });
  };

  const security = async (ctx: Context, locals: Record<string, unknown> = {}) => {
    const a = account(ctx);
    const status = await selfService.status(a);
    await render(ctx, 'account/security', 'security', { title: 'Security Settings', status, maxLabelLength: MAX_LABEL_LENGTH, resetLinkMinutes: options.resetLinkMinutes, ...locals });
  };

  /** A refused input answers the Security Settings page again with the reason and its 4xx status. */
  const onSecurityPage = (work: (ctx: Context) => Promise<void>): Middleware => async (ctx: Context) => {
    try {
      await work(ctx);
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500 || e.code === 'console_signed_out') throw e;
      ctx.status = e.status;
      await security(ctx, { error: e.message, errorCode: e.code });
    }
  };

  // ---- the emailed MFA reset link: opened in any browser, no sign-in needed ----
  const link = new Router({ prefix: `${ACCOUNT_BASE}/mfa/reset` });
  link.use(restrictFormAction(["'self'"]) as unknown as RouterMiddleware, ...page);
  const linkInvalid = async (ctx: Context, message: string) => {
    await selfService.recordRefused(request(ctx));
    ctx.status = 410;
    await views.render(ctx, 'account/reset-link-invalid', { title: "This link can't be used", message, resetLinkMinutes: options.resetLinkMinutes });
  };
  link.get('/:token', async (ctx) => {
    try {
      const a = await selfService.peekReset(ctx.params.token ?? '');
      await views.render(ctx as unknown as Context, 'account/reset-confirm', { title: 'Reset multi-factor authentication', token: ctx.params.token, email: a.email, tenantName: a.tenant.name });
    } catch (e) {
      if (isGatehouseError(e) && e.code === 'link_invalid') return linkInvalid(ctx as unknown as Context, e.message);
      throw e;
    }
  });
  link.post('/:token', async (ctx) => {
    try {
      const { account: a, result } = await selfService.confirmReset(ctx.params.token ?? '', request(ctx as unknown as Context));
      await views.render(ctx as unknown as Context, 'account/reset-done', { title: 'Multi-factor authentication was reset', email: a.email, tenantName: a.tenant.name, sessionsEnded: result.sessionsEnded, signInHref: `${ACCOUNT_BASE}/login` });
    } catch (e) {
      if (isGatehouseError(e) && e.code === 'link_invalid') {
        ctx.status = 410;
        return views.render(ctx as unknown as Context, 'account/reset-link-invalid', { title: "This link can't be used", message: e.message, resetLinkMinutes: options.resetLinkMinutes });
      }
      throw e;
    }
  });

  // every form here posts to the console itself and redirects only within Gatehouse
  router.use(restrictFormAction(["'self'"]) as unknown as RouterMiddleware, ...page);
  router.use(console.requireUser() as unknown as RouterMiddleware);
  const fresh = recent as unknown as RouterMiddleware;
  const wrap = (m: Middleware) => m as unknown as RouterMiddleware;

  router.get('/', async (ctx) => {
    ctx.status = 303;
    ctx.redirect(`${ACCOUNT_BASE}/security`);
  });

  // "Confirm your identity": a new sign-in (password, and a code when MFA is on), then back to the page.
  router.get('/confirm', wrap(console.requireRecentAuth((ctx) => `${ACCOUNT_BASE}/confirm?return_to=${encodeURIComponent(backTo(ctx.query.return_to))}`, typedCode)), wrap(recent), async (ctx) => {
    ctx.status = 303;
    ctx.redirect(backTo(ctx.query.return_to));
  });

  // ---- Profile, and changing the email address ----
  const profilePage = (ctx: Context, locals: Record<string, unknown> = {}) => {
    const a = account(ctx);
    return render(ctx, 'account/profile', 'profile', {
      title: 'Profile',
      profile: { name: a.name, email: a.email, emailVerified: a.emailVerified, tenantName: a.tenant.name, role: a.role },
      linkMinutes: options.emailChangeLinkMinutes,
      newEmail: '',
      ...locals,
    });
  };
  router.get('/profile', async (ctx) => {
    await profilePage(ctx as unknown as Context);
  });
  // The password and a recent sign-in; then a link to the new address confirms it (src/domain/email-change.ts).
  router.post('/profile/email', fresh, async (ctx) => {
    const c = ctx as unknown as Context;
    const fields = bodyFields(c);
    const newEmail = text(fields, 'email').trim().slice(0, 320);
    try {
      const outcome = await options.emailChange.request(account(c), { email: newEmail, password: text(fields, 'password') }, request(c));
      if (!outcome.ok) {
        ctx.set('Retry-After', String(outcome.retryAfterSeconds));
        throw new GatehouseError('too_many_requests', 429, `Too many requests for a confirmation link. Try again in ${Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60))} minutes.`);
      }
      await render(c, 'account/email-sent', 'profile', { title: 'Check your email', newEmail: outcome.email, currentEmail: account(c).email, linkMinutes: options.emailChangeLinkMinutes });
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500 || e.code === 'console_signed_out') throw e;
      ctx.status = e.status;
      await profilePage(c, { error: e.message, newEmail });
    }
  });

  // ---- Security Settings ----
  router.get('/security', async (ctx) => {
    await security(ctx as unknown as Context);
  });

  // Enable MFA / set up a new device: a fresh secret bound to this console session, then its code.
  router.post('/security/setup', fresh, async (ctx) => {
    const enrolment = await selfService.startSetup(account(ctx as unknown as Context), sessionId(ctx as unknown as Context), request(ctx as unknown as Context));
    ctx.status = 303;
    ctx.redirect(`${ACCOUNT_BASE}/security/setup?flow=${enrolment.flowId}`);
  });

  const showSetup = async (ctx: Context, flowId: string, locals: Record<string, unknown> = {}) => {
    const a = account(ctx);
    const enrolment = FLOW_ID.test(flowId) ? await selfService.resumeSetup(a, sessionId(ctx), flowId) : undefined;
    if (!enrolment) {
      await console.flash(ctx, { kind: 'info', text: 'That setup expired. Start again to get a new QR code.' });
      ctx.status = 303;
      ctx.redirect(`${ACCOUNT_BASE}/security`);
      return;
    }
    await render(ctx, 'account/setup', 'security', { title: a.mfaStatus === 'active' ? 'Set up a new device' : 'Enable MFA', enrolment, adding: a.mfaStatus === 'active', maxLabelLength: MAX_LABEL_LENGTH, ...locals });
  };

  router.get('/security/setup', async (ctx) => {
    await showSetup(ctx as unknown as Context, typeof ctx.query.flow === 'string' ? ctx.query.flow : '');
  });

  router.post('/security/setup/confirm', fresh, async (ctx) => {
    const c = ctx as unknown as Context;
    const fields = bodyFields(c);
    const flowId = text(fields, 'flow');
    const a = account(c);
    const outcome = FLOW_ID.test(flowId)
      ? await selfService.confirmSetup(a, sessionId(c), flowId, text(fields, 'code'), text(fields, 'label'), request(c))
      : ({ ok: false, reason: 'expired' } as const);
    if (!outcome.ok) {
      if (outcome.reason === 'invalid') {
        ctx.status = 400;
        return showSetup(c, flowId, { error: 'That code is not valid. Enter the current 6-digit code the app shows for Gatehouse.', label: text(fields, 'label') });
      }
      ctx.status = 409;
      return security(c, { error: outcome.reason === 'already_enrolled' ? 'Multi-factor authentication was turned on meanwhile, in another window.' : 'That setup expired. Start again to get a new QR code.' });
    }
    if (outcome.recoveryCodes) {
      await render(c, 'account/recovery-codes', 'security', { title: 'Save your recovery codes', codes: outcome.recoveryCodes, first: true });
      // for the Security Settings page the user goes back to once the codes are saved
      await console.flash(c, { kind: 'success', text: 'Multi-factor authentication is on. From now on, signing in asks for a code from your authenticator app.' });
      return;
    }
    await done(c, `${ACCOUNT_BASE}/security`, 'success', 'The new device is set up. Your other authenticators keep working until you remove them.');
  });

  // Add a passkey or security key: the options for the browser, then its answer, under a challenge
  // bound to this console session (the buttons are progressive enhancement, public/passkeys.js).
  const passkeyBinding = (ctx: Context) => `account-console:${sessionId(ctx)}`;
  const passkeyOwner = (ctx: Context) => {
    const a = account(ctx);
    return { id: a.id, email: a.email, name: a.name, tenantId: a.tenant.id, tenantName: a.tenant.name };
  };
  router.post('/security/passkeys/options', fresh, async (ctx) => {
    const c = ctx as unknown as Context;
    c.type = 'application/json';
    c.body = await options.webauthn.startRegistration(passkeyOwner(c), passkeyBinding(c));
  });

  router.post('/security/passkeys', fresh, wrap(onSecurityPage(async (ctx) => {
    const fields = bodyFields(ctx);
    const a = account(ctx);
    const response = parseRegistrationResponse(text(fields, 'response'));
    const mode = a.mfaStatus === 'active' ? 'additional' : 'first';
    const outcome = await options.webauthn.finishRegistration(passkeyOwner(ctx), passkeyBinding(ctx), text(fields, 'flowId'), response, { mode, label: text(fields, 'label').slice(0, MAX_LABEL_LENGTH) }, request(ctx));
    if (!outcome.ok) {
      const message = {
        expired: 'The passkey request expired or was already used. Try again.',
        invalid: 'Your passkey or security key could not be registered. Try again.',
        already_enrolled: 'This passkey is already registered, or multi-factor authentication was turned on meanwhile in another window. Reload the page and try again.',
      }[outcome.reason];
      throw new GatehouseError(`passkey_${outcome.reason}`, outcome.reason === 'already_enrolled' ? 409 : 400, message);
    }
    if (outcome.recoveryCodes) {
      await render(ctx, 'account/recovery-codes', 'security', { title: 'Save your recovery codes', codes: outcome.recoveryCodes, first: true });
      await console.flash(ctx, { kind: 'success', text: `Multi-factor authentication is on. From now on, signing in asks for your passkey "${outcome.label}".` });
      return;
    }
    await done(ctx, `${ACCOUNT_BASE}/security`, 'success', `The passkey "${outcome.label}" was added. You can use it to sign in, with or without your password.`);
  })));

  router.post('/security/authenticators/:id/rename', wrap(onSecurityPage(async (ctx) => {
    await selfService.rename(account(ctx), String((ctx as unknown as { params: { id?: string } }).params.id ?? ''), text(bodyFields(ctx), 'label'), request(ctx));
    await done(ctx, `${ACCOUNT_BASE}/security`, 'success', 'The authenticator was renamed.');
  })));

  router.post('/security/authenticators/:id/remove', fresh, wrap(onSecurityPage(async (ctx) => {
    const { remaining } = await selfService.remove(account(ctx), String((ctx as unknown as { params: { id?: string } }).params.id ?? ''), request(ctx));
    await done(ctx, `${ACCOUNT_BASE}/security`, 'success', remaining === 0 ? 'The authenticator was removed. Multi-factor authentication is now off.' : 'The authenticator was removed. Codes from it no longer work.');
  })));

  router.post('/security/recovery-codes', fresh, wrap(onSecurityPage(async (ctx) => {
    const codes = await selfService.regenerateRecoveryCodes(account(ctx), request(ctx));
    await render(ctx, 'account/recovery-codes', 'security', { title: 'Save your recovery codes', codes, first: false });
  })));

  // Disable MFA: the password and a second factor — a code, or the passkey's answer (the form
  // of an account with passkeys fetches a challenge bound to this console session first).
  router.post('/security/disable/passkey-options', fresh, async (ctx) => {
    const c = ctx as unknown as Context;
    c.type = 'application/json';
    c.body = await selfService.startPasskeyConfirmation(account(c), sessionId(c));
  });

  router.post('/security/disable', fresh, wrap(onSecurityPage(async (ctx) => {
    const fields = bodyFields(ctx);
    const proof: SecondFactorProof = text(fields, 'response')
      ? { passkey: { consoleSession: sessionId(ctx), flowId: text(fields, 'flowId'), response: parseAuthenticationResponse(text(fields, 'response')) } }
      : { code: text(fields, 'code') };
    await selfService.disable(account(ctx), { password: text(fields, 'password'), proof }, request(ctx));
    await done(ctx, `${ACCOUNT_BASE}/security`, 'info', 'Multi-factor authentication is off. Signing in now needs only your password.');
  })));

  // Reset MFA by email: the password, then the emailed link is the second proof (a user who lost the
  // device cannot give a code, so this is not behind the five-minute rule).
  router.post('/security/reset', wrap(onSecurityPage(async (ctx) => {
    const a = account(ctx);
    const outcome = await selfService.requestReset(a, { password: text(bodyFields(ctx), 'password') }, request(ctx));
    if (!outcome.ok) {
      ctx.set('Retry-After', String(outcome.retryAfterSeconds));
      throw new GatehouseError('too_many_requests', 429, `Too many requests for a reset link. Try again in ${Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60))} minutes.`);
    }
    await render(ctx, 'account/reset-sent', 'security', { title: 'Check your email', email: a.email, resetLinkMinutes: options.resetLinkMinutes });
  })));

  // ---- Sessions ----
  const currentUid = (ctx: Context) => console.user(ctx).session.ssoUid;
  const sessionsPage = async (ctx: Context, locals: Record<string, unknown> = {}) => {
    const listed = await options.sessions.list(account(ctx), currentUid(ctx));
    await render(ctx, 'account/sessions', 'sessions', { title: 'Sessions', ...listed, ...locals });
  };
  const onSessionsPage = (work: (ctx: Context) => Promise<void>): Middleware => async (ctx: Context) => {
    try {
      await work(ctx);
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500 || e.code === 'console_signed_out') throw e;
      ctx.status = e.status;
      await sessionsPage(ctx, { error: e.message });
    }
  };
  router.get('/sessions', async (ctx) => {
    await sessionsPage(ctx as unknown as Context);
  });
  router.post('/sessions/end', wrap(onSessionsPage(async (ctx) => {
    await options.sessions.end(account(ctx), text(bodyFields(ctx), 'session'), currentUid(ctx), request(ctx));
    await done(ctx, `${ACCOUNT_BASE}/sessions`, 'success', 'That session was signed out.');
  })));
  router.post('/sessions/end-others', wrap(onSessionsPage(async (ctx) => {
    const ended = await options.sessions.endOthers(account(ctx), currentUid(ctx), request(ctx));
    await done(ctx, `${ACCOUNT_BASE}/sessions`, 'success', ended === 1 ? '1 other session was signed out.' : `${ended} other sessions were signed out.`);
  })));
  router.post('/sessions/browsers/forget', wrap(onSessionsPage(async (ctx) => {
    await options.sessions.forgetBrowser(account(ctx), text(bodyFields(ctx), 'browser'), request(ctx));
    await done(ctx, `${ACCOUNT_BASE}/sessions`, 'success', 'That browser will be asked for a code again at the next sign-in.');
  })));

  // ---- Password ----
  const passwordPage = (ctx: Context, locals: Record<string, unknown> = {}) => render(ctx, 'account/password', 'password', { title: 'Password', minLength: options.minPasswordLength, ...locals });
  router.get('/password', async (ctx) => {
    await passwordPage(ctx as unknown as Context);
  });
  router.post('/password', fresh, async (ctx) => {
    const c = ctx as unknown as Context;
    const fields = bodyFields(c);
    try {
      const { sessionsEnded } = await options.passwordChange.change(
        account(c),
        { current: text(fields, 'current_password'), password: text(fields, 'password'), confirm: text(fields, 'password_confirm') },
        currentUid(c),
        request(c),
      );
      await done(c, `${ACCOUNT_BASE}/password`, 'success', `Your password was changed.${sessionsEnded > 0 ? ` ${sessionsEnded === 1 ? '1 other session was' : `${sessionsEnded} other sessions were`} signed out.` : ''} Remembered browsers will ask for a code again.`);
    } catch (e) {
      if (!isGatehouseError(e) || e.status >= 500 || e.code === 'console_signed_out') throw e;
      ctx.status = e.status;
      await passwordPage(c, { error: e.message });
    }
  });

  const consoleRoutes = console.routes(options.pageMiddleware);
  const signedOut = new Router({ prefix: ACCOUNT_BASE });
  signedOut.get('/signed-out', async (ctx) => {
    await views.render(ctx as unknown as Context, 'console/signed-out', { title: 'Signed out', signInHref: `${ACCOUNT_BASE}/login`, consoleName: 'your account' });
  });
  const pages = router.routes() as unknown as Middleware;
  const linkPages = link.routes() as unknown as Middleware;
  const outPage = signedOut.routes() as unknown as Middleware;
  return (ctx, next) => consoleRoutes(ctx, () => outPage(ctx, () => linkPages(ctx, () => pages(ctx, next))));
}
