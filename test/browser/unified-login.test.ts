// The whole "Sign in with Gatehouse" flow in real Chromium: the demo app "Acme MDR" (a child process,
// `node examples/downstream-app/main.ts`) with its own 2FA required, the real Gatehouse's pages
// (password, TOTP), back to the app's dashboard showing amr with mfa and the bypass reason.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser, type Page } from 'playwright-core';
import { describeBrowser, launchChromium } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, seedAccount, seedTenant } from '../helpers/seed.ts';
import { seedMfaAccount, startDemoAppProcess, type DemoAppProcess } from '../helpers/downstream-app.ts';
import { Authenticator } from '../helpers/mfa.ts';


describeBrowser('unified login in a browser: Acme MDR → Gatehouse → Acme MDR', () => {
  let gh: TestGatehouse;
  let app: DemoAppProcess;
  let browser: Browser;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { FETCH_ALLOW_PRIVATE_NETWORKS: 'true' } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    // Acme MDR requires its own 2FA for sign-in: unified login must bypass it only on Gatehouse's MFA
    app = await startDemoAppProcess(gh, { prepare: (store) => store.updateSettings({ requireTwoFactor: true }).then(() => undefined) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await gh?.stop();
  });

  const field = async (page: Page, name: string) => ((await page.locator(`[data-field="${name}"]`).textContent()) ?? '').trim();

  /** From the app's sign-in page through Gatehouse's password page. */
  async function signInWithGatehouse(page: Page, email: string): Promise<void> {
    await page.goto(`${app.url}/login`);
    await page.getByRole('button', { name: 'Sign in with Gatehouse' }).click();
    await page.waitForURL(`${gh.issuer}/interaction/**`);
    await expect(page.title()).resolves.toContain('Sign in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('an MFA user signs in with Gatehouse: the dashboard shows amr with mfa and the bypass reason', async () => {
    const { account, authenticator } = await seedMfaAccount(gh.runtime, tenant, { name: 'Alice Admin' });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signInWithGatehouse(page, account.email);
      await page.getByLabel('Authentication code').fill(await authenticator.nextCode());
      await page.getByRole('button', { name: 'Verify' }).click();

      await page.waitForURL(`${app.url}/`);
      await expect(page.getByRole('heading', { name: 'Welcome, Alice Admin' }).isVisible()).resolves.toBe(true);
      expect(await field(page, 'path')).toBe('unified');
      expect(JSON.parse(await field(page, 'amr'))).toEqual(['pwd', 'otp', 'mfa']);
      expect(await field(page, 'acr')).toBe('urn:gatehouse:acr:mfa');
      expect(await field(page, 'reason')).toBe('unified_mfa_satisfied');
      expect(await field(page, 'local-factor')).toBe('not asked');
      await expect(page.locator('body').textContent()).resolves.toContain('Gatehouse performed multi-factor authentication, so Acme MDR did not ask for its own code.');
    } finally {
      await context.close();
    }
  });

  it('a password-only user is asked for Acme MDR\'s 2FA, and "Ask Gatehouse for MFA instead" ends on the same bypass', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signInWithGatehouse(page, account.email);
      await page.waitForURL(`${app.url}/login/two-factor`);
      await expect(page.locator('body').textContent()).resolves.toContain('unified_no_mfa_local_required');

      await page.getByRole('button', { name: 'Ask Gatehouse for MFA instead' }).click();
      await page.waitForURL(`${gh.issuer}/interaction/**`);
      await page.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
      const authenticator = new Authenticator(((await page.locator('#setup-key').textContent()) ?? '').replace(/\s+/g, ''));
      await page.getByLabel('Authentication code').fill(await authenticator.nextCode());
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByLabel('I have saved these codes').check();
      await page.getByRole('button', { name: /^Continue to / }).click();

      await page.waitForURL(`${app.url}/`);
      expect(JSON.parse(await field(page, 'amr'))).toEqual(['pwd', 'otp', 'mfa']);
      expect(await field(page, 'reason')).toBe('unified_mfa_satisfied');
    } finally {
      await context.close();
    }
  });
});
