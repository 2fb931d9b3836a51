// Configuring upstream identity providers (issue 14): platform operators manage global ones, a
// partner's admins those of their own tenant, through the CLI and /api/v1/idps. The client secret is
// sealed at rest and never shown; the issuer is discovered before saving; bad input is a clear 4xx; a
// caller of another tenant sees nothing and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { seedTenant, uniq } from '../../helpers/seed.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream-idp.ts';
import { commands } from '../../../src/cli/commands.ts';
import type { Flags } from '../../../src/cli/flags.ts';
import { runCli } from '../../../src/cli/main.ts';
import { upstreamIdps } from '../../../src/store/schema.ts';
import { textOf } from '../../helpers/user-agent.ts';
import { adminWithMfa, signInToConsole } from '../admin/console-flow.ts';

interface IdpJson {
  id: string;
  slug: string;
  display_name: string;
  has_client_secret: boolean;
  trust_upstream_mfa: boolean;
  account_matching: string;
  allowed_domains: string[];
  tenant: unknown;
}

describe(`upstream identity providers: CLI and API (${backendName()})`, () => {
  let gh: TestGatehouse;
  let up: TestUpstream;
  let dist: Awaited<ReturnType<typeof seedTenant>>;
  let otherDist: Awaited<ReturnType<typeof seedTenant>>;
  let org: Awaited<ReturnType<typeof seedTenant>>;

  const run = async <T>(name: string, flags: Flags): Promise<T> => (await commands[name]!.run(gh.runtime, flags)) as T;

  async function token(tenantId: string, scope = 'idps:write') {
    const registered = await gh.runtime.clients.register({ name: `Service ${uniq()}`, grants: ['client_credentials'], tenantId, scope });
    const res = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret ?? ''}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const api = (bearer: string, method: string, path: string, body?: unknown) =>
    fetch(`${gh.issuer}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const stored = async () => gh.runtime.database.db.select().from(upstreamIdps).orderBy(upstreamIdps.id);

  beforeAll(async () => {
    gh = await startTestGatehouse();
    up = await startUpstream(`${gh.issuer}/federation/callback`);
    dist = await seedTenant(gh.runtime, 'distributor', 'Northwind Partners');
    otherDist = await seedTenant(gh.runtime, 'distributor', 'Tailspin Partners');
    org = await seedTenant(gh.runtime, 'organization', 'Northwind Retail', dist.id);
  });
  afterAll(async () => {
    await up.stop();
    await gh.stop();
  });

  it('creates, lists, updates and deletes a global IdP from the command line, with the secret sealed at rest', async () => {
    const created = await run<IdpJson>('idp create', { name: 'Contoso Entra', issuer: up.issuer, 'client-id': up.clientId, 'client-secret': up.clientSecret, domain: ['Contoso.example'] });
    expect(created).toMatchObject({ display_name: 'Contoso Entra', has_client_secret: true, trust_upstream_mfa: false, account_matching: 'link', allowed_domains: ['contoso.example'], tenant: null });
    const [row] = (await stored()).filter((r) => r.id === created.id);
    expect(row?.clientSecretEnc).toBeTruthy();
    expect(row?.clientSecretEnc).not.toContain(up.clientSecret);
    expect((await run<IdpJson[]>('idp list', {})).map((i) => i.slug)).toContain(created.slug);

    expect(await run('idp update', { idp: created.slug, 'trust-upstream-mfa': 'on', 'mfa-acr': ['urn:upstream:mfa'] })).toMatchObject({ trust_upstream_mfa: true, mfa_acr_values: ['urn:upstream:mfa'] });
    const audited = await gh.runtime.repos.audit.list({ target: created.id, limit: 10 });
    expect(audited.map((e) => [e.action, e.actor])).toEqual([
      ['idp.updated', 'cli'],
      ['idp.created', 'cli'],
    ]);
    expect(await run('idp delete', { idp: created.slug })).toEqual({ deleted: created.slug });
    expect((await stored()).some((r) => r.id === created.id)).toBe(false);
  });

  it.each<[string, Flags, number, RegExp]>([
    ['an issuer that is not https', { name: 'X', issuer: 'http://idp.example.com', 'client-id': 'x' }, 400, /issuer must be an https URL/],
    ['an issuer with nothing behind it', { name: 'X', issuer: 'https://127.0.0.1:1', 'client-id': 'x' }, 400, /could not be discovered/],
    ['scopes without openid', { name: 'X', issuer: 'https://idp.example.com', 'client-id': 'x', scopes: 'email profile' }, 400, /scopes must include openid/],
    ['create matching without a tenant', { name: 'X', issuer: 'https://idp.example.com', 'client-id': 'x', matching: 'create' }, 400, /needs a tenant/],
    ['an unknown matching', { name: 'X', issuer: 'https://idp.example.com', 'client-id': 'x', matching: 'sometimes' }, 400, /accountMatching/],
    ['a bad domain', { name: 'X', issuer: 'https://idp.example.com', 'client-id': 'x', domain: ['not a domain'] }, 400, /domain name/],
  ])('refuses %s with a clear 4xx', async (_case, flags, status, message) => {
    const before = await stored();
    await expect(run('idp create', flags)).rejects.toMatchObject({ status, message: expect.stringMatching(message) });
    expect(await stored()).toEqual(before);
  });

  it('refuses a domain already routed to another IdP (409)', async () => {
    const domain = `taken-${uniq()}.example`;
    await run('idp create', { name: 'First', issuer: up.issuer, 'client-id': up.clientId, domain: [domain] });
    await expect(run('idp create', { name: 'Second', issuer: up.issuer, 'client-id': up.clientId, domain: [domain] })).rejects.toMatchObject({ status: 409 });
  });

  it('lets a partner admin manage its own tenant’s IdPs over the API, and nobody else', async () => {
    const partner = await token(dist.id);
    const create = await api(partner, 'POST', '/idps', { tenant: dist.slug, display_name: 'Northwind Okta', issuer: up.issuer, client_id: up.clientId, client_secret: up.clientSecret, account_matching: 'create', default_role: 'user' });
    expect(create.status).toBe(201);
    const idp = (await create.json()) as IdpJson & { client_secret?: string };
    expect(idp).toMatchObject({ tenant: { id: dist.id }, has_client_secret: true });
    expect(idp.client_secret).toBeUndefined();
    expect(((await (await api(partner, 'GET', '/idps')).json()) as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([idp.id]);
    expect(await (await api(partner, 'PATCH', `/idps/${idp.id}`, { trust_upstream_mfa: true })).json()).toMatchObject({ trust_upstream_mfa: true });

    // another partner, an organization, a global IdP: refused, nothing changes
    const before = await stored();
    const stranger = await token(otherDist.id);
    expect((await api(stranger, 'GET', `/idps/${idp.id}`)).status).toBe(404);
    expect((await api(stranger, 'PATCH', `/idps/${idp.id}`, { enabled: false })).status).toBe(404);
    expect((await api(stranger, 'DELETE', `/idps/${idp.id}`)).status).toBe(404);
    expect((await api(stranger, 'POST', '/idps', { tenant: dist.id, display_name: 'Evil', issuer: up.issuer, client_id: 'x' })).status).toBe(403);
    expect((await api(await token(org.id), 'POST', '/idps', { tenant: org.id, display_name: 'Org IdP', issuer: up.issuer, client_id: 'x' })).status).toBe(403);
    expect((await api(partner, 'POST', '/idps', { display_name: 'Global', issuer: up.issuer, client_id: 'x' })).status).toBe(403);
    expect((await api(partner, 'POST', '/idps', { tenant: dist.id, display_name: 'Owners', issuer: up.issuer, client_id: 'x', account_matching: 'create', default_role: 'owner' })).status).toBe(403);
    expect((await api(await token(dist.id, 'users:read'), 'GET', '/idps')).status).toBe(403);
    expect(await stored()).toEqual(before);

    // bad bodies name the problem
    const unknown = await api(partner, 'PATCH', `/idps/${idp.id}`, { colour: 'blue' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toContain('colour');
    expect((await api(partner, 'PATCH', `/idps/${idp.id}`, { issuer: 'ftp://x' })).status).toBe(400);
    expect((await api(partner, 'GET', '/idps/not-a-uuid')).status).toBe(404);

    expect((await api(partner, 'DELETE', `/idps/${idp.id}`)).status).toBe(204);
    expect((await gh.runtime.database.db.select().from(upstreamIdps).where(eq(upstreamIdps.id, idp.id))).length).toBe(0);
  });

  it('lets a partner admin connect, change and remove an IdP of its tenant in the admin console; an organization admin has no such page', async () => {
    const admin = await adminWithMfa(gh, dist.id);
    const { agent, page } = await signInToConsole(gh, admin, '/admin/idps');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Connect an identity provider');
    const saved = await agent.submit(page, '/admin/idps', { tenant: dist.id, display_name: 'Northwind Google', issuer: up.issuer, client_id: up.clientId, client_secret: up.clientSecret, allowed_domains: 'northwind-console.example', account_matching: 'link', default_role: 'user', enabled: 'on' });
    expect(textOf(saved.html)).toContain('Northwind Google is connected.');
    const [row] = (await stored()).filter((r) => r.displayName === 'Northwind Google');
    expect(row).toMatchObject({ tenantId: dist.id, allowedDomains: ['northwind-console.example'], trustUpstreamMfa: false, enabled: true });

    const changed = await agent.submit(saved, `/admin/idps/${row?.id}`, { display_name: 'Northwind Google', issuer: up.issuer, client_id: up.clientId, allowed_domains: '', account_matching: 'link', default_role: 'user', trust_upstream_mfa: 'on', enabled: 'on' });
    expect(textOf(changed.html)).toContain('Northwind Google was saved.');
    expect((await stored()).find((r) => r.id === row?.id)).toMatchObject({ trustUpstreamMfa: true, allowedDomains: [] });
    const bad = await agent.submit(changed, `/admin/idps/${row?.id}`, { display_name: 'Northwind Google', issuer: 'ftp://nope', client_id: up.clientId, account_matching: 'link', default_role: 'user' });
    expect(bad.status).toBe(400);

    const removed = await agent.submit(changed, `/admin/idps/${row?.id}/delete`, { confirm: 'yes' });
    expect(textOf(removed.html)).toContain('Northwind Google was removed.');
    expect((await stored()).some((r) => r.id === row?.id)).toBe(false);

    const orgAdmin = await adminWithMfa(gh, org.id);
    const orgPage = await signInToConsole(gh, orgAdmin, '/admin/users');
    expect(orgPage.page.html).not.toContain('/admin/idps');
    expect((await orgPage.agent.get(`${gh.issuer}/admin/idps`)).status).toBe(403);
  });

  it('refuses idp update without any setting as a usage error (exit 2)', async () => {
    const err: string[] = [];
    expect(await runCli(['idp', 'update', '--idp', 'x'], () => undefined, (s) => err.push(s))).toBe(2);
    expect(err.join('\n')).toContain('give at least one setting to change');
  });
});
