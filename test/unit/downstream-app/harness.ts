/**
 * Starts the demo app on 127.0.0.1 with an in-memory store and a controllable clock, and gives the
 * tests what they need: the store, a browser, users, a reference TOTP code for "now".
 */
import { randomBytes } from 'node:crypto';
import { createLocalUser, createMemoryStore, startDownstreamApp } from '../../../examples/downstream-app/app.ts';
import type { DownstreamAppOptions, DownstreamStore, LocalUser } from '../../../examples/downstream-app/app.ts';
import { hashRecoveryCodes } from '../../../examples/downstream-app/auth/recovery-codes.ts';
import { base32Encode, referenceTotp } from '../../helpers/totp-reference.ts';
import { createBrowser } from './browser.ts';
import type { Browser } from './browser.ts';

export interface Harness {
  baseUrl: string;
  store: DownstreamStore;
  /** Seconds since the epoch as the app sees it. */
  nowSeconds(): number;
  /** Moves the app's clock forward. */
  advance(seconds: number): void;
  browser(): Browser;
  close(): Promise<void>;
}

export async function startApp(options: Partial<DownstreamAppOptions> = {}): Promise<Harness> {
  const store = options.store ?? createMemoryStore();
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const started = await startDownstreamApp({ store, clock, ...options });
  return {
    baseUrl: started.url,
    store,
    nowSeconds: () => Math.floor(clock().getTime() / 1000),
    advance: (seconds) => {
      offsetMs += seconds * 1000;
    },
    browser: () => createBrowser(started.url),
    close: started.close,
  };
}

export const PASSWORD = 'correct horse battery staple';

export function addUser(store: DownstreamStore, email: string, extra: { isAdmin?: boolean; name?: string } = {}): Promise<LocalUser> {
  return createLocalUser(store, { email, name: extra.name ?? email.split('@')[0] ?? email, password: PASSWORD, isAdmin: extra.isAdmin ?? false });
}

/** Enrols TOTP directly in the store with a secret made by the reference implementation's encoder. */
export async function enrolTotp(store: DownstreamStore, user: LocalUser, recoveryCodes: string[] = []): Promise<string> {
  const secret = base32Encode(randomBytes(20));
  await store.enableTotp(user.id, secret, await hashRecoveryCodes(recoveryCodes), 0);
  return secret;
}

export function codeAt(secret: string, seconds: number): string {
  return referenceTotp(secret, seconds);
}
