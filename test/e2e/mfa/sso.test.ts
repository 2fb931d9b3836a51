// SSO keeps what the session proved (DESIGN.md §5.4, §6): after an MFA sign-in at one client, a second
// client in the same browser gets a code without any page and an ID token whose amr says mfa;
// prompt=login and max_age=0 ask for the password and the code again, and the result is still MFA
// (a re-login never downgrades the session).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { importAuthenticator, isPasswordPage, isVerifyPage, type Authenticator } from '../../helpers/mfa.ts';

const MFA = { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' };

describe(`single sign-on after MFA (${backendName()})`, () => {
  let gh: TestGatehouse;
  let appA: oidc.Configuration;
  let appB: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Wide World Importers');
    appA = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'App A' }));
    appB = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'App B' }));
  });
  afterAll(() => gh.stop());

  /** Password + code at `config` in `agent`; the pages must be the password page then the verify page. */
  async function mfaSignIn(config: oidc.Configuration, agent: UserAgent, email: string, app: Authenticator, params: Record<string, string> = {}) {
    const start = await startAuthorization(config, params);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    expect(isPasswordPage(login)).toBe(true);
    const verify = await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    return finishAuthorization(config, start, await agent.submit(verify, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
  }

  async function signedInWithMfa() {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const agent = new UserAgent();
    const tokens = await mfaSignIn(appA, agent, account.email, app);
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
    return { account, app, agent, tokens };
  }

  it('gives a second client a code without any page, with amr mfa in its ID token', async () => {
    const { account, agent, tokens: atA } = await signedInWithMfa();
    const start = await startAuthorization(appB);
    const callback = await agent.get(start.url.href, REDIRECT_URI);
    expect(callback.html).toBe(''); // straight back to the client: no login, verify or consent page
    const atB = await finishAuthorization(appB, start, callback);
    expect(atB.claims()).toMatchObject({ sub: account.id, ...MFA, auth_time: atA.claims()?.auth_time });
  });

  it('satisfies acr_values=mfa and prompt=none from an MFA session without a page', async () => {
    const { account, agent } = await signedInWithMfa();
    const start = await startAuthorization(appB, { acr_values: MFA.acr, prompt: 'none' });
    const tokens = await finishAuthorization(appB, start, await agent.get(start.url.href, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
  });

  it('asks for the password and the code again with prompt=login, and stays MFA', async () => {
    const { account, app, agent, tokens: first } = await signedInWithMfa();
    const again = await mfaSignIn(appB, agent, account.email, app, { prompt: 'login' });
    expect(again.claims()).toMatchObject({ sub: account.id, ...MFA });
    expect(again.claims()?.auth_time).toBeGreaterThanOrEqual(first.claims()?.auth_time ?? 0);
  });

  it('asks for the password and the code again with max_age=0, and stays MFA', async () => {
    const { account, app, agent } = await signedInWithMfa();
    const before = Math.floor(Date.now() / 1000);
    const again = await mfaSignIn(appB, agent, account.email, app, { max_age: '0' });
    expect(again.claims()).toMatchObject({ sub: account.id, ...MFA });
    expect(again.claims()?.auth_time).toBeGreaterThanOrEqual(before);

    // and the session that max_age refreshed still serves other clients with MFA
    const start = await startAuthorization(appA);
    expect((await finishAuthorization(appA, start, await agent.get(start.url.href, REDIRECT_URI))).claims()).toMatchObject(MFA);
  });
});
