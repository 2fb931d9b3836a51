// A real browser (Debian's Chromium through playwright-core) opens an authorization URL, fills the
// sign-in form by its labels, submits it, and lands on the client's redirect URI with a code — the
// path every RP depends on, including the CSP form-action and cookie behaviour that only a real
// browser enforces.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { describeBrowser, launchChromium, startCallbackPage } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../helpers/seed.ts';


describeBrowser('password sign-in in a real browser (Chromium)', () => {
  let gh: TestGatehouse;
  let browser: Browser;
  let config: oidc.Configuration;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let app: Awaited<ReturnType<typeof startCallbackPage>>;
  /** The client's redirect URI, answered by a tiny page of a local server. */
  let redirectUri: string;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    // The RP's callback is a real local server: Playwright's page.route() does not see requests that a
    // redirect starts (the authorization response is one), so it cannot stand in for the RP here.
    app = await startCallbackPage('<!doctype html><title>callback</title><p id="done">back at the app</p>');
    redirectUri = app.redirectUri;
    const tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    account = await seedAccount(gh.runtime, tenant.id, { name: 'Fiona Browser' });
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime, { redirectUris: [redirectUri] }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.stop();
  });

  it('signs in through the login page and lands on the redirect URI with a code that exchanges for tokens', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const start = await startAuthorization(config, { redirect_uri: redirectUri });

    await page.goto(start.url.href);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL((url) => url.href.startsWith(redirectUri)), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);

    const landed = new URL(page.url());
    expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri);
    expect(landed.searchParams.get('code')).toEqual(expect.any(String));
    expect(landed.searchParams.get('state')).toBe(start.state);
    expect(landed.searchParams.get('iss')).toBe(gh.issuer);
    await expect(page.locator('#done').textContent()).resolves.toBe('back at the app');

    // the code is good: the RP exchanges it for an ID token naming the account
    const tokens = await oidc.authorizationCodeGrant(config, landed, { pkceCodeVerifier: start.verifier, expectedNonce: start.nonce, expectedState: start.state });
    expect(tokens.claims()).toMatchObject({ sub: account.id, email: account.email, name: 'Fiona Browser', amr: ['pwd'] });
    await context.close();
  });

  it('shows the error on the page for a wrong password and stays on it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const start = await startAuthorization(config, { redirect_uri: redirectUri });
    await page.goto(start.url.href);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState();
    await expect(page.getByText('Incorrect email or password.').isVisible()).resolves.toBe(true);
    expect(page.url()).toContain('/interaction/');
    // the email stays filled in; the password does not
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe(account.email);
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
    await context.close();
  });
});
