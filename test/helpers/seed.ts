// Tenants, accounts and clients for tests, created through the same use cases the CLI uses.
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Runtime } from '../../src/runtime.ts';
import type { ClientInput } from '../../src/domain/clients.ts';
import { UserAgent, type Page } from './user-agent.ts';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const PASSWORD = 'correct horse battery';

export const uniq = () => randomBytes(4).toString('hex');

/** A tenant; organizations and sub-resellers get a fresh distributor as parent unless one is given. */
export async function seedTenant(runtime: Runtime, kind: 'distributor' | 'sub_reseller' | 'organization' = 'organization', name = `Org ${uniq()}`, parent?: string) {
  const parentId = parent ?? (kind === 'distributor' ? undefined : (await runtime.directory.createTenant({ kind: 'distributor', name: `Distributor ${uniq()}` })).id);
  return runtime.directory.createTenant({ kind, name, ...(parentId ? { parent: parentId } : {}) });
}

export async function seedAccount(runtime: Runtime, tenantId: string, overrides: { email?: string; password?: string; role?: string; name?: string } = {}) {
  return runtime.directory.createAccount({
    tenant: tenantId,
    email: overrides.email ?? `user-${uniq()}@example.com`,
    password: overrides.password ?? PASSWORD,
    role: overrides.role ?? 'user',
    name: overrides.name ?? 'Test User',
  });
}

export async function seedClient(runtime: Runtime, input: Partial<ClientInput> = {}) {
  const registered = await runtime.clients.register({
    name: `App ${uniq()}`,
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: ['http://127.0.0.1:9/logged-out'],
    grants: ['authorization_code', 'refresh_token', 'client_credentials'],
    firstParty: true,
    ...input,
  });
  return { clientId: registered.client_id, clientSecret: registered.client_secret };
}

/** An openid-client Configuration for a registered client (ES256 ID tokens, client_secret_basic). */
export async function rpConfig(issuer: string, client: { clientId: string; clientSecret?: string | undefined }, alg = 'ES256') {
  return oidc.discovery(
    new URL(issuer),
    client.clientId,
    { id_token_signed_response_alg: alg, ...(client.clientSecret ? { client_secret: client.clientSecret } : {}) },
    client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

export interface AuthorizationStart {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

export async function startAuthorization(config: oidc.Configuration, params: Record<string, string> = {}): Promise<AuthorizationStart> {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...params,
  });
  return { url, verifier, nonce, state };
}

/** Exchanges the code that reached the redirect URI. */
export async function finishAuthorization(config: oidc.Configuration, start: AuthorizationStart, callback: Page) {
  if (!callback.url.startsWith(REDIRECT_URI)) throw new Error(`expected a redirect to the client, got ${callback.status} ${callback.url}\n${callback.html.slice(0, 1500)}`);
  return oidc.authorizationCodeGrant(config, new URL(callback.url), { pkceCodeVerifier: start.verifier, expectedNonce: start.nonce, expectedState: start.state });
}

/** authorize → login page → password → (no MFA) → code → tokens. */
export async function passwordSignIn(config: oidc.Configuration, email: string, password = PASSWORD, params: Record<string, string> = {}, agent = new UserAgent()) {
  const start = await startAuthorization(config, params);
  const login = await agent.get(start.url.href, REDIRECT_URI);
  const callback = await agent.submit(login, '/login', { email, password }, REDIRECT_URI);
  return { agent, tokens: await finishAuthorization(config, start, callback) };
}
