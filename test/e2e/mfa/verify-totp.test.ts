// Verify path (DESIGN.md §5–§6): a user whose authenticator was imported from another platform
// signs in with password + TOTP through a standard OIDC client, and every token surface reports
// amr ["pwd","otp","mfa"] / acr mfa. RFC 6238 §5.2: a code whose time step was accepted is refused after.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { commands } from '../../../src/cli/commands.ts';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { base32Encode } from '../../helpers/totp-reference.ts';
import { Authenticator, importAuthenticator, isPasswordPage, isVerifyPage } from '../../helpers/mfa.ts';

const MFA = { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' };

describe(`TOTP verify at sign-in (${backendName()})`, () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Contoso');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  /** authorize → password → the TOTP page. */
  async function toVerifyPage(email: string, agent = new UserAgent()) {
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const page = await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    return { agent, start, page };
  }

  it('asks an account with an imported authenticator for its code and issues amr pwd+otp+mfa, acr mfa', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const { agent, start, page } = await toVerifyPage(account.email);

    expect(isVerifyPage(page)).toBe(true);
    expect(page.html).toMatch(/<input[^>]*name="code"[^>]*>/);
    const input = /<input[^>]*name="code"[^>]*>/.exec(page.html)?.[0] ?? '';
    expect(input).toContain('autocomplete="one-time-code"');
    expect(input).toContain('inputmode="numeric"');
    expect(page.html).toContain('<label for="code">');

    const before = Math.floor(Date.now() / 1000);
    const tokens = await finishAuthorization(config, start, await agent.submit(page, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    const claims = tokens.claims();
    expect(claims).toMatchObject({ sub: account.id, ...MFA });
    expect(claims?.auth_time).toBeGreaterThanOrEqual(before - 1);

    expect(await oidc.fetchUserInfo(config, tokens.access_token, account.id)).toMatchObject({ sub: account.id, ...MFA });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, sub: account.id, ...MFA });
    // a refreshed ID token keeps what the sign-in proved
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')).claims()).toMatchObject(MFA);
  });

  it('ends the sign-in in the request that accepted the code', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const { agent, start, page } = await toVerifyPage(account.email);
    const form = agent.formRequest(page, '/verify', { code: await app.nextCode() });
    const res = await agent.request(form.url, { method: 'POST', headers: form.headers, body: form.body });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '', gh.issuer);
    expect(location.pathname).toMatch(/^\/auth\/[^/]+$/);
    expect((await finishAuthorization(config, start, await agent.get(location.href, REDIRECT_URI))).claims()).toMatchObject({ sub: account.id, ...MFA });
  });

  it('refuses a code whose time step was already accepted (replay), with a page that asks for a new code', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const first = await toVerifyPage(account.email);
    await finishAuthorization(config, first.start, await first.agent.submit(first.page, '/verify', { code: await app.nextCode() }, REDIRECT_URI));

    // someone who saw the code over the user's shoulder tries it in another browser
    const replay = await toVerifyPage(account.email);
    const refused = await replay.agent.submit(replay.page, '/verify', { code: app.lastCode() }, REDIRECT_URI);
    expect(refused.status).toBe(401);
    expect(isVerifyPage(refused)).toBe(true);
    expect(textOf(refused.html)).toContain('That code is not valid. Enter the current 6-digit code from your authenticator app.');

    // the next code of the app still works on the same page
    const tokens = await finishAuthorization(config, replay.start, await replay.agent.submit(refused, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject(MFA);
  });

  it('offers a recovery code instead, and explains what to do when the device is lost', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    await importAuthenticator(gh.runtime, account);
    const { agent, page } = await toVerifyPage(account.email);
    const uid = /\/interaction\/([^/"]+)\/verify/.exec(page.html)?.[1] ?? '';
    expect(page.html).toContain(`href="/interaction/${uid}/recovery"`);
    expect(page.html).toContain(`href="/interaction/${uid}/lost"`);
    const lost: Page = await agent.get(new URL(`/interaction/${uid}/lost`, gh.issuer).href);
    expect(lost.status).toBe(200);
    expect(textOf(lost.html)).toMatch(/contact your administrator/i);
  });

  it('lets a user imported with `gatehouse user mfa import-totp` sign in with the app they already use (80-bit key, typed with spaces)', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const secret = base32Encode(Buffer.from('0123456789', 'ascii')); // 80 bits, the classic Google Authenticator length
    const typed = secret.toLowerCase().replace(/(.{4})/g, '$1 ').trim();
    const imported = await commands['user mfa import-totp']?.run(gh.runtime, { tenant: tenant.id, email: account.email, secret: typed });
    expect(imported).toMatchObject({ account_id: account.id, mfa: 'active', source: 'imported', outcome: 'imported' });

    const app = new Authenticator(secret);
    const { agent, start, page } = await toVerifyPage(account.email);
    expect(isPasswordPage(page)).toBe(false);
    expect(isVerifyPage(page)).toBe(true);
    const tokens = await finishAuthorization(config, start, await agent.submit(page, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
  });
});
