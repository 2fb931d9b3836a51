// The tenant tree's rules (DESIGN.md §4, §8), as pure functions: which kinds hang under which, and
// which tenants an administrator of a tenant reaches. Repositories store the tree; they do not
// decide who reaches what.
import type { TenantKind } from './kinds.ts';

/** The kinds of tenant that may be created directly under a tenant of each kind. */
export const CHILD_KINDS = {
  platform: ['distributor'],
  distributor: ['sub_reseller', 'organization'],
  sub_reseller: ['organization'],
  organization: [],
} as const satisfies Record<TenantKind, readonly TenantKind[]>;

export const mayHoldChild = (parent: TenantKind, child: TenantKind): boolean => (CHILD_KINDS[parent] as readonly TenantKind[]).includes(child);

export interface TreeNode {
  id: string;
  kind: TenantKind;
  parentId: string | null;
}

/**
 * The tenants an administrator of `home` manages: `home` itself and the organizations directly under
 * it. A distributor's sub-resellers, and their organizations, are never part of it.
 */
export function managedTenantIds(home: TreeNode, children: readonly TreeNode[]): string[] {
  return [home.id, ...children.filter((c) => c.parentId === home.id && c.kind === 'organization').map((c) => c.id)];
}

/** Whether `target` is `home` or an organization directly under it (the same rule as managedTenantIds). */
export const withinManagedScope = (homeId: string, target: { id: string; kind: TenantKind; parentId: string | null }): boolean =>
  target.id === homeId || (target.kind === 'organization' && target.parentId === homeId);
