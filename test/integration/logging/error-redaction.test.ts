// Logs never carry what a failed query worked on. A DrizzleQueryError keeps the bound parameters
// (submitted emails, whole stored Interaction/Session payloads) on the error object, and node-postgres
// puts row values in `detail`; the message saying "params: [redacted]" is not enough when the object's
// fields are written out next to it. These tests capture the real JSON lines Gatehouse writes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { startGatehouse, type RunningGatehouse } from '../../../src/server.ts';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { createOidcPayloadRepo } from '../../../src/store/repositories/oidc-payloads.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { freePort } from '../../helpers/ports.ts';
import { testRedisUrl, uniquePrefix } from '../../helpers/redis.ts';
import { TEST_SETTINGS } from '../../helpers/settings.ts';
import { REDIRECT_URI, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, findForm } from '../../helpers/user-agent.ts';

/** A pino destination keeping every line as text (what an operator's log shipper would receive). */
function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('error logs keep the statement and drop the values it was bound to', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.dispose());

  it('a failed insert of an Interaction payload logs neither the payload nor its email', async () => {
    const log = captureLog();
    const logger = createLogger({ logLevel: 'info' }, log.stream);
    const payload = { kind: 'Interaction', params: { login_hint: 'grace.hopper@example.com', nonce: 'n-0123456789' }, note: 'nul\u0000here' };
    const failure = await createOidcPayloadRepo(database.db)
      .upsert('Interaction', 'interaction-id-1', { payload, grantId: null, userCode: null, uid: 'uid-1', accountId: null, expiresIn: 60, consumed: false })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { params?: unknown }).params).toEqual(expect.arrayContaining([expect.stringContaining('grace.hopper@example.com')]));

    logger.error({ err: failure }, 'request failed');
    expect(log.lines).toHaveLength(1);
    const line = log.lines[0] ?? '';
    expect(line).not.toContain('grace.hopper');
    expect(line).not.toContain('n-0123456789');
    const entry = JSON.parse(line) as { err: Record<string, unknown> };
    expect(entry.err.params).toBe('[redacted]');
    expect(String(entry.err.message)).toContain('insert into "oidc_payloads"');
    expect(String(entry.err.message)).toContain('params: [redacted]');
  });

  it("a unique violation logs its constraint and code but not the row's values (node-postgres `detail`)", async () => {
    const log = captureLog();
    const logger = createLogger({ logLevel: 'info' }, log.stream);
    await database.db.execute(sql`create table if not exists log_probe (email text primary key)`);
    await database.db.execute(sql`insert into log_probe values (${'ada.lovelace@example.com'})`);
    const failure = await database.db.execute(sql`insert into log_probe values (${'ada.lovelace@example.com'})`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    logger.error({ err: failure }, 'request failed');
    const line = log.lines[0] ?? '';
    expect(line).not.toContain('ada.lovelace');
    const entry = JSON.parse(line) as { err: { cause?: Record<string, unknown>; params?: unknown } };
    expect(entry.err.params).toBe('[redacted]');
    expect(entry.err.cause?.code).toBe('23505');
  });
});

describe('a sign-in that hits a database failure logs the failure without the submitted email (over HTTP)', () => {
  let running: RunningGatehouse;
  let database: TestDatabase;
  let dataDir: string;
  const log = captureLog();

  beforeAll(async () => {
    const port = await freePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-log-'));
    const config = loadConfig({
      ...TEST_SETTINGS,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      GATEHOUSE_SECRET_KEY: generateSecretKey(),
      LOG_LEVEL: 'info',
      ...(testRedisUrl() ? { REDIS_URL: testRedisUrl() as string } : {}),
    });
    database = await createTestDatabase();
    running = await startGatehouse(config, createLogger(config, log.stream), {
      database,
      mailer: { send: async () => undefined },
      redisPrefix: uniquePrefix(),
    });
  });
  afterAll(async () => {
    await running.close();
    await database.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 500 with a request id, and its log line names the statement but not the email', async () => {
    const tenant = await seedTenant(running.runtime);
    const email = `margaret.hamilton-${Date.now()}@example.com`;
    await seedAccount(running.runtime, tenant.id, { email });
    const config = await rpConfig(running.url, await seedClient(running.runtime));
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const page = await agent.get(start.url.href, REDIRECT_URI);
    const form = findForm(page.html, '/login');
    // The accounts table loses the column the password step reads: a real query failure, as after a
    // half-applied migration, with the submitted email among its bound parameters.
    await database.db.execute(sql`alter table accounts rename column email to email_moved`);
    try {
      log.lines.length = 0;
      const res = await agent.request(new URL(form.action, page.url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form.hidden, email, password: 'not the password' }),
      });
      expect(res.status).toBe(500);
      const failed = log.lines.filter((l) => l.includes('"request failed"'));
      expect(failed).toHaveLength(1);
      for (const line of log.lines) expect(line).not.toContain('margaret.hamilton');
      const entry = JSON.parse(failed[0] ?? '{}') as { err?: { params?: unknown; message?: string } };
      expect(entry.err?.params).toBe('[redacted]');
      expect(entry.err?.message).toMatch(/Failed query: select .*from "accounts"/s);
    } finally {
      await database.db.execute(sql`alter table accounts rename column email_moved to email`);
    }
  });
});
