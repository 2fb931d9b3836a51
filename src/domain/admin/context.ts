// What every admin use case shares: who acts (an account, a service client, the command line), the
// authorization step that comes before any work (can() + an audit event when refused), and the
// audit fields of an actor. Pages, the JSON API and the CLI build an AdminActor and call the same use case.
import type { Repos } from '../../store/repos.ts';
import type { Tenant } from '../../store/repositories/tenants.ts';
import { forbidden, notFound } from '../errors.ts';
import type { RequestInfo, SecurityEvent, SecurityEvents } from '../events.ts';
import { can, type Action, type Actor, type Target } from '../permissions.ts';
import type { SessionEnding } from '../sessions.ts';
import type { MfaPolicySource } from '../mfa/policy-source.ts';
import type { OneTimeLinks } from '../one-time-links.ts';
import type { Postbox } from '../notices.ts';

export interface AdminActor extends Actor {
  kind: 'account' | 'service' | 'cli';
  /** what the audit log and pages show: an email, `client:<id>`, or `cli`. */
  display: string;
  /** a service's granted API scopes; undefined for accounts and the CLI (their role decides). */
  scopes?: ReadonlySet<string> | undefined;
}

export function accountActor(account: { id: string; email: string; role: Actor['role']; tenantId: string; platformOperator: boolean }): AdminActor {
  return { kind: 'account', accountId: account.id, display: account.email, role: account.role, tenantId: account.tenantId, platformOperator: account.platformOperator };
}

/**
 * A service client bound to a tenant acts as an admin of that tenant; one bound to the platform
 * tenant acts for the platform (manages clients and tenants). Its scopes narrow it at the API.
 */
export function serviceActor(client: { clientId: string; tenantId: string }, tenantKind: Tenant['kind'], scopes: ReadonlySet<string>): AdminActor {
  return {
    kind: 'service',
    accountId: `client:${client.clientId}`,
    display: `client:${client.clientId}`,
    role: 'admin',
    tenantId: client.tenantId,
    platformOperator: tenantKind === 'platform',
    scopes,
  };
}

/** The trusted local operator: every command line change is audited with actor `cli`. */
export function cliActor(platformTenantId: string): AdminActor {
  return { kind: 'cli', accountId: 'cli', display: 'cli', role: 'owner', tenantId: platformTenantId, platformOperator: true };
}

export interface AdminContext {
  actor: AdminActor;
  request: RequestInfo;
}

/** The audit fields naming who acted. */
export const actorFields = (actor: AdminActor): Pick<SecurityEvent, 'actorAccountId' | 'actor'> =>
  actor.kind === 'account' ? { actorAccountId: actor.accountId } : { actor: actor.display };

export type TenantRow = Pick<Tenant, 'id' | 'kind' | 'parentId' | 'name' | 'slug'>;

export const tenantTarget = (tenant: TenantRow, extra: Partial<Target> = {}): Target => ({
  tenantId: tenant.id,
  tenantParentId: tenant.parentId,
  tenantKind: tenant.kind,
  ...extra,
});

export interface AdminDeps {
  repos: Pick<Repos, 'tenants' | 'accounts' | 'clients' | 'audit' | 'authenticators' | 'recoveryCodes' | 'lockouts'>;
  events: SecurityEvents;
  /** whether the tenant policy requires MFA of an account (the MFA reset mail says so). */
  policy: MfaPolicySource;
  /** invitation links and their mail. */
  links: Pick<OneTimeLinks, 'issue'>;
  postbox: Postbox;
  /** ends every SSO session of an account (back-channel logout to the apps, grants revoked) and audits it. */
  endSessions: SessionEnding['end'];
  now?: () => Date;
}

/**
 * can() first: a refusal is audited (`authz.denied`) and thrown. A target the actor cannot even see
 * (`visibleWith`, when given, is the action that would show it) is answered 404, so nobody learns
 * what exists outside their scope; a visible target they may not change is answered 403.
 */
export async function authorize(
  deps: Pick<AdminDeps, 'events'>,
  ctx: AdminContext,
  action: Action,
  target: Target,
  options: { visibleWith?: Action; notFoundMessage?: string } = {},
): Promise<void> {
  const decision = can(ctx.actor, action, target);
  if (decision.allowed) return;
  await deps.events.emit({
    action: 'authz.denied',
    ...actorFields(ctx.actor),
    tenantId: ctx.actor.kind === 'cli' ? undefined : ctx.actor.tenantId,
    target: target.accountId ?? target.tenantId,
    ...ctx.request,
    detail: { action, reason: decision.reason, target_tenant_id: target.tenantId, ...(target.grantRole ? { role: target.grantRole } : {}) },
  });
  const hidden = options.visibleWith !== undefined && !can(ctx.actor, options.visibleWith, target).allowed;
  if (hidden) throw notFound(options.notFoundMessage ?? 'Nothing was found there.');
  throw forbidden(`You may not do this: ${decision.reason}.`);
}

export async function tenantByRef(repos: Pick<Repos, 'tenants'>, ref: string): Promise<Tenant> {
  const tenant = await repos.tenants.findByIdOrSlug(ref);
  if (!tenant) throw notFound(`No tenant with id or slug "${ref}".`, 'tenant_not_found');
  return tenant;
}
