// Email verification: a single-use link sent when an account is created (a changed address is verified
// by the link of the change itself, src/domain/email-change.ts). Opening it marks the address verified — only if the account still has that address — and
// the `email_verified` claim of ID tokens and userinfo follows (src/oidc/accounts.ts).
import type { Repos } from '../store/repos.ts';
import type { Limit } from './authentication.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import type { Postbox } from './notices.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import {
  admitLinkRequest,
  DEFAULT_LINK_REQUEST_LIMITS,
  linkInvalid,
  parseEmailAddress,
  type Defer,
  type LinkRequestLimits,
  type LinkRequestOutcome,
} from './link-requests.ts';

/** What sending a verification needs to know about the account. */
export interface VerifiableAccount {
  id: string;
  email: string;
  name: string | null;
  tenant: { id: string; name: string };
}

export function createEmailVerification(deps: {
  accounts: Pick<Repos['accounts'], 'findByEmail' | 'findById'>;
  accountEmail: Pick<Repos['accountEmail'], 'markVerified'>;
  links: OneTimeLinks;
  postbox: Postbox;
  events: SecurityEvents;
  limit: Limit;
  defer: Defer;
  limits?: LinkRequestLimits;
}) {
  const { links, events } = deps;
  const limits = deps.limits ?? DEFAULT_LINK_REQUEST_LIMITS;

  async function send(account: VerifiableAccount, request: RequestInfo = {}): Promise<void> {
    const link = await links.issue('email_verification', { accountId: account.id, email: account.email });
    await deps.postbox.send('email.verification_link', { email: account.email, name: account.name }, {
      link: link.url,
      expiresAt: link.expiresAt,
      tenantName: account.tenant.name,
    });
    await events.emit({ action: 'email.verification_sent', tenantId: account.tenant.id, target: account.id, ...request });
  }

  return {
    send,

    /** Marks the address verified; throws `link_invalid` (410) for an expired, used or replaced link. */
    async verify(token: string, request: RequestInfo) {
      const grant = await links.consume('email_verification', token);
      if (!grant?.accountId || !grant.email) {
        await events.emit({ action: 'email.verification_link.refused', ...request });
        throw linkInvalid();
      }
      const account = await deps.accounts.findById(grant.accountId);
      // A link for an address the account no longer has proves nothing about the new one.
      if (!account || !(await deps.accountEmail.markVerified(account.id, grant.email))) {
        await events.emit({ action: 'email.verification_link.refused', target: grant.accountId, ...request, detail: { reason: 'address_changed' } });
        throw linkInvalid();
      }
      await events.emit({ action: 'email.verified', actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...request });
      return { email: account.email, tenantName: account.tenant.name };
    },

    /**
     * "Send the link again": the same answer whether or not the address has unverified accounts; the
     * links go out after the answer.
     */
    async resend(emailInput: string, request: RequestInfo): Promise<LinkRequestOutcome> {
      const email = parseEmailAddress(emailInput);
      const admitted = await admitLinkRequest(deps.limit, limits, 'email-verification', email, request);
      if (!admitted.ok) {
        await events.emit({ action: 'auth.rate_limited', ...request, detail: { scope: 'email_verification' } });
        return admitted;
      }
      deps.defer('email verification link', async () => {
        const unverified = (await deps.accounts.findByEmail(email)).filter((a) => a.status === 'active' && !a.emailVerified);
        for (const account of unverified) await send(account, request);
      });
      return admitted;
    },
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;
