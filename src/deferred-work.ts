// Work that runs after the answer was sent (e.g. the lookup and the mail behind "Forgot password?",
// so the answer cannot tell whether the address has an account). Failures are logged; closing the
// runtime waits for what is still running, so a shutdown never cuts a link off between its row and its mail.
import type { Logger } from './http/logger.ts';

export interface DeferredWork {
  defer(label: string, work: () => Promise<void>): void;
  /** Resolves when nothing deferred is running any more. */
  settled(): Promise<void>;
}

export function createDeferredWork(logger: Logger): DeferredWork {
  const pending = new Set<Promise<void>>();
  return {
    defer(label, work) {
      const running = new Promise<void>((resolve) => setImmediate(resolve))
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
