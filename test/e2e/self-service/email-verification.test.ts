// Email verification end to end: creating an account mails a link (through a real SMTP server);
// opening it flips `email_verified` in a real ID token and in userinfo (openid-client), works once,
// never confirms an address the account no longer has, and "send again" keeps only the newest link.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { eq } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, uniq } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import { accounts } from '../../../src/store/schema.ts';

const VERIFY_SUBJECT = /^Confirm your email address for Gatehouse$/;

describe(`email verification with a real SMTP server and a standard OIDC client (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: smtp.url }, linkRequestLimits: { perEmail: 5, perIp: 1000, windowSeconds: 900 } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  const url = (path: string) => new URL(path, gh.issuer).href;
  const verificationLinks = (email: string) => smtp.to(email).filter((m) => VERIFY_SUBJECT.test(m.subject)).map((m) => linkIn(m, '/email/verify/'));
  const firstLink = async (email: string) => linkIn(await smtp.waitFor((m) => m.to.includes(email) && VERIFY_SUBJECT.test(m.subject)), '/email/verify/');

  it('mails a link at account creation; opening it makes email_verified true in the ID token and userinfo', async () => {
    const account = await seedAccount(gh.runtime, tenant.id, { name: 'Vera Verify' });
    const mail = await smtp.waitFor((m) => m.to.includes(account.email) && VERIFY_SUBJECT.test(m.subject));
    expect(mail.text).toContain('Fabrikam');
    expect(mail.html).toContain('Confirm my email address');

    const before = await passwordSignIn(config, account.email);
    expect(before.tokens.claims()).toMatchObject({ sub: account.id, email: account.email, email_verified: false });

    const page = await new UserAgent().get(linkIn(mail, '/email/verify/'));
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('Email address confirmed');

    const after = await passwordSignIn(config, account.email);
    expect(after.tokens.claims()).toMatchObject({ sub: account.id, email: account.email, email_verified: true });
    expect(await oidc.fetchUserInfo(config, after.tokens.access_token, account.id)).toMatchObject({ email: account.email, email_verified: true });
    const actions = (await gh.runtime.repos.audit.list({ target: account.id, limit: 50 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['account.created', 'email.verification_sent', 'email.verified']));
  });

  it('lets a link work once, and answers a used, garbage or unknown link with a clear page and a way to a new one', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const link = await firstLink(account.email);
    expect((await new UserAgent().get(link)).status).toBe(200);
    for (const target of [link, url('/email/verify/garbage'), url(`/email/verify/${'Z'.repeat(43)}`)]) {
      const page = await new UserAgent().get(target);
      expect(page.status).toBe(410);
      expect(page.html).toContain('href="/email/verify/resend"');
    }
  });

  it('never confirms an address the account no longer has', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const link = await firstLink(account.email);
    const changed = `changed-${uniq()}@example.com`;
    await gh.runtime.database.db.update(accounts).set({ email: changed }).where(eq(accounts.id, account.id));
    expect((await new UserAgent().get(link)).status).toBe(410);
    expect((await gh.runtime.repos.accounts.findById(account.id))?.emailVerified).toBe(false);
  });

  it('"send again" mails a new link for an unverified address only, and only the newest link works', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const first = await firstLink(account.email);
    const agent = new UserAgent();
    const form = await agent.get(url('/email/verify/resend'));
    const sent = await agent.submit(form, '/email/verify/resend', { email: account.email });
    expect(sent.status).toBe(200);
    expect(textOf(sent.html)).toContain('Check your email');
    const unknown = await agent.submit(form, '/email/verify/resend', { email: `nobody-${uniq()}@example.com` });
    expect(unknown.status).toBe(200);

    await smtp.waitFor((m) => m.to.includes(account.email) && VERIFY_SUBJECT.test(m.subject) && linkIn(m, '/email/verify/') !== first);
    expect((await new UserAgent().get(first)).status).toBe(410);
    const newest = verificationLinks(account.email).at(-1) ?? '';
    expect((await new UserAgent().get(newest)).status).toBe(200);

    // once verified, asking again sends nothing (and says the same)
    const count = smtp.to(account.email).length;
    expect((await agent.submit(form, '/email/verify/resend', { email: account.email })).status).toBe(200);
    await gh.runtime.deferred.settled();
    await gh.runtime.mail.sender.drain();
    expect(smtp.to(account.email)).toHaveLength(count);
  });
});
