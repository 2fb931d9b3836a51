import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import Koa from 'koa';
import { Router } from '@koa/router';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { GENERIC_SERVER_ERROR, NOT_FOUND_MESSAGE, errorHandler, notFoundHandler, toErrorResponse } from '../../../src/http/errors.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { requestContext } from '../../../src/http/request-context.ts';
import { createViewRenderer } from '../../../src/http/views.ts';
import { captureLines, serve, type Served } from './_serve.ts';

const views = createViewRenderer({ viewsDir: path.resolve('views') });
const capture = captureLines();
const logger = createLogger({ logLevel: 'info' }, capture);

function app(): Koa {
  const a = new Koa();
  const router = new Router();
  router.get('/boom', () => {
    const err = new Error('database password is hunter2');
    throw err;
  });
  router.get('/api/boom', () => {
    throw new TypeError('cannot read properties of undefined');
  });
  router.get('/denied', () => {
    throw new GatehouseError('mfa_locked', 423, 'Too many wrong codes. Try again after 14:05.', 'lock_count 2');
  });
  router.get('/internal', () => {
    throw new GatehouseError('secret_unreadable', 500, 'a stored secret cannot be decrypted', 'kid abc');
  });
  router.get('/koa-throw', (ctx) => {
    ctx.throw(405, 'Use POST here', { headers: { Allow: 'POST' } });
  });
  router.get('/koa-500', (ctx) => {
    ctx.throw(500, 'pool exhausted at 10.0.0.5');
  });
  router.get('/xss', () => {
    throw new GatehouseError('invalid_request', 400, '<script>alert(1)</script>');
  });
  a.use(requestContext({ logger }));
  a.use(errorHandler({ logger, views }));
  a.use(notFoundHandler());
  a.use(router.routes());
  return a;
}

const json = { accept: 'application/json' };
const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('error middleware', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(app());
  });
  afterAll(() => s.close());

  it('turns a thrown plain Error into a 500 with a generic message and no stack trace', async () => {
    const res = await s.fetch('/boom', { headers: json });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toEqual({ error: 'server_error', error_description: GENERIC_SERVER_ERROR, request_id: res.headers.get('x-request-id') });
    expect(JSON.stringify(body)).not.toMatch(/hunter2|at .*\.ts|Error:/);
  });

  it('logs the real error with the request id (the log, not the client, gets the stack)', async () => {
    const res = await s.fetch('/boom', { headers: { ...json, 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    const line = capture.lines.find((l) => l.msg === 'request failed' && l.requestId === 'trace-123');
    expect(line).toBeDefined();
    expect(JSON.stringify(line?.err)).toMatch(/hunter2/);
  });

  it('renders a 500 page for browsers with the request id and no stack', async () => {
    const res = await s.fetch('/boom', { headers: html });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = await res.text();
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('Something went wrong');
    expect(page).toContain(res.headers.get('x-request-id') ?? 'missing');
    expect(page).not.toMatch(/hunter2|Error:|\.ts:\d+/);
  });

  it('answers JSON under /api/ whatever the Accept header says', async () => {
    const res = await s.fetch('/api/boom', { headers: html });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('gives a GatehouseError its own status, code and message', async () => {
    const res = await s.fetch('/denied', { headers: json });
    expect(res.status).toBe(423);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('mfa_locked');
    expect(body.error_description).toBe('Too many wrong codes. Try again after 14:05.');
    expect(JSON.stringify(body)).not.toContain('lock_count');
  });

  it('hides the message of a GatehouseError with status 500', async () => {
    const res = await s.fetch('/internal', { headers: json });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('server_error');
    expect(body.error_description).toBe(GENERIC_SERVER_ERROR);
  });

  it('exposes the message of a Koa client error and keeps its Allow header', async () => {
    const res = await s.fetch('/koa-throw', { headers: json });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ error: 'method_not_allowed', error_description: 'Use POST here' });
  });

  it('does not expose the message of a Koa server error', async () => {
    const res = await s.fetch('/koa-500', { headers: json });
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('10.0.0.5');
  });

  it('escapes messages in the HTML page', async () => {
    const page = await (await s.fetch('/xss', { headers: html })).text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;');
  });

  it('renders unmatched routes as a 404 page or JSON', async () => {
    const page = await s.fetch('/nowhere', { headers: html });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Page not found');
    const api = await s.fetch('/nowhere', { headers: json });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: 'not_found', error_description: NOT_FOUND_MESSAGE });
  });
});

describe('toErrorResponse', () => {
  it('maps oidc-provider style errors (error / error_description) through', () => {
    const err = Object.assign(new Error('invalid_request'), {
      status: 400,
      statusCode: 400,
      expose: true,
      error: 'invalid_request',
      error_description: 'interaction session not found',
    });
    expect(toErrorResponse(err)).toMatchObject({ status: 400, code: 'invalid_request', message: 'interaction session not found' });
  });

  it('treats non-errors as server errors', () => {
    expect(toErrorResponse('oops')).toMatchObject({ status: 500, code: 'server_error' });
    expect(toErrorResponse(undefined)).toMatchObject({ status: 500 });
  });
});
