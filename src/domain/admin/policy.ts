// Security Settings → Multi-factor Authentication Policy Settings (partners only): "Enforce MFA for all
// partner users", "Enforce MFA for all organizations", each with a phishing-resistant level (a passkey
// or security key only, which enforces MFA by itself), and a grace period of 0–30 days. Turning a
// switch on tells how many accounts in its scope do not meet it yet.
import type { Tenant } from '../../store/repositories/tenants.ts';
import { badRequest, notFound } from '../errors.ts';
import { MAX_GRACE_DAYS } from '../policy.ts';
import { isPartner } from '../kinds.ts';
import { actorFields, authorize, tenantByRef, tenantTarget, type AdminContext, type AdminDeps } from './context.ts';

export interface PolicySwitch {
  on: boolean;
  /** when the switch was turned on; null while off. */
  since: Date | null;
  /** accounts this switch covers that have no MFA yet (active accounts only). */
  accountsWithoutMfa: number;
  /** the phishing-resistant level: only a passkey or security key is accepted. */
  phishingResistant: { on: boolean; since: Date | null; accountsWithoutPasskey: number };
}

export type PolicySwitchName = 'partner_users' | 'organizations' | 'partner_users_phr' | 'organizations_phr';

export interface PolicyView {
  tenant: { id: string; name: string; slug: string; kind: Tenant['kind'] };
  partnerUsers: PolicySwitch;
  organizations: PolicySwitch & { organizationCount: number };
  graceDays: number;
}

export interface PolicyChange {
  partnerUsers?: boolean | undefined;
  organizations?: boolean | undefined;
  partnerUsersPhr?: boolean | undefined;
  organizationsPhr?: boolean | undefined;
  graceDays?: number | undefined;
}

export interface PolicyChangeResult {
  policy: PolicyView;
  /** the switches this change turned on, with the accounts in their scope that still have no MFA. */
  turnedOn: { switch: PolicySwitchName; accountsWithoutMfa: number }[];
  turnedOff: PolicySwitchName[];
  changed: boolean;
}

