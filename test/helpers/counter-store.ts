// An in-memory stand-in for the storage layer's atomic fixed-window counters (src/store/kv.ts), for
// tests of the rate limiter and of the use cases it guards.
import type { CounterStore } from '../../src/http/rate-limit.ts';

export function memoryCounterStore(): CounterStore & { readonly keys: string[] } {
  const counts = new Map<string, number>();
  const increment = (key: string) => {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  };
  return {
    increment: async (key) => increment(key),
    async incrementInTurn(hits) {
      const made: number[] = [];
      for (const hit of hits) {
        made.push(increment(hit.key));
        if ((made.at(-1) ?? 0) > hit.max) break;
      }
      return made;
    },
    async remove(key) {
      counts.delete(key);
    },
    get keys() {
      return [...counts.keys()];
    },
  };
}
