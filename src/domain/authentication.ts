// Password sign-in (DESIGN.md §5.1): unknown email and wrong password answer the same and take the
// same time; attempts are limited per account and per IP with counters shared by all instances.
import type { PasswordHasher } from './passwords.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';

export type Limit = (key: string, max: number, windowSeconds: number) => Promise<{ allowed: boolean; retryAfterSeconds: number }>;

export interface Candidate {
  id: string;
  tenantId: string;
  tenantName: string;
  tenantSlug: string;
  email: string;
}

export type PasswordOutcome =
  | { ok: true; candidates: Candidate[] }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

/** What the password step reads of an account (the accounts repository returns more). */
export interface PasswordAccount {
  id: string;
  tenantId: string;
  email: string;
  status: 'active' | 'disabled';
  passwordHash: string | null;
  tenant: { name: string; slug: string };
}

export interface PasswordAccounts {
  findByEmail(email: string): Promise<PasswordAccount[]>;
  updatePasswordHash(id: string, hash: string): Promise<unknown>;
}

export interface PasswordLimits {
  loginPerAccount: number;
  loginPerIp: number;
  windowSeconds: number;
}

export function createPasswordAuthenticator(deps: {
  accounts: PasswordAccounts;
  hasher: PasswordHasher;
  limit: Limit;
  limits: PasswordLimits;
  events: SecurityEvents;
}) {
  const { accounts, hasher, limit, limits, events } = deps;

  return async function authenticate(email: string, password: string, request: RequestInfo): Promise<PasswordOutcome> {
    const normalised = email.trim().toLowerCase();
    const [perIp, perAccount] = await Promise.all([
      limit(`login:ip:${request.ip ?? 'unknown'}`, limits.loginPerIp, limits.windowSeconds),
      limit(`login:account:${normalised}`, limits.loginPerAccount, limits.windowSeconds),
    ]);
    if (!perIp.allowed || !perAccount.allowed) {
      await events.emit({ action: 'auth.rate_limited', ...request, detail: { scope: perIp.allowed ? 'account' : 'ip' } });
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(perIp.retryAfterSeconds, perAccount.retryAfterSeconds) };
    }

    const found = (await accounts.findByEmail(normalised)).filter((a) => a.status === 'active' && a.passwordHash);
    const results = found.length
      ? await Promise.all(found.map(async (a) => ({ account: a, ...(await hasher.verify(a.passwordHash, password)) })))
      : [{ account: undefined, ...(await hasher.verify(null, password)) }];

    const matched = results.filter((r) => r.ok && r.account);
    if (matched.length === 0) {
      await events.emit({ action: 'auth.password.failed', ...request, detail: { accounts: found.length } });
      return { ok: false, reason: 'bad_credentials' };
    }
    for (const r of matched) {
      if (r.account && r.needsRehash) await accounts.updatePasswordHash(r.account.id, await hasher.hash(password));
    }
    return {
      ok: true,
      candidates: matched.flatMap((r) =>
        r.account ? [{ id: r.account.id, tenantId: r.account.tenantId, tenantName: r.account.tenant.name, tenantSlug: r.account.tenant.slug, email: r.account.email }] : [],
      ),
    };
  };
}

export type PasswordAuthenticator = ReturnType<typeof createPasswordAuthenticator>;
