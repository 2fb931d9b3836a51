// Faults under load: two Gatehouse instances share a PostgreSQL and a Redis (append-only, fsync on
// every write) that this test starts for itself, while virtual users sign in and refresh tokens in a
// loop. Redis restarts, then PostgreSQL. During each outage every answer is a 200-series/redirect or a
// 503 with Retry-After (never a 500, never a request hanging past REQUEST_TIMEOUT_MS), /readyz names the
// store that is down and recovers, and afterwards every session, refresh token and lockout counter
// written before the restarts still works. It starts its own servers, so it runs alike in both modes.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { startGatehouse, type RunningGatehouse } from '../../../src/server.ts';
import { freePort } from '../../helpers/ports.ts';
import { importAuthenticator, isVerifyPage, type Authenticator } from '../../helpers/mfa.ts';
import { startScratchPostgres, type ScratchPostgres } from '../../helpers/postgres-server.ts';
import { startDurableRedis, type RestartableRedis } from '../../helpers/redis-servers.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { TEST_SETTINGS } from '../../helpers/settings.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';

jest.setTimeout(180_000);

/** No request may take longer: the database's connect (5 s) and query (10 s) bounds fit well inside. */
const REQUEST_TIMEOUT_MS = 20_000;
const OUTAGE_MS = 2_000;

interface Counts {
  requests: number;
  ok: number;
  unavailable: number;
  unavailableWithoutRetryAfter: number;
  serverErrors: number;
  otherClientErrors: number;
  hangs: number;
  connectionErrors: number;
  lostState: number;
}

