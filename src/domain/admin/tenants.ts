// Tenants: a partner's admins create organizations (and a distributor's, sub-resellers) directly
// under their own tenant and see what lies directly below it; platform operators see and create
// anywhere the tree allows. Creating a sub-reseller does not make its accounts the distributor's to manage.
import type { Tenant } from '../../store/repositories/tenants.ts';
import { badRequest, notFound } from '../errors.ts';
import type { TenantKind } from '../policy.ts';
import { CHILD_KINDS } from '../tenant-tree.ts';
import { actorFields, authorize, tenantByRef, tenantTarget, type AdminContext, type AdminDeps } from './context.ts';

export const CREATABLE_KINDS = ['distributor', 'sub_reseller', 'organization'] as const;
export type CreatableKind = (typeof CREATABLE_KINDS)[number];

export interface TenantView {
  id: string;
  name: string;
  slug: string;
  kind: TenantKind;
  parentId: string | null;
  createdAt: Date;
}

const view = (t: Tenant): TenantView => ({ id: t.id, name: t.name, slug: t.slug, kind: t.kind, parentId: t.parentId, createdAt: t.createdAt });

export function createTenantAdmin(deps: AdminDeps) {
  const { repos, events } = deps;

  async function home(ctx: AdminContext) {
    const tenant = await repos.tenants.findById(ctx.actor.tenantId);
    if (!tenant) throw notFound('Your tenant no longer exists.', 'tenant_not_found');
    return tenant;
  }

  return {
    /** The actor's tenant and the tenants directly under it (everything, for platform operators). */
    async list(ctx: AdminContext): Promise<{ home: TenantView; tenants: TenantView[] }> {
      const own = await home(ctx);
      await authorize(deps, ctx, 'view_tenants', tenantTarget(own));
      const tenants = ctx.actor.platformOperator ? await repos.tenants.list() : [own, ...(await repos.tenants.listChildren(own.id))];
      return { home: view(own), tenants: tenants.map(view) };
    },

    /** The kinds the actor may create under its own tenant (for the page's choices). */
    async creatableKinds(ctx: AdminContext): Promise<TenantKind[]> {
      const own = await home(ctx);
      return ctx.actor.platformOperator ? [...CREATABLE_KINDS] : [...CHILD_KINDS[own.kind]];
    },

    async create(ctx: AdminContext, input: { kind: string; name: string; parent?: string | undefined }): Promise<TenantView> {
      if (!(CREATABLE_KINDS as readonly string[]).includes(input.kind)) throw badRequest(`kind must be one of ${CREATABLE_KINDS.join(', ')}.`, 'invalid_tenant_kind');
      const kind = input.kind as CreatableKind;
      const name = input.name.trim();
      if (!name) throw badRequest('A tenant needs a name.', 'invalid_tenant_name');
      if (name.length > 200) throw badRequest('A tenant name has at most 200 characters.', 'invalid_tenant_name');
      const parent = input.parent ? await tenantByRef(repos, input.parent) : await home(ctx);
      await authorize(deps, ctx, 'create_tenant', tenantTarget(parent, { childKind: kind }), {
        visibleWith: 'view_tenants',
        notFoundMessage: `No tenant with id or slug "${input.parent ?? ''}".`,
      });
      const created = await repos.tenants.create({ kind, name, parentId: parent.id });
      await events.emit({ action: 'tenant.created', ...actorFields(ctx.actor), tenantId: created.id, target: created.id, ...ctx.request, detail: { kind, name, parent_id: parent.id } });
      return view(created);
    },
  };
}

export type TenantAdmin = ReturnType<typeof createTenantAdmin>;
