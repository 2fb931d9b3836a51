// The session store behind the domain's "sign out everywhere" (src/domain/sessions.ts), on
// oidc-provider: each relying party that registered a back-channel logout URI is told (logout token
// with sub and sid, signed with the provider's keys), the session's grants and their tokens are
// revoked, and the session is destroyed.
import type { Provider } from 'oidc-provider';
import type { EndedSessions, SessionStore } from '../domain/sessions.ts';
import type { GatehouseAdapterClass } from './adapters/sql-adapter.ts';

/** oidc-provider's Client has this method (lib/models/client.js) but its typings do not declare it. */
interface BackchannelCapable {
  backchannelLogout(sub: string, sid: string): Promise<unknown>;
}

/** `provider` answers the provider of the moment (the server rebuilds it when the keys change). */
export function createProviderSessionStore(provider: () => Provider | Promise<Provider>, storage: GatehouseAdapterClass): SessionStore {
  return {
    async endAll(accountId) {
      const current = await provider();
      const result: EndedSessions = { sessions: 0, notified: [], failed: [] };
      for (const id of await storage.listSessionIdsForAccount(accountId)) {
        const session = await current.Session.find(id);
        if (!session || session.accountId !== accountId) continue;
        for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
          const client = await current.Client.find(clientId);
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
    },
  };
}
