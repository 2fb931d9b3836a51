// The `gatehouse` command run as a real process on the run's storage: JSON output for every command, a
// client secret shown once, key rotation states, and failures with exit 1 and a clear message. Usage
// errors (usage-errors.test.ts) and the CLI next to a running embedded server
// (next-to-embedded-server.test.ts) do not depend on the storage mode and have files of their own.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { backendName, testDatabaseUrl } from '../../helpers/db.ts';
import { testRedisUrl } from '../../helpers/redis.ts';
import { uniq } from '../../helpers/seed.ts';
import { cliJson, createScratchPostgresDatabase, runCliProcess, tempDataDir, type ProcessEnv, type ScratchDatabase } from '../../helpers/processes.ts';

jest.setTimeout(120_000);

// A valid 160-bit base32 secret (RFC 4648 alphabet) and one with characters outside it.
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

interface KeyRow {
  kid: string;
  alg: string;
  state: string;
  retire_after: string | null;
}

describe(`gatehouse CLI as a process (${backendName()})`, () => {
  let env: ProcessEnv;
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;
  let scratch: ScratchDatabase | undefined;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    scratch = testDatabaseUrl() ? await createScratchPostgresDatabase() : undefined;
    env = { DATA_DIR: dataDir.dir, GATEHOUSE_SECRET_KEY: generateSecretKey(), DATABASE_URL: scratch?.url, REDIS_URL: testRedisUrl() };
  });
  afterAll(async () => {
    await scratch?.drop();
    dataDir.remove();
  });

  it('migrates an empty database, and migrating again changes nothing', async () => {
    const first = await cliJson(['migrate'], env);
    expect(first).toMatchObject({ migrated: true, database: scratch ? 'postgres' : 'pglite' });
    const again = await runCliProcess(['migrate'], env);
    expect(again).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });
  });

  it('creates a distributor and an organization under it (parent by slug), answering id and slug', async () => {
    const name = `Northwind ${uniq()}`;
    const distributor = await cliJson<{ id: string; slug: string; kind: string; parent_id: string }>(['tenant', 'create', '--kind', 'distributor', '--name', name], env);
    expect(distributor).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), slug: expect.stringMatching(/^northwind-/), kind: 'distributor', name });
    const org = await cliJson<{ id: string; slug: string; parent_id: string }>(['tenant', 'create', '--kind', 'organization', '--name', 'Contoso Retail', '--parent', distributor.slug], env);
    expect(org).toMatchObject({ id: expect.any(String), slug: expect.stringMatching(/^contoso-retail/), kind: 'organization', parent_id: distributor.id });
    const list = await cliJson<{ id: string }[]>(['tenant', 'list'], env);
    expect(list.map((t) => t.id)).toEqual(expect.arrayContaining([distributor.id, org.id]));
  });

  it('fails with exit 1 and a clear message for an unknown parent or kind', async () => {
    const parent = await runCliProcess(['tenant', 'create', '--kind', 'organization', '--name', 'Orphan', '--parent', 'no-such-tenant'], env);
    expect(parent.code).toBe(1);
    expect(parent.stderr).toContain('No tenant with id or slug "no-such-tenant".');
    const kind = await runCliProcess(['tenant', 'create', '--kind', 'empire', '--name', 'X', '--json'], env);
    expect(kind.code).toBe(1);
    expect(JSON.parse(kind.stderr)).toMatchObject({ error: expect.any(String), error_description: expect.stringContaining('kind must be one of distributor, sub_reseller, organization') });
  });

  describe('users', () => {
    let tenantSlug: string;
    beforeAll(async () => {
      tenantSlug = (await cliJson<{ slug: string }>(['tenant', 'create', '--kind', 'distributor', '--name', `Users ${uniq()}`], env)).slug;
    });

    it('creates a user and answers its id', async () => {
      const email = `ann-${uniq()}@example.com`;
      const user = await cliJson(['user', 'create', '--tenant', tenantSlug, '--email', email, '--password', 'correct horse battery', '--role', 'admin', '--name', 'Ann'], env);
      expect(user).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email, role: 'admin', tenant: tenantSlug, mfa: 'inactive' });
    });

    it('imports a valid TOTP secret with the user', async () => {
      const user = await cliJson(['user', 'create', '--tenant', tenantSlug, '--email', `bo-${uniq()}@example.com`, '--password', 'correct horse battery', '--totp-secret', TOTP_SECRET], env);
      expect(user).toMatchObject({ mfa: 'active' });
    });

    it('refuses an invalid TOTP secret with exit 1 and a clear message, creating nothing', async () => {
      const email = `cy-${uniq()}@example.com`;
      const bad = await runCliProcess(['user', 'create', '--tenant', tenantSlug, '--email', email, '--password', 'correct horse battery', '--totp-secret', 'not-base32!'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('gatehouse: The setup key must contain only the letters A–Z and the digits 2–7.');
      expect(bad.stdout).toBe('');
      // the account was not created: the same email is still free
      expect(await cliJson(['user', 'create', '--tenant', tenantSlug, '--email', email, '--password', 'correct horse battery'], env)).toMatchObject({ email });
    });

    it('refuses a duplicate email in the same tenant and a short password with exit 1', async () => {
      const email = `dee-${uniq()}@example.com`;
      await cliJson(['user', 'create', '--tenant', tenantSlug, '--email', email, '--password', 'correct horse battery'], env);
      const duplicate = await runCliProcess(['user', 'create', '--tenant', tenantSlug, '--email', email, '--password', 'correct horse battery'], env);
      expect(duplicate.code).toBe(1);
      expect(duplicate.stderr).toMatch(/^gatehouse: .*(already|exists)/m);
      const short = await runCliProcess(['user', 'create', '--tenant', tenantSlug, '--email', `e-${uniq()}@example.com`, '--password', 'short'], env);
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/^gatehouse: .*8 characters/m);
    });
  });

  describe('clients', () => {
    it('shows a confidential client secret once, stores it only hashed, and never lists it', async () => {
      const created = await cliJson<{ client_id: string; client_secret: string }>(
        ['client', 'create', '--name', 'Billing', '--redirect-uri', 'https://billing.example/cb', '--redirect-uri', 'https://billing.example/cb2', '--grant', 'authorization_code', '--grant', 'refresh_token', '--first-party'],
        env,
      );
      expect(created.client_id).toEqual(expect.any(String));
      expect(created.client_secret.length).toBeGreaterThanOrEqual(43); // ≥ 256 random bits, base64url
      const listing = await runCliProcess(['client', 'list', '--json'], env);
      expect(listing.code).toBe(0);
      const clients = JSON.parse(listing.stdout) as Record<string, unknown>[];
      const listed = clients.find((c) => c.client_id === created.client_id);
      expect(listed).toMatchObject({ client_id: created.client_id, name: 'Billing', first_party: true });
      expect(listing.stdout).not.toContain(created.client_secret);
      for (const c of clients) expect(Object.keys(c).filter((k) => /secret/i.test(k) && c[k] !== undefined && c[k] !== null && c[k] !== false)).toEqual([]);
      const text = await runCliProcess(['client', 'list'], env);
      expect(text.stdout).toContain(created.client_id);
      expect(text.stdout).not.toContain(created.client_secret);
    });

    it('prints the secret with a warning in text mode, and no secret for a public client', async () => {
      const text = await runCliProcess(['client', 'create', '--name', 'Portal', '--redirect-uri', 'https://portal.example/cb'], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/client_id: +\S+\nclient_secret: \S{43,}\n\(the secret is shown only now; store it safely\)/);
      const publicClient = await cliJson<Record<string, unknown>>(['client', 'create', '--name', 'SPA', '--redirect-uri', 'https://spa.example/cb', '--public'], env);
      expect(publicClient.client_secret).toBeUndefined();
    });
  });

  describe('signing keys', () => {
    it('lists an active and a next key per algorithm, and a rotation activates the next key and retires the old one', async () => {
      const before = await cliJson<KeyRow[]>(['keys', 'list'], env);
      const published = (rows: KeyRow[], alg: string, state: string) => rows.filter((k) => k.alg === alg && k.state === state).map((k) => k.kid);
      for (const alg of ['ES256', 'RS256']) {
        expect(published(before, alg, 'active')).toHaveLength(1);
        expect(published(before, alg, 'next')).toHaveLength(1);
      }
      const rotatedAt = Date.now();
      const rotation = await cliJson<{ activated: string[]; retiring: { kid: string; retire_after: string }[]; published_next: string[] }>(['keys', 'rotate'], env);
      const after = await cliJson<KeyRow[]>(['keys', 'list'], env);
      for (const alg of ['ES256', 'RS256']) {
        const [oldActive] = published(before, alg, 'active');
        const [oldNext] = published(before, alg, 'next');
        // the key published in advance starts signing …
        expect(published(after, alg, 'active')).toEqual([oldNext]);
        expect(rotation.activated).toContain(oldNext);
        // … the old one stays published until tokens signed with it have expired …
        const retiring = after.find((k) => k.kid === oldActive);
        expect(retiring).toMatchObject({ state: 'retiring', retire_after: expect.any(String) });
        expect(new Date(retiring?.retire_after ?? 0).getTime()).toBeGreaterThan(rotatedAt);
        expect(rotation.retiring.map((r) => r.kid)).toContain(oldActive);
        // … and a new next key is published before it ever signs
        const [newNext] = published(after, alg, 'next');
        expect(newNext).toBeDefined();
        expect([oldActive, oldNext]).not.toContain(newNext);
        expect(rotation.published_next).toContain(newNext);
      }
    });
  });
});
