// Step-up via acr_values (DESIGN.md §5, §6): a client asking for
// urn:gatehouse:acr:mfa from a password-only session gets MFA — the code, or forced setup when the
// account has no authenticator — without typing the password again; with prompt=none it gets
// login_required, never a silent downgrade to 1fa.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { enrolThroughPages, importAuthenticator, isEnrolPage, isPasswordPage, isVerifyPage } from '../../helpers/mfa.ts';

const ACR_MFA = 'urn:gatehouse:acr:mfa';
const MFA = { amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA };
const ONE_FA = { amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' };

describe(`step-up to MFA (${backendName()})`, () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Tailspin Toys');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  it('sends a password-only session without an authenticator to forced setup, without asking for the password again', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, tokens: first } = await passwordSignIn(config, account.email);
    expect(first.claims()).toMatchObject(ONE_FA);

    const start = await startAuthorization(config, { acr_values: ACR_MFA });
    const setup = await agent.get(start.url.href, REDIRECT_URI);
    expect(isPasswordPage(setup)).toBe(false);
    expect(isEnrolPage(setup)).toBe(true);
    const { callback } = await enrolThroughPages(agent, setup, REDIRECT_URI);
    const tokens = await finishAuthorization(config, start, callback);
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
  });

  it('asks an account that got an authenticator after its password-only sign-in for the code only', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, tokens: first } = await passwordSignIn(config, account.email);
    expect(first.claims()).toMatchObject(ONE_FA);
    const app = await importAuthenticator(gh.runtime, account);

    const start = await startAuthorization(config, { acr_values: ACR_MFA });
    const verify = await agent.get(start.url.href, REDIRECT_URI);
    expect(isPasswordPage(verify)).toBe(false);
    expect(isVerifyPage(verify)).toBe(true);
    const tokens = await finishAuthorization(config, start, await agent.submit(verify, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
  });

  it('answers prompt=none with login_required at the redirect URI when the session is password-only (no silent downgrade)', async () => {
    for (const withAuthenticator of [false, true]) {
      const account = await seedAccount(gh.runtime, tenant.id);
      const { agent } = await passwordSignIn(config, account.email);
      if (withAuthenticator) await importAuthenticator(gh.runtime, account);

      const start = await startAuthorization(config, { acr_values: ACR_MFA, prompt: 'none' });
      const callback = await agent.get(start.url.href, REDIRECT_URI);
      expect(callback.url.startsWith(REDIRECT_URI)).toBe(true);
      const params = new URL(callback.url).searchParams;
      expect(params.get('error')).toBe('login_required');
      expect(params.get('code')).toBeNull();
      await expect(finishAuthorization(config, start, callback)).rejects.toMatchObject({ error: 'login_required' });
    }
  });

  it('does not let acr_values=1fa skip the code of an account that has an authenticator', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const start = await startAuthorization(config, { acr_values: 'urn:gatehouse:acr:1fa' });
    const agent = new UserAgent();
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const verify = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    const tokens = await finishAuthorization(config, start, await agent.submit(verify, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject(MFA);
  });
});
