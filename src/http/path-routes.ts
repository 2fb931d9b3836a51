// Gatehouse's own pages, files and operations endpoints, chosen by path in one step. A protocol request
// (token, introspection) passes one check instead of a middleware layer per router; a request for a page
// runs the routers whose path matches, in their order, each falling through to the next as before.
import type { Context, Middleware, Next } from 'koa';

export interface PathRoute {
  matches(path: string): boolean;
  middleware: Middleware;
}

/** Serves every path that starts with `prefix`. */
export const under = (prefix: string, middleware: Middleware): PathRoute => ({ matches: (path) => path.startsWith(prefix), middleware });

/** Serves exactly these paths. */
export const only = (paths: ReadonlySet<string>, middleware: Middleware): PathRoute => ({ matches: (path) => paths.has(path), middleware });

export function routeByPath(routes: readonly PathRoute[]): Middleware {
  return (ctx, next) => {
    const path = ctx.path;
    const matching = routes.filter((route) => route.matches(path));
    return matching.length === 0 ? next() : runInOrder(matching, 0, ctx, next);
  };
}

function runInOrder(routes: readonly PathRoute[], index: number, ctx: Context, next: Next): Promise<unknown> {
  const route = routes[index];
  if (!route) return next();
  return Promise.resolve(route.middleware(ctx, () => runInOrder(routes, index + 1, ctx, next)));
}
