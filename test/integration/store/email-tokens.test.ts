// Email links (DESIGN.md §9): only a digest is stored; a link works once, before it expires, and only
// for its purpose — even when it is opened twice at the same moment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { createOneTimeLinks } from '../../../src/domain/one-time-links.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const digest = () => createHash('sha256').update(randomBytes(32)).digest('hex');
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);

describe(`email link tokens on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let accountId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    accountId = (await repos.accounts.create({ tenantId: platform.id, email: 'e@example.com', passwordHash: 'h' })).id;
  });
  afterAll(() => database.dispose());

  it('lets exactly one of 10 simultaneous clicks use a link', async () => {
    const tokenHash = digest();
    await repos.emailTokens.create({ accountId, purpose: 'mfa_reset', tokenHash, expiresAt: inMinutes(30), detail: { ip: '192.0.2.1' } });
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 10 }, () => repos.emailTokens.consume(tokenHash, 'mfa_reset', now)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ accountId, purpose: 'mfa_reset', detail: { ip: '192.0.2.1' } });
    expect(winners[0]?.usedAt).toBeInstanceOf(Date);
    expect(await repos.emailTokens.consume(tokenHash, 'mfa_reset', now)).toBeNull();
    expect((await repos.emailTokens.find(tokenHash, 'mfa_reset'))?.usedAt).toBeInstanceOf(Date);
  });

  it('refuses an expired link', async () => {
    const tokenHash = digest();
    await repos.emailTokens.create({ accountId, purpose: 'mfa_reset', tokenHash, expiresAt: inMinutes(30) });
    expect(await repos.emailTokens.consume(tokenHash, 'mfa_reset', inMinutes(31))).toBeNull();
    expect((await repos.emailTokens.find(tokenHash, 'mfa_reset'))?.usedAt).toBeNull();
  });

  it('refuses a link used for another purpose', async () => {
    const tokenHash = digest();
    await repos.emailTokens.create({ accountId, purpose: 'operator_setup', tokenHash, expiresAt: inMinutes(30) });
    expect(await repos.emailTokens.consume(tokenHash, 'mfa_reset', new Date())).toBeNull();
    expect(await repos.emailTokens.find(tokenHash, 'mfa_reset')).toBeUndefined();
    expect(await repos.emailTokens.consume(tokenHash, 'operator_setup', new Date())).not.toBeNull();
  });

  it('accepts a token without account (operator invitation)', async () => {
    const tokenHash = digest();
    const created = await repos.emailTokens.create({ accountId: null, purpose: 'invite', tokenHash, expiresAt: inMinutes(30) });
    expect(created.accountId).toBeNull();
  });

  it('spends the unused links of one purpose for one account, and only those', async () => {
    const [older, otherPurpose, used] = [digest(), digest(), digest()];
    await repos.emailTokens.create({ accountId, purpose: 'email_verification', tokenHash: older, expiresAt: inMinutes(30) });
    await repos.emailTokens.create({ accountId, purpose: 'mfa_reset', tokenHash: otherPurpose, expiresAt: inMinutes(30) });
    await repos.emailTokens.create({ accountId, purpose: 'email_verification', tokenHash: used, expiresAt: inMinutes(30) });
    await repos.emailTokens.consume(used, 'email_verification', new Date());
    expect(await repos.emailTokens.spendUnused('email_verification', { accountId })).toBe(1);
    expect(await repos.emailTokens.consume(older, 'email_verification', new Date())).toBeNull();
    expect(await repos.emailTokens.consume(otherPurpose, 'mfa_reset', new Date())).not.toBeNull();
  });

  it('spends the unused links sent to one address (any letter case), not those of another', async () => {
    const [mine, theirs] = [digest(), digest()];
    await repos.emailTokens.create({ accountId: null, email: 'Ada@Example.com', purpose: 'password_reset', tokenHash: mine, expiresAt: inMinutes(30) });
    await repos.emailTokens.create({ accountId: null, email: 'bob@example.com', purpose: 'password_reset', tokenHash: theirs, expiresAt: inMinutes(30) });
    expect((await repos.emailTokens.find(mine, 'password_reset'))?.email).toBe('ada@example.com');
    expect(await repos.emailTokens.spendUnused('password_reset', { email: 'ADA@example.com' })).toBe(1);
    expect(await repos.emailTokens.consume(mine, 'password_reset', new Date())).toBeNull();
    expect(await repos.emailTokens.consume(theirs, 'password_reset', new Date())).not.toBeNull();
  });

  it('refuses a link once a newer one of the same purpose exists for the same owner, even if nothing spent it', async () => {
    const [older, newer, otherAccount, setupA, setupB] = [digest(), digest(), digest(), digest(), digest()];
    const platform = await repos.tenants.ensurePlatform('Platform');
    const other = (await repos.accounts.create({ tenantId: platform.id, email: 'other@example.com', passwordHash: 'h' })).id;
    await repos.emailTokens.create({ accountId, purpose: 'email_verification', tokenHash: older, expiresAt: inMinutes(30) });
    await repos.emailTokens.create({ accountId: other, purpose: 'email_verification', tokenHash: otherAccount, expiresAt: inMinutes(30) });
    await repos.emailTokens.create({ accountId, purpose: 'email_verification', tokenHash: newer, expiresAt: inMinutes(30) });
    expect(await repos.emailTokens.findUsable(older, 'email_verification', new Date())).toBeUndefined();
    expect(await repos.emailTokens.consume(older, 'email_verification', new Date())).toBeNull();
    expect(await repos.emailTokens.findUsable(newer, 'email_verification', new Date())).toBeDefined();
    expect(await repos.emailTokens.consume(otherAccount, 'email_verification', new Date())).not.toBeNull(); // another owner's link is no sibling
    expect(await repos.emailTokens.consume(newer, 'email_verification', new Date())).not.toBeNull();
    // links with no owner (the first-start setup link) never supersede each other
    await repos.emailTokens.create({ accountId: null, purpose: 'operator_setup', tokenHash: setupA, expiresAt: inMinutes(30) });
    await repos.emailTokens.create({ accountId: null, purpose: 'operator_setup', tokenHash: setupB, expiresAt: inMinutes(30) });
    expect(await repos.emailTokens.consume(setupA, 'operator_setup', new Date())).not.toBeNull();
  });

  it('leaves exactly one usable link when "send again" is pressed twice at the same moment', async () => {
    const links = createOneTimeLinks({ emailTokens: repos.emailTokens, baseUrl: 'https://id.example.com' });
    const issued = await Promise.all(Array.from({ length: 5 }, () => links.issue('password_reset', { email: 'Race@Example.com', accountIds: [accountId] })));
    const usable = (await Promise.all(issued.map((l) => links.peek('password_reset', l.token)))).filter(Boolean);
    expect(usable).toHaveLength(1);
    const spent = (await Promise.all(issued.map((l) => links.consume('password_reset', l.token)))).filter(Boolean);
    expect(spent).toHaveLength(1);
    expect(spent[0]).toMatchObject({ accountId: null, accountIds: [accountId], email: 'race@example.com' });
  });

  it('deletes used and expired tokens, keeps live ones', async () => {
    const live = digest();
    await repos.emailTokens.create({ accountId, purpose: 'mfa_reset', tokenHash: live, expiresAt: inMinutes(30) });
    const deleted = await repos.emailTokens.deleteSpent(new Date()); // no link has expired yet
    expect(deleted).toBeGreaterThanOrEqual(2); // the two links used above
    expect(await repos.emailTokens.find(live, 'mfa_reset')).toBeDefined();
  });
});
