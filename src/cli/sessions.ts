// The CLI's session store for "sign out everywhere" (src/domain/sessions.ts): the provider the server
// would build (same ISSUER, signing keys, clients and FETCH_ALLOW_PRIVATE_NETWORKS), built on first use
// only, so that commands which end no session never load keys, views or oidc-provider.
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../runtime.ts';
import type { SessionStore } from '../domain/sessions.ts';

const viewsDir = fileURLToPath(new URL('../../views', import.meta.url));

async function buildSessionStore(runtime: Runtime): Promise<SessionStore> {
  const [{ createViewRenderer }, { createProviderFactory }, { createProviderSessionStore }, { tenantTreePolicy }] = await Promise.all([
    import('../http/views.ts'),
    import('../oidc/instance.ts'),
    import('../oidc/sessions.ts'),
    import('../domain/mfa/policy-source.ts'),
  ]);
  const factory = createProviderFactory(runtime, {
    views: createViewRenderer({ viewsDir }),
    policy: tenantTreePolicy,
    clientCacheSeconds: 0,
    allowPrivateNetworks: runtime.config.fetchAllowPrivateNetworks,
  });
  await runtime.keys.ensure();
  const provider = factory.build(await runtime.keys.load());
  return createProviderSessionStore(() => provider, factory.StorageAdapter);
}

export function cliSessionStore(runtime: Runtime): SessionStore {
  let store: Promise<SessionStore> | undefined;
  return {
    endAll: async (accountId) => (await (store ??= buildSessionStore(runtime))).endAll(accountId),
  };
}
