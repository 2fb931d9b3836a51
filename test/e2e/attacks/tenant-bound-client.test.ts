// Attack: a user of tenant A signs in at some application, then asks an application bound to tenant
// B for a code. A client bound to a tenant only ever receives accounts of that tenant: an SSO session
// of another tenant leads to the sign-in page (prompt=none → login_required), and the account chooser
// only offers accounts the client may receive.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, passwordSignIn } from '../../helpers/seed.ts';
import { textOf } from '../../helpers/user-agent.ts';
import { isPasswordPage } from '../../helpers/mfa.ts';

describe(`attack: a client of another tenant (${backendName()})`, () => {
  let gh: TestGatehouse;
  let anyTenantApp: oidc.Configuration;
  let orgBApp: oidc.Configuration;
  let orgA: Awaited<ReturnType<typeof seedTenant>>;
  let orgB: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    orgA = await seedTenant(gh.runtime, 'organization', 'Org A');
    orgB = await seedTenant(gh.runtime, 'organization', 'Org B');
    anyTenantApp = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    orgBApp = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: orgB.id }));
  });
  afterAll(() => gh.stop());

  it("answers an org-A session at org-B's client with the sign-in page, never a code", async () => {
    const alice = await seedAccount(gh.runtime, orgA.id);
    const { agent } = await passwordSignIn(anyTenantApp, alice.email);
    const start = await startAuthorization(orgBApp);
    const page = await agent.get(start.url.href, REDIRECT_URI);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(isPasswordPage(page)).toBe(true);
    // the org-A password does not open anything here either
    const refused = await agent.submit(page, '/login', { email: alice.email, password: PASSWORD }, REDIRECT_URI);
    expect(refused.status).toBe(401);
    expect(textOf(refused.html)).toContain('Incorrect email or password.');
  });

  it('answers prompt=none with login_required', async () => {
    const alice = await seedAccount(gh.runtime, orgA.id);
    const { agent } = await passwordSignIn(anyTenantApp, alice.email);
    const start = await startAuthorization(orgBApp, { prompt: 'none' });
    const back = await agent.get(start.url.href, REDIRECT_URI);
    const params = new URL(back.url).searchParams;
    expect(params.get('error')).toBe('login_required');
    expect(params.get('code')).toBeNull();
  });

  it("offers only org-B's account to org-B's client when one email owns accounts in both, and gives SSO within org B", async () => {
    const email = `both-${Date.now()}@example.com`;
    await seedAccount(gh.runtime, orgA.id, { email });
    const inB = await seedAccount(gh.runtime, orgB.id, { email });
    const { agent, tokens } = await passwordSignIn(orgBApp, email);
    expect(tokens.claims()).toMatchObject({ sub: inB.id, tenant: { id: orgB.id } });
    // a second authorization at the same client reuses the session without any page
    const start = await startAuthorization(orgBApp);
    const back = await agent.get(start.url.href, REDIRECT_URI);
    expect((await finishAuthorization(orgBApp, start, back)).claims()).toMatchObject({ sub: inB.id });
  });

  it("lets the user sign in again at org-B's client with an org-B account after an org-A session", async () => {
    const email = `switch-${Date.now()}@example.com`;
    await seedAccount(gh.runtime, orgA.id, { email });
    const inB = await seedAccount(gh.runtime, orgB.id, { email, password: 'another password for B' });
    const { agent } = await passwordSignIn(anyTenantApp, email);
    const start = await startAuthorization(orgBApp);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    // signing in as another account ends the org-A session first (the provider's sign-out form, sent by the browser)
    const switching = await agent.submit(login, '/login', { email, password: 'another password for B' }, REDIRECT_URI);
    const callback = await agent.submit(switching, '/session/end/confirm', {}, REDIRECT_URI);
    expect((await finishAuthorization(orgBApp, start, callback)).claims()).toMatchObject({ sub: inB.id });
  });
});
