// Changing one's email address from the account console, every mail through a real SMTP server: the
// password is asked (and counted with the password page's attempts), a single-use link goes to the
// new address and a notice to the old one, nothing changes until the link is confirmed by a POST (a
// GET, as a mail scanner makes, spends nothing), and then the address is switched, verified, audited,
// the old address told, and a fresh ID token from a standard OIDC client carries it. Replayed, expired
// and superseded links are refused, parallel confirmations switch once, and an address another account
// of the tenant took meanwhile is refused with nothing changed. Without SMTP_URL the same mails land
// in the outbox folder.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as oidc from 'openid-client';
import { and, eq, sql } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, uniq } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { linkIn, startTestSmtp, type ReceivedMail, type TestSmtp } from '../../helpers/smtp.ts';
import { OUTBOX_DIR } from '../../../src/mail/mailer.ts';
import { accounts, emailTokens } from '../../../src/store/schema.ts';
import { postWithoutCsrf, signInToAccount } from './account-flow.ts';

const LINK_SUBJECT = /^Verify your new email address for Gatehouse$/;
const REQUESTED_SUBJECT = /^A change of your Gatehouse email address was requested$/;
const CHANGED_SUBJECT = /^The email address of your Gatehouse account was changed$/;
const LINK_PATH = '/email/change/';
/** what a new account with an unverified address is sent when it is created. */
const VERIFY_SUBJECT = /^Confirm your email address for Gatehouse$/;

