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
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('production refuses placeholder secrets'),
  PORT: int('PORT', 3000, 0).refine((p) => p <= 65535, 'PORT must be at most 65535').describe('HTTP port'),
  HOST: z.string().default('0.0.0.0').describe('interface to listen on'),
  ISSUER: url('ISSUER', ['http:', 'https:']).optional().describe('public issuer URL (default http://localhost:$PORT)'),
  DATA_DIR: z.string().min(1, 'DATA_DIR must not be empty').default('./data').describe('embedded database, generated secret key, mail outbox'),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:']).optional().describe('PostgreSQL connection string; unset → embedded PGlite in DATA_DIR/pg'),
  REDIS_URL: url('REDIS_URL', ['redis:', 'rediss:']).optional().describe('Redis for oidc-provider artifacts and counters; unset → SQL tables'),
  GATEHOUSE_SECRET_KEY: z
    .string()
    .optional()
    .describe('base64 32-byte key(s) for secrets at rest, comma-separated, newest first; unset → generated file in DATA_DIR'),
  SMTP_URL: url('SMTP_URL', ['smtp:', 'smtps:']).optional().describe('outgoing mail; unset → DATA_DIR/outbox/*.eml and a log line'),
  MAIL_FROM: z.string().default('Gatehouse <no-reply@gatehouse.local>').describe('From: address of notifications'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  TRUST_PROXY: bool(false).describe('behind a TLS-terminating proxy: trust X-Forwarded-* and mark cookies Secure'),
  ARGON2_MEMORY_KIB: int('ARGON2_MEMORY_KIB', 19456, 8192).describe('argon2id memory cost (OWASP: 19 MiB)'),
  ARGON2_TIME_COST: int('ARGON2_TIME_COST', 2, 1).describe('argon2id iterations'),
  ARGON2_PARALLELISM: int('ARGON2_PARALLELISM', 1, 1).describe('argon2id lanes'),
  LOGIN_MAX_PER_ACCOUNT: int('LOGIN_MAX_PER_ACCOUNT', 10, 1).describe('password attempts per email per window'),
  LOGIN_MAX_PER_IP: int('LOGIN_MAX_PER_IP', 100, 1).describe('password attempts per client IP per window'),
  MFA_MAX_PER_IP: int('MFA_MAX_PER_IP', 100, 1).describe('second-factor attempts per client IP per window'),
  RATE_WINDOW_SECONDS: int('RATE_WINDOW_SECONDS', 900, 1).describe('window of the attempt limits'),
  MFA_LOCKOUT_THRESHOLD: int('MFA_LOCKOUT_THRESHOLD', 5, 1).describe('consecutive wrong codes that lock the MFA step'),
  MFA_LOCKOUT_BASE_SECONDS: int('MFA_LOCKOUT_BASE_SECONDS', 900, 1).describe('first lock duration; doubles on each repeat'),
  MFA_LOCKOUT_MAX_SECONDS: int('MFA_LOCKOUT_MAX_SECONDS', 86400, 1).describe('longest lock duration'),
  MFA_ENROL_PENDING_SECONDS: int('MFA_ENROL_PENDING_SECONDS', 900, 60).describe('lifetime of an unconfirmed authenticator'),
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
  secretKeys: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: Env['LOG_LEVEL'];
  trustProxy: boolean;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  limits: {
    loginPerAccount: number;
    loginPerIp: number;
    mfaPerIp: number;
    windowSeconds: number;
  };
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  enrolPendingSeconds: number;
  ttl: { accessToken: number; idToken: number; refreshToken: number; session: number };
  keyRetireAfterSeconds: number;
  keyRefreshSeconds: number;
  fetchAllowPrivateNetworks: boolean;
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
    if (!e.GATEHOUSE_SECRET_KEY) throw new ConfigError('GATEHOUSE_SECRET_KEY must be set in production (a generated file is for the embedded default only)');
    if (!e.ISSUER) throw new ConfigError('ISSUER must be set in production');
  }
  if (e.MFA_LOCKOUT_MAX_SECONDS < e.MFA_LOCKOUT_BASE_SECONDS) {
    throw new ConfigError('MFA_LOCKOUT_MAX_SECONDS must be at least MFA_LOCKOUT_BASE_SECONDS');
  }
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    issuer,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    secretKeys: e.GATEHOUSE_SECRET_KEY,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: e.ARGON2_PARALLELISM },
    limits: {
      loginPerAccount: e.LOGIN_MAX_PER_ACCOUNT,
      loginPerIp: e.LOGIN_MAX_PER_IP,
      mfaPerIp: e.MFA_MAX_PER_IP,
      windowSeconds: e.RATE_WINDOW_SECONDS,
    },
    lockout: { threshold: e.MFA_LOCKOUT_THRESHOLD, baseSeconds: e.MFA_LOCKOUT_BASE_SECONDS, maxSeconds: e.MFA_LOCKOUT_MAX_SECONDS },
    enrolPendingSeconds: e.MFA_ENROL_PENDING_SECONDS,
    ttl: { accessToken: e.ACCESS_TOKEN_TTL, idToken: e.ID_TOKEN_TTL, refreshToken: e.REFRESH_TOKEN_TTL, session: e.SESSION_TTL },
    keyRefreshSeconds: e.KEY_REFRESH_SECONDS,
    fetchAllowPrivateNetworks: e.FETCH_ALLOW_PRIVATE_NETWORKS,
    keyRetireAfterSeconds: e.KEY_RETIRE_AFTER_SECONDS || Math.max(e.ACCESS_TOKEN_TTL, e.ID_TOKEN_TTL, e.REFRESH_TOKEN_TTL),
  };
}
