// The invitee's side of an invitation: the emailed link opens /password/set/:token, where they choose
// their first password under the same rules as `user create`. The link works once, only while it is
// the newest for the account, and only while the account still has no password; everything that can
// fail on the invitee's input is checked before the link is spent.
import type { Repos } from '../store/repos.ts';
import { badRequest } from './errors.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import { linkInvalid } from './link-requests.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import { validateNewPassword, type PasswordHasher } from './passwords.ts';

export interface Invitation {
  accountId: string;
  email: string;
  name: string | null;
  tenantName: string;
}

export function createInvitationAcceptance(deps: {
  accounts: Pick<Repos['accounts'], 'findById' | 'setFirstPasswordHash'>;
  accountEmail: Pick<Repos['accountEmail'], 'markVerified'>;
  links: Pick<OneTimeLinks, 'peek' | 'consume'>;
  hasher: Pick<PasswordHasher, 'hash'>;
  events: SecurityEvents;
}) {
  const { accounts, links, events } = deps;

  /** The invitation a usable link stands for; `link_invalid` (410) otherwise. */
  async function open(token: string): Promise<Invitation> {
    const grant = await links.peek('invitation', token);
    const account = grant?.accountId ? await accounts.findById(grant.accountId) : undefined;
    if (!account || account.status !== 'active' || account.passwordHash !== null) throw linkInvalid();
    return { accountId: account.id, email: account.email, name: account.name, tenantName: account.tenant.name };
  }

  return {
    open,

    async accept(token: string, input: { password: string; confirm: string }, request: RequestInfo): Promise<Invitation> {
      validateNewPassword(input.password);
      if (input.password !== input.confirm) throw badRequest('The two passwords do not match.', 'password_mismatch');
      const invitation = await open(token);
      const hash = await deps.hasher.hash(input.password);
      const grant = await links.consume('invitation', token);
      if (!grant || grant.accountId !== invitation.accountId) throw linkInvalid();
      if (!(await accounts.setFirstPasswordHash(invitation.accountId, hash))) throw linkInvalid();
      // the link reached this mailbox: the address is proven
      if (grant.email) await deps.accountEmail.markVerified(invitation.accountId, grant.email);
      const account = await accounts.findById(invitation.accountId);
      await events.emit({ action: 'account.invitation.accepted', actorAccountId: invitation.accountId, tenantId: account?.tenant.id, target: invitation.accountId, ...request });
      return invitation;
    },

    /** A refused link (expired, used, replaced, malformed) is recorded, without the token. */
    async recordRefused(request: RequestInfo): Promise<void> {
      await events.emit({ action: 'account.invitation_link.refused', ...request });
    },
  };
}

export type InvitationAcceptance = ReturnType<typeof createInvitationAcceptance>;
