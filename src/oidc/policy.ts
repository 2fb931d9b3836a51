// The interaction policy: oidc-provider's base policy plus Checks on the `login` prompt. MFA is a page
// of the login interaction, not a prompt of its own (DESIGN.md §5): a separate prompt would leave a
// signed-in password-only session behind when the user abandons the MFA page. So step-up is "the
// session's amr does not satisfy what this request needs" → login again.
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { satisfiesAcr } from '../domain/amr.ts';
import { clientMayReceive } from '../domain/account-choice.ts';
import { acceptableAcr, maySkipSetup, mfaFacts, mfaRequiredBy, type MfaFacts } from '../domain/mfa/requirement.ts';
import type { GatehouseAccount } from './accounts.ts';

const { base, Check } = interactionPolicy;

/**
 * The MFA facts of this authorization request; the interaction pages look up the rest (locks, passkeys).
 * A grace period for a passkey is only granted by `accountMfa` to an account without one.
 */
const requestFacts = (ctx: KoaContextWithOIDC, account: GatehouseAccount): MfaFacts => {
  const metadata = ctx.oidc.client?.metadata();
  return mfaFacts({
    account: account.mfa,
    hasWebauthn: false,
    client: { requireMfa: metadata?.require_mfa === true, requirePhr: metadata?.require_phishing_resistant_mfa === true },
    params: ctx.oidc.params ?? {},
    lockedUntil: null,
    now: new Date(),
  });
};

/** Why this authorization request needs MFA, whatever the session has done so far. */
export function mfaReasonsFor(ctx: KoaContextWithOIDC, account: GatehouseAccount): string[] {
  const facts = requestFacts(ctx, account);
  // During the policy's grace period a session without the deferred setup is acceptable: its user chose
  // "Set up later" (every new sign-in offers setup again); an authenticator it has is still used.
  if (maySkipSetup(facts)) return facts.hasAuthenticator ? ['authenticator'] : [];
  const reasons: string[] = mfaRequiredBy(facts);
  // Having MFA means using it, even when nobody demands it.
  if (facts.hasAuthenticator) reasons.push('authenticator');
  return reasons;
}

const sessionAccount = (ctx: KoaContextWithOIDC) => (ctx.oidc.session?.accountId ? (ctx.oidc.account as GatehouseAccount | undefined) : undefined);

export function createInteractionPolicy() {
  const policy = base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider base policy has no login prompt');

  // A session whose account was deleted or disabled must sign in again; otherwise every later
  // authorization would fail when the provider looks the account up.
  login.checks.add(
    new Check('account_unavailable', "the session's account is no longer available", 'login_required', (ctx) =>
      Boolean(ctx.oidc.session?.accountId) && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );

  // A client bound to a tenant never receives an account of another tenant through SSO: the user signs
  // in again with an account the client may receive (prompt=none answers login_required).
  login.checks.add(
    new Check('client_tenant_mismatch', "the session's account belongs to a tenant this client does not serve", 'login_required', (ctx) => {
      const account = sessionAccount(ctx);
      const clientTenantId = ctx.oidc.client?.metadata().tenant_id;
      if (!account) return Check.NO_NEED_TO_PROMPT;
      return clientMayReceive(typeof clientTenantId === 'string' ? clientTenantId : null, account.tenant.id) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );

  login.checks.add(
    new Check(
      'mfa_required',
      'the multi-factor authentication this request requires (mfa, or phishing-resistant phr) was not performed in this session',
      'login_required',
      (ctx) => {
        const account = sessionAccount(ctx);
        if (!account) return Check.NO_NEED_TO_PROMPT; // the no_session and account_unavailable checks ask for login
        const amr = (ctx.oidc.session?.amr ?? []) as string[];
        // phr (a passkey) is asked for by the request, the client or the tenant policy; password + TOTP
        // does not meet it, so a session that has MFA but not phr steps up too. During the policy's grace
        // period a session without the deferred setup is acceptable: its user chose "Set up later".
        const unmet = !satisfiesAcr(acceptableAcr(requestFacts(ctx, account)), amr);
        // The interaction just finished and still did not satisfy the request: fail instead of opening
        // a new interaction for ever.
        if (unmet && ctx.oidc.result?.login) throw new errors.UnmetAuthenticationRequirements();
        return unmet ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
      (ctx) => {
        const account = sessionAccount(ctx);
        return { mfa_reasons: account ? mfaReasonsFor(ctx, account) : [] };
      },
    ),
  );
  return policy;
}