describe('PostgreSQL and Redis restarts under load, two instances', () => {
  let postgres: ScratchPostgres;
  let redis: RestartableRedis;
  const instances: RunningGatehouse[] = [];
  const dataDirs: string[] = [];
  const counts: Counts = { requests: 0, ok: 0, unavailable: 0, unavailableWithoutRetryAfter: 0, serverErrors: 0, otherClientErrors: 0, hangs: 0, connectionErrors: 0, lostState: 0 };
  const others: string[] = [];

  const record = (status: number, retryAfter: string | null | undefined, what: string) => {
    counts.requests++;
    if (status === 503) {
      counts.unavailable++;
      if (!retryAfter) counts.unavailableWithoutRetryAfter++;
    } else if (status >= 500) {
      counts.serverErrors++;
      others.push(`${status} ${what}`);
    } else if (status >= 400) {
      counts.otherClientErrors++;
      others.push(`${status} ${what}`);
    } else counts.ok++;
  };
  /** Records a thrown request: a timeout is a hang, an HTTP error answer (openid-client) its status. */
  const recordThrown = (e: unknown, what: string) => {
    const err = e as { name?: string; status?: number; response?: Response; cause?: unknown };
    if (err.name === 'TimeoutError' || (err.cause as Error | undefined)?.name === 'TimeoutError') {
      counts.requests++;
      counts.hangs++;
    } else if (typeof err.status === 'number') record(err.status, err.response?.headers.get('retry-after'), what);
    // openid-client reports an answer that is no OAuth error (a 503 of ours) with the response as cause
    else if (err.cause instanceof Response) record(err.cause.status, err.cause.headers.get('retry-after'), what);
    else {
      counts.requests++;
      counts.connectionErrors++;
      others.push(`${String(err.name)} ${what}: ${String((e as Error).message)}`);
    }
  };
  const recordPage = (page: Page, what: string) => record(page.status >= 300 && page.status < 400 ? 200 : page.status, page.retryAfter, what);

  let client: { clientId: string; clientSecret?: string | undefined };
  const configs: oidc.Configuration[] = [];

  async function signIn(i: number, email: string, agent: UserAgent, app?: Authenticator, wrongFirst = false): Promise<oidc.TokenEndpointResponse | 'verify' | undefined> {
    const config = configs[i % 2] as oidc.Configuration;
    const start = await startAuthorization(config);
    let page = await agent.get(start.url.href, REDIRECT_URI);
    recordPage(page, 'authorize');
    if (page.status !== 200) return undefined;
    page = await agent.submit(page, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    recordPage(page, 'login');
    if (app && isVerifyPage(page)) {
      if (wrongFirst) {
        page = await agent.submit(page, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
        record(page.status === 401 ? 200 : page.status, page.retryAfter, 'wrong code');
        return 'verify';
      }
      page = await agent.submit(page, '/verify', { code: await app.nextCode() }, REDIRECT_URI);
      recordPage(page, 'verify');
    }
    if (!page.url.startsWith(REDIRECT_URI)) return undefined;
    const tokens = await finishAuthorization(config, start, page);
    record(200, null, 'code exchange');
    return tokens;
  }

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startScratchPostgres(), startDurableRedis()]);
    const secretKey = generateSecretKey();
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-faults-'));
      dataDirs.push(dataDir);
      const config = loadConfig({
        ...TEST_SETTINGS,
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        ISSUER: `http://127.0.0.1:${port}`,
        DATA_DIR: dataDir,
        GATEHOUSE_SECRET_KEY: secretKey,
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      });
      instances.push(await startGatehouse(config, createLogger(config), { issueSetupLink: false, redisPrefix: 'gh-faults:' }));
    }
    client = await seedClient((instances[0] as RunningGatehouse).runtime);
    for (const instance of instances) {
      const config = await rpConfig(instance.url, client);
      config[oidc.customFetch] = (url, options) => fetch(url, { ...options, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } as RequestInit);
      configs.push(config);
    }
  }, 120_000);

  afterAll(async () => {
    for (const instance of instances) await instance.close().catch(() => undefined);
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    await Promise.all([postgres?.stop(), redis?.stop()]);
  });

  it('answers 503 + Retry-After during each outage, reports it on /readyz, and loses nothing written before', async () => {
    const runtime = (instances[0] as RunningGatehouse).runtime;
    const tenant = await seedTenant(runtime);

    // state written before the restarts, on both instances
    const kept: { i: number; agent: UserAgent; refresh: string; locked: { email: string; app: Authenticator } }[] = [];
    for (let i = 0; i < 2; i++) {
      const account = await seedAccount(runtime, tenant.id);
      const app = await importAuthenticator(runtime, account);
      const agent = new UserAgent(REQUEST_TIMEOUT_MS);
      const tokens = await signIn(i, account.email, agent, app);
      if (tokens === undefined || tokens === 'verify') throw new Error('the sign-in before the restarts failed');
      const lockedAccount = await seedAccount(runtime, tenant.id);
      const lockedApp = await importAuthenticator(runtime, lockedAccount);
      expect(await signIn(i, lockedAccount.email, new UserAgent(REQUEST_TIMEOUT_MS), lockedApp, true)).toBe('verify');
      kept.push({ i, agent, refresh: tokens.refresh_token ?? '', locked: { email: lockedAccount.email, app: lockedApp } });
    }

    // traffic: four users, two per instance, signing in and refreshing in a loop
    let running = true;
    const users = await Promise.all([0, 1, 2, 3].map(async (i) => ({ i, email: (await seedAccount(runtime, tenant.id)).email })));
    const loops = users.map(async ({ i, email }) => {
      let refresh: string | undefined;
      while (running) {
        try {
          if (refresh === undefined) {
            const tokens = await signIn(i, email, new UserAgent(REQUEST_TIMEOUT_MS));
            if (tokens !== undefined && tokens !== 'verify') refresh = tokens.refresh_token;
          } else {
            const next = await oidc.refreshTokenGrant(configs[i % 2] as oidc.Configuration, refresh);
            record(200, null, 'refresh');
            refresh = next.refresh_token ?? refresh;
          }
        } catch (e) {
          recordThrown(e, refresh === undefined ? 'sign-in' : 'refresh');
          // a refresh that failed mid-outage may have rotated the token server-side: start a new chain
          refresh = undefined;
          await sleep(100);
        }
      }
    });

    // /readyz of both instances, polled throughout
    const readiness: { at: number; status: number; checks: Record<string, string> }[] = [];
    const poller = (async () => {
      while (running) {
        for (const instance of instances) {
          try {
            const res = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
            const body = (await res.json()) as { checks: Record<string, string> };
            readiness.push({ at: Date.now(), status: res.status, checks: body.checks });
          } catch {
            readiness.push({ at: Date.now(), status: 0, checks: {} });
          }
        }
        await sleep(200);
      }
    })();
    const readyAgain = async () => {
      const deadline = Date.now() + 40_000;
      for (;;) {
        const statuses = await Promise.all(instances.map((g) => fetch(`${g.url}/readyz`).then((r) => r.status, () => 0)));
        if (statuses.every((s) => s === 200)) return;
        if (Date.now() > deadline) throw new Error(`/readyz did not recover: ${statuses.join(', ')}`);
        await sleep(200);
      }
    };

    await sleep(2_000);
    const redisDown = Date.now();
    await redis.restart(OUTAGE_MS);
    await readyAgain();
    const redisBack = Date.now();
    await sleep(2_000);
    const pgDown = Date.now();
    await postgres.restart(OUTAGE_MS);
    await readyAgain();
    const pgBack = Date.now();
    await sleep(2_000);
    running = false;
    await Promise.all([...loops, poller]);

    // what was written before the restarts
    for (const { i, agent, refresh, locked } of kept) {
      const config = configs[i % 2] as oidc.Configuration;
      try {
        const start = await startAuthorization(config);
        const callback = await agent.get(start.url.href, REDIRECT_URI);
        await finishAuthorization(config, start, callback); // the session signed in earlier: no login page
      } catch {
        counts.lostState++;
      }
      await oidc.refreshTokenGrant(config, refresh).catch(() => counts.lostState++);
      const agentOfLocked = new UserAgent(REQUEST_TIMEOUT_MS);
      const start = await startAuthorization(config);
      const login = await agentOfLocked.get(start.url.href, REDIRECT_URI);
      const verify = await agentOfLocked.submit(login, '/login', { email: locked.email, password: PASSWORD }, REDIRECT_URI);
      const second = await agentOfLocked.submit(verify, '/verify', { code: locked.app.wrongCode() }, REDIRECT_URI);
      // one wrong code before the restarts, one now: 3 left
      if (!textOf(second.html).includes('3 attempts left before the account is locked')) counts.lostState++;
    }

    const during = (from: number, to: number) => readiness.filter((r) => r.at >= from && r.at <= to);
    const report = {
      ...counts,
      readyzDuringRedisOutage: during(redisDown, redisBack).filter((r) => r.status === 503 && r.checks.redis === 'failed').length,
      readyzDuringPostgresOutage: during(pgDown, pgBack).filter((r) => r.status === 503 && r.checks.database === 'failed').length,
      others: others.slice(0, 20),
    };
    process.stdout.write(`store restarts under load: ${JSON.stringify(report)}\n`);

    expect(counts.requests).toBeGreaterThan(50);
    expect(counts.unavailable).toBeGreaterThan(0);
    expect(counts.unavailableWithoutRetryAfter).toBe(0);
    expect(counts.serverErrors).toBe(0);
    expect(counts.hangs).toBe(0);
    expect(counts.connectionErrors).toBe(0);
    expect(counts.lostState).toBe(0);
    expect(report.readyzDuringRedisOutage).toBeGreaterThan(0);
    expect(report.readyzDuringPostgresOutage).toBeGreaterThan(0);
    const last = readiness.slice(-2);
    expect(last.map((r) => r.status)).toEqual([200, 200]);
  });
});
