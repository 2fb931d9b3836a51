// The Host a request names becomes part of every URL oidc-provider builds (discovery, redirects to
// /interaction, the end-session form). A Host that is not an authority ("host with spaces", "[::1",
// "127.0.0.1:99999") makes URL parsing throw inside the provider, which answers 500; one with a path
// or userinfo ("a/b", "a@b") would put attacker-chosen text into the URLs it advertises. Such
// requests are refused with 400 before any page or protocol route runs.
import { isIPv6 } from 'node:net';
import type { Context, Middleware } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

/** A DNS name or IPv4 address (letters, digits, dots, hyphens, underscores), at most 253 characters. */
const REG_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
const PORT = /^[0-9]{1,5}$/;

/** True when `value` is `host[:port]` as RFC 9110 §7.2 allows it in Host (no userinfo, path or spaces). */
export function isValidAuthority(value: string): boolean {
  let host = value;
  let port: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return false;
    host = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    if (!isIPv6(host)) return false;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0) {
      host = value.slice(0, colon);
      port = value.slice(colon + 1);
    }
    if (!REG_NAME.test(host)) return false;
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) < 1 || Number(port) > 65535)) return false;
  return true;
}

export const invalidHost = (detail: string) =>
  new GatehouseError('invalid_request', 400, 'The Host header of this request is not a valid host name and port.', detail);

/**
 * The header value Koa derives `ctx.host` from (X-Forwarded-Host behind a trusted proxy, else
 * :authority or Host), first of a comma-separated list, before Koa silently drops a userinfo part.
 */
function presentedHost(ctx: Context): string {
  const forwarded = ctx.app.proxy ? ctx.get('X-Forwarded-Host') : '';
  const raw = forwarded || (ctx.req.httpVersionMajor >= 2 ? ctx.get(':authority') : '') || ctx.get('Host');
  return (raw.split(',')[0] ?? '').trim();
}

/**
 * Refuses requests whose effective host (Host, or X-Forwarded-Host behind a trusted proxy, as Koa
 * reads it) or forwarded protocol is malformed. `exempt` paths (health checks, which some load
 * balancers send without a proper Host) pass unchecked: they build no URLs.
 */
export function requireValidHost(options: { exempt?: ReadonlySet<string> } = {}): Middleware {
  return (ctx, next) => {
    if (!options.exempt?.has(ctx.path)) {
      const host = presentedHost(ctx);
      if (!isValidAuthority(host)) throw invalidHost(`host: ${JSON.stringify(host.slice(0, 100))}`);
      const protocol = ctx.protocol;
      if (protocol !== 'http' && protocol !== 'https') throw invalidHost(`protocol: ${JSON.stringify(protocol.slice(0, 20))}`);
    }
    return next();
  };
}
