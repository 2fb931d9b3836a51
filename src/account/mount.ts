// Wires the account console into the app: /account, a first-party OIDC client of Gatehouse itself
// (same sign-in interaction as every relying party), with the self-service use cases behind its pages.
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Runtime } from '../runtime.ts';
import type { ViewRenderer } from '../http/views.ts';
import type { ProviderFactory } from '../oidc/instance.ts';
import { createIssuerKeys } from '../console/issuer-keys.ts';
import { createConsole, type Console } from '../console/framework.ts';
import { createTokenEndpoint } from '../console/token-endpoint.ts';
import type { MfaPolicySource } from '../domain/mfa/policy-source.ts';
import { createMfaSelfService, type MfaSelfService } from '../domain/mfa/self-service.ts';
import { createMfaRemoval } from '../domain/mfa/removal.ts';
import { createMfaReset } from '../domain/mfa/reset.ts';
import { endAccountSession, endAccountSessions, listAccountSessions } from '../oidc/sessions.ts';
import { createAccountSessions } from '../domain/account-sessions.ts';
import { createPasswordChange } from '../domain/password-change.ts';
import { MIN_PASSWORD_LENGTH } from '../domain/passwords.ts';
import { ACCOUNT_BASE, ACCOUNT_RECENT_AUTH_SECONDS, createAccountPages } from './pages.ts';

export interface AccountSurfacesOptions {
  runtime: Runtime;
  views: ViewRenderer;
  provider: () => Provider;
  factory: ProviderFactory;
  policy: MfaPolicySource;
  secure: boolean;
  pageMiddleware: (purpose: string) => Middleware[];
  now?: (() => Date) | undefined;
}

export interface AccountSurfaces {
  console: Console;
  selfService: MfaSelfService;
  pages: Middleware;
  /** registers the console's client; run once at start. */
  start(): Promise<void>;
}

export function createAccountSurfaces(options: AccountSurfacesOptions): AccountSurfaces {
  const { runtime } = options;
  const { repos, config } = runtime;
  const keys = createIssuerKeys({ load: () => runtime.keys.load() });
  // No required acr: a user without MFA must reach the page that turns it on.
  const accountConsole = createConsole(
    { id: 'account', basePath: ACCOUNT_BASE, clientId: 'gatehouse-account', clientName: 'Your Gatehouse account', recentAuthSeconds: ACCOUNT_RECENT_AUTH_SECONDS },
    {
      issuer: config.issuer,
      secure: options.secure,
      kv: runtime.kv,
      clients: repos.clients,
      accounts: repos.accounts,
      getKey: keys.getKey,
      provider: options.provider,
      tokenEndpoint: createTokenEndpoint({ issuer: config.issuer }),
      now: options.now,
    },
  );
  const selfService = createMfaSelfService({
    authenticators: repos.authenticators,
    recoveryCodes: repos.recoveryCodes,
    accounts: repos.accounts,
    mfa: runtime.mfa,
    enrolment: runtime.enrolment,
    policy: options.policy,
    hasher: runtime.hasher,
    events: runtime.events,
    links: runtime.links,
    postbox: runtime.mail.postbox,
    limit: runtime.limit,
    limits: runtime.linkRequestLimits,
    defer: runtime.deferred.defer,
    webauthn: runtime.webauthn,
    reset: createMfaReset({
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      lockouts: repos.lockouts,
      events: runtime.events,
      endSessions: runtime.sessions.end,
      policy: options.policy,
    }),
    removal: createMfaRemoval({ authenticators: repos.authenticators, recoveryCodes: repos.recoveryCodes, events: runtime.events, policy: options.policy }),
    rememberedBrowsers: runtime.rememberedBrowsers,
  });
  const storage = options.factory.StorageAdapter;
  const sessions = createAccountSessions({
    sessions: {
      list: (accountId) => listAccountSessions(options.provider(), storage, accountId),
      end: async (accountId, uid) => (await endAccountSession(options.provider(), storage, accountId, uid)).sessions,
      endOthers: async (accountId, keepUid) => (await endAccountSessions(options.provider(), storage, accountId, keepUid)).sessions,
    },
    activity: options.factory.sessionActivity,
    clientName: async (clientId) => (await repos.clients.find(clientId))?.name ?? clientId,
    remembered: runtime.rememberedBrowsers,
    events: runtime.events,
  });
  const passwordChange = createPasswordChange({
    accounts: repos.accounts,
    hasher: runtime.hasher,
    limit: runtime.limit,
    endOtherSessions: async (accountId, keepUid) => (await endAccountSessions(options.provider(), storage, accountId, keepUid)).sessions,
    rememberedBrowsers: runtime.rememberedBrowsers,
    events: runtime.events,
  });
  const pages = createAccountPages({
    sessions,
    passwordChange,
    emailChange: runtime.emailChange,
    emailChangeLinkMinutes: Math.round(runtime.links.ttlSeconds('email_change') / 60),
    minPasswordLength: MIN_PASSWORD_LENGTH,
    webauthn: runtime.webauthn,
    console: accountConsole,
    views: options.views,
    selfService,
    pageMiddleware: options.pageMiddleware('account'),
    resetLinkMinutes: Math.round(runtime.links.ttlSeconds('mfa_reset') / 60),
    now: options.now,
  });
  return { console: accountConsole, selfService, pages, start: () => accountConsole.ensureClient() };
}
