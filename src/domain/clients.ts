// Registering relying parties. Secrets are generated (256 random bits), shown once, stored as a digest.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sha256Hex } from './digest.ts';
import type { Repos } from '../store/repos.ts';
import { badRequest } from './errors.ts';
import type { ClientRecord } from '../store/repositories/clients.ts';
import type { SecurityEvents, RequestInfo } from './events.ts';

export const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type Grant = (typeof GRANTS)[number];
/**
 * How a confidential client authenticates at the token endpoint. The two secret methods use the
 * generated secret; private_key_jwt signs a client assertion with a key published at `jwksUri`.
 * (client_secret_jwt is not offered: it needs the secret in clear, and only its digest is stored.)
 */
export const TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const isLoopback = (host: string) => LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
/** Schemes that run code or read local files in a browser: never a redirect target. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'blob:', 'vbscript:', 'about:', 'filesystem:']);

/**
 * A redirect URI (RFC 6749 §3.1.2, RFC 8252 §7, OAuth 2.0 Security BCP §4.1): absolute, no fragment,
 * no user info, matched exactly; https, or http only on a loopback host (local development, native
 * apps), or a private-use scheme of a native app (`com.example.app:/callback`).
 */
export function redirectUriProblem(value: string): string | undefined {
  if (value.length > 2000) return 'is longer than 2000 characters';
  const url = URL.parse(value);
  if (!url) return 'must be an absolute URI';
  if (url.hash || value.includes('#')) return 'must not contain a fragment (#)';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (value.includes('*')) return 'must not contain wildcards: redirect URIs are matched exactly';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `must not use the ${url.protocol} scheme`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopback(url.hostname) ? undefined : 'must use https (http is allowed only on localhost / 127.0.0.1)';
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol) ? undefined : 'must use https, http on localhost, or a reverse-domain scheme of a native app (com.example.app:)';
}

const redirectUri = z.string().superRefine((v, ctx) => {
  const problem = redirectUriProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `${v} ${problem}` });
});

export const clientInput = z.object({
  name: z.string().trim().min(1, 'name is required').max(200),
  redirectUris: z.array(redirectUri).max(50).default([]),
  postLogoutRedirectUris: z.array(redirectUri).max(50).default([]),
  grants: z.array(z.enum(GRANTS)).min(1, 'at least one grant type is needed').default(['authorization_code', 'refresh_token']),
  public: z.boolean().default(false),
  tokenAuthMethod: z.enum(TOKEN_AUTH_METHODS).default('client_secret_basic'),
  /** where a private_key_jwt client publishes its public keys. */
  jwksUri: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  firstParty: z.boolean().default(false),
  requireMfa: z.boolean().default(false),
  /** every sign-in needs phishing-resistant MFA (acr phr: a passkey or security key); implies requireMfa. */
  requirePhishingResistantMfa: z.boolean().default(false),
  /** a resource server that may introspect tokens issued to other clients (RFC 7662 §4). */
  mayIntrospect: z.boolean().default(false),
  scope: z.string().trim().max(1000).optional(),
  tenantId: z.string().uuid().optional(),
  idTokenAlg: z.enum(['ES256', 'RS256']).default('ES256'),
  backchannelLogoutUri: redirectUri.optional(),
});
export type ClientInput = z.input<typeof clientInput>;
export type ValidClientInput = z.output<typeof clientInput>;

/** Validates a client's settings as a whole; the first problem becomes a 400 `invalid_client_metadata`. */
export function parseClientInput(raw: ClientInput): ValidClientInput {
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
  if (input.grants.includes('refresh_token') && !input.grants.includes('authorization_code')) {
    throw badRequest('grant: refresh_token is only issued together with authorization_code', 'invalid_client_metadata');
  }
  if (input.public && input.tokenAuthMethod !== 'client_secret_basic') {
    throw badRequest('token-auth-method: a public client does not authenticate (it uses none)', 'invalid_client_metadata');
  }
  if (usesPrivateKeyJwt(input) !== (input.jwksUri !== undefined)) {
    throw badRequest('jwks-uri: needed with token-auth-method private_key_jwt, and only with it', 'invalid_client_metadata');
  }
  return input;
}

