// The durable mail queue against a real SMTP server: an outage never fails the user's action and the
// message arrives once the server is back (retried with backoff); two sender loops on one database
// deliver each message exactly once; a refused recipient is given up, not retried forever; bodies
// are sealed at rest; a crashed sender's claim runs out; without SMTP_URL the outbox folder gets the mail.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { startTestGatehouse, freePort, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName, createTestDatabase, testDatabaseUrl, type TestDatabase } from '../../helpers/db.ts';
import { seedAccount, seedTenant, uniq } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import { openDatabase, type Database } from '../../../src/store/db.ts';
import { createRepos } from '../../../src/store/repos.ts';
import { mailQueue } from '../../../src/store/schema.ts';
import { createSecretBox, generateSecretKey, parseKeyring } from '../../../src/domain/secrets.ts';
import { createMailQueue } from '../../../src/mail/queue.ts';
import { createMailSender } from '../../../src/mail/sender.ts';
import { createSmtpMailer } from '../../../src/mail/smtp.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { OUTBOX_DIR } from '../../../src/mail/mailer.ts';

const logger = createLogger({ logLevel: 'silent' });
const FAST = { pollSeconds: 0.2, leaseSeconds: 30, retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 50 } };

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

describe(`mail queue (${backendName()})`, () => {
  describe('an SMTP outage', () => {
    let gh: TestGatehouse;
    let port: number;
    let smtp: TestSmtp | undefined;

    beforeAll(async () => {
      port = await freePort(); // nothing listens here yet: the mail server is down
      gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: `smtp://127.0.0.1:${port}` }, mailSender: FAST });
    });
    afterAll(async () => {
      await gh?.stop();
      await smtp?.stop();
    });

    it('never fails the action; the mail is retried with backoff and delivered once the server is back', async () => {
      const tenant = await seedTenant(gh.runtime);
      const account = await seedAccount(gh.runtime, tenant.id); // its verification mail is queued too
      const agent = new UserAgent();
      const forgot = await agent.get(new URL('/password/forgot', gh.issuer).href);
      const answer = await agent.submit(forgot, '/password/forgot', { email: account.email });
      expect(answer.status).toBe(200);

      const rows = () => gh.runtime.database.db.select().from(mailQueue).where(eq(mailQueue.recipient, account.email));
      const failing = await eventually(rows, (r) => r.length === 2 && r.every((m) => m.attempts >= 2));
      expect(failing).toHaveLength(2);
      for (const row of failing) {
        expect(row.sentAt).toBeNull();
        expect(row.failedAt).toBeNull();
        expect(row.lastError).toMatch(/mail_failed/);
        expect(row.nextAttemptAt.getTime()).toBeGreaterThan(row.createdAt.getTime()); // pushed back, not hammered
      }

      smtp = await startTestSmtp({ port });
      const reset = await smtp.waitFor((m) => m.to.includes(account.email) && /Reset your Gatehouse password/.test(m.subject));
      expect(linkIn(reset, '/password/reset/')).toContain(`${gh.issuer}/password/reset/`);
      await smtp.waitFor((m) => m.to.includes(account.email) && /Confirm your email address/.test(m.subject));
      const delivered = await eventually(rows, (r) => r.every((m) => m.sentAt !== null));
      for (const row of delivered) {
        expect(row.sentAt).toBeInstanceOf(Date);
        expect(row.text).toBe(''); // the body (and its link) is gone once delivered
        expect(row.html).toBeNull();
      }
      expect(smtp.to(account.email)).toHaveLength(2);
    });
  });

  describe('senders on two instances sharing one database', () => {
    let smtp: TestSmtp;
    let database: TestDatabase;
    let second: Database;

    beforeAll(async () => {
      smtp = await startTestSmtp({ refuse: (address) => address.startsWith('nobody-') });
      database = await createTestDatabase();
      // On PostgreSQL the second instance has its own connection pool; embedded PGlite has one
      // process, so there the two loops share it (as two workers of one server would).
      second = testDatabaseUrl()
        ? await openDatabase({ databaseUrl: testDatabaseUrl(), dataDir: '', role: 'server', schemaName: database.schemaName as string, poolSize: 4 })
        : database;
    });
    afterAll(async () => {
      if (second !== database) await second.close();
      await database.dispose();
      await smtp.stop();
    });

    const box = createSecretBox(parseKeyring(generateSecretKey()));
    const senderOn = (db: Database) =>
      createMailSender({
        repo: createRepos(db.db).mailQueue,
        box,
        transport: createSmtpMailer({ url: smtp.url, from: 'Gatehouse <no-reply@gatehouse.test>', logger }),
        logger,
        options: FAST,
      });

    it('delivers each of 40 messages exactly once', async () => {
      const queue = createMailQueue({ repo: createRepos(database.db).mailQueue, box });
      const run = uniq();
      const subjects = Array.from({ length: 40 }, (_, i) => `Message ${i} of run ${run}`);
      const ids = [];
      for (const subject of subjects) ids.push(await queue.enqueue({ to: `user-${run}@example.com`, subject, text: `body of ${subject}` }));

      const [a, b] = [senderOn(database), senderOn(second)];
      await Promise.all([a.drain(), b.drain(), a.drain(), b.drain()]);
      await Promise.all([a.drain(), b.drain()]);

      const received = smtp.received.filter((m) => m.subject.endsWith(`run ${run}`)).map((m) => m.subject);
      expect(received.sort()).toEqual([...subjects].sort());
      const rows = await database.db.select().from(mailQueue).where(inArray(mailQueue.id, ids));
      expect(rows.every((r) => r.sentAt !== null && r.attempts === 1)).toBe(true);
    });

    it('gives up on a recipient the server refuses for good, and still delivers the rest', async () => {
      const queue = createMailQueue({ repo: createRepos(database.db).mailQueue, box });
      const refusedId = await queue.enqueue({ to: `nobody-${uniq()}@example.com`, subject: 'to a missing mailbox', text: 'x' });
      const good = `user-${uniq()}@example.com`;
      await queue.enqueue({ to: good, subject: 'to a real mailbox', text: 'y' });
      const sender = senderOn(database);
      await sender.drain();
      await sender.drain();
      const [refused] = await database.db.select().from(mailQueue).where(eq(mailQueue.id, refusedId));
      expect(refused).toMatchObject({ attempts: 1, sentAt: null, text: '' });
      expect(refused?.failedAt).toBeInstanceOf(Date);
      expect(refused?.lastError).toMatch(/mail_rejected/);
      expect(smtp.to(good)).toHaveLength(1);
    });

    it('stores bodies sealed, so the database alone does not reveal a link', async () => {
      const queue = createMailQueue({ repo: createRepos(database.db).mailQueue, box });
      const link = `https://id.example.com/password/reset/${'s'.repeat(43)}`;
      const id = await queue.enqueue({ to: `user-${uniq()}@example.com`, subject: 'sealed', text: `Open ${link}`, html: `<a href="${link}">open</a>` });
      const [row] = await database.db.select().from(mailQueue).where(eq(mailQueue.id, id));
      expect(row?.text).not.toContain(link);
      expect(row?.html).not.toContain(link);
      expect(row?.text).toMatch(/^v1\./);
      await senderOn(database).drain();
      expect(smtp.received.find((m) => m.subject === 'sealed')?.text).toContain(link);
    });

    it("lets another sender retry a message whose sender died holding it, once the claim runs out", async () => {
      const repos = createRepos(database.db);
      await senderOn(database).drain(); // nothing else is due, so the next claim takes this message
      const id = await createMailQueue({ repo: repos.mailQueue, box }).enqueue({ to: `user-${uniq()}@example.com`, subject: 'claimed by a sender that crashed', text: 'z' });
      const dead = await repos.mailQueue.claimNext(1);
      expect(dead?.id).toBe(id);
      expect(await createRepos(second.db).mailQueue.claimNext(1)).toBeUndefined(); // held
      await sleep(1200);
      await senderOn(second).drain();
      expect(smtp.received.filter((m) => m.subject === 'claimed by a sender that crashed')).toHaveLength(1);
      // the crashed sender's late outcome cannot overwrite the one recorded by the sender that delivered
      await repos.mailQueue.markRetry(dead ?? { id, attempts: 1 }, 60, 'late');
      const [row] = await database.db.select().from(mailQueue).where(eq(mailQueue.id, id));
      expect(row).toMatchObject({ attempts: 2, lastError: null });
      expect(row?.sentAt).toBeInstanceOf(Date);
    });
  });

  describe('without SMTP_URL (embedded default)', () => {
    let gh: TestGatehouse;
    beforeAll(async () => {
      gh = await startTestGatehouse({ captureMail: false });
    });
    afterAll(() => gh?.stop());

    it('writes queued mail as .eml files in DATA_DIR/outbox', async () => {
      const tenant = await seedTenant(gh.runtime);
      const account = await seedAccount(gh.runtime, tenant.id);
      await gh.runtime.deferred.settled();
      await gh.runtime.mail.sender.drain();
      const dir = path.join(gh.runtime.config.dataDir, OUTBOX_DIR);
      const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
      const contents = await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
      const mine = contents.filter((c) => c.includes(account.email));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatch(/Subject: Confirm your email address for Gatehouse/);
    });
  });
});
