// Clients (relying parties): platform operators create, edit, disable and delete them and rotate their
// secrets (shown once); a partner's admins see the clients bound to their tenant. Every change is
// validated as a whole client, so an edit never leaves a client oidc-provider would refuse.
import { sha256Hex } from '../digest.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import {
  clientMetadata,
  clientSettingsOf,
  isSystemClient,
  newClientId,
  newClientSecret,
  parseClientInput,
  type ClientInput,
  type ValidClientInput,
} from '../clients.ts';
import type { ClientRecord } from '../../store/repositories/clients.ts';
import { actorFields, authorize, tenantTarget, type AdminContext, type AdminDeps } from './context.ts';

export interface ClientView {
  clientId: string;
  name: string;
  disabled: boolean;
  public: boolean;
  firstParty: boolean;
  requireMfa: boolean;
  /** every sign-in needs phishing-resistant MFA (a passkey or security key). */
  requirePhishingResistantMfa: boolean;
  grants: ValidClientInput['grants'];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  scope: string | null;
  idTokenAlg: 'ES256' | 'RS256';
  tenant: { id: string; name: string; slug: string } | null;
  /** registered and kept up to date by Gatehouse itself (its consoles): read-only here. */
  system: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type ClientPatchInput = Partial<Omit<ClientInput, 'tenantId'>> & { tenantId?: string | null | undefined };

export interface ClientAdminOptions {
  /** checks metadata the way oidc-provider will when it loads the client (throws on what it would refuse). */
  validateMetadata?: ((metadata: Record<string, unknown>) => Promise<void>) | undefined;
}

const NO_CLIENT = 'No such client.';

export function createClientAdmin(deps: AdminDeps, options: ClientAdminOptions = {}) {
  const { repos, events } = deps;

  async function tenantOf(record: Pick<ClientRecord, 'tenantId'>) {
    const tenant = record.tenantId ? await repos.tenants.findById(record.tenantId) : await repos.tenants.getPlatform();
    if (!tenant) throw notFound('The tenant of this client no longer exists.', 'tenant_not_found');
    return tenant;
  }

  async function toView(record: ClientRecord): Promise<ClientView> {
    const settings = clientSettingsOf(record);
    const tenant = record.tenantId ? await repos.tenants.findById(record.tenantId) : undefined;
    return {
      clientId: record.clientId,
      name: record.name,
      disabled: record.disabled,
      public: settings.public,
      firstParty: record.firstParty,
      requireMfa: record.requireMfa,
      requirePhishingResistantMfa: record.requirePhishingResistantMfa,
      grants: settings.grants,
      redirectUris: settings.redirectUris,
      postLogoutRedirectUris: settings.postLogoutRedirectUris,
      backchannelLogoutUri: settings.backchannelLogoutUri ?? null,
      scope: settings.scope ?? null,
      idTokenAlg: settings.idTokenAlg,
      tenant: tenant ? { id: tenant.id, name: tenant.name, slug: tenant.slug } : null,
      system: isSystemClient(record.clientId),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  /** The client, after the actor was allowed to see it (404 otherwise, as for a client that does not exist). */
  async function visible(ctx: AdminContext, clientId: string) {
    const record = await repos.clients.find(clientId);
    if (!record) throw notFound(NO_CLIENT, 'client_not_found');
    const tenant = await tenantOf(record);
    await authorize(deps, ctx, 'view_clients', tenantTarget(tenant), { visibleWith: 'view_clients', notFoundMessage: NO_CLIENT });
    return { record, tenant };
  }

  async function manageable(ctx: AdminContext, clientId: string) {
    const { record, tenant } = await visible(ctx, clientId);
    await authorize(deps, ctx, 'manage_clients', tenantTarget(tenant));
    if (isSystemClient(record.clientId)) throw conflict('This client belongs to Gatehouse itself and is kept up to date automatically.', 'system_client');
    return record;
  }

  async function checkTenant(tenantId: string | undefined) {
    if (tenantId && !(await repos.tenants.findById(tenantId))) throw notFound(`The tenant ${tenantId} does not exist.`, 'tenant_not_found');
  }

  async function checkWithProvider(metadata: Record<string, unknown>, clientId: string, secret: boolean) {
    if (!options.validateMetadata) return;
    try {
      await options.validateMetadata({ ...metadata, client_id: clientId, ...(secret ? { client_secret: 'x'.repeat(43) } : {}) });
    } catch (e) {
      const err = e as { error_description?: unknown; message?: unknown };
      const why = typeof err.error_description === 'string' ? err.error_description : typeof err.message === 'string' ? err.message : 'invalid client metadata';
      throw badRequest(`The client settings are not valid: ${why}.`, 'invalid_client_metadata');
    }
  }

  const event = (ctx: AdminContext, action: 'client.created' | 'client.updated' | 'client.deleted' | 'client.disabled' | 'client.enabled' | 'client.secret.rotated', record: Pick<ClientRecord, 'clientId' | 'tenantId'>, detail: Record<string, unknown> = {}) =>
    events.emit({ action, ...actorFields(ctx.actor), tenantId: record.tenantId ?? undefined, target: record.clientId, ...ctx.request, detail });

  return {
    /** Platform operators see every client; a partner's admins the clients bound to their tenant. */
    async list(ctx: AdminContext): Promise<ClientView[]> {
      const home = await repos.tenants.findById(ctx.actor.tenantId);
      if (!home) throw notFound('Your tenant no longer exists.', 'tenant_not_found');
      await authorize(deps, ctx, 'view_clients', tenantTarget(home));
      const records = ctx.actor.platformOperator ? await repos.clients.list() : await repos.clients.listForTenant(home.id);
      return Promise.all(records.map(toView));
    },

    async get(ctx: AdminContext, clientId: string): Promise<ClientView> {
      return toView((await visible(ctx, clientId)).record);
    },

    /** The secret is returned once, here; only its digest is stored. */
    async create(ctx: AdminContext, raw: ClientInput): Promise<{ client: ClientView; clientSecret: string | null }> {
      const platform = await repos.tenants.getPlatform();
      if (!platform) throw notFound('The platform tenant does not exist yet.', 'tenant_not_found');
      await authorize(deps, ctx, 'manage_clients', tenantTarget(platform));
      const input = parseClientInput(raw);
      await checkTenant(input.tenantId);
      const clientId = newClientId();
      const secret = input.public ? null : newClientSecret();
      const metadata = clientMetadata(input);
      await checkWithProvider(metadata, clientId, secret !== null);
      const record = await repos.clients.create({
        clientId,
        name: input.name,
        metadata,
        secretHash: secret ? sha256Hex(secret) : null,
        tenantId: input.tenantId ?? null,
        firstParty: input.firstParty,
        requireMfa: input.requireMfa,
        requirePhishingResistantMfa: input.requirePhishingResistantMfa,
      });
      await event(ctx, 'client.created', record, { name: input.name, require_mfa: record.requireMfa, require_phishing_resistant_mfa: record.requirePhishingResistantMfa });
      return { client: await toView(record), clientSecret: secret };
    },

    async update(ctx: AdminContext, clientId: string, patch: ClientPatchInput): Promise<ClientView> {
      const record = await manageable(ctx, clientId);
      const current = clientSettingsOf(record);
      if (patch.public !== undefined && patch.public !== current.public) {
        throw badRequest('A client cannot switch between public and confidential; register a new client instead.', 'invalid_client_metadata');
      }
      const merged: ClientInput = { ...current };
      for (const [key, value] of Object.entries(patch)) if (value !== undefined) Object.assign(merged, { [key]: value });
      if (patch.tenantId === null) delete merged.tenantId;
      const input = parseClientInput(merged);
      await checkTenant(input.tenantId);
      const metadata = clientMetadata(input);
      await checkWithProvider(metadata, record.clientId, record.secretHash !== null);
      const updated = await repos.clients.update(record.clientId, {
        name: input.name,
        metadata,
        tenantId: input.tenantId ?? null,
        firstParty: input.firstParty,
        requireMfa: input.requireMfa,
        requirePhishingResistantMfa: input.requirePhishingResistantMfa,
      });
      if (!updated) throw notFound(NO_CLIENT, 'client_not_found');
      const changed = Object.keys(patch).filter((k) => patch[k as keyof ClientPatchInput] !== undefined);
      await event(ctx, 'client.updated', updated, { changed, require_mfa: updated.requireMfa, require_phishing_resistant_mfa: updated.requirePhishingResistantMfa });
      return toView(updated);
    },

    async setDisabled(ctx: AdminContext, clientId: string, disabled: boolean): Promise<ClientView> {
      const record = await manageable(ctx, clientId);
      if (record.disabled === disabled) return toView(record);
      const updated = await repos.clients.update(record.clientId, { disabled });
      if (!updated) throw notFound(NO_CLIENT, 'client_not_found');
      await event(ctx, disabled ? 'client.disabled' : 'client.enabled', updated);
      return toView(updated);
    },

    /** A new secret replaces the old one at once (the old one stops working); shown only in this answer. */
    async rotateSecret(ctx: AdminContext, clientId: string): Promise<{ client: ClientView; clientSecret: string }> {
      const record = await manageable(ctx, clientId);
      if (!record.secretHash) throw badRequest('A public client has no secret to rotate.', 'public_client');
      const secret = newClientSecret();
      const updated = await repos.clients.update(record.clientId, { secretHash: sha256Hex(secret) });
      if (!updated) throw notFound(NO_CLIENT, 'client_not_found');
      await event(ctx, 'client.secret.rotated', updated);
      return { client: await toView(updated), clientSecret: secret };
    },

    /** Idempotent: deleting a client that is already gone succeeds and changes nothing. */
    async remove(ctx: AdminContext, clientId: string): Promise<{ deleted: boolean }> {
      const platform = await repos.tenants.getPlatform();
      if (!platform) throw notFound('The platform tenant does not exist yet.', 'tenant_not_found');
      await authorize(deps, ctx, 'manage_clients', tenantTarget(platform));
      const record = await repos.clients.find(clientId);
      if (!record) return { deleted: false };
      if (isSystemClient(record.clientId)) throw conflict('This client belongs to Gatehouse itself and cannot be deleted.', 'system_client');
      const deleted = await repos.clients.delete(record.clientId);
      if (deleted) await event(ctx, 'client.deleted', record, { name: record.name });
      return { deleted };
    },
  };
}

export type ClientAdmin = ReturnType<typeof createClientAdmin>;
