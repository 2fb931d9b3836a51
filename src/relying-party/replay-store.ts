/**
 * Remembering logout-token ids (OpenID Connect Back-Channel Logout 1.0 §2.6 step 8, "the RP SHOULD
 * refuse a jti it has seen"). The kit asks the store once per valid token; an RP running several
 * instances passes a store they share (Redis `SET key 1 NX PXAT expiresAt` is one line of it).
 */

export interface ReplayStore {
  /**
   * Records `key` until `expiresAtSeconds` (epoch seconds) and answers true, or answers false when the
   * key is recorded already and has not expired. Must be atomic across everything sharing the store.
   */
  firstUse(key: string, expiresAtSeconds: number): boolean | Promise<boolean>;
}

/**
 * A store in process memory. Entries live only as long as the token they stand for could be accepted
 * (the kit caps that at the token's maximum age), and expired ones are dropped as new ones arrive, so
 * it stays small. It only protects one process: several instances need a shared store.
 */
export function createMemoryReplayStore(clock: () => Date = () => new Date()): ReplayStore {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    firstUse(key, expiresAtSeconds) {
      const now = clock().getTime() / 1000;
      if (now >= nextSweep) {
        for (const [k, until] of seen) if (until <= now) seen.delete(k);
        nextSweep = now + 30;
      }
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.set(key, expiresAtSeconds);
      return true;
    },
  };
}

/** The store validateLogoutToken uses when the caller passes none: one per process. */
export const defaultReplayStore: ReplayStore = createMemoryReplayStore();
