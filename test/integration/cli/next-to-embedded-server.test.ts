// The `gatehouse` command next to a running server process on the embedded default: the CLI works on
// the server's DATA_DIR while it runs, a second server on the same DATA_DIR refuses to start, and the
// data is intact after the server stops. This always uses an embedded DATA_DIR of its own (whatever
// the run's storage mode), so it runs once (jest.config.js).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { passwordSignIn, rpConfig, uniq } from '../../helpers/seed.ts';
import { cliJson, startGatehouseProcess, spawnGatehouse, tempDataDir, type GatehouseProcess, type ProcessEnv } from '../../helpers/processes.ts';
import { freePort } from '../../helpers/gatehouse.ts';

jest.setTimeout(120_000);

describe('gatehouse CLI next to a running server on the embedded default (PGlite in DATA_DIR)', () => {
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;
  let env: ProcessEnv;
  let server: GatehouseProcess | undefined;

  beforeAll(async () => {
    dataDir = await tempDataDir({ migrated: true });
    // always the embedded database: no DATABASE_URL / REDIS_URL, whatever the test run uses
    env = { DATA_DIR: dataDir.dir, GATEHOUSE_SECRET_KEY: generateSecretKey(), LOGIN_MAX_PER_IP: '100000' };
    server = await startGatehouseProcess(env);
  });
  afterAll(async () => {
    await server?.stop();
    dataDir.remove();
  });

  it('registers a tenant, user and client through the CLI while the server runs, and the server uses them at once', async () => {
    const tenant = await cliJson<{ slug: string }>(['tenant', 'create', '--kind', 'distributor', '--name', `Live ${uniq()}`], env);
    const email = `live-${uniq()}@example.com`;
    await cliJson(['user', 'create', '--tenant', tenant.slug, '--email', email, '--password', 'correct horse battery', '--name', 'Liv'], env);
    const client = await cliJson<{ client_id: string; client_secret: string }>(
      ['client', 'create', '--name', 'Live app', '--redirect-uri', 'http://127.0.0.1:9/callback', '--grant', 'authorization_code', '--grant', 'refresh_token', '--grant', 'client_credentials', '--first-party'],
      env,
    );
    const issuer = server?.url ?? '';
    const config = await rpConfig(issuer, { clientId: client.client_id, clientSecret: client.client_secret });
    const { tokens } = await passwordSignIn(config, email);
    expect(tokens.claims()).toMatchObject({ email, name: 'Liv', amr: ['pwd'] });
    expect((await oidc.clientCredentialsGrant(config, {})).access_token).toEqual(expect.any(String));
    // the server's readiness is unaffected by the CLI's visits
    expect((await fetch(`${issuer}/readyz`)).status).toBe(200);
  });

  it('runs one command after another on the same account while the server runs (each reads it by id)', async () => {
    const tenant = await cliJson<{ slug: string }>(['tenant', 'create', '--kind', 'distributor', '--name', `Repeat ${uniq()}`], env);
    const email = `repeat-${uniq()}@example.com`;
    await cliJson(['user', 'create', '--tenant', tenant.slug, '--email', email, '--password', 'correct horse battery'], env);
    for (const [command, status] of [['disable', 'disabled'], ['enable', 'active'], ['disable', 'disabled']] as const) {
      expect(await cliJson<{ status: string }>(['user', command, '--tenant', tenant.slug, '--email', email], env)).toMatchObject({ status });
    }
  });

  it('refuses to start a second server on the same DATA_DIR, saying why (exit 1)', async () => {
    const second = spawnGatehouse(env, await freePort());
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([second.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 60_000)))]);
    clearTimeout(timer);
    if (exit === 'timeout') await second.stop();
    expect(exit).toEqual({ code: 1, signal: null });
    expect(second.stderr()).toContain('Gatehouse cannot start:');
    expect(second.stderr()).toContain(`The embedded database in ${dataDir.dir} is in use by process ${server?.child.pid} (a running Gatehouse server)`);
    // the first server is still healthy
    expect((await fetch(`${server?.url}/healthz`)).status).toBe(200);
  });

  it('still works on the directory after the server stopped, with the data intact', async () => {
    const exit = await server?.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    server = undefined;
    const clients = await cliJson<{ name: string }[]>(['client', 'list'], env);
    expect(clients.map((c) => c.name)).toContain('Live app');
  });
});
