// What the Sessions page shows about an SSO session beyond what oidc-provider keeps: the address and
// browser it signed in from and when it was last used. Recorded on each successful authorization
// (keyed by the session's uid, never its id: the id is the cookie's value), for as long as a session lives.
import type { Kv } from '../store/kv.ts';

export interface SessionActivityRecord {
  accountId: string;
  /** epoch seconds of the sign-in this record describes (the session's loginTs). */
  signedInAt: number;
  ip: string | null;
  userAgent: string | null;
  /** epoch seconds of the last authorization in this session. */
  lastSeenAt: number;
}

const key = (uid: string) => `session-activity:${uid}`;

export function createSessionActivity(kv: Kv, ttlSeconds: number) {
  return {
    /** A new sign-in in the session records where it came from; a later authorization only its time. */
    async record(uid: string, input: { accountId: string; loginTs: number; ip: string | undefined; userAgent: string | undefined }, now = new Date()): Promise<void> {
      const t = Math.floor(now.getTime() / 1000);
      const existing = await kv.get<SessionActivityRecord>(key(uid));
      const same = existing && existing.accountId === input.accountId && existing.signedInAt === input.loginTs;
      await kv.set(
        key(uid),
        same ? { ...existing, lastSeenAt: t } : { accountId: input.accountId, signedInAt: input.loginTs, ip: input.ip ?? null, userAgent: input.userAgent?.slice(0, 512) ?? null, lastSeenAt: t },
        ttlSeconds,
      );
    },
    get: (uid: string) => kv.get<SessionActivityRecord>(key(uid)),
  };
}

export type SessionActivity = ReturnType<typeof createSessionActivity>;
