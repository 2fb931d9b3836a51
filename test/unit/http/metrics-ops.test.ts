import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { Router } from '@koa/router';
import { createMetrics } from '../../../src/http/metrics.ts';
import { createOpsRouter } from '../../../src/http/ops-routes.ts';
import { serve, type Served } from './_serve.ts';

describe('metrics and ops routes', () => {
  const metrics = createMetrics({ defaultMetrics: true });
  let dbUp = true;
  let s: Served;
  beforeAll(async () => {
    const app = new Koa();
    const pages = new Router();
    pages.get('/interaction/:uid/login', (ctx) => {
      ctx.body = 'page';
    });
    const ops = createOpsRouter({
      registry: metrics.registry,
      checkTimeoutMs: 200,
      checks: {
        database: async () => {
          if (!dbUp) throw new Error('connection refused');
        },
        redis: undefined,
        slow: () => sleep(10),
      },
    });
    app.use(metrics.middleware());
    app.use(ops.routes());
    app.use(pages.routes());
    app.use((ctx) => {
      if (ctx.path.startsWith('/token')) ctx.body = { access_token: 'x' };
    });
    s = await serve(app);
  });
  afterAll(() => s.close());

  it('GET /healthz answers ok', async () => {
    const res = await s.fetch('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz reports each check, 200 when all pass', async () => {
    dbUp = true;
    const res = await s.fetch('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { database: 'ok', slow: 'ok' } });
  });

  it('GET /readyz answers 503 naming the failed check, without its error text', async () => {
    dbUp = false;
    const res = await s.fetch('/readyz');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'unavailable', checks: { database: 'failed', slow: 'ok' } });
    expect(text).not.toContain('connection refused');
    dbUp = true;
  });

  it('labels requests by route pattern, never by raw path with ids', async () => {
    await s.fetch('/interaction/AbCdEf123456/login');
    await s.fetch('/interaction/ZyXw987654/login');
    await s.fetch('/token');
    await s.fetch('/no-such-thing-1');
    await s.fetch('/no-such-thing-2');
    metrics.recordSignin('bad_credentials');
    metrics.recordMfaEvent('mfa.recovery_code.used');
    metrics.recordMfaEvent('auth.signed_in'); // not an MFA event: not counted
    const res = await s.fetch('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/interaction\/:uid\/login",status="200"\} 2/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/token",status="200"\} 1/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} 2/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz"\}/);
    expect(text).not.toMatch(/AbCdEf123456|no-such-thing/);
    expect(text).toMatch(/gatehouse_signins_total\{outcome="bad_credentials"\} 1/);
    expect(text).toMatch(/gatehouse_signins_total\{outcome="success"\} 0/);
    expect(text).toMatch(/gatehouse_mfa_events_total\{event="mfa.recovery_code.used"\} 1/);
    expect(text).toMatch(/gatehouse_mfa_events_total\{event="mfa.locked"\} 0/);
    expect(text).not.toMatch(/gatehouse_mfa_events_total\{event="auth/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });
});
