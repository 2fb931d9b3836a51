// The documented middleware order, end to end: request id → metrics → security headers → errors →
// 404 → static/ops → routers (forms: parseForm → csrfProtection) → oidc-provider.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import Koa from 'koa';
import { Router } from '@koa/router';
import { parseForm } from '../../../src/http/body.ts';
import { csrfProtection } from '../../../src/http/csrf.ts';
import { errorHandler, notFoundHandler } from '../../../src/http/errors.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { createMetrics } from '../../../src/http/metrics.ts';
import { createOpsRouter } from '../../../src/http/ops-routes.ts';
import { requestContext } from '../../../src/http/request-context.ts';
import { noStore, securityHeaders } from '../../../src/http/security-headers.ts';
import { serveStatic } from '../../../src/http/static.ts';
import { createViewRenderer } from '../../../src/http/views.ts';
import { captureLines, serve, type Served } from './_serve.ts';

describe('composed HTTP stack', () => {
  const capture = captureLines();
  const logger = createLogger({ logLevel: 'info' }, capture);
  const metrics = createMetrics({ defaultMetrics: false });
  const views = createViewRenderer({ viewsDir: path.resolve('views') });
  let s: Served;

  beforeAll(async () => {
    const app = new Koa();
    app.use(requestContext({ logger }));
    app.use(metrics.middleware());
    app.use(securityHeaders({ issuer: 'http://localhost:3000' }));
    app.use(errorHandler({ logger, views }));
    app.use(notFoundHandler());
    app.use(serveStatic({ root: path.resolve('public') }));
    const ops = createOpsRouter({ registry: metrics.registry });
    app.use(ops.routes());
    const pages = new Router({ prefix: '/interaction/:uid' });
    pages.use(noStore(), parseForm(), csrfProtection({ secure: false }));
    pages.get('/login', async (ctx) => {
      await views.render(ctx, 'error', { heading: 'Sign in', message: `token ${String(ctx.state.csrfToken)}` });
    });
    pages.post('/login', (ctx) => {
      ctx.redirect(`/auth/${ctx.params.uid ?? ''}`);
    });
    app.use(pages.routes());
    s = await serve(app);
  });
  afterAll(() => s.close());

  it('a refused form renders the friendly 403 page with security headers, a request id and a fresh cookie', async () => {
    const res = await s.fetch('/interaction/AbCdEfGh12345678/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'email=a%40b.c&password=secret-password',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.getSetCookie().join()).toMatch(/gh_csrf=/);
    const page = await res.text();
    expect(page).toContain('The form expired or was sent from another site.');
    expect(page).toContain(res.headers.get('x-request-id') ?? 'missing');
    expect(JSON.stringify(capture.lines)).not.toContain('secret-password');
  });

  it('a good form submission goes through', async () => {
    const get = await s.fetch('/interaction/AbCdEfGh12345678/login');
    const cookie = (get.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const token = /token ([A-Za-z0-9_-]{43})/.exec(await get.text())?.[1] ?? '';
    const res = await s.fetch('/interaction/AbCdEfGh12345678/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ _csrf: token }).toString(),
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/auth/AbCdEfGh12345678');
  });

  it('unknown paths get the 404 page with headers; metrics label them without the path', async () => {
    const res = await s.fetch('/wp-login.php', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('Page not found');
    const text = await (await s.fetch('/metrics')).text();
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).toMatch(/route="\/interaction\/:uid\/login",status="403"/);
    expect(text).not.toContain('wp-login');
  });

  it('serves assets and ops endpoints through the same stack', async () => {
    expect((await s.fetch('/assets/gatehouse.css')).status).toBe(200);
    expect((await s.fetch('/healthz')).status).toBe(200);
  });
});
