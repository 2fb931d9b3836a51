// The yardstick: a bare oidc-provider 9 process configured like Gatehouse's provider (src/oidc/provider.ts)
// for what the bench measures — ES256 signing key, the same static first-party client (plain secret),
// client credentials with resource indicators giving ES256 `at+jwt` tokens for the gatehouse-api
// audience, introspection, PKCE required, the same token lifetimes — and nothing else: no Koa app
// around it, no pages, no rate limits, no audit. A one-form "login" lets the bench mint the opaque
// access token it introspects.
//
// Environment: PORT, ISSUER, BARE_STORAGE (memory | sql | redis | lmdb), DATA_DIR (sql on embedded PGlite, lmdb) or
// DATABASE_URL (sql on PostgreSQL), REDIS_URL + BARE_REDIS_PREFIX (redis), BENCH_CLIENT_ID,
// BENCH_CLIENT_SECRET, BENCH_REDIRECT_URI; token lifetimes come from the same variables as Gatehouse's.
import http from 'node:http';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import Provider, { errors, type Adapter, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { loadConfig } from '../../src/config.ts';
import { ACR_1FA, ACR_MFA } from '../../src/domain/amr.ts';
import { API_AUDIENCE, API_SCOPE, apiResource } from '../../src/oidc/provider.ts';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { openRedis, type RedisClient } from '../../src/store/redis.ts';
import { createSqlAdapter } from '../../src/oidc/adapters/sql-adapter.ts';
import { createRedisAdapter } from '../../src/oidc/adapters/redis-adapter.ts';
import { createLmdbAdapter } from '../../src/oidc/adapters/lmdb-adapter.ts';
import { openLmdbStore } from '../../src/store/lmdb.ts';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`bare-provider: ${name} is not set`);
  return value;
};

const storage = process.env.BARE_STORAGE ?? 'memory';
if (!['memory', 'sql', 'redis', 'lmdb'].includes(storage)) throw new Error(`bare-provider: BARE_STORAGE must be memory, sql, redis or lmdb, not ${storage}`);
const config = loadConfig(process.env);
const port = Number(need('PORT'));
const issuer = need('ISSUER');
const resource = apiResource(issuer);

let database: Database | undefined;
let redis: RedisClient | undefined;
let adapter: ((name: string) => Adapter) | undefined;
if (storage === 'sql') {
  // its own database (a PGlite directory or a PostgreSQL database of its own), with Gatehouse's tables
  database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: need('DATA_DIR'), role: 'client' });
  await database.migrate();
  const SqlAdapter = createSqlAdapter(database.db);
  adapter = (name) => new SqlAdapter(name);
} else if (storage === 'lmdb') {
  const LmdbAdapter = createLmdbAdapter(openLmdbStore(need('DATA_DIR')));
  adapter = (name) => new LmdbAdapter(name);
} else if (storage === 'redis') {
  redis = await openRedis(need('REDIS_URL'));
  const RedisAdapter = createRedisAdapter(redis, need('BARE_REDIS_PREFIX'));
  adapter = (name) => new RedisAdapter(name);
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bare-es256', alg: 'ES256', use: 'sig' };

/** Like Gatehouse's first-party clients: the grant holds whatever the client asks for, no consent page. */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { client, session } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId = session.grantIdFor(client.clientId);
  const grant = (grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined) ?? new ctx.oidc.provider.Grant({ accountId: session.accountId, clientId: client.clientId });
  const scopes = [...(ctx.oidc.requestParamScopes ?? [])].join(' ');
  if (scopes) grant.addOIDCScope(scopes);
  const claims = [...(ctx.oidc.requestParamClaims ?? [])];
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

const configuration: Configuration = {
  ...(adapter ? { adapter } : {}),
  clients: [
    {
      client_id: need('BENCH_CLIENT_ID'),
      client_secret: need('BENCH_CLIENT_SECRET'),
      redirect_uris: [need('BENCH_REDIRECT_URI')],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@bench.example`, email_verified: true, name: 'Bench User' };
      },
    };
  },
  jwks: { keys: [signingKey] } as Configuration['jwks'],
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    long: { signed: true, httpOnly: true, sameSite: 'lax' },
    short: { signed: true, httpOnly: true, sameSite: 'lax' },
  },
  acrValues: [ACR_1FA, ACR_MFA],
  claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  scopes: ['openid', 'offline_access', 'email', 'profile', API_SCOPE],
  responseTypes: ['code'],
  pkce: { required: () => true },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? resource : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return { scope: API_SCOPE, audience: API_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: config.ttl.accessToken, jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  extraTokenClaims(ctx) {
    const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
    if (!source) return undefined;
    return { amr: source.amr, acr: source.acr, auth_time: source.authTime };
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  loadExistingGrant,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: config.ttl.accessToken,
    AuthorizationCode: 60,
    ClientCredentials: config.ttl.accessToken,
    IdToken: config.ttl.idToken,
    Interaction: 3600,
    Session: config.ttl.session,
    Grant: config.ttl.refreshToken,
    RefreshToken: config.ttl.refreshToken,
  },
};

const provider = new Provider(issuer, configuration);

// POST /bench/sessions?count=N stores N more Sessions the way a sign-in does (account, amr, acr, one
// client authorisation with its sid and grant), for the bench's memory figure: on the memory adapter
// they live in this process, which is what the RSS after 10,000 sessions compares Gatehouse with.
provider.use(async (ctx, next) => {
  if (ctx.path !== '/bench/sessions' || ctx.method !== 'POST') return next();
  const count = Number(ctx.query.count);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) {
    ctx.status = 400;
    return;
  }
  const clientId = need('BENCH_CLIENT_ID');
  const loginTs = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    // oidc-provider's typings declare no constructor arguments; the model takes its payload like every other
    const SessionModel = provider.Session as unknown as new (payload: Record<string, unknown>) => InstanceType<typeof provider.Session>;
    const session = new SessionModel({
      jti: randomBytes(32).toString('base64url').slice(0, 43),
      uid: randomBytes(16).toString('base64url').slice(0, 21),
      accountId: `bench-account-${i}`,
      loginTs,
      amr: ['pwd'],
      acr: ACR_1FA,
      authorizations: { [clientId]: { sid: randomBytes(16).toString('base64url').slice(0, 21), grantId: randomBytes(16).toString('base64url').slice(0, 21), persistsLogout: true } },
    });
    await session.save(config.ttl.session);
  }
  ctx.body = { stored: count };
});

// The minimal interaction: GET shows one form, POST …/login signs the bench account in with amr pwd.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><form method="post" action="/interaction/${interaction.uid}/login"><input name="email"><input name="password" type="password"><button>Sign in</button></form>`;
    return;
  }
  if (ctx.method === 'POST' && match[2]) {
    for await (const _chunk of ctx.req) {
      // the bare provider believes every password; the body is drained, not read
    }
    const redirectTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: 'bench-account', amr: ['pwd'], acr: ACR_1FA, remember: true } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(redirectTo);
    return;
  }
  ctx.status = 405;
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`bare-provider server_error: ${err.stack ?? String(err)}\n`));

const server = http.createServer(provider.callback());
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve());
});
process.stdout.write(`bare oidc-provider (${storage} storage) listening on http://127.0.0.1:${port}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close(() => {
    void (async () => {
      await redis?.quit().catch(() => undefined);
      await database?.close().catch(() => undefined);
      process.exit(0);
    })();
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
