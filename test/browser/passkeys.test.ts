// Passkeys and security keys in a real browser (issue 15): Chromium with a CDP virtual authenticator
// (CTAP2, user verification on) registers a passkey in forced setup, signs in with password + passkey
// and without a password, meets acr_values=urn:gatehouse:acr:phr where an authenticator app is refused,
// refuses a replayed assertion and a removed passkey, and adds a USB security key in a phr step-up.
// WebAuthn needs a secure context and an RP ID that is a domain, so this Gatehouse's issuer is
// http://localhost (a potentially trustworthy origin), not 127.0.0.1.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import type * as oidc from 'openid-client';
import { claimsAfterRedirect, describeBrowser, launchChromium, postToInteraction, startCallbackPage } from '../helpers/browser.ts';
import { freePort, startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, type AuthorizationStart } from '../helpers/seed.ts';
import { importAuthenticator, type Authenticator } from '../helpers/mfa.ts';
import { eq } from 'drizzle-orm';
import { authenticators } from '../../src/store/schema.ts';

const ACR_PHR = 'urn:gatehouse:acr:phr';

describeBrowser('passkeys and security keys in Chromium (WebAuthn virtual authenticator)', () => {
  let gh: TestGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let app: Awaited<ReturnType<typeof startCallbackPage>>;
  let strict: oidc.Configuration; // require_mfa
  let plain: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let totp: Authenticator;
  let authenticatorId: string;
  /** the form a passwordless sign-in posted, kept to replay it */
  let postedPasskey: Record<string, string> | undefined;

  const addAuthenticator = async (transport: 'internal' | 'usb') =>
    (
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport, hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      })
    ).authenticatorId;

  beforeAll(async () => {
    const port = await freePort();
    gh = await startTestGatehouse({ env: { PORT: String(port), ISSUER: `http://localhost:${port}` } });
    app = await startCallbackPage('<!doctype html><title>Flight Ops</title><h1>Welcome to Flight Ops</h1>');
    tenant = await seedTenant(gh.runtime, 'organization', 'Blue Yonder Airlines');
    strict = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'Flight Ops', requireMfa: true, redirectUris: [app.redirectUri] }));
    plain = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'Crew Portal', redirectUris: [app.redirectUri] }));
    account = await seedAccount(gh.runtime, tenant.id);
    browser = await launchChromium();
    context = await browser.newContext();
    // A virtual authenticator answers a conditional (autofill) request at once, as if the user had
    // picked the passkey; only the test that means to use autofill lets the page see that it exists.
    await context.addInitScript(() => {
      if (!window.PublicKeyCredential || window.localStorage.getItem('autofill') === 'on') return;
      Object.defineProperty(window.PublicKeyCredential, 'isConditionalMediationAvailable', { value: () => Promise.resolve(false) });
    });
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    authenticatorId = await addAuthenticator('internal');
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.stop();
  });

  /** Starts a sign-in at the client in a browser without a Gatehouse session. */
  async function begin(config: oidc.Configuration, params: Record<string, string> = {}, keepSession = false): Promise<AuthorizationStart> {
    if (!keepSession) await context.clearCookies();
    const start = await startAuthorization(config, { redirect_uri: app.redirectUri, ...params });
    await page.goto(start.url.href);
    return start;
  }

  async function password() {
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  const landAt = (config: oidc.Configuration, start: AuthorizationStart, click: () => Promise<void>) => claimsAfterRedirect(page, app.redirectUri, config, start, click);

  const post = (action: string, fields: Record<string, string>) => postToInteraction(page, gh.issuer, action, fields);

  const storedPasskeysOf = async (accountId: string) => (await gh.runtime.repos.authenticators.listForAccount(accountId)).filter((a) => a.kind === 'webauthn');
  const storedPasskeys = () => storedPasskeysOf(account.id);

  it('forced setup offers a passkey: registering one signs in with amr pwd, hwk, mfa and acr phr, after the recovery codes', async () => {
    const start = await begin(strict);
    await password();
    await page.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
    // the authenticator app stays on offer beside the passkey
    await expect(page.getByLabel('Authentication code').isVisible()).resolves.toBe(true);
    await page.getByLabel('Name (optional)').fill('Work laptop');
    await page.getByRole('button', { name: 'Add a passkey or security key' }).click();

    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    expect(await page.locator('#recovery-codes code').allTextContents()).toHaveLength(10);
    await page.getByLabel('I have saved these codes').check();
    const claims = await landAt(strict, start, () => page.getByRole('button', { name: /Continue to Flight Ops/ }).click());
    expect(claims?.amr).toEqual(['pwd', 'hwk', 'mfa']);
    expect(claims?.acr).toBe(ACR_PHR);

    const [stored] = await storedPasskeys();
    expect(stored).toMatchObject({ label: 'Work laptop', userVerified: true, backedUp: false });
    expect(stored?.transports).toContain('internal');
  });

  it('after the password, an account with a passkey is offered "Use your passkey or security key": amr pwd, hwk, mfa', async () => {
    const start = await begin(plain);
    await password();
    await page.getByRole('heading', { name: 'Use your passkey or security key' }).waitFor();
    const claims = await landAt(plain, start, () => page.getByRole('button', { name: 'Use your passkey or security key' }).click());
    expect(claims?.amr).toEqual(['pwd', 'hwk', 'mfa']);
    expect(claims?.acr).toBe(ACR_PHR);
    expect(claims?.sub).toBe(account.id);
  });

  it('signs in with a passkey alone: no password page, amr hwk, user, mfa, acr phr', async () => {
    const start = await begin(plain);
    const passwordPosts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/login')) passwordPosts.push(r.url());
    });
    await page.route('**/interaction/*/passkey', async (route) => {
      postedPasskey = Object.fromEntries(new URLSearchParams(route.request().postData() ?? ''));
      await route.continue();
    });
    const claims = await landAt(plain, start, () => page.getByRole('button', { name: 'Sign in with a passkey' }).click());
    await page.unroute('**/interaction/*/passkey');
    expect(claims?.amr).toEqual(['hwk', 'user', 'mfa']);
    expect(claims?.acr).toBe(ACR_PHR);
    expect(claims?.sub).toBe(account.id);
    expect(passwordPosts).toEqual([]);
  });

  it('offers the passkey in the email field\'s autofill (conditional UI) where the browser supports it', async () => {
    await page.goto(`${gh.issuer}/assets/gatehouse.css`);
    await page.evaluate(() => window.localStorage.setItem('autofill', 'on'));
    try {
      const start = await startAuthorization(plain, { redirect_uri: app.redirectUri });
      await context.clearCookies();
      // the virtual authenticator picks the passkey from the autofill list as soon as the page asks
      const claims = await landAt(plain, start, () => page.goto(start.url.href).then(() => undefined));
      expect(claims?.amr).toEqual(['hwk', 'user', 'mfa']);
    } finally {
      await page.goto(`${gh.issuer}/assets/gatehouse.css`);
      await page.evaluate(() => window.localStorage.removeItem('autofill'));
    }
  });

  it('refuses a replayed assertion: its challenge was used once and belongs to the finished sign-in', async () => {
    expect(postedPasskey?.response).toBeDefined();
    const replayed = postedPasskey ?? {};
    await begin(plain);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // the same form again, in a new sign-in
    const again = await post('passkey', { flowId: replayed.flowId ?? '', response: replayed.response ?? '' });
    expect(again.status()).toBe(400);
    expect(await again.text()).toContain('expired or was already used');
    // the old assertion with a fresh challenge of this sign-in: the signature covers the old one
    const options = await post('passkey-options', {});
    const { flowId } = (await options.json()) as { flowId: string };
    const swapped = await post('passkey', { flowId, response: replayed.response ?? '' });
    expect(swapped.status()).toBe(401);
    expect(await swapped.text()).toContain('could not be verified');
    // a response that is not an assertion at all is a clear 400
    const garbage = await post('passkey', { flowId, response: '{"id":1}' });
    expect(garbage.status()).toBe(400);
  });

  it('acr_values=urn:gatehouse:acr:phr steps a password + TOTP session up: the code is refused, the passkey accepted', async () => {
    totp = await importAuthenticator(gh.runtime, { ...account, tenant });
    // an MFA session with the authenticator app
    const first = await begin(plain);
    await password();
    await page.getByLabel('Authentication code').fill(await totp.nextCode());
    const mfa = await landAt(plain, first, () => page.getByRole('button', { name: 'Verify' }).click());
    expect(mfa?.amr).toEqual(['pwd', 'otp', 'mfa']);

    // the same session asked for phr: only the passkey is offered, and a code is not even checked
    const start = await begin(plain, { acr_values: ACR_PHR }, true);
    await page.getByRole('heading', { name: 'Use your passkey or security key' }).waitFor();
    await expect(page.getByLabel('Authentication code').count()).resolves.toBe(0);
    const code = await post('verify', { code: await totp.nextCode() });
    expect(code.status()).toBe(403);
    expect(await code.text()).toContain('requires a passkey or security key');
    const claims = await landAt(plain, start, () => page.getByRole('button', { name: 'Use your passkey or security key' }).click());
    expect(claims?.acr).toBe(ACR_PHR);
    expect(claims?.amr).toEqual(expect.arrayContaining(['hwk', 'mfa']));
    expect(claims?.amr).not.toContain('otp');
  });

  it('a removed passkey no longer signs in; the authenticator app still does', async () => {
    const [stored] = await storedPasskeys();
    expect(await gh.runtime.repos.authenticators.remove(account.id, stored?.id ?? '')).toBe(true);
    await begin(plain);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('not registered with Gatehouse').waitFor();
    await password();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await expect(page.getByRole('button', { name: 'Use your passkey or security key' }).count()).resolves.toBe(0);
  });

  it('adds a USB security key in a phr step-up after the authenticator app, named "Security key"', async () => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator('usb');
    const start = await begin(plain, { acr_values: ACR_PHR });
    await password();
    // an account with only an authenticator app proves it before it may add a key
    await page.getByLabel('Authentication code').fill(await totp.nextCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Add a passkey or security key' }).waitFor();
    await expect(page.getByLabel('Authentication code').count()).resolves.toBe(0);
    const claims = await landAt(plain, start, () => page.getByRole('button', { name: 'Add a passkey or security key' }).click());
    expect(claims?.amr).toEqual(['pwd', 'hwk', 'otp', 'mfa']);
    expect(claims?.acr).toBe(ACR_PHR);
    const [key] = await storedPasskeys();
    expect(key).toMatchObject({ label: 'Security key', transports: ['usb'] });
  });

  it('refuses a signature counter that did not grow (a cloned key) and audits it', async () => {
    const [key] = await storedPasskeys();
    // another copy of the key has signed far more often than this one
    await gh.runtime.database.db.update(authenticators).set({ signCount: 1000 }).where(eq(authenticators.id, key?.id ?? ''));
    await begin(plain, { acr_values: ACR_PHR });
    await password();
    await page.getByRole('button', { name: 'Use your passkey or security key' }).click();
    await page.getByText('a copy of it may be in use elsewhere').waitFor();
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.webauthn.sign_count_regressed', target: account.id, limit: 1 });
    expect(event?.detail).toMatchObject({ authenticator: key?.id, stored: 1000 });
    expect((await storedPasskeys())[0]?.signCount).toBe(1000);
  });

  it('without JavaScript shows no passkey button, and the password and code still sign in', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    const bare = await noScript.newPage();
    try {
      const start = await startAuthorization(plain, { redirect_uri: app.redirectUri });
      await bare.goto(start.url.href);
      await bare.getByLabel('Email').fill(account.email);
      await expect(bare.getByRole('button', { name: 'Sign in with a passkey' }).isVisible()).resolves.toBe(false);
      await bare.getByLabel('Password').fill(PASSWORD);
      await bare.getByRole('button', { name: 'Sign in', exact: true }).click();
      // the account has a security key and an authenticator app: the key's button stays hidden
      await bare.getByLabel('Authentication code').waitFor();
      await expect(bare.getByRole('button', { name: 'Use your passkey or security key' }).isVisible()).resolves.toBe(false);
      await bare.getByLabel('Authentication code').fill(await totp.nextCode());
      await Promise.all([bare.waitForURL(`${app.redirectUri}?**`), bare.getByRole('button', { name: 'Verify' }).click()]);
    } finally {
      await noScript.close();
    }
  });

  it('Security Settings: "Add a passkey or security key" turns MFA on; the passkey signs in to the console and Remove stops it working', async () => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator('internal');
    const other = await seedAccount(gh.runtime, tenant.id);
    await context.clearCookies();
    await page.goto(`${gh.issuer}/account/security`);
    await page.getByLabel('Email').fill(other.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
    await page.getByLabel('Name (optional)').fill('Desk laptop');
    await page.getByRole('button', { name: 'Add a passkey or security key' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await page.getByRole('link', { name: 'I have saved these codes' }).click();
    await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
    expect(await page.locator('#mfa-status').textContent()).toContain('Active');
    expect(await page.locator('#authenticators').textContent()).toContain('Desk laptop');

    // a new console sign-in with the passkey alone is recent enough for Remove
    await context.clearCookies();
    await page.goto(`${gh.issuer}/account/security`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
    await page.locator('#authenticators').getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Multi-factor authentication is now off').waitFor();

    await context.clearCookies();
    await page.goto(`${gh.issuer}/account/security`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('not registered with Gatehouse').waitFor();
  });

  it('Security Settings: a passkey-only account disables MFA with the password and its passkey, never a code', async () => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator('internal');
    const solo = await seedAccount(gh.runtime, tenant.id);
    await context.clearCookies();
    await page.goto(`${gh.issuer}/account/security`);
    await page.getByLabel('Email').fill(solo.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
    await page.getByRole('button', { name: 'Add a passkey or security key' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await page.getByRole('link', { name: 'I have saved these codes' }).click();

    // a sign-in with the passkey is recent enough for the sensitive change
    await context.clearCookies();
    await page.goto(`${gh.issuer}/account/security`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
    // no code is asked of an account without an authenticator app, and one posted anyway is refused unchecked
    await expect(page.locator('#disable-mfa').count()).resolves.toBe(0);
    const csrf = await page.locator('#disable-mfa-passkey input[name="_csrf"]').inputValue();
    const code = await page.request.post(`${gh.issuer}/account/security/disable`, { form: { _csrf: csrf, password: PASSWORD, code: '123456' }, maxRedirects: 0 });
    expect(code.status()).toBe(400);
    expect(await code.text()).toContain('confirm with your passkey or security key');
    expect(await storedPasskeysOf(solo.id)).toHaveLength(1);

    // a wrong password is refused (the server checks it before the passkey's answer)
    await page.locator('#disable-passkey-password').fill('not the password');
    await page.getByRole('button', { name: 'Disable MFA with your passkey' }).click();
    await page.getByText('Your current password is not correct.').waitFor();
    expect(await storedPasskeysOf(solo.id)).toHaveLength(1);

    await page.locator('#disable-passkey-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Disable MFA with your passkey' }).click();
    await page.getByText('Multi-factor authentication is off').waitFor();
    expect(await storedPasskeysOf(solo.id)).toHaveLength(0);
    const [disabled] = await gh.runtime.repos.audit.list({ action: 'mfa.disabled', target: solo.id, limit: 1 });
    expect(disabled).toBeDefined();
  });
});
