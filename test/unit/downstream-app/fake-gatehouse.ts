/**
 * A stand-in for Gatehouse in unit tests of the demo app: discovery, JWKS, an authorization endpoint
 * that "signs in" whoever the test configures (no pages), a token endpoint checking client secret,
 * code and PKCE, and an end-session endpoint. ID tokens carry amr/acr like DESIGN.md §6.
 * The real provider is exercised by the end-to-end tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

export interface FakeLogin {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  amr: string[];
  acr: string;
  sid?: string;
  tenant?: { id: string; name: string };
  /** Seconds since the epoch; default now. */
  auth_time?: number;
}

export interface FakeGatehouse {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next authorization request signs in. */
  login: FakeLogin;
  /** When true, a request with acr_values=…:mfa makes the login MFA (`amr` pwd,otp,mfa). */
  honourStepUp: boolean;
  /** Sign ID tokens with a key that is not in the JWKS (forged tokens). */
  forgeSignatures: boolean;
  authorizationRequests: URLSearchParams[];
  endSessionRequests: URLSearchParams[];
  signLogoutToken(claims: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

const ACR_MFA = 'urn:gatehouse:acr:mfa';

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
function basicCredentialsMatch(header: string | undefined, clientId: string, clientSecret: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const [id = '', secret = ''] = decoded.split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
  return id === clientId && secret === clientSecret;
}

export async function startFakeGatehouse(clientId = 'acme-mdr', clientSecret = 'test-secret-0123456789'): Promise<FakeGatehouse> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const forger = await generateKeyPair('ES256');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'gh-es256-1', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { params: URLSearchParams; login: FakeLogin }>();
  let issuer = '';

  const sign = (payload: JWTPayload, key: CryptoKey, typ?: string) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'gh-es256-1', ...(typ ? { typ } : {}) }).sign(key);

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', issuer);
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify(body));
      };
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          end_session_endpoint: `${issuer}/session/end`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['ES256', 'RS256'],
          code_challenge_methods_supported: ['S256'],
          acr_values_supported: ['urn:gatehouse:acr:1fa', ACR_MFA],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
          backchannel_logout_supported: true,
          backchannel_logout_session_supported: true,
        });
      }
      if (url.pathname === '/jwks') return json(200, { keys: [publicJwk] });
      if (url.pathname === '/auth') {
        fake.authorizationRequests.push(url.searchParams);
        const login = { ...fake.login };
        if (fake.honourStepUp && url.searchParams.get('acr_values')?.split(' ').includes(ACR_MFA)) {
          login.amr = login.amr[0] === 'fed' ? ['fed', 'otp', 'mfa'] : ['pwd', 'otp', 'mfa'];
          login.acr = ACR_MFA;
          login.auth_time = Math.floor(Date.now() / 1000);
        }
        const code = randomBytes(16).toString('base64url');
        codes.set(code, { params: url.searchParams, login });
        const back = new URL(url.searchParams.get('redirect_uri') ?? '');
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        response.writeHead(302, { location: back.href });
        return response.end();
      }
      if (url.pathname === '/token' && request.method === 'POST') {
        const form = new URLSearchParams(await readBody(request));
        if (!basicCredentialsMatch(request.headers.authorization, clientId, clientSecret)) return json(401, { error: 'invalid_client' });
        const entry = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        if (!entry) return json(400, { error: 'invalid_grant' });
        const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
        if (challenge !== entry.params.get('code_challenge') || form.get('redirect_uri') !== entry.params.get('redirect_uri')) {
          return json(400, { error: 'invalid_grant' });
        }
        const now = Math.floor(Date.now() / 1000);
        const { login } = entry;
        const idToken = await sign({
          iss: issuer, aud: clientId, iat: now, exp: now + 300,
          nonce: entry.params.get('nonce') ?? undefined,
          auth_time: login.auth_time ?? now,
          sub: login.sub, amr: login.amr, acr: login.acr,
          email: login.email, email_verified: login.email_verified, name: login.name,
          sid: login.sid, tenant: login.tenant,
        }, fake.forgeSignatures ? forger.privateKey : privateKey);
        return json(200, { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token: idToken, scope: 'openid email profile' });
      }
      if (url.pathname === '/session/end') {
        fake.endSessionRequests.push(url.searchParams);
        response.writeHead(200, { 'content-type': 'text/plain' });
        return response.end('signed out of fake Gatehouse');
      }
      response.writeHead(404);
      response.end();
    })().catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeGatehouse = {
    issuer,
    clientId,
    clientSecret,
    login: { sub: 'acct_dana', email: 'dana@acme.test', email_verified: true, name: 'Dana Ops', amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa', sid: 'sid-1' },
    honourStepUp: true,
    forgeSignatures: false,
    authorizationRequests: [],
    endSessionRequests: [],
    signLogoutToken: (claims) => sign({
      iss: issuer, aud: clientId, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 120,
      jti: randomBytes(8).toString('hex'),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...claims,
    }, privateKey, 'logout+jwt'),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return fake;
}
