// Attack: after the password, many wrong codes sent at once, hoping that each is checked before the
// lockout counter moves. An attempt is reserved before its code is checked, so however many arrive at
// once at most MFA_LOCKOUT_THRESHOLD (5) codes are checked per lock period; a correct code sent after
// that is refused while locked.
//
// The 41 requests overlap in the server (each is parked at its own await); on PostgreSQL their
// statements also run on several connections at once, while PGlite runs them one after another on its
// one connection. The proof is the outcome, not timing: a check made before the counter moved would
// show up as more than 5 checked codes on either store.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf, findForm, type Page } from '../../helpers/user-agent.ts';
import { importAuthenticator, isVerifyPage, type Authenticator } from '../../helpers/mfa.ts';

const THRESHOLD = 5;
const PARALLEL = 40;

describe(`attack: racing the lockout (${backendName()})`, () => {
  let gh: TestGatehouse;
  let app: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  async function verifyPageFor(email: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(app);
    const page = await agent.submit(await agent.get(start.url.href, REDIRECT_URI), '/login', { email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(page)).toBe(true);
    return { agent, page };
  }

  /** Distinct six-digit codes, none of them valid near now. */
  function wrongCodes(authenticator: Authenticator, n: number): string[] {
    const valid = new Set([-2, -1, 0, 1, 2].map((d) => authenticator.codeAt(Math.floor(Date.now() / 30_000) + d)));
    const codes: string[] = [];
    for (let i = 0; codes.length < n; i++) {
      const code = String((100_000 + i * 7_919) % 1_000_000).padStart(6, '0');
      if (!valid.has(code)) codes.push(code);
    }
    return codes;
  }

  const post = (agent: UserAgent, page: Page, code: string) => {
    const form = findForm(page.html, '/verify');
    const body = new URLSearchParams({ ...form.hidden, code });
    return agent.follow(new URL(form.action, page.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, REDIRECT_URI);
  };

  /** How many codes the server checked for this account: every failed check and every success is an audit event. */
  const checked = async (accountId: string) =>
    (await gh.runtime.repos.audit.list({ target: accountId, action: 'mfa.totp.check_failed', limit: 1000 })).length +
    (await gh.runtime.repos.audit.list({ target: accountId, action: 'mfa.totp.verified', limit: 1000 })).length;

  it(`checks at most ${THRESHOLD} of ${PARALLEL} parallel wrong codes plus the right one`, async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const authenticator = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await verifyPageFor(account.email);
    const codes = [...wrongCodes(authenticator, PARALLEL), await authenticator.nextCode()];
    const answers = await Promise.all(codes.map((code) => post(agent, page, code)));

    expect(await checked(account.id)).toBeLessThanOrEqual(THRESHOLD);
    const judged = answers.filter((a) => a.status === 401 && textOf(a.html).includes('That code is not valid'));
    expect(judged.length).toBeLessThanOrEqual(THRESHOLD);
    // every other answer is the locked page, or (when the right code was among the checked ones) the way back to the application
    const outcome = (a: Page) => (a.url.startsWith(REDIRECT_URI) ? 'signed_in' : a.status === 429 ? 'locked' : a.status === 401 ? 'wrong_code' : `unexpected ${a.status}`);
    const counts = answers.map(outcome).reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
    expect(Object.keys(counts).filter((o) => o.startsWith('unexpected'))).toEqual([]);
    expect((counts.locked ?? 0) + (counts.signed_in ?? 0)).toBeGreaterThanOrEqual(PARALLEL + 1 - THRESHOLD);
  });

  it('refuses the right code once the parallel wrong ones have locked the account, in this browser and a new one', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const authenticator = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await verifyPageFor(account.email);
    await Promise.all(wrongCodes(authenticator, PARALLEL).map((code) => post(agent, page, code)));
    expect(await checked(account.id)).toBe(THRESHOLD);

    const right = await post(agent, page, await authenticator.nextCode());
    expect(right.status).toBe(429);
    expect(right.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(textOf(right.html)).toContain('Too many attempts');
    const fresh = new UserAgent();
    const start = await startAuthorization(app);
    const lockedPage = await fresh.submit(await fresh.get(start.url.href, REDIRECT_URI), '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(textOf(lockedPage.html)).toContain('Too many attempts');
    expect(await checked(account.id)).toBe(THRESHOLD);
    expect((await gh.runtime.repos.audit.list({ target: account.id, action: 'mfa.locked', limit: 10 })).length).toBe(1);
  });
});
