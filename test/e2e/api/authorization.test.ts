// /api/v1 authorization (DESIGN.md §8): for every route, a caller from another tree or from a sibling
// tenant is refused (403/404) and no row changes; support cannot set the policy; a service token
// without the route's scope gets 403; bad bodies get a 400 that names the problem. Callers are real
// Gatehouse access tokens: client-credentials tokens of service clients bound to tenants, and the
// admin console's token of a signed-in support user.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { asc } from 'drizzle-orm';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { seedAccount, seedTenant } from '../../helpers/seed.ts';
import type { UserAgent } from '../../helpers/user-agent.ts';
import { accounts, authenticators, clients, emailTokens, mfaRecoveryCodes, tenants } from '../../../src/store/schema.ts';
import { importAuthenticator } from '../../helpers/mfa.ts';
import { adminWithMfa, signInToConsole } from '../admin/console-flow.ts';

const ALL_SCOPES = 'users:read users:write mfa:reset policy:write clients:write audit:read tenants:write';

type Call = [method: string, path: string, body?: unknown];

describe(`admin API authorization (${backendName()})`, () => {
  let gh: TestGatehouse;
  let dist: { id: string; slug: string };
  let distOrg: { id: string; slug: string };
  let user: Awaited<ReturnType<typeof seedAccount>>;
  let owner: Awaited<ReturnType<typeof seedAccount>>;
  let distClientId: string;
  const tokens: Record<string, string> = {};

  async function requestServiceToken(tenantId: string, scope: string, requested = scope) {
    const registered = await gh.runtime.clients.register({ name: `Service ${tenantId.slice(0, 4)}`, grants: ['client_credentials'], tenantId, scope });
    const basic = Buffer.from(`${registered.client_id}:${registered.client_secret ?? ''}`).toString('base64');
    return fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: requested }),
    });
  }

  async function serviceToken(tenantId: string, scope: string) {
    const res = await requestServiceToken(tenantId, scope);
    const json = (await res.json()) as { access_token?: string; error_description?: string };
    if (!json.access_token) throw new Error(`no token: ${res.status} ${JSON.stringify(json)}`);
    return json.access_token;
  }

  const api = (token: string | undefined, method: string, path: string, body?: unknown) =>
    fetch(`${gh.issuer}/api/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  /** Every row an admin action could change. */
  const rows = async () => {
    const db = gh.runtime.database.db;
    return {
      tenants: await db.select().from(tenants).orderBy(asc(tenants.id)),
      accounts: await db.select().from(accounts).orderBy(asc(accounts.id)),
      clients: await db.select().from(clients).orderBy(asc(clients.clientId)),
      authenticators: await db.select().from(authenticators).orderBy(asc(authenticators.id)),
      recoveryCodes: await db.select().from(mfaRecoveryCodes).orderBy(asc(mfaRecoveryCodes.id)),
      links: await db.select().from(emailTokens).orderBy(asc(emailTokens.id)),
    };
  };

  const consoleToken = async (agent: UserAgent) => {
    const jar = (agent as unknown as { cookies: Map<string, { name: string; value: string }> }).cookies;
    const id = [...jar.values()].find((c) => c.name.endsWith('gh_admin_session'))?.value ?? '';
    const session = await gh.runtime.kv.get<{ accessToken: string }>(`console:admin:session:${createHash('sha256').update(id).digest('base64url')}`);
    return session?.accessToken ?? '';
  };

  beforeAll(async () => {
    gh = await startTestGatehouse();
    // platform ─┬─ Dist ─┬─ Dist Org (target users live here), Dist Org 2 (sibling)
    //           │        └─ Sub ── Sub Org
    //           └─ Other ── Other Org (another tree)
    dist = await seedTenant(gh.runtime, 'distributor', 'Dist');
    distOrg = await seedTenant(gh.runtime, 'organization', 'Dist Org', dist.id);
    const distOrg2 = await seedTenant(gh.runtime, 'organization', 'Dist Org 2', dist.id);
    const sub = await seedTenant(gh.runtime, 'sub_reseller', 'Sub', dist.id);
    const other = await seedTenant(gh.runtime, 'distributor', 'Other');
    user = await seedAccount(gh.runtime, distOrg.id, { role: 'user' });
    await importAuthenticator(gh.runtime, user);
    owner = await seedAccount(gh.runtime, distOrg.id, { role: 'owner' });
    await importAuthenticator(gh.runtime, owner);
    distClientId = (await gh.runtime.clients.register({ name: 'Dist app', redirectUris: ['https://app.dist.test/cb'], tenantId: dist.id })).client_id;

    tokens.dist = await serviceToken(dist.id, ALL_SCOPES);
    tokens.otherTree = await serviceToken(other.id, ALL_SCOPES);
    tokens.sibling = await serviceToken(distOrg2.id, ALL_SCOPES);
    tokens.subReseller = await serviceToken(sub.id, ALL_SCOPES);
    tokens.readOnly = await serviceToken(dist.id, 'users:read');
    const support = await adminWithMfa(gh, dist.id, 'support');
    tokens.support = await consoleToken((await signInToConsole(gh, support)).agent);
  });
  afterAll(() => gh.stop());

  /** Every route, aimed at the distributor's tree. */
  const crossTreeCalls = (): Call[] => [
    ['POST', '/tenants', { kind: 'organization', name: 'Intruder Org', parent: dist.id }],
    ['GET', `/tenants/${distOrg.slug}/users`],
    ['GET', `/tenants/${dist.id}/users?mfa=inactive`],
    ['GET', `/users/${user.id}`],
    ['PUT', `/users/${user.id}/role`, { role: 'admin' }],
    ['PUT', `/users/${user.id}/status`, { status: 'disabled' }],
    ['DELETE', `/users/${user.id}/sessions`],
    ['POST', `/users/${user.id}/mfa/reset`],
    ['POST', `/tenants/${distOrg.slug}/users`, { email: 'intruder@example.com' }],
    ['POST', `/users/${user.id}/invitation`],
    ['POST', `/tenants/${distOrg.slug}/imports`, { users: [{ email: 'intruder@evil.test', role: 'owner' }] }],
    ['GET', `/tenants/${dist.slug}/policy`],
    ['PATCH', `/tenants/${dist.slug}/policy`, { enforce_mfa_organizations: true }],
    ['POST', '/clients', { name: 'Intruder app', redirect_uris: ['https://evil.test/cb'], tenant_id: dist.id }],
    ['GET', `/clients/${distClientId}`],
    ['PATCH', `/clients/${distClientId}`, { redirect_uris: ['https://evil.test/cb'] }],
    ['POST', `/clients/${distClientId}/disable`],
    ['POST', `/clients/${distClientId}/enable`],
    ['POST', `/clients/${distClientId}/secret`],
    ['DELETE', `/clients/${distClientId}`],
    ['GET', `/audit-events?tenant=${dist.id}`],
    ['GET', `/audit-events.csv?tenant=${dist.slug}`],
  ];

  it.each(['otherTree', 'sibling', 'subReseller'])('refuses a caller from %s on every route that names the distributor’s tree, changing no row', async (who) => {
    const answers: string[] = [];
    for (const [method, path, body] of crossTreeCalls()) {
      const before = await rows();
      const res = await api(tokens[who], method, path, body);
      const json = (await res.json()) as Record<string, unknown>;
      answers.push(`${method} ${path} → ${[403, 404].includes(res.status) ? 'refused' : res.status}`);
      expect(json).toEqual({ error: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
      expect(await rows()).toEqual(before);
    }
    expect(answers).toEqual(crossTreeCalls().map(([method, path]) => `${method} ${path} → refused`));
    const denied = await gh.runtime.repos.audit.list({ action: 'authz.denied', limit: 500 });
    expect(denied.length).toBeGreaterThan(0);
  });

  it('shows an outside caller nothing of the distributor’s tree on the routes without a target', async () => {
    for (const who of ['otherTree', 'sibling', 'subReseller']) {
      const listed = (await (await api(tokens[who], 'GET', '/tenants')).json()) as { items: { id: string }[] };
      expect(listed.items.map((t) => t.id)).not.toContain(dist.id);
      expect(listed.items.map((t) => t.id)).not.toContain(distOrg.id);
      const clientsSeen = (await (await api(tokens[who], 'GET', '/clients')).json()) as { items: { client_id: string }[] };
      expect(clientsSeen.items.map((c) => c.client_id)).not.toContain(distClientId);
      const events = (await (await api(tokens[who], 'GET', '/audit-events?limit=200')).json()) as { items: { tenant_id: string | null }[] };
      expect(events.items.filter((e) => e.tenant_id === dist.id || e.tenant_id === distOrg.id)).toEqual([]);
    }
  });

  it('lets the distributor’s own service client do the same calls (so the refusals above are about scope, not broken routes)', async () => {
    const listed = await api(tokens.dist, 'GET', `/tenants/${distOrg.slug}/users?mfa=active`);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: { id: string; mfa_status: string }[] }).items).toContainEqual(expect.objectContaining({ id: user.id, mfa_status: 'active' }));
    expect((await api(tokens.dist, 'GET', `/users/${user.id}`)).status).toBe(200);
    expect((await api(tokens.dist, 'PUT', `/users/${user.id}/role`, { role: 'support' })).status).toBe(200);
    expect((await gh.runtime.repos.accounts.findById(user.id))?.role).toBe('support');
    expect((await api(tokens.dist, 'PUT', `/users/${user.id}/status`, { status: 'disabled' })).status).toBe(200);
    expect((await gh.runtime.repos.accounts.findById(user.id))?.status).toBe('disabled');
    expect((await api(tokens.dist, 'PUT', `/users/${user.id}/status`, { status: 'active' })).status).toBe(200);
    expect(await (await api(tokens.dist, 'DELETE', `/users/${user.id}/sessions`)).json()).toEqual({ sessions_ended: 0 });
    const reset = await api(tokens.dist, 'POST', `/users/${user.id}/mfa/reset`);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ user: { id: user.id, mfa_status: 'inactive' }, authenticators_removed: 1, recovery_codes_removed: 0, setup_required_at_next_sign_in: false });
    expect(await gh.runtime.repos.authenticators.countForAccount(user.id)).toBe(0);
    expect((await gh.runtime.repos.audit.list({ action: 'mfa.reset_by_admin', target: user.id, limit: 5 }))[0]?.actor).toMatch(/^client:gh_/);
    expect((await api(tokens.dist, 'GET', `/tenants/${dist.slug}/policy`)).status).toBe(200);
    expect((await api(tokens.dist, 'GET', `/clients/${distClientId}`)).status).toBe(200);
    const audit = (await (await api(tokens.dist, 'GET', `/audit-events?tenant=${distOrg.id}&action=account.role.changed`)).json()) as { items: { actor: string; target: string }[] };
    expect(audit.items[0]).toMatchObject({ actor: expect.stringMatching(/^client:gh_/), target: user.id });
    const csv = await api(tokens.dist, 'GET', `/audit-events.csv?tenant=${distOrg.slug}`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\r\n')[0]).toBe('id,at,action,actor,tenant_id,target,ip,user_agent,request_id,detail');
    // a tenant-bound service acts as an admin: it never promotes above admin, and manages no clients
    expect((await api(tokens.dist, 'PUT', `/users/${user.id}/role`, { role: 'owner' })).status).toBe(403);
    expect((await api(tokens.dist, 'POST', `/clients/${distClientId}/disable`)).status).toBe(403);
    expect((await gh.runtime.repos.clients.find(distClientId))?.disabled).toBe(false);
  });

  it('never lets support change the policy (console token of a signed-in support user)', async () => {
    const before = await rows();
    const seen = await api(tokens.support, 'GET', `/tenants/${dist.slug}/policy`);
    expect(seen.status).toBe(200);
    const res = await api(tokens.support, 'PATCH', `/tenants/${dist.slug}/policy`, { enforce_mfa_partner_users: true });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('support may not change the MFA policy');
    expect((await api(tokens.support, 'PUT', `/users/${user.id}/status`, { status: 'disabled' })).status).toBe(403);
    const reset = await api(tokens.support, 'POST', `/users/${owner.id}/mfa/reset`);
    expect(reset.status).toBe(403);
    expect(((await reset.json()) as { message: string }).message).toContain('support may not reset MFA');
    expect(await rows()).toEqual(before);
  });

  it('never lets an admin reset the MFA of a higher-ranked owner', async () => {
    const before = await rows();
    const res = await api(tokens.dist, 'POST', `/users/${owner.id}/mfa/reset`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('admin may not reset MFA of a higher-ranked owner');
    expect(await gh.runtime.repos.authenticators.countForAccount(owner.id)).toBe(1);
    expect(await rows()).toEqual(before);
  });

  it('answers 403 insufficient_scope to a service token without the route’s scope, and never widens a client’s registered scopes', async () => {
    const before = await rows();
    const res = await api(tokens.readOnly, 'PATCH', `/tenants/${dist.slug}/policy`, { enforce_mfa_partner_users: true });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(((await res.json()) as { error: string }).error).toBe('insufficient_scope');
    expect((await api(tokens.readOnly, 'PUT', `/users/${user.id}/role`, { role: 'admin' })).status).toBe(403);
    expect((await api(tokens.readOnly, 'GET', '/audit-events')).status).toBe(403);
    expect((await api(tokens.readOnly, 'POST', `/users/${owner.id}/mfa/reset`)).status).toBe(403);
    expect((await api(tokens.readOnly, 'GET', `/tenants/${distOrg.slug}/users`)).status).toBe(200);
    const me = (await (await api(tokens.readOnly, 'GET', '/me')).json()) as { scopes: string[] };
    expect(me.scopes).toEqual(['users:read']);
    expect(await rows()).toEqual(before);
    // a client asking for a scope it was not registered for gets no token at all
    const overAsking = await requestServiceToken(dist.id, 'users:read', 'users:read policy:write');
    expect(overAsking.status).toBe(400);
    expect(await overAsking.json()).toMatchObject({ error: 'invalid_scope', scope: 'policy:write' });
  });

  it('answers 401 with a Bearer challenge without a valid token', async () => {
    for (const token of [undefined, 'not-a-jwt', `${tokens.dist?.slice(0, -4)}AAAA`]) {
      const res = await api(token, 'GET', '/me');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="gatehouse-api"/);
      expect(await res.json()).toMatchObject({ error: 'invalid_token', request_id: expect.any(String) });
    }
  });

  it.each<[string, string, string, unknown, RegExp]>([
    ['an unknown field', 'PATCH', 'policy', { enforce_mfa_everything: true }, /unknown field\(s\): enforce_mfa_everything/],
    ['an empty change', 'PATCH', 'policy', {}, /give at least one of/],
    ['a grace period over 30 days', 'PATCH', 'policy', { grace_days: 31 }, /grace_days/],
    ['a switch that is not a boolean', 'PATCH', 'policy', { enforce_mfa_organizations: 'yes' }, /enforce_mfa_organizations/],
    ['an unknown role', 'PUT', 'role', { role: 'emperor' }, /role/],
    ['a status that does not exist', 'PUT', 'status', { status: 'paused' }, /status/],
    ['a redirect URI with a fragment', 'POST', 'clients', { name: 'Bad', redirect_uris: ['https://app.test/cb#x'] }, /fragment/],
    ['an http redirect URI off localhost', 'POST', 'clients', { name: 'Bad', redirect_uris: ['http://app.test/cb'] }, /https/],
    ['a tenant of an unknown kind', 'POST', 'tenants', { kind: 'galaxy', name: 'X' }, /kind/],
  ])('answers 400 with a clear message to %s, changing nothing', async (_case, method, what, body, message) => {
    const platformService = await serviceToken((await gh.runtime.repos.tenants.getPlatform())!.id, ALL_SCOPES);
    const path = what === 'policy' ? `/tenants/${dist.slug}/policy` : what === 'role' ? `/users/${user.id}/role` : what === 'status' ? `/users/${user.id}/status` : `/${what}`;
    const token = what === 'clients' ? platformService : tokens.dist;
    const before = await rows();
    const res = await api(token, method, path, body);
    const json = (await res.json()) as { error: string; message: string };
    expect([res.status, json.error]).toEqual([400, expect.stringMatching(/invalid/)]);
    expect(json.message).toMatch(message);
    expect(await rows()).toEqual({ ...before, clients: expect.any(Array) });
    expect((await rows()).accounts).toEqual(before.accounts);
    expect((await rows()).tenants).toEqual(before.tenants);
  });

  it('answers a body that is not JSON with 415, and unknown routes and methods with JSON errors', async () => {
    const res = await fetch(`${gh.issuer}/api/v1/tenants/${dist.slug}/policy`, { method: 'PATCH', headers: { authorization: `Bearer ${tokens.dist}`, 'content-type': 'text/plain' }, body: 'enforce=yes' });
    expect(res.status).toBe(415);
    expect((await api(tokens.dist, 'GET', '/nothing-here')).status).toBe(404);
    const wrong = await api(tokens.dist, 'POST', `/users/${user.id}`);
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toMatchObject({ error: 'method_not_allowed' });
  });

  it('deletes idempotently: a client already gone answers 204 again', async () => {
    const platformService = await serviceToken((await gh.runtime.repos.tenants.getPlatform())!.id, ALL_SCOPES);
    const created = (await (await api(platformService, 'POST', '/clients', { name: 'Short-lived', redirect_uris: ['https://short.test/cb'] })).json()) as { client: { client_id: string }; client_secret: string };
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await api(platformService, 'DELETE', `/clients/${created.client.client_id}`)).status).toBe(204);
    expect(await gh.runtime.repos.clients.find(created.client.client_id)).toBeUndefined();
    expect((await api(platformService, 'DELETE', `/clients/${created.client.client_id}`)).status).toBe(204);
    expect((await gh.runtime.repos.audit.list({ action: 'client.deleted', target: created.client.client_id, limit: 5 })).length).toBe(1);
  });

  it('serves the OpenAPI document and its reference page', async () => {
    const doc = (await (await fetch(`${gh.issuer}/api/v1/openapi.json`)).json()) as { openapi: string; servers: { url: string }[] };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]?.url).toBe(`${gh.issuer}/api/v1`);
    const page = await fetch(`${gh.issuer}/api/v1/reference`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('PATCH /tenants/{tenant}/policy');
  });
});
