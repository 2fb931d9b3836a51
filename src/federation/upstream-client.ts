// Talking to an upstream OpenID Provider with openid-client: discovery from the issuer, the
// authorization URL (code + PKCE S256 + nonce + state), and the code exchange with full ID-token
// validation (signature against the upstream's JWKS, iss, aud, azp, exp, iat, nonce). Every failure
// becomes an UpstreamError the callback page can explain; nothing here throws a bare error.
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
  async function configuration(config: UpstreamConfig): Promise<oidc.Configuration> {
    const issuer = new URL(config.issuer);
    try {
      const configuration = await oidc.discovery(
        issuer,
        config.clientId,
        { ...(config.clientSecret ? { client_secret: config.clientSecret } : {}) },
        config.clientSecret ? oidc.ClientSecretBasic(config.clientSecret) : oidc.None(),
        { timeout: options.timeoutMs / 1000, ...(issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}) },
      );
      configuration.timeout = options.timeoutMs / 1000;
      // the ID token's signature is checked against the upstream's published keys too, not only its claims
      oidc.enableNonRepudiationChecks(configuration);
      return configuration;
    } catch (e) {
      throw classify(e, 'discovery');
    }
  }

  return {
    async discover(config) {
      await configuration(config);
    },

    async authorizationUrl(config, params) {
      const c = await configuration(config);
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
      const c = await configuration(config);
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(c, callbackUrl, { pkceCodeVerifier: checks.codeVerifier, expectedNonce: checks.nonce, expectedState: checks.state, idTokenExpected: true });
      } catch (e) {
        throw classify(e, 'token');
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
