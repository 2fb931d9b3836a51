// A read kept in memory while its topic's change generation stays the same (src/store/change-signals.ts):
// any instance's announced write makes the next call read again, and so does age, for what changed
// behind the repositories' back. Without a generation (PostgreSQL without Redis) every call reads.
import type { ChangeSignals, ChangeTopic } from './change-signals.ts';

const MAX_AGE_MS = 60_000;

export function keptUntilChanged<T>(read: () => Promise<T>, topic: ChangeTopic, signals: Pick<ChangeSignals, 'generation'>): () => Promise<T> {
  let kept: { at: number; generation: number; value: T } | undefined;
  return async () => {
    // read before the value: a change announced meanwhile leaves it under the older generation
    const generation = await signals.generation(topic);
    if (generation === undefined) return read();
    if (kept && kept.generation === generation && Date.now() - kept.at < MAX_AGE_MS) return kept.value;
    const value = await read();
    kept = { at: Date.now(), generation, value };
    return value;
  };
}