export function createPolicyAdmin(deps: AdminDeps) {
  const { repos, events } = deps;
  const now = deps.now ?? (() => new Date());

  /** Asked for by name, a tenant outside the caller's sight is answered 404, like one that does not exist. */
  const hidden = (tenantRef: string | undefined) => (tenantRef ? { visibleWith: 'view_users' as const, notFoundMessage: `No tenant with id or slug "${tenantRef}".` } : {});

  async function resolveTenant(ctx: AdminContext, ref: string | undefined): Promise<Tenant> {
    const tenant = ref ? await tenantByRef(repos, ref) : await repos.tenants.findById(ctx.actor.tenantId);
    if (!tenant) throw notFound('Your tenant no longer exists.', 'tenant_not_found');
    return tenant;
  }

  /** partner users = the partner's own accounts; organizations = accounts of the organizations directly under it. */
  async function describe(tenant: Tenant): Promise<PolicyView> {
    const organizations = (await repos.tenants.listChildren(tenant.id)).filter((c) => c.kind === 'organization');
    const orgIds = organizations.map((o) => o.id);
    const [partnerUsers, orgUsers, partnerUsersNoPasskey, orgUsersNoPasskey] = await Promise.all([
      repos.accounts.countWithoutMfa([tenant.id]),
      repos.accounts.countWithoutMfa(orgIds),
      repos.accounts.countWithoutPasskey([tenant.id]),
      repos.accounts.countWithoutPasskey(orgIds),
    ]);
    return {
      tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug, kind: tenant.kind },
      partnerUsers: {
        on: tenant.enforceMfaPartnerUsers,
        since: tenant.enforceMfaPartnerUsersSince,
        accountsWithoutMfa: partnerUsers,
        phishingResistant: { on: tenant.enforcePhrPartnerUsers, since: tenant.enforcePhrPartnerUsersSince, accountsWithoutPasskey: partnerUsersNoPasskey },
      },
      organizations: {
        on: tenant.enforceMfaOrganizations,
        since: tenant.enforceMfaOrganizationsSince,
        accountsWithoutMfa: orgUsers,
        phishingResistant: { on: tenant.enforcePhrOrganizations, since: tenant.enforcePhrOrganizationsSince, accountsWithoutPasskey: orgUsersNoPasskey },
        organizationCount: organizations.length,
      },
      graceDays: tenant.mfaGraceDays,
    };
  }

  return {
    async get(ctx: AdminContext, tenantRef?: string): Promise<PolicyView> {
      const tenant = await resolveTenant(ctx, tenantRef);
      await authorize(deps, ctx, 'view_policy', tenantTarget(tenant), hidden(tenantRef));
      return describe(tenant);
    },

    async set(ctx: AdminContext, tenantRef: string | undefined, change: PolicyChange): Promise<PolicyChangeResult> {
      const tenant = await resolveTenant(ctx, tenantRef);
      await authorize(deps, ctx, 'set_policy', tenantTarget(tenant), hidden(tenantRef));
      if (!isPartner(tenant.kind)) throw badRequest('Only partner tenants (distributors and sub-resellers) have an MFA policy.', 'policy_not_applicable');
      if (change.graceDays !== undefined && (!Number.isInteger(change.graceDays) || change.graceDays < 0 || change.graceDays > MAX_GRACE_DAYS)) {
        throw badRequest(`The grace period is a whole number of days from 0 to ${MAX_GRACE_DAYS}.`, 'invalid_grace_period');
      }
      const updated = await repos.tenants.setPolicy(tenant.id, {
        enforceMfaPartnerUsers: change.partnerUsers,
        enforceMfaOrganizations: change.organizations,
        enforcePhrPartnerUsers: change.partnerUsersPhr,
        enforcePhrOrganizations: change.organizationsPhr,
        mfaGraceDays: change.graceDays,
        now: now(),
      });
      const policy = await describe(updated);
      const turnedOn: PolicyChangeResult['turnedOn'] = [];
      const turnedOff: PolicyChangeResult['turnedOff'] = [];
      // each switch: its value before and after, and how many accounts in its scope do not meet it yet
      const switches: [PolicySwitchName, boolean, boolean, number][] = [
        ['partner_users', tenant.enforceMfaPartnerUsers, updated.enforceMfaPartnerUsers, policy.partnerUsers.accountsWithoutMfa],
        ['organizations', tenant.enforceMfaOrganizations, updated.enforceMfaOrganizations, policy.organizations.accountsWithoutMfa],
        ['partner_users_phr', tenant.enforcePhrPartnerUsers, updated.enforcePhrPartnerUsers, policy.partnerUsers.phishingResistant.accountsWithoutPasskey],
        ['organizations_phr', tenant.enforcePhrOrganizations, updated.enforcePhrOrganizations, policy.organizations.phishingResistant.accountsWithoutPasskey],
      ];
      for (const [name, before, after, unmet] of switches) {
        if (!before && after) turnedOn.push({ switch: name, accountsWithoutMfa: unmet });
        if (before && !after) turnedOff.push(name);
      }
      const changed = turnedOn.length > 0 || turnedOff.length > 0 || tenant.mfaGraceDays !== updated.mfaGraceDays;
      if (changed) {
        await events.emit({
          action: 'mfa.policy.updated',
          ...actorFields(ctx.actor),
          tenantId: tenant.id,
          target: tenant.id,
          ...ctx.request,
          detail: {
            enforce_mfa_partner_users: updated.enforceMfaPartnerUsers,
            enforce_mfa_organizations: updated.enforceMfaOrganizations,
            enforce_phr_partner_users: updated.enforcePhrPartnerUsers,
            enforce_phr_organizations: updated.enforcePhrOrganizations,
            grace_days: updated.mfaGraceDays,
            turned_on: turnedOn.map((t) => t.switch),
            turned_off: turnedOff,
            accounts_without_mfa: Object.fromEntries(turnedOn.map((t) => [t.switch, t.accountsWithoutMfa])),
          },
        });
      }
      return { policy, turnedOn, turnedOff, changed };
    },
  };
}

export type PolicyAdmin = ReturnType<typeof createPolicyAdmin>;
