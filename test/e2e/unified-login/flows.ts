// The user's steps in the demo app and on Gatehouse's pages, over real HTTP with one cookie jar per
// browser (UserAgent): both servers are on 127.0.0.1 and their cookie names differ.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from '@jest/globals';
import { PASSWORD } from '../../helpers/seed.ts';
import { DEMO_ADMIN, appSetupKeyOf, dashboardFacts, submitExact } from '../../helpers/downstream-app.ts';
import type { DashboardFacts, DemoAppProcess } from '../../helpers/downstream-app.ts';
import { Authenticator, enrolThroughPages, isVerifyPage } from '../../helpers/mfa.ts';
import type { UserAgent, Page } from '../../helpers/user-agent.ts';

export interface GatehouseUser {
  email: string;
  /** the user's Gatehouse authenticator, when they have one. */
  authenticator?: Authenticator | undefined;
}

const pathOf = (page: Page) => new URL(page.url).pathname;

/** "Sign in with Gatehouse" on the demo app's sign-in page: the page Gatehouse answers with. */
export async function clickSignInWithGatehouse(agent: UserAgent, app: DemoAppProcess): Promise<Page> {
  const login = await agent.get(`${app.url}/login`);
  expect(login.html).toContain('Sign in with Gatehouse');
  return submitExact(agent, login, '/login/gatehouse', {});
}

/** Gatehouse's password page, then its TOTP page when the user has an authenticator: the page the app ends on. */
export async function completeGatehouseSignIn(agent: UserAgent, page: Page, user: GatehouseUser): Promise<Page> {
  expect(page.html).toContain(`/interaction/`);
  let next = await agent.submit(page, '/login', { email: user.email, password: PASSWORD });
  if (user.authenticator) {
    expect(isVerifyPage(next)).toBe(true);
    next = await agent.submit(next, '/verify', { code: await user.authenticator.nextCode() });
  }
  return next;
}

export async function unifiedSignIn(agent: UserAgent, app: DemoAppProcess, user: GatehouseUser): Promise<Page> {
  return completeGatehouseSignIn(agent, await clickSignInWithGatehouse(agent, app), user);
}

/** The demo app's own email + password form. */
export async function directSignIn(agent: UserAgent, app: DemoAppProcess, email: string = DEMO_ADMIN.email, password: string = DEMO_ADMIN.password): Promise<Page> {
  const login = await agent.get(`${app.url}/login`);
  return submitExact(agent, login, '/login', { email, password });
}

/** Asserts the app asks for its own second factor (the page, and the decision reason on it). */
export function expectLocalSecondFactorAsked(page: Page, reason: string): void {
  expect(pathOf(page)).toBe('/login/two-factor');
  expect(page.html).toContain(`<code>${reason}</code>`);
}

export function expectDashboard(page: Page, expected: Partial<DashboardFacts>): DashboardFacts {
  expect(pathOf(page)).toBe('/');
  const facts = dashboardFacts(page);
  expect(facts).toMatchObject(expected);
  return facts;
}

/** Enrols the app's own TOTP from a setup page (at sign-in or in settings) and confirms the recovery codes page. */
export async function enrolLocalTotp(agent: UserAgent, setupPage: Page, action: string): Promise<{ authenticator: Authenticator; page: Page }> {
  const authenticator = new Authenticator(appSetupKeyOf(setupPage));
  const page = await submitExact(agent, setupPage, action, { code: await authenticator.nextCode() });
  expect(page.html).toContain('Save your recovery codes');
  return { authenticator, page };
}

/**
 * Gatehouse's forced setup (test/helpers/mfa.ts does the pages), stopped at the app's callback and
 * then delivered to the app: the page the app ends on.
 */
export async function completeGatehouseEnrolment(agent: UserAgent, page: Page, app: DemoAppProcess): Promise<{ authenticator: Authenticator; page: Page }> {
  const { authenticator, callback } = await enrolThroughPages(agent, page, `${app.url}/callback`);
  expect(callback.url.startsWith(`${app.url}/callback?`)).toBe(true);
  return { authenticator, page: await agent.get(callback.url) };
}

/** An administrator's "Require 2FA for sign-in" in Settings > Account (the agent is signed in as the app's admin). */
export async function setRequireTwoFactor(admin: UserAgent, app: DemoAppProcess, on: boolean): Promise<void> {
  const settings = await admin.get(`${app.url}/settings/account`);
  expect(settings.html).toContain('Gatehouse is the enforcement point');
  const saved = await submitExact(admin, settings, '/settings/organization/2fa', on ? { require_2fa: 'on' } : {});
  expect(pathOf(saved)).toBe('/settings/account');
  expect(/id="require_2fa"[^>]*checked/.test(saved.html)).toBe(on);
}

/** True when the agent's demo-app session is gone (the dashboard sends it to the sign-in page). */
export async function demoSessionEnded(agent: UserAgent, app: DemoAppProcess): Promise<boolean> {
  const page = await agent.get(`${app.url}/`);
  return pathOf(page) === '/login';
}

/** Back-channel delivery is awaited by Gatehouse, but a short poll keeps the test honest about timing. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}
