// "Remember this browser" end to end, mail through a real SMTP server: after a code with the box
// ticked, a later sign-in in that browser skips the code and yields amr ["pwd","mfa"] (no otp) and
// acr mfa; prompt=login and max_age=0 ask for a code again; the record is refused after the user
// forgets it under Sessions and after a password change (which also ends the other sessions and is
// mailed). The Sessions page shows where each session signed in from and signs others out.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { importAuthenticator, isPasswordPage, isVerifyPage, type Authenticator } from '../../helpers/mfa.ts';
import { startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import { signInToAccount } from './account-flow.ts';

const NEW_PASSWORD = 'another long passphrase';

type Jar = Map<string, { name: string; value: string; path: string }>;
const jarOf = (agent: UserAgent) => (agent as unknown as { cookies: Jar }).cookies;

/** A fresh browser profile that kept only the remember cookie (the SSO session is gone). */
function onlyRememberCookie(agent: UserAgent): UserAgent {
  const fresh = new UserAgent();
  for (const [k, c] of jarOf(agent)) if (c.name.endsWith('gh_remember')) jarOf(fresh).set(k, c);
  return fresh;
}

describe(`remember this browser (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: smtp.url, REMEMBER_BROWSER_DAYS: '30' } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  /** A sign-in at the relying party: password, then the code (with or without the box) when asked. */
  async function signIn(agent: UserAgent, email: string, app: Authenticator, options: { remember?: boolean; params?: Record<string, string>; password?: string } = {}) {
    const start = await startAuthorization(config, options.params ?? {});
    const login = await agent.get(start.url.href, REDIRECT_URI);
    expect(isPasswordPage(login)).toBe(true);
    let page = await agent.submit(login, '/login', { email, password: options.password ?? PASSWORD }, REDIRECT_URI);
    const askedForCode = isVerifyPage(page);
    if (askedForCode) {
      if (options.remember !== undefined) expect(textOf(page.html)).toContain("Don't ask for a code on this browser for 30 days");
      page = await agent.submit(page, '/verify', { code: await app.nextCode(), ...(options.remember ? { remember: 'yes' } : {}) }, REDIRECT_URI);
    }
    const tokens = await finishAuthorization(config, start, page);
    return { askedForCode, claims: tokens.claims() };
  }

  it('skips the code in the remembered browser with amr ["pwd","mfa"] and acr mfa; prompt=login and max_age=0 ask again', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const first = new UserAgent();
    const typed = await signIn(first, account.email, app, { remember: true });
    expect(typed).toMatchObject({ askedForCode: true, claims: { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' } });

    const remembered = await signIn(onlyRememberCookie(first), account.email, app);
    expect(remembered).toMatchObject({ askedForCode: false, claims: { amr: ['pwd', 'mfa'], acr: 'urn:gatehouse:acr:mfa' } });

    expect((await signIn(onlyRememberCookie(first), account.email, app, { params: { max_age: '0' } })).askedForCode).toBe(true);
    expect((await signIn(onlyRememberCookie(first), account.email, app, { params: { prompt: 'login' } })).askedForCode).toBe(true);
    // another account in the same browser is not remembered by this cookie
    const other = await seedAccount(gh.runtime, tenant.id);
    const otherApp = await importAuthenticator(gh.runtime, other);
    expect((await signIn(onlyRememberCookie(first), other.email, otherApp)).askedForCode).toBe(true);
    const actions = (await gh.runtime.repos.audit.list({ target: account.id, limit: 100 })).map((e) => e.action);
    expect(actions).toContain('browser.remembered');
  });

  it('lists sessions (IP and browser) and remembered browsers; forgetting one makes the next sign-in ask for a code', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const phone = new UserAgent();
    await signIn(phone, account.email, app, { remember: true });
    const { agent } = await signInToAccount(gh, account.email, app, '/account/sessions');
    const page = await agent.get(`${gh.issuer}/account/sessions`);
    expect(page.status).toBe(200);
    expect(page.html.match(/data-session="/g)).toHaveLength(2);
    expect(textOf(page.html)).toContain('This browser');
    expect(textOf(page.html)).toContain('127.0.0.1');
    expect(page.html.match(/data-browser="/g)).toHaveLength(1);

    const forgotten = await agent.submit(page, '/sessions/browsers/forget', {});
    expect(textOf(forgotten.html)).toContain('will be asked for a code again');
    expect(forgotten.html).toContain('id="no-browsers"');
    expect((await signIn(onlyRememberCookie(phone), account.email, app)).askedForCode).toBe(true);

    // sign out all other sessions: the phone's SSO session ends, this one stays
    const ended = await agent.submit(forgotten, '/sessions/end-others', {});
    expect(textOf(ended.html)).toMatch(/\d other sessions? (was|were) signed out/);
    expect(ended.html.match(/data-session="/g)).toHaveLength(1);
    const start = await startAuthorization(config);
    expect(isPasswordPage(await phone.get(start.url.href, REDIRECT_URI))).toBe(true);
  });

  it('a password change forgets every remembered browser, ends the other sessions and is mailed', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const laptop = new UserAgent();
    await signIn(laptop, account.email, app, { remember: true });
    const { agent, page } = await signInToAccount(gh, account.email, app, '/account/password');
    const before = smtp.received.length;
    const changed = await agent.submit(page, '/account/password', { current_password: PASSWORD, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    expect(textOf(changed.html)).toContain('Your password was changed. 1 other session was signed out.');
    await smtp.waitFor((m) => smtp.received.indexOf(m) >= before && m.to.includes(account.email) && /password was changed/.test(m.subject));
    expect(await gh.runtime.repos.rememberedBrowsers.listUsable(account.id, new Date())).toHaveLength(0);
    expect((await signIn(onlyRememberCookie(laptop), account.email, app, { password: NEW_PASSWORD })).askedForCode).toBe(true);
  });

  it('refuses a password change with a wrong current password (401) or without CSRF (403), changing nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await signInToAccount(gh, account.email, app, '/account/password');
    const hash = async () => (await gh.runtime.repos.accounts.findById(account.id))?.passwordHash;
    const original = await hash();
    const wrong = await agent.submit(page, '/account/password', { current_password: 'nope nope nope', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    const forged = await agent.request(`${gh.issuer}/account/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ current_password: PASSWORD, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD }),
    });
    expect(forged.status).toBe(403);
    expect(await hash()).toBe(original);
  });
});
