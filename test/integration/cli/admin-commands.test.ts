// The admin commands of the CLI call the same use cases as /admin and /api/v1, as the trusted local
// operator: every change is audited with actor `cli`; --json output is the machine form.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant } from '../../helpers/seed.ts';
import { importAuthenticator } from '../../helpers/mfa.ts';
import { commands } from '../../../src/cli/commands.ts';
import type { Flags } from '../../../src/cli/flags.ts';
import { runCli } from '../../../src/cli/main.ts';

describe(`admin commands of the CLI (${backendName()})`, () => {
  let gh: TestGatehouse;
  let dist: Awaited<ReturnType<typeof seedTenant>>;
  let org: Awaited<ReturnType<typeof seedTenant>>;

  const run = async <T>(name: string, flags: Flags): Promise<T> => {
    const command = commands[name];
    if (!command) throw new Error(`no command ${name}`);
    return (await command.run(gh.runtime, flags)) as T;
  };

  beforeAll(async () => {
    gh = await startTestGatehouse();
    dist = await seedTenant(gh.runtime, 'distributor', 'Fabrikam Partners');
    org = await seedTenant(gh.runtime, 'organization', 'Fabrikam Retail', dist.id);
  });
  afterAll(() => gh.stop());

  it('policy set turns enforcement on with a grace period, tells who has no MFA yet, and is audited as cli', async () => {
    await seedAccount(gh.runtime, org.id);
    const result = await run<Record<string, unknown>>('policy set', { tenant: dist.slug, organizations: 'on', 'grace-days': '7' });
    expect(result).toMatchObject({ tenant: { slug: dist.slug }, enforce_mfa_organizations: { on: true }, enforce_mfa_partner_users: { on: false }, grace_days: 7, turned_on: [{ switch: 'organizations', accounts_without_mfa: 1 }] });
    expect(await run('policy show', { tenant: dist.slug })).toMatchObject({ enforce_mfa_organizations: { on: true, accounts_without_mfa: 1, organization_count: 1 } });
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.policy.updated', tenantId: dist.id, limit: 1 });
    expect(event).toMatchObject({ actor: 'cli', actorAccountId: null, requestId: 'cli' });
    await expect(run('policy set', { tenant: org.slug, 'partner-users': 'on' })).rejects.toMatchObject({ code: 'policy_not_applicable' });
    await expect(run('policy set', { tenant: dist.slug, 'grace-days': '31' })).rejects.toMatchObject({ status: 400 });
  });

  it('policy set --partner-users-phr and client update --require-phishing-resistant-mfa set phishing-resistant MFA, audited as cli', async () => {
    const partner = await seedTenant(gh.runtime, 'sub_reseller', 'Fabrikam Resale', dist.id);
    const staff = await seedAccount(gh.runtime, partner.id);
    await importAuthenticator(gh.runtime, staff);
    const result = await run<Record<string, unknown>>('policy set', { tenant: partner.slug, 'partner-users-phr': 'on' });
    expect(result).toMatchObject({ enforce_mfa_partner_users: { on: false, phishing_resistant: { on: true, accounts_without_passkey: 1 } }, turned_on: [{ switch: 'partner_users_phr', accounts_without_mfa: 1 }] });
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.policy.updated', tenantId: partner.id, limit: 1 });
    expect(event).toMatchObject({ actor: 'cli', detail: { enforce_phr_partner_users: true } });
    await expect(run('policy set', { tenant: partner.slug, 'organizations-phr': 'maybe' })).rejects.toThrow('--organizations-phr is on or off');

    const { clientId } = await seedClient(gh.runtime);
    expect(await run('client update', { 'client-id': clientId, 'require-phishing-resistant-mfa': 'yes' })).toMatchObject({ require_phishing_resistant_mfa: true });
    expect((await gh.runtime.repos.clients.find(clientId))?.requirePhishingResistantMfa).toBe(true);
    await expect(run('client update', { 'client-id': clientId, 'require-phishing-resistant-mfa': 'always' })).rejects.toThrow('--require-phishing-resistant-mfa is yes or no');
  });

  it('user list filters by MFA Status; role set, disable (ending sessions) and enable are audited as cli', async () => {
    const withMfa = await seedAccount(gh.runtime, dist.id);
    await importAuthenticator(gh.runtime, withMfa);
    const without = await seedAccount(gh.runtime, dist.id);
    const active = await run<{ users: { email: string; mfa_status: string }[] }>('user list', { tenant: dist.slug, mfa: 'active' });
    expect(active.users.map((u) => u.email)).toEqual([withMfa.email]);
    const inactive = await run<{ users: { email: string }[] }>('user list', { tenant: dist.slug, mfa: 'inactive' });
    expect(inactive.users.map((u) => u.email)).toContain(without.email);
    expect(inactive.users.map((u) => u.email)).not.toContain(withMfa.email);

    expect(await run('user role set', { tenant: dist.slug, email: without.email, role: 'support' })).toMatchObject({ role: 'support' });

    // a live SSO session, ended by the deactivation
    const app = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    await passwordSignIn(app, without.email);
    expect(await run('user disable', { tenant: dist.slug, email: without.email })).toMatchObject({ status: 'disabled', sessions_ended: 1 });
    expect((await gh.runtime.repos.accounts.findById(without.id))?.status).toBe('disabled');
    expect(await run('user enable', { tenant: dist.slug, email: without.email })).toMatchObject({ status: 'active' });

    const audited = await run<{ events: { action: string; actor: string }[] }>('audit list', { actor: 'cli', target: without.id });
    expect(audited.events.map((e) => e.action)).toEqual(expect.arrayContaining(['account.role.changed', 'account.deactivated', 'account.reactivated']));
    expect(audited.events.every((e) => e.actor === 'cli')).toBe(true);
    const future = await run<{ events: unknown[] }>('audit list', { since: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.events).toEqual([]);
  });

  it('user mfa reset removes the authenticator, mails the user (setup required: the distributor enforces MFA) and is audited as cli', async () => {
    const user = await seedAccount(gh.runtime, org.id);
    await importAuthenticator(gh.runtime, user);
    const result = await run<Record<string, unknown>>('user mfa reset', { tenant: org.slug, email: user.email });
    expect(result).toMatchObject({ email: user.email, mfa_status: 'inactive', authenticators_removed: 1, setup_required_at_next_sign_in: true });
    expect(await gh.runtime.repos.authenticators.countForAccount(user.id)).toBe(0);
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.reset_by_admin', target: user.id, limit: 1 });
    expect(event).toMatchObject({ actor: 'cli', actorAccountId: null });
    const mail = (await gh.deliverMail()).find((m) => m.to === user.email && /Multi-factor authentication was reset/.test(m.subject));
    expect(mail?.text).toContain('the next time you sign in you will be asked to set up your authenticator app again');
    await expect(run('user mfa reset', { tenant: org.slug, email: 'nobody@example.com' })).rejects.toMatchObject({ status: 404 });
  });

  it('client update, disable and rotate-secret change the client and are audited as cli', async () => {
    const { clientId } = await seedClient(gh.runtime);
    expect(await run('client update', { 'client-id': clientId, 'require-mfa': 'yes', 'redirect-uri': ['https://app.fabrikam.test/cb'], tenant: dist.slug })).toMatchObject({
      require_mfa: true,
      redirect_uris: ['https://app.fabrikam.test/cb'],
      tenant: { id: dist.id, slug: dist.slug },
    });
    await expect(run('client update', { 'client-id': clientId, 'redirect-uri': ['https://app.fabrikam.test/cb#frag'] })).rejects.toMatchObject({ status: 400 });
    expect(await run('client disable', { 'client-id': clientId })).toMatchObject({ disabled: true });
    const rotated = await run<{ client_secret: string }>('client rotate-secret', { 'client-id': clientId });
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const events = await gh.runtime.repos.audit.list({ target: clientId, actor: 'cli', limit: 10 });
    expect(events.map((e) => e.action)).toEqual(['client.secret.rotated', 'client.disabled', 'client.updated']);
    await expect(run('client disable', { 'client-id': 'gatehouse-admin' })).rejects.toMatchObject({ code: 'system_client' });
  });

  it.each<[string, string[], RegExp]>([
    ['a policy change without any switch', ['policy', 'set', '--tenant', 'x'], /give at least one of --partner-users, --organizations, --partner-users-phr, --organizations-phr, --grace-days/],
    ['a switch that is not on or off', ['policy', 'set', '--tenant', 'x', '--partner-users', 'maybe'], /--partner-users is on or off/],
    ['an unknown MFA status', ['user', 'list', '--tenant', 'x', '--mfa', 'pending'], /--mfa is active or inactive/],
    ['a missing email', ['user', 'disable', '--tenant', 'x'], /--email is required/],
  ])('refuses %s as a usage error (exit 2)', async (_case, argv, message) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, (s) => out.push(s), (s) => err.push(s));
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });
});
