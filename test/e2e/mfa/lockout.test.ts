// Lockout path (DESIGN.md §9): 5 consecutive wrong second-factor attempts lock the account's MFA step
// for 15 minutes; the locked page says until when and what to do; while locked even the right code is
// refused (guessing cannot continue); the owner gets an audit event and a mail.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { importAuthenticator, isVerifyPage, postInstead, timeOf } from '../../helpers/mfa.ts';

const FIFTEEN_MINUTES = 15 * 60_000;

describe(`second-factor lockout (${backendName()})`, () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Litware');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  async function toVerifyPage(email: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const page = await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(page)).toBe(true);
    return { agent, start, page };
  }

  async function accountWithApp() {
    const account = await seedAccount(gh.runtime, tenant.id);
    return { account, app: await importAuthenticator(gh.runtime, account) };
  }

  it('locks after the 5th wrong code with a page that says until when and what to do', async () => {
    const { account, app } = await accountWithApp();
    const { agent, page } = await toVerifyPage(account.email);
    let current: Page = page;
    for (const left of [4, 3, 2, 1]) {
      current = await agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
      expect(current.status).toBe(401);
      expect(textOf(current.html)).toContain(`${left} attempt${left === 1 ? '' : 's'} left before the account is locked`);
    }
    const before = Date.now();
    const locked = await agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    expect(locked.status).toBe(429);
    expect(textOf(locked.html)).toContain('Too many attempts');
    expect(textOf(locked.html)).toMatch(/ask your administrator to reset multi-factor authentication/i);
    const until = timeOf(locked)?.getTime() ?? 0;
    expect(until).toBeGreaterThanOrEqual(before + FIFTEEN_MINUTES - 5_000);
    expect(until).toBeLessThanOrEqual(Date.now() + FIFTEEN_MINUTES + 5_000);
  });

  it('refuses the 6th attempt even with the correct code, in this browser and in a new one', async () => {
    const { account, app } = await accountWithApp();
    const { agent, page } = await toVerifyPage(account.email);
    let current: Page = page;
    for (let i = 0; i < 4; i++) current = await agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    await agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI); // 5th: locked

    // the locked page has no form; the attacker re-posts the last verify form with the right code
    const sixth = await agent.submit(current, '/verify', { code: await app.nextCode() }, REDIRECT_URI);
    expect(sixth.status).toBe(429);
    expect(sixth.url).not.toContain(REDIRECT_URI);
    expect(textOf(sixth.html)).toContain('Too many attempts');
    expect((await gh.runtime.repos.authenticators.listForAccount(account.id))[0]?.lastUsedStep).toBe(-1); // the code was not even checked

    // a recovery code is a second factor too: refused while locked
    const viaRecovery = await postInstead(agent, current, '/verify', '/recovery', { code: 'abcd-efgh-jkmn' }, REDIRECT_URI);
    expect(viaRecovery.status).toBe(429);

    // a fresh sign-in with the right password lands on the locked page, without a code field
    const fresh = new UserAgent();
    const start = await startAuthorization(config);
    const login = await fresh.get(start.url.href, REDIRECT_URI);
    const lockedPage = await fresh.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(textOf(lockedPage.html)).toContain('Too many attempts');
    expect(isVerifyPage(lockedPage)).toBe(false);
    expect(timeOf(lockedPage)?.getTime()).toBeGreaterThan(Date.now());
  });

  it('records the failures and the lock in the audit log and mails the owner', async () => {
    const { account, app } = await accountWithApp();
    const { agent, page } = await toVerifyPage(account.email);
    let current: Page = page;
    for (let i = 0; i < 5; i++) current = await agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI);

    const events = await gh.runtime.repos.audit.list({ target: account.id, limit: 100 });
    expect(events.filter((e) => e.action === 'mfa.totp.check_failed')).toHaveLength(5);
    const locked = events.filter((e) => e.action === 'mfa.locked');
    expect(locked).toHaveLength(1);
    expect(locked[0]?.detail).toMatchObject({ lockedUntil: expect.any(String) });
    const mails = gh.mail.filter((m) => m.to === account.email);
    expect(mails.map((m) => m.subject)).toEqual(expect.arrayContaining([expect.stringMatching(/paused after too many wrong codes/)]));
  });

  it('counts wrong recovery codes and wrong TOTP codes together', async () => {
    const { account, app } = await accountWithApp();
    const { agent, page } = await toVerifyPage(account.email);
    let current: Page = page;
    for (let i = 0; i < 3; i++) current = await agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    const recovery = await postInstead(agent, current, '/verify', '/recovery', { code: 'abcd-efgh-jkmn' }, REDIRECT_URI);
    expect(textOf(recovery.html)).toContain('1 attempt left');
    const locked = await agent.submit(recovery, '/recovery', { code: 'abcd-efgh-jkmp' }, REDIRECT_URI);
    expect(locked.status).toBe(429);
  });

  it('starts the count over after a correct code (consecutive failures only)', async () => {
    const { account, app } = await accountWithApp();
    const first = await toVerifyPage(account.email);
    let current: Page = first.page;
    for (let i = 0; i < 4; i++) current = await first.agent.submit(current, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    const tokens = await finishAuthorization(config, first.start, await first.agent.submit(current, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'] });

    const second = await toVerifyPage(account.email);
    const wrong = await second.agent.submit(second.page, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    expect(wrong.status).toBe(401);
    expect(textOf(wrong.html)).toContain('4 attempts left');
  });
});
