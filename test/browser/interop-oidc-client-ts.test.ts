// Interop: a relying party we did not write — a browser app built on oidc-client-ts (authts), a public
// client with PKCE — signs in through Gatehouse in real Chromium and reads amr/acr from the ID token.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser } from 'playwright-core';
import { describeBrowser, launchChromium } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { PASSWORD, seedAccount, seedClient, seedTenant } from '../helpers/seed.ts';
import { referenceTotp } from '../helpers/totp-reference.ts';

// the package exports no subpath for its browser build, so it is read from the installed package
const bundle = path.resolve('node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js');

const spaPage = (authority: string, clientId: string, origin: string, extra: Record<string, string>) => `<!doctype html>
<html><head><meta charset="utf-8"><script src="/oidc-client-ts.js"></script></head><body><pre id="out">working</pre>
<script>
  const manager = new oidc.UserManager({
    authority: ${JSON.stringify(authority)},
    client_id: ${JSON.stringify(clientId)},
    redirect_uri: ${JSON.stringify(`${origin}/callback`)},
    response_type: 'code',
    filterProtocolClaims: false, // keep amr/acr in the profile (the library drops them by default)
    scope: 'openid email profile',
    extraQueryParams: ${JSON.stringify(extra)},
  });
  const out = document.getElementById('out');
  if (location.pathname === '/callback') {
    manager.signinRedirectCallback().then(
      (user) => { out.textContent = JSON.stringify(user.profile); out.dataset.done = 'yes'; },
      (e) => { out.textContent = 'ERROR ' + e.message; out.dataset.done = 'yes'; });
  } else {
    manager.signinRedirect();
  }
</script></body></html>`;

describeBrowser('an independent RP (oidc-client-ts in Chromium)', () => {
  let gh: TestGatehouse;
  let browser: Browser;
  let spa: http.Server;
  let origin: string;
  let clientId: string;
  let acrParam: Record<string, string> = {};

  beforeAll(async () => {
    gh = await startTestGatehouse();
    spa = http.createServer((req, res) => {
      if (req.url === '/oidc-client-ts.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(fs.readFileSync(bundle));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(spaPage(gh.issuer, clientId, origin, acrParam));
    });
    await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', () => resolve()));
    origin = `http://127.0.0.1:${(spa.address() as AddressInfo).port}`;
    ({ clientId } = await seedClient(gh.runtime, { public: true, grants: ['authorization_code'], redirectUris: [`${origin}/callback`] }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => spa?.close(() => resolve()));
    await gh?.stop();
  });

  async function signIn(email: string, secret?: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    if (secret) {
      await page.getByLabel('Authentication code').fill(referenceTotp(secret, Math.floor(Date.now() / 1000)));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page.waitForSelector('#out[data-done="yes"]', { timeout: 20_000 });
    const text = (await page.textContent('#out')) ?? '';
    await context.close();
    expect(text.startsWith('ERROR')).toBe(false);
    return JSON.parse(text) as Record<string, unknown>;
  }

  it('reads amr ["pwd"] and acr 1fa for a password sign-in', async () => {
    const tenant = await seedTenant(gh.runtime);
    const account = await seedAccount(gh.runtime, tenant.id);
    const profile = await signIn(account.email);
    expect(profile).toMatchObject({ sub: account.id, amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
  });

  it('reads amr with mfa and acr mfa after a TOTP sign-in', async () => {
    const tenant = await seedTenant(gh.runtime);
    const account = await seedAccount(gh.runtime, tenant.id);
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await gh.runtime.mfa.importTotp({ id: account.id, email: account.email, name: null, tenantId: tenant.id, tenantName: tenant.name }, secret, {});
    const profile = await signIn(account.email, secret);
    expect(profile).toMatchObject({ sub: account.id, amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' });
  });

  it('asks Gatehouse for MFA with acr_values and gets it (forced setup would follow for an account without one)', async () => {
    const tenant = await seedTenant(gh.runtime);
    const account = await seedAccount(gh.runtime, tenant.id);
    const secret = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';
    await gh.runtime.mfa.importTotp({ id: account.id, email: account.email, name: null, tenantId: tenant.id, tenantName: tenant.name }, secret, {});
    acrParam = { acr_values: 'urn:gatehouse:acr:mfa' };
    try {
      const profile = await signIn(account.email, secret);
      expect(profile).toMatchObject({ acr: 'urn:gatehouse:acr:mfa' });
      expect(profile.amr).toContain('mfa');
    } finally {
      acrParam = {};
    }
  });
});
