// Wires the admin surfaces into the app: the admin use cases (with the runtime's session ending),
// the JSON API at /api/v1 and the admin console at /admin (a first-party client of Gatehouse itself).
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Runtime } from '../runtime.ts';
import type { ViewRenderer } from '../http/views.ts';
import { createAdmin, type Admin } from '../domain/admin/index.ts';
import { ACR_MFA } from '../domain/amr.ts';
import { API_SCOPES, apiResource } from '../oidc/provider.ts';
import type { ProviderFactory } from '../oidc/instance.ts';
import { createIssuerKeys } from '../console/issuer-keys.ts';
import { createConsole, type Console } from '../console/framework.ts';
import { createTokenEndpoint } from '../console/token-endpoint.ts';
import { createApiAuth } from '../api/auth.ts';
import { createApiRouter } from '../api/routes.ts';
import type { MfaPolicySource } from '../domain/mfa/policy-source.ts';
import { ADMIN_BASE, createAdminPages } from './pages.ts';
import { createScim } from '../domain/scim/service.ts';
import { createScimRouter, SCIM_PREFIX } from '../scim/routes.ts';

export interface AdminSurfacesOptions {
  runtime: Runtime;
  views: ViewRenderer;
  provider: () => Provider;
  factory: ProviderFactory;
  secure: boolean;
  pageMiddleware: (purpose: string) => Middleware[];
  now?: (() => Date) | undefined;
  policy: MfaPolicySource;
}

export interface AdminSurfaces {
  admin: Admin;
  console: Console;
  api: Middleware;
  /** SCIM 2.0 provisioning at /scim/v2, authorized like the API. */
  scim: Middleware;
  pages: Middleware;
  /** registers the console's client; run once at start. */
  start(): Promise<void>;
}

export function createAdminSurfaces(options: AdminSurfacesOptions): AdminSurfaces {
  const { runtime, provider } = options;
  const { repos, config } = runtime;
  const admin = createAdmin(
    {
      repos,
      events: runtime.events,
      endSessions: runtime.sessions.end,
      now: options.now,
      policy: options.policy,
      links: runtime.links,
      postbox: runtime.mail.postbox,
    },
    { validateMetadata: async (metadata) => void (await provider().Client.validate(metadata as Parameters<Provider['Client']['validate']>[0])) },
  );
  const keys = createIssuerKeys({ load: () => runtime.keys.load() });
  const adminConsole = createConsole(
    {
      id: 'admin',
      basePath: ADMIN_BASE,
      clientId: 'gatehouse-admin',
      clientName: 'Gatehouse admin console',
      requiredAcr: ACR_MFA,
      apiScopes: API_SCOPES,
      apiResource: apiResource(config.issuer),
    },
    {
      issuer: config.issuer,
      secure: options.secure,
      kv: runtime.kv,
      clients: repos.clients,
      accounts: repos.accounts,
      getKey: keys.getKey,
      provider,
      tokenEndpoint: createTokenEndpoint({ issuer: config.issuer }),
    },
  );
  const apiAuth = createApiAuth({ issuer: config.issuer, getKey: keys.getKey, repos });
  const api = createApiRouter({ admin, auth: apiAuth, issuer: config.issuer, logger: runtime.logger, views: options.views, extras: { userImport: runtime.userImport, idps: runtime.idps } });
  const pages = createAdminPages({ admin, console: adminConsole, views: options.views, pageMiddleware: options.pageMiddleware('admin'), idps: runtime.idps, userImport: runtime.userImport });
  const scim = createScimRouter({
    scim: createScim({ repos, events: runtime.events, users: admin.users, endSessions: runtime.sessions.end, baseUrl: `${config.issuer}${SCIM_PREFIX}` }),
    auth: apiAuth,
    issuer: config.issuer,
    logger: runtime.logger,
  });
  return { admin, console: adminConsole, api, scim, pages, start: () => adminConsole.ensureClient() };
}
