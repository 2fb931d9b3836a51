// Changing one's email address from the account console. The request needs the current password
// (counted with the console's other password forms) and mails a single-use link to the NEW address;
// the old address gets a notice. Nothing changes until the link is opened and confirmed: then the
// address is switched and marked verified in one conditional UPDATE, the old address is told, and
// links still pending for the old address stop working. A newer request supersedes an older link, and
// a password change after the request cancels it ("this wasn't me": change your password).
//
// Sessions stay as they are: they hold the account, not its address (claims are read when a token is
// issued), and the change was made with the password and a recent sign-in, so ending sessions would
// protect nothing the password change would not.
//
// What the answer reveals: whether another account of the user's own tenant has the new address. It
// is given only to the signed-in user of that tenant, after the password was checked and counted, and
// after the per-address and per-IP link limits; the one-account-per-address rule makes it unavoidable
// (the switch would fail), and telling it at once beats a link that can never work.
import type { Repos } from '../store/repos.ts';
import type { AccountWithTenant } from '../store/repositories/accounts.ts';
import type { Limit } from './authentication.ts';
import { checkCurrentPassword } from './current-password.ts';
import { badRequest, conflict, GatehouseError } from './errors.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import { admitLinkRequest, linkInvalid, parseEmailAddress, type LinkRequestLimits, type LinkRequestOutcome } from './link-requests.ts';
import type { Postbox } from './notices.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import type { PasswordHasher } from './passwords.ts';

export type EmailChangeRefusal = 'invalid_email' | 'unchanged' | 'taken';
export type EmailChangeDecision = { ok: true; email: string } | { ok: false; reason: EmailChangeRefusal };

/**
 * Whether an account may ask to move to `requested` (already normalised, or null when it is not an
 * address): a different address that no other account of the same tenant has (`holderId`: the
 * tenant's account that has it, if any). Letter case alone is no change.
 */
export function decideEmailChange(input: { accountId: string; current: string; requested: string | null; holderId: string | null }): EmailChangeDecision {
  if (input.requested === null) return { ok: false, reason: 'invalid_email' };
  if (input.requested.toLowerCase() === input.current.trim().toLowerCase()) return { ok: false, reason: 'unchanged' };
  if (input.holderId !== null && input.holderId !== input.accountId) return { ok: false, reason: 'taken' };
  return { ok: true, email: input.requested };
}

function refusal(reason: EmailChangeRefusal, email: string, tenantName: string): GatehouseError {
  switch (reason) {
    case 'invalid_email':
      return badRequest('Enter the new email address, for example name@example.com.', 'invalid_email');
    case 'unchanged':
      return badRequest('That is already the email address of your account. Enter a different one.', 'email_unchanged');
    case 'taken':
      return conflict(`Another account of ${tenantName} already uses ${email}. Each address can belong to one account per organization.`, 'email_taken');
  }
}

const parseOrNull = (input: string): string | null => {
  try {
    return parseEmailAddress(input);
  } catch {
    return null;
  }
};

/** What the page of a change link shows before it is confirmed. */
export interface PendingEmailChange {
  account: AccountWithTenant;
  from: string;
  to: string;
}

interface ChangeGrant {
  accountId: string;
  from: string;
  to: string;
  requestedAt: Date;
}

