// The CLI builds the same provider as the server to end sessions: logout tokens are signed with the
// current keys and delivered to each client's back-channel logout URI.
import path from 'node:path';
import type { Runtime } from '../runtime.ts';
import { root } from '../app.ts';
import { createViewRenderer } from '../http/views.ts';
import { createProviderFactory } from '../oidc/instance.ts';
import { endAccountSessions } from '../oidc/sessions.ts';
import { tenantTreePolicy } from '../domain/mfa/policy-source.ts';

export async function endSessionsOf(runtime: Runtime, accountId: string) {
  await runtime.keys.ensure();
  const factory = createProviderFactory(runtime, {
    views: createViewRenderer({ viewsDir: path.join(root, 'views') }),
    policy: tenantTreePolicy,
    clientCacheSeconds: 0,
    allowPrivateNetworks: runtime.config.fetchAllowPrivateNetworks,
  });
  const provider = factory.build(await runtime.keys.load());
  const ended = await endAccountSessions(provider, factory.StorageAdapter, accountId);
  await runtime.events.emit({ action: 'auth.signed_out', target: accountId, requestId: 'cli', detail: { sessions: ended.sessions, by: 'administrator' } });
  return ended;
}
