// The user's own sessions (Sessions page of /account): every SSO session of the account with the apps
// signed in through it, when and from where it signed in and was last used; end one, or all but the
// current one (grants and refresh tokens revoked, back-channel logout sent); and the browsers
// remembered to skip the code, each of which can be forgotten.
import { GatehouseError } from './errors.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import type { RememberedBrowsers, RememberedBrowserView } from './mfa/remembered-browsers.ts';

export interface SessionsPort {
  list(accountId: string): Promise<{ uid: string; loginTs: number | undefined; clientIds: string[] }[]>;
  /** ends one session (by uid); returns how many ended (0 or 1). */
  end(accountId: string, uid: string): Promise<number>;
  /** ends every session but `keepUid`; returns how many ended. */
  endOthers(accountId: string, keepUid: string): Promise<number>;
}

export interface SessionView {
  uid: string;
  current: boolean;
  apps: string[];
  signedInAt: Date | null;
  lastSeenAt: Date | null;
  ip: string | null;
  userAgent: string | null;
}

interface Owner {
  id: string;
  tenant: { id: string };
}

const UID = /^[A-Za-z0-9_-]{1,64}$/;

export function createAccountSessions(deps: {
  sessions: SessionsPort;
  activity: { get(uid: string): Promise<{ accountId: string; ip: string | null; userAgent: string | null; lastSeenAt: number } | undefined> };
  /** the display name of a client id (the id itself when unknown). */
  clientName: (clientId: string) => Promise<string>;
  remembered: Pick<RememberedBrowsers, 'list' | 'forget'>;
  events: SecurityEvents;
}) {
  const who = (owner: Owner, request: RequestInfo) => ({ actorAccountId: owner.id, tenantId: owner.tenant.id, target: owner.id, ...request });
  const at = (seconds: number | undefined) => (seconds ? new Date(seconds * 1000) : null);

  return {
    async list(owner: Owner, currentUid: string): Promise<{ sessions: SessionView[]; browsers: RememberedBrowserView[] }> {
      const sessions = await Promise.all(
        (await deps.sessions.list(owner.id)).map(async (s) => {
          const activity = await deps.activity.get(s.uid);
          const mine = activity?.accountId === owner.id ? activity : undefined;
          return {
            uid: s.uid,
            current: s.uid === currentUid,
            apps: await Promise.all(s.clientIds.map((id) => deps.clientName(id))),
            signedInAt: at(s.loginTs),
            lastSeenAt: at(mine?.lastSeenAt),
            ip: mine?.ip ?? null,
            userAgent: mine?.userAgent ?? null,
          };
        }),
      );
      // the current one first, then the most recently used
      sessions.sort((a, b) => Number(b.current) - Number(a.current) || (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
      return { sessions, browsers: await deps.remembered.list(owner.id) };
    },

    /** Signs one other session out; the current one is ended with "Sign out". */
    async end(owner: Owner, uid: string, currentUid: string, request: RequestInfo): Promise<void> {
      if (uid === currentUid) throw new GatehouseError('current_session', 400, 'This is the session you are using. To end it, select Sign out.');
      const ended = UID.test(uid) ? await deps.sessions.end(owner.id, uid) : 0;
      if (ended === 0) throw new GatehouseError('not_found', 404, 'That session has already ended.');
      await deps.events.emit({ action: 'account.session.ended', ...who(owner, request), detail: { sessions: 1, by: 'self' } });
    },

    async endOthers(owner: Owner, currentUid: string, request: RequestInfo): Promise<number> {
      const ended = await deps.sessions.endOthers(owner.id, currentUid);
      if (ended > 0) await deps.events.emit({ action: 'account.session.ended', ...who(owner, request), detail: { sessions: ended, by: 'self', others: true } });
      return ended;
    },

    async forgetBrowser(owner: Owner, id: string, request: RequestInfo): Promise<void> {
      if (!(await deps.remembered.forget({ id: owner.id, tenantId: owner.tenant.id }, id, request))) throw new GatehouseError('not_found', 404, 'That browser is no longer remembered.');
    },
  };
}

export type AccountSessions = ReturnType<typeof createAccountSessions>;
