// The one MFA reset behind admin reset and self reset: with real repositories, every authenticator and
// recovery code of the account (and only that account) is gone, the lockout is cleared, the sessions end
// through the port, the audit trail names actor, target and reason, and the owner is mailed (setup at the
// next sign-in when the tenant policy requires MFA).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { createSecurityEvents, type NotifyingEvent, type NotificationTarget } from '../../../src/domain/events.ts';
import { createMfaReset, type MfaResetReason } from '../../../src/domain/mfa/reset.ts';
import { tenantTreePolicy } from '../../../src/domain/mfa/policy-source.ts';
import { lockSchedule } from '../../../src/domain/mfa/lockout.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`MFA reset use case on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let orgId: string;
  let enforcedOrgId: string;
  let n = 0;
  const mails: { event: NotifyingEvent; to: NotificationTarget; detail: Record<string, unknown> }[] = [];
  const ended: string[] = [];

  const withMfa = async (tenantId: string) => {
    const account = await repos.accounts.create({ tenantId, email: `r${++n}@example.com`, passwordHash: 'h', name: `User ${n}` });
    await repos.authenticators.addTotp({ accountId: account.id, label: 'Phone', secretEnc: 'sealed-1', lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: false });
    await repos.authenticators.addTotp({ accountId: account.id, label: 'Tablet', secretEnc: 'sealed-2', lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: false });
    await repos.recoveryCodes.replace(account.id, ['h1', 'h2', 'h3']);
    const policy = { threshold: 2, lockSeconds: lockSchedule({ baseSeconds: 900, maxSeconds: 86_400 }) };
    await repos.lockouts.reserveAttempt(account.id, policy, new Date());
    await repos.lockouts.reserveAttempt(account.id, policy, new Date());
    return account;
  };

  const reset = (sessions: number) =>
    createMfaReset({
      authenticators: repos.authenticators,
      recoveryCodes: repos.recoveryCodes,
      lockouts: repos.lockouts,
      events: createSecurityEvents(repos.audit, { notify: async (event, to, detail) => void mails.push({ event, to, detail }) }),
      endSessions: async (accountId) => {
        ended.push(accountId);
        return { sessions };
      },
      policy: tenantTreePolicy,
    });

  const run = async (accountId: string, reason: MfaResetReason, actor: { actorAccountId?: string; actor?: string }, sessions = 2) => {
    const account = await repos.accounts.findById(accountId);
    if (!account) throw new Error('account missing');
    return reset(sessions).reset({ account, reason, actor, request: { ip: '192.0.2.7', requestId: 'req-1' } });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    const distributor = await repos.tenants.create({ kind: 'distributor', name: 'D', parentId: platform.id });
    orgId = (await repos.tenants.create({ kind: 'organization', name: 'Org', parentId: distributor.id })).id;
    const enforcing = await repos.tenants.create({ kind: 'distributor', name: 'E', parentId: platform.id });
    await repos.tenants.setPolicy(enforcing.id, { enforceMfaOrganizations: true });
    enforcedOrgId = (await repos.tenants.create({ kind: 'organization', name: 'Enforced Org', parentId: enforcing.id })).id;
  });
  afterAll(() => database.dispose());

  it('removes authenticators, recovery codes and the lock of that account only, ends its sessions, audits and mails', async () => {
    const target = await withMfa(orgId);
    const bystander = await withMfa(orgId);
    const admin = await repos.accounts.create({ tenantId: orgId, email: `admin${++n}@example.com`, passwordHash: 'h', role: 'admin' });
    mails.length = 0;
    ended.length = 0;

    const result = await run(target.id, 'admin', { actorAccountId: admin.id });

    expect(result).toEqual({ authenticatorsRemoved: 2, recoveryCodesRemoved: 3, sessionsEnded: 2, setupRequired: false });
    expect(await repos.authenticators.countForAccount(target.id)).toBe(0);
    expect(await repos.recoveryCodes.countUnused(target.id)).toBe(0);
    expect((await repos.lockouts.get(target.id))?.lockedUntil ?? null).toBeNull();
    expect((await repos.accounts.findById(target.id))?.mfaStatus).toBe('inactive');
    // the other account of the tenant keeps everything
    expect(await repos.authenticators.countForAccount(bystander.id)).toBe(2);
    expect(await repos.recoveryCodes.countUnused(bystander.id)).toBe(3);
    expect((await repos.lockouts.get(bystander.id))?.lockedUntil).toBeInstanceOf(Date);
    expect(ended).toEqual([target.id]);

    const trail = await repos.audit.list({ target: target.id, limit: 10 });
    const resetEvent = trail.find((e) => e.action === 'mfa.reset_by_admin');
    expect(resetEvent).toMatchObject({ actorAccountId: admin.id, tenantId: orgId, target: target.id, ip: '192.0.2.7', requestId: 'req-1' });
    expect(resetEvent?.detail).toMatchObject({ reason: 'admin', authenticators: 2, recovery_codes: 3, setupRequired: false });
    expect(trail.find((e) => e.action === 'account.sessions.ended')?.detail).toMatchObject({ sessions: 2, reason: 'mfa_reset' });
    expect(mails).toEqual([{ event: 'mfa.reset_by_admin', to: { email: target.email, name: target.name }, detail: expect.objectContaining({ setupRequired: false }) }]);
  });

  it('a self reset is audited as the account itself, and the mail says setup is required when the policy enforces MFA', async () => {
    const target = await withMfa(enforcedOrgId);
    mails.length = 0;
    const result = await run(target.id, 'self', { actorAccountId: target.id }, 0);
    expect(result).toEqual({ authenticatorsRemoved: 2, recoveryCodesRemoved: 3, sessionsEnded: 0, setupRequired: true });
    const trail = await repos.audit.list({ target: target.id, limit: 10 });
    expect(trail.map((e) => e.action)).toEqual(['mfa.reset_by_self']); // no sessions: no "sessions ended" event
    expect(trail[0]).toMatchObject({ actorAccountId: target.id, detail: expect.objectContaining({ reason: 'self', setupRequired: true }) });
    expect(mails[0]).toMatchObject({ event: 'mfa.reset_by_self', detail: expect.objectContaining({ setupRequired: true }) });
  });

  it('a command-line reset names the actor `cli`; a second reset removes nothing and still succeeds', async () => {
    const target = await withMfa(orgId);
    await run(target.id, 'admin', { actor: 'cli' });
    const again = await run(target.id, 'admin', { actor: 'cli' });
    expect(again).toMatchObject({ authenticatorsRemoved: 0, recoveryCodesRemoved: 0 });
    const trail = await repos.audit.list({ target: target.id, action: 'mfa.reset_by_admin', limit: 10 });
    expect(trail).toHaveLength(2);
    expect(trail[0]).toMatchObject({ actor: 'cli', actorAccountId: null });
  });
});