const usesPrivateKeyJwt = (input: ValidClientInput) => !input.public && input.tokenAuthMethod === 'private_key_jwt';

/** Whether the client gets a generated secret: confidential clients that authenticate with one. */
export const needsSecret = (input: ValidClientInput) => !input.public && !usesPrivateKeyJwt(input);

/** The oidc-provider metadata of valid client settings (without the secret). */
export function clientMetadata(input: ValidClientInput): Record<string, unknown> {
  return {
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
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A stored client read back as settings, so an edit validates the whole client again. */
export function clientSettingsOf(record: ClientRecord): ValidClientInput {
  const m = record.metadata;
  return {
    name: record.name,
    redirectUris: strings(m.redirect_uris),
    postLogoutRedirectUris: strings(m.post_logout_redirect_uris),
    grants: strings(m.grant_types).filter((g): g is Grant => (GRANTS as readonly string[]).includes(g)),
    public: m.token_endpoint_auth_method === 'none',
    tokenAuthMethod: TOKEN_AUTH_METHODS.find((method) => method === m.token_endpoint_auth_method) ?? 'client_secret_basic',
    jwksUri: typeof m.jwks_uri === 'string' ? m.jwks_uri : undefined,
    firstParty: record.firstParty,
    requireMfa: record.requireMfa,
    requirePhishingResistantMfa: record.requirePhishingResistantMfa,
    mayIntrospect: record.mayIntrospect,
    scope: typeof m.scope === 'string' ? m.scope : undefined,
    tenantId: record.tenantId ?? undefined,
    idTokenAlg: m.id_token_signed_response_alg === 'RS256' ? 'RS256' : 'ES256',
    backchannelLogoutUri: typeof m.backchannel_logout_uri === 'string' ? m.backchannel_logout_uri : undefined,
  };
}

/** A generated client secret (256 random bits, DESIGN.md §9): shown once, stored as its SHA-256 digest. */
export const newClientSecret = () => randomBytes(32).toString('base64url');
export const newClientId = () => `gh_${randomBytes(12).toString('base64url')}`;

/** Gatehouse's own clients (its consoles) are registered at start and never edited by hand. */
export const SYSTEM_CLIENT_PREFIX = 'gatehouse-';
export const isSystemClient = (clientId: string) => clientId.startsWith(SYSTEM_CLIENT_PREFIX);

export function createClientService(deps: { clients: Repos['clients']; events: SecurityEvents }) {
  return {
    async register(raw: ClientInput, request: RequestInfo & { actorAccountId?: string } = {}) {
      const input = parseClientInput(raw);
      const clientId = newClientId();
      const clientSecret = needsSecret(input) ? newClientSecret() : undefined;
      const metadata = clientMetadata(input);
      await deps.clients.create({
        clientId,
        name: input.name,
        metadata,
        secretHash: clientSecret ? sha256Hex(clientSecret) : null,
        tenantId: input.tenantId ?? null,
        firstParty: input.firstParty,
        requireMfa: input.requireMfa,
        requirePhishingResistantMfa: input.requirePhishingResistantMfa,
        mayIntrospect: input.mayIntrospect,
      });
      await deps.events.emit({ action: 'client.created', target: clientId, actorAccountId: request.actorAccountId, ip: request.ip, requestId: request.requestId, detail: { name: input.name } });
      return { client_id: clientId, client_secret: clientSecret, name: input.name, first_party: input.firstParty, require_mfa: input.requireMfa, require_phishing_resistant_mfa: input.requirePhishingResistantMfa, may_introspect: input.mayIntrospect, ...metadata };
    },

    async list() {
      return (await deps.clients.list()).map((c) => ({
        client_id: c.clientId,
        name: c.name,
        first_party: c.firstParty,
        require_mfa: c.requireMfa,
        require_phishing_resistant_mfa: c.requirePhishingResistantMfa,
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
