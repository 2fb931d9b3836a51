/**
 * Acme MDR as an OpenID Connect client of Gatehouse: openid-client v6 for discovery, the
 * authorization request (code + PKCE S256 + state + nonce), the code exchange and the end-session
 * URL; the relying-party kit for ID token and logout token validation against Gatehouse's JWKS.
 * Discovery is lazy, so the app starts (and direct sign-in works) while Gatehouse is down.
 */
import { createRemoteJWKSet } from 'jose';
import * as client from 'openid-client';
import {
  createMemoryReplayStore,
  stepUpAuthorizationParams,
  validateIdToken,
  validateLogoutToken,
} from '../../../src/relying-party/index.ts';
import type { JwksGetter, LogoutTokenClaims, ValidatedIdTokenClaims } from '../../../src/relying-party/index.ts';
import { AppError } from '../http/errors.ts';
import type { AuthorizationFlow } from '../http/sessions.ts';

export interface GatehouseClientOptions {
  issuer: string;
  clientId: string;
  /** Omit for a public client (PKCE only). */
  clientSecret?: string | undefined;
  /** How the secret is sent to the token endpoint; Gatehouse's default is client_secret_basic. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | undefined;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scope?: string | undefined;
  clockToleranceSeconds?: number | undefined;
  clock: () => Date;
}

export interface StartOptions {
  stepUp: boolean;
  /** Sent as `max_age` on step-up, then enforced on the returned `auth_time`. */
  maxAgeSeconds: number | null;
}

export interface CodeExchangeResult {
  idToken: string;
  claims: ValidatedIdTokenClaims;
}

export interface GatehouseClient {
  readonly issuer: string;
  /** A fresh flow (kept server-side) and the URL to send the browser to. */
  startAuthorization(options: StartOptions): Promise<{ flow: AuthorizationFlow; url: URL }>;
  /** Exchanges the code of `callbackUrl` and validates the ID token with the kit. */
  finishAuthorization(callbackUrl: URL, flow: AuthorizationFlow): Promise<CodeExchangeResult>;
  validateLogoutToken(token: string): Promise<LogoutTokenClaims>;
  /** Gatehouse's end-session URL with `id_token_hint`, or undefined when it has none. */
  endSessionUrl(idTokenHint: string): Promise<URL | undefined>;
}

export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  const scope = options.scope ?? 'openid email profile';
  let discovered: Promise<{ config: client.Configuration; jwks: JwksGetter }> | undefined;
  // The demo runs one process, so the kit's in-memory store is enough to refuse a replayed logout
  // token; an app with several instances would pass a store they share (e.g. Redis).
  const logoutReplays = createMemoryReplayStore(options.clock);

  const discover = () => {
    discovered ??= (async () => {
      const issuerUrl = new URL(options.issuer);
      const insecure = issuerUrl.protocol === 'http:';
      const auth = options.clientSecret === undefined
        ? client.None()
        : options.tokenEndpointAuthMethod === 'client_secret_post'
          ? client.ClientSecretPost(options.clientSecret)
          : client.ClientSecretBasic(options.clientSecret);
      const config = await client.discovery(issuerUrl, options.clientId, undefined, auth, {
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
      const jwksUri = config.serverMetadata().jwks_uri;
      if (!jwksUri) throw new Error('Gatehouse discovery has no jwks_uri');
      return { config, jwks: createRemoteJWKSet(new URL(jwksUri)) };
    })();
    discovered.catch(() => {
      discovered = undefined;
    });
    return discovered.catch((error: unknown) => {
      throw new AppError('gatehouse_unavailable', 503, 'Gatehouse cannot be reached right now. Try again in a moment, or sign in with your Acme MDR password.', String(error));
    });
  };

  return {
    issuer: options.issuer,

    async startAuthorization({ stepUp, maxAgeSeconds }) {
      const { config } = await discover();
      const codeVerifier = client.randomPKCECodeVerifier();
      const flow: AuthorizationFlow = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier,
        stepUp,
        maxAgeSeconds: stepUp ? maxAgeSeconds : null,
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
        ...(stepUp ? stepUpAuthorizationParams(maxAgeSeconds === null ? {} : { maxAgeSeconds }) : {}),
      });
      return { flow, url };
    },

    async finishAuthorization(callbackUrl, flow) {
      const { config, jwks } = await discover();
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
        ...(flow.maxAgeSeconds !== null ? { maxAge: flow.maxAgeSeconds } : {}),
      });
      const idToken = tokens.id_token;
      if (!idToken) throw new AppError('id_token_missing', 502, 'Gatehouse did not return an ID token.');
      const claims = await validateIdToken(idToken, {
        issuer: options.issuer,
        clientId: options.clientId,
        jwks,
        nonce: flow.nonce,
        maxAuthAgeSeconds: flow.maxAgeSeconds ?? undefined,
        clockToleranceSeconds: options.clockToleranceSeconds,
        now: options.clock(),
      });
      return { idToken, claims };
    },

    async validateLogoutToken(token) {
      const { jwks } = await discover();
      return validateLogoutToken(token, {
        issuer: options.issuer,
        clientId: options.clientId,
        jwks,
        clockToleranceSeconds: options.clockToleranceSeconds,
        now: options.clock(),
        replayStore: logoutReplays,
      });
    },

    async endSessionUrl(idTokenHint) {
      const { config } = await discover();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return client.buildEndSessionUrl(config, {
        id_token_hint: idTokenHint,
        post_logout_redirect_uri: options.postLogoutRedirectUri,
      });
    },
  };
}
