// Invite a user (User Management → "Invite user") and "Resend invitation": the account is created
// without a password, and the invitee gets a single-use link to /password/set/:token where they
// choose it (src/domain/invitations.ts). Only the newest invitation link of an account works, so a
// resend makes the earlier mail useless.
import { badRequest, conflict, notFound } from '../errors.ts';
import { emailAddress } from '../directory.ts';
import type { Role } from '../permissions.ts';
import { actorFields, authorize, tenantByRef, tenantTarget, type AdminContext, type AdminDeps } from './context.ts';
import { ROLES, type UserAdmin, type UserView } from './users.ts';

export interface InviteInput {
  /** id or slug; default the actor's own tenant. */
  tenant?: string | undefined;
  email: string;
  name?: string | undefined;
  role?: Role | undefined;
}

export interface InvitationResult {
  user: UserView;
  expiresAt: Date;
}

const NO_USER = 'No such user.';

export function createInvitationAdmin(deps: AdminDeps, users: UserAdmin) {
  const { repos, events, links, postbox } = deps;

  async function send(ctx: AdminContext, account: { id: string; email: string; name: string | null }, tenantName: string) {
    const link = await links.issue('invitation', { accountId: account.id, email: account.email });
    await postbox.send('account.invitation', { email: account.email, name: account.name }, {
      link: link.url,
      expiresAt: link.expiresAt,
      tenantName,
      ...(ctx.actor.kind === 'account' ? { inviterName: ctx.actor.display } : {}),
    });
    return link.expiresAt;
  }

  return {
    async invite(ctx: AdminContext, input: InviteInput): Promise<InvitationResult> {
      const role = input.role ?? 'user';
      if (!(ROLES as readonly string[]).includes(role)) throw badRequest(`role must be one of ${ROLES.join(', ')}.`, 'invalid_role');
      const parsed = emailAddress.safeParse(input.email);
      if (!parsed.success) throw badRequest(`email ${parsed.error.issues[0]?.message ?? 'is invalid'}.`, 'invalid_email');
      const name = input.name?.trim() ?? '';
      if (name.length > 200) throw badRequest('name is at most 200 characters.', 'invalid_name');
      const tenant = input.tenant ? await tenantByRef(repos, input.tenant) : await repos.tenants.findById(ctx.actor.tenantId);
      if (!tenant) throw notFound('Your tenant no longer exists.', 'tenant_not_found');
      await authorize(deps, ctx, 'invite_user', tenantTarget(tenant, { grantRole: role }), {
        visibleWith: 'view_users',
        notFoundMessage: `No tenant with id or slug "${input.tenant ?? tenant.slug}".`,
      });
      const account = await repos.accounts.create({ tenantId: tenant.id, email: parsed.data, name: name || null, role, passwordHash: null, emailVerified: false, source: 'local' });
      await events.emit({ action: 'account.invited', ...actorFields(ctx.actor), tenantId: tenant.id, target: account.id, ...ctx.request, detail: { role } });
      const expiresAt = await send(ctx, account, tenant.name);
      return { user: await users.get(ctx, account.id), expiresAt };
    },

    /** A new link for an invitation not yet accepted; the earlier links stop working. */
    async resend(ctx: AdminContext, accountId: string): Promise<InvitationResult> {
      const account = await repos.accounts.findById(accountId);
      if (!account) throw notFound(NO_USER, 'user_not_found');
      const tenant = account.tenant;
      await authorize(deps, ctx, 'invite_user', tenantTarget(tenant, { accountId: account.id, role: account.role, grantRole: account.role }), {
        visibleWith: 'view_users',
        notFoundMessage: NO_USER,
      });
      const user = await users.get(ctx, account.id);
      if (!user.invitationPending) throw conflict(`${account.email} has already accepted the invitation.`, 'invitation_accepted');
      if (user.status !== 'active') throw conflict(`${account.email} is deactivated: reactivate the account first.`, 'user_disabled');
      await events.emit({ action: 'account.invitation.resent', ...actorFields(ctx.actor), tenantId: tenant.id, target: account.id, ...ctx.request, detail: { role: account.role } });
      return { user, expiresAt: await send(ctx, account, tenant.name) };
    },
  };
}

export type InvitationAdmin = ReturnType<typeof createInvitationAdmin>;
