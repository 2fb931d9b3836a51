// `npm run demo` shows a passkey sign-in bypassing Acme MDR's local 2FA (issue 15): the demo script
// itself runs (Gatehouse and Acme MDR as its child processes, its own data directory), prints the
// passkey walkthrough, and following it in Chromium with a CDP virtual authenticator — add a passkey
// in Gatehouse's Security Settings as Dave, then "Sign in with Gatehouse" → "Sign in with a passkey"
// at Acme MDR — lands on Acme MDR's dashboard without its own code: amr hwk, user, mfa.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeBrowser, launchChromium } from '../helpers/browser.ts';
import { freePort } from '../helpers/gatehouse.ts';

const DAVE = 'dave@northwind.example';
const DEMO_PASSWORD = 'unified-login-demo';

describeBrowser('npm run demo: a passkey sign-in bypasses Acme MDR\'s local 2FA', () => {
  let demo: ChildProcess;
  let output = '';
  let dataDir: string;
  let issuer: string;
  let appUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    const [gatehousePort, appPort] = [await freePort(), await freePort()];
    issuer = `http://localhost:${gatehousePort}`;
    appUrl = `http://127.0.0.1:${appPort}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-demo-'));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), GATEHOUSE_PORT: String(gatehousePort), APP_PORT: String(appPort), DEMO_DATA_DIR: dataDir };
    demo = spawn(process.execPath, [path.resolve('scripts/demo.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 240_000; // seeding migrates a fresh embedded database: slow on a busy machine
    while (!output.includes('Unified login demo is running')) {
      if (demo.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start:\n${output}`);
      await sleep(250);
    }
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo.once('exit', resolve));
      demo.kill('SIGTERM'); // the demo stops Acme MDR and Gatehouse, then exits
      await exited;
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const field = async (page: Page, name: string) => ((await page.locator(`[data-field="${name}"]`).textContent()) ?? '').trim();

  it('prints the passkey walkthrough', () => {
    expect(output).toContain(`Gatehouse             ${issuer}`);
    expect(output).toContain('Passkey sign-in (phishing-resistant MFA, no password):');
    expect(output).toContain(`Open ${issuer}/account/security, sign in as ${DAVE}, "Add a passkey or security key".`);
    expect(output).toContain('"Sign in with Gatehouse", then "Sign in with a passkey"');
  });

  it('following it: Dave adds a passkey, signs in to Acme MDR with it alone, and Acme MDR skips its own 2FA (amr hwk, user, mfa)', async () => {
    const context = await browser.newContext();
    // the virtual authenticator would answer the sign-in page's conditional (autofill) request at once: use the button
    await context.addInitScript(() => {
      if (window.PublicKeyCredential) Object.defineProperty(window.PublicKeyCredential, 'isConditionalMediationAvailable', { value: () => Promise.resolve(false) });
    });
    const page = await context.newPage();
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      // 1. Security Settings at Gatehouse: add a passkey
      await page.goto(`${issuer}/account/security`);
      await page.getByLabel('Email').fill(DAVE);
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Security Settings' }).waitFor();
      await page.getByRole('button', { name: 'Add a passkey or security key' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();

      // 2. Acme MDR (its own 2FA is on, as the demo starts it): "Sign in with Gatehouse", then "Sign in with a passkey"
      const appData = JSON.parse(fs.readFileSync(path.join(dataDir, 'acme-mdr.json'), 'utf8')) as { settings: { requireTwoFactor: boolean } };
      expect(appData.settings.requireTwoFactor).toBe(true);
      await context.clearCookies();
      await page.goto(`${appUrl}/login`);
      await page.getByRole('button', { name: 'Sign in with Gatehouse' }).click();
      await page.waitForURL(`${issuer}/interaction/**`);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();

      // 3. Acme MDR's dashboard, without its own code
      await page.waitForURL(`${appUrl}/`);
      await expect(page.getByRole('heading', { name: 'Welcome, Dave Passkey' }).isVisible()).resolves.toBe(true);
      expect(await field(page, 'path')).toBe('unified');
      expect(JSON.parse(await field(page, 'amr'))).toEqual(['hwk', 'user', 'mfa']);
      expect(await field(page, 'acr')).toBe('urn:gatehouse:acr:phr');
      expect(await field(page, 'reason')).toBe('unified_mfa_satisfied');
      expect(await field(page, 'local-factor')).toBe('not asked');
      expect(await field(page, 'gatehouse-factor')).toBe('passkey or security key, without a password (phishing resistant)');
    } finally {
      await context.close();
    }
  });
});
