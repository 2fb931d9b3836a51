// The admin console in a real browser: a partner admin signs in (password, then the code of the
// authenticator app), sees User Management with the MFA Status column, resets a user's MFA through the
// confirmation step ("Yes, Continue"), turns on "Enforce MFA for all organizations" on Security
// Settings and gets the success banner — all without JavaScript of ours.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { describeBrowser, launchChromium } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, seedAccount, seedTenant } from '../helpers/seed.ts';
import { importAuthenticator } from '../helpers/mfa.ts';

describeBrowser('admin console in Chromium', () => {
  let gh: TestGatehouse;
  let browser: Browser;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.stop();
  });

  it('shows MFA Status in User Management and the banner after switching on the organizations policy', async () => {
    const dist = await seedTenant(gh.runtime, 'distributor', 'Litware Distribution');
    const org = await seedTenant(gh.runtime, 'organization', 'Litware Clinic', dist.id);
    const admin = await seedAccount(gh.runtime, dist.id, { role: 'owner', name: 'Olivia Owner' });
    const app = await importAuthenticator(gh.runtime, admin);
    const colleague = await seedAccount(gh.runtime, dist.id, { role: 'support', name: 'Sam Support' });
    const lostPhone = await seedAccount(gh.runtime, dist.id, { name: 'Riley Lostphone' });
    await importAuthenticator(gh.runtime, lostPhone);
    await seedAccount(gh.runtime, org.id);
    await seedAccount(gh.runtime, org.id);
    await seedAccount(gh.runtime, org.id);

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(`${gh.issuer}/admin/users`);
      await page.getByLabel('Email').fill(admin.email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Authentication code').fill(await app.nextCode());
      await page.getByRole('button', { name: 'Verify' }).click();

      await page.getByRole('heading', { name: 'User Management' }).waitFor();
      expect(page.url()).toBe(`${gh.issuer}/admin/users`);
      await expect(page.getByText('Tenant in scope: Litware Distribution (Distributor)').isVisible()).resolves.toBe(true);
      const header = page.getByRole('columnheader', { name: 'MFA Status' });
      await expect(header.isVisible()).resolves.toBe(true);
      const ownRow = page.getByRole('row', { name: new RegExp(admin.email.replace(/[.+]/g, '\\$&')) });
      await expect(ownRow.getByRole('cell', { name: 'Active', exact: true }).first().isVisible()).resolves.toBe(true);
      const colleagueRow = page.getByRole('row', { name: new RegExp(colleague.email.replace(/[.+]/g, '\\$&')) });
      await expect(colleagueRow.locator('.mfa-status').textContent()).resolves.toContain('Inactive');
      // the row menu opens without JavaScript (details/summary) and offers what an owner may do
      await colleagueRow.getByText('Actions').click();
      await expect(colleagueRow.getByRole('button', { name: 'Deactivate' }).isVisible()).resolves.toBe(true);
      if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/admin-users.png`, fullPage: true });

      // Reset MFA: row menu → confirmation step → "Yes, Continue" → banner, MFA Status Inactive
      const lostRow = () => page.getByRole('row', { name: new RegExp(lostPhone.email.replace(/[.+]/g, '\\$&')) });
      await expect(lostRow().locator('.mfa-status').textContent()).resolves.toContain('Active');
      await lostRow().getByText('Actions').click();
      await lostRow().getByRole('link', { name: 'Reset MFA' }).click();
      await page.getByRole('heading', { name: 'Reset MFA' }).waitFor();
      await expect(page.getByText('Reset multi-factor authentication (MFA) for Riley Lostphone').isVisible()).resolves.toBe(true);
      expect(await gh.runtime.repos.authenticators.countForAccount(lostPhone.id)).toBe(1);
      await page.getByRole('button', { name: 'Yes, Continue' }).click();
      const resetBanner = page.getByRole('status').filter({ hasText: `MFA was reset for ${lostPhone.email}.` });
      await resetBanner.waitFor();
      await expect(resetBanner.textContent()).resolves.toContain('A reset confirmation email was sent');
      await expect(lostRow().locator('.mfa-status').textContent()).resolves.toContain('Inactive');
      expect(await gh.runtime.repos.authenticators.countForAccount(lostPhone.id)).toBe(0);
      if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/admin-reset-mfa.png`, fullPage: true });

      await page.getByRole('link', { name: 'Security Settings' }).click();
      await page.getByRole('heading', { name: 'Multi-factor Authentication Policy Settings' }).waitFor();
      await expect(page.locator('#organizations-without-mfa').textContent()).resolves.toContain('3 users in your organization have no MFA yet.');
      await page.getByLabel('Enforce MFA for all organizations').check();
      await page.getByLabel('Grace period (days)').fill('14');
      await page.getByRole('button', { name: 'Save' }).click();

      const banner = page.getByRole('status').filter({ hasText: 'Your MFA policy settings were saved.' });
      await banner.waitFor();
      await expect(banner.textContent()).resolves.toContain('Enforce MFA for all organizations is now active: 3 accounts in scope have no MFA yet');
      await expect(page.getByLabel('Enforce MFA for all organizations').isChecked()).resolves.toBe(true);
      await expect(page.getByLabel('Grace period (days)').inputValue()).resolves.toBe('14');
      expect(await gh.runtime.repos.tenants.findById(dist.id)).toMatchObject({ enforceMfaOrganizations: true, mfaGraceDays: 14 });
      if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/admin-policy.png`, fullPage: true });
    } finally {
      await context.close();
    }
  });
});
