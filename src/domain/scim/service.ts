// SCIM 2.0 provisioning (RFC 7643/7644) as use cases: a service client bound to a tenant creates,
// reads, replaces, patches and deletes that tenant's accounts, and reads the roles as Groups (adding
// or removing a member changes that account's role). Every step authorizes with the admin use cases'
// can() and audit (authorize(), authz.denied) and reuses their role change and deactivation (which
// ends the account's sessions); accounts of any other tenant do not exist here (404), even ones the
// client's tenant manages as a partner. Provisioned accounts get no password and no mail, as a bulk
// import's: the user signs in through an upstream identity provider or chooses a password by reset.
import { createHash } from 'node:crypto';
import type { Repos } from '../../store/repos.ts';
import type { AccountFilter, ScimAccount, ScimColumn } from '../../store/repositories/scim.ts';
import { notFound } from '../errors.ts';
import { emailAddress } from '../directory.ts';
import type { SecurityEvents } from '../events.ts';
import { ROLES, type Role } from '../kinds.ts';
import { ROLE_LABEL } from '../permissions.ts';
import type { SessionEnding } from '../sessions.ts';
import { actorFields, authorize, tenantTarget, type AdminContext, type TenantRow } from '../admin/context.ts';
import type { UserAdmin } from '../admin/users.ts';
import { scimError } from './errors.ts';
import { parseFilter, type Filter } from './filter.ts';
import { applyUserPatch, normalisePath, parsePatch } from './patch.ts';
import { GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, USER_SCHEMA, userFromResource, type UserFields } from './user-model.ts';

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 200;

export interface ScimDeps {
  repos: Pick<Repos, 'tenants' | 'accounts' | 'scim'>;
  events: SecurityEvents;
  users: Pick<UserAdmin, 'changeRole' | 'deactivate' | 'reactivate'>;
  endSessions: SessionEnding['end'];
  /** where resources live: `<issuer>/scim/v2`. */
  baseUrl: string;
}

export interface ListQuery {
  filter?: string | undefined;
  /** 1-based (RFC 7644 §3.4.2.4); below 1 counts as 1. */
  startIndex?: number | undefined;
  /** at most MAX_COUNT; 0 asks only for totalResults. */
  count?: number | undefined;
}

export interface ScimResource {
  [key: string]: unknown;
  meta: { resourceType: string; location: string; version?: string; created?: string; lastModified?: string };
}

const NO_USER = 'No such user.';
const NO_GROUP = 'No such group: the groups are the roles owner, super_admin, admin, support and user.';

/** SCIM attribute (lower-cased, schema URN removed) → account column; userName and emails compare without case (RFC 7643 §4.1). */
const USER_ATTRIBUTES: Record<string, { column: ScimColumn; caseExact: boolean; kind: 'text' | 'date' | 'active' }> = {
  id: { column: 'id', caseExact: false, kind: 'text' },
  username: { column: 'email', caseExact: false, kind: 'text' },
  emails: { column: 'email', caseExact: false, kind: 'text' },
  'emails.value': { column: 'email', caseExact: false, kind: 'text' },
  externalid: { column: 'externalId', caseExact: true, kind: 'text' },
  displayname: { column: 'name', caseExact: false, kind: 'text' },
  'name.formatted': { column: 'name', caseExact: false, kind: 'text' },
  active: { column: 'status', caseExact: true, kind: 'active' },
  'meta.created': { column: 'createdAt', caseExact: true, kind: 'date' },
  'meta.lastmodified': { column: 'updatedAt', caseExact: true, kind: 'date' },
};

const invalidFilter = (message: string) => scimError('invalidFilter', 400, message);

