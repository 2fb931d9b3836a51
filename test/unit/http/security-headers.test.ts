import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { buildCsp, noStore, restrictFormAction, securityHeaders } from '../../../src/http/security-headers.ts';
import { serve, type Served } from './_serve.ts';

// The same parsing oidc-provider's helpers/script_src_sha.js applies when it adds an inline-script hash.
function pushScriptHash(csp: string, hash: string): string {
  const directives = csp.split(';').reduce<Record<string, string[]>>((acc, d) => {
    const [name, ...values] = d.trim().split(/\s+/g);
    if (name) acc[name] = values;
    return acc;
  }, {});
  directives['script-src']?.push(`'sha256-${hash}'`);
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values].join(' '))
    .join(';');
}

describe('Content-Security-Policy', () => {
  it('locks everything to self, forbids framing, and allows any http(s) form target by default', () => {
    const csp = buildCsp();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("form-action 'self' *");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('can be extended by oidc-provider with a script hash', () => {
    const extended = pushScriptHash(buildCsp(), 'abc=');
    expect(extended).toContain("script-src 'self' 'sha256-abc='");
    expect(extended).toContain("frame-ancestors 'none'");
  });

  it('takes configured form-action sources (e.g. a native app scheme)', () => {
    expect(buildCsp(['https:', 'com.example.app:'])).toContain("form-action 'self' https: com.example.app:");
    expect(buildCsp(["'self'"])).toContain("form-action 'self';");
  });
});

describe('securityHeaders middleware', () => {
  let s: Served;
  let tls: Served;
  beforeAll(async () => {
    const make = (issuer: string) => {
      const app = new Koa();
      app.use(securityHeaders({ issuer }));
      app.use(async (ctx, next) => {
        if (ctx.path === '/console') return restrictFormAction(["'self'"])(ctx, next);
        if (ctx.path === '/login') return noStore()(ctx, next);
        return next();
      });
      app.use((ctx) => {
        if (ctx.path === '/provider') {
          // oidc-provider reads the header set before next() and extends it.
          ctx.set('Content-Security-Policy', pushScriptHash(ctx.response.get('Content-Security-Policy') as string, 'xyz='));
        }
        ctx.body = 'ok';
      });
      return serve(app);
    };
    s = await make('http://localhost:3000');
    tls = await make('https://id.example.com');
  });
  afterAll(async () => {
    await s.close();
    await tls.close();
  });

  it('sets the protective headers on every response', async () => {
    const res = await s.fetch('/');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('permissions-policy')).toContain('camera=()');
    expect(res.headers.get('content-security-policy')).toBe(buildCsp());
  });

  it('sends HSTS only when the issuer is https', async () => {
    expect((await s.fetch('/')).headers.get('strict-transport-security')).toBeNull();
    expect((await tls.fetch('/')).headers.get('strict-transport-security')).toBe('max-age=31536000');
  });

  it('sets the CSP before the handlers so the provider can add its script hash', async () => {
    const csp = (await s.fetch('/provider')).headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self' 'sha256-xyz='");
  });

  it('lets a console router tighten form-action to self', async () => {
    const csp = (await s.fetch('/console')).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('*');
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('marks auth pages no-store', async () => {
    expect((await s.fetch('/login')).headers.get('cache-control')).toBe('no-store');
    expect((await s.fetch('/')).headers.get('cache-control')).toBeNull();
  });
});

describe('machine endpoints', () => {
  it('get nosniff, Referrer-Policy and HSTS but not the browser headers', async () => {
    const app = new Koa();
    app.use(securityHeaders({ issuer: 'https://id.example.com', machinePaths: ['/token'] }));
    app.use((ctx) => {
      ctx.body = {};
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    try {
      const token = await fetch(`http://127.0.0.1:${port}/token`);
      expect(token.headers.get('x-content-type-options')).toBe('nosniff');
      expect(token.headers.get('strict-transport-security')).toMatch(/max-age=/);
      expect(token.headers.get('content-security-policy')).toBeNull();
      const page = await fetch(`http://127.0.0.1:${port}/auth`);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    } finally {
      server.close();
    }
  });
});
