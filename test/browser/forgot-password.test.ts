// Forgotten password in a real browser (Chromium): from the sign-in page, "Forgot password?" → the
// mail a real SMTP server received → the link → a new password → back to the same sign-in → the new
// password → the code of the account's authenticator (MFA is not skipped) → the app gets its code.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { describeBrowser, launchChromium, startCallbackPage } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../helpers/seed.ts';
import { importAuthenticator, type Authenticator } from '../helpers/mfa.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';

const NEW_PASSWORD = 'lantern orchard pebble';

describeBrowser('forgotten password in a real browser (Chromium)', () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let browser: Browser;
  let config: oidc.Configuration;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let authenticator: Authenticator;
  let app: Awaited<ReturnType<typeof startCallbackPage>>;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: smtp.url } });
    app = await startCallbackPage('<!doctype html><title>callback</title><p id="done">back at the app</p>');
    const tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    account = await seedAccount(gh.runtime, tenant.id, { name: 'Fiona Forgetful' });
    authenticator = await importAuthenticator(gh.runtime, account);
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime, { redirectUris: [app.redirectUri] }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.stop();
    await smtp?.stop();
  });

  it('resets the password through the emailed link, then signs in with the new password and the TOTP code', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const start = await startAuthorization(config, { redirect_uri: app.redirectUri });

    await page.goto(start.url.href);
    const signInUrl = page.url();
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await expect(page.getByRole('heading', { name: 'Forgot your password?' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Email').fill(account.email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' }).isVisible()).resolves.toBe(true);

    const mail = await smtp.waitFor((m) => m.to.includes(account.email) && m.subject === 'Reset your Gatehouse password');
    await page.goto(linkIn(mail, '/password/reset/'));
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('heading', { name: 'Your password was changed' }).isVisible()).resolves.toBe(true);

    // back to the sign-in the user started from
    await page.getByRole('link', { name: 'Continue to sign in' }).click();
    expect(page.url()).toBe(signInUrl);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Two-factor authentication' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Authentication code').fill(await authenticator.nextCode());
    await Promise.all([page.waitForURL((url) => url.href.startsWith(app.redirectUri)), page.getByRole('button', { name: 'Verify' }).click()]);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: start.verifier, expectedNonce: start.nonce, expectedState: start.state });
    expect(tokens.claims()).toMatchObject({ sub: account.id, amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' });
    await context.close();
  });
});