/** A parsed SCIM filter over Users, as a filter over account columns. */
export function accountFilter(filter: Filter): AccountFilter {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return { kind: filter.kind, left: accountFilter(filter.left), right: accountFilter(filter.right) };
    case 'not':
      return { kind: 'not', filter: accountFilter(filter.filter) };
    case 'present': {
      const attr = USER_ATTRIBUTES[normalisePath(filter.path)];
      if (!attr) throw invalidFilter(`Users cannot be filtered by "${filter.path}".`);
      return { kind: 'present', column: attr.column };
    }
    case 'compare': {
      const attr = USER_ATTRIBUTES[normalisePath(filter.path)];
      if (!attr) throw invalidFilter(`Users cannot be filtered by "${filter.path}".`);
      const { op, value } = filter;
      if (attr.kind === 'active') {
        if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne')) throw invalidFilter('active is compared with eq or ne and true or false.');
        return { kind: 'compare', column: 'status', op: value === (op === 'eq') ? 'eq' : 'ne', value: 'active', caseExact: true };
      }
      if (attr.kind === 'date') {
        const at = typeof value === 'string' ? new Date(value) : undefined;
        if (!at || Number.isNaN(at.getTime()) || ['co', 'sw', 'ew'].includes(op)) throw invalidFilter(`${filter.path} is compared with a date-time ("2026-01-31T12:00:00Z") by eq, ne, gt, ge, lt or le.`);
        return { kind: 'compare', column: attr.column, op, value: at, caseExact: true };
      }
      if (value !== null && typeof value !== 'string') throw invalidFilter(`${filter.path} is compared with a string.`);
      return { kind: 'compare', column: attr.column, op, value, caseExact: attr.caseExact };
    }
  }
}

/** startIndex/count as RFC 7644 §3.4.2.4 reads them. */
export function pageOf(query: ListQuery): { offset: number; limit: number; startIndex: number } {
  const startIndex = Math.max(1, Math.floor(query.startIndex ?? 1));
  const limit = Math.min(Math.max(0, Math.floor(query.count ?? DEFAULT_COUNT)), MAX_COUNT);
  return { offset: startIndex - 1, limit, startIndex };
}

const version = (resource: Record<string, unknown>) => `W/"${createHash('sha256').update(JSON.stringify(resource)).digest('base64url').slice(0, 22)}"`;

const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

