// The composition root shared by the server and the CLI: configuration → stores → domain services.
import type { Config } from './config.ts';
import type { Logger } from './http/logger.ts';
import { loadSecretBox } from './secret-key.ts';
import { openDatabase, type Database } from './store/db.ts';
import { openRedis, type RedisClient } from './store/redis.ts';
import { createRepos, type Repos } from './store/repos.ts';
import { createKv, type Kv } from './store/kv.ts';
import { openLmdbStore, type LmdbStore } from './store/lmdb.ts';
import { openChangeSignals, type ChangeSignals } from './store/change-signals.ts';
import { announceChanges } from './store/announced-repos.ts';
import { createPasswordHasher } from './domain/passwords.ts';
import { createSecurityEvents, type Notifier } from './domain/events.ts';
import { createDirectory } from './domain/directory.ts';
import { createClientService } from './domain/clients.ts';
import { createMfaService } from './domain/mfa/service.ts';
import { createTotpEnrolment } from './domain/mfa/enrolment.ts';
import { createRememberedBrowsers } from './domain/mfa/remembered-browsers.ts';
import { createFlows } from './domain/flows.ts';
import { createWebauthn } from './domain/mfa/webauthn.ts';
import { createPasswordAuthenticator, type Limit } from './domain/authentication.ts';
import { createKeyStore } from './oidc/keys.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { createMailNotifier } from './mail/notifier.ts';
import { createMailQueue } from './mail/queue.ts';
import { createMailSender, type MailSenderOptions } from './mail/sender.ts';
import { createPostbox } from './mail/postbox.ts';
import { createEmailChange } from './domain/email-change.ts';
import { createOneTimeLinks, type LinkPurpose } from './domain/one-time-links.ts';
import { createEmailVerification } from './domain/email-verification.ts';
import { DEFAULT_LINK_REQUEST_LIMITS, type LinkRequestLimits } from './domain/link-requests.ts';
import { createDeferredWork } from './deferred-work.ts';
import { createRequestWrites } from './store/request-writes.ts';
import { keptUntilChanged } from './store/kept-until-changed.ts';
import { keepAccountRows } from './store/kept-account-rows.ts';
import { createMarks, createRateLimiter } from './http/rate-limit.ts';
import { createSessionEnding } from './domain/sessions.ts';
import { createUserImport } from './domain/import/users.ts';
import { createIdpAdmin } from './domain/federation/idps.ts';
import { createUpstreamOidc } from './federation/upstream-client.ts';
import { createFederatedSignIn } from './domain/federation/signin.ts';

export interface RuntimeOptions {
  role: 'server' | 'client';
  /** replaces the transport the mail queue delivers through (tests capture mail this way). */
  mailer?: Mailer;
  /** replaces the notifier built from the mail queue. */
  notifier?: Notifier;
  /** sender loop timings (tests shorten the backoff). */
  mailSender?: Partial<MailSenderOptions>;
  /** link lifetimes per purpose (tests shorten them to see links expire). */
  linkTtlSeconds?: Partial<Record<LinkPurpose, number>>;
  /** limits of "email me a link" requests. */
  linkRequestLimits?: LinkRequestLimits;
  /** an already opened and migrated database (tests); the caller closes it. */
  database?: Database;
  /** namespace of this instance's Redis keys (tests isolate themselves this way). */
  redisPrefix?: string;
  /** how long a request to an upstream identity provider may take (tests shorten it to see a timeout). */
  upstreamTimeoutMs?: number;
}

const UPSTREAM_TIMEOUT_MS = 10_000;

