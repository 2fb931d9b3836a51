// Account rows kept in memory under the accounts' change generation (src/store/change-signals.ts), for
// the sign-in path: the password step reads the accounts of an email, and the pages and protocol
// requests that follow within seconds (the account chosen, the second factor, the session check at
// /auth, the token exchange) read the same row again. Any announced change to an account, its tenant's
// policy or its authenticators, on any instance or from the CLI, moves the generation, so the next
// read goes to the database at once; the age limit covers a change made behind the repositories' back.
// Without a generation (PostgreSQL without Redis) every read goes to the database.
import type { AccountRepo, AccountWithTenant } from './repositories/accounts.ts';
import type { ChangeSignals } from './change-signals.ts';

const MAX_KEPT = 10_000;

/**
 * How long a kept row may serve when no change was announced: the requests of one sign-in follow each
 * other within seconds; a token's lookups (token endpoint, userinfo) may serve it for a minute.
 */
export const KEPT_FOR_MS = { signIn: 10_000, token: 60_000 } as const;

export interface KeptAccountRows {
  /** The row, from memory when it was read under the current generation at most `maxAgeMs` ago. */
  findById(id: string, maxAgeMs: number): Promise<AccountWithTenant | undefined>;
  /** Every account of this email, always read from the database, each row then kept for findById. */
  findByEmail(email: string): Promise<AccountWithTenant[]>;
}

export function keepAccountRows(
  accounts: Pick<AccountRepo, 'findById' | 'findByEmail'>,
  signals: Pick<ChangeSignals, 'generation'>,
  now: () => number = Date.now,
): KeptAccountRows {
  const kept = new Map<string, { at: number; generation: number; row: AccountWithTenant | undefined }>();
  const keep = (id: string, generation: number, row: AccountWithTenant | undefined) => {
    if (kept.size >= MAX_KEPT) kept.clear();
    kept.set(id, { at: now(), generation, row });
  };
  return {
    async findById(id, maxAgeMs) {
      // read before the row: a change announced meanwhile leaves the row under the older generation
      const generation = await signals.generation('accounts');
      if (generation === undefined) return accounts.findById(id);
      const hit = kept.get(id);
      if (hit && hit.generation === generation && now() - hit.at <= maxAgeMs) return hit.row;
      const row = await accounts.findById(id);
      keep(id, generation, row);
      return row;
    },
    async findByEmail(email) {
      const generation = await signals.generation('accounts');
      const rows = await accounts.findByEmail(email);
      if (generation !== undefined) for (const row of rows) keep(row.id, generation, row);
      return rows;
    },
  };
}