export function createScim(deps: ScimDeps) {
  const { repos, events } = deps;

  const userLocation = (id: string) => `${deps.baseUrl}/Users/${id}`;
  const groupLocation = (role: Role) => `${deps.baseUrl}/Groups/${role}`;

  function userResource(account: ScimAccount): ScimResource {
    const body = {
      schemas: [USER_SCHEMA],
      id: account.id,
      ...(account.externalId !== null ? { externalId: account.externalId } : {}),
      userName: account.email,
      ...(account.name !== null ? { name: { formatted: account.name }, displayName: account.name } : {}),
      active: account.status === 'active',
      emails: [{ value: account.email, type: 'work', primary: true }],
      roles: [{ value: account.role, display: ROLE_LABEL[account.role], primary: true }],
      groups: [{ value: account.role, display: ROLE_LABEL[account.role], $ref: groupLocation(account.role) }],
    };
    return {
      ...body,
      meta: { resourceType: 'User', created: account.createdAt.toISOString(), lastModified: account.updatedAt.toISOString(), location: userLocation(account.id), version: version(body) },
    };
  }

  async function groupResource(tenantId: string, role: Role): Promise<ScimResource> {
    const members = await repos.scim.withRole(tenantId, role);
    const body = {
      schemas: [GROUP_SCHEMA],
      id: role,
      displayName: ROLE_LABEL[role],
      members: members.map((m) => ({ value: m.id, display: m.email, $ref: userLocation(m.id), type: 'User' })),
    };
    return { ...body, meta: { resourceType: 'Group', location: groupLocation(role), version: version(body) } };
  }

  /** The client's own tenant, where it may view users (authz.denied is audited otherwise). */
  async function ownTenant(ctx: AdminContext) {
    const tenant = await repos.tenants.findById(ctx.actor.tenantId);
    if (!tenant) throw notFound('The tenant of this client no longer exists.', 'tenant_not_found');
    await authorize(deps, ctx, 'view_users', tenantTarget(tenant));
    return tenant;
  }

  /** An account of the client's tenant; 404 for any other id, of another tenant or none. */
  async function ownAccount(ctx: AdminContext, id: string) {
    const tenant = await ownTenant(ctx);
    const account = await repos.scim.find(tenant.id, id);
    if (!account) throw notFound(NO_USER, 'user_not_found');
    return { tenant, account };
  }

  const fieldsOf = (a: ScimAccount): UserFields => ({ userName: a.email, name: a.name, externalId: a.externalId, active: a.status === 'active', role: a.role });

  function checkedEmail(userName: string): string {
    const parsed = emailAddress.safeParse(userName);
    if (!parsed.success) throw scimError('invalidValue', 400, 'userName must be the user’s email address.');
    return parsed.data;
  }

  /** Writes the difference between what the account holds and `next`, each part by its own use case. */
  async function write(ctx: AdminContext, tenant: TenantRow, account: ScimAccount, next: UserFields) {
    const target = tenantTarget(tenant, { accountId: account.id, role: account.role });
    const email = next.userName === account.email ? undefined : checkedEmail(next.userName);
    const profile = {
      ...(email !== undefined ? { email } : {}),
      ...(next.name !== account.name ? { name: next.name } : {}),
      ...(next.externalId !== account.externalId ? { externalId: next.externalId } : {}),
    };
    if (Object.keys(profile).length > 0) {
      await authorize(deps, ctx, 'update_user', target);
      await repos.scim.updateProfile(account.id, profile);
      await events.emit({ action: 'account.updated', ...actorFields(ctx.actor), tenantId: tenant.id, target: account.id, ...ctx.request, detail: { via: 'scim', changes: Object.keys(profile) } });
    }
    if (next.role !== account.role) await deps.users.changeRole(ctx, account.id, next.role);
    if (next.active !== (account.status === 'active')) {
      if (next.active) await deps.users.reactivate(ctx, account.id);
      else await deps.users.deactivate(ctx, account.id);
    }
    const updated = await repos.scim.find(tenant.id, account.id);
    if (!updated) throw notFound(NO_USER, 'user_not_found');
    return userResource(updated);
  }

  return {
    async listUsers(ctx: AdminContext, query: ListQuery) {
      const tenant = await ownTenant(ctx);
      const filter = query.filter !== undefined ? accountFilter(parseFilter(query.filter)) : undefined;
      const { offset, limit, startIndex } = pageOf(query);
      const page = await repos.scim.page({ tenantId: tenant.id, filter, offset, limit });
      return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: page.total, startIndex, itemsPerPage: page.rows.length, Resources: page.rows.map(userResource) };
    },

    async getUser(ctx: AdminContext, id: string): Promise<ScimResource> {
      const { account } = await ownAccount(ctx, id);
      return userResource(account);
    },

    async createUser(ctx: AdminContext, body: unknown): Promise<ScimResource> {
      const tenant = await ownTenant(ctx);
      const fields = userFromResource(body);
      const email = checkedEmail(fields.userName);
      await authorize(deps, ctx, 'invite_user', tenantTarget(tenant, { grantRole: fields.role }));
      if (await repos.accounts.findInTenant(tenant.id, email)) throw scimError('uniqueness', 409, `This tenant already has a user ${email}.`);
      const created = await repos.accounts.create({ tenantId: tenant.id, email, name: fields.name, role: fields.role, passwordHash: null, source: 'scim', externalId: fields.externalId });
      await events.emit({ action: 'account.provisioned', ...actorFields(ctx.actor), tenantId: tenant.id, target: created.id, ...ctx.request, detail: { via: 'scim', role: fields.role } });
      if (!fields.active) await deps.users.deactivate(ctx, created.id);
      const account = await repos.scim.find(tenant.id, created.id);
      if (!account) throw notFound(NO_USER, 'user_not_found');
      return userResource(account);
    },

    async replaceUser(ctx: AdminContext, id: string, body: unknown): Promise<ScimResource> {
      const { tenant, account } = await ownAccount(ctx, id);
      return write(ctx, tenant, account, userFromResource(body, fieldsOf(account)));
    },

    async patchUser(ctx: AdminContext, id: string, body: unknown): Promise<ScimResource> {
      const { tenant, account } = await ownAccount(ctx, id);
      return write(ctx, tenant, account, applyUserPatch(fieldsOf(account), parsePatch(body)));
    },

    /** Deletion ends the account's sessions first, then removes it with its authenticators and links. */
    async deleteUser(ctx: AdminContext, id: string): Promise<void> {
      const { tenant, account } = await ownAccount(ctx, id);
      await authorize(deps, ctx, 'delete_user', tenantTarget(tenant, { accountId: account.id, role: account.role }));
      await deps.endSessions(account.id, { reason: 'deleted', ...actorFields(ctx.actor), tenantId: tenant.id, ...ctx.request });
      await repos.scim.remove(account.id);
      await events.emit({ action: 'account.deleted', ...actorFields(ctx.actor), tenantId: tenant.id, target: account.id, ...ctx.request, detail: { via: 'scim', email: account.email, external_id: account.externalId } });
    },

    async listGroups(ctx: AdminContext, query: ListQuery) {
      const tenant = await ownTenant(ctx);
      const filter = query.filter !== undefined ? parseFilter(query.filter) : undefined;
      const all = await Promise.all(ROLES.map((role) => groupResource(tenant.id, role)));
      const matching = filter ? all.filter((g) => groupMatches(filter, g)) : all;
      const { offset, limit, startIndex } = pageOf(query);
      const items = matching.slice(offset, offset + limit);
      return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: matching.length, startIndex, itemsPerPage: items.length, Resources: items };
    },

    async getGroup(ctx: AdminContext, id: string): Promise<ScimResource> {
      const tenant = await ownTenant(ctx);
      if (!isRole(id)) throw notFound(NO_GROUP, 'group_not_found');
      return groupResource(tenant.id, id);
    },

    /**
     * Membership changes a role: adding an account to a group gives it that role; removing it from the
     * group gives it the least role (user); replacing the members does both. Each change goes through
     * the role change use case, so rank rules and the audit apply per account.
     */
    async patchGroup(ctx: AdminContext, id: string, body: unknown): Promise<ScimResource> {
      const tenant = await ownTenant(ctx);
      if (!isRole(id)) throw notFound(NO_GROUP, 'group_not_found');
      const changes = new Map<string, Role>();
      const current = new Set((await repos.scim.withRole(tenant.id, id)).map((m) => m.id));
      for (const operation of parsePatch(body)) {
        const path = operation.path === undefined ? undefined : normalisePath(operation.path);
        const named = path ? /^members\[value eq "([^"]*)"\]$/.exec(path) : null;
        if (operation.op === 'remove' && named?.[1]) {
          changes.set(named[1], 'user');
          continue;
        }
        if (path === 'displayname' || (path === undefined && isDisplayNameOnly(operation.value))) throw scimError('mutability', 400, 'A group’s displayName is its role’s name and cannot change.');
        const value = path === undefined && typeof operation.value === 'object' && operation.value !== null && !Array.isArray(operation.value) ? (operation.value as Record<string, unknown>).members : operation.value;
        if (path !== undefined && path !== 'members') throw scimError('invalidPath', 400, 'Only "members" of a group can change.');
        const ids = memberIds(operation.op === 'remove' ? (value ?? []) : value);
        if (operation.op === 'replace') for (const member of current) if (!ids.includes(member)) changes.set(member, 'user');
        for (const member of ids) changes.set(member, operation.op === 'remove' ? 'user' : id);
      }
      for (const [accountId, role] of changes) {
        // taking someone out of a group they are not in changes nothing
        if (role === 'user' && !current.has(accountId)) continue;
        const account = await repos.scim.find(tenant.id, accountId);
        if (!account) throw scimError('invalidValue', 400, `Member ${accountId} is not a user of this tenant.`);
        if (account.role !== role) await deps.users.changeRole(ctx, account.id, role);
      }
      return groupResource(tenant.id, id);
    },
  };
}

