// Forgotten password end to end over HTTP, every mail through a real SMTP server: the request answers
// the same for an unknown address (status, page, and roughly the time), the emailed link works once,
// expires, is replaced by a newer one, ends every session of the account, and never bypasses MFA.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { count } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent, findForm, textOf, type Page } from '../../helpers/user-agent.ts';
import { importAuthenticator, isPasswordPage, isVerifyPage } from '../../helpers/mfa.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import { createOneTimeLinks } from '../../../src/domain/one-time-links.ts';
import { emailTokens, mailQueue } from '../../../src/store/schema.ts';

const NEW_PASSWORD = 'a brand new passphrase';
const RESET_SUBJECT = /^Reset your Gatehouse password$/;

describe(`forgotten password over HTTP, mail through a real SMTP server (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({
      captureMail: false,
      env: { SMTP_URL: smtp.url },
      linkRequestLimits: { perEmail: 3, perIp: 1000, windowSeconds: 900 },
    });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  const url = (path: string) => new URL(path, gh.issuer).href;
  const resetMailFor = (email: string) => smtp.waitFor((m) => m.to.includes(email) && RESET_SUBJECT.test(m.subject));
  const actionsFor = async (accountId: string) => (await gh.runtime.repos.audit.list({ target: accountId, limit: 100 })).map((e) => e.action);
  const rows = async () => ({
    tokens: (await gh.runtime.database.db.select({ n: count() }).from(emailTokens))[0]?.n ?? 0,
    mail: (await gh.runtime.database.db.select({ n: count() }).from(mailQueue))[0]?.n ?? 0,
  });

  /** The sign-in page of a new authorization, then "Forgot password?" from it. */
  async function forgotFromSignIn(agent = new UserAgent()) {
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const href = /href="(\/password\/forgot\?interaction=[^"]+)"/.exec(login.html)?.[1];
    if (!href) throw new Error(`no "Forgot password?" link on the sign-in page:\n${login.html}`);
    const uid = new URL(href, gh.issuer).searchParams.get('interaction') ?? '';
    return { agent, start, uid, forgot: await agent.get(url(href)) };
  }

  /** Asks for a link for `email` on a fresh forgot page and returns the answer page. */
  async function requestLink(email: string, agent = new UserAgent()): Promise<Page> {
    const forgot = await agent.get(url('/password/forgot'));
    return agent.submit(forgot, '/password/forgot', { email });
  }

  /** The page the emailed link opens, after a request for `email`. */
  async function openResetLink(email: string, agent = new UserAgent()) {
    const before = smtp.received.length;
    await requestLink(email, agent);
    const mail = await smtp.waitFor((m) => smtp.received.indexOf(m) >= before && m.to.includes(email) && RESET_SUBJECT.test(m.subject));
    const link = linkIn(mail, '/password/reset/');
    return { mail, link, page: await agent.get(link) };
  }

  it('offers "Forgot password?" on the sign-in page, keeps the sign-in, and after the new password returns to it', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, start, uid, forgot } = await forgotFromSignIn();
    expect(forgot.status).toBe(200);
    expect(forgot.html).toContain(`href="/interaction/${uid}"`); // "Back to sign-in"
    const sent = await agent.submit(forgot, '/password/forgot', { email: account.email });
    expect(sent.status).toBe(200);
    expect(textOf(sent.html)).toContain('Check your email');

    const link = linkIn(await resetMailFor(account.email), '/password/reset/');
    const form = await agent.get(link);
    expect(form.status).toBe(200);
    expect(form.html).toContain('autocomplete="new-password"');
    const changed = await agent.submit(form, '/password/reset/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    expect(textOf(changed.html)).toContain('Your password was changed');

    // "Continue to sign in" is the same authorization the user started from
    expect(changed.html).toContain(`href="/interaction/${uid}"`);
    const signIn = await agent.get(url(`/interaction/${uid}`), REDIRECT_URI);
    expect(isPasswordPage(signIn)).toBe(true);
    const tokens = await finishAuthorization(config, start, await agent.submit(signIn, '/login', { email: account.email, password: NEW_PASSWORD }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, amr: ['pwd'] });
  });

  /**
   * One POST timed by a client on its own thread: the server runs in this test's process, and after
   * answering it does the deferred lookup (on the embedded default, PGlite statements on this thread),
   * which would delay an in-process client's reading of the answer but not a real client's.
   */
  function timedPost(request: { url: string; headers: Record<string, string>; body: string }): Promise<{ ms: number; page: Page }> {
    const code = `
      const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
      const startedAt = performance.now();
      fetch(workerData.url, { method: 'POST', headers: workerData.headers, body: workerData.body, redirect: 'manual' })
        .then(async (res) => parentPort.postMessage({ ms: performance.now() - startedAt, status: res.status, html: await res.text() }))
        .catch((err) => parentPort.postMessage({ error: String(err) }));`;
    return new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: request });
      worker.once('message', (m: { ms: number; status: number; html: string } | { error: string }) => {
        void worker.terminate();
        if ('error' in m) reject(new Error(m.error));
        else resolve({ ms: m.ms, page: { url: request.url, status: m.status, html: m.html } });
      });
      worker.once('error', reject);
    });
  }

  it('answers an unknown address exactly as a known one: same status, same page, about the same time, and mails nobody', async () => {
    const PAIRS = 16;
    const samples: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
    const pages: Record<'known' | 'unknown', Page[]> = { known: [], unknown: [] };
    const unknownAddresses: string[] = [];
    const known = [];
    for (let i = 0; i < PAIRS; i++) known.push(await seedAccount(gh.runtime, tenant.id));
    for (let i = 0; i < PAIRS; i++) {
      // each pair is measured back to back, in alternating order, so load from elsewhere hits both kinds alike
      const order = i % 2 === 0 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
      for (const kind of order) {
        const email = kind === 'known' ? (known[i]?.email ?? '') : `nobody-${uniq()}@example.com`;
        if (kind === 'unknown') unknownAddresses.push(email);
        const agent = new UserAgent();
        const forgot = await agent.get(url('/password/forgot'));
        const { ms, page } = await timedPost(agent.formRequest(forgot, '/password/forgot', { email }));
        samples[kind][i] = ms;
        await gh.runtime.deferred.settled(); // a known address's mail work must not slow the next sample
        // the page differs only by the form's CSRF token and the address the user typed
        pages[kind].push({ ...page, html: page.html.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""').replaceAll(email, 'ADDRESS') });
      }
    }
    for (const kind of ['known', 'unknown'] as const) expect(pages[kind].map((p) => p.status)).toEqual(Array(PAIRS).fill(200));
    expect(new Set([...pages.known, ...pages.unknown].map((p) => p.html)).size).toBe(1);

    // The lookup, the link and the mail happen after the answer, so neither kind is slower. A sign test
    // over the pairs, not a difference of means: on a busy machine single samples vary by far more than
    // the work an answer could leak, but work done before answering would make one kind slower in
    // (nearly) every pair. With no difference, one kind is slower in 14 or more of 16 pairs with
    // probability 0.2 %.
    const knownSlower = samples.known.filter((k, i) => k > (samples.unknown[i] ?? 0)).length;
    expect(knownSlower).toBeLessThanOrEqual(13);
    expect(PAIRS - knownSlower).toBeLessThanOrEqual(13);

    // every known address got its link; no unknown address got anything
    for (const account of known) await resetMailFor(account.email);
    await gh.runtime.deferred.settled();
    await gh.runtime.mail.sender.drain();
    for (const address of unknownAddresses) expect(smtp.to(address)).toEqual([]);
  });

  it('lets a link work once: opened again, it shows a clear page with the way to a new link', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const { link, page } = await openResetLink(account.email, agent);
    await agent.submit(page, '/password/reset/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });

    for (const again of [await agent.get(link), await new UserAgent().get(link)]) {
      expect(again.status).toBe(410);
      expect(textOf(again.html)).toContain("This link can't be used");
      expect(again.html).toContain('href="/password/forgot"');
    }
    // a replayed form post changes nothing either
    const replay = await agent.submit(page, '/password/reset/', { password: 'yet another passphrase', password_confirm: 'yet another passphrase' });
    expect(replay.status).toBe(410);
    await passwordSignIn(config, account.email, NEW_PASSWORD);
    expect(await actionsFor(account.id)).toEqual(expect.arrayContaining(['password.reset_requested', 'password.changed', 'account.sessions.ended']));
    expect((await gh.runtime.repos.audit.list({ action: 'password.reset_link.refused', limit: 10 })).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses an expired link (issued 31 minutes ago) and changes nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const before = await gh.runtime.repos.accounts.findById(account.id);
    const thirtyOneMinutesAgo = new Date(Date.now() - 31 * 60_000);
    const pastLinks = createOneTimeLinks({ emailTokens: gh.runtime.repos.emailTokens, baseUrl: gh.issuer, now: () => thirtyOneMinutesAgo });
    const expired = await pastLinks.issue('password_reset', { email: account.email, accountIds: [account.id] });
    expect(expired.expiresAt.getTime()).toBeLessThan(Date.now());

    const agent = new UserAgent();
    const page = await agent.get(expired.url);
    expect(page.status).toBe(410);
    expect(textOf(page.html)).toContain('Request a new link');
    // a hand-made post with a valid CSRF token does not get further
    const forgot = await agent.get(url('/password/forgot'));
    const form = findForm(forgot.html, '/password/forgot');
    const res = await agent.request(expired.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.hidden, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD }),
    });
    expect(res.status).toBe(410);
    expect((await gh.runtime.repos.accounts.findById(account.id))?.passwordHash).toBe(before?.passwordHash);
    expect(await actionsFor(account.id)).not.toContain('password.changed');
  });

  it('keeps only the newest link working after "send again"', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const first = await openResetLink(account.email, agent);
    const sent = await requestLink(account.email, agent);
    const resend = await agent.submit(sent, '/password/forgot', {}); // the "Send the link again" button
    expect(resend.status).toBe(200);
    const mails = async () => smtp.to(account.email).filter((m) => RESET_SUBJECT.test(m.subject));
    await smtp.waitFor((m) => m.to.includes(account.email) && RESET_SUBJECT.test(m.subject) && linkIn(m, '/password/reset/') !== first.link);
    await gh.runtime.deferred.settled();
    await gh.runtime.mail.sender.drain();
    const links = (await mails()).map((m) => linkIn(m, '/password/reset/'));
    expect(new Set(links).size).toBe(3);
    // the two later requests ran side by side, so their mails may arrive in either order: exactly one
    // link works, and it is not the first one
    const statuses = await Promise.all(links.map(async (l) => [l, (await new UserAgent().get(l)).status] as const));
    expect(statuses.filter(([, status]) => status === 200)).toHaveLength(1);
    expect(statuses.filter(([, status]) => status === 410)).toHaveLength(2);
    expect(statuses.find(([l]) => l === first.link)?.[1]).toBe(410);
  });

  it('ends every session of the account and revokes its refresh tokens, and mails "password changed"', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const elsewhere = await passwordSignIn(config, account.email);
    const agent = new UserAgent();
    const { page } = await openResetLink(account.email, agent);
    await agent.submit(page, '/password/reset/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });

    await expect(oidc.refreshTokenGrant(config, elsewhere.tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    const again = await elsewhere.agent.get((await startAuthorization(config)).url.href, REDIRECT_URI);
    expect(isPasswordPage(again)).toBe(true); // no SSO session left in that browser
    const changedMail = await smtp.waitFor((m) => m.to.includes(account.email) && /password was changed/.test(m.subject));
    expect(changedMail.text).toContain('signed out of every browser and app');

    const actions = await actionsFor(account.id);
    expect(actions).toEqual(expect.arrayContaining(['password.changed', 'account.sessions.ended']));
    const signedOut = (await gh.runtime.repos.audit.list({ target: account.id, action: 'account.sessions.ended', limit: 5 }))[0];
    expect(signedOut?.detail).toMatchObject({ sessions: 1, reason: 'password_reset' });
    // the old password no longer opens the account
    const browser = new UserAgent();
    const login = await browser.get((await startAuthorization(config)).url.href, REDIRECT_URI);
    const refused = await browser.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(refused.status).toBe(401);
  });

  it('never bypasses MFA: after the reset, signing in still asks for the code of the imported authenticator', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const agent = new UserAgent();
    const { page } = await openResetLink(account.email, agent);
    await agent.submit(page, '/password/reset/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });

    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const verify = await agent.submit(login, '/login', { email: account.email, password: NEW_PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    const tokens = await finishAuthorization(config, start, await agent.submit(verify, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' });
  });

  it('lets an address with accounts in two organizations choose which account gets the new password', async () => {
    const email = `shared-${uniq()}@example.com`;
    const other = await seedTenant(gh.runtime, 'organization', `Contoso ${uniq()}`);
    const inNorthwind = await seedAccount(gh.runtime, tenant.id, { email });
    const inContoso = await seedAccount(gh.runtime, other.id, { email, password: 'contoso passphrase' });
    const agent = new UserAgent();
    const { mail, page } = await openResetLink(email, agent);
    expect(mail.text).toContain('Northwind Traders');
    expect(mail.text).toContain(other.name);
    expect(page.html).toContain(`value="${inNorthwind.id}"`);
    expect(page.html).toContain(`value="${inContoso.id}"`);

    await agent.submit(page, '/password/reset/', { account: inContoso.id, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    const contoso = await passwordSignIn(config, email, NEW_PASSWORD);
    expect(contoso.tokens.claims()?.sub).toBe(inContoso.id);
    const northwind = await passwordSignIn(config, email, PASSWORD); // the other account keeps its own password
    expect(northwind.tokens.claims()?.sub).toBe(inNorthwind.id);
  });

  it('refuses a weak or mistyped password and keeps the link usable', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const { link, page } = await openResetLink(account.email, agent);
    const weak = await agent.submit(page, '/password/reset/', { password: 'short', password_confirm: 'short' });
    expect(weak.status).toBe(400);
    expect(textOf(weak.html)).toContain('at least 8 characters');
    const mismatch = await agent.submit(page, '/password/reset/', { password: NEW_PASSWORD, password_confirm: `${NEW_PASSWORD}!` });
    expect(mismatch.status).toBe(400);
    expect(textOf(mismatch.html)).toContain('do not match');
    expect((await agent.get(link)).status).toBe(200);
    await passwordSignIn(config, account.email, PASSWORD);
  });

  it('answers a garbage or unknown token with the clear page, not an error', async () => {
    for (const token of ['nonsense', 'A'.repeat(43), `${'b'.repeat(42)}%00`]) {
      const page = await new UserAgent().get(url(`/password/reset/${token}`));
      expect(page.status).toBe(410);
      expect(page.html).toContain('href="/password/forgot"');
    }
    const bad = await requestLink('not an address');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('Enter the email address of your account');
  });

  it('limits requests per address, with the same answer for known and unknown addresses', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const unknown = `nobody-${uniq()}@example.com`;
    for (const email of [account.email, unknown]) {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await requestLink(email)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    }
  });

  it('refuses every form without its CSRF token (403) and changes nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const { link, page } = await openResetLink(account.email, agent);
    await gh.runtime.deferred.settled();
    await gh.runtime.mail.sender.drain();
    const before = { rows: await rows(), hash: (await gh.runtime.repos.accounts.findById(account.id))?.passwordHash };
    const post = (path: string, fields: Record<string, string>) =>
      agent.request(url(path), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });

    const forms: [string, Record<string, string>][] = [
      ['/password/forgot', { email: account.email }],
      [new URL(link).pathname, { account: account.id, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD }],
      ['/email/verify/resend', { email: account.email }],
    ];
    for (const [path, fields] of forms) {
      const res = await post(path, fields);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('The form expired or was sent from another site');
      const wrong = await post(path, { ...fields, _csrf: 'x'.repeat(43) });
      expect(wrong.status).toBe(403);
    }
    await gh.runtime.deferred.settled();
    expect(await rows()).toEqual(before.rows);
    expect((await gh.runtime.repos.accounts.findById(account.id))?.passwordHash).toBe(before.hash);
    expect((await agent.get(link)).status).toBe(200); // the link was not spent
    expect(page.status).toBe(200);
  });
});
