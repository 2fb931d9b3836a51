// The admin use cases on the command line. The CLI is the trusted local operator (whoever can run it
// can read the database anyway): it may do everything, and every change it makes is audited with
// actor `cli`. The same use cases serve /admin and /api/v1.
import type { Runtime } from '../runtime.ts';
import { createAdmin, cliActor, type Admin, type AdminContext } from '../domain/admin/index.ts';
import { ROLES } from '../domain/admin/users.ts';
import { clientJson, policyJson, userJson } from '../domain/admin/json.ts';
import { GRANTS, type Grant } from '../domain/clients.ts';
import { badRequest, notFound } from '../domain/errors.ts';
import type { Role } from '../domain/permissions.ts';
import { bootstrapOf } from '../setup/routes.ts';
import { tenantTreePolicy } from '../domain/mfa/policy-source.ts';
import type { Command } from './commands.ts';
import { UsageError, list, need, onOff, str, type Flags } from './flags.ts';

const yesNo = (flags: Flags, name: string): boolean | undefined => {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  if (v !== 'yes' && v !== 'no') throw new UsageError(`--${name} is yes or no`);
  return v === 'yes';
};
const wholeNumber = (flags: Flags, name: string): number | undefined => {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} is a whole number`);
  return Number(v);
};
const instant = (flags: Flags, name: string): Date | undefined => {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} is a date and time such as 2030-01-31T09:30:00Z`);
  return d;
};
const json = (v: unknown) => JSON.stringify(v, null, 2);
const table = (rows: Record<string, unknown>[], columns: string[]) =>
  rows.length === 0 ? '(none)' : [columns.join('\t'), ...rows.map((r) => columns.map((c) => String(r[c] ?? '')).join('\t'))].join('\n');

/** The admin use cases, acting as the command line. */
async function asCli(runtime: Runtime): Promise<{ admin: Admin; ctx: AdminContext }> {
  const platform = await bootstrapOf(runtime).platform();
  const admin = createAdmin({ repos: runtime.repos, events: runtime.events, endSessions: runtime.sessions.end, policy: tenantTreePolicy, links: runtime.links, postbox: runtime.mail.postbox });
  return { admin, ctx: { actor: cliActor(platform.id), request: { requestId: 'cli' } } };
}

const policyText = (r: unknown) => {
  const p = r as ReturnType<typeof policyJson> & { turned_on?: { switch: string; accounts_without_mfa: number }[] };
  const lines = [
    `MFA policy of ${p.tenant.slug} (${p.tenant.kind})`,
    `  Enforce MFA for all partner users: ${p.enforce_mfa_partner_users.on ? 'on' : 'off'} (${p.enforce_mfa_partner_users.accounts_without_mfa} without MFA)`,
    `  Enforce MFA for all organizations: ${p.enforce_mfa_organizations.on ? 'on' : 'off'} (${p.enforce_mfa_organizations.accounts_without_mfa} without MFA in ${p.enforce_mfa_organizations.organization_count} organizations)`,
    `  Require phishing-resistant MFA for all partner users: ${p.enforce_mfa_partner_users.phishing_resistant.on ? 'on' : 'off'} (${p.enforce_mfa_partner_users.phishing_resistant.accounts_without_passkey} without a passkey)`,
    `  Require phishing-resistant MFA for all organizations: ${p.enforce_mfa_organizations.phishing_resistant.on ? 'on' : 'off'} (${p.enforce_mfa_organizations.phishing_resistant.accounts_without_passkey} without a passkey)`,
    `  Grace period: ${p.grace_days} days`,
  ];
  for (const on of p.turned_on ?? []) {
    lines.push(`Turned on ${on.switch}: ${on.accounts_without_mfa} accounts in scope have ${on.switch.endsWith('_phr') ? 'no passkey' : 'no MFA'} yet.`);
  }
  return lines.join('\n');
};

const policyChange = (flags: Flags) => ({
  partnerUsers: onOff(flags, 'partner-users'),
  organizations: onOff(flags, 'organizations'),
  partnerUsersPhr: onOff(flags, 'partner-users-phr'),
  organizationsPhr: onOff(flags, 'organizations-phr'),
  graceDays: wholeNumber(flags, 'grace-days'),
});

