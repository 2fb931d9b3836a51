// Who may do what (DESIGN.md §8). Roles rank owner > super_admin > admin > support > user.
// - A tenant's owners, super admins and admins manage accounts of that tenant and of the organizations
//   directly under it (their scope), of equal or lower rank, and never promote anyone above their own rank.
// - Nothing reaches from a distributor into a sub-reseller or its organizations.
// - Support looks (users, MFA status, policy) but never changes anything.
// - A user manages only itself.
// - Platform operators manage tenants, clients, keys and upstream IdPs; they are no tenant's admin.
// - A service client bound to a tenant acts as an admin of that tenant (its scopes narrow it further,
//   at the API); one bound to the platform tenant acts for the platform.
// - The command line is the trusted local operator: it may do everything, and is audited as `cli`.
import { isPartner, type Role, type TenantKind } from './kinds.ts';
import { mayHoldChild, withinManagedScope } from './tenant-tree.ts';

export type { Role };

export const ACTIONS = [
  'view_users',
  'invite_user',
  'change_role',
  'deactivate_user',
  'reactivate_user',
  'update_user',
  'delete_user',
  'end_sessions',
  'reset_mfa',
  'view_policy',
  'set_policy',
  'view_audit',
  'view_clients',
  'manage_clients',
  'view_tenants',
  'create_tenant',
  'manage_own_security',
  'manage_platform',
] as const;
export type Action = (typeof ACTIONS)[number];

export type ActorKind = 'account' | 'service' | 'cli';

export interface Actor {
  /** account id; `client:<client_id>` for a service, `cli` for the command line. */
  accountId: string;
  role: Role;
  tenantId: string;
  platformOperator: boolean;
  /** default 'account'. */
  kind?: ActorKind | undefined;
}