export function createEmailChange(deps: {
  accounts: Pick<Repos['accounts'], 'findById' | 'findInTenant'>;
  accountEmail: Pick<Repos['accountEmail'], 'switchEmail'>;
  hasher: PasswordHasher;
  limit: Limit;
  limits: LinkRequestLimits;
  links: Pick<OneTimeLinks, 'issue' | 'peek' | 'consume' | 'revoke'>;
  postbox: Postbox;
  events: SecurityEvents;
  now?: () => Date;
}) {
  const { links, events } = deps;
  const now = deps.now ?? (() => new Date());
  const who = (account: AccountWithTenant, request: RequestInfo) => ({ actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...request });

  const grantOf = (grant: Awaited<ReturnType<OneTimeLinks['peek']>>): ChangeGrant | null => {
    const from = grant?.detail.from;
    const requestedAt = grant?.detail.requestedAt;
    if (!grant?.accountId || !grant.email || typeof from !== 'string' || typeof requestedAt !== 'string') return null;
    return { accountId: grant.accountId, from, to: grant.email, requestedAt: new Date(requestedAt) };
  };

  /** The account the link is for, while it still has the address the change was requested from. */
  const accountOf = async (grant: ChangeGrant | null) => {
    const account = grant ? await deps.accounts.findById(grant.accountId) : undefined;
    if (!grant || !account || account.status !== 'active' || account.email.toLowerCase() !== grant.from.toLowerCase()) return undefined;
    if (account.passwordChangedAt && account.passwordChangedAt > grant.requestedAt) return undefined;
    return account;
  };

  return {
    /**
     * "Change email": the password first (counted), then the address rules, then the link limits for
     * the new address; the link goes to the new address and a notice to the current one.
     */
    async request(account: AccountWithTenant, input: { email: string; password: string }, request: RequestInfo): Promise<{ ok: true; email: string; expiresAt: Date } | Exclude<LinkRequestOutcome, { ok: true }>> {
      await checkCurrentPassword(deps, account, input.password);
      const requested = parseOrNull(input.email);
      const holder = requested ? await deps.accounts.findInTenant(account.tenant.id, requested) : undefined;
      const decision = decideEmailChange({ accountId: account.id, current: account.email, requested, holderId: holder?.id ?? null });
      if (!decision.ok) throw refusal(decision.reason, requested ?? '', account.tenant.name);
      const admitted = await admitLinkRequest(deps.limit, deps.limits, 'email-change', decision.email, request);
      if (!admitted.ok) {
        await events.emit({ action: 'auth.rate_limited', ...request, detail: { scope: 'email_change' } });
        return admitted;
      }
      const link = await links.issue('email_change', { accountId: account.id, email: decision.email }, { from: account.email, requestedAt: now().toISOString() });
      await deps.postbox.send('email.change_link', { email: decision.email, name: account.name }, { link: link.url, expiresAt: link.expiresAt, tenantName: account.tenant.name, from: account.email });
      await events.emit(
        { action: 'email.change_requested', ...who(account, request), detail: { to: decision.email, tenantName: account.tenant.name } },
        { email: account.email, name: account.name },
      );
      return { ok: true, email: decision.email, expiresAt: link.expiresAt };
    },

    /** What a change link would do, if it is usable now; spends nothing (a mail scanner's GET changes nothing). */
    async peek(token: string): Promise<PendingEmailChange> {
      const grant = grantOf(await links.peek('email_change', token));
      const account = await accountOf(grant);
      if (!grant || !account) throw linkInvalid();
      return { account, from: grant.from, to: grant.to };
    },

    /**
     * Spends the link and switches the address. Exactly one of several parallel confirmations switches
     * it (the link is spent by one conditional UPDATE); `email_taken` (409) when another account of the
     * tenant took the address meanwhile, and then nothing changed.
     */
    async confirm(token: string, request: RequestInfo): Promise<{ email: string; tenantName: string }> {
      const grant = grantOf(await links.consume('email_change', token));
      const account = await accountOf(grant);
      if (!grant || !account) {
        await events.emit({ action: 'email.change_link.refused', ...request, ...(grant ? { target: grant.accountId } : {}) });
        throw linkInvalid();
      }
      const outcome = await deps.accountEmail.switchEmail(account.id, grant.from, grant.to, grant.requestedAt);
      if (outcome !== 'changed') {
        await events.emit({ action: 'email.change_link.refused', tenantId: account.tenant.id, target: account.id, ...request, detail: { reason: outcome } });
        if (outcome === 'taken') throw new GatehouseError('email_taken', 409, `Another account of ${account.tenant.name} started using ${grant.to} after you asked for the change, so your address was not changed. Choose another address.`);
        throw linkInvalid();
      }
      // Links mailed to the old address must not act on the account any more.
      await links.revoke('mfa_reset', { accountId: account.id });
      await links.revoke('email_verification', { accountId: account.id });
      await events.emit(
        { action: 'email.changed', ...who(account, request), detail: { from: grant.from, to: grant.to, tenantName: account.tenant.name } },
        { email: grant.from, name: account.name },
      );
      return { email: grant.to, tenantName: account.tenant.name };
    },

    /** A link refused before the use case saw it (garbage in the URL) is recorded, without the token. */
    async recordRefused(request: RequestInfo): Promise<void> {
      await events.emit({ action: 'email.change_link.refused', ...request });
    },
  };
}

export type EmailChange = ReturnType<typeof createEmailChange>;
