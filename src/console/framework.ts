// The first-party console framework shared by /admin and /account. A console is an OpenID Connect
// client of Gatehouse itself, registered at start (idempotently), that signs users in through the very
// same interaction as every relying party: authorization code + PKCE (S256) + nonce + state bound to
// the browser. The ID token is checked with the relying-party kit (validateIdToken) against Gatehouse's
// own keys; then a server-side console session lives in the shared key-value store, named by an
// HttpOnly, SameSite=Lax cookie (Secure and `__Host-` behind TLS). Sign-out goes through RP-initiated
// logout. Sensitive actions ask for recent authentication: a new authorization with prompt=login (and
// the console's acr), whose ID token must show an auth_time after the request.
//
// The console session follows the browser's Gatehouse (SSO) session: when that ends — signed out in
// another app, sessions ended by an administrator, account deactivated, another account signed in —
// the console session ends with it on the next request.
import { createHash, randomBytes } from 'node:crypto';
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { JWTVerifyGetKey } from 'jose';
import { validateIdToken } from '../relying-party/id-token.ts';
import { isRelyingPartyError } from '../relying-party/errors.ts';
import { ACR_MFA } from '../domain/amr.ts';
import { GatehouseError } from '../domain/errors.ts';
import { SYSTEM_CLIENT_PREFIX } from '../domain/clients.ts';
import type { Kv } from '../store/kv.ts';
import type { Repos } from '../store/repos.ts';
import type { AccountWithTenant } from '../store/repositories/accounts.ts';
import { isUniqueViolation } from '../store/repositories/pg-errors.ts';
import { restrictFormAction } from '../http/security-headers.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

export interface ConsoleSpec {
  /** short name, used in cookie and store keys: 'admin', 'account'. */
  id: string;
  /** URL prefix of the console's pages: '/admin'. */
  basePath: string;
  /** client_id; starts with `gatehouse-` (a system client the admin pages never edit). */
  clientId: string;
  clientName: string;
  /** the acr every sign-in must reach (the admin console: urn:gatehouse:acr:mfa). */
  requiredAcr?: string | undefined;
  /** scopes of the API resource the console's access token carries, besides openid email profile. */
  apiScopes?: readonly string[] | undefined;
  /** the API resource indicator those scopes belong to. */
  apiResource?: string | undefined;
  /** absolute lifetime of a console session (default 8 h). */
  sessionTtlSeconds?: number | undefined;
  /** a session unused this long ends (default 1 h). */
  idleTimeoutSeconds?: number | undefined;
  /** sensitive actions need an authentication at most this old (default 15 min). */
  recentAuthSeconds?: number | undefined;
}

export interface ConsoleDeps {
  issuer: string;
  /** https issuer or TLS at a trusted proxy: Secure, `__Host-` cookies. */
  secure: boolean;
  kv: Kv;
  clients: Repos['clients'];
  accounts: Pick<Repos['accounts'], 'findById'>;
  /** Gatehouse's published keys (createIssuerKeys). */
  getKey: JWTVerifyGetKey;
  provider: () => Provider;
  tokenEndpoint: TokenEndpoint;
  now?: (() => Date) | undefined;
}

export interface ConsoleSession {
  accountId: string;
  /** uid of the Gatehouse session the console session follows. */
  ssoUid: string;
  idToken: string;
  accessToken: string;
  accessTokenExpiresAt: number;
  acr: string | null;
  amr: string[];
  /** epoch seconds of the last interactive authentication (ID token auth_time). */
  authTime: number;
  createdAt: number;
  lastSeenAt: number;
  flash?: Flash | undefined;
}

export interface Flash {
  kind: 'success' | 'info' | 'error';
  text: string;
}

export interface ConsoleUser {
  session: ConsoleSession;
  account: AccountWithTenant;
}

interface PendingSignIn {
  verifier: string;
  nonce: string;
  returnTo: string;
  /** epoch seconds; a re-authentication must produce an auth_time at or after this. */
  requestedAt: number;
  reauth: boolean;
  /** the account that asked to re-authenticate. */
  accountId?: string | undefined;
}

const STATE_TTL_SECONDS = 600;
const TOUCH_EVERY_SECONDS = 60;
const ACR_PHR = 'urn:gatehouse:acr:phr';

const random = () => randomBytes(32).toString('base64url');
const digest = (value: string) => createHash('sha256').update(value).digest('base64url');
const s256 = digest;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** JSON with object keys sorted (a jsonb column gives keys back in its own order). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

/** Whether an acr satisfies what the console requires (phishing-resistant satisfies MFA). */
export const acrSatisfies = (required: string | undefined, acr: string | null | undefined): boolean =>
  required === undefined || acr === required || (required === ACR_MFA && acr === ACR_PHR);

