// Upstream identity providers (OpenID Connect), configured by platform operators (global: offered to
// everyone) or by a partner's admins (their tenant: its users sign in through it). The client secret is
// sealed at rest with the IdP's id as context; the issuer is discovered before anything is stored, so a
// typo in it is answered at once instead of at the first sign-in.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Repos } from '../../store/repos.ts';
import type { UpstreamIdp, UpstreamIdpChanges } from '../../store/repositories/upstream-idps.ts';
import { GatehouseError, badRequest, conflict, notFound } from '../errors.ts';
import type { SecurityEvents } from '../events.ts';
import type { SecretBox } from '../secrets.ts';
import { ACCOUNT_MATCHING, ROLES, isPartner, type AccountMatching, type Role } from '../kinds.ts';
import { can } from '../permissions.ts';
import { actorFields, tenantByRef, tenantTarget, type AdminContext } from '../admin/context.ts';
import { normaliseIssuer, UpstreamError, type UpstreamOidc } from '../../federation/upstream-client.ts';

export const idpSecretContext = (idpId: string) => `idp:${idpId}`;

export interface IdpView {
  id: string;
  slug: string;
  displayName: string;
  issuer: string;
  clientId: string;
  hasClientSecret: boolean;
  scopes: string;
  allowedDomains: string[];
  accountMatching: AccountMatching;
  defaultRole: Role;
  mfaAcrValues: string[];
  trustUpstreamMfa: boolean;
  enabled: boolean;
  tenant: { id: string; name: string; slug: string } | null;
  createdAt: Date;
  updatedAt: Date;
}

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name such as example.com');

const fields = {
  displayName: z.string().trim().min(1, 'display name is required').max(100, 'display name is longer than 100 characters'),
  slug: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'slug is lower-case letters, digits and dashes (at most 40)'),
  issuer: z.string().max(500).transform((v, ctx) => {
    const issuer = normaliseIssuer(v);
    if (!issuer) ctx.addIssue({ code: 'custom', message: 'issuer must be an https URL without query or fragment' });
    return issuer ?? '';
  }),
  clientId: z.string().trim().min(1, 'client id is required').max(255),
  clientSecret: z.string().min(1).max(1000).nullable(),
  scopes: z
    .string()
    .trim()
    .max(500)
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'scopes are separated by single spaces')
    .refine((v) => v.split(' ').includes('openid'), 'scopes must include openid'),
  allowedDomains: z.array(domain).max(50).transform((v) => [...new Set(v)]),
  accountMatching: z.enum(ACCOUNT_MATCHING),
  defaultRole: z.enum(ROLES),
  mfaAcrValues: z.array(z.string().trim().min(1).max(200)).max(20),
  trustUpstreamMfa: z.boolean(),
  enabled: z.boolean(),
};

export const IdpInput = z
  .object({
    tenant: z.string().min(1).max(100).optional(),
    displayName: fields.displayName,
    slug: fields.slug.optional(),
    issuer: fields.issuer,
    clientId: fields.clientId,
    clientSecret: fields.clientSecret.optional(),
    scopes: fields.scopes.default('openid email profile'),
    allowedDomains: fields.allowedDomains.default([]),
    accountMatching: fields.accountMatching.default('link'),
    defaultRole: fields.defaultRole.default('user'),
    mfaAcrValues: fields.mfaAcrValues.default([]),
    trustUpstreamMfa: fields.trustUpstreamMfa.default(false),
    enabled: fields.enabled.default(true),
  })
  .strict();
export type IdpInput = z.input<typeof IdpInput>;

export const IdpPatch = z
  .object({
    displayName: fields.displayName,
    slug: fields.slug,
    issuer: fields.issuer,
    clientId: fields.clientId,
    clientSecret: fields.clientSecret,
    scopes: fields.scopes,
    allowedDomains: fields.allowedDomains,
    accountMatching: fields.accountMatching,
    defaultRole: fields.defaultRole,
    mfaAcrValues: fields.mfaAcrValues,
    trustUpstreamMfa: fields.trustUpstreamMfa,
    enabled: fields.enabled,
  })
  .partial()
  .strict();
export type IdpPatch = z.input<typeof IdpPatch>;

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') throw badRequest(`Unknown field(s): ${issue.keys.join(', ')}.`, 'invalid_idp');
  const field = issue?.path.join('.');
  throw badRequest(field ? `${field}: ${issue?.message ?? 'is not valid'}.` : `${issue?.message ?? 'The identity provider is not valid'}.`, 'invalid_idp');
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30) || 'idp';

export interface IdpAdminDeps {
  repos: Pick<Repos, 'tenants' | 'upstreamIdps'>;
  events: SecurityEvents;
  box: SecretBox;
  upstream: Pick<UpstreamOidc, 'discover'>;
}