describe(`changing the email address, through a real SMTP server and a standard OIDC client (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, now: () => new Date(Date.now() + clockOffsetMs), env: { SMTP_URL: smtp.url }, linkRequestLimits: { perEmail: 5, perIp: 1000, windowSeconds: 900 } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  const newAddress = () => `moved-${uniq()}@example.net`;
  const mailAfter = (before: number, email: string, subject: RegExp): Promise<ReceivedMail> =>
    smtp.waitFor((m) => smtp.received.indexOf(m) >= before && m.to.includes(email) && subject.test(m.subject));
  const stored = async (accountId: string) => {
    const [row] = await gh.runtime.database.db.select({ email: accounts.email, verified: accounts.emailVerified }).from(accounts).where(eq(accounts.id, accountId));
    return row;
  };
  const changeLinks = async (accountId: string) =>
    gh.runtime.database.db.select().from(emailTokens).where(and(eq(emailTokens.accountId, accountId), eq(emailTokens.purpose, 'email_change')));
  const actionsFor = async (accountId: string) => (await gh.runtime.repos.audit.list({ target: accountId, limit: 100 })).map((e) => e.action);

  /** Signs in to the profile page and asks for the change; returns the link mailed to the new address. */
  async function requestChange(account: { email: string }, to: string): Promise<{ agent: UserAgent; page: Page; sent: Page; link: string }> {
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    const before = smtp.received.length;
    const sent = await agent.submit(page, '/profile/email', { email: to, password: PASSWORD });
    expect(sent.status).toBe(200);
    const mail = await mailAfter(before, to, LINK_SUBJECT);
    return { agent, page, sent, link: linkIn(mail, LINK_PATH) };
  }

  /** Opens the link in a browser with no session and presses the button. */
  async function confirm(link: string): Promise<Page> {
    const browser = new UserAgent();
    const opened = await browser.get(link);
    expect(opened.status).toBe(200);
    return browser.submit(opened, LINK_PATH, {});
  }

  it('password → link to the new address, notice to the old → confirm in another browser → switched, verified, audited, old address told, fresh ID token says so', async () => {
    const account = await seedAccount(gh.runtime, tenant.id, { name: 'Mo Mover' });
    const to = newAddress();
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    expect(page.html).toContain('id="change-email"');

    const wrong = await agent.submit(page, '/profile/email', { email: to, password: 'not my password' });
    expect(wrong.status).toBe(401);
    expect(textOf(wrong.html)).toContain('Your current password is not correct.');
    expect(await changeLinks(account.id)).toHaveLength(0);

    const before = smtp.received.length;
    const sent = await agent.submit(page, '/profile/email', { email: to, password: PASSWORD });
    expect(sent.status).toBe(200);
    expect(textOf(sent.html)).toContain(`We sent a link to ${to}`);
    expect(sent.html).toContain('id="resend"');
    const mail = await mailAfter(before, to, LINK_SUBJECT);
    expect(mail.to).toEqual([to]);
    expect(mail.text).toContain(account.email);
    const link = linkIn(mail, LINK_PATH);
    const notice = await mailAfter(before, account.email, REQUESTED_SUBJECT);
    expect(notice.text).toContain(to);
    expect(notice.text).not.toContain(LINK_PATH);
    // only the digest is stored, and nothing changed yet
    expect((await changeLinks(account.id)).map((t) => t.tokenHash)).not.toContain(link.split('/').pop());
    expect(await stored(account.id)).toEqual({ email: account.email, verified: false });

    // a mail scanner's GETs spend nothing and change nothing
    const browser = new UserAgent();
    await new UserAgent().get(link);
    const opened = await browser.get(link);
    expect(opened.status).toBe(200);
    expect(textOf(opened.html)).toContain(`from ${account.email} to ${to}`);
    expect(await stored(account.id)).toEqual({ email: account.email, verified: false });

    const done = await browser.submit(opened, LINK_PATH, {});
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain(`${to} is now the confirmed email address`);
    expect(await stored(account.id)).toEqual({ email: to, verified: true });
    const told = await mailAfter(before, account.email, CHANGED_SUBJECT);
    expect(told.text).toContain(`was changed to ${to}`);
    const changed = (await gh.runtime.repos.audit.list({ target: account.id, limit: 100 })).find((e) => e.action === 'email.changed');
    expect(changed).toMatchObject({ actorAccountId: account.id, detail: { from: account.email, to } });
    expect(await actionsFor(account.id)).toContain('email.change_requested');

    // the console session that asked stays signed in, and shows the new address
    const profile = await agent.get(`${gh.issuer}/account/profile`);
    expect(profile.status).toBe(200);
    expect(textOf(profile.html)).toContain(`${to} (confirmed)`);

    // sign-in now uses the new address; a fresh ID token carries it, verified
    const { tokens } = await passwordSignIn(config, to);
    expect(tokens.claims()).toMatchObject({ sub: account.id, email: to, email_verified: true });

    // single use
    for (const target of [link, `${gh.issuer}${LINK_PATH}garbage`, `${gh.issuer}${LINK_PATH}${'Z'.repeat(43)}`]) {
      const refused = await new UserAgent().get(target);
      expect(refused.status).toBe(410);
      expect(textOf(refused.html)).toContain("This link can't be used");
      expect(refused.html).toContain('href="/account/profile"');
    }
    // a replayed POST (the button of a page opened before the link was used) is refused too
    expect((await browser.submit(opened, LINK_PATH, {})).status).toBe(410);
    expect(await stored(account.id)).toEqual({ email: to, verified: true });
  });

  it('refuses an invalid address, the current one, or one another account of the tenant has, with a clear 4xx and no link', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const neighbour = await seedAccount(gh.runtime, tenant.id);
    const elsewhere = await seedAccount(gh.runtime, (await seedTenant(gh.runtime)).id);
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    for (const [email, status, says] of [
      ['not an address', 400, 'Enter the new email address'],
      [account.email.toUpperCase(), 400, 'already the email address of your account'],
      [neighbour.email, 409, `Another account of Fabrikam already uses ${neighbour.email}`],
    ] as const) {
      const answer = await agent.submit(page, '/profile/email', { email, password: PASSWORD });
      expect(answer.status).toBe(status);
      expect(textOf(answer.html)).toContain(says);
    }
    expect(await changeLinks(account.id)).toHaveLength(0);
    // one address may own one account per tenant: an address used in another tenant is fine
    const other = await agent.submit(page, '/profile/email', { email: elsewhere.email, password: PASSWORD });
    expect(other.status).toBe(200);
  });

  it('refuses a form without its CSRF token and changes nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    const forged = await postWithoutCsrf(agent, page, '/profile/email', { email: newAddress(), password: PASSWORD });
    expect(forged.status).toBe(403);
    expect(await changeLinks(account.id)).toHaveLength(0);
  });

  it('refuses the change without a recent sign-in (401, "confirm it\'s you") and mails nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    // the new account's own verification mail goes out through the queue: counted before, not after
    await smtp.waitFor((m) => m.to.includes(account.email) && VERIFY_SUBJECT.test(m.subject));
    const before = smtp.received.length;
    clockOffsetMs = 6 * 60 * 1000; // the sign-in is now more than five minutes old
    try {
      const stale = await agent.submit(page, '/profile/email', { email: newAddress(), password: PASSWORD });
      expect(stale.status).toBe(401);
      expect(stale.html).toContain(`/account/confirm?return_to=${encodeURIComponent('/account/profile')}`);
    } finally {
      clockOffsetMs = 0;
    }
    expect(await changeLinks(account.id)).toHaveLength(0);
    expect(smtp.received.slice(before).filter((m) => m.to.includes(account.email))).toEqual([]);
  });

  it('counts wrong passwords with the password page: after ten, both refuse even the right password', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    for (let i = 0; i < 10; i++) expect((await agent.submit(page, '/profile/email', { email: newAddress(), password: `wrong ${i}` })).status).toBe(401);
    expect((await agent.submit(page, '/profile/email', { email: newAddress(), password: PASSWORD })).status).toBe(429);
    const passwordPage = await agent.get(`${gh.issuer}/account/password`);
    const refused = await agent.submit(passwordPage, '/account/password', { current_password: PASSWORD, password: 'a brand new passphrase', password_confirm: 'a brand new passphrase' });
    expect(refused.status).toBe(429);
    expect(await changeLinks(account.id)).toHaveLength(0);
  });

  it('refuses an expired link with a clear page and changes nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { link } = await requestChange(account, newAddress());
    await gh.runtime.database.db.update(emailTokens).set({ expiresAt: sql`now() - interval '1 minute'` }).where(and(eq(emailTokens.accountId, account.id), eq(emailTokens.purpose, 'email_change')));
    const opened = await new UserAgent().get(link);
    expect(opened.status).toBe(410);
    expect(textOf(opened.html)).toContain('expired');
    expect(await stored(account.id)).toMatchObject({ email: account.email });
  });

  it('"Resend" supersedes the earlier link: only the newest one works', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const to = newAddress();
    const { agent, sent, link: first } = await requestChange(account, to);
    const before = smtp.received.length;
    const again = await agent.submit(sent, '/profile/email', { password: PASSWORD });
    expect(again.status).toBe(200);
    const second = linkIn(await mailAfter(before, to, LINK_SUBJECT), LINK_PATH);
    expect(second).not.toBe(first);
    const stale = await new UserAgent().get(first);
    expect(stale.status).toBe(410);
    expect(await stored(account.id)).toMatchObject({ email: account.email });
    expect((await confirm(second)).status).toBe(200);
    expect(await stored(account.id)).toEqual({ email: to, verified: true });
  });

  it('a newer request for another address supersedes the older one', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page, link: first } = await requestChange(account, newAddress());
    const later = newAddress();
    const before = smtp.received.length;
    expect((await agent.submit(page, '/profile/email', { email: later, password: PASSWORD })).status).toBe(200);
    const second = linkIn(await mailAfter(before, later, LINK_SUBJECT), LINK_PATH);
    const browser = new UserAgent();
    expect((await browser.get(first)).status).toBe(410);
    expect((await confirm(second)).status).toBe(200);
    expect(await stored(account.id)).toEqual({ email: later, verified: true });
  });

  it('parallel confirmations of one link switch the address exactly once', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const to = newAddress();
    const { link } = await requestChange(account, to);
    const browsers = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const browser = new UserAgent();
        return { browser, opened: await browser.get(link) };
      }),
    );
    const answers = await Promise.all(browsers.map(({ browser, opened }) => browser.submit(opened, LINK_PATH, {})));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410, 410, 410, 410]);
    expect((await actionsFor(account.id)).filter((a) => a === 'email.changed')).toHaveLength(1);
    expect(await stored(account.id)).toEqual({ email: to, verified: true });
  });

  it('refuses the link when another account of the tenant took the address meanwhile, and changes nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const to = newAddress();
    const { link } = await requestChange(account, to);
    const taker = await seedAccount(gh.runtime, tenant.id, { email: to });
    const refused = await confirm(link);
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain('was not changed');
    expect(await stored(account.id)).toEqual({ email: account.email, verified: false });
    expect(await stored(taker.id)).toMatchObject({ email: to });
    expect(await actionsFor(account.id)).not.toContain('email.changed');
  });

  it('links mailed to the old address before the change no longer act on the account (password reset, MFA reset)', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const passwordReset = await gh.runtime.links.issue('password_reset', { email: account.email, accountIds: [account.id] });
    const mfaReset = await gh.runtime.links.issue('mfa_reset', { accountId: account.id, email: account.email });
    expect((await new UserAgent().get(passwordReset.url)).status).toBe(200);
    const { link } = await requestChange(account, newAddress());
    expect((await confirm(link)).status).toBe(200);
    expect((await new UserAgent().get(passwordReset.url)).status).toBe(410);
    expect((await new UserAgent().get(mfaReset.url)).status).toBe(410);
  });

  it('a password change after the request cancels the pending change ("this wasn\'t me")', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, link } = await requestChange(account, newAddress());
    const passwordPage = await agent.get(`${gh.issuer}/account/password`);
    const changed = await agent.submit(passwordPage, '/account/password', { current_password: PASSWORD, password: 'a brand new passphrase', password_confirm: 'a brand new passphrase' });
    expect(changed.status).toBe(200);
    expect((await new UserAgent().get(link)).status).toBe(410);
    expect(await stored(account.id)).toMatchObject({ email: account.email });
  });
});

describe(`changing the email address on the embedded default's outbox (${backendName()})`, () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse({ captureMail: false });
  });
  afterAll(() => gh?.stop());

  it('writes the link to the new address and the notices to the old one as .eml files', async () => {
    const tenant = await seedTenant(gh.runtime, 'organization', 'Outbox Org');
    const account = await seedAccount(gh.runtime, tenant.id);
    const to = `outbox-${uniq()}@example.net`;
    const { agent, page } = await signInToAccount(gh, account.email, undefined, '/account/profile');
    expect((await agent.submit(page, '/profile/email', { email: to, password: PASSWORD })).status).toBe(200);
    const dir = path.join(gh.runtime.config.dataDir, OUTBOX_DIR);
    const mails = async () => {
      await gh.runtime.mail.sender.drain();
      const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
      return Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
    };
    const linkMail = (await mails()).find((m) => m.includes(`To: ${to}`) && m.includes('Subject: Verify your new email address for Gatehouse'));
    expect(linkMail).toBeDefined();
    expect((await mails()).some((m) => m.includes(`To: ${account.email}`) && m.includes('Subject: A change of your Gatehouse email address was requested'))).toBe(true);
    const link = linkIn({ text: (linkMail ?? '').replace(/=\r?\n/g, '').replace(/=3D/g, '=') }, LINK_PATH);
    const browser = new UserAgent();
    const opened = await browser.get(link);
    expect((await browser.submit(opened, LINK_PATH, {})).status).toBe(200);
    expect((await mails()).some((m) => m.includes(`To: ${account.email}`) && m.includes('Subject: The email address of your Gatehouse account was changed'))).toBe(true);
  });
});
