// The admin console's Import users page: an administrator pastes a CSV or JSON list, the bulk import
// use case (the one `gatehouse user import` and POST /api/v1/tenants/{t}/imports call) imports it, and
// the page shows the report row by row. A dry run writes nothing; a second run reports every row
// unchanged; the form needs its CSRF token; support, who may not invite, gets no page and no import.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, eq } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { seedTenant, uniq } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { newTotpSecret } from '../../helpers/mfa.ts';
import { accounts, authenticators } from '../../../src/store/schema.ts';
import { adminWithMfa, signInToConsole } from './console-flow.ts';

const rowsOf = (html: string) =>
  [...html.matchAll(/<tr data-outcome="(\w+)">\s*<td>(\d+)<\/td>\s*<td>([^<]*)<\/td>/g)].map((m) => ({ outcome: m[1], row: Number(m[2]), email: m[3] }));

describe(`admin console: Import users (${backendName()})`, () => {
  let gh: TestGatehouse;
  let tenant: { id: string; slug: string };

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', `Imports ${uniq()}`);
  });
  afterAll(async () => {
    await gh.stop();
  });

  const accountRows = async () => gh.runtime.database.db.select().from(accounts).orderBy(asc(accounts.id));

  it('imports pasted CSV with a per-row report; a dry run writes nothing; a second run leaves every row unchanged', async () => {
    const admin = await adminWithMfa(gh, tenant.id);
    const { agent, page: users } = await signInToConsole(gh, admin);
    expect(users.html).toContain('href="/admin/imports"');
    const form = await agent.get(`${gh.issuer}/admin/imports`);
    expect(form.status).toBe(200);

    const [a, b] = [`ann-${uniq()}@example.com`, `bob-${uniq()}@example.com`];
    const csv = ['email,name,role,totp_secret', `${a},Ann,support,${newTotpSecret()}`, `${b},Bob,,`, 'not-an-email,Nobody,user,'].join('\n');

    const before = await accountRows();
    const dry = await agent.submit(form, '/admin/imports', { tenant: tenant.id, format: 'csv', content: csv, dry_run: 'on' });
    expect(dry.status).toBe(200);
    expect(dry.html).toContain('Dry run: nothing was written');
    expect(rowsOf(dry.html)).toEqual([
      { outcome: 'created', row: 2, email: a },
      { outcome: 'created', row: 3, email: b },
      { outcome: 'rejected', row: 4, email: 'not-an-email' },
    ]);
    expect(await accountRows()).toEqual(before);

    const done = await agent.submit(form, '/admin/imports', { tenant: tenant.id, format: 'csv', content: csv });
    expect(done.status).toBe(200);
    expect(done.html).toContain('2 created · 0 updated · 0 unchanged · 1 rejected');
    expect(done.html).toContain('email is not an email address');
    const ann = await gh.runtime.repos.accounts.findInTenant(tenant.id, a);
    expect(ann).toMatchObject({ name: 'Ann', role: 'support', source: 'import' });
    expect(await gh.runtime.database.db.select().from(authenticators).where(eq(authenticators.accountId, ann!.id))).toHaveLength(1);

    const again = await agent.submit(form, '/admin/imports', { tenant: tenant.id, format: 'json', content: JSON.stringify([{ email: a, name: 'Ann', role: 'support' }, { email: b, name: 'Bob' }]) });
    expect(rowsOf(again.html).map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
  });

  it('refuses a post without the CSRF token, and support (who may not invite) gets neither the page link nor an import', async () => {
    const admin = await adminWithMfa(gh, tenant.id);
    const { agent, page: form } = await signInToConsole(gh, admin, '/admin/imports');
    const before = await accountRows();
    const forged = await agent.submit(form, '/admin/imports', { _csrf: 'forged', tenant: tenant.id, format: 'csv', content: `email\nmallory-${uniq()}@example.com` });
    expect(forged.status).toBe(403);
    expect(await accountRows()).toEqual(before);

    const support = await adminWithMfa(gh, tenant.id, 'support');
    const signedIn = await signInToConsole(gh, support, '/admin/users', new UserAgent());
    expect(signedIn.page.html).not.toContain('href="/admin/imports"');
    const page = await signedIn.agent.get(`${gh.issuer}/admin/imports`);
    const beforeSupport = await accountRows();
    const refused = await signedIn.agent.submit(page, '/admin/imports', { tenant: tenant.id, format: 'csv', content: `email\neve-${uniq()}@example.com` });
    expect(refused.status).toBe(403);
    expect(await accountRows()).toEqual(beforeSupport);
  });
});
