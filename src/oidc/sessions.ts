// Ending SSO sessions of one account (an administrator's "sign out everywhere", the user's own
// Sessions page): each relying party that registered a back-channel logout URI is told (logout token
// with sub and sid), the session's grants and their tokens are revoked, and the session is destroyed.
import type { Provider } from 'oidc-provider';
import type { GatehouseAdapterClass } from './adapters/sql-adapter.ts';

/** oidc-provider's Client has this method (lib/models/client.js) but its typings do not declare it. */
interface BackchannelCapable {
  backchannelLogout(sub: string, sid: string): Promise<unknown>;
}

export interface EndedSessions {
  sessions: number;
  notified: string[];
  failed: string[];
}

type Session = InstanceType<Provider['Session']>;

/** One live session of the account: its uid (never its id, which is the cookie's value) and apps. */
export interface AccountSession {
  uid: string;
  /** epoch seconds of the last interactive sign-in in it. */
  loginTs: number | undefined;
  clientIds: string[];
}

async function sessionsOf(provider: Provider, storage: GatehouseAdapterClass, accountId: string): Promise<Session[]> {
  const found: Session[] = [];
  for (const id of await storage.listSessionIdsForAccount(accountId)) {
    const session = await provider.Session.find(id);
    if (session && session.accountId === accountId) found.push(session);
  }
  return found;
}

async function endSession(provider: Provider, storage: GatehouseAdapterClass, accountId: string, session: Session, result: EndedSessions): Promise<void> {
  for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
    const client = await provider.Client.find(clientId);
    if (client?.backchannelLogoutUri) {
      try {
        await (client as unknown as BackchannelCapable).backchannelLogout(accountId, session.sidFor(clientId) ?? '');
        result.notified.push(clientId);
      } catch {
        result.failed.push(clientId);
      }
    }
    if (authorization.grantId) {
      await new storage('Grant').revokeByGrantId(authorization.grantId);
      await new storage('Grant').destroy(authorization.grantId);
    }
  }
  await session.destroy();
  result.sessions += 1;
}

/** Ends the account's sessions, except the one whose uid is `keepUid` (the user's own browser). */
export async function endAccountSessions(provider: Provider, storage: GatehouseAdapterClass, accountId: string, keepUid?: string): Promise<EndedSessions> {
  const result: EndedSessions = { sessions: 0, notified: [], failed: [] };
  for (const session of await sessionsOf(provider, storage, accountId)) {
    if (session.uid !== keepUid) await endSession(provider, storage, accountId, session, result);
  }
  return result;
}

/** Ends one session of the account, named by uid; nothing when it is not the account's. */
export async function endAccountSession(provider: Provider, storage: GatehouseAdapterClass, accountId: string, uid: string): Promise<EndedSessions> {
  const result: EndedSessions = { sessions: 0, notified: [], failed: [] };
  const session = (await sessionsOf(provider, storage, accountId)).find((s) => s.uid === uid);
  if (session) await endSession(provider, storage, accountId, session, result);
  return result;
}

export async function listAccountSessions(provider: Provider, storage: GatehouseAdapterClass, accountId: string): Promise<AccountSession[]> {
  return (await sessionsOf(provider, storage, accountId)).map((s) => ({ uid: s.uid, loginTs: s.loginTs, clientIds: Object.keys(s.authorizations ?? {}) }));
}
