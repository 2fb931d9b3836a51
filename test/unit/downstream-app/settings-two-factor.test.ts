/**
 * Settings > Account: enabling Acme MDR's own 2FA (QR + setup key + code + Finish, recovery codes
 * once), disabling it, and the org-wide "Require 2FA for sign-in" switch with the unified-login notice.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PASSWORD, addUser, codeAt, startApp } from './harness.ts';
import type { Harness } from './harness.ts';
import { field } from './browser.ts';

const NOTICE = 'Gatehouse is the enforcement point for multi-factor\n    authentication. Changing this setting does not affect sign-in through Gatehouse.';

let app: Harness | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function signedIn(harness: Harness, email: string) {
  const browser = harness.browser();
  await browser.get('/login');
  const answer = await browser.post('/login', { email, password: PASSWORD });
  expect(answer.location).toBe('/');
  return browser;
}

describe('Settings > Account — two-factor authentication', () => {
  it('enables 2FA, shows recovery codes once, then direct sign-in asks for the code; disabling needs a code', async () => {
    app = await startApp();
    const user = await addUser(app.store, 'kim@acme.test');
    const browser = await signedIn(app, 'kim@acme.test');

    const settings = await browser.get('/settings/account');
    expect(field(settings.html, 'totp-status')).toBe('disabled');
    expect(settings.html).not.toContain('Unified login is configured');

    const started = await browser.post('/settings/account/2fa/enable');
    expect(started.location).toBe('/settings/account/2fa/setup');
    const setup = await browser.get('/settings/account/2fa/setup');
    expect(setup.html).toContain('src="data:image/png;base64,');
    expect(setup.html).toContain('>Finish<');
    const secret = /class="setup-key">([A-Z2-7 ]+)</.exec(setup.html)?.[1]?.replace(/ /g, '') ?? '';

    expect((await browser.post('/settings/account/2fa/setup', { code: '000000' === codeAt(secret, app.nowSeconds()) ? '111111' : '000000' })).status).toBe(400);
    const done = await browser.post('/settings/account/2fa/setup', { code: codeAt(secret, app.nowSeconds()) });
    expect(done.status).toBe(200);
    expect([...done.html.matchAll(/<li>([a-z2-9]{5}-[a-z2-9]{5})<\/li>/g)]).toHaveLength(10);
    expect((await browser.get('/settings/account')).html).not.toMatch(/<li>[a-z2-9]{5}-[a-z2-9]{5}<\/li>/);
    expect((await app.store.getUser(user.id))?.totp).not.toBeNull();

    const again = app.browser();
    await again.get('/login');
    expect((await again.post('/login', { email: 'kim@acme.test', password: PASSWORD })).location).toBe('/login/two-factor');

    app.advance(30);
    await browser.get('/settings/account');
    expect((await browser.post('/settings/account/2fa/disable', { code: '12' })).status).toBe(400);
    const disabled = await browser.post('/settings/account/2fa/disable', { code: codeAt(secret, app.nowSeconds()) });
    expect(disabled.location).toBe('/settings/account');
    expect(field((await browser.get('/settings/account')).html, 'totp-status')).toBe('disabled');
  });

  it('only admins change "Require 2FA for sign-in"', async () => {
    app = await startApp();
    await addUser(app.store, 'admin@acme.test', { isAdmin: true });
    await addUser(app.store, 'user@acme.test');

    const user = await signedIn(app, 'user@acme.test');
    await user.get('/settings/account');
    expect((await user.post('/settings/organization/2fa', { require_2fa: 'on' })).status).toBe(403);
    expect((await app.store.getSettings()).requireTwoFactor).toBe(false);

    const admin = await signedIn(app, 'admin@acme.test');
    await admin.get('/settings/account');
    expect((await admin.post('/settings/organization/2fa', { require_2fa: 'on' })).location).toBe('/settings/account');
    expect((await app.store.getSettings()).requireTwoFactor).toBe(true);
    await admin.get('/settings/account');
    await admin.post('/settings/organization/2fa', {});
    expect((await app.store.getSettings()).requireTwoFactor).toBe(false);
  });

  it('under unified login the local 2FA setting carries the Gatehouse notice', async () => {
    app = await startApp({ issuer: 'http://127.0.0.1:9', clientId: 'acme-mdr', clientSecret: 'unused' });
    await addUser(app.store, 'admin@acme.test', { isAdmin: true });
    const browser = await signedIn(app, 'admin@acme.test');
    const settings = await browser.get('/settings/account');
    expect(settings.html).toContain('Unified login is configured:');
    expect(settings.html).toContain(NOTICE);
    expect(settings.html).toContain('Require 2FA for sign-in');
  });
});
