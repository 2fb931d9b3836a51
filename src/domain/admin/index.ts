// The admin use cases, one object per area; the console pages, the JSON API and the CLI call these.
import { createAuditAdmin } from './audit.ts';
import { createClientAdmin, type ClientAdminOptions } from './clients.ts';
import type { AdminDeps } from './context.ts';
import { createPolicyAdmin } from './policy.ts';
import { createTenantAdmin } from './tenants.ts';
import { createUserAdmin } from './users.ts';
import { createInvitationAdmin } from './invitations.ts';

export function createAdmin(deps: AdminDeps, options: ClientAdminOptions = {}) {
  const users = createUserAdmin(deps);
  return {
    users,
    invitations: createInvitationAdmin(deps, users),
    policy: createPolicyAdmin(deps),
    clients: createClientAdmin(deps, options),
    audit: createAuditAdmin(deps),
    tenants: createTenantAdmin(deps),
  };
}

export type Admin = ReturnType<typeof createAdmin>;
export type { AdminActor, AdminContext, AdminDeps } from './context.ts';
export { accountActor, cliActor, serviceActor } from './context.ts';
