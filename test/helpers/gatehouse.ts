// An in-process Gatehouse on a free loopback port, over the test database (an isolated PostgreSQL
// schema or a copied PGlite directory) and, when REDIS_URL is set, Redis under a key prefix of its own.
import { freePort } from './ports.ts';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/http/logger.ts';
import { startGatehouse, type RunningGatehouse } from '../../src/server.ts';
import type { AppOptions } from '../../src/app.ts';
import type { RuntimeOptions } from '../../src/runtime.ts';
import type { MailMessage, Mailer } from '../../src/mail/mailer.ts';
import { generateSecretKey } from '../../src/domain/secrets.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { testRedisUrl, uniquePrefix } from './redis.ts';
import { TEST_SETTINGS } from './settings.ts';

export { freePort };

export interface TestGatehouse extends RunningGatehouse {
  issuer: string;
  /** mail the sender loop delivered (captured unless `captureMail: false`). */
  mail: MailMessage[];
  /** Delivers every queued message now and returns the captured mail. */
  deliverMail(): Promise<MailMessage[]>;
  database: TestDatabase;
  stop(): Promise<void>;
}

export async function startTestGatehouse(
  options: AppOptions &
    Pick<RuntimeOptions, 'mailSender' | 'linkTtlSeconds' | 'linkRequestLimits' | 'upstreamTimeoutMs'> & {
      env?: Record<string, string>;
      database?: TestDatabase;
      redisPrefix?: string;
      /** false: no capture, mail goes out through the configured transport (SMTP_URL in `env`, else the outbox). */
      captureMail?: boolean;
    } = {},
): Promise<TestGatehouse> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({
    ...TEST_SETTINGS,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    GATEHOUSE_SECRET_KEY: generateSecretKey(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(testRedisUrl() ? { REDIS_URL: testRedisUrl() as string } : {}),
    ...options.env,
  });
  const database = options.database ?? (await createTestDatabase());
  const mail: MailMessage[] = [];
  const mailer: Mailer = {
    async send(message) {
      mail.push(message);
    },
  };
  const { captureMail = true, ...startOptions } = options;
  const running = await startGatehouse(config, createLogger(config), {
    ...startOptions,
    database,
    ...(captureMail ? { mailer } : {}),
    redisPrefix: options.redisPrefix ?? uniquePrefix(),
  });
  return {
    ...running,
    issuer: config.issuer,
    mail,
    async deliverMail() {
      await running.runtime.mail.sender.drain();
      return mail;
    },
    database,
    async stop() {
      await running.close();
      if (!options.database) await database.dispose();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
