// The composition root shared by the server and the CLI: configuration → stores → domain services.
import type { Config } from './config.ts';
import type { Logger } from './http/logger.ts';
import { loadSecretBox } from './secret-key.ts';
import { openDatabase, type Database } from './store/db.ts';
import { openRedis, type RedisClient } from './store/redis.ts';
import { createRepos, type Repos } from './store/repos.ts';
import { createKv, type Kv } from './store/kv.ts';
import { createPasswordHasher } from './domain/passwords.ts';
import { createSecurityEvents, type Notifier } from './domain/events.ts';
import { createDirectory } from './domain/directory.ts';
import { createClientService } from './domain/clients.ts';
import { createMfaService } from './domain/mfa/service.ts';
import { createTotpEnrolment } from './domain/mfa/enrolment.ts';
import { createFlows } from './domain/flows.ts';
import { createPasswordAuthenticator, type Limit } from './domain/authentication.ts';
import { createKeyStore } from './oidc/keys.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { createMailNotifier } from './mail/notifier.ts';
import { createMarks, createRateLimiter } from './http/rate-limit.ts';

export interface RuntimeOptions {
  role: 'server' | 'client';
  /** replaces the mailer (tests capture mail this way). */
  mailer?: Mailer;
  /** replaces the notifier built from the mailer. */
  notifier?: Notifier;
  /** an already opened and migrated database (tests); the caller closes it. */
  database?: Database;
  /** namespace of this instance's Redis keys (tests isolate themselves this way). */
  redisPrefix?: string;
}

export async function openRuntime(config: Config, logger: Logger, options: RuntimeOptions) {
  const box = loadSecretBox(config, (m) => logger.warn(m));
  const ownsDatabase = !options.database;
  const database: Database = options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: options.role }));
  let redis: RedisClient | undefined;
  try {
    if (ownsDatabase) await database.migrate();
    redis = config.redisUrl ? await openRedis(config.redisUrl) : undefined;
  } catch (e) {
    if (ownsDatabase) await database.close();
    throw e;
  }
  const redisPrefix = options.redisPrefix ?? 'gh:';
  const repos: Repos = createRepos(database.db, { transactional: database.transactional });
  const kv: Kv = createKv({ db: database.db, redis, prefix: `${redisPrefix}kv:` });
  const mailer = options.mailer ?? createMailer(config, logger);
  const events = createSecurityEvents(repos.audit, options.notifier ?? createMailNotifier(mailer, logger));
  const hasher = createPasswordHasher(config.argon2);
  // Counter keys are HMACs under a key derived from the secret key, never digests anyone could
  // recompute from a guessed email or address.
  const rateLimitSecret = box.deriveKey('rate-limit');
  const limiter = createRateLimiter({ increment: (key, windowSeconds) => kv.increment(key, windowSeconds), remove: (key) => kv.delete(key) }, { secret: rateLimitSecret });
  const limit: Limit = (key, max, windowSeconds) => limiter.limit(key, max, windowSeconds);
  const throttle = { limit, reset: limiter.reset, marks: createMarks(kv, rateLimitSecret) };

  const services = {
    directory: createDirectory({ tenants: repos.tenants, accounts: repos.accounts, hasher, events }),
    clients: createClientService({ clients: repos.clients, events }),
    keys: createKeyStore(repos, box, (name, work) => database.exclusive(name, work)),
    mfa: createMfaService({
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      lockouts: repos.lockouts,
      events,
      box,
      hasher,
      limit,
      settings: { lockout: config.lockout, mfaPerIp: config.limits.mfaPerIp, windowSeconds: config.limits.windowSeconds },
    }),
    enrolment: createTotpEnrolment({
      flows: createFlows({ kv, box }),
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      events,
      box,
      hasher,
      settings: { pendingSeconds: config.enrolPendingSeconds },
    }),
    authenticate: createPasswordAuthenticator({ accounts: repos.accounts, hasher, throttle, limits: config.limits, events }),
  };

  return {
    config,
    logger,
    box,
    database,
    redis,
    redisPrefix,
    repos,
    kv,
    mailer,
    events,
    hasher,
    ...services,
    async close() {
      await redis?.quit().catch(() => undefined);
      if (ownsDatabase) await database.close();
    },
  };
}

export type Runtime = Awaited<ReturnType<typeof openRuntime>>;
