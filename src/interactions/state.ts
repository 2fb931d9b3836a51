// Per-page state of one login interaction, kept server-side (oidc-provider's Interaction model drops
// properties it does not know) in the shared KV so any instance can serve the next page.
import type { Kv } from '../store/kv.ts';
import type { InteractionState } from './steps.ts';

const TTL_SECONDS = 3600;
const key = (uid: string) => `interaction:${uid}`;

export function createInteractionStates(kv: Kv) {
  return {
    async load(uid: string): Promise<InteractionState | undefined> {
      return kv.get<InteractionState>(key(uid));
    },
    async save(uid: string, state: InteractionState): Promise<void> {
      await kv.set(key(uid), state, TTL_SECONDS);
    },
    async clear(uid: string): Promise<void> {
      await kv.delete(key(uid));
    },
  };
}

export type InteractionStates = ReturnType<typeof createInteractionStates>;