export function createIdpAdmin(deps: IdpAdminDeps) {
  const { repos, events, box } = deps;

  async function tenantOf(idp: UpstreamIdp) {
    return idp.tenantId ? ((await repos.tenants.findById(idp.tenantId)) ?? null) : null;
  }

  async function view(idp: UpstreamIdp): Promise<IdpView> {
    const tenant = await tenantOf(idp);
    return {
      id: idp.id,
      slug: idp.slug,
      displayName: idp.displayName,
      issuer: idp.issuer,
      clientId: idp.clientId,
      hasClientSecret: idp.clientSecretEnc !== null,
      scopes: idp.scopes,
      allowedDomains: idp.allowedDomains,
      accountMatching: idp.accountMatching,
      defaultRole: idp.defaultRole,
      mfaAcrValues: idp.mfaAcrValues,
      trustUpstreamMfa: idp.trustUpstreamMfa,
      enabled: idp.enabled,
      tenant: tenant ? { id: tenant.id, name: tenant.name, slug: tenant.slug } : null,
      createdAt: idp.createdAt,
      updatedAt: idp.updatedAt,
    };
  }

  /**
   * Global IdPs are the platform operators'; a tenant's IdP is its own admins' (the same people who set
   * its MFA policy: admins and above of a partner tenant, acting on their own tenant). Refusals are
   * audited; an IdP outside the actor's reach is answered 404, as if it did not exist.
   */
  async function mayManage(ctx: AdminContext, tenant: Awaited<ReturnType<typeof tenantOf>>, hide: boolean, grantRole?: Role): Promise<void> {
    const reason = refusal(ctx, tenant, grantRole);
    if (reason === null) return;
    await events.emit({ action: 'authz.denied', ...actorFields(ctx.actor), tenantId: ctx.actor.kind === 'cli' ? undefined : ctx.actor.tenantId, target: tenant?.id, ...ctx.request, detail: { action: 'manage_idps', reason } });
    if (hide) throw notFound('No such identity provider.', 'idp_not_found');
    throw new GatehouseError('forbidden', 403, `You may not do this: ${reason}.`);
  }

  /** Why the actor may not manage the IdPs of this tenant (null: global), or null when it may. */
  function refusal(ctx: AdminContext, tenant: Awaited<ReturnType<typeof tenantOf>>, grantRole?: Role): string | null {
    const platform = { tenantId: ctx.actor.tenantId, tenantParentId: null, tenantKind: 'platform' as const };
    if (can(ctx.actor, 'manage_platform', platform).allowed) return null;
    if (!tenant) return 'only platform operators manage global identity providers';
    if (!isPartner(tenant.kind)) return 'only partner tenants connect identity providers';
    if (!can(ctx.actor, 'set_policy', tenantTarget(tenant)).allowed) return "only the tenant's own administrators manage its identity providers";
    if (grantRole && !can(ctx.actor, 'invite_user', tenantTarget(tenant, { grantRole })).allowed) return 'accounts created on first sign-in may not get a role above your own';
    return null;
  }

  async function load(ctx: AdminContext, id: string) {
    const idp = await repos.upstreamIdps.findById(id);
    if (!idp) throw notFound('No such identity provider.', 'idp_not_found');
    const tenant = await tenantOf(idp);
    await mayManage(ctx, tenant, true);
    return { idp, tenant };
  }

  async function discover(issuer: string, clientId: string, clientSecret: string | null) {
    try {
      await deps.upstream.discover({ issuer, clientId, clientSecret });
    } catch (e) {
      const why = e instanceof UpstreamError ? e.message : 'the discovery document could not be read';
      throw badRequest(`The issuer ${issuer} could not be discovered: ${why} Check the issuer URL.`, 'idp_discovery_failed');
    }
  }

  /** A domain may route to one enabled IdP only: email-first routing must know where to send an address. */
  async function checkDomains(domains: readonly string[], ownId: string | null) {
    for (const d of domains) {
      const other = (await repos.upstreamIdps.findEnabledByDomain(d)).find((i) => i.id !== ownId);
      if (other) throw conflict(`The domain ${d} is already routed to the identity provider "${other.displayName}".`, 'idp_domain_taken');
    }
  }

  function checkMatching(matching: AccountMatching, tenantId: string | null) {
    if (matching === 'create' && !tenantId) throw badRequest('accountMatching "create" needs a tenant: a global identity provider cannot know where to create accounts.', 'invalid_idp');
  }

  return {
    async list(ctx: AdminContext): Promise<IdpView[]> {
      const all = ctx.actor.kind === 'cli' || ctx.actor.platformOperator;
      const rows = all ? await repos.upstreamIdps.listAll() : await repos.upstreamIdps.list({ tenantIds: [ctx.actor.tenantId], global: false });
      if (!all) {
        const home = await repos.tenants.findById(ctx.actor.tenantId);
        await mayManage(ctx, home ?? null, false);
      }
      return Promise.all(rows.map(view));
    },

    async get(ctx: AdminContext, id: string): Promise<IdpView> {
      return view((await load(ctx, id)).idp);
    },

    async create(ctx: AdminContext, input: IdpInput): Promise<IdpView> {
      const data = parse(IdpInput, input);
      const tenant = data.tenant ? await tenantByRef(repos, data.tenant) : null;
      await mayManage(ctx, tenant, false, data.accountMatching === 'create' ? data.defaultRole : undefined);
      checkMatching(data.accountMatching, tenant?.id ?? null);
      if (data.enabled) await checkDomains(data.allowedDomains, null);
      await discover(data.issuer, data.clientId, data.clientSecret ?? null);
      const id = randomUUID();
      const slug = data.slug ?? `${slugOf(data.displayName)}-${id.slice(0, 6)}`;
      const idp = await repos.upstreamIdps.create({
        id,
        tenantId: tenant?.id ?? null,
        slug,
        displayName: data.displayName,
        issuer: data.issuer,
        clientId: data.clientId,
        clientSecretEnc: data.clientSecret ? box.seal(data.clientSecret, idpSecretContext(id)) : null,
        scopes: data.scopes,
        allowedDomains: data.allowedDomains,
        accountMatching: data.accountMatching,
        defaultRole: data.defaultRole,
        mfaAcrValues: data.mfaAcrValues,
        trustUpstreamMfa: data.trustUpstreamMfa,
        enabled: data.enabled,
      });
      await events.emit({ action: 'idp.created', ...actorFields(ctx.actor), tenantId: tenant?.id, target: idp.id, ...ctx.request, detail: { issuer: idp.issuer, slug: idp.slug } });
      return view(idp);
    },

    async update(ctx: AdminContext, id: string, patch: IdpPatch): Promise<IdpView> {
      const data = parse(IdpPatch, patch);
      const { idp, tenant } = await load(ctx, id);
      const matching = data.accountMatching ?? idp.accountMatching;
      await mayManage(ctx, tenant, true, matching === 'create' ? (data.defaultRole ?? idp.defaultRole) : undefined);
      checkMatching(matching, idp.tenantId);
      if (data.enabled ?? idp.enabled) await checkDomains(data.allowedDomains ?? idp.allowedDomains, idp.id);
      const secret = data.clientSecret === undefined ? (idp.clientSecretEnc ? box.openText(idp.clientSecretEnc, idpSecretContext(idp.id)) : null) : data.clientSecret;
      if (data.issuer !== undefined || data.clientId !== undefined) await discover(data.issuer ?? idp.issuer, data.clientId ?? idp.clientId, secret);
      const { clientSecret, ...rest } = data;
      const changes: UpstreamIdpChanges = { ...rest, ...(clientSecret !== undefined ? { clientSecretEnc: clientSecret === null ? null : box.seal(clientSecret, idpSecretContext(idp.id)) } : {}) };
      const updated = await repos.upstreamIdps.update(idp.id, changes);
      if (!updated) throw notFound('No such identity provider.', 'idp_not_found');
      await events.emit({ action: 'idp.updated', ...actorFields(ctx.actor), tenantId: idp.tenantId ?? undefined, target: idp.id, ...ctx.request, detail: { fields: Object.keys(data).sort() } });
      return view(updated);
    },

    /** Deleting also removes the links of accounts to it; the accounts stay. */
    async remove(ctx: AdminContext, id: string): Promise<void> {
      const { idp } = await load(ctx, id);
      if (await repos.upstreamIdps.remove(idp.id)) {
        await events.emit({ action: 'idp.deleted', ...actorFields(ctx.actor), tenantId: idp.tenantId ?? undefined, target: idp.id, ...ctx.request, detail: { issuer: idp.issuer, slug: idp.slug } });
      }
    },

    /** An IdP by id or slug, for the command line. */
    async resolve(ctx: AdminContext, ref: string): Promise<IdpView> {
      const idp = (await repos.upstreamIdps.findById(ref)) ?? (await repos.upstreamIdps.findBySlug(ref));
      if (!idp) throw notFound(`No identity provider with id or slug "${ref}".`, 'idp_not_found');
      return this.get(ctx, idp.id);
    },
  };
}

export type IdpAdmin = ReturnType<typeof createIdpAdmin>;
