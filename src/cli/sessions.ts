// The CLI's session store for "sign out everywhere" (src/domain/sessions.ts): the provider the server
// would build (same ISSUER, signing keys, clients and FETCH_ALLOW_PRIVATE_NETWORKS), built on first use
// only, so that commands which end no session never load keys.
import path from 'node:path';
import type { Provider } from 'oidc-provider';
import type { Runtime } from '../runtime.ts';
import type { SessionStore } from '../domain/sessions.ts';
import { root } from '../app.ts';
import { createViewRenderer } from '../http/views.ts';
import { createProviderFactory } from '../oidc/instance.ts';
import { createProviderSessionStore } from '../oidc/sessions.ts';
import { tenantTreePolicy } from '../domain/mfa/policy-source.ts';

export function cliSessionStore(runtime: Runtime): SessionStore {
  const factory = createProviderFactory(runtime, {
    views: createViewRenderer({ viewsDir: path.join(root, 'views') }),
    policy: tenantTreePolicy,
    clientCacheSeconds: 0,
    allowPrivateNetworks: runtime.config.fetchAllowPrivateNetworks,
  });
  let provider: Promise<Provider> | undefined;
  const build = async () => {
    await runtime.keys.ensure();
    return factory.build(await runtime.keys.load());
  };
  return createProviderSessionStore(() => (provider ??= build()), factory.StorageAdapter);
}