export interface Target {
  /** The account acted on; absent when the target is the tenant itself. */
  accountId?: string | undefined;
  /** the target account's current role. */
  role?: Role | undefined;
  /** the role to give (invite, change role). */
  grantRole?: Role | undefined;
  /** the kind of tenant to create under the target tenant (create_tenant). */
  childKind?: TenantKind | undefined;
  tenantId: string;
  tenantParentId: string | null;
  /** Needed because a partner's children include sub-resellers, which it does not manage. */
  tenantKind: TenantKind;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export const RANK = { owner: 5, super_admin: 4, admin: 3, support: 2, user: 1 } as const satisfies Record<Role, number>;

export const ROLE_LABEL = { owner: 'Owner', super_admin: 'Super admin', admin: 'Admin', support: 'Support', user: 'User' } as const satisfies Record<Role, string>;

const isAdmin = (role: Role) => RANK[role] >= RANK.admin;
const label = (name: Role | TenantKind) => name.replace('_', ' ');

const allow = (reason: string): Decision => ({ allowed: true, reason });
const deny = (reason: string): Decision => ({ allowed: false, reason });

const inScope = (actor: Actor, target: Target) =>
  withinManagedScope(actor.tenantId, { id: target.tenantId, kind: target.tenantKind, parentId: target.tenantParentId });

const isSelf = (actor: Actor, target: Target) => target.accountId !== undefined && target.accountId === actor.accountId;

/** Admin of the target's tenant (or of its partner), acting on an account of equal or lower rank. */
function manageAccount(actor: Actor, target: Target, what: string): Decision {
  if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not ${what}`);
  if (!inScope(actor, target)) return deny('the account is outside your scope');
  if (!target.role) return deny('the account is unknown');
  return RANK[target.role] <= RANK[actor.role]
    ? allow(`${label(actor.role)} may ${what} of a ${label(target.role)} in scope`)
    : deny(`${label(actor.role)} may not ${what} of a higher-ranked ${label(target.role)}`);
}

function grantable(actor: Actor, target: Target): Decision | undefined {
  if (!target.grantRole) return deny('no role was given');
  if (RANK[target.grantRole] > RANK[actor.role]) return deny(`${label(actor.role)} may not give the higher role ${label(target.grantRole)}`);
  return undefined;
}

export function can(actor: Actor, action: Action, target: Target): Decision {
  if (actor.kind === 'cli') return allow('the local operator (command line) is trusted');

  switch (action) {
    case 'manage_platform':
      return actor.platformOperator ? allow('platform operators manage the platform') : deny('only platform operators manage the platform');

    case 'manage_own_security':
      return isSelf(actor, target) ? allow('everyone manages their own security settings') : deny('security settings can only be changed by their owner');

    case 'view_users':
      if (isSelf(actor, target)) return allow('everyone may see their own account');
      if (RANK[actor.role] < RANK.support) return deny('users see only their own account');
      return inScope(actor, target) ? allow(`${label(actor.role)} may view users of this tenant`) : deny('the tenant is outside your scope');

    case 'invite_user': {
      if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not invite users`);
      if (!inScope(actor, target)) return deny('the tenant is outside your scope');
      return grantable(actor, target) ?? allow(`${label(actor.role)} may invite a ${label(target.grantRole ?? 'user')}`);
    }

    case 'change_role': {
      if (isSelf(actor, target)) return deny('nobody changes their own role');
      const manage = manageAccount(actor, target, 'change the role');
      if (!manage.allowed) return manage;
      return grantable(actor, target) ?? manage;
    }

    case 'deactivate_user':
      if (isSelf(actor, target)) return deny('nobody deactivates their own account');
      return manageAccount(actor, target, 'deactivate the account');

    case 'reactivate_user':
      if (isSelf(actor, target)) return deny('nobody reactivates their own account');
      return manageAccount(actor, target, 'reactivate the account');

    case 'update_user':
      if (isSelf(actor, target)) return deny('a profile is changed by provisioning or an administrator, not through this action');
      return manageAccount(actor, target, 'change the profile');

    case 'delete_user':
      if (isSelf(actor, target)) return deny('nobody deletes their own account');
      return manageAccount(actor, target, 'delete the account');

    case 'end_sessions':
      if (isSelf(actor, target)) return allow('everyone may sign themselves out everywhere');
      return manageAccount(actor, target, 'end the sessions');

    case 'reset_mfa':
      return manageAccount(actor, target, 'reset MFA');

    case 'view_policy':
      if (RANK[actor.role] < RANK.support) return deny(`${label(actor.role)} may not view the MFA policy`);
      if (target.tenantId !== actor.tenantId) return deny("only the tenant's own staff see its policy");
      return isPartner(target.tenantKind) ? allow(`${label(actor.role)} may view the tenant's MFA policy`) : deny('only partner tenants have an MFA policy');

    case 'set_policy':
      if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not change the MFA policy`);
      if (target.tenantId !== actor.tenantId) return deny("only the tenant's own administrators set its policy");
      return isPartner(target.tenantKind) ? allow(`${label(actor.role)} may set the tenant's MFA policy`) : deny('only partner tenants have an MFA policy');

    case 'view_audit':
      if (actor.platformOperator) return allow('platform operators see the whole audit log');
      if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not read the audit log`);
      return inScope(actor, target) ? allow(`${label(actor.role)} may read the audit log of this tenant`) : deny('the tenant is outside your scope');

    case 'view_clients':
      if (actor.platformOperator) return allow('platform operators see every client');
      if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not see the clients`);
      return target.tenantId === actor.tenantId ? allow(`${label(actor.role)} may see clients bound to its tenant`) : deny('the client is bound to another tenant');

    case 'manage_clients':
      // a client's settings include its MFA requirement (require_mfa, phishing-resistant MFA): a policy, so admins only
      if (!actor.platformOperator) return deny('only platform operators manage clients');
      return isAdmin(actor.role) ? allow(`${label(actor.role)} platform operators manage clients`) : deny(`${label(actor.role)} may not change clients or their MFA requirement`);

    case 'view_tenants':
      if (actor.platformOperator) return allow('platform operators see every tenant');
      if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not see the tenants`);
      return target.tenantId === actor.tenantId ? allow(`${label(actor.role)} may see its tenant and the tenants below it`) : deny('the tenant is not yours');

    case 'create_tenant': {
      const child = target.childKind;
      if (!child) return deny('no kind of tenant was given');
      if (!mayHoldChild(target.tenantKind, child)) return deny(`a ${label(target.tenantKind)} cannot hold a ${label(child)}`);
      if (actor.platformOperator) return allow('platform operators create tenants anywhere in the tree');
      if (!isAdmin(actor.role)) return deny(`${label(actor.role)} may not create tenants`);
      return target.tenantId === actor.tenantId ? allow(`${label(actor.role)} may create a ${label(child)} under its tenant`) : deny('tenants are created only under your own tenant');
    }
  }
}
