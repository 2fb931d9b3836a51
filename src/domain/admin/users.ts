// User Management (NinjaOne: Settings → User Management): list users with their MFA Status, change a
// role, deactivate/reactivate, end sessions. Each use case authorizes with can() before any work and
// records what it did (or what it refused) in the audit log.
import { z } from 'zod';
import type { AccountListItem } from '../../store/repositories/accounts.ts';
import { badRequest, notFound } from '../errors.ts';
import { ROLE_LABEL, type Role } from '../permissions.ts';
import { managedTenantIds } from '../tenant-tree.ts';
import { actorFields, authorize, tenantByRef, tenantTarget, type AdminContext, type AdminDeps, type TenantRow } from './context.ts';
import { createMfaReset, type MfaResetResult } from '../mfa/reset.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor, type Page } from './cursor.ts';

export const ROLES = ['owner', 'super_admin', 'admin', 'support', 'user'] as const satisfies readonly Role[];
export const MFA_STATUSES = ['active', 'inactive'] as const;
export type MfaStatusLabel = (typeof MFA_STATUSES)[number];

export interface UserListQuery {
  /** id or slug; default the actor's own tenant. */
  tenant?: string | undefined;
  search?: string | undefined;
  role?: Role | undefined;
  mfa?: MfaStatusLabel | undefined;
  status?: 'active' | 'disabled' | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface UserView {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  roleLabel: string;
  status: 'active' | 'disabled';
  mfa: MfaStatusLabel;
  /** invited, has not chosen a password yet ("Resend invitation" applies). */
  invitationPending: boolean;
  lastSignInAt: Date | null;
  createdAt: Date;
  tenant: { id: string; name: string; slug: string; kind: TenantRow['kind'] };
}

const userCursor = z.object({ e: z.string().max(400), i: z.string().max(64) });

const view = (row: AccountListItem, tenant: TenantRow): UserView => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  roleLabel: ROLE_LABEL[row.role],
  status: row.status,
  mfa: row.mfaActive ? 'active' : 'inactive',
  invitationPending: row.invitationPending,
  lastSignInAt: row.lastLoginAt,
  createdAt: row.createdAt,
  tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug, kind: tenant.kind },
});

const NO_USER = 'No such user.';

