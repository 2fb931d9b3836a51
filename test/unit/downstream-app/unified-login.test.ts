/**
 * Unified login through a stand-in Gatehouse (fake-gatehouse.ts): DESIGN.md §7 rows 3–5 as the
 * app applies them, step-up with acr_values, account linking, back-channel and RP-initiated logout.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeEntities, field } from './browser.ts';
import type { Browser, Page } from './browser.ts';
import { startFakeGatehouse } from './fake-gatehouse.ts';
import type { FakeGatehouse } from './fake-gatehouse.ts';
import { PASSWORD, addUser, codeAt, enrolTotp, startApp } from './harness.ts';
import type { Harness } from './harness.ts';

const PWD = { amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' };
const MFA = { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' };

let gatehouse: FakeGatehouse;
let app: Harness;

beforeAll(async () => {
  gatehouse = await startFakeGatehouse();
});

afterAll(async () => {
  await gatehouse.close();
});

beforeEach(async () => {
  gatehouse.login = { sub: 'acct_dana', email: 'dana@acme.test', email_verified: true, name: 'Dana Ops', sid: 'sid-1', tenant: { id: 't1', name: 'Acme Partners' }, ...PWD };
  gatehouse.honourStepUp = true;
  gatehouse.forgeSignatures = false;
  gatehouse.authorizationRequests.length = 0;
  gatehouse.endSessionRequests.length = 0;
  app = await startApp({ issuer: gatehouse.issuer, clientId: gatehouse.clientId, clientSecret: gatehouse.clientSecret });
});

afterEach(async () => {
  await app.close();
});

/** Clicks "Sign in with Gatehouse" and follows the redirects back to the app. */
async function signInWithGatehouse(browser: Browser, action = '/login/gatehouse'): Promise<Page> {
  await browser.get('/login');
  const toGatehouse = await browser.post(action);
  expect(toGatehouse.location?.startsWith(`${gatehouse.issuer}/auth?`)).toBe(true);
  return browser.follow(toGatehouse);
}

describe('unified login — the local-2FA decision', () => {
  it('sends code + PKCE S256 + state + nonce, no acr_values on a plain sign-in', async () => {
    await signInWithGatehouse(app.browser());
    const request = gatehouse.authorizationRequests[0];
    expect(request?.get('response_type')).toBe('code');
    expect(request?.get('code_challenge_method')).toBe('S256');
    expect(request?.get('state')).toBeTruthy();
    expect(request?.get('nonce')).toBeTruthy();
    expect(request?.get('redirect_uri')).toBe(`${app.baseUrl}/callback`);
    expect(request?.has('acr_values')).toBe(false);
  });

  it('amr has mfa, local 2FA on: bypassed — Gatehouse enforced MFA (new local user created)', async () => {
    await app.store.updateSettings({ requireTwoFactor: true });
    gatehouse.login = { ...gatehouse.login, ...MFA };
    const browser = app.browser();
    const dashboard = await signInWithGatehouse(browser);
    expect(dashboard.url.pathname).toBe('/');
    expect(field(dashboard.html, 'path')).toBe('unified');
    expect(decodeEntities(field(dashboard.html, 'amr') ?? '')).toBe('["pwd","otp","mfa"]');
    expect(field(dashboard.html, 'acr')).toBe('urn:gatehouse:acr:mfa');
    expect(field(dashboard.html, 'reason')).toBe('unified_mfa_satisfied');
    const created = await app.store.findUserByGatehouseSub('acct_dana');
    expect(created?.email).toBe('dana@acme.test');
    expect(created?.passwordHash).toBeNull();
  });

  it.each([
    ['password + passkey', ['pwd', 'hwk', 'mfa']],
    ['passkey alone (passwordless)', ['hwk', 'user', 'mfa']],
  ])('a %s sign-in at Gatehouse, local 2FA on and a local TOTP enrolled: bypassed, no local code asked', async (_how, amr) => {
    const local = await addUser(app.store, 'dana@acme.test');
    await app.store.linkGatehouseSub(local.id, 'acct_dana');
    await enrolTotp(app.store, local);
    await app.store.updateSettings({ requireTwoFactor: true });
    const browser = app.browser();
    gatehouse.login = { ...gatehouse.login, amr, acr: 'urn:gatehouse:acr:phr' };
    const dashboard = await signInWithGatehouse(browser);
    expect(dashboard.url.pathname).toBe('/');
    expect(decodeEntities(field(dashboard.html, 'amr') ?? '')).toBe(JSON.stringify(amr));
    expect(field(dashboard.html, 'acr')).toBe('urn:gatehouse:acr:phr');
    expect(field(dashboard.html, 'reason')).toBe('unified_mfa_satisfied');
  });

  it('amr without mfa, local 2FA off: no second factor', async () => {
    const dashboard = await signInWithGatehouse(app.browser());
    expect(field(dashboard.html, 'reason')).toBe('local_disabled');
    expect(dashboard.html).toContain('Ask Gatehouse for MFA');
  });

  it('amr without mfa, local 2FA on, local TOTP enrolled: asks for the local code, offers Gatehouse MFA instead', async () => {
    const local = await addUser(app.store, 'dana@acme.test');
    await app.store.linkGatehouseSub(local.id, 'acct_dana');
    const secret = await enrolTotp(app.store, local);
    await app.store.updateSettings({ requireTwoFactor: true });

    const browser = app.browser();
    const challenge = await signInWithGatehouse(browser);
    expect(challenge.url.pathname).toBe('/login/two-factor');
    expect(challenge.html).toContain('unified_no_mfa_local_required');
    expect(challenge.html).toContain('Ask Gatehouse for MFA instead');
    const verified = await browser.post('/login/two-factor', { code: codeAt(secret, app.nowSeconds()) });
    const dashboard = await browser.follow(verified);
    expect(field(dashboard.html, 'reason')).toBe('unified_no_mfa_local_required');
    expect(field(dashboard.html, 'local-factor')).toBe('authenticator code');
  });

  it('amr without mfa, local on, no local TOTP: explains, and "Ask Gatehouse for MFA instead" re-requests with acr_values', async () => {
    await app.store.updateSettings({ requireTwoFactor: true });
    const browser = app.browser();
    const explained = await signInWithGatehouse(browser);
    expect(explained.url.pathname).toBe('/login/two-factor');
    expect(explained.html).toContain('You have not set up Acme MDR two-factor authentication yet.');

    const stepUp = await browser.post('/login/two-factor/step-up');
    expect(stepUp.location?.startsWith(`${gatehouse.issuer}/auth?`)).toBe(true);
    expect(new URL(stepUp.location ?? '').searchParams.get('acr_values')).toBe('urn:gatehouse:acr:mfa');
    const dashboard = await browser.follow(stepUp);
    expect(field(dashboard.html, 'reason')).toBe('unified_mfa_satisfied');
    expect(field(dashboard.html, 'acr')).toBe('urn:gatehouse:acr:mfa');
  });

  it('stale Gatehouse MFA (older than the RP max age), local on: the local code is asked', async () => {
    await app.close();
    app = await startApp({ issuer: gatehouse.issuer, clientId: gatehouse.clientId, clientSecret: gatehouse.clientSecret, maxAuthAgeSeconds: 600 });
    await app.store.updateSettings({ requireTwoFactor: true });
    gatehouse.login = { ...gatehouse.login, ...MFA, auth_time: Math.floor(Date.now() / 1000) - 3600 };
    const page = await signInWithGatehouse(app.browser());
    expect(page.url.pathname).toBe('/login/two-factor');
    expect(page.html).toContain('unified_mfa_stale_local_required');
  });

  it('an ID token with a forged signature is refused', async () => {
    gatehouse.forgeSignatures = true;
    const page = await signInWithGatehouse(app.browser());
    expect(page.status).toBe(400);
    expect(page.html).toContain('id_token_rejected');
  });

  it('a callback without a pending request (replayed or CSRF-ed) is refused', async () => {
    const browser = app.browser();
    await browser.get('/login');
    const page = await browser.get('/callback?code=abc&state=xyz');
    expect(page.status).toBe(400);
    expect(page.html).toContain('flow_missing');
  });
});

