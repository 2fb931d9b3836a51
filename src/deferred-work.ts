// Work that runs after the answer was sent (e.g. the lookup and the mail behind "Forgot password?",
// so the answer cannot tell whether the address has an account). Failures are logged; closing the
// runtime waits for what is still running, so a shutdown never cuts a link off between its row and its mail.
//
// Inside a request (deferUntilAnswered), deferred work starts only once the response has been written:
// a later turn of the event loop is not enough, because the request may still wait on storage after
// deferring, and the embedded database runs its statements on this thread, so the deferred lookup
// would delay the answer of a known address only.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from './http/logger.ts';

/** The response of the request being handled. */
const answered = new AsyncLocalStorage<ServerResponse>();

/** Middleware: work deferred while handling this request waits until its response is finished (or the connection closed). */
export function deferUntilAnswered(): Middleware {
  return (ctx, next) => answered.run(ctx.res, next);
}

/** Resolves once `res` is finished or its connection closed (at once if that already happened). */
function sent(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
  });
}

export interface DeferredWork {
  defer(label: string, work: () => Promise<void>): void;
  /** Resolves when nothing deferred is running any more. */
  settled(): Promise<void>;
}

export function createDeferredWork(logger: Logger): DeferredWork {
  const pending = new Set<Promise<void>>();
  return {
    defer(label, work) {
      const res = answered.getStore();
      const running = (res ? sent(res) : new Promise<void>((resolve) => setImmediate(resolve)))
        .then(work)
        .catch((err: unknown) => logger.error({ err, work: label }, 'deferred work failed'))
        .finally(() => pending.delete(running));
      pending.add(running);
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
