// Tenants form one tree (DESIGN.md §4): the platform is the single root; distributors sit under it;
// sub-resellers under a distributor; organizations under a distributor or a sub-reseller.
import { and, asc, eq, inArray, like, or, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db.ts';
import { tenants } from '../schema.ts';
import { GatehouseError, badRequest, conflict, notFound } from '../../domain/errors.ts';
import { isUniqueViolation, isUuid } from './pg-errors.ts';
import type { TenantKind } from '../../domain/kinds.ts';

export type Tenant = typeof tenants.$inferSelect;
export type { TenantKind };

export interface NewTenant {
  kind: TenantKind;
  name: string;
  parentId: string | null;
  /** chosen explicitly; otherwise derived from the name and made unique with a suffix. */
  slug?: string | undefined;
}

export interface TenantPolicyPatch {
  enforceMfaPartnerUsers?: boolean | undefined;
  enforceMfaOrganizations?: boolean | undefined;
  /** the phishing-resistant level of each switch (a passkey or security key only). */
  enforcePhrPartnerUsers?: boolean | undefined;
  enforcePhrOrganizations?: boolean | undefined;
  /** 0–30 days after a switch is turned on during which affected users may defer their setup. */
  mfaGraceDays?: number | undefined;
  /** the moment of the change: a switch turned on from off is "on since" then (default now). */
  now?: Date | undefined;
}

export interface TenantRepo {
  create(input: NewTenant): Promise<Tenant>;
  /** The platform tenant, created with `name` the first time. Safe to call from several instances at once. */
  ensurePlatform(name: string): Promise<Tenant>;
  findById(id: string): Promise<Tenant | undefined>;
  findBySlug(slug: string): Promise<Tenant | undefined>;
  /** An id or a slug, as typed on a command line or in a URL. */
  findByIdOrSlug(ref: string): Promise<Tenant | undefined>;
  getPlatform(): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /** The tenants directly under `parentId`, by name. */
  listChildren(parentId: string): Promise<Tenant[]>;
  /** Only partner tenants (distributor, sub_reseller) carry an MFA policy (DESIGN.md §8). */
  setPolicy(id: string, patch: TenantPolicyPatch): Promise<Tenant>;
}

/** Which parent kinds each kind may hang under. */
const allowedParents = {
  platform: [],
  distributor: ['platform'],
  sub_reseller: ['distributor'],
  organization: ['distributor', 'sub_reseller'],
} as const satisfies Record<TenantKind, readonly TenantKind[]>;

const kindLabel = {
  platform: 'the platform',
  distributor: 'a distributor',
  sub_reseller: 'a sub-reseller',
  organization: 'an organization',
} as const satisfies Record<TenantKind, string>;

const SLUG_MAX = 48;
const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** "Müller & Söhne GmbH" → "muller-sohne-gmbh". */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, '');
  return slug || 'tenant';
}

const invalidTree = (message: string) => badRequest(message, 'invalid_tenant_parent');