const isDisplayNameOnly = (value: unknown) => typeof value === 'object' && value !== null && 'displayName' in value;

function memberIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((m) => typeof m !== 'object' || m === null || typeof (m as { value?: unknown }).value !== 'string')) {
    throw scimError('invalidValue', 400, 'members must be a list of {"value": "<user id>"} objects.');
  }
  return value.map((m) => (m as { value: string }).value);
}

/** Groups are five fixed resources: a filter on them is evaluated here (id and displayName). */
function groupMatches(filter: Filter, group: ScimResource): boolean {
  switch (filter.kind) {
    case 'and':
      return groupMatches(filter.left, group) && groupMatches(filter.right, group);
    case 'or':
      return groupMatches(filter.left, group) || groupMatches(filter.right, group);
    case 'not':
      return !groupMatches(filter.filter, group);
    case 'present':
    case 'compare': {
      const path = normalisePath(filter.path).replace(`${GROUP_SCHEMA.toLowerCase()}:`, '');
      const field = path === 'id' ? group.id : path === 'displayname' ? group.displayName : undefined;
      if (field === undefined) throw scimError('invalidFilter', 400, 'Groups can be filtered by id and displayName.');
      const actual = String(field).toLowerCase();
      if (filter.kind === 'present') return actual !== '';
      if (typeof filter.value !== 'string') throw scimError('invalidFilter', 400, `${filter.path} is compared with a string.`);
      const expected = filter.value.toLowerCase();
      const ops = { eq: actual === expected, ne: actual !== expected, co: actual.includes(expected), sw: actual.startsWith(expected), ew: actual.endsWith(expected), gt: actual > expected, ge: actual >= expected, lt: actual < expected, le: actual <= expected };
      return ops[filter.op];
    }
  }
}

export type Scim = ReturnType<typeof createScim>;
