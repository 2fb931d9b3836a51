// Builds Gatehouse's oidc-provider from the runtime: DB clients, storage adapter, findAccount,
// pages for errors and logout. The server rebuilds it when the key set changes; the CLI builds one
// to end a user's sessions (back-channel logout needs the provider's signing keys and clients).
import type { Context } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Runtime } from '../runtime.ts';
import type { ViewRenderer } from '../http/views.ts';
import { NOT_FOUND_MESSAGE, headingFor, prefersJson, toErrorResponse } from '../http/errors.ts';
import { REQUEST_ID_HEADER } from '../http/request-context.ts';
import type { MfaPolicySource } from '../domain/mfa/policy-source.ts';
import { createProvider } from './provider.ts';
import { createClientAdapterClass } from './clients.ts';
import { createFindAccount } from './accounts.ts';
import { createStorageAdapter } from './adapters/index.ts';
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

/**
 * oidc-provider runs its own Koa context, whose `state` does not hold the app's request id; the id is
 * read back from the response header that requestContext already set.
 */
const requestIdFrom = (ctx: Context): string | undefined => {
  const id: unknown = ctx.state.requestId ?? ctx.response.get(REQUEST_ID_HEADER);
  return typeof id === 'string' && id ? id : undefined;
};

export function createProviderFactory(runtime: Runtime, options: ProviderFactoryOptions) {
  const { config, logger, repos, events } = runtime;
  const { views } = options;
  const ClientAdapter = createClientAdapterClass(repos.clients, options.clientCacheSeconds);
  const StorageAdapter = createStorageAdapter(runtime);
  const findAccount = createFindAccount(repos.accounts, options.policy);

  function build(keys: KeyMaterial): Provider {
    const provider = createProvider(config, keys, {
      adapter: (name) => (name === 'Client' ? new ClientAdapter() : new StorageAdapter(name)),
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
    // oidc-provider 9 has no 404 handler (notes §9): a path none of its routes answers would get Koa's
    // bare "Not Found"; it gets the same 404 page (or JSON) as the rest of Gatehouse instead.
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.status !== 404 || ctx.body != null) return;
      const requestId = requestIdFrom(ctx);
      if (prefersJson(ctx)) {
        ctx.body = { error: 'not_found', error_description: NOT_FOUND_MESSAGE, request_id: requestId };
      } else {
        ctx.type = 'html';
        ctx.body = await views.renderToString('error', { title: headingFor(404), heading: headingFor(404), message: NOT_FOUND_MESSAGE, requestId });
      }
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-store');
    });
    provider.on('server_error', (_ctx, err) => logger.error({ err }, 'oidc-provider server_error'));
    provider.on('backchannel.error', (_ctx, err, client) => logger.warn({ err, clientId: client.clientId }, 'back-channel logout delivery failed'));
    provider.on('end_session.success', (ctx) => {
      void events.emit({ action: 'auth.signed_out', actorAccountId: ctx.oidc.session?.accountId, ip: ctx.ip, requestId: requestIdFrom(ctx) });
    });
    return provider;
  }

  return { build, StorageAdapter };
}

export type ProviderFactory = ReturnType<typeof createProviderFactory>;
