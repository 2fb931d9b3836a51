// How a console reaches Gatehouse's token endpoint. The console runs inside Gatehouse, so it does not
// go out through the public issuer URL: behind a load balancer or TLS proxy that URL may not resolve or
// route from inside the host (no hairpin NAT, split DNS, a certificate the host does not trust). It
// calls the token endpoint of the process that is serving the request, on the address and port that
// request arrived at (the process's own listening socket), or on an explicit internal base URL when one
// is configured. The request is an ordinary token request: the provider checks the code, the PKCE
// verifier and the redirect URI exactly as for any relying party; the issued tokens name the public
// issuer, because oidc-provider takes `iss` from its configuration, not from the request's host.
import type { Context } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

export interface TokenResponse {
  access_token: string;
  id_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
}

export interface TokenEndpointOptions {
  /** e.g. http://127.0.0.1:3000; default: this request's local socket address. */
  internalBaseUrl?: string | undefined;
  /** fallback when the socket has no usable address (unix sockets): the public issuer. */
  issuer: string;
  timeoutMs?: number;
}

/** `http://<local address>:<local port>` of the socket this request arrived on. */
export function localBaseUrl(ctx: Context): string | undefined {
  const socket = ctx.req.socket;
  const port = socket.localPort;
  let address = socket.localAddress;
  if (!address || !port) return undefined;
  if (address.startsWith('::ffff:')) address = address.slice(7);
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export function createTokenEndpoint(options: TokenEndpointOptions) {
  return {
    /** The base URL back-channel calls use for this request. */
    baseUrl(ctx: Context): string {
      return (options.internalBaseUrl ?? localBaseUrl(ctx) ?? options.issuer).replace(/\/+$/, '');
    },

    async exchangeCode(ctx: Context, input: { clientId: string; code: string; codeVerifier: string; redirectUri: string; resource?: string | undefined }): Promise<TokenResponse> {
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: input.clientId,
        code: input.code,
        code_verifier: input.codeVerifier,
        redirect_uri: input.redirectUri,
        ...(input.resource ? { resource: input.resource } : {}),
      });
      let res: Response;
      try {
        res = await fetch(`${this.baseUrl(ctx)}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (e) {
        throw new GatehouseError('token_endpoint_unreachable', 502, 'Signing in could not be completed. Please try again.', String(e));
      }
      const json = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
      if (!res.ok || typeof json.id_token !== 'string' || typeof json.access_token !== 'string') {
        throw new GatehouseError(
          'sign_in_failed',
          400,
          'Signing in could not be completed: the sign-in took too long or was already used. Please sign in again.',
          `token endpoint ${res.status}: ${json.error ?? ''} ${json.error_description ?? ''}`,
        );
      }
      return json as TokenResponse;
    },
  };
}

export type TokenEndpoint = ReturnType<typeof createTokenEndpoint>;
