// Password sign-in: unknown email and wrong password answer the same and take the
// same time; guessing is limited by counters shared by all instances.
//
// Why these three limits, and not "N attempts per email": a limit on attempts per email that runs
// before the password check lets anyone who knows an email keep its owner out (send N wrong
// passwords every window, and the owner's correct one is refused too). So:
// 1. attempts per client network (IPv4 address or IPv6 /64), counted before the check: one network
//    cannot spray many accounts;
// 2. wrong passwords per (email, client network), a small number: guessing from one network stops
//    quickly, and only that network is refused — the owner elsewhere is not affected;
// 3. wrong passwords per email from all networks, a higher ceiling against guessing spread over many
//    networks; once it is reached, only networks where that email signed in recently (a mark kept
//    for LOGIN_KNOWN_NETWORK_SECONDS) may still try, so the owner at home or at the office still
//    gets in while the attack goes on. An owner on a new network waits for the window to end.
// Failures are reserved before the check (the count moves first, then the password is verified), so
// parallel guesses cannot exceed a limit, and a correct password clears that email's failure counts.
// The three are counted in turn in one store operation; a limit that refuses stops the count there.
import type { PasswordHasher } from './passwords.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import { clientNetwork } from './network.ts';

export type Limit = (key: string, max: number, windowSeconds: number) => Promise<{ allowed: boolean; retryAfterSeconds: number }>;

/** One attempt against each limit in turn, stopping at the first that refuses; the results counted, in order. */
export type LimitInTurn = (limits: readonly { key: string; max: number; windowSeconds: number }[]) => Promise<{ allowed: boolean; retryAfterSeconds: number }[]>;

/** What the password step needs of the rate limiter (src/http/rate-limit.ts builds it). */
export interface LoginThrottle {
  limitInTurn: LimitInTurn;
  /** Forgets the current window's count of a key. */
  reset(key: string, windowSeconds: number): Promise<void>;
  /** Remembers that an email signed in from a network. */
  marks: { has(key: string): Promise<boolean>; set(key: string, ttlSeconds: number): Promise<void> };
}

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
  /** attempts per client network per window (counted before the check). */
  loginPerIp: number;
  /** wrong passwords per email and client network per window. */
  loginPerAccountIp: number;
  /** wrong passwords per email from all networks per window, before only known networks may try. */
  loginPerAccount: number;
  windowSeconds: number;
  /** how long a successful sign-in makes its network "known" for that email. */
  knownNetworkSeconds: number;
}

/** The scopes of the three limits, in the order they are counted. */
const LIMIT_SCOPES = ['ip', 'account_network', 'account'] as const;

export function createPasswordAuthenticator(deps: {
  accounts: PasswordAccounts;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  limits: PasswordLimits;
  events: SecurityEvents;
}) {
  const { accounts, hasher, throttle, limits, events } = deps;
  const window = limits.windowSeconds;

  const refuse = async (request: RequestInfo, scope: 'ip' | 'account_network' | 'account', retryAfterSeconds: number): Promise<PasswordOutcome> => {
    await events.emit({ action: 'auth.rate_limited', ...request, detail: { scope } });
    return { ok: false, reason: 'rate_limited', retryAfterSeconds };
  };

  return async function authenticate(email: string, password: string, request: RequestInfo): Promise<PasswordOutcome> {
    const normalised = email.trim().toLowerCase();
    const network = clientNetwork(request.ip);
    const pairKey = `login:failures:${normalised}|${network}`;
    const accountKey = `login:failures:${normalised}`;
    const knownKey = `login:known:${normalised}|${network}`;

    const counted = await throttle.limitInTurn([
      { key: `login:ip:${network}`, max: limits.loginPerIp, windowSeconds: window },
      { key: pairKey, max: limits.loginPerAccountIp, windowSeconds: window },
      { key: accountKey, max: limits.loginPerAccount, windowSeconds: window },
    ]);
    const refusedAt = counted.findIndex((r) => !r.allowed);
    const scope = LIMIT_SCOPES[refusedAt];
    if (scope && (scope !== 'account' || !(await throttle.marks.has(knownKey)))) return refuse(request, scope, counted[refusedAt]?.retryAfterSeconds ?? window);

    const found = (await accounts.findByEmail(normalised)).filter((a) => a.status === 'active' && a.passwordHash);
    const results = found.length
      ? await Promise.all(found.map(async (a) => ({ account: a, ...(await hasher.verify(a.passwordHash, password)) })))
      : [{ account: undefined, ...(await hasher.verify(null, password)) }];

    const matched = results.filter((r) => r.ok && r.account);
    if (matched.length === 0) {
      await events.emit({ action: 'auth.password.failed', ...request, detail: { accounts: found.length } });
      return { ok: false, reason: 'bad_credentials' };
    }
    // The reserved failure slots were not failures: clear this email's counts, and remember the network.
    await Promise.all([throttle.reset(pairKey, window), throttle.reset(accountKey, window), throttle.marks.set(knownKey, limits.knownNetworkSeconds)]);
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
