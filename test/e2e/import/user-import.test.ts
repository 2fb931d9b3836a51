// Bulk import with MFA (issue 14): users from another platform arrive by CSV or JSON with their
// password hashes (argon2id kept, bcrypt upgraded at the next sign-in) and the authenticator app they
// already use (MFA Status Active at once). They sign in with both at once; bad rows are reported and
// good rows kept; the same file imported again changes nothing and sends no mail.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { eq } from 'drizzle-orm';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { REDIRECT_URI, finishAuthorization, rpConfig, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { Authenticator, isVerifyPage, newTotpSecret } from '../../helpers/mfa.ts';
import { base32Encode } from '../../helpers/totp-reference.ts';
import { runCli } from '../../../src/cli/main.ts';
import { commands } from '../../../src/cli/commands.ts';
import type { Flags } from '../../../src/cli/flags.ts';
import { accounts, authenticators, mailQueue } from '../../../src/store/schema.ts';

interface Report {
  summary: Record<'created' | 'updated' | 'unchanged' | 'rejected', number>;
  summary_mailed: boolean;
  rows: { row: number; email: string | null; outcome: string; reason?: string; changes?: string[] }[];
}

describe(`bulk import of users with MFA (${backendName()})`, () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-import-'));

  const run = async (flags: Flags) => (await commands['user import']!.run(gh.runtime, flags)) as Report;
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const queuedMail = async () => gh.runtime.database.db.select({ id: mailQueue.id, recipient: mailQueue.recipient }).from(mailQueue);
  const accountOf = async (email: string) => (await gh.runtime.repos.accounts.findInTenant(tenant.id, email))!;
  const totpRows = async (accountId: string) => gh.runtime.database.db.select().from(authenticators).where(eq(authenticators.accountId, accountId));

  /** authorize → password → (TOTP page →) tokens. */
  async function signIn(email: string, password: string, app?: Authenticator) {
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    let page = await agent.submit(login, '/login', { email, password }, REDIRECT_URI);
    if (app) {
      expect(isVerifyPage(page)).toBe(true);
      page = await agent.submit(page, '/verify', { code: await app.nextCode() }, REDIRECT_URI);
    }
    return (await finishAuthorization(config, start, page)).claims();
  }

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'RocketCyber Customers');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports a CSV with argon2id and bcrypt hashes and TOTP secrets; the users sign in with both factors; a re-run changes nothing and mails nobody', async () => {
    const [a, b, c] = [`ann-${uniq()}@example.com`, `bob-${uniq()}@example.com`, `cy-${uniq()}@example.com`];
    const [annApp, bobApp] = [new Authenticator(newTotpSecret()), new Authenticator(base32Encode(Buffer.alloc(10, 7)))]; // Bob's is the classic 80-bit key
    const argonHash = await argon2.hash('ann password 1', { type: argon2.argon2id });
    const bcryptHash = bcrypt.hashSync('bob password 2', 10);
    const csv = file(
      'users.csv',
      [
        'email,name,role,password_hash,totp_secret',
        `${a},"Lee, Ann",admin,"${argonHash}",${annApp.secret}`,
        `${b},Bob,user,${bcryptHash},${bobApp.secret.toLowerCase().replace(/(.{4})/g, '$1 ')}`,
        `${c},Cy,,${bcryptHash},`,
        'not-an-email,Nobody,user,,',
        `bad-role-${uniq()}@example.com,X,emperor,,`,
        `short-${uniq()}@example.com,X,user,,JBSWY3DPEHPK3P`,
        `weird-${uniq()}@example.com,X,user,md5:abc,`,
        `${a.toUpperCase()},Again,user,,`,
        'too,many,cells,here,,,',
      ].join('\r\n'),
    );
    const mailBefore = new Set((await queuedMail()).map((m) => m.id));
    const newMail = async () => (await queuedMail()).filter((m) => !mailBefore.has(m.id));

    const dry = await run({ tenant: tenant.slug, file: csv, 'dry-run': true });
    expect(dry.summary).toEqual({ created: 3, updated: 0, unchanged: 0, rejected: 6 });
    expect(await gh.runtime.repos.accounts.findInTenant(tenant.id, a)).toBeUndefined();

    const first = await run({ tenant: tenant.slug, file: csv, notify: 'it-admin@example.com' });
    expect(first.summary).toEqual({ created: 3, updated: 0, unchanged: 0, rejected: 6 });
    expect(first.rows.map((r) => [r.row, r.outcome, r.reason ?? ''])).toEqual([
      [2, 'created', ''],
      [3, 'created', ''],
      [4, 'created', ''],
      [5, 'rejected', 'email is not an email address'],
      [6, 'rejected', 'role must be one of owner, super_admin, admin, support, user'],
      [7, 'rejected', expect.stringContaining('at least 80 bits')],
      [8, 'rejected', expect.stringContaining('argon2id hash')],
      [9, 'rejected', 'the same email is on row 2'],
      [10, 'rejected', 'the line has 7 cells where the header names 5 columns'],
    ]);
    const ann = await accountOf(a);
    expect(ann).toMatchObject({ name: 'Lee, Ann', role: 'admin', source: 'import', passwordHash: argonHash });
    const listed = await gh.runtime.repos.accounts.search({ tenantIds: [tenant.id], limit: 50 });
    expect(listed.filter((r) => r.mfaActive).map((r) => r.email).sort()).toEqual([a, b].sort());
    // one summary mail to the administrator, none to the imported users
    expect((await newMail()).map((m) => m.recipient)).toEqual(['it-admin@example.com']);

    // argon2id as is; bcrypt accepted and replaced by argon2id at the first sign-in; amr shows the imported authenticator
    expect(await signIn(a, 'ann password 1', annApp)).toMatchObject({ sub: ann.id, amr: ['pwd', 'otp', 'mfa'] });
    const bob = await accountOf(b);
    expect(await signIn(b, 'bob password 2', bobApp)).toMatchObject({ sub: bob.id, amr: ['pwd', 'otp', 'mfa'] });
    expect((await accountOf(b)).passwordHash).toMatch(/^\$argon2id\$/);
    expect(await signIn(c, 'bob password 2')).toMatchObject({ amr: ['pwd'] });
    const annStep = (await totpRows(ann.id))[0]?.lastUsedStep;
    expect(annStep).toBeGreaterThan(0);

    // the same file again: every good row unchanged (Bob's upgraded hash and Ann's used step stay), no mail
    const again = await run({ tenant: tenant.slug, file: csv, notify: 'it-admin@example.com' });
    expect(again.summary).toEqual({ created: 0, updated: 0, unchanged: 3, rejected: 6 });
    expect(again.summary_mailed).toBe(false);
    expect((await accountOf(b)).passwordHash).toMatch(/^\$argon2id\$/);
    expect((await totpRows(ann.id))[0]?.lastUsedStep).toBe(annStep);
    expect(await newMail()).toHaveLength(1);
    // Ann's last code stays spent: the import did not reopen the replay window
    const replay = new UserAgent();
    const start = await startAuthorization(config);
    const verify = await replay.submit(await replay.get(start.url.href, REDIRECT_URI), '/login', { email: a, password: 'ann password 1' }, REDIRECT_URI);
    expect((await replay.submit(verify, '/verify', { code: annApp.lastCode() }, REDIRECT_URI)).status).toBe(401);

    // events: created rows audited as cli, no per-user notification
    const audited = await gh.runtime.repos.audit.list({ action: 'account.imported', tenantId: tenant.id, limit: 10 });
    expect(audited).toHaveLength(3);
    expect(audited.every((e) => e.actor === 'cli')).toBe(true);
  });

  it('imports JSON without secrets, then updates what changed (name, role, a new authenticator) and reports the rest unchanged', async () => {
    const [d, e] = [`dee-${uniq()}@example.com`, `eve-${uniq()}@example.com`];
    const argonHash = await argon2.hash('dee password 3', { type: argon2.argon2id });
    const dee = { email: d, name: 'Dee', role: 'user', password_hash: argonHash };
    const users = [
      dee,
      { email: e, name: 'Eve' },
      { email: `x-${uniq()}@example.com`, favourite_colour: 'blue' },
      'not an object',
    ];
    const first = await run({ tenant: tenant.id, file: file('users.json', JSON.stringify(users)) });
    expect(first.rows.map((r) => r.outcome)).toEqual(['created', 'created', 'rejected', 'rejected']);
    expect(first.rows[2]?.reason).toBe('unknown field(s) favourite_colour: the fields are email, name, role, password_hash, totp_secret');
    expect(first.summary_mailed).toBe(false); // the command line has no mailbox unless --notify names one
    expect(await signIn(d, 'dee password 3')).toMatchObject({ amr: ['pwd'] });

    const app = new Authenticator(newTotpSecret());
    const second = await run({ tenant: tenant.id, file: file('users2.json', JSON.stringify({ users: [{ ...dee, role: 'support', totp_secret: app.secret }, { email: e.toUpperCase(), name: 'Eve' }] })) });
    expect(second.rows.map((r) => [r.outcome, r.changes])).toEqual([
      ['updated', ['role', 'totp']],
      ['unchanged', undefined],
    ]);
    expect(await signIn(d, 'dee password 3', app)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'] });
    const [stored] = await gh.runtime.database.db.select().from(accounts).where(eq(accounts.email, d));
    expect(stored?.role).toBe('support');
  });

  it('refuses a file it cannot read as a whole with a clear message, and flags it wrongly named as a usage error', async () => {
    await expect(run({ tenant: tenant.slug, file: file('bad.csv', 'mail,name\nx@example.com,X') })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Unknown column(s) "mail"') });
    await expect(run({ tenant: tenant.slug, file: file('open.csv', 'email\n"x@example.com') })).rejects.toMatchObject({ status: 400, message: 'CSV line 2: a quoted field is not closed.' });
    await expect(run({ tenant: tenant.slug, file: file('bad.json', '{"users": 3}') })).rejects.toMatchObject({ status: 400 });
    await expect(run({ tenant: tenant.slug, file: path.join(dir, 'missing.csv') })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('does not exist') });
    await expect(run({ tenant: 'no-such-tenant', file: file('ok.csv', 'email\nx@example.com') })).rejects.toMatchObject({ status: 404 });
    const err: string[] = [];
    expect(await runCli(['user', 'import', '--tenant', 'x', '--file', 'users.xlsx'], () => undefined, (s) => err.push(s))).toBe(2);
    expect(err.join('\n')).toContain('--file must name a .csv or .json file');
  });

  it('POST /api/v1/tenants/{tenant}/imports imports with a users:write service token, reports per row, and re-runs unchanged', async () => {
    const registered = await gh.runtime.clients.register({ name: 'Migration tool', grants: ['client_credentials'], tenantId: tenant.id, scope: 'users:read users:write' });
    const token = async (scope: string) => {
      const res = await fetch(`${gh.issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret ?? ''}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const post = async (bearer: string, body: unknown) =>
      fetch(`${gh.issuer}/api/v1/tenants/${tenant.id}/imports`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const writer = await token('users:write');
    const app = new Authenticator(newTotpSecret());
    const f = `fay-${uniq()}@example.com`;
    const csv = `email,name,totp_secret\n${f},Fay,${app.secret}\nbroken,Nobody,\n`;
    const res = await post(writer, { csv });
    expect(res.status).toBe(200);
    const report = (await res.json()) as Report;
    expect(report.summary).toEqual({ created: 1, updated: 0, unchanged: 0, rejected: 1 });
    expect(report.summary_mailed).toBe(false);
    const again = (await (await post(writer, { csv })).json()) as Report;
    expect(again.summary).toEqual({ created: 0, updated: 0, unchanged: 1, rejected: 1 });

    expect((await post(await token('users:read'), { csv })).status).toBe(403);
    const neither = await post(writer, { dry_run: true });
    expect(neither.status).toBe(400);
    expect(((await neither.json()) as { message: string }).message).toContain('give either "users" or "csv"');
    expect((await post(writer, { users: [{ email: 3 }] })).status).toBe(400);
    expect((await post(writer, { users: [] })).status).toBe(400);
  });
});
