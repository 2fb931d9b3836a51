// MFA from the user's side, for end-to-end tests: an authenticator app (codes from the independent
// reference TOTP, never from src), imported authenticators, and readers for the MFA pages; and the MFA
// service over real repositories, for integration tests of its rules.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../src/runtime.ts';
import type { Repos } from '../../src/store/repos.ts';
import type { SecretBox } from '../../src/domain/secrets.ts';
import { createMfaService, type MfaService } from '../../src/domain/mfa/service.ts';
import { createPasswordHasher } from '../../src/domain/passwords.ts';
import { base32Encode, referenceTotp } from './totp-reference.ts';
import { findForm, type Page, type UserAgent } from './user-agent.ts';

const PERIOD = 30;
const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD);
const MARGIN_SECONDS = 15;
/** The oldest step a fresh code may use: the previous one while the current step has time left. */
function earliestSafeStep(): number {
  const secondsLeft = PERIOD - ((Date.now() / 1000) % PERIOD);
  return secondsLeft >= MARGIN_SECONDS ? currentStep() - 1 : currentStep();
}

/** A fresh 160-bit secret as an authenticator app would hold it (DESIGN.md §9). */
export const newTotpSecret = () => base32Encode(randomBytes(20));

/**
 * The user's authenticator app. The server refuses a time step it has accepted once (replay), so each
 * code comes from a step newer than the last one used, inside the server's ±1 window. The step before
 * the current one is used only while at least MARGIN_SECONDS of the current step remain, so a step
 * boundary passing before the server checks cannot push the code out of the window.
 */
export class Authenticator {
  readonly secret: string;
  private lastUsedStep = -1;

  constructor(secret: string) {
    this.secret = secret;
  }

  codeAt(step: number): string {
    return referenceTotp(this.secret, step * PERIOD);
  }

  /** A code the server has not seen yet; waits for the next step when the window is used up. */
  async nextCode(): Promise<string> {
    let step = Math.max(earliestSafeStep(), this.lastUsedStep + 1);
    while (step > currentStep() + 1) {
      await sleep(1000);
      step = Math.max(earliestSafeStep(), this.lastUsedStep + 1);
    }
    this.lastUsedStep = step;
    return this.codeAt(step);
  }

  /** The code that was last handed out (to replay it). */
  lastCode(): string {
    return this.codeAt(this.lastUsedStep);
  }

  /** Six digits that match no step near now. */
  wrongCode(): string {
    const near = new Set([-2, -1, 0, 1, 2].map((d) => this.codeAt(currentStep() + d)));
    for (let n = 0; ; n++) {
      const candidate = String((123456 + n * 7919) % 1_000_000).padStart(6, '0');
      if (!near.has(candidate)) return candidate;
    }
  }
}

interface SeededAccount {
  id: string;
  email: string;
  name: string | null;
  tenant: { id: string; name: string };
}

/** Stores an authenticator the user already has (the `user mfa import-totp` use case). */
export async function importAuthenticator(runtime: Runtime, account: SeededAccount, secret = newTotpSecret()): Promise<Authenticator> {
  await runtime.mfa.importTotp(
    { id: account.id, email: account.email, name: account.name, tenantId: account.tenant.id, tenantName: account.tenant.name },
    secret,
    {},
  );
  return new Authenticator(secret);
}

// ---- reading the pages ----

/**
 * Posts the hidden fields (CSRF token included) of the page's form `formAction` to another action of
 * the same interaction, as a user who crafts the request by hand would: for steps the page does not offer.
 */
export async function postInstead(agent: UserAgent, page: Page, formAction: string, action: string, fields: Record<string, string> = {}, stopAt?: string): Promise<Page> {
  const form = findForm(page.html, formAction);
  const target = new URL(form.action.replace(formAction, action), page.url).href;
  const body = new URLSearchParams({ ...form.hidden, ...fields });
  return agent.follow(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, stopAt);
}

export const isPasswordPage = (page: Page) => page.html.includes('autocomplete="current-password"');
export const isVerifyPage = (page: Page) => /action="\/interaction\/[^"]+\/verify"/.test(page.html);
export const isEnrolPage = (page: Page) => /action="\/interaction\/[^"]+\/enrol"/.test(page.html);
export const isRecoveryCodesPage = (page: Page) => page.html.includes('id="recovery-codes"');

/** The setup key shown under the QR code, without its grouping spaces. */
export function setupKeyOf(page: Page): string {
  const key = /id="setup-key"[^>]*>([^<]+)</.exec(page.html)?.[1];
  if (!key) throw new Error(`no setup key on ${page.url}:\n${page.html.slice(0, 1500)}`);
  return key.replace(/\s+/g, '');
}

/** The recovery codes listed on the page shown once after enrolment. */
export function recoveryCodesOf(page: Page): string[] {
  const list = /id="recovery-codes"[^>]*>([\s\S]*?)<\/ul>/.exec(page.html)?.[1];
  if (!list) throw new Error(`no recovery codes on ${page.url}:\n${page.html.slice(0, 1500)}`);
  return [...list.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => (m[1] ?? '').trim());
}

/** The instant in the `<time datetime>` of a page (the locked page says until when). */
export function timeOf(page: Page): Date | undefined {
  const value = /<time datetime="([^"]+)"/.exec(page.html)?.[1];
  return value ? new Date(value) : undefined;
}

/**
 * Forced setup as a user does it: read the setup key, type the app's code, save the recovery codes
 * ("I have saved these codes"), continue to the client.
 */
export async function enrolThroughPages(agent: UserAgent, setupPage: Page, stopAt: string) {
  if (!isEnrolPage(setupPage)) throw new Error(`expected the setup page, got ${setupPage.status} ${setupPage.url}:\n${setupPage.html.slice(0, 1500)}`);
  const authenticator = new Authenticator(setupKeyOf(setupPage));
  const codesPage = await agent.submit(setupPage, '/enrol', { code: await authenticator.nextCode() }, stopAt);
  if (!isRecoveryCodesPage(codesPage)) throw new Error(`expected the recovery codes, got ${codesPage.status} ${codesPage.url}:\n${codesPage.html.slice(0, 1500)}`);
  const recoveryCodes = recoveryCodesOf(codesPage);
  const callback = await agent.submit(codesPage, '/recovery-codes', { saved: 'yes' }, stopAt);
  return { authenticator, recoveryCodes, codesPage, callback };
}

/**
 * The MFA service over real repositories, for tests of its own rules: no per-IP limit, no notices, the
 * cheapest argon2id (recovery codes), a lockout after 5 failures. `authenticators` replaces the
 * repository (e.g. to count its reads).
 */
export function mfaServiceOver(repos: Repos, box: SecretBox, authenticators: Repos['authenticators'] = repos.authenticators): MfaService {
  return createMfaService({
    authenticators,
    recoveryCodes: repos.recoveryCodes,
    lockouts: repos.lockouts,
    events: { emit: async () => undefined },
    box,
    hasher: createPasswordHasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 }),
    limit: async () => ({ allowed: true, retryAfterSeconds: 0 }),
    settings: { lockout: { threshold: 5, baseSeconds: 900, maxSeconds: 86400 }, mfaPerIp: 100, windowSeconds: 900 },
  });
}
