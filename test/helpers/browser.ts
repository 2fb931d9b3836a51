// Browser tests drive Debian's Chromium through playwright-core. Where it is not installed they are
// reported as skipped, with the reason in the title; .ci/run installs it so CI always runs them.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = fs.existsSync(chromiumPath);

/** `describe` when Chromium is there, otherwise a skipped block titled with the reason. */
export function describeBrowser(title: string, tests: () => void): void {
  if (haveChromium) describe(title, tests);
  else describe.skip(`Chromium not found at ${chromiumPath}: browser tests skipped (${title})`, tests);
}

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

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
