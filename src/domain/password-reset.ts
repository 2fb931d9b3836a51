// Forgotten password: email → a single-use link → a new password for one of the
// address's accounts → every session of that account ends. The request answers the same, in the same
// time, whether or not the address has an account: only the rate limits are checked before the
// answer, and the lookup, the link and the mail happen after it (`defer`). A new password never
// touches MFA: the next sign-in still asks for the second factor when the account has one.
import type { Repos } from '../store/repos.ts';
import type { Limit } from './authentication.ts';
import { badRequest } from './errors.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import {
  admitLinkRequest,
  DEFAULT_LINK_REQUEST_LIMITS,
  linkInvalid,
  parseEmailAddress,
  type Defer,
  type LinkRequestLimits,
  type LinkRequestOutcome,
} from './link-requests.ts';
import type { Postbox } from './notices.ts';
import type { SessionEnding } from './sessions.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import { validateNewPassword, type PasswordHasher } from './passwords.ts';

/** An interaction uid kept so the user can return to the same sign-in (oidc-provider uids are base64url). */
const RETURN_UID = /^[A-Za-z0-9_-]{10,64}$/;
export const isReturnUid = (value: unknown): value is string => typeof value === 'string' && RETURN_UID.test(value);

export interface ResetChoice {
  id: string;
  tenantName: string;
}

export function createPasswordReset(deps: {
  accounts: Pick<Repos['accounts'], 'findByEmail' | 'findById' | 'updatePasswordHash'>;
  accountEmail: Pick<Repos['accountEmail'], 'markVerified'>;
  links: OneTimeLinks;
  postbox: Postbox;
  hasher: Pick<PasswordHasher, 'hash'>;
  events: SecurityEvents;
  sessions: Pick<SessionEnding, 'end'>;
  /** a new password also stops every remembered browser from skipping the code. */
  forgetBrowsers: (account: { id: string; tenantId: string }, reason: 'password_changed', request: RequestInfo) => Promise<unknown>;
  limit: Limit;
  defer: Defer;
  limits?: LinkRequestLimits;
}) {
  const { accounts, links, events } = deps;
  const limits = deps.limits ?? DEFAULT_LINK_REQUEST_LIMITS;

  /** Accounts a password link may reset: active, with a password (federated-only accounts have none to forget). */
  async function resettable(email: string) {
    return (await accounts.findByEmail(email)).filter((a) => a.status === 'active' && a.passwordHash !== null);
  }

  async function sendLink(email: string, request: RequestInfo, returnUid: string | undefined): Promise<void> {
    const found = await resettable(email);
    const first = found[0];
    if (!first) {
      await events.emit({ action: 'password.reset_requested', ...request, detail: { accounts: 0 } });
      return;
    }
    // in each account's own trail, so its administrators see the request
    for (const a of found) {
      await events.emit({ action: 'password.reset_requested', tenantId: a.tenant.id, target: a.id, ...request, detail: { accounts: found.length } });
    }
    const link = await links.issue('password_reset', { email, accountIds: found.map((a) => a.id) }, returnUid ? { returnUid } : {});
    await deps.postbox.send('password.reset_link', { email: first.email, name: found.length === 1 ? first.name : null }, {
      link: link.url,
      expiresAt: link.expiresAt,
      tenantNames: found.map((a) => a.tenant.name),
    });
  }

  /** The accounts a usable link may reset (several when the address has accounts in several tenants). */
  /** The listed accounts that are active and still have the address the link was sent to (not one changed since). */
  async function choicesOf(accountIds: string[], email: string | null): Promise<ResetChoice[]> {
    const rows = await Promise.all(accountIds.map((id) => accounts.findById(id)));
    return rows
      .filter((a): a is NonNullable<typeof a> => Boolean(a && a.status === 'active' && email !== null && a.email.toLowerCase() === email.toLowerCase()))
      .map((a) => ({ id: a.id, tenantName: a.tenant.name }))
      .sort((a, b) => a.tenantName.localeCompare(b.tenantName));
  }

  /** What the page of a reset link shows; throws `link_invalid` (410) when the link cannot be used. */
  async function open(token: string): Promise<{ choices: ResetChoice[]; returnUid: string | undefined }> {
    const grant = await links.peek('password_reset', token);
    const choices = grant ? await choicesOf(grant.accountIds, grant.email) : [];
    if (!grant || choices.length === 0) throw linkInvalid();
    return { choices, returnUid: isReturnUid(grant.detail.returnUid) ? grant.detail.returnUid : undefined };
  }

  return {
    /**
     * "Forgot password?": rate limits first (per IP, per address), then the same answer for every
     * address; the link goes out after the answer, only when the address has accounts.
     */
    async requestLink(emailInput: string, request: RequestInfo, returnUid?: string): Promise<LinkRequestOutcome> {
      const email = parseEmailAddress(emailInput);
      const admitted = await admitLinkRequest(deps.limit, limits, 'password-reset', email, request);
      if (!admitted.ok) {
        await events.emit({ action: 'auth.rate_limited', ...request, detail: { scope: 'password_reset' } });
        return admitted;
      }
      deps.defer('password reset link', () => sendLink(email, request, isReturnUid(returnUid) ? returnUid : undefined));
      return admitted;
    },

    open,

    /**
     * Sets the new password of the chosen account. Every check that can fail on the user's input runs
     * before the link is spent, so a typo never costs the link.
     */
    async complete(token: string, input: { accountId?: string; password: string; confirm: string }, request: RequestInfo) {
      validateNewPassword(input.password);
      if (input.password !== input.confirm) throw badRequest('The two passwords do not match.', 'password_mismatch');
      const { choices, returnUid } = await open(token);
      const chosen = input.accountId ? choices.find((c) => c.id === input.accountId) : choices.length === 1 ? choices[0] : undefined;
      if (!chosen) throw badRequest('Choose the account whose password you want to reset.', 'choose_account');
      const hash = await deps.hasher.hash(input.password);

      const grant = await links.consume('password_reset', token);
      if (!grant || !grant.accountIds.includes(chosen.id)) throw linkInvalid();
      const account = await accounts.findById(chosen.id);
      if (!account || account.status !== 'active' || account.email.toLowerCase() !== grant.email?.toLowerCase() || !(await accounts.updatePasswordHash(account.id, hash))) throw linkInvalid();
      // The link reached this mailbox: the address is proven as much as by a verification link.
      if (grant.email) await deps.accountEmail.markVerified(account.id, grant.email);

      const who = { actorAccountId: account.id, tenantId: account.tenant.id, ...request };
      const ended = await deps.sessions.end(account.id, { reason: 'password_reset', ...who });
      await deps.forgetBrowsers({ id: account.id, tenantId: account.tenant.id }, 'password_changed', request);
      await events.emit(
        { action: 'password.changed', ...who, target: account.id, detail: { via: 'reset_link', sessionsEnded: ended.sessions, tenantName: account.tenant.name } },
        { email: account.email, name: account.name },
      );
      return { accountId: account.id, email: account.email, tenantName: account.tenant.name, returnUid };
    },

    /** A link that was refused (expired, used, replaced, garbage) is recorded, without the token. */
    async recordRefused(request: RequestInfo): Promise<void> {
      await events.emit({ action: 'password.reset_link.refused', ...request });
    },
  };
}

export type PasswordReset = ReturnType<typeof createPasswordReset>;
