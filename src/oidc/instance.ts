// Builds Gatehouse's oidc-provider from the runtime: DB clients, storage adapter, findAccount,
// pages for errors and logout. The server rebuilds it when the key set changes; the CLI builds one
// to end a user's sessions (back-channel logout needs the provider's signing keys and clients).
import type { Context } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Runtime } from '../runtime.ts';
import type { ViewRenderer } from '../http/views.ts';
import { prefersJson, toErrorResponse } from '../http/errors.ts';
import type { MfaPolicySource } from '../domain/mfa/policy-source.ts';
import { createProvider } from './provider.ts';
import { createClientAdapterClass } from './clients.ts';
import { createFindAccount } from './accounts.ts';
import { createStorageAdapter } from './adapters/index.ts';
import { UnstoredAdapter } from './adapters/unstored.ts';
import { createSessionActivity } from './session-activity.ts';
import type { KeyMaterial } from './keys.ts';

export interface ProviderFactoryOptions {
  views: ViewRenderer;
  policy: MfaPolicySource;
  clientCacheSeconds: number;
  /** lets oidc-provider call relying parties on loopback/private addresses (development and tests). */
  allowPrivateNetworks: boolean;
}

/** The provider's own fetch refuses private addresses (SSRF guard); this one keeps timeout and headers but not that guard. */
const fetchAllowingPrivateNetworks = (input: string | URL | Request, init?: RequestInit) => {
  const { dispatcher: _guard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
  return globalThis.fetch(input, rest);
};

/** The id requestContext gave this request (Gatehouse's middleware runs in the provider's own context). */
const requestIdFrom = (ctx: Context): string | undefined => {
  const id: unknown = ctx.state.requestId;
  return typeof id === 'string' && id ? id : undefined;
};

export function createProviderFactory(runtime: Runtime, options: ProviderFactoryOptions) {
  const { config, logger, repos, events } = runtime;
  const { views } = options;
  const ClientAdapter = createClientAdapterClass(repos.clients, runtime.signals, options.clientCacheSeconds);
  const StorageAdapter = createStorageAdapter(runtime);
  const findAccount = createFindAccount(runtime.accountRows, repos.authenticators, options.policy);
  const sessionActivity = createSessionActivity(runtime.kv, config.ttl.session);

  function build(keys: KeyMaterial): Provider {
    const provider = createProvider(config, keys, {
      adapter: (name) => (name === 'Client' ? new ClientAdapter() : name === 'ClientCredentials' ? new UnstoredAdapter(name) : new StorageAdapter(name)),
      findAccount,
      async renderError(ctx, out, error) {
        const status = ctx.status >= 400 ? ctx.status : 400;
        const requestId = requestIdFrom(ctx);
        if (status >= 500) logger.error({ err: error, requestId }, 'oidc-provider error');
        const message = out.error_description ?? toErrorResponse(error).message;
        if (prefersJson(ctx)) {
          ctx.body = { error: out.error, error_description: message, request_id: requestId };
          return;
        }
        ctx.type = 'html';
        ctx.body = await views.renderToString('error', {
          title: 'Sign-in problem',
          heading: status >= 500 ? 'Something went wrong' : 'This sign-in request cannot be completed',
          message: `${message} (${out.error})`,
          requestId,
        });
      },
      async logoutSource(ctx: KoaContextWithOIDC, form: string) {
        ctx.type = 'html';
        ctx.body = await views.renderToString('logout', { title: 'Sign out', form, clientName: ctx.oidc.client?.clientName });
      },
      async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
        ctx.type = 'html';
        ctx.body = await views.renderToString('logged-out', { title: 'Signed out', clientName: ctx.oidc.client?.clientName });
      },
      ...(options.allowPrivateNetworks ? { fetch: fetchAllowingPrivateNetworks } : {}),
    });
    provider.on('server_error', (_ctx, err) => logger.error({ err }, 'oidc-provider server_error'));
    provider.on('backchannel.error', (_ctx, err, client) => logger.warn({ err, clientId: client.clientId }, 'back-channel logout delivery failed'));
    provider.on('authorization.success', (ctx) => {
      const session = ctx.oidc.session;
      if (!session?.accountId || !session.loginTs) return;
      sessionActivity
        .record(session.uid, { accountId: session.accountId, loginTs: session.loginTs, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined })
        .catch((err: unknown) => logger.warn({ err }, 'session activity could not be recorded'));
    });
    provider.on('end_session.success', (ctx) => {
      void events.emit({ action: 'auth.signed_out', actorAccountId: ctx.oidc.session?.accountId, ip: ctx.ip, requestId: requestIdFrom(ctx) });
    });
    return provider;
  }

  return { build, StorageAdapter, sessionActivity };
}

export type ProviderFactory = ReturnType<typeof createProviderFactory>;
