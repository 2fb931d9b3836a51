// A lean browser for the sign-in flows: node:http over keep-alive sockets, one cookie jar per flow,
// manual redirects, the page's hidden `_csrf` field. It drives Gatehouse's real pages (and the bare
// provider's one-form page) exactly as a user's browser would, with as little client CPU as possible,
// because the load generator shares this machine with the servers it measures.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { totpCode } from './totp.ts';

export interface Target {
  /** http://127.0.0.1:<port> */
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface Credentials {
  email: string;
  password: string;
  /** the account's TOTP key, for the verify page. */
  totpKey?: Buffer | undefined;
}

export interface SignInResult {
  accessToken: string;
  idTokenClaims: Record<string, unknown>;
  requests: number;
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class SignInError extends Error {
  override name = 'SignInError';
}

/** One keep-alive agent per target, shared by every flow (cookies, not sockets, make a session). */
export function createAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export function request(agent: http.Agent, method: string, url: URL, headers: Record<string, string>, body?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, method, hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  header(url: URL): string {
    const out: string[] = [];
    for (const c of this.cookies.values()) if (url.pathname.startsWith(c.path)) out.push(`${c.name}=${c.value}`);
    return out.join('; ');
  }

  remember(headers: http.IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const raw of attrs) {
        const a = raw.trim().toLowerCase();
        if (a.startsWith('path=')) path = raw.trim().slice(5);
        else if (a === 'max-age=0' || a.startsWith('expires=thu, 01 jan 1970')) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }
}

const basic = (t: Target) => `Basic ${Buffer.from(`${encodeURIComponent(t.clientId)}:${encodeURIComponent(t.clientSecret)}`).toString('base64')}`;

const decodeEntities = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The action and hidden fields of the first form whose action contains `/login` or `/verify`. */
function findForm(html: string): { action: string; step: 'login' | 'verify'; hidden: Record<string, string> } | undefined {
  for (const match of html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const action = decodeEntities(match[1] ?? '');
    const step = action.endsWith('/login') ? 'login' : action.endsWith('/verify') ? 'verify' : undefined;
    if (!step) continue;
    const hidden: Record<string, string> = {};
    for (const input of (match[2] ?? '').matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      if (name) hidden[name] = decodeEntities(/value="([^"]*)"/.exec(input[0])?.[1] ?? '');
    }
    return { action, step, hidden };
  }
  return undefined;
}

const snippet = (r: Response) => `${r.status} ${r.headers.location ?? ''} ${r.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 300)}`;

export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * One full sign-in with a fresh cookie jar (so a fresh session): authorize → sign-in page → password
 * (→ TOTP code) → code → token exchange with the PKCE verifier. Throws SignInError on any surprise.
 */
export async function signIn(agent: http.Agent, target: Target, credentials: Credentials): Promise<SignInResult> {
  const jar = new CookieJar();
  let requests = 0;
  const send = async (method: string, url: URL, body?: Record<string, string>): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'text/html', 'user-agent': 'gatehouse-bench' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    requests++;
    const res = await request(agent, method, url, headers, body ? new URLSearchParams(body).toString() : undefined);
    jar.remember(res.headers);
    return res;
  };

  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const authorize = new URL('/auth', target.url);
  authorize.search = new URLSearchParams({
    client_id: target.clientId,
    redirect_uri: target.redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  let res = await send('GET', authorize);
  let current = authorize;
  let code: string | undefined;
  for (let step = 0; step < 16 && !code; step++) {
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.location ?? '', current);
      if (location.href.startsWith(target.redirectUri)) {
        const error = location.searchParams.get('error');
        if (error) throw new SignInError(`authorization failed: ${error} ${location.searchParams.get('error_description') ?? ''}`);
        if (location.searchParams.get('state') !== state) throw new SignInError('state mismatch on the redirect URI');
        code = location.searchParams.get('code') ?? undefined;
        if (!code) throw new SignInError('no code on the redirect URI');
        break;
      }
      current = location;
      res = await send('GET', location);
      continue;
    }
    const form = res.status === 200 ? findForm(res.body) : undefined;
    if (!form) throw new SignInError(`unexpected page at ${current.pathname}: ${snippet(res)}`);
    let fields: Record<string, string>;
    if (form.step === 'login') {
      fields = { ...form.hidden, email: credentials.email, password: credentials.password };
    } else {
      if (!credentials.totpKey) throw new SignInError(`a code was asked for ${credentials.email}, which has no authenticator in the bench`);
      fields = { ...form.hidden, code: totpCode(credentials.totpKey) };
    }
    current = new URL(form.action, current);
    res = await send('POST', current, fields);
    if (res.status >= 400) throw new SignInError(`${form.step} refused: ${snippet(res)}`);
  }
  if (!code) throw new SignInError(`no code after following the sign-in: ${snippet(res)}`);

  requests++;
  const tokenRes = await request(
    agent,
    'POST',
    new URL('/token', target.url),
    { authorization: basic(target), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: target.redirectUri, code_verifier: verifier }).toString(),
  );
  if (tokenRes.status !== 200) throw new SignInError(`token exchange refused: ${snippet(tokenRes)}`);
  const tokens = JSON.parse(tokenRes.body) as { access_token?: string; id_token?: string };
  if (!tokens.access_token || !tokens.id_token) throw new SignInError('token response without access_token or id_token');
  return { accessToken: tokens.access_token, idTokenClaims: decodeJwtPayload(tokens.id_token), requests };
}

export const basicAuthorization = basic;

/** Signs in once with each of `accounts` (fresh cookie jars), `width` flows in flight. */
export async function driveFlows(target: Target, accounts: readonly Pick<Credentials, 'email' | 'totpKey'>[], password: string, width: number): Promise<void> {
  const agent = createAgent(width);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < accounts.length) {
          const account = accounts[next++] as Pick<Credentials, 'email' | 'totpKey'>;
          await signIn(agent, target, { email: account.email, password, totpKey: account.totpKey });
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}
