// The admin console's pages at /admin: User Management, Security Settings → MFA Policy, Clients,
// Tenants, Audit log. Each page turns a request into one admin use case call and renders its answer;
// what a row or a page offers comes from can(), so nobody sees a button they may not use. Every form
// carries a CSRF token, posts, and redirects (POST → 303 → GET) with a banner; pages need no JavaScript.
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Admin, AdminContext } from '../domain/admin/index.ts';
import { accountActor } from '../domain/admin/index.ts';
import { ROLES } from '../domain/admin/users.ts';
import { GRANTS, type ClientInput } from '../domain/clients.ts';
import { badRequest, forbidden } from '../domain/errors.ts';
import { can, ROLE_LABEL, type Action, type Role } from '../domain/permissions.ts';
import { MAX_GRACE_DAYS } from '../domain/policy.ts';
import { isPartner, type TenantKind } from '../domain/kinds.ts';
import type { ViewRenderer } from '../http/views.ts';
import type { Console } from '../console/framework.ts';
import { bodyFields } from '../http/body.ts';
import { restrictFormAction } from '../http/security-headers.ts';
import { MAX_EXPORT_ROWS } from '../domain/admin/audit.ts';
import { ACCOUNT_MATCHING } from '../domain/kinds.ts';
import type { IdpAdmin, IdpPatch } from '../domain/federation/idps.ts';
import { IMPORT_COLUMNS, rowsFromFile, type UserImport } from '../domain/import/users.ts';
import { FORM_LIMIT_BYTES } from '../http/body.ts';
import type { PolicySwitchName } from '../domain/admin/policy.ts';

export const ADMIN_BASE = '/admin';

const KIND_LABEL = { platform: 'Platform', distributor: 'Distributor', sub_reseller: 'Sub-reseller', organization: 'Organization' } as const satisfies Record<TenantKind, string>;

const SWITCH_LABEL = {
  partner_users: 'Enforce MFA for all partner users',
  organizations: 'Enforce MFA for all organizations',
  partner_users_phr: 'Require phishing-resistant MFA for all partner users',
  organizations_phr: 'Require phishing-resistant MFA for all organizations',
} as const satisfies Record<PolicySwitchName, string>;

interface Section {
  key: 'users' | 'imports' | 'security' | 'clients' | 'tenants' | 'audit' | 'idps';
  label: string;
  href: string;
  action: Action;
  /** shown as well to whoever may do this action. */
  orAction?: Action;
  /** the role the action would give (inviting or importing users). */
  grantRole?: Role;
}

const SECTIONS: Section[] = [
  { key: 'users', label: 'User Management', href: `${ADMIN_BASE}/users`, action: 'view_users' },
  { key: 'imports', label: 'Import users', href: `${ADMIN_BASE}/imports`, action: 'invite_user', grantRole: 'user' },
  { key: 'security', label: 'Security Settings', href: `${ADMIN_BASE}/security`, action: 'view_policy' },
  { key: 'clients', label: 'Clients', href: `${ADMIN_BASE}/clients`, action: 'view_clients' },
  { key: 'tenants', label: 'Tenants', href: `${ADMIN_BASE}/tenants`, action: 'view_tenants' },
  { key: 'audit', label: 'Audit log', href: `${ADMIN_BASE}/audit`, action: 'view_audit' },
  // a partner's admins (who set its MFA policy) connect its identity providers; platform operators the global ones
  { key: 'idps', label: 'Identity providers', href: `${ADMIN_BASE}/idps`, action: 'set_policy', orAction: 'manage_platform' },
];

export interface AdminPagesOptions {
  admin: Admin;
  console: Console;
  views: ViewRenderer;
  /** no-store, form parsing, CSRF. */
  pageMiddleware: Middleware[];
  /** upstream identity providers (src/domain/federation/idps.ts). */
  idps: IdpAdmin;
  /** bulk import (src/domain/import/users.ts), the use case of the CLI's `user import` and the API's imports. */
  userImport: UserImport;
}

