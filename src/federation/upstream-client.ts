// Talking to an upstream OpenID Provider with openid-client: discovery from the issuer, the
// authorization URL (code + PKCE S256 + nonce + state), and the code exchange with full ID-token
// validation (iss, aud, azp, exp, iat, nonce by openid-client; the signature against the upstream's
// JWKS by jose). Every failure becomes an UpstreamError the callback page can explain; nothing here
// throws a bare error.
//
// The discovery document is fetched once and kept for as long as its Cache-Control max-age says,
// bounded to [1 min, 24 h] (1 h when it says nothing); a failed exchange at an endpoint it named
// (unreachable, refused) drops it, so the next sign-in reads it again. The JWKS stays cached with it;
// an ID token signed with a key id the cached set lacks fetches the set again once (key rotation).
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';

export type UpstreamFailure = 'unreachable' | 'timeout' | 'denied' | 'bad_response' | 'bad_token';

export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly failure: UpstreamFailure;
  constructor(failure: UpstreamFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.failure = failure;
  }
}

export interface UpstreamConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
}

export interface UpstreamClaims {
  sub: string;
  email?: string | undefined;
  emailVerified: boolean;
  name?: string | undefined;
  amr: string[];
  acr?: string | undefined;
}

export interface UpstreamOidc {
  /** Fetches and checks the issuer's discovery document (the issuer it names must be this one). */
  discover(config: UpstreamConfig): Promise<void>;
  authorizationUrl(config: UpstreamConfig, params: { redirectUri: string; scope: string; state: string; nonce: string; codeChallenge: string }): Promise<URL>;
  /** Exchanges the code of the callback URL and validates the ID token; the claims of the ID token. */
  exchange(config: UpstreamConfig, callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string }): Promise<UpstreamClaims>;
}

export interface UpstreamOidcOptions {
  /** per request to the upstream (discovery, token, JWKS). */
  timeoutMs: number;
  /** milliseconds since the epoch (tests move it to expire the discovery cache). */
  now?: () => number;
}

export const DISCOVERY_TTL = { defaultSeconds: 3600, minSeconds: 60, maxSeconds: 86_400 } as const;

/** How long a discovery document is kept: its max-age, bounded; no-store/no-cache keep it the minimum. */
export function discoveryTtlSeconds(cacheControl: string | null): number {
  if (!cacheControl) return DISCOVERY_TTL.defaultSeconds;
  const directives = cacheControl.toLowerCase().split(',').map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return DISCOVERY_TTL.minSeconds;
  const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d+)"?$/.exec(d)?.[1]).find((v) => v !== undefined);
  if (maxAge === undefined) return DISCOVERY_TTL.defaultSeconds;
  return Math.min(Math.max(Number(maxAge), DISCOVERY_TTL.minSeconds), DISCOVERY_TTL.maxSeconds);
}

interface Discovered {
  configuration: oidc.Configuration;
  keys: JWTVerifyGetKey;
  expiresAt: number;
}

/** http is accepted only on this machine (tests and local development); anything else is https. */
const isLoopback = (url: URL) => url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';

/** The error and its causes (openid-client and fetch wrap the network error one or two levels down). */
function chain(e: unknown): unknown[] {
  const out: unknown[] = [];
  let current: unknown = e;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    out.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);
const TOKEN_CODES = new Set(['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_INVALID_RESPONSE', 'OAUTH_PARSE_ERROR', 'OAUTH_KEY_SELECTION_FAILED']);

function classify(e: unknown, during: string): UpstreamError {
  if (e instanceof UpstreamError) return e;
  const links = chain(e) as { name?: unknown; code?: unknown; message?: unknown; error?: unknown }[];
  if (links.some((l) => l.name === 'TimeoutError' || l.name === 'AbortError')) return new UpstreamError('timeout', `The identity provider did not answer in time (${during}).`, { cause: e });
  if (e instanceof oidc.AuthorizationResponseError) {
    const code = typeof (e as { error?: unknown }).error === 'string' ? (e as { error: string }).error : 'error';
    return new UpstreamError('denied', code === 'access_denied' ? 'The sign-in was cancelled or refused at the identity provider.' : `The identity provider refused the sign-in (${code}).`, { cause: e });
  }
  if (links.some((l) => (typeof l.code === 'string' && NETWORK_CODES.has(l.code)) || (l instanceof TypeError && l.message === 'fetch failed'))) {
    return new UpstreamError('unreachable', `The identity provider cannot be reached (${during}).`, { cause: e });
  }
  if (during === 'token' && links.some((l) => typeof l.code === 'string' && TOKEN_CODES.has(l.code))) {
    return new UpstreamError('bad_token', 'The identity provider answered with a token that does not pass validation.', { cause: e });
  }
  if (e instanceof oidc.ResponseBodyError) return new UpstreamError('bad_response', `The identity provider refused the request (${String(e.error)}) during ${during}.`, { cause: e });
  return new UpstreamError(during === 'token' ? 'bad_token' : 'bad_response', `The identity provider gave an answer that could not be used (${during}).`, { cause: e });
}

