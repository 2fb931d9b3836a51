// Who may do what (DESIGN.md §8). Roles rank owner > super_admin > admin > support > user. A tenant's
// owners, super admins and admins act on accounts of that tenant and of the organizations directly
// under it, never further; support only looks; a user only manages itself.
import { isPartner, type Role, type TenantKind } from './kinds.ts';

export type { Role };
export type Action = 'view_users' | 'reset_mfa' | 'set_policy' | 'manage_own_security' | 'manage_platform';

export interface Actor {
  accountId: string;
  role: Role;
  tenantId: string;
  platformOperator: boolean;
}

export interface Target {
  /** The account acted on; absent when the target is the tenant itself. */
  accountId?: string;
  role?: Role;
  tenantId: string;
  tenantParentId: string | null;
  /** Needed because a partner's children include sub-resellers, which it does not manage. */
  tenantKind: TenantKind;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

const RANK = { owner: 5, super_admin: 4, admin: 3, support: 2, user: 1 } as const satisfies Record<Role, number>;

const isAdmin = (role: Role) => RANK[role] >= RANK.admin;

const allow = (reason: string): Decision => ({ allowed: true, reason });
const deny = (reason: string): Decision => ({ allowed: false, reason });

function inScope(actor: Actor, target: Target): boolean {
  if (target.tenantId === actor.tenantId) return true;
  return target.tenantKind === 'organization' && target.tenantParentId === actor.tenantId;
}

const isSelf = (actor: Actor, target: Target) => target.accountId !== undefined && target.accountId === actor.accountId;

export function can(actor: Actor, action: Action, target: Target): Decision {
  switch (action) {
    case 'manage_platform':
      return actor.platformOperator ? allow('platform operators manage the platform') : deny('only platform operators manage the platform');

    case 'manage_own_security':
      return isSelf(actor, target) ? allow('everyone manages their own security settings') : deny('security settings can only be changed by their owner');

    case 'view_users':
      if (isSelf(actor, target)) return allow('everyone may see their own account');
      if (RANK[actor.role] < RANK.support) return deny('users see only their own account');
      return inScope(actor, target) ? allow(`${actor.role} may view users of this tenant`) : deny('the tenant is outside your scope');

    case 'reset_mfa':
      if (!isAdmin(actor.role)) return deny(`${actor.role} may not reset MFA`);
      if (!inScope(actor, target)) return deny('the account is outside your scope');
      if (!target.role) return deny('the account to reset is unknown');
      return RANK[target.role] <= RANK[actor.role]
        ? allow(`${actor.role} may reset MFA of a ${target.role} in scope`)
        : deny(`${actor.role} may not reset MFA of a higher-ranked ${target.role}`);

    case 'set_policy':
      if (!isAdmin(actor.role)) return deny(`${actor.role} may not change the MFA policy`);
      if (target.tenantId !== actor.tenantId) return deny("only the tenant's own administrators set its policy");
      return isPartner(target.tenantKind) ? allow(`${actor.role} may set the tenant's MFA policy`) : deny('only partner tenants have an MFA policy');
  }
}
