// SCIM 2.0 provisioning (issue 14; RFC 7643/7644): a scripted SCIM client — plain fetch over HTTP —
// creates, reads, filters, pages, patches, replaces, deactivates and deletes users of its tenant and
// moves them between the role groups; every response body is validated against the RFC 7643 User /
// Group and RFC 7644 ListResponse / Error schemas (test/fixtures/scim). Deactivation ends a session
// that existed. Another tenant's token finds nothing and changes nothing; a token without the `scim`
// scope gets 403, none at all 401 with WWW-Authenticate (RFC 6750 §3).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { Ajv, type ValidateFunction } from 'ajv';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { REDIRECT_URI, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { isPasswordPage } from '../../helpers/mfa.ts';
import { accounts, mailQueue } from '../../../src/store/schema.ts';
import { commands } from '../../../src/cli/commands.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/scim');
const schemaFile = (name: string) => JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.schema.json`), 'utf8')) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addSchema(schemaFile('common'));
const validators: Record<'user' | 'group' | 'list' | 'error', ValidateFunction> = {
  user: ajv.compile(schemaFile('user')),
  group: ajv.compile(schemaFile('group')),
  list: ajv.compile(schemaFile('list-response')),
  error: ajv.compile(schemaFile('error')),
};

type Json = Record<string, unknown> & { Resources?: Json[] };

/** The body, after checking it against the schema of what this response must be. */
function valid(kind: 'user' | 'group' | 'list' | 'error', body: Json, item?: 'user' | 'group'): Json {
  const validate = validators[kind];
  if (!validate(body)) throw new Error(`not a valid SCIM ${kind}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body, null, 2)}`);
  if (kind === 'list' && item) for (const resource of body.Resources ?? []) valid(item, resource);
  return body;
}

describe(`SCIM 2.0 provisioning (${backendName()})`, () => {
  let gh: TestGatehouse;
  let tenantA: { id: string; slug: string };
  let tenantB: { id: string; slug: string };
  let rp: oidc.Configuration;
  const tokens: Record<'a' | 'b' | 'aNoScim', string> = { a: '', b: '', aNoScim: '' };

  /** A service client bound to the tenant, registered as `gatehouse client create … --scope S` does, and its token. */
  async function serviceToken(tenantId: string, scope: string) {
    const registered = (await commands['client create']!.run(gh.runtime, { name: `SCIM ${uniq()}`, grant: ['client_credentials'], tenant: tenantId, scope })) as { client_id: string; client_secret?: string };
    const basic = Buffer.from(`${registered.client_id}:${registered.client_secret ?? ''}`).toString('base64');
    const res = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    const json = (await res.json()) as { access_token?: string };
    if (!json.access_token) throw new Error(`no token: ${res.status} ${JSON.stringify(json)}`);
    return json.access_token;
  }

  /** One SCIM request; the response's content type is checked on every body. */
  async function scim(token: string | undefined, method: string, path: string, body?: unknown) {
    const res = await fetch(`${gh.issuer}/scim/v2${path}`, {
      method,
      headers: { accept: 'application/scim+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (text) expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Json };
  }

  const accountRows = async () => gh.runtime.database.db.select().from(accounts).orderBy(asc(accounts.id));

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenantA = await seedTenant(gh.runtime, 'organization', `Acme ${uniq()}`);
    tenantB = await seedTenant(gh.runtime, 'organization', `Globex ${uniq()}`);
    rp = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    tokens.a = await serviceToken(tenantA.id, 'scim');
    tokens.b = await serviceToken(tenantB.id, 'scim');
    tokens.aNoScim = await serviceToken(tenantA.id, 'users:read users:write');
  });
  afterAll(async () => {
    await gh.stop();
  });

  it('runs create → get → filter → page → patch → replace → deactivate (ending a live session) → groups → delete, every body a valid SCIM resource', async () => {
    const email = `ann-${uniq()}@example.com`;
    const mailBefore = (await gh.runtime.database.db.select().from(mailQueue)).length;

    // create
    const created = await scim(tokens.a, 'POST', '/Users', {
      schemas: [USER],
      userName: email,
      externalId: 'okta-00u1',
      name: { givenName: 'Ann', familyName: 'Lee' },
      emails: [{ value: email, type: 'work', primary: true }],
      roles: [{ value: 'support' }],
    });
    expect(created.status).toBe(201);
    const ann = valid('user', created.body);
    expect(ann).toMatchObject({ userName: email, externalId: 'okta-00u1', displayName: 'Ann Lee', active: true, roles: [{ value: 'support', primary: true }] });
    const annId = String(ann.id);
    expect(created.headers.get('location')).toBe(`${gh.issuer}/scim/v2/Users/${annId}`);
    expect((ann.meta as Json).location).toBe(created.headers.get('location'));
    expect(created.headers.get('etag')).toBe((ann.meta as Json).version);
    const [row] = await gh.runtime.database.db.select().from(accounts).where(eq(accounts.id, annId));
    expect(row).toMatchObject({ tenantId: tenantA.id, source: 'scim', externalId: 'okta-00u1', passwordHash: null, role: 'support', name: 'Ann Lee' });
    expect((await gh.runtime.database.db.select().from(mailQueue)).length).toBe(mailBefore); // provisioning mails nobody, like a bulk import

    const again = await scim(tokens.a, 'POST', '/Users', { schemas: [USER], userName: email.toUpperCase() });
    expect(again.status).toBe(409);
    expect(valid('error', again.body)).toMatchObject({ status: '409', scimType: 'uniqueness' });

    // get
    const got = await scim(tokens.a, 'GET', `/Users/${annId}`);
    expect(got.status).toBe(200);
    expect(valid('user', got.body)).toEqual(ann);

    // filter (userName without letter case; externalId exactly)
    const byName = await scim(tokens.a, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${email.toUpperCase()}"`)}`);
    expect(byName.status).toBe(200);
    expect(valid('list', byName.body, 'user')).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id: annId }] });
    const byExternal = await scim(tokens.a, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "okta-00u1"')}`);
    expect(valid('list', byExternal.body, 'user')).toMatchObject({ totalResults: 1, Resources: [{ id: annId }] });
    const wrongCase = await scim(tokens.a, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "OKTA-00U1"')}`);
    expect(valid('list', wrongCase.body, 'user')).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });

    // pagination over the tenant's users (creation order)
    for (const n of [2, 3]) expect((await scim(tokens.a, 'POST', '/Users', { schemas: [USER], userName: `user${n}-${uniq()}@example.com` })).status).toBe(201);
    const all = valid('list', (await scim(tokens.a, 'GET', '/Users')).body, 'user');
    expect(all.totalResults).toBe(3);
    const second = valid('list', (await scim(tokens.a, 'GET', '/Users?startIndex=2&count=1')).body, 'user');
    expect(second).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(second.Resources?.[0]?.id).toBe(all.Resources?.[1]?.id);
    expect(valid('list', (await scim(tokens.a, 'GET', '/Users?count=0')).body)).toMatchObject({ totalResults: 3, itemsPerPage: 0 });

    // patch: name and role
    const patched = await scim(tokens.a, 'PATCH', `/Users/${annId}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Ann B. Lee' },
        { op: 'replace', path: 'roles', value: [{ value: 'admin', primary: true }] },
      ],
    });
    expect(patched.status).toBe(200);
    expect(valid('user', patched.body)).toMatchObject({ displayName: 'Ann B. Lee', roles: [{ value: 'admin' }], groups: [{ value: 'admin' }] });
    expect((patched.body.meta as Json).version).not.toBe((ann.meta as Json).version);

    // replace: a new email address; roles left out keeps the role
    const newEmail = `ann.lee-${uniq()}@example.com`;
    await gh.runtime.database.db.update(accounts).set({ emailVerified: true }).where(eq(accounts.id, annId));
    const replaced = await scim(tokens.a, 'PUT', `/Users/${annId}`, { schemas: [USER], userName: newEmail, displayName: 'Ann Lee', externalId: 'okta-00u1' });
    expect(replaced.status).toBe(200);
    expect(valid('user', replaced.body)).toMatchObject({ userName: newEmail, displayName: 'Ann Lee', roles: [{ value: 'admin' }], active: true });
    const [renamedRow] = await gh.runtime.database.db.select().from(accounts).where(eq(accounts.id, annId));
    expect(renamedRow?.emailVerified).toBe(false); // email_verified in ID tokens stops vouching for an address nobody verified

    // deactivate a user with a live SSO session: the session ends
    const bob = await seedAccount(gh.runtime, tenantA.id);
    const { agent } = await passwordSignIn(rp, bob.email);
    const sso = await agent.get((await startAuthorization(rp)).url.href, REDIRECT_URI);
    expect(sso.url.startsWith(REDIRECT_URI)).toBe(true); // signed in: the next authorization needs no password
    const deactivated = await scim(tokens.a, 'PATCH', `/Users/${bob.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(deactivated.status).toBe(200);
    expect(valid('user', deactivated.body)).toMatchObject({ id: bob.id, active: false });
    const ended = await gh.runtime.repos.audit.list({ target: bob.id, action: 'account.sessions.ended', limit: 5 });
    expect(ended[0]?.detail).toMatchObject({ sessions: 1, reason: 'deactivated' });
    expect(isPasswordPage(await agent.get((await startAuthorization(rp)).url.href, REDIRECT_URI))).toBe(true);
    const inactive = await scim(tokens.a, 'GET', `/Users?filter=${encodeURIComponent('active eq false')}`);
    expect(valid('list', inactive.body, 'user')).toMatchObject({ totalResults: 1, Resources: [{ id: bob.id }] });

    // groups are the roles; membership changes the role
    const groups = await scim(tokens.a, 'GET', '/Groups');
    expect(valid('list', groups.body, 'group')).toMatchObject({ totalResults: 5 });
    expect(groups.body.Resources?.map((g) => g.id)).toEqual(['owner', 'super_admin', 'admin', 'support', 'user']);
    const admins = await scim(tokens.a, 'GET', '/Groups/admin');
    expect(valid('group', admins.body)).toMatchObject({ displayName: 'Admin', members: [{ value: annId, display: newEmail }] });
    const byDisplay = await scim(tokens.a, 'GET', `/Groups?filter=${encodeURIComponent('displayName eq "Support"')}`);
    expect(valid('list', byDisplay.body, 'group')).toMatchObject({ totalResults: 1, Resources: [{ id: 'support' }] });
    const moved = await scim(tokens.a, 'PATCH', '/Groups/support', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: annId }] }] });
    expect(valid('group', moved.body).members).toEqual([expect.objectContaining({ value: annId })]);
    expect(valid('user', (await scim(tokens.a, 'GET', `/Users/${annId}`)).body)).toMatchObject({ roles: [{ value: 'support' }] });
    const removed = await scim(tokens.a, 'PATCH', '/Groups/support', { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${annId}"]` }] });
    expect(valid('group', removed.body).members).toEqual([]);
    expect((await gh.runtime.repos.accounts.findById(annId))?.role).toBe('user');

    // delete
    const deleted = await scim(tokens.a, 'DELETE', `/Users/${annId}`);
    expect(deleted.status).toBe(204);
    const gone = await scim(tokens.a, 'GET', `/Users/${annId}`);
    expect(gone.status).toBe(404);
    expect(valid('error', gone.body)).toMatchObject({ status: '404' });
    expect(await gh.runtime.database.db.select().from(accounts).where(eq(accounts.id, annId))).toEqual([]);
    const audit = (await gh.runtime.repos.audit.list({ target: annId, limit: 20 })).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['account.provisioned', 'account.updated', 'account.role.changed', 'account.deleted']));
  });

  it('serves the discovery resources: ServiceProviderConfig, ResourceTypes, Schemas', async () => {
    const spc = await scim(tokens.a, 'GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, bulk: { supported: false }, authenticationSchemes: [{ type: 'oauthbearertoken' }] });
    const types = await scim(tokens.a, 'GET', '/ResourceTypes');
    expect(valid('list', types.body).Resources?.map((t) => t.id)).toEqual(['User', 'Group']);
    const schemas = await scim(tokens.a, 'GET', '/Schemas');
    expect(valid('list', schemas.body).Resources?.map((s) => s.id)).toEqual([USER, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
    const userSchema = await scim(tokens.a, 'GET', `/Schemas/${USER}`);
    expect((userSchema.body.attributes as Json[]).map((a) => a.name)).toEqual(expect.arrayContaining(['userName', 'name', 'active', 'roles']));
    expect(valid('error', (await scim(tokens.a, 'GET', '/ResourceTypes/Printer')).body)).toMatchObject({ status: '404' });
  });

  it('shows another tenant nothing: every call on a user of tenant A with tenant B’s token is 404 and no row changes', async () => {
    const victim = await seedAccount(gh.runtime, tenantA.id, { role: 'user' });
    const before = await accountRows();
    const calls: [string, string, unknown?][] = [
      ['GET', `/Users/${victim.id}`],
      ['PUT', `/Users/${victim.id}`, { schemas: [USER], userName: `taken-${uniq()}@example.com`, active: false }],
      ['PATCH', `/Users/${victim.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }],
      ['DELETE', `/Users/${victim.id}`],
    ];
    for (const [method, path, body] of calls) {
      const res = await scim(tokens.b, method, path, body);
      expect([method, res.status]).toEqual([method, 404]);
      expect(valid('error', res.body)).toMatchObject({ status: '404' });
    }
    const filtered = await scim(tokens.b, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${victim.email}"`)}`);
    expect(valid('list', filtered.body, 'user')).toMatchObject({ totalResults: 0 });
    const adding = await scim(tokens.b, 'PATCH', '/Groups/admin', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: victim.id }] }] });
    expect(adding.status).toBe(400);
    expect(valid('error', adding.body)).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(await accountRows()).toEqual(before);
    // and tenant A's own token still sees the user, unchanged
    expect(valid('user', (await scim(tokens.a, 'GET', `/Users/${victim.id}`)).body)).toMatchObject({ active: true, roles: [{ value: 'user' }] });
  });

  it('answers 401 with WWW-Authenticate without a token or with a bad one, and 403 without the scim scope', async () => {
    const before = await accountRows();
    const none = await scim(undefined, 'GET', '/Users');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse-scim"');
    expect(valid('error', none.body)).toMatchObject({ status: '401' });

    const bad = await scim('not-a-token', 'GET', '/Users');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer realm="gatehouse-scim", error="invalid_token"/);
    valid('error', bad.body);

    const noScope = await scim(tokens.aNoScim, 'POST', '/Users', { schemas: [USER], userName: `nope-${uniq()}@example.com` });
    expect(noScope.status).toBe(403);
    expect(noScope.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="scim"');
    expect(valid('error', noScope.body)).toMatchObject({ status: '403' });
    expect(await accountRows()).toEqual(before);
  });

  it.each<[string, string, string, unknown, number, string | undefined]>([
    ['a filter that does not parse', 'GET', `/Users?filter=${encodeURIComponent('userName eq')}`, undefined, 400, 'invalidFilter'],
    ['a filter on an attribute not kept', 'GET', `/Users?filter=${encodeURIComponent('title eq "CEO"')}`, undefined, 400, 'invalidFilter'],
    ['a count that is not a number', 'GET', '/Users?count=ten', undefined, 400, 'invalidValue'],
    ['a body that is not JSON', 'POST', '/Users', '{"schemas": [', 400, 'invalidSyntax'],
    ['a User without the User schema', 'POST', '/Users', { userName: 'x@example.com' }, 400, 'invalidSyntax'],
    ['a userName that is not an email', 'POST', '/Users', { schemas: [USER], userName: 'bjensen' }, 400, 'invalidValue'],
    ['a password', 'POST', '/Users', { schemas: [USER], userName: 'pw@example.com', password: 'hunter2' }, 400, 'invalidValue'],
    ['an unknown role', 'POST', '/Users', { schemas: [USER], userName: 'r@example.com', roles: [{ value: 'root' }] }, 400, 'invalidValue'],
    ['a PATCH of a user that does not exist', 'PATCH', '/Users/00000000-0000-0000-0000-000000000000', { schemas: [PATCH], Operations: [{ op: 'replace', path: 'emails', value: [] }] }, 404, undefined],
    ['an id that is no uuid', 'GET', '/Users/not-a-uuid', undefined, 404, undefined],
    ['a group that is no role', 'GET', '/Groups/wheel', undefined, 404, undefined],
    ['a method the endpoint lacks', 'DELETE', '/Groups/admin', undefined, 405, undefined],
    ['an endpoint that does not exist', 'GET', '/Printers', undefined, 404, undefined],
  ])('refuses %s with a SCIM error (%s %s)', async (_name, method, path, body, status, scimType) => {
    const before = await accountRows();
    const res = await scim(tokens.a, method, path, body);
    expect(res.status).toBe(status);
    expect(valid('error', res.body)).toMatchObject({ status: String(status), ...(scimType ? { scimType } : {}) });
    expect(await accountRows()).toEqual(before);
  });

  it('refuses a PATCH of a read-only attribute with mutability', async () => {
    const created = valid('user', (await scim(tokens.a, 'POST', '/Users', { schemas: [USER], userName: `ro-${uniq()}@example.com` })).body);
    const res = await scim(tokens.a, 'PATCH', `/Users/${String(created.id)}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'x@example.com' }] });
    expect(res.status).toBe(400);
    expect(valid('error', res.body)).toMatchObject({ status: '400', scimType: 'mutability' });
  });
});
