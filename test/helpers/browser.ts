// Browser tests drive Debian's Chromium through playwright-core. They never skip: without Chromium
// they fail saying how to install it (.ci/run installs it on a machine that lacks it).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe } from '@jest/globals';
import jsqr from 'jsqr';
import pngjs from 'pngjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as oidc from 'openid-client';
import type { AuthorizationStart } from './seed.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `describe` for a block of browser tests. */
export function describeBrowser(title: string, tests: () => void): void {
  describe(title, tests);
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/**
 * The relying party's redirect URI, answered by a small page of a local server. (page.route cannot
 * stand in for it: it does not see navigations that a redirect starts, as the authorization response is.)
 */
export async function startCallbackPage(html: string): Promise<{ redirectUri: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a phone's camera app reads from an inline PNG QR code (a `data:` URL). */
function scanQrDataUrl(dataUrl: string): string | undefined {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new Error(`the QR code is not an inline PNG: ${dataUrl.slice(0, 40)}`);
  const png = pngjs.PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
  // jsqr is CommonJS whose types declare an ES default export, so the function is `.default`.
  return jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

/**
 * Scans the page's QR code image as a phone would: the image must be one the browser really displays
 * (loaded, with a width), and its code must be readable; answers the URI it carries (otpauth://…).
 */
export async function scanQrCode(page: Page): Promise<URL> {
  const qr = page.getByRole('img', { name: /QR code/ });
  const displayedWidth = await qr.evaluate((img) => ((img as HTMLImageElement).complete ? (img as HTMLImageElement).naturalWidth : 0));
  if (displayedWidth === 0) throw new Error('the QR code image is not displayed');
  const text = scanQrDataUrl((await qr.getAttribute('src')) ?? '');
  if (text === undefined) throw new Error('the QR code image holds no readable code');
  return new URL(text);
}

/** Clicks something that ends at the client's redirect URI, exchanges the code there and returns the ID token's claims. */
export async function claimsAfterRedirect(page: Page, redirectUri: string, config: oidc.Configuration, start: AuthorizationStart, click: () => Promise<void>) {
  await Promise.all([page.waitForURL(`${redirectUri}?**`), click()]);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: start.verifier, expectedNonce: start.nonce, expectedState: start.state });
  return tokens.claims();
}

/** Posts a form to the page's current interaction as a hand-crafted request would, with the page's CSRF token. */
export async function postToInteraction(page: Page, issuer: string, action: string, fields: Record<string, string>) {
  const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
  const uid = new URL(page.url()).pathname.split('/')[2];
  return page.request.post(`${issuer}/interaction/${uid}/${action}`, { form: { _csrf: csrf, ...fields }, maxRedirects: 0 });
}
