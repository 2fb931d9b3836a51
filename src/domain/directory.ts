// Tenants and accounts: creating them with their rules (tree shape, one account per email per tenant).
import { z } from 'zod';
import type { Repos } from '../store/repos.ts';
import { badRequest, notFound } from './errors.ts';
import type { PasswordHasher } from './passwords.ts';
import { validateNewPassword } from './passwords.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import { ROLES, TENANT_KINDS, type TenantKind } from './kinds.ts';
import type { VerifiableAccount } from './email-verification.ts';

/** Every kind but the platform, which exists once from the first start. */
const CREATABLE_TENANT_KINDS = TENANT_KINDS.filter((k): k is Exclude<TenantKind, 'platform'> => k !== 'platform');

/** An account's email address as stored: trimmed, lower case, at most 320 characters. */
export const emailAddress = z.string().trim().toLowerCase().email('must be an email address').max(320);

export function createDirectory(deps: {
  tenants: Repos['tenants'];
  accounts: Repos['accounts'];
  hasher: PasswordHasher;
  events: SecurityEvents;
  /** mails a new account the link that verifies its address (src/domain/email-verification.ts). */
  verifyEmail?: (account: VerifiableAccount, request: RequestInfo) => Promise<void>;
}) {
  const { tenants, accounts, hasher, events } = deps;

  async function tenantByRef(ref: string) {
    const tenant = await tenants.findByIdOrSlug(ref);
    if (!tenant) throw notFound(`No tenant with id or slug "${ref}".`, 'tenant_not_found');
    return tenant;
  }

  return {
    tenantByRef,

    async createTenant(input: { kind: string; name: string; parent?: string }, request: RequestInfo = {}) {
      const kind = CREATABLE_TENANT_KINDS.find((k) => k === input.kind);
      if (!kind) throw badRequest(`kind must be one of ${CREATABLE_TENANT_KINDS.join(', ')}`);
      const name = input.name.trim();
      if (!name) throw badRequest('name is required');
      const parent = input.parent ? await tenantByRef(input.parent) : await tenants.getPlatform();
      if (!parent) throw badRequest('The platform tenant does not exist yet: run `gatehouse migrate` or start the server once.');
      const tenant = await tenants.create({ kind, name, parentId: parent.id });
      await events.emit({ action: 'tenant.created', tenantId: tenant.id, target: tenant.id, ...request, detail: { kind: tenant.kind, name } });
      return tenant;
    },

    async createAccount(
      input: { tenant: string; email: string; password?: string; role?: string; name?: string; platformOperator?: boolean; source?: 'local' | 'import' },
      request: RequestInfo = {},
    ) {
      const tenant = await tenantByRef(input.tenant);
      const parsedEmail = emailAddress.safeParse(input.email);
      if (!parsedEmail.success) throw badRequest(`email ${parsedEmail.error.issues[0]?.message ?? 'is invalid'}`);
      const role = ROLES.find((r) => r === (input.role ?? 'user'));
      if (!role) throw badRequest(`role must be one of ${ROLES.join(', ')}`);
      if (input.password !== undefined) validateNewPassword(input.password);
      const account = await accounts.create({
        tenantId: tenant.id,
        email: parsedEmail.data,
        name: input.name?.trim() || null,
        role,
        passwordHash: input.password !== undefined ? await hasher.hash(input.password) : null,
        emailVerified: false,
        platformOperator: input.platformOperator ?? false,
        source: input.source ?? 'local',
      });
      await events.emit({ action: 'account.created', tenantId: tenant.id, target: account.id, ...request, detail: { role } });
      if (!account.emailVerified) await deps.verifyEmail?.({ ...account, tenant }, request);
      return { ...account, tenant };
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;
