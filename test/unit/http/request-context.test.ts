import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { Router } from '@koa/router';
import { createLogger } from '../../../src/http/logger.ts';
import { isAcceptableRequestId, loggablePath, requestContext, requestLineLevel } from '../../../src/http/request-context.ts';
import { captureLines, serve, type Served } from './_serve.ts';

describe('request ids', () => {
  it.each([
    ['abc-123', true],
    ['3f2c1e8a-9b7d-4c1e-8f00-123456789abc', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['', false],
    ['has space', false],
    ['line\nbreak', false],
    ['<script>', false],
    ['"quoted"', false],
  ])('%p acceptable: %p', (id, ok) => {
    expect(isAcceptableRequestId(id)).toBe(ok);
  });

  it('masks long opaque path segments (interaction uids, email-link tokens)', () => {
    expect(loggablePath('/interaction/Xk3v9LqP0aZ7yT2bW1cD4/login')).toBe('/interaction/:id/login');
    expect(loggablePath('/token')).toBe('/token');
    expect(loggablePath('/.well-known/openid-configuration')).toBe('/.well-known/openid-configuration');
  });
});

describe('requestContext middleware', () => {
  const capture = captureLines();
  let s: Served;
  beforeAll(async () => {
    const app = new Koa();
    const router = new Router();
    router.get('/interaction/:uid/login', (ctx) => {
      ctx.body = { id: ctx.state.requestId };
    });
    app.use(requestContext({ logger: createLogger({ logLevel: 'debug' }, capture) }));
    app.use(router.routes());
    app.use((ctx) => {
      if (ctx.path === '/auth/abc') ctx.body = 'ok';
    });
    s = await serve(app);
  });
  afterAll(() => s.close());

  it('generates an id, exposes it on ctx.state and the response header', async () => {
    const res = await s.fetch('/interaction/Xk3v9LqP0aZ7yT2bW1cD4/login');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({ id });
  });

  it('keeps a sane incoming X-Request-Id and replaces an unsafe one', async () => {
    expect((await s.fetch('/auth/abc', { headers: { 'x-request-id': 'lb-42' } })).headers.get('x-request-id')).toBe('lb-42');
    const replaced = (await s.fetch('/auth/abc', { headers: { 'x-request-id': 'x'.repeat(100) } })).headers.get('x-request-id');
    expect(replaced).not.toBe('x'.repeat(100));
  });

  it('logs one JSON line per request with route, status and duration, never the query string', async () => {
    const res = await s.fetch('/interaction/Xk3v9LqP0aZ7yT2bW1cD4/login?code=SECRET123&token=abc');
    const id = res.headers.get('x-request-id');
    const lines = capture.lines.filter((l) => l.requestId === id);
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? {};
    expect(line).toMatchObject({ msg: 'request', method: 'GET', route: '/interaction/:uid/login', path: '/interaction/:id/login', status: 200, level: 'debug' });
    expect(typeof line.durationMs).toBe('number');
    expect(JSON.stringify(line)).not.toMatch(/SECRET123|token=|Xk3v9LqP/);
  });

  it.each([
    [200, 'debug'],
    [302, 'debug'],
    [400, 'info'],
    [401, 'info'],
    [429, 'info'],
    [500, 'error'],
    [503, 'error'],
  ])('a %p answer is logged at %p', (status, level) => {
    expect(requestLineLevel(status)).toBe(level);
  });

  it('labels provider routes by their first segment', async () => {
    const res = await s.fetch('/auth/abc');
    const line = capture.lines.find((l) => l.requestId === res.headers.get('x-request-id'));
    expect(line).toMatchObject({ route: '/auth', status: 200 });
  });
});

describe('request lines at the default level (info)', () => {
  const capture = captureLines();
  let s: Served;
  beforeAll(async () => {
    const app = new Koa();
    app.use(requestContext({ logger: createLogger({ logLevel: 'info' }, capture) }));
    app.use((ctx) => {
      ctx.status = ctx.path === '/refused' ? 401 : 200;
      ctx.body = 'done';
    });
    s = await serve(app);
  });
  afterAll(() => s.close());

  it('leaves answered requests out and logs refused ones', async () => {
    const answered = (await s.fetch('/token')).headers.get('x-request-id');
    const refused = (await s.fetch('/refused')).headers.get('x-request-id');
    expect(capture.lines.filter((l) => l.requestId === answered)).toEqual([]);
    expect(capture.lines.filter((l) => l.requestId === refused)).toEqual([expect.objectContaining({ msg: 'request', status: 401, level: 'info' })]);
  });
});
