// Serves the files of public/ under /assets (GET/HEAD only) with validators and caching headers.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export interface StaticOptions {
  /** Folder to serve (public/). */
  root: string;
  /** URL prefix (default '/assets'). */
  prefix?: string;
  /** `Cache-Control: public, max-age=…` in seconds (default one hour; names are not content-hashed). */
  maxAgeSeconds?: number;
}

// Plain file names and folders only: no dot-files, no `..`, no backslashes or encoded separators.
const SAFE_RELATIVE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

export function serveStatic(options: StaticOptions): Middleware {
  const root = path.resolve(options.root);
  const prefix = (options.prefix ?? '/assets').replace(/\/+$/, '');
  const cacheControl = `public, max-age=${options.maxAgeSeconds ?? 3600}`;

  return async (ctx, next) => {
    if (!ctx.path.startsWith(`${prefix}/`) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const relative = ctx.path.slice(prefix.length + 1);
    const type = CONTENT_TYPES[path.extname(relative).toLowerCase()];
    if (!SAFE_RELATIVE.test(relative) || !type) return next();
    const file = path.join(root, relative);
    if (!file.startsWith(`${root}${path.sep}`)) return next();

    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return next();

    ctx.set('Cache-Control', cacheControl);
    ctx.set('Content-Type', type);
    ctx.lastModified = info.mtime;
    ctx.etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.length = info.size;
    if (ctx.method === 'HEAD') return;
    ctx.body = createReadStream(file);
    ctx.set('Content-Type', type); // assigning a stream resets the type to octet-stream otherwise
  };
}
