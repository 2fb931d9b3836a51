// Forced MFA setup in a real browser (DESIGN.md §5): a client with require_mfa sends a user without an
// authenticator through the setup pages in Chromium. The test scans the QR code from the page's image
// as a phone would, checks it carries the same secret as the typed setup key, confirms with a code,
// saves the recovery codes and lands on the client, whose ID token says amr mfa.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { describeBrowser, launchChromium, scanQrCode, startCallbackPage } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../helpers/seed.ts';
import { referenceTotp } from '../helpers/totp-reference.ts';

describeBrowser('forced MFA setup in Chromium', () => {
  let gh: TestGatehouse;
  let browser: Browser;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  // The client's side: its redirect URI answers with a small page. (Intercepting a redirect URI that no
  // server answers does not work here: page.route never sees the redirected navigation, and Chromium
  // blocks port 9 as unsafe.)
  let app: Awaited<ReturnType<typeof startCallbackPage>>;
  let redirectUri: string;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    app = await startCallbackPage('<!doctype html><title>Flight Ops</title><h1>Welcome to Flight Ops</h1>');
    redirectUri = app.redirectUri;
    tenant = await seedTenant(gh.runtime, 'organization', 'Blue Yonder Airlines');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'Flight Ops', requireMfa: true, redirectUris: [redirectUri] }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.stop();
  });

  it('scans the QR code, confirms with a code, saves the recovery codes and lands on the client with amr mfa', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const start = await startAuthorization(config, { redirect_uri: redirectUri });
    const context = await browser.newContext();
    const page = await context.newPage();

    try {
      await page.goto(start.url.href);
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();

      // the setup page: a QR image the browser really displays, and the same secret as a setup key
      await page.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
      const otpauth = await scanQrCode(page);
      const setupKey = ((await page.locator('#setup-key').textContent()) ?? '').replace(/\s+/g, '');
      expect(otpauth.protocol).toBe('otpauth:');
      expect(otpauth.host).toBe('totp');
      expect(otpauth.searchParams.get('secret')).toBe(setupKey);
      expect(otpauth.searchParams.get('issuer')).toContain('Gatehouse');
      expect(decodeURIComponent(otpauth.pathname)).toContain(account.email);

      // the app, having scanned it, shows a code
      await page.getByLabel('Authentication code').fill(referenceTotp(otpauth.searchParams.get('secret') ?? '', Math.floor(Date.now() / 1000)));
      await page.getByRole('button', { name: 'Verify' }).click();

      // the recovery codes, shown once; continuing needs the "saved" box ticked
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      const codes = await page.locator('#recovery-codes code').allTextContents();
      expect(codes).toHaveLength(10);
      const download = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download as text file' }).click()]).then(([d]) => d);
      const saved = fs.readFileSync((await download.path()) ?? '', 'utf8');
      for (const code of codes) expect(saved).toContain(code);

      const proceed = page.getByRole('button', { name: /Continue to Flight Ops/ });
      const savedBox = page.getByLabel('I have saved these codes');
      await proceed.click(); // the browser does not submit: the box is required
      expect(await savedBox.evaluate((box) => (box as HTMLInputElement).validity.valueMissing)).toBe(true);
      expect(page.url()).not.toContain(redirectUri);
      await savedBox.check();
      await Promise.all([page.waitForURL(`${redirectUri}?**`), proceed.click()]);
      await page.getByRole('heading', { name: 'Welcome to Flight Ops' }).waitFor();

      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: start.verifier, expectedNonce: start.nonce, expectedState: start.state });
      const claims = tokens.claims();
      expect(claims?.sub).toBe(account.id);
      expect(claims?.amr).toContain('mfa');
      expect(claims?.acr).toBe('urn:gatehouse:acr:mfa');
    } finally {
      await context.close();
    }
  });
});
