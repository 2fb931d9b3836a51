// A store that is down (PostgreSQL or Redis restarting, unreachable, or not answering in time) makes a
// request fail with 503 and Retry-After, never a 500: the client is told to come back, and the
// failure is not mistaken for a bug. oidc-provider answers its own endpoints' errors (500
// server_error) before they reach Gatehouse's error middleware, so it reports them through its
// `server_error` event, noted here per request.
import type { Context } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

/** Seconds a client is asked to wait: a store restart or failover usually takes a few seconds. */
export const RETRY_AFTER_SECONDS = 5;

export const UNAVAILABLE_MESSAGE = 'The service is briefly unavailable. Please try again in a few seconds.';

// node: the connection could not be made or broke
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
// PostgreSQL SQLSTATE: connection exceptions (08…), shutdown and start-up (57P01–57P03), too many connections
const PG_STATES = /^(08\d{3}|57P0[123]|53300)$/;
// node-postgres and node-redis errors that carry no code
const CLIENT_ERROR_NAMES = new Set([
  'ClientClosedError',
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'ReconnectStrategyError',
  'SocketTimeoutError',
]);
const CLIENT_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /^Client has encountered a connection error/,
  /^Connection ended unexpectedly/,
  /^The client is (offline|closed)/,
  /^Socket closed unexpectedly/,
  // Redis replies while a server loads its data or a cluster moves or loses slots
  /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN) /,
];

/** True when `err` (or what it wraps: drizzle's query error, an AggregateError of connect attempts) says a store is down. */
export function isStoreUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false;
  if (err instanceof GatehouseError) return false; // it carries its own status
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PG_STATES.test(e.code))) return true;
  // node-redis's error classes keep the name `Error`: their constructor says what they are
  if ((typeof e.name === 'string' && CLIENT_ERROR_NAMES.has(e.name)) || CLIENT_ERROR_NAMES.has(err.constructor.name)) return true;
  if (typeof e.message === 'string' && CLIENT_MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isStoreUnavailable(inner, depth + 1))) return true;
  return isStoreUnavailable(e.cause, depth + 1);
}

/** The error a store outage becomes: 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1), with the cause for the log. */
export function unavailableError(cause: unknown): GatehouseError {
  return new GatehouseError('temporarily_unavailable', 503, UNAVAILABLE_MESSAGE, cause instanceof Error ? cause.message : String(cause));
}

const providerFailures = new WeakMap<Context, unknown>();

/** oidc-provider's `server_error` listener: remembers a store outage behind the 500 it answered. */
export function noteProviderServerError(ctx: Context, err: unknown): void {
  if (isStoreUnavailable(err)) providerFailures.set(ctx, err);
}

/** The store outage behind oidc-provider's 500 answer to this request, if there was one. */
export const providerOutage = (ctx: Context): unknown => providerFailures.get(ctx);