describe('unified login — account linking', () => {
  it('offers to link a local user with the same verified email; the local password confirms it', async () => {
    const local = await addUser(app.store, 'dana@acme.test');
    const browser = app.browser();
    const offer = await signInWithGatehouse(browser);
    expect(offer.url.pathname).toBe('/link');
    expect(offer.html).toContain('Link accounts');
    expect((await browser.post('/link', { password: 'wrong' })).status).toBe(401);
    const linked = await browser.post('/link', { password: PASSWORD });
    const dashboard = await browser.follow(linked);
    expect(field(dashboard.html, 'path')).toBe('unified');
    expect((await app.store.getUser(local.id))?.gatehouseSub).toBe('acct_dana');
  });

  it('does not link when Gatehouse has not verified the email', async () => {
    await addUser(app.store, 'dana@acme.test');
    gatehouse.login = { ...gatehouse.login, email_verified: false };
    const page = await signInWithGatehouse(app.browser());
    expect(page.status).toBe(409);
    expect(page.html).toContain('email_unverified');
  });
});

describe('unified login — logout', () => {
  it('back-channel logout by sid ends that session', async () => {
    const browser = app.browser();
    await signInWithGatehouse(browser);
    const other = app.browser();
    gatehouse.login = { ...gatehouse.login, sid: 'sid-2' };
    await signInWithGatehouse(other);

    const token = await gatehouse.signLogoutToken({ sid: 'sid-1', sub: 'acct_dana' });
    const response = await fetch(`${app.baseUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(response.status).toBe(200);
    expect((await browser.get('/')).location).toBe('/login');
    expect((await other.get('/')).status).toBe(200);

    const replay = await fetch(`${app.baseUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(replay.status).toBe(400);
  });

  it('back-channel logout by sub ends every session of that user; a bad token is a 400', async () => {
    const browser = app.browser();
    await signInWithGatehouse(browser);
    const bad = await fetch(`${app.baseUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: 'not-a-token' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_request' });

    const token = await gatehouse.signLogoutToken({ sub: 'acct_dana' });
    const ok = await fetch(`${app.baseUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(ok.status).toBe(200);
    expect((await browser.get('/')).location).toBe('/login');
  });

  it('RP-initiated logout redirects to end_session_endpoint with id_token_hint and post_logout_redirect_uri', async () => {
    const browser = app.browser();
    await signInWithGatehouse(browser);
    const out = await browser.post('/logout');
    const target = new URL(out.location ?? '');
    expect(`${target.origin}${target.pathname}`).toBe(`${gatehouse.issuer}/session/end`);
    expect(target.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(target.searchParams.get('post_logout_redirect_uri')).toBe(`${app.baseUrl}/signed-out`);
    expect((await browser.get('/')).location).toBe('/login');
  });
});
