import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import Koa from 'koa';
import { errorHandler, notFoundHandler } from '../../../src/http/errors.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { serveStatic } from '../../../src/http/static.ts';
import { createViewRenderer } from '../../../src/http/views.ts';
import { serve, type Served } from './_serve.ts';

const views = createViewRenderer({ viewsDir: path.resolve('views') });

describe('view renderer', () => {
  it('renders a page inside the layout with the title, escaping locals', async () => {
    const html = await views.renderToString('error', { title: 'Page not found', heading: 'Page not found', message: '<b>x</b>', requestId: 'r-1' });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<title>Page not found · Gatehouse</title>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/gatehouse.css">');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('r-1');
    expect(html).not.toMatch(/style=|<script/);
  });

  it('refuses template names that could leave the views folder', async () => {
    await expect(views.renderToString('../package', {})).rejects.toMatchObject({ code: 'view_not_found' });
  });

  it('sets HTML, no-store and passes csrfToken/requestId from ctx.state', async () => {
    const app = new Koa();
    app.use(async (ctx) => {
      ctx.state.requestId = 'req-9';
      ctx.status = 401;
      await views.render(ctx, 'error', { heading: 'Wrong password', message: 'Check and try again.' });
    });
    const s = await serve(app);
    try {
      const res = await s.fetch('/');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).toContain('req-9');
    } finally {
      await s.close();
    }
  });
});

describe('static assets', () => {
  let s: Served;
  beforeAll(async () => {
    const app = new Koa();
    app.use(errorHandler({ logger: createLogger({ logLevel: 'silent' }) }));
    app.use(notFoundHandler());
    app.use(serveStatic({ root: path.resolve('public') }));
    s = await serve(app);
  });
  afterAll(() => s.close());

  it('serves the stylesheet with a content type and caching headers', async () => {
    const res = await s.fetch('/assets/gatehouse.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.headers.get('etag')).toMatch(/^W\/"/);
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(await res.text()).toContain('--gh-primary');
  });

  // fetch() adds `Cache-Control: no-cache` (which forbids a 304) to a conditional request without one.
  it('answers 304 to a conditional request', async () => {
    const etag = (await s.fetch('/assets/gatehouse.css')).headers.get('etag') ?? '';
    const res = await s.fetch('/assets/gatehouse.css', { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } });
    expect(res.status).toBe(304);
  });

  it('does not serve paths outside public/, dot-files or unknown types', async () => {
    for (const p of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/..%2fpackage.json', '/assets/.hidden.css', '/assets/nope.css', '/assets/gatehouse.exe']) {
      const res = await s.fetch(p, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(404);
    }
  });

  it('the stylesheet loads nothing from outside (no fonts or CDNs)', async () => {
    const css = await (await s.fetch('/assets/gatehouse.css')).text();
    expect(css).not.toMatch(/@import|url\(\s*['"]?https?:/);
  });
});
