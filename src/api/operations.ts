// The operations of /api/v1, one table: path, scopes, schemas and the use case each calls. The router
// and the OpenAPI document are both built from it, so they cannot disagree.
import type { z } from 'zod';
import type { Admin, AdminContext } from '../domain/admin/index.ts';
import { clientJson, idpJson, policyJson, tenantRef, userJson } from '../domain/admin/json.ts';
import type { TenantView } from '../domain/admin/tenants.ts';
import type { AuditEntry } from '../domain/admin/audit.ts';
import type { ApiScope } from '../oidc/provider.ts';
import type { ApiCaller } from './auth.ts';
import { importReportJson, rowsFromCsv, rowsFromJson, type UserImport } from '../domain/import/users.ts';
import type { IdpAdmin, IdpPatch } from '../domain/federation/idps.ts';
import * as S from './schemas.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface CallInput<P, Q, B> {
  caller: ApiCaller;
  ctx: AdminContext;
  params: P;
  query: Q;
  body: B;
}

/** A CSV answer (the only non-JSON one). */
export interface CsvBody {
  csv: string[];
  filename: string;
}

export interface Operation {
  method: Method;
  /** OpenAPI form: /tenants/{tenant}/users */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tag: string;
  /** the caller needs one of these scopes. */
  scopes: readonly ApiScope[];
  params: z.ZodObject;
  query: z.ZodType;
  body?: z.ZodType | undefined;
  status: 200 | 201 | 204;
  response?: z.ZodType | undefined;
  csv?: boolean;
  /** the 4xx answers this operation may give besides 400/401/403. */
  notFound: boolean;
  conflict?: boolean;
  handler(input: CallInput<unknown, unknown, unknown>): Promise<unknown>;
}

function op<P extends z.ZodObject, Q extends z.ZodType, B extends z.ZodType | undefined>(
  def: Omit<Operation, 'handler' | 'params' | 'query' | 'body'> & {
    params: P;
    query: Q;
    body?: B;
    handler(input: CallInput<z.output<P>, z.output<Q>, B extends z.ZodType ? z.output<B> : undefined>): Promise<unknown>;
  },
): Operation {
  return def as unknown as Operation;
}

const tenantJson = (t: TenantView) => ({ id: t.id, name: t.name, slug: t.slug, kind: t.kind, parent_id: t.parentId, created_at: t.createdAt.toISOString() });

const auditJson = (e: AuditEntry) => ({
  id: e.id,
  at: e.at.toISOString(),
  action: e.action,
  actor: e.actor,
  tenant_id: e.tenantId,
  target: e.target,
  ip: e.ip,
  user_agent: e.userAgent,
  request_id: e.requestId,
  detail: e.detail,
});

const clientInput = (b: z.output<typeof S.NewClient> | z.output<typeof S.ClientPatch>) => ({
  name: b.name,
  redirectUris: b.redirect_uris,
  postLogoutRedirectUris: b.post_logout_redirect_uris,
  grants: b.grant_types,
  firstParty: b.first_party,
  requireMfa: b.require_mfa,
  requirePhishingResistantMfa: b.require_phishing_resistant_mfa,
  scope: b.scope,
  idTokenAlg: b.id_token_signed_response_alg,
  backchannelLogoutUri: b.backchannel_logout_uri,
});

const auditFilter = (q: z.output<typeof S.AuditCsvQuery>) => ({
  actor: q.actor,
  target: q.target,
  action: q.action,
  tenant: q.tenant,
  since: q.since ? new Date(q.since) : undefined,
  until: q.until ? new Date(q.until) : undefined,
});

const READ_USERS = ['users:read', 'users:write'] as const;

/** The use cases of issue 14 that sit beside the admin use cases. */
export interface ApiExtras {
  userImport: UserImport;
  idps: IdpAdmin;
}

const idpInput = (b: z.output<typeof S.IdpPatch>): IdpPatch => {
  const patch: IdpPatch = {
    displayName: b.display_name,
    slug: b.slug,
    issuer: b.issuer,
    clientId: b.client_id,
    clientSecret: b.client_secret,
    scopes: b.scopes,
    allowedDomains: b.allowed_domains,
    accountMatching: b.account_matching,
    defaultRole: b.default_role,
    mfaAcrValues: b.mfa_acr_values,
    trustUpstreamMfa: b.trust_upstream_mfa,
    enabled: b.enabled,
  };
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as IdpPatch;
};

