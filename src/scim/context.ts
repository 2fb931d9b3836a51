// Who calls SCIM: a service client bound to a tenant whose token carries the `scim` scope (the admin
// API's token check decides the rest: signature, audience, client enabled, tenant bound).
import type { Context } from 'koa';
import { GatehouseError } from '../domain/errors.ts';
import type { AdminContext } from '../domain/admin/index.ts';
import type { ApiCaller } from '../api/auth.ts';
import { requestIdOf } from '../http/request-context.ts';
import { SCIM_SCOPE } from '../oidc/provider.ts';

export function serviceContext(ctx: Context, caller: ApiCaller): AdminContext {
  if (caller.actor.kind !== 'service') throw new GatehouseError('insufficient_scope', 403, 'SCIM takes the token of a service client bound to a tenant (client credentials), not a user’s token.', SCIM_SCOPE);
  if (!caller.scopes.has(SCIM_SCOPE)) throw new GatehouseError('insufficient_scope', 403, `This token lacks the "${SCIM_SCOPE}" scope.`, SCIM_SCOPE);
  return { actor: caller.actor, request: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: requestIdOf(ctx) } };
}
