// findAccount: one query per lookup (account + tenant + parent policy), claims per DESIGN.md §6.
// Lookups for a token (token endpoint, userinfo) are served from memory under the accounts' change
// generation (src/store/change-signals.ts): disabling, a role, email, tenant-policy or authenticator
// change on any instance or from the CLI moves it, so the next lookup reads the database again.
// Lookups without a token (a sign-in's session check) always read it, and leave what they read for the
// token exchange that follows the sign-in.
import type { Account, AccessToken, KoaContextWithOIDC } from 'oidc-provider';
import type { Repos } from '../store/repos.ts';
import { accountMfa, type MfaPolicySource } from '../domain/mfa/policy-source.ts';
import type { AccountMfa } from '../domain/mfa/requirement.ts';
import type { ChangeSignals } from '../store/change-signals.ts';

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

type AccountRow = Awaited<ReturnType<Repos['accounts']['findById']>>;

const MAX_CACHED = 10_000;
/** How long a row is served even when no change was announced. */
const MAX_AGE_MS = 60_000;

export function createFindAccount(
  accounts: Pick<Repos['accounts'], 'findById'>,
  authenticators: Pick<Repos['authenticators'], 'listForAccount'>,
  policy: MfaPolicySource,
  signals: Pick<ChangeSignals, 'generation'>,
) {
  const hasWebauthn = (accountId: string) => async () => (await authenticators.listForAccount(accountId)).some((a) => a.kind === 'webauthn');
  const cache = new Map<string, { at: number; generation: number; row: AccountRow }>();

  async function read(sub: string, forToken: boolean): Promise<AccountRow> {
    // read before the row: a change announced meanwhile leaves the row under the older generation
    const generation = await signals.generation('accounts');
    if (generation === undefined) return accounts.findById(sub);
    const hit = forToken ? cache.get(sub) : undefined;
    if (hit && hit.generation === generation && Date.now() - hit.at < MAX_AGE_MS) return hit.row;
    const row = await accounts.findById(sub);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(sub, { at: Date.now(), generation, row });
    return row;
  }

  return async function findAccount(_ctx: KoaContextWithOIDC, sub: string, token?: unknown): Promise<GatehouseAccount | undefined> {
    if (!UUID.test(sub)) return undefined;
    const account = await read(sub, token !== undefined); // one query: account, tenant, parent policy, MFA status
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
