// findAccount: one query per lookup (account + tenant + parent policy), claims per DESIGN.md §6.
// Lookups are served from memory under the accounts' change generation (src/store/kept-account-rows.ts):
// disabling, a role, email, tenant-policy or authenticator change on any instance or from the CLI moves
// it, so the next lookup reads the database again. A sign-in's session check at /auth reuses the row
// its pages read seconds before; a token's lookups (token endpoint, userinfo) reuse one for a minute.
import type { Account, AccessToken, KoaContextWithOIDC } from 'oidc-provider';
import type { Repos } from '../store/repos.ts';
import { accountMfa, type MfaPolicySource } from '../domain/mfa/policy-source.ts';
import type { AccountMfa } from '../domain/mfa/requirement.ts';
import { KEPT_FOR_MS, type KeptAccountRows } from '../store/kept-account-rows.ts';

export interface GatehouseAccount extends Account {
  mfa: AccountMfa;
  tenant: { id: string; name: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TokenExtra {
  amr?: unknown;
  acr?: unknown;
  auth_time?: unknown;
}

/** amr/acr/auth_time that extraTokenClaims stored on the access token (so userinfo can repeat them). */
function authenticationClaims(token: AccessToken | undefined): TokenExtra {
  const extra = (token as { extra?: TokenExtra } | undefined)?.extra;
  if (!extra) return {};
  return {
    ...(Array.isArray(extra.amr) ? { amr: extra.amr } : {}),
    ...(typeof extra.acr === 'string' ? { acr: extra.acr } : {}),
    ...(typeof extra.auth_time === 'number' ? { auth_time: extra.auth_time } : {}),
  };
}

export function createFindAccount(
  accounts: Pick<KeptAccountRows, 'findById'>,
  authenticators: Pick<Repos['authenticators'], 'listForAccount'>,
  policy: MfaPolicySource,
) {
  const hasWebauthn = (accountId: string) => async () => (await authenticators.listForAccount(accountId)).some((a) => a.kind === 'webauthn');

  return async function findAccount(_ctx: KoaContextWithOIDC, sub: string, token?: unknown): Promise<GatehouseAccount | undefined> {
    if (!UUID.test(sub)) return undefined;
    // one query at most: account, tenant, parent policy, MFA status
    const account = await accounts.findById(sub, token === undefined ? KEPT_FOR_MS.signIn : KEPT_FOR_MS.token);
    // undefined, never null: the provider fails on null with a server error.
    if (!account || account.status !== 'active') return undefined;
    const fromToken = authenticationClaims(token as AccessToken | undefined);
    return {
      accountId: account.id,
      mfa: await accountMfa(account, policy, hasWebauthn(account.id)),
      tenant: { id: account.tenant.id, name: account.tenant.name },
      async claims() {
        return {
          sub: account.id,
          email: account.email,
          email_verified: account.emailVerified,
          name: account.name ?? undefined,
          tenant: { id: account.tenant.id, name: account.tenant.name },
          ...fromToken,
        };
      },
    };
  };
}
