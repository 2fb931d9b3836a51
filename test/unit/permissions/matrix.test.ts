// The permission matrix, generated: every actor (each role in each kind of tenant, platform operators,
// a service client, the command line) × every action × every target (each tenant of a small tree seen
// from the actor: own tenant, child organization, sibling, parent, the distributor's sub-reseller and
// its organizations, another tree, the platform; each role there; the actor itself) — and every cell
// is checked against the rule book below, which says DESIGN.md §8 in terms of those relations.
import { describe, expect, it } from '@jest/globals';
import { ACTIONS, can, type Action, type Actor, type ActorKind, type Role, type Target } from '../../../src/domain/permissions.ts';
import type { TenantKind } from '../../../src/domain/policy.ts';

// platform ─┬─ dist (distributor) ─┬─ dist-org, dist-org-2 (organizations)
//           │                      ├─ sub (sub_reseller) ── sub-org (organization)
//           │                      └─ sub-2 (sub_reseller)
//           └─ other (distributor) ── other-org (organization)
const TREE: Record<string, { parent: string | null; kind: TenantKind }> = {
  platform: { parent: null, kind: 'platform' },
  dist: { parent: 'platform', kind: 'distributor' },
  'dist-org': { parent: 'dist', kind: 'organization' },
  'dist-org-2': { parent: 'dist', kind: 'organization' },
  sub: { parent: 'dist', kind: 'sub_reseller' },
  'sub-org': { parent: 'sub', kind: 'organization' },
  'sub-2': { parent: 'dist', kind: 'sub_reseller' },
  other: { parent: 'platform', kind: 'distributor' },
  'other-org': { parent: 'other', kind: 'organization' },
};
const TENANTS = Object.keys(TREE);
const ROLES: Role[] = ['owner', 'super_admin', 'admin', 'support', 'user'];
const KINDS: TenantKind[] = ['platform', 'distributor', 'sub_reseller', 'organization'];

const node = (id: string) => {
  const n = TREE[id];
  if (!n) throw new Error(`unknown tenant ${id}`);
  return n;
};
const ancestors = (id: string): string[] => {
  const parent = node(id).parent;
  return parent ? [parent, ...ancestors(parent)] : [];
};
const rootBelowPlatform = (id: string) => [id, ...ancestors(id)].find((t) => node(t).parent === 'platform');

/** How the target tenant stands to the actor's tenant, in the words of the rule book. */
type Relation = 'own' | 'child organization' | 'child sub-reseller' | "sub-reseller's organization" | 'parent' | 'ancestor' | 'sibling' | 'other tree' | 'platform';
function relation(home: string, target: string): Relation {
  if (target === home) return 'own';
  const t = node(target);
  if (t.parent === home) return t.kind === 'organization' ? 'child organization' : 'child sub-reseller';
  if (ancestors(target).includes(home)) return "sub-reseller's organization";
  if (node(home).parent === target) return 'parent';
  if (ancestors(home).includes(target)) return target === 'platform' ? 'platform' : 'ancestor';
  if (node(home).parent === t.parent) return 'sibling';
  if (target === 'platform') return 'platform';
  return rootBelowPlatform(home) === rootBelowPlatform(target) ? 'sibling' : 'other tree';
}

interface Cell {
  actor: Actor;
  actorKind: ActorKind;
  role: Role;
  operator: boolean;
  relation: Relation;
  targetTenantKind: TenantKind;
  /** the target is an account (else the tenant itself). */
  account: boolean;
  self: boolean;
  targetRole: Role | undefined;
  grantRole: Role | undefined;
  childKind: TenantKind | undefined;
}

const rank = (r: Role) => ROLES.length - ROLES.indexOf(r);
const atLeast = (r: Role, min: Role) => rank(r) >= rank(min);
const partner = (k: TenantKind) => k === 'distributor' || k === 'sub_reseller';
/** An admin's scope: its own tenant and the organizations directly under it — nothing further down, nothing up or across. */
const inScope = (c: Cell) => c.relation === 'own' || c.relation === 'child organization';
const manager = (c: Cell) => atLeast(c.role, 'admin');
const notAbove = (c: Cell) => c.targetRole !== undefined && rank(c.targetRole) <= rank(c.role);
const grantsNoHigher = (c: Cell) => c.grantRole !== undefined && rank(c.grantRole) <= rank(c.role);
const treeAllows = (parent: TenantKind, child: TenantKind | undefined) =>
  (parent === 'platform' && child === 'distributor') ||
  (parent === 'distributor' && (child === 'sub_reseller' || child === 'organization')) ||
  (parent === 'sub_reseller' && child === 'organization');
/** owners, super admins and admins act on accounts in scope of equal or lower rank. */
const managesAccount = (c: Cell) => manager(c) && inScope(c) && c.account && notAbove(c);

