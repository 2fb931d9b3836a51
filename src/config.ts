// One zod schema for every setting: each key documents itself, bad values fail fast naming the variable.
import { z } from 'zod';
import path from 'node:path';

const int = (name: string, def: number, min = 0) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .default(def);

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (name: string, protocols: string[]) =>
  z
    .string()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

/** Documented settings (README "Configuration" mirrors these descriptions). */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe(
    'production refuses to start on placeholder secrets, an example ISSUER, FETCH_ALLOW_PRIVATE_NETWORKS, or an https ISSUER without TRUST_PROXY',
  ),
  PORT: int('PORT', 3000, 0).refine((p) => p <= 65535, 'PORT must be at most 65535').describe('HTTP port'),
  HOST: z.string().default('0.0.0.0').describe('interface to listen on'),
  ISSUER: url('ISSUER', ['http:', 'https:']).optional().describe('public issuer URL (default http://localhost:$PORT)'),
  DATA_DIR: z.string().min(1, 'DATA_DIR must not be empty').default('./data').describe('embedded database, generated secret key, mail outbox'),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:']).optional().describe('PostgreSQL connection string; unset → embedded PGlite in DATA_DIR/pg'),
  REDIS_URL: url('REDIS_URL', ['redis:', 'rediss:']).optional().describe('Redis for oidc-provider artifacts and counters; unset → LMDB in DATA_DIR/lmdb on the embedded default, SQL tables with DATABASE_URL'),
  REDIS_CLUSTER: bool(false).describe(
    'REDIS_URL names one node of a Redis Cluster (its user and password apply to every node); the client finds the others itself',
  ),
  GATEHOUSE_SECRET_KEY: z
    .string()
    .optional()
    .describe('base64 32-byte key(s) for secrets at rest, comma-separated, newest first; unset → generated file in DATA_DIR'),
  SMTP_URL: url('SMTP_URL', ['smtp:', 'smtps:']).optional().describe('outgoing mail; unset → DATA_DIR/outbox/*.eml and a log line'),
  MAIL_FROM: z.string().default('Gatehouse <no-reply@gatehouse.local>').describe('From: address of notifications'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  TRUST_PROXY: bool(false).describe('behind a TLS-terminating proxy: trust X-Forwarded-* and mark cookies Secure'),
  TRUST_PROXY_HOPS: int('TRUST_PROXY_HOPS', 1, 1).describe(
    'with TRUST_PROXY: how many proxies in front of Gatehouse append to X-Forwarded-For; the client IP is the address the outermost of them saw',
  ),
  ARGON2_MEMORY_KIB: int('ARGON2_MEMORY_KIB', 19456, 8192).describe('argon2id memory cost (OWASP: 19 MiB)'),
  ARGON2_TIME_COST: int('ARGON2_TIME_COST', 2, 1).describe('argon2id iterations'),
  ARGON2_PARALLELISM: int('ARGON2_PARALLELISM', 1, 1).describe('argon2id lanes'),
  LOGIN_MAX_PER_IP: int('LOGIN_MAX_PER_IP', 100, 1).describe('password attempts per client IP (IPv6: per /64) per window'),
  LOGIN_MAX_PER_ACCOUNT_IP: int('LOGIN_MAX_PER_ACCOUNT_IP', 5, 1).describe('wrong passwords per email from one client IP (IPv6: /64) per window'),
  LOGIN_MAX_PER_ACCOUNT: int('LOGIN_MAX_PER_ACCOUNT', 50, 1).describe(
    'wrong passwords per email from all IPs per window; beyond it only networks where that email signed in recently may try',
  ),
  LOGIN_KNOWN_NETWORK_SECONDS: int('LOGIN_KNOWN_NETWORK_SECONDS', 30 * 86400, 0).describe(
    'how long a successful sign-in lets its network keep trying an email past LOGIN_MAX_PER_ACCOUNT',
  ),
  MFA_MAX_PER_IP: int('MFA_MAX_PER_IP', 100, 1).describe('second-factor attempts per client IP per window'),
  RATE_WINDOW_SECONDS: int('RATE_WINDOW_SECONDS', 900, 1).describe('window of the attempt limits'),
  MFA_LOCKOUT_THRESHOLD: int('MFA_LOCKOUT_THRESHOLD', 5, 1).describe('consecutive wrong codes that lock the MFA step'),
  MFA_LOCKOUT_BASE_SECONDS: int('MFA_LOCKOUT_BASE_SECONDS', 900, 1).describe('first lock duration; doubles on each repeat'),
  MFA_LOCKOUT_MAX_SECONDS: int('MFA_LOCKOUT_MAX_SECONDS', 86400, 1).describe('longest lock duration'),
  MFA_ENROL_PENDING_SECONDS: int('MFA_ENROL_PENDING_SECONDS', 900, 60).describe('lifetime of an unconfirmed authenticator'),
  STEP_UP_PASSWORD_MAX_AGE_SECONDS: int('STEP_UP_PASSWORD_MAX_AGE_SECONDS', 3600, 0).describe(
    'a step-up to MFA asks only for the second factor when the password was entered at most this long ago; otherwise for both',
  ),
  REMEMBER_BROWSER_DAYS: int('REMEMBER_BROWSER_DAYS', 30, 0)
    .refine((d) => d <= 365, 'REMEMBER_BROWSER_DAYS must be at most 365')
    .describe('"Don\'t ask for a code on this browser for N days" after a second factor; 0 turns the choice off'),
  NEW_BROWSER_NOTICE: bool(false).describe('mail the account owner when it signs in from a browser it has not used before'),
  ACCESS_TOKEN_TTL: int('ACCESS_TOKEN_TTL', 3600, 60).describe('access token lifetime (s)'),
  ID_TOKEN_TTL: int('ID_TOKEN_TTL', 3600, 60).describe('ID token lifetime (s)'),
  REFRESH_TOKEN_TTL: int('REFRESH_TOKEN_TTL', 14 * 86400, 60).describe('refresh token lifetime (s)'),
  SESSION_TTL: int('SESSION_TTL', 14 * 86400, 60).describe('SSO session lifetime (s)'),
  KEY_REFRESH_SECONDS: int('KEY_REFRESH_SECONDS', 30, 1).describe('how often an instance checks for signing keys rotated elsewhere'),
  FETCH_ALLOW_PRIVATE_NETWORKS: bool(false).describe(
    'let Gatehouse call relying parties on loopback/private addresses (back-channel logout, jwks_uri); development and tests only',
  ),
  KEY_RETIRE_AFTER_SECONDS: int('KEY_RETIRE_AFTER_SECONDS', 0, 0).describe(
    'how long a replaced signing key stays published (0 → the longest token lifetime)',
  ),
  METRICS_PORT: int('METRICS_PORT', 0, 0)
    .refine((p) => p <= 65535, 'METRICS_PORT must be at most 65535')
    .describe('serve /metrics on this port (on METRICS_HOST) instead of the public port; 0 → on the public port'),
  METRICS_HOST: z.string().default('127.0.0.1').describe('interface of the METRICS_PORT listener'),
  WORKERS: int('WORKERS', 0, 0).describe(
    'processes serving requests with PostgreSQL + Redis (node:cluster, one port): 0 → one per CPU; SIGHUP restarts them one by one; the embedded default always runs one',
  ),
  METRICS_TOKEN: z
    .string()
    .min(32, 'METRICS_TOKEN must be at least 32 characters (e.g. openssl rand -base64 32)')
    .optional()
    .describe('when set, /metrics answers only requests with Authorization: Bearer <this token>'),
  WEBAUTHN_RP_ID: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'WEBAUTHN_RP_ID must be a lower-case host name such as login.example.com')
    .optional()
    .describe("passkeys' relying-party ID: the issuer's host or a parent domain of it; unset → the issuer's host"),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  issuer: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisCluster: boolean;
  secretKeys: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: Env['LOG_LEVEL'];
  trustProxy: boolean;
  /** proxies that append to X-Forwarded-For (Koa maxIpsCount); used only with trustProxy. */
  trustProxyHops: number;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  limits: {
    loginPerIp: number;
    loginPerAccountIp: number;
    loginPerAccount: number;
    knownNetworkSeconds: number;
    mfaPerIp: number;
    windowSeconds: number;
  };
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  enrolPendingSeconds: number;
  stepUpPasswordMaxAgeSeconds: number;
  /** days a remembered browser skips the code; 0: the choice is not offered. */
  rememberBrowserDays: number;
  /** mail the owner after a sign-in from a browser not seen before for the account. */
  newBrowserNotice: boolean;
  ttl: { accessToken: number; idToken: number; refreshToken: number; session: number };
  keyRetireAfterSeconds: number;
  keyRefreshSeconds: number;
  fetchAllowPrivateNetworks: boolean;
  metrics: { port: number; host: string; token: string | undefined };
  /** requested worker processes (0 = one per CPU); see clusterSize(). */
  workers: number;
  /** passkeys: the relying-party ID credentials are bound to, and the origin assertions must come from. */
  webauthn: { rpId: string; origin: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment; throws ConfigError whose message names each bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((k) => {
      const v = source[k];
      return v === undefined || v === '' ? [] : [[k, v]];
    }),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? 'config');
      return i.message.includes(key) ? i.message : `${key}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production') {
    const problems = productionProblems(e);
    if (problems.length) throw new ConfigError(`Refusing to start in production:\n  ${problems.join('\n  ')}`);
  }
  if (e.MFA_LOCKOUT_MAX_SECONDS < e.MFA_LOCKOUT_BASE_SECONDS) {
    throw new ConfigError('MFA_LOCKOUT_MAX_SECONDS must be at least MFA_LOCKOUT_BASE_SECONDS');
  }
  if (e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) throw new ConfigError('METRICS_PORT must differ from PORT (0 serves /metrics on PORT)');
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    issuer,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER,
    secretKeys: e.GATEHOUSE_SECRET_KEY,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: e.ARGON2_PARALLELISM },
    limits: {
      loginPerIp: e.LOGIN_MAX_PER_IP,
      loginPerAccountIp: e.LOGIN_MAX_PER_ACCOUNT_IP,
      loginPerAccount: e.LOGIN_MAX_PER_ACCOUNT,
      knownNetworkSeconds: e.LOGIN_KNOWN_NETWORK_SECONDS,
      mfaPerIp: e.MFA_MAX_PER_IP,
      windowSeconds: e.RATE_WINDOW_SECONDS,
    },
    lockout: { threshold: e.MFA_LOCKOUT_THRESHOLD, baseSeconds: e.MFA_LOCKOUT_BASE_SECONDS, maxSeconds: e.MFA_LOCKOUT_MAX_SECONDS },
    enrolPendingSeconds: e.MFA_ENROL_PENDING_SECONDS,
    stepUpPasswordMaxAgeSeconds: e.STEP_UP_PASSWORD_MAX_AGE_SECONDS,
    rememberBrowserDays: e.REMEMBER_BROWSER_DAYS,
    newBrowserNotice: e.NEW_BROWSER_NOTICE,
    ttl: { accessToken: e.ACCESS_TOKEN_TTL, idToken: e.ID_TOKEN_TTL, refreshToken: e.REFRESH_TOKEN_TTL, session: e.SESSION_TTL },
    keyRefreshSeconds: e.KEY_REFRESH_SECONDS,
    fetchAllowPrivateNetworks: e.FETCH_ALLOW_PRIVATE_NETWORKS,
    keyRetireAfterSeconds: e.KEY_RETIRE_AFTER_SECONDS || Math.max(e.ACCESS_TOKEN_TTL, e.ID_TOKEN_TTL, e.REFRESH_TOKEN_TTL),
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN },
    workers: e.WORKERS,
    webauthn: webauthnSettings(issuer, e.WEBAUTHN_RP_ID),
  };
}

/**
 * A browser accepts an RP ID only when it is the page's host or a registrable parent of it
 * (WebAuthn §5.1.3), so any other value would make every passkey ceremony fail: refused at start.
 */
function webauthnSettings(issuer: string, rpId: string | undefined): Config['webauthn'] {
  const url = new URL(issuer);
  const host = url.hostname;
  if (rpId !== undefined && host !== rpId && !host.endsWith(`.${rpId}`)) {
    throw new ConfigError(`WEBAUTHN_RP_ID ${rpId} must be the issuer's host (${host}) or a parent domain of it`);
  }
  return { rpId: rpId ?? host, origin: url.origin };
}

