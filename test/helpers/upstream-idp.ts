// A second, real oidc-provider started by a test as the upstream identity provider of a federation
// sign-in. It signs users in without pages: the test says who signs in next (subject, email, amr, acr)
// or that the user cancels. It can also misbehave the ways an upstream does: refuse connections, answer
// too slowly, or send an ID token whose signature does not verify.
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import { freePort } from './ports.ts';

export interface UpstreamUser {
  sub: string;
  email: string;
  emailVerified?: boolean;
  name?: string;
  amr?: string[];
  acr?: string;
}

export type UpstreamMode = 'normal' | 'deny' | 'down' | 'slow' | 'tamper';

export interface TestUpstream {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** who signs in at the next authorization request. */
  next: UpstreamUser;
  mode: UpstreamMode;
  /** how long `slow` holds every answer. */
  slowMs: number;
  /** requests received, by path (the discovery document, /jwks…). */
  requests: Record<string, number>;
  /** the Cache-Control header of the discovery document (none when undefined). */
  discoveryCacheControl: string | undefined;
  /** signs with a new key (a new kid) from now on, and publishes only that one. */
  rotateKey(): Promise<void>;
  stop(): Promise<void>;
}

export async function startUpstream(redirectUri: string): Promise<TestUpstream> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = `gatehouse-${randomBytes(3).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const signingKey = async (kid: string) => ({ ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid, alg: 'RS256', use: 'sig' });
  const users = new Map<string, UpstreamUser>();
  const cookieKeys = [randomBytes(16).toString('hex')];

  const state: TestUpstream = {
    issuer,
    clientId,
    clientSecret,
    next: { sub: 'nobody', email: 'nobody@example.com' },
    mode: 'normal',
    slowMs: 2000,
    requests: {},
    discoveryCacheControl: undefined,
    rotateKey: async () => undefined,
    stop: async () => undefined,
  };

  const build = (jwk: Awaited<ReturnType<typeof signingKey>>) => {
    const configuration: Configuration = {
      clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], id_token_signed_response_alg: 'RS256' }],
      jwks: { keys: [jwk] } as Configuration['jwks'],
      // the test's user agent keeps one cookie jar for every host: the upstream's cookies get names of their own
      cookies: { keys: cookieKeys, names: { session: '_up_session', interaction: '_up_interaction', resume: '_up_resume' } },
      features: { devInteractions: { enabled: false } },
      acrValues: ['urn:upstream:pwd', 'urn:upstream:mfa'],
      claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
      // Microsoft and Google put email and name into the ID token; so does this upstream.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      async findAccount(_ctx, sub) {
        const user = users.get(sub);
        if (!user) return undefined;
        return { accountId: sub, claims: () => ({ sub, email: user.email, email_verified: user.emailVerified ?? true, ...(user.name ? { name: user.name } : {}) }) };
      },
      async loadExistingGrant(ctx) {
        const accountId = ctx.oidc.session?.accountId;
        const client = ctx.oidc.client;
        if (!accountId || !client) return undefined;
        const grant = new ctx.oidc.provider.Grant({ accountId, clientId: client.clientId });
        grant.addOIDCScope('openid email profile');
        await grant.save();
        return grant;
      },
    };
    const provider = new Provider(issuer, configuration);

    provider.use(async (ctx, next) => {
      state.requests[ctx.path] = (state.requests[ctx.path] ?? 0) + 1;
      if (state.mode === 'down') {
        ctx.req.socket.destroy();
        return;
      }
      if (state.mode === 'slow') await sleep(state.slowMs);
      const uid = /^\/interaction\/([^/]+)$/.exec(ctx.path)?.[1];
      if (uid) {
        const user = state.next;
        users.set(user.sub, user);
        const result =
          state.mode === 'deny'
            ? { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }
            : { login: { accountId: user.sub, amr: user.amr ?? ['pwd'], acr: user.acr ?? 'urn:upstream:pwd' } };
        ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
        return;
      }
      await next();
      if (state.mode === 'tamper' && ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && 'id_token' in ctx.body) {
        const body = ctx.body as { id_token: string };
        const [header, payload, signature = ''] = body.id_token.split('.');
        // one changed character of the signature: the token no longer verifies against the upstream's key
        body.id_token = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      }
      if (ctx.path === '/.well-known/openid-configuration' && state.discoveryCacheControl !== undefined) ctx.set('Cache-Control', state.discoveryCacheControl);
    });
    return provider;
  };

  let provider = build(await signingKey('upstream-1'));
  let rotations = 1;
  state.rotateKey = async () => {
    rotations += 1;
    provider = build(await signingKey(`upstream-${rotations}`));
  };
  const server = http.createServer((req, res) => provider.callback()(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