async function userByEmail(admin: Admin, ctx: AdminContext, flags: Flags) {
  return admin.users.findByEmail(ctx, need(flags, 'tenant'), need(flags, 'email'));
}

const userFlags = {
  tenant: { type: 'string', required: true, description: 'tenant id or slug' },
  email: { type: 'string', required: true, description: 'email of the account in that tenant' },
} as const;

const clientFlag = { 'client-id': { type: 'string', required: true, description: 'the client id' } } as const;

export const adminCommands: Record<string, Command> = {
  'policy show': {
    summary: "show a partner's MFA policy and how many accounts have no MFA yet",
    flags: { tenant: { type: 'string', required: true, description: 'partner tenant id or slug' } },
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      return policyJson(await admin.policy.get(ctx, need(flags, 'tenant')));
    },
    text: policyText,
  },

  'policy set': {
    summary: 'enforce MFA (or phishing-resistant MFA) for the partner users and/or the organizations of a partner tenant',
    flags: {
      tenant: { type: 'string', required: true, description: 'partner tenant (distributor or sub-reseller) id or slug' },
      'partner-users': { type: 'string', description: 'on | off: Enforce MFA for all partner users' },
      organizations: { type: 'string', description: 'on | off: Enforce MFA for all organizations directly under the partner' },
      'partner-users-phr': { type: 'string', description: 'on | off: Require phishing-resistant MFA (a passkey or security key) for all partner users' },
      'organizations-phr': { type: 'string', description: 'on | off: Require phishing-resistant MFA for all organizations directly under the partner' },
      'grace-days': { type: 'string', description: '0–30: days after a switch is turned on during which users may set up MFA later' },
    },
    check(flags) {
      if (Object.values(policyChange(flags)).every((v) => v === undefined)) {
        throw new UsageError('give at least one of --partner-users, --organizations, --partner-users-phr, --organizations-phr, --grace-days');
      }
    },
    async run(runtime, flags) {
      const change = policyChange(flags);
      const { admin, ctx } = await asCli(runtime);
      const result = await admin.policy.set(ctx, need(flags, 'tenant'), change);
      return { ...policyJson(result.policy), turned_on: result.turnedOn.map((t) => ({ switch: t.switch, accounts_without_mfa: t.accountsWithoutMfa })), turned_off: result.turnedOff };
    },
    text: policyText,
  },

  'user list': {
    summary: 'list the users of a tenant with their MFA Status',
    flags: {
      tenant: { type: 'string', required: true, description: 'tenant id or slug' },
      mfa: { type: 'string', description: 'active | inactive' },
      role: { type: 'string', description: ROLES.join(' | ') },
      status: { type: 'string', description: 'active | disabled' },
      search: { type: 'string', description: 'part of the email address or name' },
      limit: { type: 'string', description: 'page size (default 50, at most 200)' },
      cursor: { type: 'string', description: 'next_cursor of the previous page' },
    },
    check(flags) {
      const mfa = str(flags, 'mfa');
      if (mfa !== undefined && mfa !== 'active' && mfa !== 'inactive') throw new UsageError('--mfa is active or inactive');
      const role = str(flags, 'role');
      if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
      const status = str(flags, 'status');
      if (status !== undefined && status !== 'active' && status !== 'disabled') throw new UsageError('--status is active or disabled');
      wholeNumber(flags, 'limit');
    },
    async run(runtime, flags) {
      const mfa = str(flags, 'mfa') as 'active' | 'inactive' | undefined;
      const role = str(flags, 'role');
      const status = str(flags, 'status') as 'active' | 'disabled' | undefined;
      const { admin, ctx } = await asCli(runtime);
      const page = await admin.users.list(ctx, {
        tenant: need(flags, 'tenant'),
        mfa,
        role: role as Role | undefined,
        status,
        search: str(flags, 'search'),
        limit: wholeNumber(flags, 'limit'),
        cursor: str(flags, 'cursor'),
      });
      return { tenant: page.tenant.slug, users: page.items.map(userJson), next_cursor: page.nextCursor };
    },
    text(r) {
      const p = r as { users: Record<string, unknown>[]; next_cursor: string | null };
      return `${table(p.users, ['email', 'name', 'role', 'status', 'mfa_status', 'last_sign_in_at'])}${p.next_cursor ? `\n(more: --cursor ${p.next_cursor})` : ''}`;
    },
  },

  'user role set': {
    summary: "change a user's role",
    flags: { ...userFlags, role: { type: 'string', required: true, description: ROLES.join(' | ') } },
    check(flags) {
      if (!(ROLES as readonly string[]).includes(need(flags, 'role'))) throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
    },
    async run(runtime, flags) {
      const role = need(flags, 'role');
      const { admin, ctx } = await asCli(runtime);
      const user = await userByEmail(admin, ctx, flags);
      return userJson(await admin.users.changeRole(ctx, user.id, role as Role));
    },
    text: (r) => json(r),
  },

  'user disable': {
    summary: 'deactivate a user: no more sign-ins, every session ended',
    flags: userFlags,
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      const user = await userByEmail(admin, ctx, flags);
      const result = await admin.users.deactivate(ctx, user.id);
      return { ...userJson(result), sessions_ended: result.sessionsEnded };
    },
    text: (r) => json(r),
  },

  'user enable': {
    summary: 'reactivate a deactivated user',
    flags: userFlags,
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      const user = await userByEmail(admin, ctx, flags);
      return userJson(await admin.users.reactivate(ctx, user.id));
    },
    text: (r) => json(r),
  },

  'user invite': {
    summary: 'create an account without a password and email the user a single-use link to choose one',
    flags: {
      ...userFlags,
      name: { type: 'string', description: 'the user’s name' },
      role: { type: 'string', description: `${ROLES.join(' | ')} (default user)` },
      resend: { type: 'boolean', description: 'send a new link to an account already invited (earlier links stop working)' },
    },
    check(flags) {
      const role = str(flags, 'role');
      if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
    },
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      const result = flags.resend === true
        ? await admin.invitations.resend(ctx, (await userByEmail(admin, ctx, flags)).id)
        : await admin.invitations.invite(ctx, { tenant: need(flags, 'tenant'), email: need(flags, 'email'), name: str(flags, 'name'), role: str(flags, 'role') as Role | undefined });
      return { ...userJson(result.user), invitation_expires_at: result.expiresAt.toISOString(), note: 'the invitation mail is queued; a running server delivers it' };
    },
    text: (r) => json(r),
  },

  'user mfa reset': {
    summary: "reset a user's MFA: authenticators, recovery codes and lockout removed, sessions ended, the user mailed to set it up again",
    flags: userFlags,
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      const user = await userByEmail(admin, ctx, flags);
      const result = await admin.users.resetMfa(ctx, user.id);
      return {
        ...userJson(result),
        authenticators_removed: result.authenticatorsRemoved,
        recovery_codes_removed: result.recoveryCodesRemoved,
        sessions_ended: result.sessionsEnded,
        setup_required_at_next_sign_in: result.setupRequired,
      };
    },
    text: (r) => json(r),
  },

  'audit list': {
    summary: 'read the audit log, newest first',
    flags: {
      actor: { type: 'string', description: 'account id, cli, or client:<client_id>' },
      since: { type: 'string', description: 'events at or after this instant (ISO 8601)' },
      until: { type: 'string', description: 'events before this instant (ISO 8601)' },
      action: { type: 'string', description: 'event name, e.g. mfa.policy.updated' },
      target: { type: 'string', description: 'the account, tenant or client acted on' },
      tenant: { type: 'string', description: 'tenant id or slug' },
      limit: { type: 'string', description: 'how many (default 50, at most 200)' },
      cursor: { type: 'string', description: 'next_cursor of the previous page' },
    },
    check(flags) {
      instant(flags, 'since');
      instant(flags, 'until');
      wholeNumber(flags, 'limit');
    },
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      const page = await admin.audit.list(ctx, {
        actor: str(flags, 'actor'),
        since: instant(flags, 'since'),
        until: instant(flags, 'until'),
        action: str(flags, 'action'),
        target: str(flags, 'target'),
        tenant: str(flags, 'tenant'),
        limit: wholeNumber(flags, 'limit'),
        cursor: str(flags, 'cursor'),
      });
      return { events: page.items.map((e) => ({ ...e, at: e.at.toISOString() })), next_cursor: page.nextCursor };
    },
    text(r) {
      const p = r as { events: Record<string, unknown>[]; next_cursor: string | null };
      return `${table(p.events, ['at', 'action', 'actor', 'tenantId', 'target'])}${p.next_cursor ? `\n(more: --cursor ${p.next_cursor})` : ''}`;
    },
  },

  'client update': {
    summary: "change a client's settings (the whole client is validated again)",
    flags: {
      ...clientFlag,
      name: { type: 'string', description: 'application name' },
      'redirect-uri': { type: 'string', multiple: true, description: 'replaces the redirect URIs (repeat for several)' },
      'post-logout-redirect-uri': { type: 'string', multiple: true, description: 'replaces the post-logout redirect URIs' },
      grant: { type: 'string', multiple: true, description: `replaces the grant types: ${GRANTS.join(' | ')} (repeat)` },
      'first-party': { type: 'string', description: 'yes | no' },
      'require-mfa': { type: 'string', description: 'yes | no' },
      'require-phishing-resistant-mfa': { type: 'string', description: 'yes | no: only a passkey or security key (acr phr) signs in to this client' },
      scope: { type: 'string', description: 'allowed scopes, space separated' },
      tenant: { type: 'string', description: 'bind to this tenant (id or slug); "none" unbinds' },
      'backchannel-logout-uri': { type: 'string', description: 'back-channel logout endpoint' },
    },
    check(flags) {
      if (list(flags, 'grant')?.some((g) => !(GRANTS as readonly string[]).includes(g))) throw new UsageError(`--grant is one of ${GRANTS.join(', ')}`);
      yesNo(flags, 'first-party');
      yesNo(flags, 'require-mfa');
      yesNo(flags, 'require-phishing-resistant-mfa');
    },
    async run(runtime, flags) {
      const grants = list(flags, 'grant');
      const { admin, ctx } = await asCli(runtime);
      const tenantRef = str(flags, 'tenant');
      let tenantId: string | null | undefined;
      if (tenantRef === 'none') tenantId = null;
      else if (tenantRef !== undefined) {
        const tenant = await runtime.repos.tenants.findByIdOrSlug(tenantRef);
        if (!tenant) throw notFound(`No tenant with id or slug "${tenantRef}".`, 'tenant_not_found');
        tenantId = tenant.id;
      }
      const patch = {
        name: str(flags, 'name'),
        redirectUris: list(flags, 'redirect-uri'),
        postLogoutRedirectUris: list(flags, 'post-logout-redirect-uri'),
        grants: grants as Grant[] | undefined,
        firstParty: yesNo(flags, 'first-party'),
        requireMfa: yesNo(flags, 'require-mfa'),
        requirePhishingResistantMfa: yesNo(flags, 'require-phishing-resistant-mfa'),
        scope: str(flags, 'scope'),
        backchannelLogoutUri: str(flags, 'backchannel-logout-uri'),
        tenantId,
      };
      if (Object.values(patch).every((v) => v === undefined)) throw badRequest('Nothing to change: give at least one setting.', 'invalid_request');
      return clientJson(await admin.clients.update(ctx, need(flags, 'client-id'), patch));
    },
    text: (r) => json(r),
  },

  'client disable': {
    summary: 'disable a client: it can no longer sign users in or get tokens',
    flags: clientFlag,
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      return clientJson(await admin.clients.setDisabled(ctx, need(flags, 'client-id'), true));
    },
    text: (r) => json(r),
  },

  'client enable': {
    summary: 'enable a disabled client again',
    flags: clientFlag,
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      return clientJson(await admin.clients.setDisabled(ctx, need(flags, 'client-id'), false));
    },
    text: (r) => json(r),
  },

  'client rotate-secret': {
    summary: "replace a client's secret (the new one is shown once; the old one stops working)",
    flags: clientFlag,
    async run(runtime, flags) {
      const { admin, ctx } = await asCli(runtime);
      const { client, clientSecret } = await admin.clients.rotateSecret(ctx, need(flags, 'client-id'));
      return { client_id: client.clientId, client_secret: clientSecret };
    },
    text(r) {
      const c = r as { client_id: string; client_secret: string };
      return `client_id:     ${c.client_id}\nclient_secret: ${c.client_secret}\n(the secret is shown only now; store it safely — the previous one no longer works)`;
    },
  },
};