const text = (fields: Record<string, unknown>, name: string): string => {
  const v = fields[name];
  return typeof v === 'string' ? v : '';
};
const lines = (value: string) =>
  value
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter(Boolean);
const queryText = (ctx: Context, name: string): string | undefined => {
  const v = ctx.query[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};
const oneOf = <T extends string>(values: readonly T[], value: string | undefined): T | undefined =>
  value !== undefined && (values as readonly string[]).includes(value) ? (value as T) : undefined;

/** A datetime-local value (no zone) is read as UTC, as the form says. */
function utcInstant(value: string | undefined, name: string): Date | undefined {
  if (!value) return undefined;
  const normalised = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}Z` : value;
  const date = new Date(normalised);
  if (Number.isNaN(date.getTime())) throw badRequest(`${name} must be a date and time such as 2030-01-31T09:30 (UTC).`, 'invalid_time_range');
  return date;
}

const utcText = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Where a form goes back to: a page of this console, never elsewhere. */
const backTo = (value: string, fallback: string) => (value.startsWith(`${ADMIN_BASE}/`) && !value.startsWith('//') && !/[\\\r\n]/.test(value) ? value : fallback);

export function createAdminPages(options: AdminPagesOptions): Middleware {
  const { admin, console, views } = options;
  const router = new Router({ prefix: ADMIN_BASE });
  const page = options.pageMiddleware as unknown as RouterMiddleware[];
  const signedIn = console.requireUser() as unknown as RouterMiddleware;
  const recent = console.requireRecentAuth((ctx) => backTo(text(bodyFields(ctx), 'return_to'), `${ADMIN_BASE}/`)) as unknown as RouterMiddleware;

  const adminContext = (ctx: Context): AdminContext => {
    const { account } = console.user(ctx);
    return {
      actor: accountActor({ id: account.id, email: account.email, role: account.role, tenantId: account.tenant.id, platformOperator: account.platformOperator }),
      request: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined },
    };
  };

  const homeTarget = (ctx: Context) => {
    const { account } = console.user(ctx);
    return { tenantId: account.tenant.id, tenantParentId: account.tenant.parentId, tenantKind: account.tenant.kind };
  };

  const sectionsFor = (ctx: Context) => {
    const { actor } = adminContext(ctx);
    return SECTIONS.filter((s) => can(actor, s.action, { ...homeTarget(ctx), grantRole: s.grantRole }).allowed || (s.orAction !== undefined && can(actor, s.orAction, homeTarget(ctx)).allowed));
  };

  async function render(ctx: Context, template: string, current: Section['key'] | undefined, locals: Record<string, unknown>) {
    const { account } = console.user(ctx);
    const sections = sectionsFor(ctx);
    await views.render(ctx, template, {
      homeHref: `${ADMIN_BASE}/`,
      signedInAs: account.email,
      consoleNav: sections.map((s) => ({ ...s, current: s.key === current })),
      consoleTenant: { name: account.tenant.name, kind: KIND_LABEL[account.tenant.kind] },
      consoleBase: ADMIN_BASE,
      flash: await console.takeFlash(ctx),
      kindLabel: KIND_LABEL,
      wide: true,
      ...locals,
    });
  }

  const done = async (ctx: Context, to: string, kind: 'success' | 'info', message: string) => {
    await console.flash(ctx, { kind, text: message });
    ctx.status = 303;
    ctx.redirect(to);
  };

  // every form here posts to the console itself and redirects only within Gatehouse
  router.use(restrictFormAction(["'self'"]) as unknown as RouterMiddleware, ...page);
  router.use(signedIn);

  router.get('/', async (ctx) => {
    const first = sectionsFor(ctx)[0];
    if (!first) {
      ctx.status = 403;
      return render(ctx, 'admin/no-access', undefined, { title: 'No access to the admin console' });
    }
    ctx.redirect(first.href);
  });

  // ---- User Management ----
  router.get('/users', async (ctx) => {
    const c = adminContext(ctx);
    const filters = {
      tenant: queryText(ctx, 'tenant'),
      search: queryText(ctx, 'search'),
      role: oneOf(ROLES, queryText(ctx, 'role')),
      mfa: oneOf(['active', 'inactive'] as const, queryText(ctx, 'mfa')),
      status: oneOf(['active', 'disabled'] as const, queryText(ctx, 'status')),
      cursor: queryText(ctx, 'cursor'),
    };
    const result = await admin.users.list(c, { ...filters, limit: 50 });
    const tenants = await admin.users.scopeTenants(c);
    const target = (u: { id: string; role: Role }) => ({ accountId: u.id, role: u.role, tenantId: result.tenant.id, tenantParentId: result.tenant.parentId, tenantKind: result.tenant.kind });
    const tenantTarget = { tenantId: result.tenant.id, tenantParentId: result.tenant.parentId, tenantKind: result.tenant.kind };
    const rows = result.items.map((u) => {
      const t = target(u);
      const grantable = ROLES.filter((r) => r !== u.role && can(c.actor, 'change_role', { ...t, grantRole: r }).allowed);
      return {
        ...u,
        grantable: grantable.map((r) => ({ value: r, label: ROLE_LABEL[r] })),
        canDeactivate: u.status === 'active' && can(c.actor, 'deactivate_user', t).allowed,
        canReactivate: u.status === 'disabled' && can(c.actor, 'reactivate_user', t).allowed,
        canEndSessions: can(c.actor, 'end_sessions', t).allowed,
        canResetMfa: can(c.actor, 'reset_mfa', t).allowed,
        canResendInvitation: u.invitationPending && u.status === 'active' && can(c.actor, 'invite_user', { ...t, grantRole: u.role }).allowed,
      };
    });
    const query = new URLSearchParams(Object.entries({ ...filters, cursor: undefined }).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const next = result.nextCursor ? `${ADMIN_BASE}/users?${new URLSearchParams({ ...Object.fromEntries(query), cursor: result.nextCursor })}` : undefined;
    await render(ctx, 'admin/users', 'users', {
      title: 'User Management',
      tenant: result.tenant,
      tenants,
      filters,
      rows,
      roles: ROLES.map((r) => ({ value: r, label: ROLE_LABEL[r] })),
      invitableRoles: ROLES.filter((r) => can(c.actor, 'invite_user', { ...tenantTarget, grantRole: r }).allowed).map((r) => ({ value: r, label: ROLE_LABEL[r] })),
      nextHref: next,
      firstHref: filters.cursor ? `${ADMIN_BASE}/users?${query}` : undefined,
      returnTo: ctx.originalUrl,
    });
  });

  router.post('/users/:id/role', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const role = oneOf(ROLES, text(fields, 'role'));
    if (!role) throw badRequest('Choose a role.', 'invalid_role');
    const user = await admin.users.changeRole(adminContext(ctx), ctx.params.id ?? '', role);
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `${user.email} is now ${ROLE_LABEL[role]}.`);
  });

  router.post('/users/:id/deactivate', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const user = await admin.users.deactivate(adminContext(ctx), ctx.params.id ?? '');
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `${user.email} was deactivated and signed out everywhere.`);
  });

  router.post('/users/:id/reactivate', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const user = await admin.users.reactivate(adminContext(ctx), ctx.params.id ?? '');
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `${user.email} can sign in again.`);
  });

  router.post('/users/:id/sessions/end', async (ctx) => {
    const fields = bodyFields(ctx);
    const c = adminContext(ctx);
    const user = await admin.users.get(c, ctx.params.id ?? '');
    const { sessionsEnded } = await admin.users.endSessions(c, user.id);
    const what = sessionsEnded === 1 ? '1 session ended' : `${sessionsEnded} sessions ended`;
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `${user.email} was signed out everywhere (${what}).`);
  });

  router.post('/users/invite', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const role = oneOf(ROLES, text(fields, 'role'));
    if (!role) throw badRequest('Choose a role.', 'invalid_role');
    const { user, expiresAt } = await admin.invitations.invite(adminContext(ctx), { tenant: text(fields, 'tenant') || undefined, email: text(fields, 'email'), name: text(fields, 'name'), role });
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `An invitation was sent to ${user.email}. The link works once, until ${utcText(expiresAt)}.`);
  });

  router.post('/users/:id/invitation', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const { user, expiresAt } = await admin.invitations.resend(adminContext(ctx), ctx.params.id ?? '');
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `The invitation was sent to ${user.email} again, valid until ${utcText(expiresAt)}. Earlier invitation links no longer work.`);
  });

  // NinjaOne: row menu → Reset MFA → a confirmation step → "Yes, Continue". Without JavaScript the
  // confirmation is a page of its own; the use case decides again when the form is posted.
  router.get('/users/:id/mfa/reset', async (ctx) => {
    const user = await admin.users.beforeResetMfa(adminContext(ctx), ctx.params.id ?? '');
    await render(ctx, 'admin/reset-mfa', 'users', { title: 'Reset MFA', user, returnTo: backTo(queryText(ctx, 'return_to') ?? '', `${ADMIN_BASE}/users`) });
  });

  router.post('/users/:id/mfa/reset', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const result = await admin.users.resetMfa(adminContext(ctx), ctx.params.id ?? '');
    const next = result.setupRequired ? 'set up MFA again at their next sign-in' : 'set up MFA again when they choose to';
    await done(ctx, backTo(text(fields, 'return_to'), `${ADMIN_BASE}/users`), 'success', `MFA was reset for ${result.email}. A reset confirmation email was sent, asking them to ${next}.`);
  });

  // ---- Security Settings → MFA Policy ----
  router.get('/security', async (ctx) => {
    const c = adminContext(ctx);
    const { account } = console.user(ctx);
    if (!isPartner(account.tenant.kind)) {
      return render(ctx, 'admin/security', 'security', { title: 'Security Settings', policy: undefined, canSet: false, maxGraceDays: MAX_GRACE_DAYS });
    }
    const policy = await admin.policy.get(c);
    await render(ctx, 'admin/security', 'security', {
      title: 'Security Settings',
      policy,
      canSet: can(c.actor, 'set_policy', homeTarget(ctx)).allowed,
      maxGraceDays: MAX_GRACE_DAYS,
      switchLabel: SWITCH_LABEL,
    });
  });

  router.post('/security/mfa-policy', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const grace = text(fields, 'grace_days').trim();
    if (!/^\d{1,2}$/.test(grace)) throw badRequest(`The grace period is a whole number of days from 0 to ${MAX_GRACE_DAYS}.`, 'invalid_grace_period');
    const result = await admin.policy.set(adminContext(ctx), undefined, {
      partnerUsers: text(fields, 'enforce_mfa_partner_users') === 'on',
      organizations: text(fields, 'enforce_mfa_organizations') === 'on',
      partnerUsersPhr: text(fields, 'enforce_phr_partner_users') === 'on',
      organizationsPhr: text(fields, 'enforce_phr_organizations') === 'on',
      graceDays: Number(grace),
    });
    const parts = ['Your MFA policy settings were saved.'];
    for (const on of result.turnedOn) {
      const n = on.accountsWithoutMfa;
      const missing = on.switch.endsWith('_phr') ? 'no passkey or security key yet and will be asked to add one' : 'no MFA yet and will be asked to set it up';
      parts.push(`${SWITCH_LABEL[on.switch]} is now active: ${n === 1 ? '1 account in scope has' : `${n} accounts in scope have`} ${missing} at the next sign-in.`);
    }
    if (result.turnedOn.length > 0) parts.push('All roles, including owners, administrators and your own account, are required to set up and use MFA.');
    for (const off of result.turnedOff) parts.push(`${SWITCH_LABEL[off]} is now off.`);
    await done(ctx, `${ADMIN_BASE}/security`, 'success', parts.join(' '));
  });

  // ---- Clients ----
  const clientForm = (fields: Record<string, unknown>, creating: boolean): ClientInput => ({
    name: text(fields, 'name'),
    redirectUris: lines(text(fields, 'redirect_uris')),
    postLogoutRedirectUris: lines(text(fields, 'post_logout_redirect_uris')),
    grants: GRANTS.filter((g) => text(fields, `grant_${g}`) === 'on'),
    ...(creating ? { public: text(fields, 'public') === 'on' } : {}),
    firstParty: text(fields, 'first_party') === 'on',
    requireMfa: text(fields, 'require_mfa') === 'on',
    requirePhishingResistantMfa: text(fields, 'require_phishing_resistant_mfa') === 'on',
    scope: text(fields, 'scope').trim() || undefined,
    tenantId: text(fields, 'tenant_id') || undefined,
    idTokenAlg: text(fields, 'id_token_alg') === 'RS256' ? 'RS256' : 'ES256',
    backchannelLogoutUri: text(fields, 'backchannel_logout_uri').trim() || undefined,
  });

  const canManageClients = (ctx: Context) => can(adminContext(ctx).actor, 'manage_clients', homeTarget(ctx)).allowed;
  const allTenants = async (ctx: Context) => (canManageClients(ctx) ? (await admin.tenants.list(adminContext(ctx))).tenants : []);

  router.get('/clients', async (ctx) => {
    const clients = await admin.clients.list(adminContext(ctx));
    await render(ctx, 'admin/clients', 'clients', { title: 'Clients', clients, canManage: canManageClients(ctx) });
  });

  router.get('/clients/new', async (ctx) => {
    if (!canManageClients(ctx)) throw forbidden('Only platform operators register clients.');
    await render(ctx, 'admin/client-form', 'clients', { title: 'Register a client', client: undefined, tenants: await allTenants(ctx), grants: GRANTS });
  });

  router.post('/clients', recent, async (ctx) => {
    const { client, clientSecret } = await admin.clients.create(adminContext(ctx), clientForm(bodyFields(ctx), true));
    await render(ctx, 'admin/client-secret', 'clients', { title: 'Client registered', client, clientSecret, created: true });
  });

  router.get('/clients/:id', async (ctx) => {
    const client = await admin.clients.get(adminContext(ctx), ctx.params.id ?? '');
    await render(ctx, 'admin/client-form', 'clients', { title: client.name, client, tenants: await allTenants(ctx), grants: GRANTS, canManage: canManageClients(ctx) && !client.system });
  });

  router.post('/clients/:id', recent, async (ctx) => {
    const client = await admin.clients.update(adminContext(ctx), ctx.params.id ?? '', { ...clientForm(bodyFields(ctx), false), tenantId: text(bodyFields(ctx), 'tenant_id') || null });
    await done(ctx, `${ADMIN_BASE}/clients/${encodeURIComponent(client.clientId)}`, 'success', `${client.name} was saved.`);
  });

  router.post('/clients/:id/disable', recent, async (ctx) => {
    const client = await admin.clients.setDisabled(adminContext(ctx), ctx.params.id ?? '', true);
    await done(ctx, `${ADMIN_BASE}/clients/${encodeURIComponent(client.clientId)}`, 'success', `${client.name} is disabled: it can no longer sign users in.`);
  });

  router.post('/clients/:id/enable', recent, async (ctx) => {
    const client = await admin.clients.setDisabled(adminContext(ctx), ctx.params.id ?? '', false);
    await done(ctx, `${ADMIN_BASE}/clients/${encodeURIComponent(client.clientId)}`, 'success', `${client.name} is enabled again.`);
  });

  router.post('/clients/:id/secret', recent, async (ctx) => {
    const { client, clientSecret } = await admin.clients.rotateSecret(adminContext(ctx), ctx.params.id ?? '');
    await render(ctx, 'admin/client-secret', 'clients', { title: 'New client secret', client, clientSecret, created: false });
  });

  router.post('/clients/:id/delete', recent, async (ctx) => {
    if (text(bodyFields(ctx), 'confirm') !== 'yes') throw badRequest('Tick "Yes, delete this client" to confirm.', 'confirmation_required');
    const c = adminContext(ctx);
    const client = await admin.clients.get(c, ctx.params.id ?? '');
    await admin.clients.remove(c, client.clientId);
    await done(ctx, `${ADMIN_BASE}/clients`, 'success', `${client.name} was deleted.`);
  });

  // ---- Tenants ----
  router.get('/tenants', async (ctx) => {
    const c = adminContext(ctx);
    const { home, tenants } = await admin.tenants.list(c);
    const kinds = await admin.tenants.creatableKinds(c);
    const creatable = kinds.filter((k) => can(c.actor, 'create_tenant', { ...homeTarget(ctx), childKind: k }).allowed || c.actor.platformOperator);
    await render(ctx, 'admin/tenants', 'tenants', { title: 'Tenants', home, tenants, creatable, parents: c.actor.platformOperator ? tenants.filter((t) => t.kind !== 'organization') : [] });
  });

  router.post('/tenants', async (ctx) => {
    const fields = bodyFields(ctx);
    const created = await admin.tenants.create(adminContext(ctx), { kind: text(fields, 'kind'), name: text(fields, 'name'), parent: text(fields, 'parent') || undefined });
    await done(ctx, `${ADMIN_BASE}/tenants`, 'success', `${KIND_LABEL[created.kind]} “${created.name}” was created.`);
  });

  // ---- Identity providers ----
  const idpForm = (fields: Record<string, unknown>): IdpPatch => {
    const secret = text(fields, 'client_secret');
    return {
      displayName: text(fields, 'display_name'),
      issuer: text(fields, 'issuer'),
      clientId: text(fields, 'client_id'),
      ...(secret ? { clientSecret: secret } : {}),
      scopes: text(fields, 'scopes') || 'openid email profile',
      allowedDomains: lines(text(fields, 'allowed_domains').replace(/[,\s]+/g, '\n')),
      accountMatching: oneOf(ACCOUNT_MATCHING, text(fields, 'account_matching')) ?? 'link',
      defaultRole: oneOf(ROLES, text(fields, 'default_role')) ?? 'user',
      mfaAcrValues: lines(text(fields, 'mfa_acr_values')),
      trustUpstreamMfa: text(fields, 'trust_upstream_mfa') === 'on',
      enabled: text(fields, 'enabled') === 'on',
    };
  };
  const idpTenantChoices = (ctx: Context) => {
    const { actor } = adminContext(ctx);
    const { account } = console.user(ctx);
    const own = isPartner(account.tenant.kind) && can(actor, 'set_policy', homeTarget(ctx)).allowed ? [{ value: account.tenant.id, label: `${account.tenant.name} only` }] : [];
    return [...(actor.platformOperator ? [{ value: '', label: 'Every tenant (global)' }] : []), ...own];
  };

  router.get('/idps', async (ctx) => {
    const idps = await options.idps.list(adminContext(ctx));
    await render(ctx, 'admin/idps', 'idps', { title: 'Identity providers', idps, idp: undefined, tenantChoices: idpTenantChoices(ctx), matchings: ACCOUNT_MATCHING, roles: ROLES });
  });

  router.post('/idps', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const form = idpForm(fields);
    const tenant = text(fields, 'tenant');
    const created = await options.idps.create(adminContext(ctx), { ...form, displayName: form.displayName ?? '', issuer: form.issuer ?? '', clientId: form.clientId ?? '', ...(tenant ? { tenant } : {}) });
    await done(ctx, `${ADMIN_BASE}/idps/${created.id}`, 'success', `${created.displayName} is connected. Users see “Sign in with ${created.displayName}” on the sign-in page.`);
  });

  router.get('/idps/:id', async (ctx) => {
    const idp = await options.idps.get(adminContext(ctx), ctx.params.id ?? '');
    await render(ctx, 'admin/idps', 'idps', { title: idp.displayName, idps: undefined, idp, tenantChoices: [], matchings: ACCOUNT_MATCHING, roles: ROLES });
  });

  router.post('/idps/:id', recent, async (ctx) => {
    const idp = await options.idps.update(adminContext(ctx), ctx.params.id ?? '', idpForm(bodyFields(ctx)));
    await done(ctx, `${ADMIN_BASE}/idps/${idp.id}`, 'success', `${idp.displayName} was saved.`);
  });

  router.post('/idps/:id/delete', recent, async (ctx) => {
    if (text(bodyFields(ctx), 'confirm') !== 'yes') throw badRequest('Tick "Yes, remove this identity provider" to confirm.', 'confirmation_required');
    const c = adminContext(ctx);
    const idp = await options.idps.get(c, ctx.params.id ?? '');
    await options.idps.remove(c, idp.id);
    await done(ctx, `${ADMIN_BASE}/idps`, 'success', `${idp.displayName} was removed.`);
  });

  // ---- Import users (the bulk import of `gatehouse user import` and POST /api/v1/tenants/{t}/imports) ----
  const importPage = async (ctx: Context, locals: Record<string, unknown>) => {
    const tenants = await admin.users.scopeTenants(adminContext(ctx));
    await render(ctx, 'admin/imports', 'imports', { title: 'Import users', tenants, columns: IMPORT_COLUMNS, limitKb: Math.floor(FORM_LIMIT_BYTES / 1024), report: undefined, form: {}, ...locals });
  };

  router.get('/imports', async (ctx) => importPage(ctx, {}));

  // the report is the answer: one row per user is too much for a banner, so this POST renders it
  router.post('/imports', recent, async (ctx) => {
    const fields = bodyFields(ctx);
    const format = oneOf(['csv', 'json'] as const, text(fields, 'format'));
    if (!format) throw badRequest('Choose CSV or JSON.', 'invalid_import');
    const content = text(fields, 'content');
    if (content.trim() === '') throw badRequest('Paste the users to import.', 'invalid_import');
    const tenant = text(fields, 'tenant');
    if (!tenant) throw badRequest('Choose the tenant to import into.', 'invalid_import');
    const dryRun = text(fields, 'dry_run') === 'on';
    const report = await options.userImport.run(adminContext(ctx), { tenant, rows: rowsFromFile(`pasted.${format}`, content), dryRun });
    await importPage(ctx, { report, form: { tenant, format, content, dryRun } });
  });

  // ---- Audit log ----
  const auditFilter = (ctx: Context) => ({
    actor: queryText(ctx, 'actor'),
    target: queryText(ctx, 'target'),
    action: queryText(ctx, 'action'),
    tenant: queryText(ctx, 'tenant'),
    since: utcInstant(queryText(ctx, 'since'), 'From'),
    until: utcInstant(queryText(ctx, 'until'), 'Until'),
  });
  const auditQuery = (ctx: Context) =>
    new URLSearchParams(['actor', 'target', 'action', 'tenant', 'since', 'until'].flatMap((k) => (queryText(ctx, k) ? [[k, queryText(ctx, k) as string]] : [])));

  router.get('/audit', async (ctx) => {
    const c = adminContext(ctx);
    const filter = auditFilter(ctx);
    const result = await admin.audit.list(c, { ...filter, limit: 50, cursor: queryText(ctx, 'cursor') });
    const query = auditQuery(ctx);
    const tenants = c.actor.platformOperator ? (await admin.tenants.list(c)).tenants : await admin.users.scopeTenants(c);
    await render(ctx, 'admin/audit', 'audit', {
      title: 'Audit log',
      items: result.items,
      filter: Object.fromEntries(query),
      tenants,
      csvHref: `${ADMIN_BASE}/audit.csv${query.size ? `?${query}` : ''}`,
      nextHref: result.nextCursor ? `${ADMIN_BASE}/audit?${new URLSearchParams({ ...Object.fromEntries(query), cursor: result.nextCursor })}` : undefined,
      firstHref: queryText(ctx, 'cursor') ? `${ADMIN_BASE}/audit${query.size ? `?${query}` : ''}` : undefined,
      maxExport: MAX_EXPORT_ROWS,
    });
  });

  router.get('/audit.csv', async (ctx) => {
    const { lines: csv } = await admin.audit.exportCsv(adminContext(ctx), auditFilter(ctx));
    ctx.set('Content-Type', 'text/csv; charset=utf-8');
    ctx.set('Content-Disposition', 'attachment; filename="gatehouse-audit.csv"');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = `${csv.join('\r\n')}\r\n`;
  });

  const consoleRoutes = console.routes(options.pageMiddleware);
  const signedOut = new Router({ prefix: ADMIN_BASE });
  signedOut.get('/signed-out', async (ctx) => {
    await views.render(ctx as unknown as Context, 'console/signed-out', { title: 'Signed out', signInHref: `${ADMIN_BASE}/login`, consoleName: 'the admin console' });
  });
  const pages = router.routes() as unknown as Middleware;
  const outPage = signedOut.routes() as unknown as Middleware;
  return (ctx, next) => consoleRoutes(ctx, () => outPage(ctx, () => pages(ctx, next)));
}