export interface Console {
  spec: ConsoleSpec;
  /** GET login, GET callback, POST logout, GET signed-out. Mount with `under(basePath, …)`. */
  routes(pageMiddleware: Middleware[]): Middleware;
  /** Loads the signed-in user into `ctx.state.consoleUser`; otherwise starts sign-in (GET) or refuses (401). */
  requireUser(): Middleware;
  /**
   * Sensitive actions: asks for a fresh authentication when the last one is older than `recentAuthSeconds`,
   * or when `proves` (what the console also needs of it, e.g. a typed code) says it is not enough.
   */
  requireRecentAuth(returnTo?: (ctx: Context) => string, proves?: (user: ConsoleUser) => boolean): Middleware;
  user(ctx: Context): ConsoleUser;
  /** A message for the next page this user sees (after a POST → redirect). */
  flash(ctx: Context, flash: Flash): Promise<void>;
  /** The pending message, removed as it is read (shown once). */
  takeFlash(ctx: Context): Promise<Flash | undefined>;
  /** Registers or updates the console's client (safe to run on every start, by every instance). */
  ensureClient(): Promise<void>;
  redirectUri: string;
  /** The console's access token for the API resource (undefined when expired). */
  accessToken(ctx: Context): string | undefined;
}

export function createConsole(spec: ConsoleSpec, deps: ConsoleDeps): Console {
  const now = () => (deps.now ? deps.now() : new Date());
  const epoch = () => Math.floor(now().getTime() / 1000);
  if (!spec.clientId.startsWith(SYSTEM_CLIENT_PREFIX)) throw new Error(`console client ids start with ${SYSTEM_CLIENT_PREFIX}`);
  const base = spec.basePath.replace(/\/+$/, '');
  const redirectUri = `${deps.issuer}${base}/callback`;
  const signedOutUri = `${deps.issuer}${base}/signed-out`;
  const sessionTtl = spec.sessionTtlSeconds ?? 8 * 3600;
  const idleTimeout = spec.idleTimeoutSeconds ?? 3600;
  const recentAuth = spec.recentAuthSeconds ?? 15 * 60;
  const scope = ['openid', 'email', 'profile', ...(spec.apiScopes ?? [])].join(' ');
  const cookiePrefix = deps.secure ? '__Host-' : '';
  const sessionCookie = `${cookiePrefix}gh_${spec.id}_session`;
  const stateCookie = `${cookiePrefix}gh_${spec.id}_signin`;
  const sessionKey = (id: string) => `console:${spec.id}:session:${digest(id)}`;
  const stateKey = (state: string) => `console:${spec.id}:signin:${digest(state)}`;

  function setCookie(ctx: Context, name: string, value: string, maxAgeSeconds?: number) {
    // Written by hand, as the CSRF cookie is: Koa refuses `secure` when TLS ends at a proxy it was not told about.
    const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
    if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
    if (deps.secure) parts.push('Secure');
    ctx.append('Set-Cookie', parts.join('; '));
  }
  const clearCookie = (ctx: Context, name: string) => setCookie(ctx, name, '', 0);
  const readCookie = (ctx: Context, name: string) => {
    const value = ctx.cookies.get(name);
    return value && COOKIE_VALUE.test(value) ? value : undefined;
  };

  /** Only paths of this console are followed after sign-in (no open redirect). */
  const safeReturnTo = (value: unknown): string => {
    if (typeof value !== 'string' || !value.startsWith(`${base}/`) || value.startsWith('//') || /[\\\r\n]/.test(value) || value.length > 1000) return `${base}/`;
    return value;
  };

  async function startSignIn(ctx: Context, options: { returnTo: string; reauth: boolean; loginHint?: string | undefined; accountId?: string | undefined }) {
    const state = random();
    const pending: PendingSignIn = { verifier: random(), nonce: random(), returnTo: safeReturnTo(options.returnTo), requestedAt: epoch(), reauth: options.reauth, accountId: options.accountId };
    await deps.kv.set(stateKey(state), pending, STATE_TTL_SECONDS);
    setCookie(ctx, stateCookie, state, STATE_TTL_SECONDS);
    const url = new URL(`${deps.issuer}/auth`);
    const params: Record<string, string> = {
      client_id: spec.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      state,
      nonce: pending.nonce,
      code_challenge: s256(pending.verifier),
      code_challenge_method: 'S256',
      ...(spec.apiResource && spec.apiScopes?.length ? { resource: spec.apiResource } : {}),
      ...(spec.requiredAcr ? { acr_values: spec.requiredAcr } : {}),
      ...(options.reauth ? { prompt: 'login', max_age: '0' } : {}),
      ...(options.loginHint ? { login_hint: options.loginHint } : {}),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  async function loadSession(ctx: Context): Promise<{ id: string; session: ConsoleSession } | undefined> {
    const id = readCookie(ctx, sessionCookie);
    if (!id) return undefined;
    const session = await deps.kv.get<ConsoleSession>(sessionKey(id));
    return session ? { id, session } : undefined;
  }

  async function saveSession(id: string, session: ConsoleSession) {
    const remaining = session.createdAt + sessionTtl - epoch();
    if (remaining > 0) await deps.kv.set(sessionKey(id), session, remaining);
  }

  async function endSession(ctx: Context, id: string | undefined) {
    if (id) await deps.kv.delete(sessionKey(id));
    clearCookie(ctx, sessionCookie);
  }

  const unauthenticated = () =>
    new GatehouseError('console_signed_out', 401, 'Your session has ended. Sign in again to continue.');

  const signInFailed = (detail: string, message = 'Signing in could not be completed. Please sign in again.') =>
    new GatehouseError('console_sign_in_failed', 400, message, detail);

  async function callback(ctx: Context) {
    const query = ctx.query;
    const state = typeof query.state === 'string' ? query.state : '';
    const cookieState = readCookie(ctx, stateCookie);
    clearCookie(ctx, stateCookie);
    if (!state || !cookieState || state !== cookieState) throw signInFailed('state missing or not bound to this browser', 'This sign-in did not start in this browser, or it took too long. Please sign in again.');
    const pending = await deps.kv.get<PendingSignIn>(stateKey(state));
    await deps.kv.delete(stateKey(state));
    if (!pending) throw signInFailed('unknown or expired state', 'This sign-in took too long. Please sign in again.');
    if (typeof query.error === 'string') {
      const description = typeof query.error_description === 'string' ? query.error_description : query.error;
      throw signInFailed(`authorization error ${query.error}`, `Signing in was not completed: ${description}.`);
    }
    const code = typeof query.code === 'string' ? query.code : '';
    if (!code) throw signInFailed('no code');

    const tokens = await deps.tokenEndpoint.exchangeCode(ctx, { clientId: spec.clientId, code, codeVerifier: pending.verifier, redirectUri, resource: spec.apiResource && spec.apiScopes?.length ? spec.apiResource : undefined });
    let claims;
    try {
      claims = await validateIdToken(tokens.id_token, { issuer: deps.issuer, clientId: spec.clientId, jwks: deps.getKey, nonce: pending.nonce, clockToleranceSeconds: 5, now: now() });
    } catch (e) {
      throw signInFailed(isRelyingPartyError(e) ? `id token ${e.code}: ${e.message}` : String(e));
    }
    if (!acrSatisfies(spec.requiredAcr, claims.acr)) throw signInFailed(`acr ${String(claims.acr)} below ${spec.requiredAcr ?? ''}`, 'This console needs a sign-in with multi-factor authentication.');
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : epoch();
    if (pending.reauth && authTime < pending.requestedAt - 5) throw signInFailed('re-authentication did not happen', 'Please confirm your identity again.');

    const account = await deps.accounts.findById(claims.sub);
    if (!account || account.status !== 'active') throw signInFailed('account missing or disabled', 'This account cannot use the console.');
    const sso = await deps.provider().Session.get(ctx);
    if (sso.accountId !== account.id) throw signInFailed('no matching Gatehouse session in this browser');

    const previous = await loadSession(ctx);
    if (previous) await deps.kv.delete(sessionKey(previous.id));
    const id = random();
    const t = epoch();
    // A re-authentication keeps the page the user was on only when the same person confirmed.
    const returnTo = pending.reauth && pending.accountId !== account.id ? `${base}/` : pending.returnTo;
    await saveSession(id, {
      accountId: account.id,
      ssoUid: sso.uid,
      idToken: tokens.id_token,
      accessToken: tokens.access_token,
      accessTokenExpiresAt: t + (tokens.expires_in ?? 0),
      acr: claims.acr ?? null,
      amr: claims.amr ?? [],
      authTime,
      createdAt: t,
      lastSeenAt: t,
      flash: previous?.session.accountId === account.id ? previous.session.flash : undefined,
    });
    setCookie(ctx, sessionCookie, id);
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function logout(ctx: Context) {
    const loaded = await loadSession(ctx);
    await endSession(ctx, loaded?.id);
    const url = new URL(`${deps.issuer}/session/end`);
    url.searchParams.set('client_id', spec.clientId);
    url.searchParams.set('post_logout_redirect_uri', signedOutUri);
    if (loaded) url.searchParams.set('id_token_hint', loaded.session.idToken);
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  const isGet = (ctx: Context) => ctx.method === 'GET' || ctx.method === 'HEAD';

  async function setFlash(ctx: Context, flash: Flash | undefined) {
    const id = ctx.state.consoleSessionId as string | undefined;
    const user = ctx.state.consoleUser as ConsoleUser | undefined;
    if (!id || !user) return;
    user.session.flash = flash;
    await saveSession(id, user.session);
  }

  return {
    spec,
    redirectUri,

    routes(pageMiddleware) {
      const router = new Router({ prefix: base });
      router.use(restrictFormAction(["'self'"]) as unknown as RouterMiddleware);
      router.get('/login', async (ctx) => {
        await startSignIn(ctx as unknown as Context, { returnTo: safeReturnTo(ctx.query.return_to), reauth: false });
      });
      router.get('/callback', async (ctx) => {
        await callback(ctx as unknown as Context);
      });
      router.post('/logout', ...(pageMiddleware as unknown as RouterMiddleware[]), async (ctx) => {
        await logout(ctx as unknown as Context);
      });
      return router.routes() as unknown as Middleware;
    },

    requireUser() {
      return async (ctx: Context, next: Next) => {
        const loaded = await loadSession(ctx);
        const t = epoch();
        let user: ConsoleUser | undefined;
        if (loaded && t - loaded.session.lastSeenAt <= idleTimeout) {
          const account = await deps.accounts.findById(loaded.session.accountId);
          const sso = account?.status === 'active' ? await deps.provider().Session.get(ctx) : undefined;
          if (account && sso && sso.uid === loaded.session.ssoUid && sso.accountId === account.id) user = { session: loaded.session, account };
        }
        if (!user) {
          if (loaded) await endSession(ctx, loaded.id);
          if (isGet(ctx)) return startSignIn(ctx, { returnTo: ctx.originalUrl, reauth: false });
          throw unauthenticated();
        }
        if (t - user.session.lastSeenAt >= TOUCH_EVERY_SECONDS && loaded) {
          user.session.lastSeenAt = t;
          await saveSession(loaded.id, user.session);
        }
        ctx.state.consoleUser = user;
        ctx.state.consoleSessionId = loaded?.id;
        await next();
      };
    },

    requireRecentAuth(returnTo, proves) {
      return async (ctx: Context, next: Next) => {
        const user = ctx.state.consoleUser as ConsoleUser | undefined;
        if (!user) throw unauthenticated();
        if (epoch() - user.session.authTime <= recentAuth && (!proves || proves(user))) return next();
        const back = returnTo ? returnTo(ctx) : isGet(ctx) ? ctx.originalUrl : `${base}/`;
        if (!isGet(ctx)) await setFlash(ctx, { kind: 'info', text: 'For your security, you confirmed your identity again. Repeat the change to save it.' });
        await startSignIn(ctx, { returnTo: back, reauth: true, loginHint: user.account.email, accountId: user.account.id });
      };
    },

    user(ctx) {
      const user = ctx.state.consoleUser as ConsoleUser | undefined;
      if (!user) throw unauthenticated();
      return user;
    },

    flash: setFlash,

    async takeFlash(ctx) {
      const user = ctx.state.consoleUser as ConsoleUser | undefined;
      const flash = user?.session.flash;
      if (flash) await setFlash(ctx, undefined);
      return flash;
    },

    accessToken(ctx) {
      const user = ctx.state.consoleUser as ConsoleUser | undefined;
      return user && user.session.accessTokenExpiresAt > epoch() ? user.session.accessToken : undefined;
    },

    async ensureClient() {
      const desired = {
        name: spec.clientName,
        metadata: {
          client_name: spec.clientName,
          redirect_uris: [redirectUri],
          post_logout_redirect_uris: [signedOutUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          // Public client: the redirect URI is Gatehouse's own origin and the PKCE verifier never leaves the
          // server, so an intercepted code is useless; a shared static secret would only add key management.
          token_endpoint_auth_method: 'none',
          id_token_signed_response_alg: 'ES256',
          scope,
        } as Record<string, unknown>,
        secretHash: null,
        tenantId: null,
        firstParty: true,
        requireMfa: spec.requiredAcr === ACR_MFA,
      };
      const existing = await deps.clients.find(spec.clientId);
      if (!existing) {
        try {
          await deps.clients.create({ clientId: spec.clientId, ...desired });
          return;
        } catch (e) {
          // another instance registered it at the same moment: fall through and compare
          if (!(e instanceof GatehouseError && e.code === 'client_exists') && !isUniqueViolation(e)) throw e;
        }
      }
      const current = existing ?? (await deps.clients.find(spec.clientId));
      const same =
        current &&
        current.name === desired.name &&
        canonical(current.metadata) === canonical(desired.metadata) &&
        current.secretHash === null &&
        current.tenantId === null &&
        current.firstParty &&
        current.requireMfa === desired.requireMfa &&
        !current.disabled;
      if (!same) await deps.clients.update(spec.clientId, { ...desired, disabled: false });
    },
  };
}
