// oidc-provider 9 configured for Gatehouse: the comments next to each option say why it is set so.
import Provider, { errors, type Configuration, type KoaContextWithOIDC, type Adapter } from 'oidc-provider';
import type { Config } from '../config.ts';
import { ACR_VALUES_SUPPORTED } from '../domain/amr.ts';
import { createInteractionPolicy } from './policy.ts';
import { useHashedClientSecrets } from './clients.ts';
import type { KeyMaterial } from './keys.ts';
import { cookieKeyring } from './cookie-keyring.ts';

export const API_AUDIENCE = 'gatehouse-api';
/** The single scope of the first API resource; the bench's bare-provider baseline still uses it. */
export const API_SCOPE = 'gatehouse:api';
/**
 * The admin API's scopes (src/api). They are also listed in `scopes`, so a client's registered `scope`
 * restricts which of them it may ask for (oidc-provider checks client scopes against that list only).
 */
export const API_SCOPES = ['users:read', 'users:write', 'mfa:reset', 'policy:write', 'clients:write', 'audit:read', 'tenants:write', 'idps:write', 'scim'] as const;
/** SCIM 2.0 provisioning at /scim/v2 (src/scim): a service client bound to a tenant, with this scope. */
export const SCIM_SCOPE = 'scim' satisfies ApiScope;
export type ApiScope = (typeof API_SCOPES)[number];
export const apiResource = (issuer: string) => `${issuer}/api`;

export interface ProviderHooks {
  adapter: (name: string) => Adapter;
  findAccount: NonNullable<Configuration['findAccount']>;
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource: (ctx: KoaContextWithOIDC, form: string) => void | Promise<void>;
  postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => void | Promise<void>;
  /** trusted delivery for back-channel logout (the default fetch refuses loopback and private addresses, an SSRF guard). */
  fetch?: Configuration['fetch'];
}

const isFirstParty = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.metadata().first_party === true;

/**
 * First-party clients skip consent: their grant always holds what they ask for (the session's
 * existing grant would otherwise win, and a newly requested scope would show the consent page).
 */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { client, session } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
  let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
  if (grant && (grant.accountId !== session.accountId || grant.clientId !== client.clientId)) grant = undefined;
  if (!isFirstParty(ctx)) return grant;
  grant ??= new ctx.oidc.provider.Grant({ accountId: session.accountId, clientId: client.clientId });
  const scopes = [...(ctx.oidc.requestParamScopes ?? [])].join(' ');
  if (scopes) grant.addOIDCScope(scopes);
  const claims = [...(ctx.oidc.requestParamClaims ?? [])];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
    if (server.scope) grant.addResourceScope(indicator, server.scope);
  }
  await grant.save();
  return grant;
}

/** The parts of a client and a token the introspection rule reads (oidc-provider's objects have more). */
export interface IntrospectingClient {
  clientId: string;
  clientAuthMethod?: string | undefined;
  metadata(): Record<string, unknown>;
}
export interface IntrospectedToken {
  clientId?: string | undefined;
  aud?: string | string[] | undefined;
}

/**
 * Who may learn what a token is (RFC 7662 §4: the server decides which protected resources may ask,
 * so that one client cannot harvest facts about other clients' users): the client the token was issued
 * to; a confidential client in the token's audience (a resource server the token was issued for); and
 * a confidential client registered as an introspector (`client create --introspect`) — when bound to
 * a tenant, only for tokens of clients bound to the same tenant. Anyone else is told `active: false`,
 * exactly as for an unknown token, so the answer reveals nothing.
 */
export async function introspectionAllowed(
  client: IntrospectingClient,
  token: IntrospectedToken,
  findClient: (clientId: string) => Promise<{ metadata(): Record<string, unknown> } | undefined>,
): Promise<boolean> {
  if (token.clientId !== undefined && token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  const audiences = token.aud === undefined ? [] : Array.isArray(token.aud) ? token.aud : [token.aud];
  if (audiences.includes(client.clientId)) return true;
  const metadata = client.metadata();
  if (metadata.may_introspect !== true) return false;
  const tenant = metadata.tenant_id;
  if (typeof tenant !== 'string' || !tenant) return true;
  if (!token.clientId) return false;
  const owner = await findClient(token.clientId);
  return owner?.metadata().tenant_id === tenant;
}

export function createProvider(config: Config, keys: KeyMaterial, hooks: ProviderHooks): Provider {
  const resource = apiResource(config.issuer);
  const configuration: Configuration = {
    adapter: hooks.adapter,
    findAccount: hooks.findAccount,
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: cookieKeyring(keys.cookieKeys),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    acrValues: [...ACR_VALUES_SUPPORTED],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'tenant'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    conformIdTokenClaims: false,
    scopes: ['openid', 'offline_access', 'email', 'profile', ...API_SCOPES],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
    },
    extraClientMetadata: {
      properties: ['first_party', 'require_mfa', 'require_phishing_resistant_mfa', 'may_introspect', 'tenant_id'],
      validator(_ctx, key, value) {
        if ((key === 'first_party' || key === 'require_mfa' || key === 'require_phishing_resistant_mfa' || key === 'may_introspect') && value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: (ctx, client, token) =>
          introspectionAllowed(client, { clientId: token.clientId, aud: (token as { aud?: string | string[] }).aud }, (id) => ctx.oidc.provider.Client.find(id)),
      },
      // Only the client a token was issued to may revoke it.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource: hooks.logoutSource, postLogoutSuccessSource: hooks.postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? resource : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: API_SCOPES.join(' '),
            audience: API_AUDIENCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: config.ttl.accessToken,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    // Browser apps (public clients) may call the token and userinfo endpoints from their own origin,
    // which must be the origin of one of their registered redirect URIs.
    clientBasedCORS(ctx, origin, client) {
      if (origin === 'null') return false;
      if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
      return client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false;
    },
    extraTokenClaims(ctx) {
      // acr/amr live on the session and oidc-provider copies them to codes and refresh tokens, not to
      // access tokens, so introspection and JWT access tokens get them here.
      const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
      if (!source) return undefined;
      return { amr: source.amr, acr: source.acr, auth_time: source.authTime };
    },
    issueRefreshToken: async (ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || client.metadata().first_party === true),
    rotateRefreshToken: true,
    loadExistingGrant,
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: createInteractionPolicy(),
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: 60,
      ClientCredentials: config.ttl.accessToken,
      IdToken: config.ttl.idToken,
      Interaction: 3600,
      Session: config.ttl.session,
      Grant: config.ttl.refreshToken,
      RefreshToken: config.ttl.refreshToken,
      BackchannelAuthenticationRequest: 600,
      DeviceCode: 600,
      LogoutToken: 120,
    },
    renderError: hooks.renderError,
    ...(hooks.fetch ? { fetch: hooks.fetch } : {}),
  };

  const provider = new Provider(config.issuer, configuration);
  // Gatehouse's own middleware runs inside this Koa app, so these settings decide ctx.ip everywhere.
  // Each proxy appends the address it received the request from to X-Forwarded-For; the entries
  // before the ones our proxies added were written by the client and are not evidence of anything.
  // Keeping only the last TRUST_PROXY_HOPS entries makes ctx.ip the address the outermost trusted
  // proxy saw.
  provider.proxy = config.trustProxy;
  provider.maxIpsCount = config.trustProxy ? config.trustProxyHops : 0;
  useHashedClientSecrets(provider);
  return provider;
}