export function createTenantRepo(db: Db): TenantRepo {
  const findById = async (id: string) => {
    if (!isUuid(id)) return undefined;
    const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
    return row;
  };
  const findBySlug = async (slug: string) => {
    const [row] = await db.select().from(tenants).where(eq(tenants.slug, slug.toLowerCase()));
    return row;
  };
  const getPlatform = async () => {
    const [row] = await db.select().from(tenants).where(eq(tenants.kind, 'platform'));
    return row;
  };

  /** The first of base, base-2, base-3, … that no tenant uses yet. A concurrent insert can still take it: callers retry. */
  const freeSlug = async (base: string) => {
    const taken = new Set(
      (
        await db
          .select({ slug: tenants.slug })
          .from(tenants)
          .where(or(eq(tenants.slug, base), like(tenants.slug, `${base}-%`)))
      ).map((r) => r.slug),
    );
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  };

  const validateParent = async (kind: TenantKind, parentId: string | null) => {
    if (kind === 'platform') {
      if (parentId !== null) throw invalidTree('The platform tenant is the root of the tree and cannot have a parent.');
      if (await getPlatform()) throw invalidTree('There is already a platform tenant; there can be only one root.');
      return;
    }
    const allowed: readonly TenantKind[] = allowedParents[kind];
    const expected = allowed.map((k) => kindLabel[k]).join(' or ');
    if (parentId === null) throw invalidTree(`${capitalise(kindLabel[kind])} needs a parent tenant: ${expected}.`);
    const parent = await findById(parentId);
    if (!parent) throw notFound(`The parent tenant ${parentId} does not exist.`, 'tenant_not_found');
    if (!allowed.includes(parent.kind)) {
      throw invalidTree(`${capitalise(kindLabel[kind])} must be placed under ${expected}, not under ${kindLabel[parent.kind]} ("${parent.name}").`);
    }
  };

  const insert = async (input: NewTenant, slug: string) => {
    const [row] = await db
      .insert(tenants)
      .values({ kind: input.kind, name: input.name, parentId: input.parentId, slug })
      .returning();
    if (!row) throw new GatehouseError('tenant_not_created', 500, 'The tenant could not be created.');
    return row;
  };

  const create = async (input: NewTenant): Promise<Tenant> => {
    const name = input.name.trim();
    if (!name) throw badRequest('A tenant needs a name.');
    await validateParent(input.kind, input.parentId);
    const normalised = { ...input, name };

    if (input.slug !== undefined) {
      const slug = input.slug.trim().toLowerCase();
      if (!SLUG_PATTERN.test(slug)) {
        throw badRequest('A slug uses lowercase letters, digits and inner hyphens only (at most 64 characters).', 'invalid_slug');
      }
      try {
        return await insert(normalised, slug);
      } catch (e) {
        if (isUniqueViolation(e, 'tenants_slug_key')) throw conflict(`The slug "${slug}" is already taken.`, 'slug_taken');
        if (isUniqueViolation(e, 'tenants_single_platform')) throw invalidTree('There is already a platform tenant; there can be only one root.');
        throw e;
      }
    }

    const base = slugify(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await insert(normalised, await freeSlug(base));
      } catch (e) {
        if (isUniqueViolation(e, 'tenants_single_platform')) throw invalidTree('There is already a platform tenant; there can be only one root.');
        if (!isUniqueViolation(e, 'tenants_slug_key')) throw e;
        // another tenant took the same slug in the meantime: pick the next free one
      }
    }
    throw conflict(`Could not find a free slug for "${name}"; give one explicitly.`, 'slug_taken');
  };

  return {
    create,
    async ensurePlatform(name) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const existing = await getPlatform();
        if (existing) return existing;
        try {
          return await insert({ kind: 'platform', name: name.trim() || 'Platform', parentId: null }, await freeSlug(slugify(name)));
        } catch (e) {
          // another instance created it (single-platform index) or took the slug first: look again
          if (!isUniqueViolation(e)) throw e;
        }
      }
      const platform = await getPlatform();
      if (!platform) throw new GatehouseError('platform_not_created', 500, 'The platform tenant could not be created.');
      return platform;
    },
    findById,
    findBySlug,
    async findByIdOrSlug(ref) {
      const value = ref.trim();
      if (isUuid(value)) return (await findById(value)) ?? findBySlug(value);
      return findBySlug(value);
    },
    getPlatform,
    list: () => db.select().from(tenants).orderBy(asc(tenants.createdAt), asc(tenants.name)),
    async listChildren(parentId) {
      if (!isUuid(parentId)) return [];
      return db.select().from(tenants).where(eq(tenants.parentId, parentId)).orderBy(asc(tenants.name), asc(tenants.id));
    },
    async setPolicy(id, patch) {
      const now = patch.now ?? new Date();
      // A switch keeps its "on since" while it stays on, takes `now` when it goes from off to on, and
      // loses it when turned off; decided in the UPDATE itself so two concurrent changes cannot disagree.
      const at = sql`${now.toISOString()}::timestamptz`;
      const since = (on: boolean, current: AnyPgColumn, currentSince: AnyPgColumn) =>
        on ? sql`case when ${current} then coalesce(${currentSince}, ${at}) else ${at} end` : sql`null`;
      const set: Record<string, unknown> = { updatedAt: now };
      if (patch.enforceMfaPartnerUsers !== undefined) {
        set.enforceMfaPartnerUsers = patch.enforceMfaPartnerUsers;
        set.enforceMfaPartnerUsersSince = since(patch.enforceMfaPartnerUsers, tenants.enforceMfaPartnerUsers, tenants.enforceMfaPartnerUsersSince);
      }
      if (patch.enforceMfaOrganizations !== undefined) {
        set.enforceMfaOrganizations = patch.enforceMfaOrganizations;
        set.enforceMfaOrganizationsSince = since(patch.enforceMfaOrganizations, tenants.enforceMfaOrganizations, tenants.enforceMfaOrganizationsSince);
      }
      if (patch.enforcePhrPartnerUsers !== undefined) {
        set.enforcePhrPartnerUsers = patch.enforcePhrPartnerUsers;
        set.enforcePhrPartnerUsersSince = since(patch.enforcePhrPartnerUsers, tenants.enforcePhrPartnerUsers, tenants.enforcePhrPartnerUsersSince);
      }
      if (patch.enforcePhrOrganizations !== undefined) {
        set.enforcePhrOrganizations = patch.enforcePhrOrganizations;
        set.enforcePhrOrganizationsSince = since(patch.enforcePhrOrganizations, tenants.enforcePhrOrganizations, tenants.enforcePhrOrganizationsSince);
      }
      if (patch.mfaGraceDays !== undefined) {
        if (!Number.isInteger(patch.mfaGraceDays) || patch.mfaGraceDays < 0 || patch.mfaGraceDays > 30) {
          throw badRequest('The grace period is a whole number of days from 0 to 30.', 'invalid_grace_period');
        }
        set.mfaGraceDays = patch.mfaGraceDays;
      }
      const [row] = isUuid(id)
        ? await db
            .update(tenants)
            .set(set)
            .where(and(eq(tenants.id, id), inArray(tenants.kind, ['distributor', 'sub_reseller'])))
            .returning()
        : [];
      if (row) return row;
      const tenant = await findById(id);
      if (!tenant) throw notFound(`The tenant ${id} does not exist.`, 'tenant_not_found');
      throw badRequest(`Only partner tenants (distributors and sub-resellers) have an MFA policy; "${tenant.name}" is ${kindLabel[tenant.kind]}.`, 'policy_not_applicable');
    },
  };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
