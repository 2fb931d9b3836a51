// Phishing-resistant MFA required by a client setting or a tenant policy (issue 15 part 4), in Chromium
// with a CDP virtual authenticator: a user with only an authenticator app proves it, is not let through
// with it (the code never reaches phr), must add a passkey, and the ID token then says acr phr. A tenant
// policy at the phishing-resistant level does the same at a client without its own setting; an account
// without any MFA is sent straight to forced passkey setup; during the policy's grace period the
// passkey may be deferred, as MFA setup may.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type * as oidc from 'openid-client';
import { claimsAfterRedirect, describeBrowser, launchChromium, postToInteraction, startCallbackPage } from '../helpers/browser.ts';
import { freePort, startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, type AuthorizationStart } from '../helpers/seed.ts';
import { importAuthenticator, type Authenticator } from '../helpers/mfa.ts';

const ACR_PHR = 'urn:gatehouse:acr:phr';
const ACR_MFA = 'urn:gatehouse:acr:mfa';

describeBrowser('phishing-resistant MFA required by a client or a tenant policy (Chromium, virtual authenticator)', () => {
  let gh: TestGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let app: Awaited<ReturnType<typeof startCallbackPage>>;
  let treasury: oidc.Configuration; // require_phishing_resistant_mfa
  let portal: oidc.Configuration; // no MFA setting of its own
  let dist: Awaited<ReturnType<typeof seedTenant>>;
  let org: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    const port = await freePort();
    gh = await startTestGatehouse({ env: { PORT: String(port), ISSUER: `http://localhost:${port}` } });
    app = await startCallbackPage('<!doctype html><title>Treasury</title><h1>Welcome</h1>');
    dist = await seedTenant(gh.runtime, 'distributor', 'Fabrikam Partners');
    org = await seedTenant(gh.runtime, 'organization', 'Fabrikam Bank', dist.id);
    treasury = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'Treasury', requirePhishingResistantMfa: true, redirectUris: [app.redirectUri] }));
    portal = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'Portal', redirectUris: [app.redirectUri] }));
    browser = await launchChromium();
    context = await browser.newContext();
    // the virtual authenticator would answer a conditional (autofill) request at once: keep it out
    await context.addInitScript(() => {
      if (window.PublicKeyCredential) Object.defineProperty(window.PublicKeyCredential, 'isConditionalMediationAvailable', { value: () => Promise.resolve(false) });
    });
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.stop();
  });

  async function begin(config: oidc.Configuration): Promise<AuthorizationStart> {
    await context.clearCookies();
    const start = await startAuthorization(config, { redirect_uri: app.redirectUri });
    await page.goto(start.url.href);
    return start;
  }

  async function password(email: string) {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  const landAt = (config: oidc.Configuration, start: AuthorizationStart, click: () => Promise<void>) => claimsAfterRedirect(page, app.redirectUri, config, start, click);

  const post = (action: string, fields: Record<string, string>) => postToInteraction(page, gh.issuer, action, fields);

  async function appUser(tenantId: string): Promise<{ email: string; app: Authenticator; id: string }> {
    const account = await seedAccount(gh.runtime, tenantId);
    return { email: account.email, id: account.id, app: await importAuthenticator(gh.runtime, account) };
  }

  /** After the code: the passkey page, where a code (app enrolment) is refused, then the passkey is added and the client receives acr phr. */
  async function codeIsNotEnoughThenAddPasskey(config: oidc.Configuration, start: AuthorizationStart, who: { app: Authenticator }) {
    await page.getByLabel('Authentication code').fill(await who.app.nextCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Add a passkey or security key' }).waitFor();
    expect(page.url()).toContain('/interaction/');
    await expect(page.getByLabel('Authentication code').count()).resolves.toBe(0);
    const code = await post('enrol', { code: await who.app.nextCode() });
    expect(code.status()).toBe(403);
    expect(await code.text()).toContain('requires a passkey or security key');
    const claims = await landAt(config, start, () => page.getByRole('button', { name: 'Add a passkey or security key' }).click());
    expect(claims?.acr).toBe(ACR_PHR);
    expect(claims?.amr).toEqual(['pwd', 'hwk', 'otp', 'mfa']);
  }

  it('a client requiring phishing-resistant MFA: an authenticator-app user is refused with the code alone and must add a passkey; then acr phr', async () => {
    const user = await appUser(org.id);
    const start = await begin(treasury);
    await password(user.email);
    // the account proves its authenticator app first (a password alone never adds a factor)
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await codeIsNotEnoughThenAddPasskey(treasury, start, user);
    const [signedIn] = await gh.runtime.repos.audit.list({ action: 'auth.signed_in', target: user.id, limit: 1 });
    expect(signedIn?.detail).toMatchObject({ acr: ACR_PHR });

    // next time the passkey is the only thing on offer, and a code is not even checked
    const again = await begin(treasury);
    await password(user.email);
    await page.getByRole('heading', { name: 'Use your passkey or security key' }).waitFor();
    const code = await post('verify', { code: await user.app.nextCode() });
    expect(code.status()).toBe(403);
    const claims = await landAt(treasury, again, () => page.getByRole('button', { name: 'Use your passkey or security key' }).click());
    expect(claims?.acr).toBe(ACR_PHR);
  });

  it("a tenant policy requiring phishing-resistant MFA does the same at a client without its own setting", async () => {
    await gh.runtime.repos.tenants.setPolicy(dist.id, { enforcePhrOrganizations: true, mfaGraceDays: 0 });
    try {
      const user = await appUser(org.id);
      const start = await begin(portal);
      await password(user.email);
      await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
      await page.getByLabel('Authentication code').fill(await user.app.nextCode());
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Add a passkey or security key' }).waitFor();
      expect(await page.locator('.lead').first().textContent()).toContain('Your organization requires a passkey or security key');
      // no grace period: no "Set up later"
      await expect(page.getByRole('button', { name: 'Set up later' }).count()).resolves.toBe(0);
      const claims = await landAt(portal, start, () => page.getByRole('button', { name: 'Add a passkey or security key' }).click());
      expect(claims?.acr).toBe(ACR_PHR);

      // an account without any MFA goes straight to forced passkey setup: no authenticator app on offer
      const fresh = await seedAccount(gh.runtime, org.id);
      const second = await begin(portal);
      await password(fresh.email);
      await page.getByRole('heading', { name: 'Add a passkey or security key' }).waitFor();
      await expect(page.getByLabel('Authentication code').count()).resolves.toBe(0);
      await page.getByRole('button', { name: 'Add a passkey or security key' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      await page.getByLabel('I have saved these codes').check();
      const first = await landAt(portal, second, () => page.getByRole('button', { name: /Continue to Portal/ }).click());
      expect(first?.amr).toEqual(['pwd', 'hwk', 'mfa']);
      expect(first?.acr).toBe(ACR_PHR);
    } finally {
      await gh.runtime.repos.tenants.setPolicy(dist.id, { enforcePhrOrganizations: false });
    }
  });

  it("during the policy's grace period the passkey may be deferred: the authenticator app still signs in (acr mfa), audited", async () => {
    await gh.runtime.repos.tenants.setPolicy(dist.id, { enforcePhrOrganizations: true, mfaGraceDays: 7 });
    try {
      const user = await appUser(org.id);
      const start = await begin(portal);
      await password(user.email);
      await page.getByLabel('Authentication code').fill(await user.app.nextCode());
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Add a passkey or security key' }).waitFor();
      expect(await page.textContent('body')).toContain('to add a passkey or security key');
      const claims = await landAt(portal, start, () => page.getByRole('button', { name: 'Set up later' }).click());
      expect(claims?.acr).toBe(ACR_MFA);
      expect(claims?.amr).toEqual(['pwd', 'otp', 'mfa']);
      const [deferred] = await gh.runtime.repos.audit.list({ action: 'mfa.setup.deferred', target: user.id, limit: 1 });
      expect(deferred).toBeDefined();

      // the grace period is the policy's alone: the client requiring phr still asks for the passkey
      const strict = await begin(treasury);
      await password(user.email);
      await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
      await codeIsNotEnoughThenAddPasskey(treasury, strict, user);
    } finally {
      await gh.runtime.repos.tenants.setPolicy(dist.id, { enforcePhrOrganizations: false, mfaGraceDays: 0 });
    }
  });
});
