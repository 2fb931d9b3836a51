// Who is calling the admin API: a Gatehouse-issued JWT access token (`typ: at+jwt`, RFC 9068) for the
// gatehouse-api resource, checked in process against Gatehouse's own keys.
// - A user token (sub = an account): issued to a first-party client (the consoles), to an active
//   account, after MFA (acr mfa or phr — the admin console asks for it; a token without it could come
//   from a password-only session). The account's role decides, narrowed by the token's scopes.
// - A service token (client credentials, sub = client_id): a client bound to a tenant, acting as an
//   admin of that tenant with the scopes it was both registered for and granted.
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GatehouseError } from '../domain/errors.ts';
import { ACR_MFA } from '../domain/amr.ts';
import { accountActor, serviceActor, type AdminActor } from '../domain/admin/index.ts';
import type { Repos } from '../store/repos.ts';
import { API_AUDIENCE, API_SCOPES } from '../oidc/provider.ts';

export const unauthorized = (message: string, detail?: string) => new GatehouseError('invalid_token', 401, message, detail);

export interface ApiCaller {
  actor: AdminActor;
  scopes: ReadonlySet<string>;
  clientId: string;
}

export interface ApiAuthOptions {
  issuer: string;
  getKey: JWTVerifyGetKey;
  repos: Pick<Repos, 'accounts' | 'clients' | 'tenants'>;
}

/** phishing-resistant MFA (DESIGN.md §6) satisfies a request for MFA. */
export const MFA_ACRS: ReadonlySet<string> = new Set([ACR_MFA, 'urn:gatehouse:acr:phr']);
const KNOWN_SCOPES = new Set<string>(API_SCOPES);

const scopesOf = (value: unknown): Set<string> =>
  new Set(typeof value === 'string' ? value.split(' ').filter((s) => KNOWN_SCOPES.has(s)) : []);

export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized('This API needs an access token: send "Authorization: Bearer <token>".', 'no authorization header');
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  if (!match?.[1]) throw unauthorized('The Authorization header must be "Bearer <access token>".', 'malformed authorization header');
  return match[1];
}

export function createApiAuth(options: ApiAuthOptions) {
  const { repos } = options;

  async function verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, options.getKey, {
        issuer: options.issuer,
        audience: API_AUDIENCE,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256'],
        requiredClaims: ['sub', 'client_id', 'exp', 'iat'],
      });
      return payload;
    } catch (e) {
      const why = e instanceof joseErrors.JWTExpired ? 'The access token has expired.' : 'The access token is not valid for this API.';
      throw unauthorized(why, e instanceof Error ? `${e.name}: ${e.message}` : 'token verification failed');
    }
  }

  return {
    async authenticate(authorization: string | undefined): Promise<ApiCaller> {
      const payload = await verify(bearerToken(authorization));
      const sub = String(payload.sub);
      const clientId = String(payload.client_id);
      const client = await repos.clients.find(clientId);
      if (!client || client.disabled) throw unauthorized('The client this token was issued to is unknown or disabled.', `client ${clientId}`);
      const granted = scopesOf(payload.scope);

      if (sub === clientId) {
        if (!client.tenantId) throw unauthorized('Service clients must be bound to a tenant to use this API.', `client ${clientId} has no tenant`);
        const tenant = await repos.tenants.findById(client.tenantId);
        if (!tenant) throw unauthorized('The tenant of this service client no longer exists.', `tenant ${client.tenantId}`);
        // Only scopes the client was registered for count, even if a token somehow carried more.
        const registered = scopesOf(client.metadata.scope);
        const scopes = new Set([...granted].filter((s) => registered.has(s)));
        return { actor: serviceActor({ clientId, tenantId: tenant.id }, tenant.kind, scopes), scopes, clientId };
      }

      if (!client.firstParty) throw unauthorized('Only Gatehouse’s first-party applications may call this API for a user.', `client ${clientId} is third-party`);
      if (typeof payload.acr !== 'string' || !MFA_ACRS.has(payload.acr)) {
        throw unauthorized('This API needs a sign-in with multi-factor authentication.', `acr ${String(payload.acr)}`);
      }
      const account = await repos.accounts.findById(sub);
      if (!account || account.status !== 'active') throw unauthorized('The account of this token is unknown or deactivated.', `account ${sub}`);
      return { actor: accountActor({ id: account.id, email: account.email, role: account.role, tenantId: account.tenant.id, platformOperator: account.platformOperator }), scopes: granted, clientId };
    },
  };
}

export type ApiAuth = ReturnType<typeof createApiAuth>;
