// routeByPath: one step chooses the routers of a path; they run in their order and fall through to
// each other, and to the rest of the app when none answers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa, { type Middleware } from 'koa';
import { only, routeByPath, under } from '../../../src/http/path-routes.ts';
import { serve, type Served } from './_serve.ts';

/** Answers `name` for `path`, otherwise records that it passed and falls through. */
const router =
  (name: string, path: string, passed: string[]): Middleware =>
  async (ctx, next) => {
    if (ctx.path === path) {
      ctx.body = name;
      return;
    }
    passed.push(name);
    await next();
  };

describe('routeByPath', () => {
  const passed: string[] = [];
  let served: Served;
  beforeAll(async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      passed.length = 0;
      await next();
      ctx.set('x-after', 'ran'); // code after next() still runs once the routers answered
    });
    app.use(
      routeByPath([
        under('/password/', router('password', '/password/forgot', passed)),
        under('/password/set/', router('invitation', '/password/set/x', passed)),
        only(new Set(['/healthz']), router('ops', '/healthz', passed)),
      ]),
    );
    app.use((ctx) => {
      ctx.body = `rest of the app: ${ctx.path}`;
    });
    served = await serve(app);
  });
  afterAll(() => served.close());

  it('runs the router of a matching path', async () => {
    const res = await served.fetch('/password/forgot');
    expect(await res.text()).toBe('password');
    expect(res.headers.get('x-after')).toBe('ran');
    expect(passed).toEqual([]);
  });

  it('lets a router fall through to the next matching one, in order', async () => {
    expect(await (await served.fetch('/password/set/x')).text()).toBe('invitation');
    expect(passed).toEqual(['password']);
  });

  it('falls through to the rest of the app when no matching router answers', async () => {
    expect(await (await served.fetch('/password/set/unknown')).text()).toBe('rest of the app: /password/set/unknown');
    expect(passed).toEqual(['password', 'invitation']);
  });

  it('passes a path no router serves straight on (exact paths match only themselves)', async () => {
    expect(await (await served.fetch('/token')).text()).toBe('rest of the app: /token');
    expect(await (await served.fetch('/healthz/more')).text()).toBe('rest of the app: /healthz/more');
    expect(passed).toEqual([]);
    expect(await (await served.fetch('/healthz')).text()).toBe('ops');
  });
});
