/**
 * EJS pages. Every page gets the app name, the session's CSRF token, the request id and whether
 * unified login is configured; `<%= %>` escapes, `<%- %>` is only used for includes.
 */
import path from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';

export type Locals = Record<string, unknown>;

export interface RenderState {
  requestId: string;
  session?: { csrfToken: string; user: unknown };
}

export interface PageRenderer {
  render(ctx: Context & { state: RenderState }, view: string, locals?: Locals): Promise<void>;
}

const VIEW_NAME = /^[a-z0-9-]+$/;

export function createPageRenderer(viewsDir: string, defaults: Locals, cache: boolean): PageRenderer {
  return {
    async render(ctx, view, locals = {}) {
      if (!VIEW_NAME.test(view)) throw new Error(`bad view name ${view}`);
      const html = await ejs.renderFile(path.join(viewsDir, `${view}.ejs`), {
        ...defaults,
        csrfToken: ctx.state.session?.csrfToken ?? '',
        requestId: ctx.state.requestId,
        signedIn: Boolean(ctx.state.session?.user),
        title: undefined,
        error: undefined,
        notice: undefined,
        ...locals,
      }, { cache, async: false });
      ctx.type = 'html';
      ctx.body = html;
    },
  };
}