export function apiOperations(admin: Admin, extras: ApiExtras): Operation[] {
  const { userImport, idps } = extras;
  return [
    op({
      method: 'get',
      path: '/me',
      operationId: 'getMe',
      summary: 'Who is calling',
      description: 'The account or service client the access token stands for, its role, tenant and API scopes.',
      tag: 'Session',
      scopes: [],
      params: S.NoParams,
      query: S.NoQuery,
      status: 200,
      response: S.Me,
      notFound: false,
      async handler({ caller }) {
        const a = caller.actor;
        return { kind: a.kind === 'service' ? 'service' : 'account', id: a.accountId, display: a.display, role: a.role, tenant_id: a.tenantId, platform_operator: a.platformOperator, scopes: [...caller.scopes].sort() };
      },
    }),
    op({
      method: 'get',
      path: '/tenants',
      operationId: 'listTenants',
      summary: 'List tenants',
      description: 'Your own tenant and the tenants directly under it; platform operators see every tenant.',
      tag: 'Tenants',
      scopes: ['tenants:write', ...READ_USERS],
      params: S.NoParams,
      query: S.NoQuery,
      status: 200,
      response: S.TenantList,
      notFound: false,
      async handler({ ctx }) {
        const { home, tenants } = await admin.tenants.list(ctx);
        return { home: tenantJson(home), items: tenants.map(tenantJson) };
      },
    }),
    op({
      method: 'post',
      path: '/tenants',
      operationId: 'createTenant',
      summary: 'Create an organization or sub-reseller',
      description: 'Creates a tenant directly under your own tenant (or under `parent`, for platform operators). A distributor may create sub-resellers and organizations, a sub-reseller organizations.',
      tag: 'Tenants',
      scopes: ['tenants:write'],
      params: S.NoParams,
      query: S.NoQuery,
      body: S.NewTenant,
      status: 201,
      response: S.Tenant,
      notFound: true,
      conflict: true,
      async handler({ ctx, body }) {
        return tenantJson(await admin.tenants.create(ctx, body));
      },
    }),
    op({
      method: 'get',
      path: '/tenants/{tenant}/users',
      operationId: 'listUsers',
      summary: 'List users with their MFA Status',
      description: 'User Management: the accounts of one tenant (yours, or an organization directly under it), ordered by email, with role, MFA Status (Active/Inactive) and last sign-in.',
      tag: 'Users',
      scopes: READ_USERS,
      params: S.TenantParam,
      query: S.UserQuery,
      status: 200,
      response: S.UserPage,
      notFound: true,
      async handler({ ctx, params, query }) {
        const page = await admin.users.list(ctx, { tenant: params.tenant, search: query.search, role: query.role, mfa: query.mfa, status: query.status, limit: query.limit, cursor: query.cursor });
        return { tenant: tenantRef(page.tenant), items: page.items.map(userJson), next_cursor: page.nextCursor };
      },
    }),
    op({
      method: 'get',
      path: '/users/{id}',
      operationId: 'getUser',
      summary: 'Get a user',
      description: 'One account with its MFA Status.',
      tag: 'Users',
      scopes: READ_USERS,
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.User,
      notFound: true,
      async handler({ ctx, params }) {
        return userJson(await admin.users.get(ctx, params.id));
      },
    }),
    op({
      method: 'put',
      path: '/users/{id}/role',
      operationId: 'setUserRole',
      summary: 'Change a user’s role',
      description: 'Owners, super admins and admins change the role of accounts of equal or lower rank in their scope, never to a role above their own, never their own.',
      tag: 'Users',
      scopes: ['users:write'],
      params: S.IdParam,
      query: S.NoQuery,
      body: S.RoleChange,
      status: 200,
      response: S.User,
      notFound: true,
      async handler({ ctx, params, body }) {
        return userJson(await admin.users.changeRole(ctx, params.id, body.role));
      },
    }),
    op({
      method: 'put',
      path: '/users/{id}/status',
      operationId: 'setUserStatus',
      summary: 'Deactivate or reactivate a user',
      description: '`disabled` refuses new sign-ins and ends every session of the user (apps are told by back-channel logout); `active` lets the user sign in again.',
      tag: 'Users',
      scopes: ['users:write'],
      params: S.IdParam,
      query: S.NoQuery,
      body: S.StatusChange,
      status: 200,
      response: S.User,
      notFound: true,
      async handler({ ctx, params, body }) {
        return userJson(body.status === 'disabled' ? await admin.users.deactivate(ctx, params.id) : await admin.users.reactivate(ctx, params.id));
      },
    }),
    op({
      method: 'delete',
      path: '/users/{id}/sessions',
      operationId: 'endUserSessions',
      summary: 'End a user’s sessions',
      description: 'Signs the user out everywhere. Idempotent: a user without sessions answers the same.',
      tag: 'Users',
      scopes: ['users:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.SessionsEnded,
      notFound: true,
      async handler({ ctx, params }) {
        return { sessions_ended: (await admin.users.endSessions(ctx, params.id)).sessionsEnded };
      },
    }),
    op({
      method: 'post',
      path: '/tenants/{tenant}/users',
      operationId: 'inviteUser',
      summary: 'Invite a user',
      description:
        'Creates the account without a password and emails the user a single-use link to choose one (valid 72 hours by default). Owners, super admins and admins invite into their own tenant and the organizations directly under it, never with a role above their own.',
      tag: 'Users',
      scopes: ['users:write'],
      params: S.TenantParam,
      query: S.NoQuery,
      body: S.NewInvitation,
      status: 201,
      response: S.Invitation,
      notFound: true,
      conflict: true,
      async handler({ ctx, params, body }) {
        const result = await admin.invitations.invite(ctx, { tenant: params.tenant, email: body.email, name: body.name, role: body.role });
        return { user: userJson(result.user), invitation_expires_at: result.expiresAt.toISOString() };
      },
    }),
    op({
      method: 'post',
      path: '/users/{id}/invitation',
      operationId: 'resendInvitation',
      summary: 'Resend an invitation',
      description: 'Emails a new invitation link to a user who has not chosen a password yet; earlier links stop working. 409 when the invitation was already accepted.',
      tag: 'Users',
      scopes: ['users:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.Invitation,
      notFound: true,
      conflict: true,
      async handler({ ctx, params }) {
        const result = await admin.invitations.resend(ctx, params.id);
        return { user: userJson(result.user), invitation_expires_at: result.expiresAt.toISOString() };
      },
    }),
    op({
      method: 'post',
      path: '/users/{id}/mfa/reset',
      operationId: 'resetUserMfa',
      summary: 'Reset a user’s MFA',
      description:
        'Removes every authenticator and recovery code of the user and clears the MFA lockout, ends every session, and emails the user to set up MFA again at the next sign-in. Owners, super admins and admins reset accounts of equal or lower rank in their scope; support never.',
      tag: 'Users',
      scopes: ['mfa:reset'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.MfaReset,
      notFound: true,
      async handler({ ctx, params }) {
        const result = await admin.users.resetMfa(ctx, params.id);
        return {
          user: userJson(result),
          authenticators_removed: result.authenticatorsRemoved,
          recovery_codes_removed: result.recoveryCodesRemoved,
          sessions_ended: result.sessionsEnded,
          setup_required_at_next_sign_in: result.setupRequired,
        };
      },
    }),
    op({
      method: 'post',
      path: '/tenants/{tenant}/imports',
      operationId: 'importUsers',
      summary: 'Import users with their MFA',
      description:
        'Users from another platform, as JSON or CSV (email, name, role, password_hash, totp_secret). Each row is checked and written on its own: a rejected row writes nothing and the report says why; the other rows are kept. ' +
        'Importing the same users again reports every row unchanged and changes nothing. Imported users get no mail; one summary mail goes to `notify` (or the signed-in administrator) when something changed.',
      tag: 'Users',
      scopes: ['users:write'],
      params: S.TenantParam,
      query: S.NoQuery,
      body: S.ImportRequest,
      status: 200,
      response: S.ImportReport,
      notFound: true,
      async handler({ ctx, params, body }) {
        const rows = body.csv !== undefined ? rowsFromCsv(body.csv) : rowsFromJson(body.users ?? []);
        const report = await userImport.run(ctx, { tenant: params.tenant, rows, dryRun: body.dry_run, notify: body.notify ? { email: body.notify, name: null } : undefined });
        return importReportJson(report);
      },
    }),
    op({
      method: 'get',
      path: '/tenants/{tenant}/policy',
      operationId: 'getPolicy',
      summary: 'Get the MFA policy',
      description: 'The partner tenant’s two switches, the grace period, and how many accounts each switch covers that have no MFA yet. Partners (distributors, sub-resellers) only.',
      tag: 'MFA policy',
      scopes: ['policy:write', ...READ_USERS],
      params: S.TenantParam,
      query: S.NoQuery,
      status: 200,
      response: S.Policy,
      notFound: true,
      async handler({ ctx, params }) {
        return policyJson(await admin.policy.get(ctx, params.tenant));
      },
    }),
    op({
      method: 'patch',
      path: '/tenants/{tenant}/policy',
      operationId: 'updatePolicy',
      summary: 'Change the MFA policy',
      description:
        'Enforce MFA for all partner users and/or for all organizations directly under this partner, each optionally at the phishing-resistant level (enforce_phr_*: only a passkey or security key, acr urn:gatehouse:acr:phr; it enforces MFA by itself), with a grace period of 0–30 days. Enforcement covers every role, your own account included. Nothing reaches a sub-reseller or its organizations. Turning a switch on answers how many accounts in its scope have no MFA yet.',
      tag: 'MFA policy',
      scopes: ['policy:write'],
      params: S.TenantParam,
      query: S.NoQuery,
      body: S.PolicyPatch,
      status: 200,
      response: S.PolicyChangeResult,
      notFound: true,
      async handler({ ctx, params, body }) {
        const result = await admin.policy.set(ctx, params.tenant, {
          partnerUsers: body.enforce_mfa_partner_users,
          organizations: body.enforce_mfa_organizations,
          partnerUsersPhr: body.enforce_phr_partner_users,
          organizationsPhr: body.enforce_phr_organizations,
          graceDays: body.grace_days,
        });
        return {
          policy: policyJson(result.policy),
          turned_on: result.turnedOn.map((t) => ({ switch: t.switch, accounts_without_mfa: t.accountsWithoutMfa })),
          turned_off: result.turnedOff,
        };
      },
    }),
    op({
      method: 'get',
      path: '/clients',
      operationId: 'listClients',
      summary: 'List clients',
      description: 'Every client for platform operators; the clients bound to your tenant otherwise.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.NoParams,
      query: S.NoQuery,
      status: 200,
      response: S.ClientList,
      notFound: false,
      async handler({ ctx }) {
        return { items: (await admin.clients.list(ctx)).map(clientJson) };
      },
    }),
    op({
      method: 'post',
      path: '/clients',
      operationId: 'createClient',
      summary: 'Register a client',
      description: 'Platform operators only. Redirect URIs must be https (http only on localhost) or a native app scheme, without fragments. The secret is in this answer only.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.NoParams,
      query: S.NoQuery,
      body: S.NewClient,
      status: 201,
      response: S.ClientWithSecret,
      notFound: true,
      async handler({ ctx, body }) {
        const { client, clientSecret } = await admin.clients.create(ctx, { ...clientInput(body), name: body.name, public: body.public, tenantId: body.tenant_id });
        return { client: clientJson(client), client_secret: clientSecret };
      },
    }),
    op({
      method: 'get',
      path: '/clients/{id}',
      operationId: 'getClient',
      summary: 'Get a client',
      description: 'One client’s settings (never its secret).',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.Client,
      notFound: true,
      async handler({ ctx, params }) {
        return clientJson(await admin.clients.get(ctx, params.id));
      },
    }),
    op({
      method: 'patch',
      path: '/clients/{id}',
      operationId: 'updateClient',
      summary: 'Change a client',
      description: 'Platform operators only. The whole client is validated again after the change.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.IdParam,
      query: S.NoQuery,
      body: S.ClientPatch,
      status: 200,
      response: S.Client,
      notFound: true,
      conflict: true,
      async handler({ ctx, params, body }) {
        return clientJson(await admin.clients.update(ctx, params.id, { ...clientInput(body), tenantId: body.tenant_id }));
      },
    }),
    op({
      method: 'post',
      path: '/clients/{id}/disable',
      operationId: 'disableClient',
      summary: 'Disable a client',
      description: 'The client can no longer sign users in or get tokens, until enabled again.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.Client,
      notFound: true,
      conflict: true,
      async handler({ ctx, params }) {
        return clientJson(await admin.clients.setDisabled(ctx, params.id, true));
      },
    }),
    op({
      method: 'post',
      path: '/clients/{id}/enable',
      operationId: 'enableClient',
      summary: 'Enable a client',
      description: 'Undoes a disable.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.Client,
      notFound: true,
      conflict: true,
      async handler({ ctx, params }) {
        return clientJson(await admin.clients.setDisabled(ctx, params.id, false));
      },
    }),
    op({
      method: 'post',
      path: '/clients/{id}/secret',
      operationId: 'rotateClientSecret',
      summary: 'Rotate a client’s secret',
      description: 'A new secret replaces the old one at once. It is in this answer only.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.ClientWithSecret,
      notFound: true,
      conflict: true,
      async handler({ ctx, params }) {
        const { client, clientSecret } = await admin.clients.rotateSecret(ctx, params.id);
        return { client: clientJson(client), client_secret: clientSecret };
      },
    }),
    op({
      method: 'delete',
      path: '/clients/{id}',
      operationId: 'deleteClient',
      summary: 'Delete a client',
      description: 'Platform operators only. Idempotent: deleting a client that does not exist (any more) also answers 204.',
      tag: 'Clients',
      scopes: ['clients:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 204,
      notFound: false,
      conflict: true,
      async handler({ ctx, params }) {
        await admin.clients.remove(ctx, params.id);
        return undefined;
      },
    }),
    op({
      method: 'get',
      path: '/idps',
      operationId: 'listIdps',
      summary: 'List upstream identity providers',
      description: 'Every identity provider for platform operators; those of your own tenant for a partner’s admins.',
      tag: 'Identity providers',
      scopes: ['idps:write'],
      params: S.NoParams,
      query: S.NoQuery,
      status: 200,
      response: S.IdpList,
      notFound: false,
      async handler({ ctx }) {
        return { items: (await idps.list(ctx)).map(idpJson) };
      },
    }),
    op({
      method: 'post',
      path: '/idps',
      operationId: 'createIdp',
      summary: 'Connect an upstream identity provider',
      description:
        'An OpenID Connect provider (Microsoft Entra ID, Google, Okta…) discovered from its issuer. Global (platform operators) or for one partner tenant (its admins). Users who sign in through it still pass Gatehouse’s own MFA unless trust_upstream_mfa is on and the upstream reports MFA.',
      tag: 'Identity providers',
      scopes: ['idps:write'],
      params: S.NoParams,
      query: S.NoQuery,
      body: S.NewIdp,
      status: 201,
      response: S.Idp,
      notFound: true,
      conflict: true,
      async handler({ ctx, body }) {
        const { tenant, ...settings } = body;
        const input = idpInput(settings);
        return idpJson(await idps.create(ctx, { ...input, displayName: body.display_name, issuer: body.issuer, clientId: body.client_id, ...(tenant ? { tenant } : {}) }));
      },
    }),
    op({
      method: 'get',
      path: '/idps/{id}',
      operationId: 'getIdp',
      summary: 'Get an upstream identity provider',
      description: 'Its settings; the client secret is never shown, only whether one is stored.',
      tag: 'Identity providers',
      scopes: ['idps:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 200,
      response: S.Idp,
      notFound: true,
      async handler({ ctx, params }) {
        return idpJson(await idps.get(ctx, params.id));
      },
    }),
    op({
      method: 'patch',
      path: '/idps/{id}',
      operationId: 'updateIdp',
      summary: 'Change an upstream identity provider',
      description: 'Only the fields given change. A new issuer or client id is discovered again before it is saved.',
      tag: 'Identity providers',
      scopes: ['idps:write'],
      params: S.IdParam,
      query: S.NoQuery,
      body: S.IdpPatch,
      status: 200,
      response: S.Idp,
      notFound: true,
      conflict: true,
      async handler({ ctx, params, body }) {
        return idpJson(await idps.update(ctx, params.id, idpInput(body)));
      },
    }),
    op({
      method: 'delete',
      path: '/idps/{id}',
      operationId: 'deleteIdp',
      summary: 'Remove an upstream identity provider',
      description: 'Its account links go; the accounts stay and sign in as before (password, or another IdP).',
      tag: 'Identity providers',
      scopes: ['idps:write'],
      params: S.IdParam,
      query: S.NoQuery,
      status: 204,
      notFound: true,
      async handler({ ctx, params }) {
        await idps.remove(ctx, params.id);
        return undefined;
      },
    }),
    op({
      method: 'get',
      path: '/audit-events',
      operationId: 'listAuditEvents',
      summary: 'Read the audit log',
      description: 'Who did what to whom, newest first: your own tenant and the organizations directly under it (everything, for platform operators).',
      tag: 'Audit log',
      scopes: ['audit:read'],
      params: S.NoParams,
      query: S.AuditQuery,
      status: 200,
      response: S.AuditPage,
      notFound: true,
      async handler({ ctx, query }) {
        const page = await admin.audit.list(ctx, { ...auditFilter(query), limit: query.limit, cursor: query.cursor });
        return { items: page.items.map(auditJson), next_cursor: page.nextCursor };
      },
    }),
    op({
      method: 'get',
      path: '/audit-events.csv',
      operationId: 'exportAuditEvents',
      summary: 'Export the audit log as CSV',
      description: 'The same filters as the list, every matching event (up to 10,000) as CSV. The export itself is audited.',
      tag: 'Audit log',
      scopes: ['audit:read'],
      params: S.NoParams,
      query: S.AuditCsvQuery,
      status: 200,
      csv: true,
      notFound: true,
      async handler({ ctx, query }): Promise<CsvBody> {
        const { lines } = await admin.audit.exportCsv(ctx, auditFilter(query));
        return { csv: lines, filename: 'gatehouse-audit.csv' };
      },
    }),
  ];
}
