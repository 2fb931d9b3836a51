/**
 * The store over a plain in-memory document. Each method checks and changes the document without
 * awaiting in between, so a check-and-set is atomic within the process. `onChange` (used by the
 * JSON-file store) runs after every change and is awaited before the method resolves.
 */
import { randomUUID } from 'node:crypto';
import { StoreConflictError } from './types.ts';
import type { DownstreamStore, LocalUser, NewLocalUser, OrgSettings, StoreData } from './types.ts';

export function emptyStoreData(): StoreData {
  return { version: 1, users: [], settings: { requireTwoFactor: false } };
}

export function createMemoryStore(
  data: StoreData = emptyStoreData(),
  onChange: (data: StoreData) => Promise<void> = async () => {},
): DownstreamStore {
  const byId = (id: string): LocalUser | undefined => data.users.find((u) => u.id === id);
  const copy = <T>(value: T): T => structuredClone(value);
  const changed = (): Promise<void> => onChange(data);

  return {
    async getUser(id) {
      const user = byId(id);
      return user && copy(user);
    },

    async findUserByEmail(email) {
      const wanted = email.trim().toLowerCase();
      const user = data.users.find((u) => u.email.toLowerCase() === wanted);
      return user && copy(user);
    },

    async findUserByGatehouseSub(sub) {
      const user = data.users.find((u) => u.gatehouseSub === sub);
      return user && copy(user);
    },

    async createUser(input: NewLocalUser) {
      const email = input.email.trim();
      if (data.users.some((u) => u.email.toLowerCase() === email.toLowerCase())) {
        throw new StoreConflictError('email_taken', 'a user with this email exists');
      }
      const sub = input.gatehouseSub ?? null;
      if (sub !== null && data.users.some((u) => u.gatehouseSub === sub)) {
        throw new StoreConflictError('sub_taken', 'a user is already linked to this Gatehouse subject');
      }
      const user: LocalUser = {
        id: randomUUID(),
        email,
        name: input.name,
        passwordHash: input.passwordHash,
        gatehouseSub: sub,
        isAdmin: input.isAdmin ?? false,
        createdAt: new Date().toISOString(),
        totp: null,
      };
      data.users.push(user);
      await changed();
      return copy(user);
    },

    async linkGatehouseSub(userId, sub) {
      const user = byId(userId);
      if (!user || user.gatehouseSub !== null || data.users.some((u) => u.gatehouseSub === sub)) return false;
      user.gatehouseSub = sub;
      await changed();
      return true;
    },

    async enableTotp(userId, secret, recoveryCodeHashes, acceptedStep) {
      const user = byId(userId);
      if (!user) throw new Error('unknown user');
      user.totp = {
        secret,
        lastUsedStep: acceptedStep,
        enabledAt: new Date().toISOString(),
        recoveryCodes: recoveryCodeHashes.map((hash) => ({ id: randomUUID(), hash, usedAt: null })),
      };
      await changed();
    },

    async disableTotp(userId) {
      const user = byId(userId);
      if (!user) return;
      user.totp = null;
      await changed();
    },

    async consumeTotpStep(userId, step) {
      const totp = byId(userId)?.totp;
      if (!totp || step <= totp.lastUsedStep) return false;
      totp.lastUsedStep = step;
      await changed();
      return true;
    },

    async consumeRecoveryCode(userId, codeId) {
      const code = byId(userId)?.totp?.recoveryCodes.find((c) => c.id === codeId);
      if (!code || code.usedAt !== null) return false;
      code.usedAt = new Date().toISOString();
      await changed();
      return true;
    },

    async getSettings() {
      return copy(data.settings);
    },

    async updateSettings(patch: Partial<OrgSettings>) {
      data.settings = { ...data.settings, ...patch };
      await changed();
      return copy(data.settings);
    },
  };
}
