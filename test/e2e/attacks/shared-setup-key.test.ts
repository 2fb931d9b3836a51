// Attack: two browsers that both know an account's password start a sign-in that requires MFA. A
// pending setup belongs to one interaction, never to the account: each browser gets its own secret,
// nothing is written to the account until a code from that secret confirms it, and a second browser
// never sees or confirms another's secret (so the attacker cannot plant a second factor of its own in
// the owner's setup, nor read the owner's).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { Authenticator, enrolThroughPages, isEnrolPage, isVerifyPage, setupKeyOf } from '../../helpers/mfa.ts';

const ACR_MFA = 'urn:gatehouse:acr:mfa';

describe(`attack: a shared pending setup key (${backendName()})`, () => {
  let gh: TestGatehouse;
  let app: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind');
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  /** A browser that asked for MFA and typed the password: it stands on the setup page. */
  async function setupPageIn(email: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(app, { acr_values: ACR_MFA });
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const page = await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    expect(isEnrolPage(page)).toBe(true);
    return { agent, start, page };
  }

  it('shows each browser a secret of its own and writes nothing to the account until a code confirms one', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const owner = await setupPageIn(account.email);
    const attacker = await setupPageIn(account.email);
    expect(setupKeyOf(attacker.page)).not.toBe(setupKeyOf(owner.page));
    // reloading keeps each browser's own key, and never shows the other's
    expect(setupKeyOf(await owner.agent.get(owner.page.url, REDIRECT_URI))).toBe(setupKeyOf(owner.page));
    expect(setupKeyOf(await attacker.agent.get(attacker.page.url, REDIRECT_URI))).toBe(setupKeyOf(attacker.page));
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(false);
  });

  it("refuses a code from the owner's secret in the attacker's setup, and the owner's setup still completes", async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const owner = await setupPageIn(account.email);
    const attacker = await setupPageIn(account.email);
    const ownersApp = new Authenticator(setupKeyOf(owner.page));

    const planted = await attacker.agent.submit(attacker.page, '/enrol', { code: ownersApp.codeAt(Math.floor(Date.now() / 30_000)) }, REDIRECT_URI);
    expect(planted.status).toBe(400);
    expect(textOf(planted.html)).toContain('That code does not match.');
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(false);

    const { callback } = await enrolThroughPages(owner.agent, owner.page, REDIRECT_URI);
    expect((await finishAuthorization(app, owner.start, callback)).claims()).toMatchObject({ sub: account.id, amr: ['pwd', 'otp', 'mfa'] });
  });

  it("lets only the first confirmed setup count: the second browser must then verify with the first browser's authenticator", async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const owner = await setupPageIn(account.email);
    const attacker = await setupPageIn(account.email);
    const attackersApp = new Authenticator(setupKeyOf(attacker.page));

    const { authenticator: ownersApp } = await enrolThroughPages(owner.agent, owner.page, REDIRECT_URI);
    // the attacker's setup step is gone: the account has an authenticator now, so this sign-in verifies with it
    const late = await attacker.agent.submit(attacker.page, '/enrol', { code: await attackersApp.nextCode() }, REDIRECT_URI);
    expect(late.status).toBe(409);
    expect(late.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(await gh.runtime.repos.authenticators.countForAccount(account.id)).toBe(1);
    const verifyPage = await attacker.agent.get(attacker.page.url, REDIRECT_URI);
    expect(isVerifyPage(verifyPage)).toBe(true);
    expect((await gh.runtime.repos.audit.list({ target: account.id, action: 'mfa.enrolled', limit: 10 })).length).toBe(1);

    // the attacker's secret opens nothing; the owner's does
    const refused = await attacker.agent.submit(verifyPage, '/verify', { code: await attackersApp.nextCode() }, REDIRECT_URI);
    expect(refused.status).toBe(401);
    // a new sign-in asking for MFA gets no setup page any more: the account has an authenticator
    const again = new UserAgent();
    const start = await startAuthorization(app, { acr_values: ACR_MFA });
    const verify = await again.submit(await again.get(start.url.href, REDIRECT_URI), '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    const callback = await again.submit(verify, '/verify', { code: await ownersApp.nextCode() }, REDIRECT_URI);
    expect((await finishAuthorization(app, start, callback)).claims()).toMatchObject({ sub: account.id, amr: ['pwd', 'otp', 'mfa'] });
  });
});
