// The first-start setup link is the only way to create the first platform operator without a shell.
// It is spent only when the operator is actually created: a form the operator got wrong (not an
// email, a weak password) leaves it usable, the spending and the account happen together (an insert
// that fails leaves the link unspent), and of two racing submissions exactly one creates an operator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { bootstrapOf } from '../../../src/setup/routes.ts';

const PASSWORD = 'operator passphrase one';

describe(`the setup link is spent only by a successful setup (${backendName()})`, () => {
  let gh: TestGatehouse;
  let setupLink = '';
  beforeAll(async () => {
    gh = await startTestGatehouse();
  });
  afterAll(() => gh.stop());
  // each test starts from a first start: no operator, no other platform account, a fresh link
  beforeEach(async () => {
    const platform = await bootstrapOf(gh.runtime).platform();
    await gh.runtime.database.db.execute(sql`delete from accounts where tenant_id = ${platform.id}::uuid`);
    setupLink = (await bootstrapOf(gh.runtime).issueSetupLink(gh.issuer))?.link ?? '';
    expect(setupLink).not.toBe('');
  });

  const link = () => setupLink;
  const submit = async (agent: UserAgent, fields: Record<string, string>): Promise<Page> => {
    const page = await agent.get(link());
    expect(page.status).toBe(200);
    return agent.submit(page, '/setup/', { password: PASSWORD, password_confirm: PASSWORD, ...fields });
  };
  const operators = async () => (await gh.runtime.repos.accounts.listByTenant((await bootstrapOf(gh.runtime).platform()).id)).filter((a) => a.platformOperator);

  it('a typo in the email, then a weak password, then the corrected form: the third submission creates the operator', async () => {
    const agent = new UserAgent();
    const typo = await submit(agent, { email: 'olga.example.com' });
    expect(typo.status).toBe(400);
    expect(textOf(typo.html)).toContain('must be an email address');
    const weak = await submit(agent, { email: 'olga@example.com', password: 'short', password_confirm: 'short' });
    expect(weak.status).toBe(400);
    expect(textOf(weak.html)).toMatch(/at least \d+ characters/);
    expect(await operators()).toHaveLength(0);

    const done = await submit(agent, { email: ' Olga@Example.com ', name: 'Olga' });
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('The platform operator olga@example.com was created.');
    expect((await operators()).map((a) => a.email)).toEqual(['olga@example.com']);
    expect((await agent.get(link())).status).toBe(400);
  });

  it('an account that cannot be created (its email is taken in the platform tenant) leaves the link unspent', async () => {
    const platform = await bootstrapOf(gh.runtime).platform();
    await gh.runtime.directory.createAccount({ tenant: platform.id, email: 'taken@example.com', password: PASSWORD });
    const agent = new UserAgent();
    const taken = await submit(agent, { email: 'taken@example.com' });
    expect(taken.status).toBe(409);
    expect(await operators()).toHaveLength(0);
    const done = await submit(agent, { email: 'olga@example.com' });
    expect(done.status).toBe(200);
    expect(await operators()).toHaveLength(1);
  });

  it('of two submissions racing for the link, exactly one creates an operator', async () => {
    const agents = [new UserAgent(), new UserAgent(), new UserAgent(), new UserAgent()];
    const pages = await Promise.all(agents.map((a) => a.get(link())));
    const results = await Promise.all(
      agents.map((a, i) => a.submit(pages[i] as Page, '/setup/', { email: `racer-${i}@example.com`, password: PASSWORD, password_confirm: PASSWORD })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect([400, 409]).toContain(r.status);
    expect(await operators()).toHaveLength(1);
  });
});
