/** Small checks shared by routes: signed-in user, admin, configured Gatehouse. */
import type { AppContext, AppDeps } from '../context.ts';
import { AppError } from '../http/errors.ts';
import type { SignedInUser } from '../http/sessions.ts';
import type { GatehouseClient } from '../oidc/gatehouse-client.ts';
import type { LocalUser } from '../store/types.ts';

export interface CurrentUser {
  signIn: SignedInUser;
  user: LocalUser;
}

/** The signed-in user, or undefined after redirecting to the sign-in page. */
export async function currentUser(ctx: AppContext, deps: AppDeps): Promise<CurrentUser | undefined> {
  const signIn = ctx.state.session.user;
  const user = signIn ? await deps.store.getUser(signIn.userId) : undefined;
  if (!signIn || !user) {
    if (signIn) deps.sessions.destroy(ctx.state.session.id);
    ctx.redirect('/login');
    return undefined;
  }
  return { signIn, user };
}

export function requireGatehouse(deps: AppDeps): GatehouseClient {
  if (!deps.gatehouse) throw new AppError('unified_login_off', 404, 'Sign-in with Gatehouse is not configured for Acme MDR.');
  return deps.gatehouse;
}

/** The next value of a failure counter, and whether the attempt budget is spent. */
export function countFailure(failures: number, deps: AppDeps): { failures: number; exhausted: boolean } {
  const next = failures + 1;
  return { failures: next, exhausted: next >= deps.maxAttempts };
}
