// Registering relying parties. Secrets are generated (256 random bits), shown once, stored as a digest.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sha256Hex } from './digest.ts';
import type { Repos } from '../store/repos.ts';
import { badRequest } from './errors.ts';
import type { SecurityEvents, RequestInfo } from './events.ts';

const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
/**
 * How a confidential client authenticates at the token endpoint. The two secret methods use the
 * generated secret; private_key_jwt signs a client assertion with a key published at `jwksUri`.
 * (client_secret_jwt is not offered: it needs the secret in clear, and only its digest is stored.)
 */
export const TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

const redirectUri = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return !u.hash && (u.protocol === 'https:' || u.protocol === 'http:' || /^[a-z][a-z0-9+.-]*:$/.test(u.protocol));
  } catch {
    return false;
  }
}, 'must be an absolute URI without a fragment');

export const clientInput = z.object({
  name: z.string().trim().min(1, 'name is required').max(200),
  redirectUris: z.array(redirectUri).default([]),
  postLogoutRedirectUris: z.array(redirectUri).default([]),
  grants: z.array(z.enum(GRANTS)).default(['authorization_code', 'refresh_token']),
  public: z.boolean().default(false),
  tokenAuthMethod: z.enum(TOKEN_AUTH_METHODS).default('client_secret_basic'),
  /** where a private_key_jwt client publishes its public keys. */
  jwksUri: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  firstParty: z.boolean().default(false),
  requireMfa: z.boolean().default(false),
  /** a resource server that may introspect tokens issued to other clients (RFC 7662 §4). */
  mayIntrospect: z.boolean().default(false),
  scope: z.string().trim().optional(),
  tenantId: z.string().uuid().optional(),
  idTokenAlg: z.enum(['ES256', 'RS256']).default('ES256'),
  backchannelLogoutUri: redirectUri.optional(),
});
export type ClientInput = z.input<typeof clientInput>;

export function createClientService(deps: { clients: Repos['clients']; events: SecurityEvents }) {
  return {
    async register(raw: ClientInput, request: RequestInfo & { actorAccountId?: string } = {}) {
      const parsed = clientInput.safeParse(raw);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw badRequest(`${i?.path.join('.') || 'client'}: ${i?.message ?? 'invalid'}`, 'invalid_client_metadata');
      }
      const input = parsed.data;
      if (input.grants.includes('authorization_code') && input.redirectUris.length === 0) {
        throw badRequest('redirect-uri: at least one redirect URI is needed for the authorization_code grant', 'invalid_client_metadata');
      }
      if (input.public && input.grants.includes('client_credentials')) {
        throw badRequest('grant: a public client cannot use client_credentials', 'invalid_client_metadata');
      }
      if (input.public && input.tokenAuthMethod !== 'client_secret_basic') {
        throw badRequest('token-auth-method: a public client does not authenticate (it uses none)', 'invalid_client_metadata');
      }
      const privateKeyJwt = !input.public && input.tokenAuthMethod === 'private_key_jwt';
      if (privateKeyJwt !== (input.jwksUri !== undefined)) {
        throw badRequest('jwks-uri: needed with token-auth-method private_key_jwt, and only with it', 'invalid_client_metadata');
      }
      const clientId = `gh_${randomBytes(12).toString('base64url')}`;
      const clientSecret = input.public || privateKeyJwt ? undefined : randomBytes(32).toString('base64url');
      const metadata: Record<string, unknown> = {
        client_name: input.name,
        redirect_uris: input.redirectUris,
        post_logout_redirect_uris: input.postLogoutRedirectUris,
        grant_types: input.grants,
        response_types: input.grants.includes('authorization_code') ? ['code'] : [],
        token_endpoint_auth_method: input.public ? 'none' : input.tokenAuthMethod,
        ...(input.jwksUri ? { jwks_uri: input.jwksUri } : {}),
        id_token_signed_response_alg: input.idTokenAlg,
        ...(input.scope ? { scope: input.scope } : {}),
        ...(input.backchannelLogoutUri ? { backchannel_logout_uri: input.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
      };
      await deps.clients.create({
        clientId,
        name: input.name,
        metadata,
        secretHash: clientSecret ? sha256Hex(clientSecret) : null,
        tenantId: input.tenantId ?? null,
        firstParty: input.firstParty,
        requireMfa: input.requireMfa,
        mayIntrospect: input.mayIntrospect,
      });
      await deps.events.emit({ action: 'client.created', target: clientId, actorAccountId: request.actorAccountId, ip: request.ip, requestId: request.requestId, detail: { name: input.name } });
      return { client_id: clientId, client_secret: clientSecret, name: input.name, first_party: input.firstParty, require_mfa: input.requireMfa, may_introspect: input.mayIntrospect, ...metadata };
    },

    async list() {
      return (await deps.clients.list()).map((c) => ({
        client_id: c.clientId,
        name: c.name,
        first_party: c.firstParty,
        require_mfa: c.requireMfa,
        may_introspect: c.mayIntrospect,
        public: c.metadata.token_endpoint_auth_method === 'none',
        token_endpoint_auth_method: c.metadata.token_endpoint_auth_method,
        redirect_uris: (c.metadata.redirect_uris as string[] | undefined) ?? [],
        grant_types: (c.metadata.grant_types as string[] | undefined) ?? [],
        created_at: c.createdAt,
      }));
    },
  };
}

export type ClientService = ReturnType<typeof createClientService>;
