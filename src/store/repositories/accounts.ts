// Accounts: one per (tenant, email), email compared case-insensitively (DESIGN.md §4). One email may
// own several accounts in different tenants; each has its own password and MFA.
import { and, asc, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db.ts';
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
}

export interface ParentPolicy {
  id: string;
  kind: TenantKind;
  enforceMfaPartnerUsers: boolean;
  enforceMfaOrganizations: boolean;
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

export interface AccountMatch extends Account {
  tenant: { id: string; name: string; slug: string; kind: TenantKind };
}

export type AccountSummary = Omit<Account, 'passwordHash'> & { mfaStatus: MfaStatus; mfaSince: Date | null };

export interface AccountRepo {
  /** 409 `account_exists` when the tenant already has an account with this email (any letter case). */
  create(input: NewAccount): Promise<Account>;
  findById(id: string): Promise<AccountWithTenant | undefined>;
  /** Every account with this email, across tenants, ordered by tenant name (the account chooser). */
  findByEmail(email: string): Promise<AccountMatch[]>;
  findInTenant(tenantId: string, email: string): Promise<Account | undefined>;
  updatePasswordHash(id: string, passwordHash: string): Promise<boolean>;
  recordLogin(id: string): Promise<void>;
  setStatus(id: string, status: AccountStatus): Promise<boolean>;
  listByTenant(tenantId: string): Promise<AccountSummary[]>;
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

const normaliseEmail = (email: string) => email.trim();

export function createAccountRepo(db: Db): AccountRepo {
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
      const [row] = await db
        .select({
          account: accounts,
          tenant: {
            id: tenants.id,
            name: tenants.name,
            slug: tenants.slug,
            kind: tenants.kind,
            parentId: tenants.parentId,
            enforceMfaPartnerUsers: tenants.enforceMfaPartnerUsers,
            enforceMfaOrganizations: tenants.enforceMfaOrganizations,
          },
          parent: {
            id: parent.id,
            kind: parent.kind,
            enforceMfaPartnerUsers: parent.enforceMfaPartnerUsers,
            enforceMfaOrganizations: parent.enforceMfaOrganizations,
          },
          mfaSince: mfaSinceSql,
        })
        .from(accounts)
        .innerJoin(tenants, eq(tenants.id, accounts.tenantId))
        .leftJoin(parent, eq(parent.id, tenants.parentId))
        .where(eq(accounts.id, id));
      if (!row) return undefined;
      return { ...row.account, tenant: row.tenant, parent: row.parent, ...mfaOf(row.mfaSince) };
    },

    async findByEmail(email) {
      const rows = await db
        .select({ account: accounts, tenant: { id: tenants.id, name: tenants.name, slug: tenants.slug, kind: tenants.kind } })
        .from(accounts)
        .innerJoin(tenants, eq(tenants.id, accounts.tenantId))
        .where(sql`lower(${accounts.email}) = lower(${normaliseEmail(email)})`)
        .orderBy(asc(tenants.name), asc(tenants.id));
      return rows.map((r) => ({ ...r.account, tenant: r.tenant }));
    },

    async findInTenant(tenantId, email) {
      if (!isUuid(tenantId)) return undefined;
      const [row] = await db
        .select()
        .from(accounts)
        .where(and(eq(accounts.tenantId, tenantId), sql`lower(${accounts.email}) = lower(${normaliseEmail(email)})`));
      return row;
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
      await db.update(accounts).set({ lastLoginAt: new Date() }).where(eq(accounts.id, id));
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
  };
}
