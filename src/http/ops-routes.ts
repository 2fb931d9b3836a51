// Operational endpoints: liveness, readiness (dependency checks) and Prometheus metrics.
// /metrics reveals traffic and sign-in outcome counts, which an outsider should not read: serve it on
// a separate listener (METRICS_PORT) or behind a bearer token (METRICS_TOKEN), or both.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from './logger.ts';

export type ReadinessCheck = () => Promise<void>;

/** What /metrics serves: a prom-client Registry, or the whole cluster's metrics (src/cluster-metrics.ts). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}
export type CheckStatus = 'ok' | 'failed';

export interface OpsRouterOptions {
  /** Named dependency checks, e.g. `{ database: () => db.ping(), redis: () => kv.ping() }`. */
  checks?: Record<string, ReadinessCheck | undefined>;
  /** Served at /metrics (createMetrics().registry, or the cluster's); without it /metrics is not mounted. */
  registry?: MetricsSource;
  /** A check that has not settled after this long counts as failed (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Failed checks are logged here (the response names the check, never the error). */
  logger?: Logger;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Serves the registry; with a token, only to a request that presents it (compared in constant time). */
export function metricsEndpoint(registry: MetricsSource, token?: string): Middleware {
  const expected = token ? digest(token) : undefined;
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (expected) {
      const presented = /^Bearer +(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.body = { error: 'unauthorized', error_description: 'Send the metrics token as Authorization: Bearer <token>.' };
        return;
      }
    }
    ctx.set('Content-Type', registry.contentType);
    ctx.body = await registry.metrics();
  };
}

const withTimeout = (check: ReadinessCheck, ms: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(check), timeout]).finally(() => clearTimeout(timer));
};

/** Runs every check in parallel; `ok` only when all pass. */
export async function runReadinessChecks(
  checks: Record<string, ReadinessCheck | undefined>,
  timeoutMs: number,
  logger?: Logger,
): Promise<{ ok: boolean; checks: Record<string, CheckStatus> }> {
  const entries = Object.entries(checks).filter((e): e is [string, ReadinessCheck] => e[1] !== undefined);
  const results = await Promise.allSettled(entries.map(([, check]) => withTimeout(check, timeoutMs)));
  const statuses: Record<string, CheckStatus> = {};
  results.forEach((result, i) => {
    const name = entries[i]?.[0] ?? `check_${i}`;
    statuses[name] = result.status === 'fulfilled' ? 'ok' : 'failed';
    if (result.status === 'rejected') logger?.warn({ check: name, err: result.reason }, 'readiness check failed');
  });
  return { ok: results.every((r) => r.status === 'fulfilled'), checks: statuses };
}

/** `GET /healthz`, `GET /readyz`, `GET /metrics`. */
export function createOpsRouter(options: OpsRouterOptions = {}): Router {
  const router = new Router();
  const timeoutMs = options.checkTimeoutMs ?? 2000;

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const result = await runReadinessChecks(options.checks ?? {}, timeoutMs, options.logger);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = result.ok ? 200 : 503;
    ctx.body = { status: result.ok ? 'ok' : 'unavailable', checks: result.checks };
  });

  if (options.registry) router.get('/metrics', metricsEndpoint(options.registry, options.metricsToken));
  return router;
}
