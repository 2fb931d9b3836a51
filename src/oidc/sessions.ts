// Ending every SSO session of one account (an administrator's "sign out everywhere"): each relying
// party that registered a back-channel logout URI is told (logout token with sub and sid), the
// session's grants and their tokens are revoked, and the session is destroyed.
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

export async function endAccountSessions(provider: Provider, storage: GatehouseAdapterClass, accountId: string): Promise<EndedSessions> {
  const result: EndedSessions = { sessions: 0, notified: [], failed: [] };
  for (const id of await storage.listSessionIdsForAccount(accountId)) {
    const session = await provider.Session.find(id);
    if (!session || session.accountId !== accountId) continue;
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
  return result;
}
