// Upstream identity providers (OpenID Connect) and the links of accounts to their subjects. Client
// secrets arrive sealed by the SecretBox; this repository never sees a plaintext secret.
import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { accountLinks, upstreamIdps } from '../schema.ts';
import { conflict } from '../../domain/errors.ts';
import { isUniqueViolation, isUuid } from './pg-errors.ts';

export type UpstreamIdp = typeof upstreamIdps.$inferSelect;
export type NewUpstreamIdp = Omit<typeof upstreamIdps.$inferInsert, 'createdAt' | 'updatedAt'> & { id: string };
export type UpstreamIdpChanges = Partial<Omit<NewUpstreamIdp, 'id' | 'tenantId'>>;

export interface UpstreamIdpRepo {
  /** 409 `idp_slug_taken` when another IdP has the slug. */
  create(input: NewUpstreamIdp): Promise<UpstreamIdp>;
  findById(id: string): Promise<UpstreamIdp | undefined>;
  findBySlug(slug: string): Promise<UpstreamIdp | undefined>;
  /** The IdPs of these tenants; `global` adds those of no tenant (the platform's). */
  list(filter: { tenantIds: readonly string[]; global: boolean }): Promise<UpstreamIdp[]>;
  listAll(): Promise<UpstreamIdp[]>;
  /** Enabled IdPs whose allowed domains include this one (email-first routing). */
  findEnabledByDomain(domain: string): Promise<UpstreamIdp[]>;
  listEnabled(): Promise<UpstreamIdp[]>;
  update(id: string, changes: UpstreamIdpChanges): Promise<UpstreamIdp | undefined>;
  remove(id: string): Promise<boolean>;
  findLink(idpId: string, subject: string): Promise<{ accountId: string } | undefined>;
  /** false when the subject is already linked (to this or another account). */
  link(input: { idpId: string; subject: string; accountId: string }): Promise<boolean>;
}

export function createUpstreamIdpRepo(db: Db): UpstreamIdpRepo {
  // prepared once: every sign-in page lists the buttons
  const enabled = db.select().from(upstreamIdps).where(eq(upstreamIdps.enabled, true)).orderBy(asc(upstreamIdps.displayName), asc(upstreamIdps.id)).prepare('gatehouse_enabled_upstream_idps');
  return {
    async create(input) {
      try {
        const [row] = await db.insert(upstreamIdps).values(input).returning();
        if (!row) throw new Error('the upstream IdP was not stored');
        return row;
      } catch (e) {
        if (isUniqueViolation(e, 'upstream_idps_slug_key')) throw conflict(`Another identity provider already uses the short name "${input.slug}".`, 'idp_slug_taken');
        throw e;
      }
    },

    async findById(id) {
      if (!isUuid(id)) return undefined;
      const [row] = await db.select().from(upstreamIdps).where(eq(upstreamIdps.id, id));
      return row;
    },

    async findBySlug(slug) {
      const [row] = await db.select().from(upstreamIdps).where(eq(upstreamIdps.slug, slug));
      return row;
    },

    async list({ tenantIds, global }) {
      const conditions = [...(tenantIds.length ? [inArray(upstreamIdps.tenantId, [...tenantIds])] : []), ...(global ? [isNull(upstreamIdps.tenantId)] : [])];
      if (conditions.length === 0) return [];
      return db.select().from(upstreamIdps).where(or(...conditions)).orderBy(asc(upstreamIdps.displayName), asc(upstreamIdps.id));
    },

    async listAll() {
      return db.select().from(upstreamIdps).orderBy(asc(upstreamIdps.displayName), asc(upstreamIdps.id));
    },

    async findEnabledByDomain(domain) {
      return db
        .select()
        .from(upstreamIdps)
        .where(and(eq(upstreamIdps.enabled, true), sql`${domain} = any(${upstreamIdps.allowedDomains})`))
        .orderBy(asc(upstreamIdps.displayName));
    },

    async listEnabled() {
      return enabled.execute();
    },

    async update(id, changes) {
      if (!isUuid(id)) return undefined;
      try {
        const [row] = await db.update(upstreamIdps).set({ ...changes, updatedAt: new Date() }).where(eq(upstreamIdps.id, id)).returning();
        return row;
      } catch (e) {
        if (isUniqueViolation(e, 'upstream_idps_slug_key')) throw conflict(`Another identity provider already uses the short name "${changes.slug ?? ''}".`, 'idp_slug_taken');
        throw e;
      }
    },

    async remove(id) {
      if (!isUuid(id)) return false;
      const rows = await db.delete(upstreamIdps).where(eq(upstreamIdps.id, id)).returning({ id: upstreamIdps.id });
      return rows.length > 0;
    },

    async findLink(idpId, subject) {
      if (!isUuid(idpId)) return undefined;
      const [row] = await db.select({ accountId: accountLinks.accountId }).from(accountLinks).where(and(eq(accountLinks.idpId, idpId), eq(accountLinks.subject, subject)));
      return row;
    },

    async link(input) {
      const rows = await db.insert(accountLinks).values(input).onConflictDoNothing().returning({ accountId: accountLinks.accountId });
      return rows.length > 0;
    },
  };
}
