// Invite user and Resend invitation, end to end with a real SMTP server: the API and the console create
// the account without a password and mail a single-use link to /password/set/:token, where the invitee
// chooses a password under the rules of `user create`; the link works once, only the newest works, an
// expired one is refused, and the invitee then signs in with that password.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { passwordSignIn, rpConfig, seedClient, seedTenant, uniq } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { linkIn, startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import { emailTokens } from '../../../src/store/schema.ts';
import { adminWithMfa, signInToConsole } from './console-flow.ts';

const CHOSEN = 'a long invited passphrase';
const banner = (page: Page) => textOf(/<div[^>]*id="banner"[^>]*>([\s\S]*?)<\/div>/.exec(page.html)?.[1] ?? '');

describe(`invitations (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let app: oidc.Configuration;
  let dist: Awaited<ReturnType<typeof seedTenant>>;
  let org: Awaited<ReturnType<typeof seedTenant>>;
  let token: string;

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${gh.issuer}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const invitationMails = (email: string) => smtp.to(email).filter((m) => /You're invited to/.test(m.subject));
  async function nextInvitation(email: string, count: number) {
    await smtp.waitFor(() => invitationMails(email).length >= count);
    const mail = invitationMails(email)[count - 1];
    if (!mail) throw new Error('no invitation mail');
    return { mail, link: linkIn(mail, '/password/set/') };
  }

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: smtp.url } });
    dist = await seedTenant(gh.runtime, 'distributor', 'Woodgrove Partners');
    org = await seedTenant(gh.runtime, 'organization', 'Woodgrove Bank', dist.id);
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    const registered = await gh.runtime.clients.register({ name: 'Woodgrove provisioning', grants: ['client_credentials'], tenantId: dist.id, scope: 'users:read users:write' });
    const res = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret ?? ''}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'users:read users:write' }),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  it('invites through the API; the link sets a password under the usual rules, works once, and the invitee signs in', async () => {
    const email = `invitee-${uniq()}@example.com`;
    const res = await api('POST', `/tenants/${org.slug}/users`, { email, name: 'Ines Invitee', role: 'support' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { user: { id: string; role: string; invitation_pending: boolean; tenant: { id: string } }; invitation_expires_at: string };
    expect(body.user).toMatchObject({ role: 'support', invitation_pending: true, tenant: { id: org.id } });
    expect(new Date(body.invitation_expires_at).getTime() - Date.now()).toBeGreaterThan(71 * 3600_000);
    const [event] = await gh.runtime.repos.audit.list({ action: 'account.invited', target: body.user.id, limit: 1 });
    expect(event?.actor).toMatch(/^client:gh_/);

    const { mail, link } = await nextInvitation(email, 1);
    expect(mail.subject).toBe("You're invited to Woodgrove Bank on Gatehouse");
    const agent = new UserAgent();
    const page = await agent.get(link);
    expect(page.status).toBe(200);
    expect(textOf(page.html).replace(/ \./g, '.')).toContain(`You were invited to Woodgrove Bank. Choose the password for ${email}.`);
    // refused passwords keep the link usable
    const short = await agent.submit(page, '/password/set/', { password: 'short', password_confirm: 'short' });
    expect(short.status).toBe(400);
    const mismatch = await agent.submit(short, '/password/set/', { password: CHOSEN, password_confirm: `${CHOSEN}!` });
    expect(textOf(mismatch.html)).toContain('The two passwords do not match.');
    const set = await agent.submit(mismatch, '/password/set/', { password: CHOSEN, password_confirm: CHOSEN });
    expect(set.status).toBe(200);
    expect(textOf(set.html)).toContain('Your password is set');
    expect((await gh.runtime.repos.accounts.findById(body.user.id))?.emailVerified).toBe(true);

    const again = await new UserAgent().get(link);
    expect(again.status).toBe(410);
    expect(textOf(again.html)).toContain('Ask your administrator to send the invitation again.');

    const { tokens } = await passwordSignIn(app, email, CHOSEN);
    expect(tokens.claims()).toMatchObject({ sub: body.user.id, amr: ['pwd'] });
    // accepted: no more resend
    const resend = await api('POST', `/users/${body.user.id}/invitation`);
    expect(resend.status).toBe(409);
    expect(((await resend.json()) as { error: string }).error).toBe('invitation_accepted');
  });

  it('a resent invitation replaces the earlier link; an expired link is refused', async () => {
    const email = `resent-${uniq()}@example.com`;
    const created = (await (await api('POST', `/tenants/${org.slug}/users`, { email })).json()) as { user: { id: string } };
    const first = await nextInvitation(email, 1);
    const resent = await api('POST', `/users/${created.user.id}/invitation`);
    expect(resent.status).toBe(200);
    const second = await nextInvitation(email, 2);
    expect(second.link).not.toBe(first.link);
    expect((await new UserAgent().get(first.link)).status).toBe(410);
    expect((await new UserAgent().get(second.link)).status).toBe(200);

    await gh.runtime.database.db.update(emailTokens).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(emailTokens.accountId, created.user.id));
    const expired = await new UserAgent().get(second.link);
    expect(expired.status).toBe(410);
    expect((await gh.runtime.repos.accounts.findById(created.user.id))?.passwordHash).toBeNull();
    expect((await gh.runtime.repos.audit.list({ action: 'account.invitation_link.refused', limit: 10 })).length).toBeGreaterThan(0);
  });

  it('refuses bad invitations with a clear 4xx: a role above the caller’s, a taken address, a malformed email', async () => {
    const email = `taken-${uniq()}@example.com`;
    expect((await api('POST', `/tenants/${org.slug}/users`, { email })).status).toBe(201);
    const taken = await api('POST', `/tenants/${org.slug}/users`, { email });
    expect([taken.status, ((await taken.json()) as { error: string }).error]).toEqual([409, 'account_exists']);
    expect((await api('POST', `/tenants/${org.slug}/users`, { email: `owner-${uniq()}@example.com`, role: 'owner' })).status).toBe(403);
    const malformed = await api('POST', `/tenants/${org.slug}/users`, { email: 'not an address' });
    expect(malformed.status).toBe(400);
  });

  it('invites from the console and resends from the user’s row', async () => {
    const admin = await adminWithMfa(gh, dist.id, 'admin');
    const { agent } = await signInToConsole(gh, admin);
    const list = await agent.get(`${gh.issuer}/admin/users?tenant=${org.slug}`);
    const email = `console-${uniq()}@example.com`;
    const invited = await agent.submit(list, '/admin/users/invite', { email, name: 'Cora Console', role: 'user' });
    expect(banner(invited)).toMatch(new RegExp(`^An invitation was sent to ${email}\\. The link works once, until .+ UTC\\.$`));
    const row = new RegExp(`<tr data-user="${email}">([\\s\\S]*?)</tr>`).exec(invited.html)?.[1] ?? '';
    expect(textOf(row)).toContain('Invited');
    const first = await nextInvitation(email, 1);
    const account = await gh.runtime.repos.accounts.findInTenant(org.id, email);
    const resent = await agent.submit(invited, `/admin/users/${account?.id}/invitation`, {});
    expect(banner(resent)).toContain(`The invitation was sent to ${email} again`);
    const second = await nextInvitation(email, 2);
    expect((await new UserAgent().get(first.link)).status).toBe(410);
    expect(second.mail.text).toContain(`${admin.email} invited you to Woodgrove Bank.`);
    const [event] = await gh.runtime.repos.audit.list({ action: 'account.invitation.resent', target: account?.id, limit: 1 });
    expect(event?.actorAccountId).toBe(admin.id);
  });
});
