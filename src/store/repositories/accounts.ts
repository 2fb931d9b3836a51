// Accounts: one per (tenant, email), email compared case-insensitively (DESIGN.md §4). One email may
// own several accounts in different tenants; each has its own password and MFA.
import { and, asc, eq, inArray, isNull, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db.ts';
import { timestampValue } from '../fixed-statement.ts';
import { accounts, authenticators, tenants } from '../schema.ts';
import { GatehouseError, badRequest, conflict, notFound } from '../../domain/errors.ts';
import { isForeignKeyViolation, isUniqueViolation, isUuid } from './pg-errors.ts';
import type { AccountStatus, Role, TenantKind } from '../../domain/kinds.ts';

export type Account = typeof accounts.$inferSelect;
export type AccountSource = Account['source'];
/** active: at least one authenticator · inactive: none (a setup in progress is a flow, not an authenticator). */
export type MfaStatus = 'active' | 'inactive';

export interface NewAccount {
  tenantId: string;
  email: string;
  name?: string | null | undefined;
  role?: Role | undefined;
  passwordHash: string | null;
  emailVerified?: boolean | undefined;
  platformOperator?: boolean | undefined;
  source?: AccountSource | undefined;
  externalId?: string | null | undefined;
}

export interface AccountTenant {
  id: string;
  name: string;
  slug: string;
  kind: TenantKind;
  parentId: string | null;
  enforceMfaPartnerUsers: boolean;
  enforceMfaOrganizations: boolean;
  enforceMfaPartnerUsersSince: Date | null;
  enforceMfaOrganizationsSince: Date | null;
  enforcePhrPartnerUsers: boolean;
  enforcePhrOrganizations: boolean;
  enforcePhrPartnerUsersSince: Date | null;
  enforcePhrOrganizationsSince: Date | null;
  mfaGraceDays: number;
}

export interface ParentPolicy {
  id: string;
  kind: TenantKind;
  enforceMfaPartnerUsers: boolean;
  enforceMfaOrganizations: boolean;
  enforceMfaPartnerUsersSince: Date | null;
  enforceMfaOrganizationsSince: Date | null;
  enforcePhrPartnerUsers: boolean;
  enforcePhrOrganizations: boolean;
  enforcePhrPartnerUsersSince: Date | null;
  enforcePhrOrganizationsSince: Date | null;
  mfaGraceDays: number;
}

/** What sign-in needs about an account, read in one query (it runs on every authorization through findAccount). */
export interface AccountWithTenant extends Account {
  tenant: AccountTenant;
  /** the parent tenant's policy flags; null for a tenant without parent (the platform). */
  parent: ParentPolicy | null;
  mfaStatus: MfaStatus;
  /** when the oldest authenticator was confirmed; null while MFA is inactive. */
  mfaSince: Date | null;
}

export type AccountSummary = Omit<Account, 'passwordHash'> & { mfaStatus: MfaStatus; mfaSince: Date | null };

/** One row of User Management: MFA Status is Active (at least one authenticator) or Inactive. */
export interface AccountListItem {
  id: string;
  tenantId: string;
  email: string;
  name: string | null;
  role: Role;
  status: AccountStatus;
  platformOperator: boolean;
  mfaActive: boolean;
  /** invited and not yet accepted: a local account that has never had a password nor signed in. */
  invitationPending: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

export interface AccountSearch {
  /** the tenants to search (an empty list finds nothing). */
  tenantIds: readonly string[];
  /** only these accounts (one account's row, with the same MFA Status as the list). */
  accountIds?: readonly string[] | undefined;
  /** part of the email address or name, any letter case. */
  text?: string | undefined;
  role?: Role | undefined;
  mfa?: 'active' | 'inactive' | undefined;
  status?: AccountStatus | undefined;
  limit: number;
  /** keyset cursor: the rows after this (lower-cased email, id), in that order. */
  after?: { email: string; id: string } | undefined;
}

export interface AccountRepo {
  /** 409 `account_exists` when the tenant already has an account with this email (any letter case). */
  create(input: NewAccount): Promise<Account>;
  findById(id: string): Promise<AccountWithTenant | undefined>;
  /** Every account with this email, across tenants, ordered by tenant name (the account chooser), read as findById reads one. */
  findByEmail(email: string): Promise<AccountWithTenant[]>;
  findInTenant(tenantId: string, email: string): Promise<Account | undefined>;
  updatePasswordHash(id: string, passwordHash: string): Promise<boolean>;
  /** The first password of an invited account: set only while it has none (false otherwise). */
  setFirstPasswordHash(id: string, passwordHash: string): Promise<boolean>;
  recordLogin(id: string): Promise<void>;
  setStatus(id: string, status: AccountStatus): Promise<boolean>;
  listByTenant(tenantId: string): Promise<AccountSummary[]>;
  /** User Management: accounts of some tenants, ordered by email, one page at a time. */
  search(query: AccountSearch): Promise<AccountListItem[]>;
  /** How many accounts of these tenants have no MFA yet (what turning enforcement on will affect). */
  countWithoutMfa(tenantIds: readonly string[]): Promise<number>;
  /** Active accounts of these tenants without a passkey or security key (what a phishing-resistant policy asks). */
  countWithoutPasskey(tenantIds: readonly string[]): Promise<number>;
  setRole(id: string, role: Role): Promise<boolean>;
}

const parent = alias(tenants, 'parent');

/** The one definition of "has MFA": the time its first authenticator was confirmed, or null. */
// Spelled out with table names: drizzle leaves columns unqualified in a single-table select, where
// "id" inside the subquery would mean the authenticator's.
const mfaSinceSql = sql<Date | string | null>`(select min(a.confirmed_at) from ${authenticators} a where a.account_id = "accounts"."id")`;
const mfaOf = (since: Date | string | null) => ({
  mfaStatus: (since === null ? 'inactive' : 'active') as MfaStatus,
  mfaSince: since === null ? null : new Date(since),
});

/**
 * Whether an account has MFA (MFA Status "Active"): the one expression that every list, filter and
 * count uses, so the authenticator model is named in one place.
 */
export const accountHasMfa = sql<boolean>`(${mfaSinceSql} is not null)`;

/** Invited, not yet accepted: the invitation link is how such an account gets its first password. */
const invitationPendingSql = sql<boolean>`(${accounts.passwordHash} is null and ${accounts.source} = 'local' and ${accounts.lastLoginAt} is null)`;

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const normaliseEmail = (email: string) => email.trim();

/** The last-login update of one account: run alone (recordLogin) or inside a request's gathered writes. */
export const lastLoginUpdate = (db: Db, id: string | Placeholder, at: Date | Placeholder) =>
  db.update(accounts).set({ lastLoginAt: timestampValue(at) }).where(eq(accounts.id, id));

export function createAccountRepo(db: Db): AccountRepo {
  // What sign-in reads of an account, by id or by email.
  const withTenant = {
    account: accounts,
    tenant: {
      id: tenants.id,
      name: tenants.name,
      slug: tenants.slug,
      kind: tenants.kind,
      parentId: tenants.parentId,
      enforceMfaPartnerUsers: tenants.enforceMfaPartnerUsers,
      enforceMfaOrganizations: tenants.enforceMfaOrganizations,
      enforceMfaPartnerUsersSince: tenants.enforceMfaPartnerUsersSince,
      enforceMfaOrganizationsSince: tenants.enforceMfaOrganizationsSince,
      enforcePhrPartnerUsers: tenants.enforcePhrPartnerUsers,
      enforcePhrOrganizations: tenants.enforcePhrOrganizations,
      enforcePhrPartnerUsersSince: tenants.enforcePhrPartnerUsersSince,
      enforcePhrOrganizationsSince: tenants.enforcePhrOrganizationsSince,
      mfaGraceDays: tenants.mfaGraceDays,
    },
    parent: {
      id: parent.id,
      kind: parent.kind,
      enforceMfaPartnerUsers: parent.enforceMfaPartnerUsers,
      enforceMfaOrganizations: parent.enforceMfaOrganizations,
      enforceMfaPartnerUsersSince: parent.enforceMfaPartnerUsersSince,
      enforceMfaOrganizationsSince: parent.enforceMfaOrganizationsSince,
      enforcePhrPartnerUsers: parent.enforcePhrPartnerUsers,
      enforcePhrOrganizations: parent.enforcePhrOrganizations,
      enforcePhrPartnerUsersSince: parent.enforcePhrPartnerUsersSince,
      enforcePhrOrganizationsSince: parent.enforcePhrOrganizationsSince,
      mfaGraceDays: parent.mfaGraceDays,
    },
    mfaSince: mfaSinceSql,
  };
  // Prepared once: the sign-in path runs these on every page, and building them cost more CPU than running them.
  const byId = db
    .select(withTenant)
    .from(accounts)
    .innerJoin(tenants, eq(tenants.id, accounts.tenantId))
    .leftJoin(parent, eq(parent.id, tenants.parentId))
    .where(eq(accounts.id, sql.placeholder('id')))
    .prepare('gatehouse_account_by_id');
  const byEmail = db
    .select(withTenant)
    .from(accounts)
    .innerJoin(tenants, eq(tenants.id, accounts.tenantId))
    .leftJoin(parent, eq(parent.id, tenants.parentId))
    .where(sql`lower(${accounts.email}) = lower(${sql.placeholder('email')})`)
    .orderBy(asc(tenants.name), asc(tenants.id))
    .prepare('gatehouse_accounts_by_email');
  type WithTenantRow = Awaited<ReturnType<typeof byId.execute>>[number];
  const accountWithTenant = (row: WithTenantRow): AccountWithTenant => ({ ...row.account, tenant: row.tenant, parent: row.parent, ...mfaOf(row.mfaSince) });
  return {
    async create(input) {
      const email = normaliseEmail(input.email);
      if (!email) throw badRequest('An account needs an email address.');
      try {
        const [row] = await db
          .insert(accounts)
          .values({
            tenantId: input.tenantId,
            email,
            name: input.name ?? null,
            role: input.role ?? 'user',
            passwordHash: input.passwordHash,
            emailVerified: input.emailVerified ?? false,
            platformOperator: input.platformOperator ?? false,
            source: input.source ?? 'local',
            externalId: input.externalId ?? null,
            passwordChangedAt: input.passwordHash ? new Date() : null,
          })
          .returning();
        if (!row) throw new GatehouseError('account_not_created', 500, 'The account could not be created.');
        return row;
      } catch (e) {
        if (isUniqueViolation(e, 'accounts_tenant_email_key')) {
          throw conflict(`This tenant already has an account for ${email}.`, 'account_exists');
        }
        if (isForeignKeyViolation(e)) throw notFound(`The tenant ${input.tenantId} does not exist.`, 'tenant_not_found');
        throw e;
      }
    },

    async findById(id) {
      if (!isUuid(id)) return undefined;
      const [row] = await byId.execute({ id });
      return row && accountWithTenant(row);
    },

    async findByEmail(email) {
      const rows = await byEmail.execute({ email: normaliseEmail(email) });
      return rows.map(accountWithTenant);
    },

    async findInTenant(tenantId, email) {
      if (!isUuid(tenantId)) return undefined;
      const [row] = await db
        .select()
        .from(accounts)
        .where(and(eq(accounts.tenantId, tenantId), sql`lower(${accounts.email}) = lower(${normaliseEmail(email)})`));
      return row;
    },

    async setFirstPasswordHash(id, passwordHash) {
      if (!isUuid(id)) return false;
      const now = new Date();
      const rows = await db
        .update(accounts)
        .set({ passwordHash, passwordChangedAt: now, updatedAt: now })
        .where(and(eq(accounts.id, id), isNull(accounts.passwordHash)))
        .returning({ id: accounts.id });
      return rows.length > 0;
    },

    async updatePasswordHash(id, passwordHash) {
      if (!isUuid(id)) return false;
      const now = new Date();
      const rows = await db
        .update(accounts)
        .set({ passwordHash, passwordChangedAt: now, updatedAt: now })
        .where(eq(accounts.id, id))
        .returning({ id: accounts.id });
      return rows.length > 0;
    },

    async recordLogin(id) {
      if (!isUuid(id)) return;
      await lastLoginUpdate(db, id, new Date());
    },

    async setStatus(id, status) {
      if (!isUuid(id)) return false;
      const rows = await db
        .update(accounts)
        .set({ status, updatedAt: new Date() })
        .where(eq(accounts.id, id))
        .returning({ id: accounts.id });
      return rows.length > 0;
    },

    async listByTenant(tenantId) {
      if (!isUuid(tenantId)) return [];
      const rows = await db
        .select({ account: accounts, mfaSince: mfaSinceSql })
        .from(accounts)
        .where(eq(accounts.tenantId, tenantId))
        .orderBy(sql`lower(${accounts.email})`);
      return rows.map(({ account: { passwordHash: _omitted, ...account }, mfaSince }) => ({ ...account, ...mfaOf(mfaSince) }));
    },

    async search(query) {
      const tenantIds = query.tenantIds.filter(isUuid);
      if (tenantIds.length === 0) return [];
      const conditions: SQL[] = [inArray(accounts.tenantId, tenantIds)];
      if (query.accountIds) {
        const ids = query.accountIds.filter(isUuid);
        if (ids.length === 0) return [];
        conditions.push(inArray(accounts.id, ids));
      }
      const text = query.text?.trim();
      if (text) {
        const pattern = `%${escapeLike(text.toLowerCase())}%`;
        conditions.push(sql`(lower(${accounts.email}) like ${pattern} or lower(coalesce(${accounts.name}, '')) like ${pattern})`);
      }
      if (query.role) conditions.push(eq(accounts.role, query.role));
      if (query.status) conditions.push(eq(accounts.status, query.status));
      if (query.mfa === 'active') conditions.push(accountHasMfa);
      if (query.mfa === 'inactive') conditions.push(sql`not ${accountHasMfa}`);
      if (query.after) {
        conditions.push(sql`(lower(${accounts.email}), ${accounts.id}) > (${query.after.email.toLowerCase()}, ${isUuid(query.after.id) ? query.after.id : '00000000-0000-0000-0000-000000000000'}::uuid)`);
      }
      const rows = await db
        .select({
          id: accounts.id,
          tenantId: accounts.tenantId,
          email: accounts.email,
          name: accounts.name,
          role: accounts.role,
          status: accounts.status,
          platformOperator: accounts.platformOperator,
          mfaActive: accountHasMfa,
          invitationPending: invitationPendingSql,
          lastLoginAt: accounts.lastLoginAt,
          createdAt: accounts.createdAt,
        })
        .from(accounts)
        .where(and(...conditions))
        .orderBy(sql`lower(${accounts.email})`, asc(accounts.id))
        .limit(Math.min(Math.max(1, Math.floor(query.limit)), 500));
      return rows.map((r) => ({ ...r, mfaActive: r.mfaActive === true || String(r.mfaActive) === 'true', invitationPending: r.invitationPending === true || String(r.invitationPending) === 'true' }));
    },

    async countWithoutMfa(tenantIds) {
      const ids = tenantIds.filter(isUuid);
      if (ids.length === 0) return 0;
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(accounts)
        .where(and(inArray(accounts.tenantId, ids), eq(accounts.status, 'active'), sql`not ${accountHasMfa}`));
      return Number(row?.n ?? 0);
    },

    async countWithoutPasskey(tenantIds) {
      const ids = tenantIds.filter(isUuid);
      if (ids.length === 0) return 0;
      const hasPasskey = sql`exists (select 1 from ${authenticators} a where a.account_id = "accounts"."id" and a.kind = 'webauthn')`;
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(accounts)
        .where(and(inArray(accounts.tenantId, ids), eq(accounts.status, 'active'), sql`not ${hasPasskey}`));
      return Number(row?.n ?? 0);
    },

    async setRole(id, role) {
      if (!isUuid(id)) return false;
      const rows = await db.update(accounts).set({ role, updatedAt: new Date() }).where(eq(accounts.id, id)).returning({ id: accounts.id });
      return rows.length > 0;
    },
  };
}
