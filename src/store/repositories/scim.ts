// What SCIM provisioning reads and writes of accounts beyond the account repository: one page of a
// tenant's accounts matching a filter (with the total), a profile update (email, which then needs
// verifying again, name, externalId),
// the members of a role, and deletion. The filter arrives as a tree over account columns
// (src/domain/scim/users.ts maps SCIM attribute names to them) and becomes parameterised SQL here.
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { accounts } from '../schema.ts';
import type { Role } from '../../domain/kinds.ts';
import { conflict } from '../../domain/errors.ts';
import { isUniqueViolation, isUuid } from './pg-errors.ts';

export type ScimColumn = 'id' | 'email' | 'name' | 'externalId' | 'status' | 'createdAt' | 'updatedAt';
export type ScimCompare = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type AccountFilter =
  | { kind: 'compare'; column: ScimColumn; op: ScimCompare; value: string | Date | null; caseExact: boolean }
  | { kind: 'present'; column: ScimColumn }
  | { kind: 'and' | 'or'; left: AccountFilter; right: AccountFilter }
  | { kind: 'not'; filter: AccountFilter };

export interface ScimAccount {
  id: string;
  tenantId: string;
  email: string;
  name: string | null;
  role: Role;
  status: 'active' | 'disabled';
  externalId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScimPageQuery {
  tenantId: string;
  filter?: AccountFilter | undefined;
  /** 0-based. */
  offset: number;
  limit: number;
}

export interface ScimRepo {
  page(query: ScimPageQuery): Promise<{ total: number; rows: ScimAccount[] }>;
  find(tenantId: string, id: string): Promise<ScimAccount | undefined>;
  /** 409 `account_exists` when the new email is taken in the tenant; undefined when the account is gone. */
  updateProfile(id: string, changes: { email?: string; name?: string | null; externalId?: string | null }): Promise<ScimAccount | undefined>;
  /** The tenant's accounts holding a role (a Group's members), in creation order. */
  withRole(tenantId: string, role: Role): Promise<{ id: string; email: string }[]>;
  remove(id: string): Promise<boolean>;
}

const COLUMNS = {
  id: sql`${accounts.id}::text`,
  email: sql`${accounts.email}`,
  name: sql`${accounts.name}`,
  externalId: sql`${accounts.externalId}`,
  status: sql`${accounts.status}`,
  createdAt: sql`${accounts.createdAt}`,
  updatedAt: sql`${accounts.updatedAt}`,
} as const satisfies Record<ScimColumn, SQL>;

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function compile(filter: AccountFilter): SQL {
  switch (filter.kind) {
    case 'and':
      return sql`(${compile(filter.left)} and ${compile(filter.right)})`;
    case 'or':
      return sql`(${compile(filter.left)} or ${compile(filter.right)})`;
    case 'not':
      return sql`(not coalesce(${compile(filter.filter)}, false))`;
    case 'present':
      return sql`(${COLUMNS[filter.column]} is not null and ${COLUMNS[filter.column]}::text <> '')`;
    case 'compare': {
      const { op, value } = filter;
      if (value === null) return op === 'eq' ? sql`(${COLUMNS[filter.column]} is null)` : op === 'ne' ? sql`(${COLUMNS[filter.column]} is not null)` : sql`false`;
      if (value instanceof Date) {
        const col = COLUMNS[filter.column];
        const at = value.toISOString();
        const cmp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;
        if (!(op in cmp)) return sql`false`;
        return sql`(${col} ${sql.raw(cmp[op as keyof typeof cmp])} ${at}::timestamptz)`;
      }
      const col = filter.caseExact ? COLUMNS[filter.column] : sql`lower(${COLUMNS[filter.column]})`;
      const text = filter.caseExact ? value : value.toLowerCase();
      switch (op) {
        case 'eq':
          return sql`(${col} = ${text})`;
        case 'ne':
          return sql`(${col} is distinct from ${text})`;
        case 'co':
          return sql`(${col} like ${`%${escapeLike(text)}%`})`;
        case 'sw':
          return sql`(${col} like ${`${escapeLike(text)}%`})`;
        case 'ew':
          return sql`(${col} like ${`%${escapeLike(text)}`})`;
        case 'gt':
          return sql`(${col} > ${text})`;
        case 'ge':
          return sql`(${col} >= ${text})`;
        case 'lt':
          return sql`(${col} < ${text})`;
        case 'le':
          return sql`(${col} <= ${text})`;
      }
    }
  }
}

const selection = {
  id: accounts.id,
  tenantId: accounts.tenantId,
  email: accounts.email,
  name: accounts.name,
  role: accounts.role,
  status: accounts.status,
  externalId: accounts.externalId,
  createdAt: accounts.createdAt,
  updatedAt: accounts.updatedAt,
};

export function createScimRepo(db: Db): ScimRepo {
  return {
    async page(query) {
      if (!isUuid(query.tenantId)) return { total: 0, rows: [] };
      const where = and(eq(accounts.tenantId, query.tenantId), ...(query.filter ? [compile(query.filter)] : []));
      const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(accounts).where(where);
      const total = Number(count?.n ?? 0);
      if (query.limit <= 0 || query.offset >= total) return { total, rows: [] };
      const rows = await db.select(selection).from(accounts).where(where).orderBy(asc(accounts.createdAt), asc(accounts.id)).offset(query.offset).limit(query.limit);
      return { total, rows };
    },

    async find(tenantId, id) {
      if (!isUuid(tenantId) || !isUuid(id)) return undefined;
      const [row] = await db.select(selection).from(accounts).where(and(eq(accounts.tenantId, tenantId), eq(accounts.id, id)));
      return row;
    },

    async updateProfile(id, changes) {
      if (!isUuid(id)) return undefined;
      try {
        const [row] = await db
          .update(accounts)
          .set({
            // A new address is not verified: nobody has opened a link sent to it.
            ...(changes.email !== undefined ? { email: changes.email, emailVerified: false } : {}),
            ...(changes.name !== undefined ? { name: changes.name } : {}),
            ...(changes.externalId !== undefined ? { externalId: changes.externalId } : {}),
            updatedAt: new Date(),
          })
          .where(eq(accounts.id, id))
          .returning(selection);
        return row;
      } catch (e) {
        if (isUniqueViolation(e, 'accounts_tenant_email_key')) throw conflict(`This tenant already has an account for ${changes.email ?? 'this email'}.`, 'account_exists');
        throw e;
      }
    },

    async withRole(tenantId, role) {
      if (!isUuid(tenantId)) return [];
      return db
        .select({ id: accounts.id, email: accounts.email })
        .from(accounts)
        .where(and(eq(accounts.tenantId, tenantId), eq(accounts.role, role)))
        .orderBy(asc(accounts.createdAt), asc(accounts.id));
    },

    async remove(id) {
      if (!isUuid(id)) return false;
      const rows = await db.delete(accounts).where(eq(accounts.id, id)).returning({ id: accounts.id });
      return rows.length > 0;
    },
  };
}
