// EJS pages inside views/layout.ejs. `<%= %>` escapes; `<%- body %>` is used only by the layout for
// the already-rendered page. Each template is compiled once per process: on the embedded default
// (NODE_ENV unset) too, where compiling on every page was a large share of a sign-in's CPU.
import path from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

export type Locals = Record<string, unknown>;

export interface ViewRendererOptions {
  /** Folder holding layout.ejs and the page templates (includes resolve from here too). */
  viewsDir: string;
  /** Locals every page gets (e.g. `{ productName: 'Gatehouse' }`); page locals override them. */
  defaults?: Locals;
  /** Layout template name (default 'layout'), or false to render pages bare. */
  layout?: string | false;
}

export interface ViewRenderer {
  /**
   * Renders `template` inside the layout into the response: HTML, `Cache-Control: no-store`.
   * Locals get `csrfToken` and `requestId` from ctx.state, and a default `title`.
   */
  render(ctx: Context, template: string, locals?: Locals): Promise<void>;
  /** The full HTML of a page (inside the layout), for error pages and tests. */
  renderToString(template: string, locals?: Locals): Promise<string>;
}

const TEMPLATE_NAME = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export function createViewRenderer(options: ViewRendererOptions): ViewRenderer {
  const viewsDir = path.resolve(options.viewsDir);
  const layout = options.layout ?? 'layout';

  const file = (template: string): string => {
    if (!TEMPLATE_NAME.test(template)) {
      throw new GatehouseError('view_not_found', 500, 'This page could not be displayed.', `bad template name ${JSON.stringify(template)}`);
    }
    return path.join(viewsDir, `${template}.ejs`);
  };

  const renderFile = (template: string, data: Locals): Promise<string> =>
    ejs.renderFile(file(template), data, { cache: true, views: [viewsDir], async: false });

  const renderToString = async (template: string, locals: Locals = {}): Promise<string> => {
    const data: Locals = { title: 'Gatehouse', ...options.defaults, ...locals };
    const body = await renderFile(template, data);
    return layout === false ? body : renderFile(layout, { ...data, body });
  };

  return {
    renderToString,
    async render(ctx, template, locals = {}) {
      const html = await renderToString(template, {
        csrfToken: ctx.state.csrfToken,
        requestId: ctx.state.requestId,
        ...locals,
      });
      ctx.body = html;
      ctx.set('Content-Type', 'text/html; charset=utf-8');
      ctx.set('Cache-Control', 'no-store');
    },
  };
}
