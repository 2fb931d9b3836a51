// Composes Gatehouse's HTTP handler: request context → metrics → security headers → errors → assets,
// ops, interaction and setup pages → oidc-provider's protocol routes, all in the provider's Koa app.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa, { type Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Runtime } from './runtime.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { requestContext } from './http/request-context.ts';
import { deferUntilAnswered } from './deferred-work.ts';
import { securityHeaders, noStore, restrictFormAction } from './http/security-headers.ts';
import { createViewRenderer, type ViewRenderer } from './http/views.ts';
import { serveStatic } from './http/static.ts';
import { only, routeByPath, under } from './http/path-routes.ts';
import { createOpsRouter, metricsEndpoint, type MetricsSource } from './http/ops-routes.ts';
import { clusterMetricsSource } from './cluster-metrics.ts';
import { csrfProtection } from './http/csrf.ts';
import { parseForm } from './http/body.ts';
import { requireValidHost } from './http/host.ts';
import { refuseControlCharacters, refuseNulInRequest } from './http/control-characters.ts';
import { createProviderFactory, type ProviderFactory } from './oidc/instance.ts';
import type { KeyMaterial } from './oidc/keys.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { noteProviderServerError } from './http/unavailable.ts';
import { createInteractionRouter } from './interactions/router.ts';
import { createInteractionStates } from './interactions/state.ts';
import { createFederationRouter } from './federation/routes.ts';
import { createSetupRouter } from './setup/routes.ts';
import { createTenantTreePolicy, type MfaPolicySource } from './domain/mfa/policy-source.ts';
import { createPasswordReset } from './domain/password-reset.ts';
import { createProviderSessionStore } from './oidc/sessions.ts';
import { createPasswordRouter } from './self-service/password-routes.ts';
import { createEmailRouter } from './self-service/email-routes.ts';
import { createAdminSurfaces, type AdminSurfaces } from './admin/mount.ts';
import { createInvitationAcceptance } from './domain/invitations.ts';
import { createInvitationRouter } from './self-service/invitation-routes.ts';
import { createAccountSurfaces, type AccountSurfaces } from './account/mount.ts';
import { createNewBrowserNotice } from './domain/new-browser.ts';
import { KEPT_FOR_MS } from './store/kept-account-rows.ts';

/** oidc-provider endpoints that only servers call and that answer JSON. */
const MACHINE_PATHS = ['/token', '/token/introspection', '/token/revocation', '/jwks', '/.well-known/openid-configuration'];

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppOptions {
  /** where "MFA required by tenant policy" comes from (tests pass a double). */
  policy?: MfaPolicySource;
  /** how often the published key set is compared with the database (rotation on another instance). */
  keyRefreshSeconds?: number;
  /** seconds a client row is served from memory at most (any change announced ends it at once; 0: never). */
  clientCacheSeconds?: number;
  stepUpPasswordMaxAgeSeconds?: number;
  /** a worker of a cluster (WORKERS > 1): /metrics reports every worker's, summed by the primary. */
  clusterMetrics?: boolean;
  /** clock of the admin use cases and console, and of the MFA policy's grace period (tests move it). */
  now?: () => Date;
}

export interface Gatehouse {
  /** the HTTP handler; it follows the provider when a key change rebuilds it. */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** the handler of the separate metrics listener (METRICS_PORT), when one is configured. */
  metricsHandle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  metrics: Metrics;
  views: ViewRenderer;
  provider(): Provider;
  factory: ProviderFactory;
  /** re-reads the key set and rebuilds the provider when it changed. */
  refreshKeys(): Promise<boolean>;
  /** the admin use cases, console and API. */
  admin: AdminSurfaces;
  /** the account console (/account) and its self-service use cases. */
  account: AccountSurfaces;
  stop(): void;
}

/** The separate metrics listener: GET /metrics (with the token check when set), 404 for anything else. */
function metricsListener(source: MetricsSource, token: string | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  const app = new Koa();
  const serve = metricsEndpoint(source, token);
  app.use(async (ctx, next) => {
    if (ctx.path === '/metrics' && (ctx.method === 'GET' || ctx.method === 'HEAD')) return serve(ctx, next);
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: 'This listener serves GET /metrics only.' };
  });
  const handle = app.callback();
  return (req, res) => void handle(req, res);
}

