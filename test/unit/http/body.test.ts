import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { Router } from '@koa/router';
import { parseForm, parseJson } from '../../../src/http/body.ts';
import { errorHandler } from '../../../src/http/errors.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { serve, type Served } from './_serve.ts';

const logger = createLogger({ logLevel: 'silent' });

function app(): Koa {
  const a = new Koa();
  const router = new Router();
  router.post('/form', parseForm(), (ctx) => {
    ctx.body = { got: ctx.request.body };
  });
  router.post('/small-form', parseForm({ limitBytes: 100 }), (ctx) => {
    ctx.body = { got: ctx.request.body };
  });
  router.post('/api/things', parseJson(), (ctx) => {
    ctx.body = { got: ctx.request.body };
  });
  a.use(errorHandler({ logger }));
  a.use(router.routes());
  return a;
}

const post = (contentType: string | undefined, body: string): RequestInit => ({
  method: 'POST',
  headers: { accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}) },
  body,
});

describe('body parsing', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(app());
  });
  afterAll(() => s.close());

  it('parses a urlencoded form', async () => {
    const res = await s.fetch('/form', post('application/x-www-form-urlencoded', 'email=a%40b.c&password=x'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: { email: 'a@b.c', password: 'x' } });
  });

  it('gives a body-less POST an empty object', async () => {
    const res = await s.fetch('/form', { method: 'POST', headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: {} });
  });

  it('refuses JSON on a form route with 415', async () => {
    const res = await s.fetch('/form', post('application/json', '{"a":1}'));
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('refuses a form on a JSON route with 415', async () => {
    const res = await s.fetch('/api/things', post('application/x-www-form-urlencoded', 'a=1'));
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(/JSON only/);
  });

  it('refuses an oversized form with 413 naming the limit', async () => {
    const res = await s.fetch('/small-form', post('application/x-www-form-urlencoded', `a=${'x'.repeat(500)}`));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload_too_large', error_description: expect.stringMatching(/limit/) });
  });

  it('refuses a JSON body over 1 MB with 413', async () => {
    const res = await s.fetch('/api/things', post('application/json', JSON.stringify({ a: 'x'.repeat(1024 * 1024 + 10) })));
    expect(res.status).toBe(413);
  });

  it('refuses malformed JSON with 400, never 500', async () => {
    for (const bad of ['{"a":', 'null', '"string"', '{"__proto__":{"x":1}}']) {
      const res = await s.fetch('/api/things', post('application/json', bad));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_json' });
    }
  });

  it('parses JSON including +json media types', async () => {
    const res = await s.fetch('/api/things', post('application/merge-patch+json', '{"name":"x"}'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: { name: 'x' } });
  });

  it('refuses an unsupported content encoding with 415', async () => {
    const res = await s.fetch('/api/things', {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
      body: '{}',
    });
    expect(res.status).toBe(415);
  });
});
