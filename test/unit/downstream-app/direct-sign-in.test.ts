/**
 * Direct sign-in to Acme MDR (its own email + password) and its own TOTP — DESIGN.md §7 rows 1–2:
 * local 2FA on → the app's own TOTP is asked; off → no second factor. Codes come from the
 * independent RFC 6238 implementation in test/helpers/totp-reference.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { LocalUser } from '../../../examples/downstream-app/app.ts';
import { field } from './browser.ts';
import { PASSWORD, addUser, codeAt, enrolTotp, startApp } from './harness.ts';
import type { Harness } from './harness.ts';

let app: Harness;
let user: LocalUser;

beforeEach(async () => {
  app = await startApp();
  user = await addUser(app.store, 'sam@acme.test');
});

afterEach(async () => {
  await app.close();
});

async function submitPassword(browser: ReturnType<Harness['browser']>, password = PASSWORD) {
  await browser.get('/login');
  return browser.post('/login', { email: 'sam@acme.test', password });
}

describe('direct sign-in, local 2FA off', () => {
  it('signs in with the password alone: no second factor (reason local_disabled)', async () => {
    const browser = app.browser();
    const answer = await submitPassword(browser);
    expect(answer.status).toBe(302);
    expect(answer.location).toBe('/');
    const dashboard = await browser.follow(answer);
    expect(field(dashboard.html, 'path')).toBe('direct');
    expect(field(dashboard.html, 'reason')).toBe('local_disabled');
    expect(field(dashboard.html, 'local-factor')).toBe('not asked');
  });

  it('refuses a wrong password with the same message as an unknown email', async () => {
    const browser = app.browser();
    const wrong = await submitPassword(browser, 'not the password');
    await browser.get('/login');
    const unknown = await browser.post('/login', { email: 'nobody@acme.test', password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.html).toContain('Incorrect email or password.');
    expect(unknown.html).toContain('Incorrect email or password.');
  });

  it('refuses a form without the CSRF token', async () => {
    const browser = app.browser();
    await browser.get('/login');
    const answer = await browser.post('/login', { _csrf: 'forged', email: 'sam@acme.test', password: PASSWORD });
    expect(answer.status).toBe(403);
    expect(answer.html).toContain('csrf_failed');
  });
});

describe('direct sign-in, local 2FA on', () => {
  it('org switch on + user enrolled: asks for the local TOTP, then signs in (reason direct_local_required)', async () => {
    await app.store.updateSettings({ requireTwoFactor: true });
    const secret = await enrolTotp(app.store, user);
    const browser = app.browser();
    const answer = await submitPassword(browser);
    expect(answer.location).toBe('/login/two-factor');
    expect((await browser.get('/')).location).toBe('/login');

    const challenge = await browser.get('/login/two-factor');
    expect(challenge.html).toContain('autocomplete="one-time-code"');
    expect(challenge.html).toContain('direct_local_required');
    expect(challenge.html).not.toContain('Ask Gatehouse for MFA instead');

    const verified = await browser.post('/login/two-factor', { code: codeAt(secret, app.nowSeconds()) });
    expect(verified.location).toBe('/');
    const dashboard = await browser.follow(verified);
    expect(field(dashboard.html, 'reason')).toBe('direct_local_required');
    expect(field(dashboard.html, 'local-factor')).toBe('authenticator code');
  });

  it('the user\'s own enrolment turns local 2FA on even when the org switch is off', async () => {
    const secret = await enrolTotp(app.store, user);
    const browser = app.browser();
    expect((await submitPassword(browser)).location).toBe('/login/two-factor');
    await browser.get('/login/two-factor');
    expect((await browser.post('/login/two-factor', { code: codeAt(secret, app.nowSeconds()) })).location).toBe('/');
  });

  it('refuses a wrong code and a replayed code (RFC 6238 §5.2: one use per step)', async () => {
    const secret = await enrolTotp(app.store, user);
    const code = codeAt(secret, app.nowSeconds());

    const first = app.browser();
    await submitPassword(first);
    await first.get('/login/two-factor');
    const wrongCode = code === '000000' ? '111111' : '000000';
    const wrong = await first.post('/login/two-factor', { code: wrongCode });
    expect(wrong.status).toBe(401);
    expect((await first.post('/login/two-factor', { code })).location).toBe('/');

    const second = app.browser();
    await submitPassword(second);
    await second.get('/login/two-factor');
    expect((await second.post('/login/two-factor', { code })).status).toBe(401);

    app.advance(30);
    await second.get('/login/two-factor');
    expect((await second.post('/login/two-factor', { code: codeAt(secret, app.nowSeconds()) })).location).toBe('/');
  });

  it('accepts a recovery code once', async () => {
    await enrolTotp(app.store, user, ['abcde-fghjk']);
    const first = app.browser();
    await submitPassword(first);
    await first.get('/login/two-factor');
    const used = await first.post('/login/two-factor', { recovery_code: 'ABCDE FGHJK' });
    expect(used.location).toBe('/');
    expect(field((await first.follow(used)).html, 'local-factor')).toBe('recovery code');

    const second = app.browser();
    await submitPassword(second);
    await second.get('/login/two-factor');
    expect((await second.post('/login/two-factor', { recovery_code: 'abcde-fghjk' })).status).toBe(401);
  });

  it('drops the pending sign-in after 5 wrong codes', async () => {
    await enrolTotp(app.store, user);
    const browser = app.browser();
    await submitPassword(browser);
    await browser.get('/login/two-factor');
    for (let i = 0; i < 4; i += 1) expect((await browser.post('/login/two-factor', { code: '12345x' })).status).toBe(401);
    const last = await browser.post('/login/two-factor', { code: '12345x' });
    expect(last.location).toBe('/login');
    expect((await browser.get('/login/two-factor')).location).toBe('/login');
  });

  it('org switch on + user not enrolled: forced setup with QR, setup key and Finish, then recovery codes once', async () => {
    await app.store.updateSettings({ requireTwoFactor: true });
    const browser = app.browser();
    expect((await submitPassword(browser)).location).toBe('/login/two-factor');
    const explained = await browser.get('/login/two-factor');
    expect(explained.html).toContain('requires it');

    const setup = await browser.get('/login/two-factor/setup');
    expect(setup.html).toContain('src="data:image/png;base64,');
    const setupKey = /class="setup-key">([A-Z2-7 ]+)</.exec(setup.html)?.[1]?.replace(/ /g, '');
    expect(setupKey).toMatch(/^[A-Z2-7]{32}$/);

    const finished = await browser.post('/login/two-factor/setup', { code: codeAt(setupKey ?? '', app.nowSeconds()) });
    expect(finished.status).toBe(200);
    const codes = [...finished.html.matchAll(/<li>([a-z2-9]{5}-[a-z2-9]{5})<\/li>/g)];
    expect(codes).toHaveLength(10);
    expect((await app.store.getUser(user.id))?.totp?.recoveryCodes).toHaveLength(10);
    const dashboard = await browser.get('/');
    expect(field(dashboard.html, 'reason')).toBe('direct_local_required');
  });

  it('renews the session id at sign-in (no fixation)', async () => {
    const browser = app.browser();
    await browser.get('/login');
    const before = browser.cookies(app.baseUrl).get('acme_session');
    await browser.post('/login', { email: 'sam@acme.test', password: PASSWORD });
    const after = browser.cookies(app.baseUrl).get('acme_session');
    expect(before).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('sign-out of a direct session ends it locally and shows the signed-out page', async () => {
    const browser = app.browser();
    await browser.follow(await submitPassword(browser));
    const out = await browser.post('/logout');
    expect(out.location).toBe('/signed-out');
    expect((await browser.follow(out)).html).toContain('You are signed out');
    expect((await browser.get('/')).location).toBe('/login');
  });

  it('answers unknown pages with a friendly 404 carrying a request id, never a stack trace', async () => {
    const page = await app.browser().get('/no-such-page');
    expect(page.status).toBe(404);
    expect(page.html).toContain('not_found');
    expect(page.html).toMatch(/request <code>[0-9a-f-]{36}<\/code>/);
    expect(page.html).not.toContain('at ');
  });
});
