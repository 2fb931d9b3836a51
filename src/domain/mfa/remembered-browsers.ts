// "Remember this browser" (docs/sign-in-sequence.md): after a second factor the user may let this
// browser skip the code for N days. The browser keeps `<record id>.<random token>` in an HttpOnly
// cookie; the store keeps an HMAC of the token under a key derived from the secret key, bound to the
// account, revocable. A remembered sign-in proves MFA by an earlier code (amr pwd + mfa, no otp), so
// it is refused whenever the request wants a fresh proof: prompt=login, or a max_age shorter than
// the time since the last code typed in this browser.
import { createHmac, randomBytes } from 'node:crypto';
import type { Repos } from '../../store/repos.ts';
import type { RememberedBrowser } from '../../store/repositories/remembered-browsers.ts';
import type { RequestInfo, SecurityEvents } from '../events.ts';
import type { SecretBox } from '../secrets.ts';

/** One entry per account remembered in this browser, newest first; the oldest fall off. */
export const MAX_REMEMBERED_PER_BROWSER = 5;
const ENTRY = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

export interface RememberRequest {
  /** the authorization request asked for a login prompt (prompt=login). */
  loginPrompt: boolean;
  /** its max_age in seconds, when given. */
  maxAge: number | undefined;
}

export interface RememberedBrowserView {
  id: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}

/** The cookie's entries: well-formed ones only, at most MAX_REMEMBERED_PER_BROWSER. */
export function parseRememberCookie(value: string | undefined): { id: string; token: string }[] {
  if (!value || value.length > 600) return [];
  return value
    .split('~')
    .map((entry) => ENTRY.exec(entry))
    .filter((m): m is RegExpExecArray => m !== null)
    .slice(0, MAX_REMEMBERED_PER_BROWSER)
    .map((m) => ({ id: m[1] ?? '', token: m[2] ?? '' }));
}

/** The rule: a remembered code counts only when the request does not want a newer one. */
export function rememberedCodeAccepted(lastCodeAt: Date, request: RememberRequest, now: Date): boolean {
  if (request.loginPrompt) return false;
  if (request.maxAge === undefined) return true;
  return (now.getTime() - lastCodeAt.getTime()) / 1000 <= request.maxAge;
}

export function createRememberedBrowsers(deps: { repo: Repos['rememberedBrowsers']; box: SecretBox; events: SecurityEvents; days: number }) {
  const { repo, events } = deps;
  const key = deps.box.deriveKey('remembered-browser');
  const digest = (token: string) => createHmac('sha256', key).update(token).digest('base64url');

  async function find(cookie: string | undefined, accountId: string, now: Date): Promise<RememberedBrowser | undefined> {
    for (const entry of parseRememberCookie(cookie)) {
      const row = await repo.findUsable(entry.id, accountId, digest(entry.token), now);
      if (row) return row;
    }
    return undefined;
  }

  return {
    /** 0 days: the checkbox is not offered and no browser is recognised. */
    days: deps.days,
    enabled: deps.days > 0,

    /** A new record for this browser and account; returns the cookie value with it added first. */
    async remember(account: { id: string; tenantId: string }, cookie: string | undefined, request: RequestInfo, now = new Date()): Promise<{ cookie: string; maxAgeSeconds: number }> {
      const token = randomBytes(32).toString('base64url');
      const maxAgeSeconds = deps.days * 86400;
      const row = await repo.create({
        accountId: account.id,
        tokenHash: digest(token),
        userAgent: request.userAgent?.slice(0, 512) ?? null,
        ip: request.ip ?? null,
        lastCodeAt: now,
        expiresAt: new Date(now.getTime() + maxAgeSeconds * 1000),
      });
      await events.emit({ action: 'browser.remembered', actorAccountId: account.id, tenantId: account.tenantId, target: account.id, ...request, detail: { browser: row.id, days: deps.days } });
      const others = parseRememberCookie(cookie).map((e) => `${e.id}.${e.token}`);
      return { cookie: [`${row.id}.${token}`, ...others].slice(0, MAX_REMEMBERED_PER_BROWSER).join('~'), maxAgeSeconds };
    },

    /**
     * Whether this browser may skip the code for this account and this request; marks it used. A
     * record older than the account's current MFA (`mfaSince`: reset or turned off and on again since,
     * by the user or an administrator) proves nothing about the new authenticators.
     */
    async recognise(cookie: string | undefined, account: { id: string; mfaSince: Date | null }, request: RememberRequest, now = new Date()): Promise<boolean> {
      if (!deps.days || !account.mfaSince) return false;
      const row = await find(cookie, account.id, now);
      if (!row || row.createdAt < account.mfaSince || !rememberedCodeAccepted(row.lastCodeAt, request, now)) return false;
      await repo.markUsed(row.id, now);
      return true;
    },

    /** A real code was typed in this browser: its record (if any) counts from now. */
    async codeTyped(cookie: string | undefined, accountId: string, now = new Date()): Promise<void> {
      const row = await find(cookie, accountId, now);
      if (row) await repo.markCode(row.id, now);
    },

    async list(accountId: string, now = new Date()): Promise<RememberedBrowserView[]> {
      return (await repo.listUsable(accountId, now)).map((r) => ({ id: r.id, userAgent: r.userAgent, ip: r.ip, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, expiresAt: r.expiresAt }));
    },

    async forget(account: { id: string; tenantId: string }, id: string, request: RequestInfo, now = new Date()): Promise<boolean> {
      const revoked = await repo.revoke(account.id, id, now);
      if (revoked) await events.emit({ action: 'browser.forgotten', actorAccountId: account.id, tenantId: account.tenantId, target: account.id, ...request, detail: { browser: id, reason: 'user' } });
      return revoked;
    },

    /** Password change, MFA reset: no browser keeps skipping the code. */
    async forgetAll(account: { id: string; tenantId: string }, reason: 'password_changed' | 'mfa_reset' | 'mfa_disabled', request: RequestInfo, now = new Date()): Promise<number> {
      const revoked = await repo.revokeAllForAccount(account.id, now);
      if (revoked > 0) await events.emit({ action: 'browser.forgotten', actorAccountId: account.id, tenantId: account.tenantId, target: account.id, ...request, detail: { browsers: revoked, reason } });
      return revoked;
    },
  };
}

export type RememberedBrowsers = ReturnType<typeof createRememberedBrowsers>;
