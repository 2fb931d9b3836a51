// The account console in a real browser (Chromium): a user without MFA opens Security Settings, signs
// in, selects Enable MFA, scans the QR code from the page as a phone would (the same secret as the
// setup key), confirms with a code, sees the recovery codes once and the success banner, MFA Active.
// Then the user forgets the password: "Forgot password?" → the mail a real SMTP server received → a
// new password → sign in with it and a code from the app set up before (MFA is not skipped).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { describeBrowser, launchChromium, scanQrCode, startCallbackPage } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../helpers/seed.ts';
import { Authenticator } from '../helpers/mfa.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';

const NEW_PASSWORD = 'lantern orchard pebble';

describeBrowser('account console Security Settings in Chromium', () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let browser: Browser;
  let config: oidc.Configuration;
  let app: Awaited<ReturnType<typeof startCallbackPage>>;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: smtp.url } });
    app = await startCallbackPage('<!doctype html><title>callback</title><p id="done">back at the app</p>');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime, { redirectUris: [app.redirectUri] }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.stop();
    await smtp?.stop();
  });

  it('enables MFA from Security Settings (QR scanned from the page), then a forgotten password is reset and the sign-in still asks for the code', async () => {
    const tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    const account = await seedAccount(gh.runtime, tenant.id, { name: 'Fiona Forgetful' });
    const context = await browser.newContext();
    const page = await context.newPage();
    let phone: Authenticator;
    try {
      await page.goto(`${gh.issuer}/account/security`);
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
      expect(await page.locator('#mfa-status').textContent()).toContain('Inactive');

      await page.getByRole('button', { name: 'Enable MFA' }).click();
      await page.getByRole('heading', { name: 'Enable MFA' }).waitFor();
      const otpauth = await scanQrCode(page);
      const setupKey = ((await page.locator('#setup-key').textContent()) ?? '').replace(/\s+/g, '');
      expect(otpauth.protocol).toBe('otpauth:');
      expect(otpauth.searchParams.get('secret')).toBe(setupKey);
      expect(decodeURIComponent(otpauth.pathname)).toContain(account.email);

      phone = new Authenticator(otpauth.searchParams.get('secret') ?? '');
      await page.getByLabel('Authentication code').fill(await phone.nextCode());
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      expect(await page.locator('#recovery-codes code').allTextContents()).toHaveLength(10);
      await page.getByRole('link', { name: 'I have saved these codes' }).click();
      await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
      expect(await page.locator('#banner').textContent()).toContain('Multi-factor authentication is on');
      expect(await page.locator('#mfa-status').textContent()).toMatch(/Active\s+since/);
      await smtp.waitFor((m) => m.to.includes(account.email) && /Multi-factor authentication is now on/.test(m.subject));
    } finally {
      await context.close();
    }

    // another day, another browser: the password is forgotten
    const later = await browser.newContext();
    const signIn = await later.newPage();
    try {
      const start = await startAuthorization(config, { redirect_uri: app.redirectUri });
      await signIn.goto(start.url.href);
      await signIn.getByRole('link', { name: 'Forgot password?' }).click();
      await signIn.getByLabel('Email').fill(account.email);
      await signIn.getByRole('button', { name: 'Email me a link' }).click();
      await signIn.getByRole('heading', { name: 'Check your email' }).waitFor();
      const mail = await smtp.waitFor((m) => m.to.includes(account.email) && m.subject === 'Reset your Gatehouse password');
      await signIn.goto(linkIn(mail, '/password/reset/'));
      await signIn.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await signIn.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
      await signIn.getByRole('button', { name: 'Change password' }).click();
      await signIn.getByRole('link', { name: 'Continue to sign in' }).click();
      await signIn.getByLabel('Email').fill(account.email);
      await signIn.getByLabel('Password').fill(NEW_PASSWORD);
      await signIn.getByRole('button', { name: 'Sign in', exact: true }).click();
      await signIn.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
      await signIn.getByLabel('Authentication code').fill(await phone.nextCode());
      await Promise.all([signIn.waitForURL((url) => url.href.startsWith(app.redirectUri)), signIn.getByRole('button', { name: 'Verify' }).click()]);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(signIn.url()), { pkceCodeVerifier: start.verifier, expectedNonce: start.nonce, expectedState: start.state });
      expect(tokens.claims()).toMatchObject({ sub: account.id, amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' });
    } finally {
      await later.close();
    }
  });
});