export async function openRuntime(ownConfig: Config, logger: Logger, options: RuntimeOptions) {
  const box = loadSecretBox(ownConfig, (m) => logger.warn(m));
  const ownsDatabase = !options.database;
  const database: Database =
    options.database ??
    (await openDatabase({
      databaseUrl: ownConfig.databaseUrl,
      dataDir: ownConfig.dataDir,
      role: options.role,
      settings: { issuer: ownConfig.issuer, fetchAllowPrivateNetworks: ownConfig.fetchAllowPrivateNetworks },
    }));
  // A command that joined a running embedded server acts with that server's issuer and network rule.
  const config: Config = database.server ? { ...ownConfig, ...database.server } : ownConfig;
  let redis: RedisClient | undefined;
  try {
    if (ownsDatabase) await database.migrate();
    redis = config.redisUrl ? await openRedis(config.redisUrl, { cluster: config.redisCluster }) : undefined;
  } catch (e) {
    if (ownsDatabase) await database.close();
    throw e;
  }
  const redisPrefix = options.redisPrefix ?? 'gh:';
  // The embedded default (no PostgreSQL, no Redis) keeps artifacts and counters in LMDB beside PGlite.
  const lmdb: LmdbStore | undefined = !config.databaseUrl && !redis ? openLmdbStore(config.dataDir) : undefined;
  // Servers keep clients and accounts in memory; every write to them announces itself to every instance.
  const signals: ChangeSignals = openChangeSignals({ redis, lmdb, prefix: redisPrefix });
  const repos: Repos = announceChanges(createRepos(database.db, { transactional: database.transactional }), signals);
  // the sign-in path's account reads: the password step's rows serve the requests that follow it
  const accountRows = keepAccountRows(repos.accounts, signals);
  const kv: Kv = createKv({ db: database.db, redis, lmdb, prefix: `${redisPrefix}kv:` });
  // Mail: every caller enqueues (mail_queue); the server's sender loop delivers through the transport.
  const mailer = options.mailer ?? createMailer(config, logger);
  const mailSender = createMailSender({ repo: repos.mailQueue, box, transport: mailer, logger, options: options.mailSender ?? {} });
  const mailQueue = createMailQueue({ repo: repos.mailQueue, box, onEnqueued: () => mailSender.wake() });
  const postbox = createPostbox(mailQueue);
  const requestWrites = createRequestWrites(database.db, { record: repos.audit.record, recordLogin: repos.accounts.recordLogin, resetLockout: repos.lockouts.reset });
  const events = createSecurityEvents(requestWrites.audit, options.notifier ?? createMailNotifier(mailQueue, logger, `${config.issuer}/account/security`));
  const hasher = createPasswordHasher(config.argon2);
  // Counter keys are HMACs under a key derived from the secret key, never digests anyone could
  // recompute from a guessed email or address.
  const rateLimitSecret = box.deriveKey('rate-limit');
  const limiter = createRateLimiter(
    { increment: (key, windowSeconds) => kv.increment(key, windowSeconds), incrementInTurn: (hits) => kv.incrementInTurn(hits), remove: (key) => kv.delete(key) },
    { secret: rateLimitSecret },
  );
  const limit: Limit = (key, max, windowSeconds) => limiter.limit(key, max, windowSeconds);
  const deferred = createDeferredWork(logger);
  const links = createOneTimeLinks({ emailTokens: repos.emailTokens, baseUrl: config.issuer, ttlSeconds: options.linkTtlSeconds ?? {} });
  const linkRequestLimits = options.linkRequestLimits ?? { ...DEFAULT_LINK_REQUEST_LIMITS, windowSeconds: config.limits.windowSeconds };
  const emailVerification = createEmailVerification({
    accounts: repos.accounts,
    accountEmail: repos.accountEmail,
    links,
    postbox,
    events,
    limit,
    defer: deferred.defer,
    limits: linkRequestLimits,
  });
  const emailChange = createEmailChange({ accounts: repos.accounts, accountEmail: repos.accountEmail, hasher, limit, limits: linkRequestLimits, links, postbox, events });
  const throttle = { limitInTurn: limiter.limitInTurn, reset: limiter.reset, marks: createMarks(kv, rateLimitSecret) };
  const flows = createFlows({ kv, box });

  const upstream = createUpstreamOidc({ timeoutMs: options.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS });

  const services = {
    directory: createDirectory({ tenants: repos.tenants, accounts: repos.accounts, hasher, events, verifyEmail: emailVerification.send }),
    clients: createClientService({ clients: repos.clients, events }),
    keys: createKeyStore(repos, box, (name, work) => database.exclusive(name, work)),
    mfa: createMfaService({
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      lockouts: { ...repos.lockouts, reset: requestWrites.resetLockout },
      events,
      box,
      hasher,
      limit,
      settings: { lockout: config.lockout, mfaPerIp: config.limits.mfaPerIp, windowSeconds: config.limits.windowSeconds },
    }),
    enrolment: createTotpEnrolment({
      flows,
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      events,
      box,
      hasher,
      settings: { pendingSeconds: config.enrolPendingSeconds },
    }),
    webauthn: createWebauthn({
      flows,
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      events,
      hasher,
      limit,
      settings: {
        ...config.webauthn,
        rpName: 'Gatehouse',
        ceremonySeconds: 300,
        mfaPerIp: config.limits.mfaPerIp,
        windowSeconds: config.limits.windowSeconds,
      },
    }),
    rememberedBrowsers: createRememberedBrowsers({ repo: repos.rememberedBrowsers, box, events, days: config.rememberBrowserDays }),
    authenticate: createPasswordAuthenticator({
      accounts: { findByEmail: accountRows.findByEmail, updatePasswordHash: repos.accounts.updatePasswordHash },
      hasher,
      throttle,
      limits: config.limits,
      events,
    }),
    // "sign out everywhere": the server or the CLI binds the provider's session store to it
    sessions: createSessionEnding({ events }),
    userImport: createUserImport({ repos, events, box, postbox }),
    idps: createIdpAdmin({ repos, events, box, upstream }),
    upstream,
    federation: createFederatedSignIn({
      // every sign-in page lists the enabled providers: kept in memory until one changes anywhere
      repos: { ...repos, upstreamIdps: { ...repos.upstreamIdps, listEnabled: keptUntilChanged(repos.upstreamIdps.listEnabled, 'upstream_idps', signals) } },
      upstream,
      kv,
      box,
      events,
      issuer: config.issuer,
    }),
  };

  return {
    config,
    logger,
    box,
    database,
    redis,
    redisPrefix,
    lmdb,
    signals,
    repos,
    accountRows,
    kv,
    mailer,
    mail: { queue: mailQueue, sender: mailSender, postbox },
    events,
    hasher,
    limit,
    links,
    linkRequestLimits,
    emailVerification,
    emailChange,
    deferred,
    requestWrites,
    ...services,
    async close() {
      // work still running after its answer, then the delivery in progress, then the stores
      await deferred.settled();
      await mailSender.stop();
      await redis?.quit().catch(() => undefined);
      await lmdb?.close();
      if (ownsDatabase) await database.close();
    },
  };
}

export type Runtime = Awaited<ReturnType<typeof openRuntime>>;
