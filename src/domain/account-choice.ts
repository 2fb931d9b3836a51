// Which account a password opened (DESIGN.md §5 step 1): one email may own accounts in several
// tenants, each with its own password; when more than one opens, the user picks by tenant name.

export interface AccountCandidate {
  id: string;
  tenantId: string;
  tenantName: string;
  tenantSlug: string;
}

export type AccountChoice<A extends AccountCandidate> =
  | { kind: 'none' }
  | { kind: 'single'; account: A }
  | { kind: 'choose'; accounts: A[] };

export interface AccountChoiceInput<A extends AccountCandidate> {
  /** Accounts whose password matched. */
  candidates: readonly A[];
  /** `login_hint`: an account id or tenant slug narrows the choice; anything else (an email) does not. */
  loginHint?: string;
  /** A client bound to one tenant only signs in that tenant's accounts. */
  clientTenantId?: string | null;
}

/**
 * A client bound to a tenant receives accounts of that tenant only (DESIGN.md §8); an unbound client
 * receives any account. The sign-in pages offer only these, and an SSO session of another tenant must
 * sign in again for such a client.
 */
export const clientMayReceive = (clientTenantId: string | null | undefined, accountTenantId: string): boolean =>
  !clientTenantId || clientTenantId === accountTenantId;

export function chooseAccount<A extends AccountCandidate>({ candidates, loginHint, clientTenantId }: AccountChoiceInput<A>): AccountChoice<A> {
  const forClient = candidates.filter((a) => clientMayReceive(clientTenantId, a.tenantId));
  const hinted = narrowByHint(forClient, loginHint);
  const [first, ...rest] = hinted;
  if (!first) return { kind: 'none' };
  if (rest.length === 0) return { kind: 'single', account: first };
  return { kind: 'choose', accounts: hinted.sort(byTenantName) };
}

function narrowByHint<A extends AccountCandidate>(accounts: A[], loginHint: string | undefined): A[] {
  const hint = loginHint?.trim();
  if (!hint) return accounts;
  const matching = accounts.filter((a) => a.id === hint || a.tenantSlug.toLowerCase() === hint.toLowerCase());
  // A hint that names none of them (an email, a stale id) is ignored rather than refusing sign-in.
  return matching.length > 0 ? matching : accounts;
}

const byTenantName = (a: AccountCandidate, b: AccountCandidate) =>
  a.tenantName.localeCompare(b.tenantName, 'en', { sensitivity: 'base' }) || a.tenantSlug.localeCompare(b.tenantSlug) || a.id.localeCompare(b.id);