/** DESIGN.md §8 as a rule book. */
const RULES: Record<Action, (c: Cell) => boolean> = {
  // support views; a user sees only itself
  view_users: (c) => c.self || (atLeast(c.role, 'support') && inScope(c)),
  // admins invite into their scope, never with a role above their own
  invite_user: (c) => manager(c) && inScope(c) && grantsNoHigher(c),
  // admins change roles of equal or lower rank, never promote above their own rank, never their own
  change_role: (c) => !c.self && managesAccount(c) && grantsNoHigher(c),
  deactivate_user: (c) => !c.self && managesAccount(c),
  reactivate_user: (c) => !c.self && managesAccount(c),
  // SCIM provisioning changes a profile or deletes an account of equal or lower rank in scope, never the actor's own
  update_user: (c) => !c.self && managesAccount(c),
  delete_user: (c) => !c.self && managesAccount(c),
  // everyone may sign themselves out; admins end the sessions of equal or lower rank in scope
  end_sessions: (c) => c.self || managesAccount(c),
  // support never resets; admins reset equal or lower rank in scope
  reset_mfa: (c) => managesAccount(c),
  // a partner's own staff (support included) see its policy; only its admins change it; organizations have none
  view_policy: (c) => atLeast(c.role, 'support') && c.relation === 'own' && partner(c.targetTenantKind),
  set_policy: (c) => manager(c) && c.relation === 'own' && partner(c.targetTenantKind),
  // admins read the audit log of their scope; platform operators all of it
  view_audit: (c) => c.operator || (manager(c) && inScope(c)),
  // partners' admins see clients bound to their own tenant; platform operators see and manage all
  view_clients: (c) => c.operator || (manager(c) && c.relation === 'own'),
  manage_clients: (c) => c.operator && manager(c),
  // admins see their tenant and what they created below it, and create organizations and sub-resellers under it
  view_tenants: (c) => c.operator || (manager(c) && c.relation === 'own'),
  create_tenant: (c) => treeAllows(c.targetTenantKind, c.childKind) && (c.operator || (manager(c) && c.relation === 'own')),
  // a user manages only itself
  manage_own_security: (c) => c.self,
  manage_platform: (c) => c.operator,
};

interface ActorSpec {
  name: string;
  actor: Actor;
  kind: ActorKind;
}

function actorSpecs(): ActorSpec[] {
  const specs: ActorSpec[] = [];
  for (const home of ['platform', 'dist', 'sub', 'dist-org', 'sub-org']) {
    for (const role of ROLES) specs.push({ name: `${role} of ${home}`, kind: 'account', actor: { accountId: `me@${home}`, role, tenantId: home, platformOperator: false, kind: 'account' } });
  }
  for (const role of ['owner', 'user'] as const) {
    specs.push({ name: `platform operator (${role})`, kind: 'account', actor: { accountId: 'me@platform', role, tenantId: 'platform', platformOperator: true, kind: 'account' } });
  }
  specs.push({ name: 'service client of dist', kind: 'service', actor: { accountId: 'client:svc', role: 'admin', tenantId: 'dist', platformOperator: false, kind: 'service' } });
  specs.push({ name: 'service client of the platform', kind: 'service', actor: { accountId: 'client:ops', role: 'admin', tenantId: 'platform', platformOperator: true, kind: 'service' } });
  specs.push({ name: 'command line', kind: 'cli', actor: { accountId: 'cli', role: 'owner', tenantId: 'platform', platformOperator: true, kind: 'cli' } });
  return specs;
}

function cellsFor(spec: ActorSpec, action: Action): { cell: Cell; target: Target; name: string }[] {
  const out: { cell: Cell; target: Target; name: string }[] = [];
  const grants: (Role | undefined)[] = action === 'invite_user' || action === 'change_role' ? [...ROLES, undefined] : [undefined];
  const children: (TenantKind | undefined)[] = action === 'create_tenant' ? [...KINDS, undefined] : [undefined];
  for (const tenantId of TENANTS) {
    const t = node(tenantId);
    const base = { tenantId, tenantParentId: t.parent, tenantKind: t.kind };
    const accounts: { accountId?: string; role?: Role; self: boolean }[] = [
      { self: false },
      ...ROLES.map((role) => ({ accountId: `someone-${role}@${tenantId}`, role, self: false })),
    ];
    if (tenantId === spec.actor.tenantId) accounts.push({ accountId: spec.actor.accountId, role: spec.actor.role, self: true });
    for (const a of accounts) {
      for (const grantRole of grants) {
        for (const childKind of children) {
          const target: Target = { ...base, accountId: a.accountId, role: a.role, grantRole, childKind };
          const cell: Cell = {
            actor: spec.actor,
            actorKind: spec.kind,
            role: spec.actor.role,
            operator: spec.actor.platformOperator,
            relation: relation(spec.actor.tenantId, tenantId),
            targetTenantKind: t.kind,
            account: a.accountId !== undefined,
            self: a.self,
            targetRole: a.role,
            grantRole,
            childKind,
          };
          const who = a.self ? 'itself' : a.role ? `a ${a.role} of ${tenantId}` : `tenant ${tenantId}`;
          out.push({ cell, target, name: `${who} (${cell.relation})${grantRole ? ` → ${grantRole}` : ''}${childKind ? ` + ${childKind}` : ''}` });
        }
      }
    }
  }
  return out;
}

