// /metrics counts sign-in outcomes and traffic, which an outsider should not read: it can be served
// only to a bearer token (METRICS_TOKEN) or only on a listener of its own (METRICS_PORT).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { startTestGatehouse, freePort, type TestGatehouse } from '../../helpers/gatehouse.ts';

describe('METRICS_TOKEN: /metrics answers only the bearer of the token', () => {
  const token = randomBytes(32).toString('base64url');
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => gh.stop());

  it.each([
    ['no Authorization header', undefined],
    ['another token', `Bearer ${randomBytes(32).toString('base64url')}`],
    ['the token in Basic form', `Basic ${Buffer.from(`x:${token}`).toString('base64')}`],
  ])('refuses %s with 401 and WWW-Authenticate', async (_what, authorization) => {
    const res = await fetch(`${gh.issuer}/metrics`, { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.text()).not.toContain('gatehouse_signins_total');
  });

  it('serves the metrics with the token', async () => {
    const res = await fetch(`${gh.issuer}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('gatehouse_signins_total');
  });

  it('leaves /healthz and /readyz open for load balancers', async () => {
    expect((await fetch(`${gh.issuer}/healthz`)).status).toBe(200);
    expect((await fetch(`${gh.issuer}/readyz`)).status).toBe(200);
  });
});

describe('METRICS_PORT: /metrics moves to a listener of its own', () => {
  let gh: TestGatehouse;
  let metricsUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}`;
    gh = await startTestGatehouse({ env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' } });
  });
  afterAll(() => gh.stop());

  it('is not found on the public port', async () => {
    const res = await fetch(`${gh.issuer}/metrics`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
  });

  it('is served on the metrics port, which serves nothing else', async () => {
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('http_requests_total');
    expect((await fetch(`${metricsUrl}/.well-known/openid-configuration`)).status).toBe(404);
  });
});
