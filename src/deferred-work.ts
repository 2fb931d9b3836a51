// Work that runs after the answer was sent (e.g. the lookup and the mail behind "Forgot password?",
// so the answer cannot tell whether the address has an account). Failures are logged; closing the
// runtime waits for what is still running, so a shutdown never cuts a link off between its row and its mail.
//
// Inside a request (deferUntilAnswered), deferred work starts only once the response has been written:
// a later turn of the event loop is not enough, because the request may still wait on storage after
// deferring, and the embedded database runs its statements on this thread, so the deferred lookup
// would delay the answer of a known address only.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import type { Logger } from './http/logger.ts';

const answered = new AsyncLocalStorage<Promise<void>>();

/** Middleware: work deferred while handling this request waits until its response is finished (or the connection closed). */
export function deferUntilAnswered(): Middleware {
  return (ctx, next) => {
    const sent = new Promise<void>((resolve) => {
      ctx.res.once('finish', () => resolve());
      ctx.res.once('close', () => resolve());
    });
    return answered.run(sent, next);
  };
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
      const running = (answered.getStore() ?? new Promise<void>((resolve) => setImmediate(resolve)))
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