export async function createApp(runtime: Runtime, options: AppOptions = {}): Promise<Gatehouse> {
  const { config, logger, repos } = runtime;
  const secure = config.issuer.startsWith('https:') || config.trustProxy;
  const views = createViewRenderer({ viewsDir: path.join(root, 'views') });
  const metrics = createMetrics();
  runtime.events.observe((event) => metrics.recordMfaEvent(event.action));
  const policy = options.policy ?? createTenantTreePolicy(options.now);

  await runtime.keys.ensure();
  const factory = createProviderFactory(runtime, {
    views,
    policy,
    clientCacheSeconds: options.clientCacheSeconds ?? 300,
    allowPrivateNetworks: config.fetchAllowPrivateNetworks,
  });

  /** Every HTML form page: no caching, a bounded form body without control characters, and a CSRF token bound to its purpose. */
  const pageMiddleware = (purpose: string): Middleware[] => [noStore(), parseForm(), refuseControlCharacters(), csrfProtection({ secure, purpose })];

  let provider: Provider;
  // the provider of the moment: a key change rebuilds it
  runtime.sessions.bind(createProviderSessionStore(() => provider, factory.StorageAdapter));
  const account = createAccountSurfaces({ runtime, views, provider: () => provider, factory, policy, secure, pageMiddleware, now: options.now });
  const interactionStates = createInteractionStates(runtime.kv);
  const interactionRouter = createInteractionRouter({
    provider: () => provider,
    states: interactionStates,
    authenticate: runtime.authenticate,
    mfa: runtime.mfa,
    enrolment: runtime.enrolment,
    webauthn: runtime.webauthn,
    accounts: { findById: (id) => runtime.accountRows.findById(id, KEPT_FOR_MS.signIn), recordLogin: runtime.requestWrites.recordLogin },
    policy,
    events: runtime.events,
    box: runtime.box,
    render: (ctx, template, locals) => views.render(ctx, template, locals),
    onSignIn: (outcome) => metrics.recordSignin(outcome),
    stepUpPasswordMaxAgeSeconds: options.stepUpPasswordMaxAgeSeconds ?? config.stepUpPasswordMaxAgeSeconds,
    middleware: pageMiddleware('interaction'),
    requestMfaReset: (who, request) => account.selfService.requestReset(who, { passwordChecked: true }, request),
    mfaResetLinkMinutes: Math.round(runtime.links.ttlSeconds('mfa_reset') / 60),
    rememberedBrowsers: runtime.rememberedBrowsers,
    secureCookies: secure,
    newBrowser: createNewBrowserNotice({ enabled: config.newBrowserNotice, box: runtime.box, postbox: runtime.mail.postbox, defer: runtime.deferred.defer }),
    federation: runtime.federation,
  });
  const federationRouter = createFederationRouter({ federation: runtime.federation, states: interactionStates, issuer: config.issuer });
  const setupRouter = createSetupRouter(runtime, views, pageMiddleware('setup'));
  // Self-service pages post only to Gatehouse itself, so their form-action is 'self'.
  const selfServicePage = (purpose: string): Middleware[] => [restrictFormAction(["'self'"]), ...pageMiddleware(purpose)];
  const render = (ctx: Parameters<typeof views.render>[0], template: string, locals: Record<string, unknown>) => views.render(ctx, template, locals);
  const passwordReset = createPasswordReset({
    accounts: repos.accounts,
    accountEmail: repos.accountEmail,
    links: runtime.links,
    postbox: runtime.mail.postbox,
    hasher: runtime.hasher,
    events: runtime.events,
    sessions: runtime.sessions,
    forgetBrowsers: (who, reason, request) => runtime.rememberedBrowsers.forgetAll(who, reason, request),
    limit: runtime.limit,
    defer: runtime.deferred.defer,
    limits: runtime.linkRequestLimits,
  });
  const passwordRouter = createPasswordRouter({
    reset: passwordReset,
    render,
    linkMinutes: Math.round(runtime.links.ttlSeconds('password_reset') / 60),
    middleware: selfServicePage('password'),
  });
  const invitationRouter = createInvitationRouter({
    invitations: createInvitationAcceptance({ accounts: repos.accounts, accountEmail: repos.accountEmail, links: runtime.links, hasher: runtime.hasher, events: runtime.events }),
    render,
    linkHours: Math.round(runtime.links.ttlSeconds('invitation') / 3600),
    middleware: selfServicePage('invitation'),
  });
  const emailRouter = createEmailRouter({
    verification: runtime.emailVerification,
    change: runtime.emailChange,
    changeLinkMinutes: Math.round(runtime.links.ttlSeconds('email_change') / 60),
    render,
    middleware: selfServicePage('email'),
  });
  // With METRICS_PORT, /metrics lives on its own listener only (the public port answers 404 there).
  const separateMetrics = config.metrics.port !== 0;
  const metricsSource: MetricsSource = options.clusterMetrics ? clusterMetricsSource(metrics.registry) : metrics.registry;
  const admin = createAdminSurfaces({ runtime, views, provider: () => provider, factory, secure, pageMiddleware, now: options.now, policy });
  await admin.start();
  await account.start();
  const opsRouter = createOpsRouter({
    checks: { database: () => runtime.database.ping(), ...(runtime.redis ? { redis: () => runtime.kv.ping() } : {}) },
    ...(separateMetrics ? {} : { registry: metricsSource }),
    metricsToken: config.metrics.token,
    logger,
  });
  const metricsHandle = separateMetrics ? metricsListener(metricsSource, config.metrics.token) : undefined;
  if (config.env === 'production' && !separateMetrics && !config.metrics.token) {
    logger.warn('/metrics is served on the public port without a token: set METRICS_PORT or METRICS_TOKEN, or block /metrics at the load balancer');
  }

  // Gatehouse's middleware and pages run inside the provider's own Koa app (its use() places them
  // before the protocol routes), so a request makes one Koa context, not two.
  // (@koa/router types its composed middleware with its own context generics; at run time it is plain Koa middleware.)
  const gatheredWrites: Middleware = (_ctx, next) => runtime.requestWrites.around(next);
  const middleware = [
    requestContext({ logger }),
    deferUntilAnswered(),
    metrics.middleware(),
    securityHeaders({ issuer: config.issuer, machinePaths: MACHINE_PATHS }),
    errorHandler({ logger, views }),
    // inside the error handler: a request's gathered writes are written before its error page too
    gatheredWrites,
    // before anything builds a URL from the request or stores a parameter
    requireValidHost({ exempt: OPS_PATHS }),
    refuseNulInRequest(),
    // oidc-provider 9 has no 404 handler: unknown paths get the same 404 page or JSON as the rest
    notFoundHandler(),
    routeByPath([
      under('/assets/', serveStatic({ root: path.join(root, 'public') })),
      // the browser half of the passkey ceremonies, straight from the installed package (its UMD bundle)
      under('/assets/simplewebauthn/', serveStatic({ root: path.join(root, 'node_modules/@simplewebauthn/browser/dist/bundle'), prefix: '/assets/simplewebauthn' })),
      only(OPS_PATHS, opsRouter.routes() as unknown as Middleware),
      // allowedMethods() wraps the routes: a known address asked with the wrong method answers 405 + Allow
      under('/interaction/', interactionRouter.allowedMethods() as unknown as Middleware),
      under('/interaction/', interactionRouter.routes() as unknown as Middleware),
      under('/setup/', setupRouter.routes() as unknown as Middleware),
      under('/password/', passwordRouter.routes() as unknown as Middleware),
      under('/password/set/', invitationRouter.routes() as unknown as Middleware),
      under('/email/', emailRouter.routes() as unknown as Middleware),
      under('/api/', admin.api),
      under('/scim/', admin.scim),
      under('/admin', admin.pages),
      under('/account', account.pages),
      under('/federation/', federationRouter.routes() as unknown as Middleware),
    ]),
  ];
  const assemble = (keys: KeyMaterial) => {
    const p = factory.build(keys);
    p.silent = true;
    p.on('server_error', noteProviderServerError);
    for (const m of middleware) p.use(m);
    return p;
  };

  let keys = await runtime.keys.load();
  provider = assemble(keys);
  let callback = provider.callback();

  const refreshKeys = async () => {
    const next = await runtime.keys.load();
    if (next.version === keys.version && next.cookieKeys.join() === keys.cookieKeys.join()) return false;
    keys = next;
    provider = assemble(keys);
    callback = provider.callback();
    logger.info({ keys: keys.version }, 'signing keys changed; provider reloaded');
    return true;
  };
  const refreshTimer = setInterval(() => {
    refreshKeys().catch((err: unknown) => logger.warn({ err }, 'key refresh failed'));
  }, (options.keyRefreshSeconds ?? config.keyRefreshSeconds) * 1000);
  refreshTimer.unref();

  return {
    handle: (req, res) => {
      void callback(req, res);
    },
    metricsHandle,
    metrics,
    views,
    provider: () => provider,
    factory,
    refreshKeys,
    admin,
    account,
    stop: () => clearInterval(refreshTimer),
  };
}
