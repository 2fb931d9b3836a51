// Resetting one's own MFA by email, every mail through a real SMTP server: from Security Settings
// (password → link) and from "Lost your device?" on the sign-in code page (past the password → link).
// The link works once, in any browser; confirming it removes the authenticators and recovery codes,
// clears the lockout, ends every session, and the next sign-in asks for setup when MFA is required.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { and, count, eq } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { importAuthenticator, isEnrolPage, isPasswordPage, isVerifyPage } from '../../helpers/mfa.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import type { MfaPolicySource } from '../../../src/domain/mfa/policy-source.ts';
import { emailTokens } from '../../../src/store/schema.ts';
import { signInToAccount } from './account-flow.ts';

const LINK_SUBJECT = /^Confirm the reset of multi-factor authentication/;
const DONE_SUBJECT = /^Multi-factor authentication was reset/;

describe(`MFA self reset by email, through a real SMTP server (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  const enforced = new Set<string>();
  const policy: MfaPolicySource = { requiresMfa: (a) => enforced.has(a.id) };

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ policy, captureMail: false, env: { SMTP_URL: smtp.url } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  const url = (path: string) => `${gh.issuer}${path}`;
  const rows = async (accountId: string) => ({
    authenticators: await gh.runtime.repos.authenticators.countForAccount(accountId),
    codes: await gh.runtime.repos.recoveryCodes.countUnused(accountId),
    links: (await gh.runtime.database.db.select({ n: count() }).from(emailTokens).where(and(eq(emailTokens.accountId, accountId), eq(emailTokens.purpose, 'mfa_reset'))))[0]?.n ?? 0,
  });
  const mailAfter = (before: number, email: string, subject: RegExp) => smtp.waitFor((m) => smtp.received.indexOf(m) >= before && m.to.includes(email) && subject.test(m.subject));

  /** Opens the emailed link in another browser, confirms, and returns the final page. */
  async function confirmInAnotherBrowser(link: string) {
    const other = new UserAgent();
    const confirm = await other.get(link);
    expect(confirm.status).toBe(200);
    expect(textOf(confirm.html)).toContain('Reset multi-factor authentication');
    return { other, done: await other.submit(confirm, '/account/mfa/reset/', {}) };
  }

  it('from Security Settings: password → mail → link in any browser → authenticators, codes and sessions gone; the link works once', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    await gh.runtime.repos.recoveryCodes.replace(account.id, ['$argon2id$placeholder']);
    const { agent, page } = await signInToAccount(gh, account.email, app);

    const wrong = await agent.submit(page, '/security/reset', { password: 'not my password' });
    expect(wrong.status).toBe(401);
    expect((await rows(account.id)).links).toBe(0);

    const before = smtp.received.length;
    const sent = await agent.submit(page, '/security/reset', { password: PASSWORD });
    expect(sent.status).toBe(200);
    expect(textOf(sent.html)).toContain('Check your email');
    expect(sent.html).toContain('id="resend"');
    const mail = await mailAfter(before, account.email, LINK_SUBJECT);
    const link = linkIn(mail, '/account/mfa/reset/');
    // the link is stored only as a digest
    expect(await gh.runtime.database.db.select().from(emailTokens).where(eq(emailTokens.accountId, account.id)).then((r) => r.map((t) => t.tokenHash))).not.toContain(link.split('/').pop());
    expect((await rows(account.id)).authenticators).toBe(1); // nothing changes until the link is confirmed

    const { done } = await confirmInAnotherBrowser(link);
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('Multi-factor authentication was reset');
    expect(done.html).toContain('href="/account/login"');
    expect(await rows(account.id)).toMatchObject({ authenticators: 0, codes: 0 });
    await mailAfter(before, account.email, DONE_SUBJECT);
    expect((await gh.runtime.repos.audit.list({ target: account.id, limit: 50 })).map((e) => e.action)).toEqual(expect.arrayContaining(['mfa.reset_requested', 'mfa.reset_by_self']));

    // every session ended: the console in the first browser asks for a sign-in again
    expect(isPasswordPage(await agent.get(url('/account/security')))).toBe(true);
    // single use
    const again = await new UserAgent().get(link);
    expect(again.status).toBe(410);
  });

  it('from "Lost your device?" past the password: mail (with resend) → reset → the next sign-in asks to set MFA up again when required', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    await importAuthenticator(gh.runtime, account);
    enforced.add(account.id);
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const verify = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    const uid = /\/interaction\/([^/"]+)\/lost/.exec(verify.html)?.[1] ?? '';
    const lost = await agent.get(url(`/interaction/${uid}/lost`));
    expect(textOf(lost.html)).toContain('Email me a reset link');

    const before = smtp.received.length;
    const sent = await agent.submit(lost, '/reset-link', {});
    expect(sent.status).toBe(200);
    expect(textOf(sent.html)).toContain('Check your email');
    const first = linkIn(await mailAfter(before, account.email, LINK_SUBJECT), '/account/mfa/reset/');
    const beforeResend = smtp.received.length;
    await agent.submit(sent, '/reset-link', {}); // "Resend": only the newest link works
    const second = linkIn(await mailAfter(beforeResend, account.email, LINK_SUBJECT), '/account/mfa/reset/');
    expect((await new UserAgent().get(first)).status).toBe(410);

    const { done } = await confirmInAnotherBrowser(second);
    expect(done.status).toBe(200);
    expect(await rows(account.id)).toMatchObject({ authenticators: 0, codes: 0 });

    const fresh = new UserAgent();
    const again = await fresh.get((await startAuthorization(config)).url.href, REDIRECT_URI);
    const next = await fresh.submit(again, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isEnrolPage(next)).toBe(true);
  });

  it('refuses a garbage or unknown link with 410, recorded without the token', async () => {
    const res = await new UserAgent().get(url(`/account/mfa/reset/${'A'.repeat(43)}`));
    expect(res.status).toBe(410);
    expect(textOf(res.html)).toContain("This link can't be used");
  });
});
