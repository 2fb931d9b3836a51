// The interaction policy: oidc-provider's base policy plus two Checks on the `login` prompt.
// MFA is a page of the login interaction, not a prompt of its own (DESIGN.md §5, notes §3), so
// step-up is "the session's amr does not satisfy what this request needs" → login again.
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { requestedAcr, satisfiesAcr } from '../domain/amr.ts';
import { mfaRequiredBy } from '../domain/mfa/requirement.ts';
import type { GatehouseAccount } from './accounts.ts';

const { base, Check } = interactionPolicy;

export interface MfaNeed {
  needed: boolean;
  reasons: string[];
}

/** Why this authorization request needs MFA, whatever the session has done so far. */
export function mfaNeededFor(ctx: KoaContextWithOIDC): MfaNeed {
  const params = ctx.oidc.params ?? {};
  const account = ctx.oidc.account as GatehouseAccount | undefined;
  const reasons: string[] = mfaRequiredBy({
    policyRequiresMfa: account?.mfa.policyRequiresMfa ?? false,
    clientRequiresMfa: ctx.oidc.client?.metadata().require_mfa === true,
    requestedAcr: requestedAcr({
      acrValues: typeof params.acr_values === 'string' ? params.acr_values : undefined,
      claims: typeof params.claims === 'string' || (typeof params.claims === 'object' && params.claims !== null) ? (params.claims as string | object) : undefined,
    }),
  });
  // Having MFA means using it, even when nobody demands it.
  if (account?.mfa.hasAuthenticator) reasons.push('authenticator');
  return { needed: reasons.length > 0, reasons };
}

export function createInteractionPolicy() {
  const policy = base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider base policy has no login prompt');

  // A session whose account was deleted or disabled must sign in again instead of failing later (notes §4, E10d).
  login.checks.add(
    new Check('account_unavailable', "the session's account is no longer available", 'login_required', (ctx) =>
      Boolean(ctx.oidc.session?.accountId) && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );

  login.checks.add(
    new Check(
      'mfa_required',
      'multi-factor authentication is required and this session has not performed it',
      'login_required',
      (ctx) => {
        if (!ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT; // the no_session check asks for login
        const need = mfaNeededFor(ctx);
        const amr = (ctx.oidc.session.amr ?? []) as string[];
        const unmet = need.needed && !satisfiesAcr('mfa', amr);
        // The interaction just finished and still did not satisfy the request: fail instead of looping (notes §2).
        if (unmet && ctx.oidc.result?.login) throw new errors.UnmetAuthenticationRequirements();
        return unmet ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
      (ctx) => ({ mfa_reasons: mfaNeededFor(ctx).reasons }),
    ),
  );
  return policy;
}