/**
 * Values that are somebody's example, not a secret: copied from config/production.env.example or a
 * tutorial, or typed as a stand-in. Matched against whole secret values and URL passwords.
 */
const PLACEHOLDER = /^(?:x+|\*+|<.*>|\$\{.*\}|\[.*\]|.*change[-_ ]?(?:me|it|this).*|.*replace[-_ ]?(?:me|this).*|.*placeholder.*|.*your[-_ ]?(?:password|secret|token|key).*|todo|tbd|fixme|secret|password|passw0rd|pass|example|test|admin|root|postgres|default)$/i;

/** Host names reserved for documentation (RFC 2606, RFC 6761): an issuer there is a copied example. */
const EXAMPLE_HOST = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid)$/i;

const isPlaceholder = (value: string) => PLACEHOLDER.test(value.trim());

function urlPassword(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** A key that is not 32 random bytes: a repeated byte, a short pattern, a sequence. */
function looksUnrandom(base64: string): boolean {
  const bytes = Buffer.from(base64.trim(), 'base64');
  // 32 random bytes repeat about two values; a typed or patterned key repeats far more
  return bytes.length === 32 && new Set(bytes).size < 20;
}

/**
 * What production refuses, each with the reason: secrets that are placeholders (anyone who read the
 * example knows them), an SSRF switch meant for local development, and an https issuer served without
 * TRUST_PROXY (TLS then ends at a proxy Gatehouse does not trust, so it sees plain http: cookies lose
 * Secure and discovery advertises http endpoints).
 */
function productionProblems(e: Env): string[] {
  const problems: string[] = [];
  if (!e.GATEHOUSE_SECRET_KEY) problems.push('GATEHOUSE_SECRET_KEY must be set in production (a generated file is for the embedded default only)');
  else if (e.GATEHOUSE_SECRET_KEY.split(',').some((k) => isPlaceholder(k) || looksUnrandom(k))) {
    problems.push('GATEHOUSE_SECRET_KEY is a placeholder or not random: generate one with openssl rand -base64 32');
  }
  if (!e.ISSUER) problems.push('ISSUER must be set in production');
  else {
    const issuer = new URL(e.ISSUER);
    if (EXAMPLE_HOST.test(issuer.hostname)) problems.push(`ISSUER ${e.ISSUER} is an example address: set the public URL of this Gatehouse`);
    if (issuer.protocol === 'https:' && !e.TRUST_PROXY) {
      problems.push('ISSUER is https but TRUST_PROXY is false: Gatehouse serves plain HTTP, so TLS ends at a proxy it must trust (set TRUST_PROXY=true), or cookies lose Secure');
    }
  }
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL'] as const) {
    const password = urlPassword(e[name]);
    if (password !== undefined && isPlaceholder(password)) problems.push(`${name} has a placeholder password: set the real one`);
  }
  if (e.METRICS_TOKEN !== undefined && isPlaceholder(e.METRICS_TOKEN)) problems.push('METRICS_TOKEN is a placeholder: generate one with openssl rand -base64 32');
  if (e.FETCH_ALLOW_PRIVATE_NETWORKS) {
    problems.push('FETCH_ALLOW_PRIVATE_NETWORKS=true lets relying-party metadata make Gatehouse call internal addresses: it is for development and tests only');
  }
  return problems;
}
