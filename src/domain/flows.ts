// Multi-step journeys as flow objects (DESIGN.md §12.11): a small record in the shared key-value store
// with its kind, account, binding (the one interaction or settings session it belongs to) and expiry,
// and a payload sealed with the SecretBox (a pending TOTP secret must not sit in Redis in clear).
// A flow is read only by the binding that started it, and completed at most once.
import { randomBytes } from 'node:crypto';
import type { Kv } from '../store/kv.ts';
import type { SecretBox } from './secrets.ts';

export type FlowKind = 'totp_enrolment' | 'webauthn_registration' | 'webauthn_authentication';

interface StoredFlow {
  kind: FlowKind;
  accountId: string;
  binding: string;
  expiresAt: string;
  sealed: string;
}

export interface OpenFlow<P> {
  id: string;
  payload: P;
  expiresAt: Date;
}

export interface FlowRef {
  id: string;
  kind: FlowKind;
  accountId: string;
  /** e.g. `interaction:<uid>`; a flow started in one binding is invisible to every other. */
  binding: string;
}

const FLOW_ID = /^[A-Za-z0-9_-]{22,64}$/;
const key = (id: string) => `flow:${id}`;
const context = (ref: FlowRef) => `flow:${ref.kind}:${ref.id}:${ref.accountId}:${ref.binding}`;

export function createFlows(deps: { kv: Kv; box: SecretBox }) {
  const { kv, box } = deps;

  /** The payload when the stored record belongs to `ref` and has not expired. */
  const unseal = <P>(ref: FlowRef, stored: StoredFlow | undefined, now: Date): OpenFlow<P> | undefined => {
    if (!stored || stored.kind !== ref.kind || stored.accountId !== ref.accountId || stored.binding !== ref.binding) return undefined;
    const expiresAt = new Date(stored.expiresAt);
    if (!(expiresAt > now)) return undefined;
    return { id: ref.id, payload: JSON.parse(box.openText(stored.sealed, context(ref))) as P, expiresAt };
  };

  return {
    async start<P>(ref: Omit<FlowRef, 'id'>, payload: P, ttlSeconds: number, now = new Date()): Promise<OpenFlow<P>> {
      const id = randomBytes(18).toString('base64url');
      const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
      const stored: StoredFlow = { ...ref, expiresAt: expiresAt.toISOString(), sealed: box.seal(JSON.stringify(payload), context({ ...ref, id })) };
      await kv.set(key(id), stored, ttlSeconds);
      return { id, payload, expiresAt };
    },

    async open<P>(ref: FlowRef, now = new Date()): Promise<OpenFlow<P> | undefined> {
      if (!FLOW_ID.test(ref.id)) return undefined;
      return unseal<P>(ref, await kv.get<StoredFlow>(key(ref.id)), now);
    },

    /** Completes the flow: of concurrent callers, one gets the payload and the flow is gone. */
    async take<P>(ref: FlowRef, now = new Date()): Promise<OpenFlow<P> | undefined> {
      if (!FLOW_ID.test(ref.id)) return undefined;
      const stored = await kv.get<StoredFlow>(key(ref.id));
      // A flow of another binding is left alone: the caller may not end it.
      if (!unseal<P>(ref, stored, now)) return undefined;
      return unseal<P>(ref, await kv.take<StoredFlow>(key(ref.id)), now);
    },
  };
}

export type Flows = ReturnType<typeof createFlows>;