export function createUpstreamOidc(options: UpstreamOidcOptions): UpstreamOidc {
  const now = options.now ?? Date.now;
  const cache = new Map<string, Discovered>();
  const cacheKey = (config: UpstreamConfig) => `${config.issuer}\n${config.clientId}\n${createHash('sha256').update(config.clientSecret ?? '').digest('base64url')}`;

  async function discover(config: UpstreamConfig): Promise<Discovered> {
    const issuer = new URL(config.issuer);
    let cacheControl: string | null = null;
    const remember: oidc.CustomFetch = async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      if (new URL(url).pathname.endsWith('/.well-known/openid-configuration')) cacheControl = response.headers.get('cache-control');
      return response;
    };
    try {
      const configuration = await oidc.discovery(
        issuer,
        config.clientId,
        { ...(config.clientSecret ? { client_secret: config.clientSecret } : {}) },
        config.clientSecret ? oidc.ClientSecretBasic(config.clientSecret) : oidc.None(),
        { timeout: options.timeoutMs / 1000, [oidc.customFetch]: remember, ...(issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}) },
      );
      configuration.timeout = options.timeoutMs / 1000;
      const jwksUri = configuration.serverMetadata().jwks_uri;
      if (!jwksUri) throw new UpstreamError('bad_response', 'The identity provider publishes no signing keys (jwks_uri).');
      // no cooldown: a key id the cached set lacks reloads it at once (one fetch per ID token at most)
      const keys = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: options.timeoutMs, cooldownDuration: 0 });
      const discovered = { configuration, keys, expiresAt: now() + discoveryTtlSeconds(cacheControl) * 1000 };
      cache.set(cacheKey(config), discovered);
      return discovered;
    } catch (e) {
      throw classify(e, 'discovery');
    }
  }

  async function discovered(config: UpstreamConfig): Promise<Discovered> {
    const cached = cache.get(cacheKey(config));
    if (cached && cached.expiresAt > now()) return cached;
    return discover(config);
  }

  return {
    async discover(config) {
      await discover(config);
    },

    async authorizationUrl(config, params) {
      const c = (await discovered(config)).configuration;
      return oidc.buildAuthorizationUrl(c, {
        redirect_uri: params.redirectUri,
        scope: params.scope,
        state: params.state,
        nonce: params.nonce,
        code_challenge: params.codeChallenge,
        code_challenge_method: 'S256',
        response_type: 'code',
      });
    },

    async exchange(config, callbackUrl, checks) {
      const { configuration: c, keys } = await discovered(config);
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(c, callbackUrl, { pkceCodeVerifier: checks.codeVerifier, expectedNonce: checks.nonce, expectedState: checks.state, idTokenExpected: true });
        // the ID token's signature is checked against the upstream's published keys too, not only its claims
        await jwtVerify(tokens.id_token ?? '', keys, { issuer: c.serverMetadata().issuer, audience: config.clientId });
      } catch (e) {
        const failure = classify(e, 'token');
        // an endpoint that moved or went away: read the discovery document again next time
        if (failure.failure === 'unreachable' || failure.failure === 'bad_response') cache.delete(cacheKey(config));
        throw failure;
      }
      const claims = tokens.claims();
      if (!claims || typeof claims.sub !== 'string' || claims.sub === '') throw new UpstreamError('bad_token', 'The identity provider sent no ID token subject.');
      const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
      return {
        sub: claims.sub,
        email: typeof claims.email === 'string' ? claims.email : undefined,
        emailVerified: claims.email_verified === true,
        name: typeof claims.name === 'string' ? claims.name : undefined,
        amr,
        acr: typeof claims.acr === 'string' ? claims.acr : undefined,
      };
    },
  };
}

/** The issuer as stored: an https URL (http only on this machine) without query or fragment, no trailing slash. */
export function normaliseIssuer(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  if (url.search || url.hash || url.username || url.password) return null;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) return null;
  return url.href.replace(/\/$/, '');
}