const expected = (cell: Cell, action: Action) => (cell.actorKind === 'cli' ? true : RULES[action](cell));

describe('permission matrix (DESIGN.md §8), every cell', () => {
  const specs = actorSpecs();

  it.each(ACTIONS.map((a) => [a]))('%s: every actor × every target follows the rule book', (action) => {
    const mismatches: string[] = [];
    let cells = 0;
    for (const spec of specs) {
      for (const { cell, target, name } of cellsFor(spec, action)) {
        cells += 1;
        const decision = can(spec.actor, action, target);
        if (decision.allowed !== expected(cell, action)) mismatches.push(`${spec.name} → ${name}: can() said ${decision.allowed} (${decision.reason})`);
        if (!/\w/.test(decision.reason)) mismatches.push(`${spec.name} → ${name}: no reason given`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(cells).toBeGreaterThan(specs.length * TENANTS.length);
  });

  it('the relations the matrix covers include every case of the rule book', () => {
    const seen = new Set<Relation>();
    for (const home of ['dist', 'sub', 'dist-org', 'sub-org', 'platform']) for (const t of TENANTS) seen.add(relation(home, t));
    expect([...seen].sort()).toEqual(
      ['own', 'child organization', 'child sub-reseller', "sub-reseller's organization", 'parent', 'ancestor', 'sibling', 'other tree', 'platform'].sort(),
    );
  });

  // A few cells spelled out, so a rule book that drifted together with can() would still be caught.
  const named = (name: string): Actor => {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no actor ${name}`);
    return spec.actor;
  };
  it.each<[string, string, Action, Target, boolean]>([
    ['a distributor owner may not reset MFA of its sub-reseller’s users', 'owner of dist', 'reset_mfa', { accountId: 'x', role: 'user', tenantId: 'sub', tenantParentId: 'dist', tenantKind: 'sub_reseller' }, false],
    ['a distributor owner may not reach the organizations of its sub-reseller', 'owner of dist', 'view_users', { tenantId: 'sub-org', tenantParentId: 'sub', tenantKind: 'organization' }, false],
    ['a distributor support views users of an organization directly under it', 'support of dist', 'view_users', { tenantId: 'dist-org', tenantParentId: 'dist', tenantKind: 'organization' }, true],
    ['a distributor support never sets the policy', 'support of dist', 'set_policy', { tenantId: 'dist', tenantParentId: 'platform', tenantKind: 'distributor' }, false],
    ['a distributor admin may not promote anyone to owner', 'admin of dist', 'change_role', { accountId: 'x', role: 'user', grantRole: 'owner', tenantId: 'dist', tenantParentId: 'platform', tenantKind: 'distributor' }, false],
    ['a distributor admin may not deactivate a super admin (higher rank)', 'admin of dist', 'deactivate_user', { accountId: 'x', role: 'super_admin', tenantId: 'dist', tenantParentId: 'platform', tenantKind: 'distributor' }, false],
    ['an organization admin may not act on its partner’s accounts (parent)', 'admin of dist-org', 'deactivate_user', { accountId: 'x', role: 'user', tenantId: 'dist', tenantParentId: 'platform', tenantKind: 'distributor' }, false],
    ['a sub-reseller owner creates an organization under itself', 'owner of sub', 'create_tenant', { childKind: 'organization', tenantId: 'sub', tenantParentId: 'dist', tenantKind: 'sub_reseller' }, true],
    ['a sub-reseller owner may not create a sub-reseller', 'owner of sub', 'create_tenant', { childKind: 'sub_reseller', tenantId: 'sub', tenantParentId: 'dist', tenantKind: 'sub_reseller' }, false],
    ['a platform operator is not a tenant admin', 'platform operator (user)', 'reset_mfa', { accountId: 'x', role: 'user', tenantId: 'dist', tenantParentId: 'platform', tenantKind: 'distributor' }, false],
    ['a service client of a distributor lists its users', 'service client of dist', 'view_users', { tenantId: 'dist', tenantParentId: 'platform', tenantKind: 'distributor' }, true],
    ['a service client of a distributor may not reach another tree', 'service client of dist', 'view_users', { tenantId: 'other', tenantParentId: 'platform', tenantKind: 'distributor' }, false],
  ])('%s', (_rule, who, action, target, allowed) => {
    expect(can(named(who), action, target).allowed).toBe(allowed);
  });
});