export function createUserAdmin(deps: AdminDeps) {
  const { repos, events } = deps;
  const mfaReset = createMfaReset({ ...repos, events, endSessions: deps.endSessions, policy: deps.policy });

  /** The account as a permission target; 404 when it does not exist (same answer as "outside your scope"). */
  async function loadTarget(accountId: string) {
    const account = await repos.accounts.findById(accountId);
    if (!account) throw notFound(NO_USER, 'user_not_found');
    const target = tenantTarget({ id: account.tenant.id, kind: account.tenant.kind, parentId: account.tenant.parentId, name: account.tenant.name, slug: account.tenant.slug }, { accountId: account.id, role: account.role });
    return { account, target };
  }

  /** The user as User Management shows it: MFA Status from the same query as the list. */
  async function toView(account: NonNullable<Awaited<ReturnType<typeof repos.accounts.findById>>>): Promise<UserView> {
    const tenant = { id: account.tenant.id, name: account.tenant.name, slug: account.tenant.slug, kind: account.tenant.kind, parentId: account.tenant.parentId };
    const [row] = await repos.accounts.search({ tenantIds: [tenant.id], accountIds: [account.id], limit: 1 });
    if (!row) throw notFound(NO_USER, 'user_not_found');
    return view(row, tenant);
  }

  return {
    /** The tenants whose users the actor may list: its own and the organizations directly under it. */
    async scopeTenants(ctx: AdminContext): Promise<TenantRow[]> {
      const home = await repos.tenants.findById(ctx.actor.tenantId);
      if (!home) return [];
      const children = await repos.tenants.listChildren(home.id);
      const ids = new Set(managedTenantIds(home, children));
      return [home, ...children].filter((t) => ids.has(t.id));
    },

    async list(ctx: AdminContext, query: UserListQuery): Promise<Page<UserView> & { tenant: TenantRow }> {
      const tenant = query.tenant ? await tenantByRef(repos, query.tenant) : await repos.tenants.findById(ctx.actor.tenantId);
      if (!tenant) throw notFound('Your tenant no longer exists.', 'tenant_not_found');
      // someone asking for a tenant by name learns nothing about one outside their scope (404)
      const hide = query.tenant ? { visibleWith: 'view_users' as const, notFoundMessage: `No tenant with id or slug "${query.tenant}".` } : {};
      await authorize(deps, ctx, 'view_users', tenantTarget(tenant), hide);
      const limit = Math.min(Math.max(query.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
      const after = decodeCursor(query.cursor, userCursor);
      const rows = await repos.accounts.search({
        tenantIds: [tenant.id],
        text: query.search,
        role: query.role,
        mfa: query.mfa,
        status: query.status,
        limit: limit + 1,
        after: after ? { email: after.e, id: after.i } : undefined,
      });
      const items = rows.slice(0, limit).map((r) => view(r, tenant));
      const last = items[items.length - 1];
      return { tenant, items, nextCursor: rows.length > limit && last ? encodeCursor({ e: last.email.toLowerCase(), i: last.id }) : null };
    },

    async get(ctx: AdminContext, accountId: string): Promise<UserView> {
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'view_users', target, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      return toView(account);
    },

    async changeRole(ctx: AdminContext, accountId: string, role: Role): Promise<UserView> {
      if (!(ROLES as readonly string[]).includes(role)) throw badRequest(`role must be one of ${ROLES.join(', ')}.`, 'invalid_role');
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'change_role', { ...target, grantRole: role }, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      if (account.role !== role) {
        await repos.accounts.setRole(account.id, role);
        await events.emit({ action: 'account.role.changed', ...actorFields(ctx.actor), tenantId: account.tenant.id, target: account.id, ...ctx.request, detail: { from: account.role, to: role } });
      }
      return { ...(await toView(account)), role, roleLabel: ROLE_LABEL[role] };
    },

    /** Deactivation signs the user out everywhere: a disabled account keeps no session. */
    async deactivate(ctx: AdminContext, accountId: string): Promise<UserView & { sessionsEnded: number }> {
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'deactivate_user', target, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      if (account.status === 'active') {
        await repos.accounts.setStatus(account.id, 'disabled');
        await events.emit({ action: 'account.deactivated', ...actorFields(ctx.actor), tenantId: account.tenant.id, target: account.id, ...ctx.request });
      }
      // also for an account already disabled: a session that somehow survived must not stay
      const ended = await deps.endSessions(account.id, { reason: 'deactivated', ...actorFields(ctx.actor), tenantId: account.tenant.id, ...ctx.request });
      return { ...(await toView(account)), status: 'disabled', sessionsEnded: ended.sessions };
    },

    async reactivate(ctx: AdminContext, accountId: string): Promise<UserView> {
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'reactivate_user', target, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      if (account.status === 'disabled') {
        await repos.accounts.setStatus(account.id, 'active');
        await events.emit({ action: 'account.reactivated', ...actorFields(ctx.actor), tenantId: account.tenant.id, target: account.id, ...ctx.request });
      }
      return { ...(await toView(account)), status: 'active' };
    },

    /** "Sign out everywhere" for one user; ending no session is not an error (idempotent). */
    async endSessions(ctx: AdminContext, accountId: string): Promise<{ sessionsEnded: number }> {
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'end_sessions', target, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      const ended = await deps.endSessions(account.id, { reason: 'administrator', ...actorFields(ctx.actor), tenantId: account.tenant.id, ...ctx.request });
      return { sessionsEnded: ended.sessions };
    },

    /** The user a reset confirmation step shows, once the actor is known to be allowed the reset. */
    async beforeResetMfa(ctx: AdminContext, accountId: string): Promise<UserView> {
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'reset_mfa', target, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      return toView(account);
    },

    /**
     * NinjaOne "Reset MFA": the user's authenticators, recovery codes and lockout go, their sessions
     * end, and they are mailed to set MFA up again. Support never resets; nobody resets a higher rank.
     */
    async resetMfa(ctx: AdminContext, accountId: string): Promise<UserView & MfaResetResult> {
      const { account, target } = await loadTarget(accountId);
      await authorize(deps, ctx, 'reset_mfa', target, { visibleWith: 'view_users', notFoundMessage: NO_USER });
      const result = await mfaReset.reset({ account, reason: 'admin', actor: actorFields(ctx.actor), request: ctx.request });
      return { ...(await toView(account)), ...result };
    },

    /** An account of a tenant by email (the command line names users this way). */
    async findByEmail(ctx: AdminContext, tenantRef: string, email: string): Promise<UserView> {
      const tenant = await tenantByRef(repos, tenantRef);
      const account = await repos.accounts.findInTenant(tenant.id, email);
      if (!account) throw notFound(`No account ${email} in tenant ${tenant.slug}.`, 'user_not_found');
      return this.get(ctx, account.id);
    },
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;

