/**
 * The demo app's store: one-time things are consumed once (TOTP steps, recovery codes), links and
 * emails stay unique, and the JSON-file store survives a restart.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createJsonFileStore, createMemoryStore } from '../../../examples/downstream-app/app.ts';
import { StoreConflictError } from '../../../examples/downstream-app/store/types.ts';

const newUser = { email: 'Lee@Acme.test', name: 'Lee', passwordHash: null };
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('downstream store', () => {
  it('accepts a TOTP step only when newer than every accepted step (replay)', async () => {
    const store = createMemoryStore();
    const user = await store.createUser(newUser);
    await store.enableTotp(user.id, 'SECRET', [], 100);
    expect(await store.consumeTotpStep(user.id, 100)).toBe(false);
    expect(await store.consumeTotpStep(user.id, 101)).toBe(true);
    expect(await store.consumeTotpStep(user.id, 101)).toBe(false);
    expect(await store.consumeTotpStep(user.id, 99)).toBe(false);
  });

  it('consumes a recovery code once', async () => {
    const store = createMemoryStore();
    const user = await store.createUser(newUser);
    await store.enableTotp(user.id, 'SECRET', ['h1'], 0);
    const id = (await store.getUser(user.id))?.totp?.recoveryCodes[0]?.id ?? '';
    expect(await store.consumeRecoveryCode(user.id, id)).toBe(true);
    expect(await store.consumeRecoveryCode(user.id, id)).toBe(false);
  });

  it('keeps emails (case-insensitively) and Gatehouse subjects unique', async () => {
    const store = createMemoryStore();
    const lee = await store.createUser(newUser);
    await expect(store.createUser({ ...newUser, email: 'lee@acme.TEST' })).rejects.toBeInstanceOf(StoreConflictError);
    expect(await store.linkGatehouseSub(lee.id, 'sub-1')).toBe(true);
    expect(await store.linkGatehouseSub(lee.id, 'sub-2')).toBe(false);
    const kim = await store.createUser({ ...newUser, email: 'kim@acme.test' });
    expect(await store.linkGatehouseSub(kim.id, 'sub-1')).toBe(false);
    expect((await store.findUserByEmail(' LEE@acme.test '))?.id).toBe(lee.id);
  });

  it('returns copies: changing a returned user does not change the store', async () => {
    const store = createMemoryStore();
    const user = await store.createUser(newUser);
    user.isAdmin = true;
    expect((await store.getUser(user.id))?.isAdmin).toBe(false);
  });

  it('the JSON-file store persists across restarts', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'acme-store-'));
    const file = path.join(dir, 'nested', 'data.json');
    const first = await createJsonFileStore(file);
    const user = await first.createUser(newUser);
    await first.updateSettings({ requireTwoFactor: true });
    await first.enableTotp(user.id, 'SECRET', [], 7);

    const second = await createJsonFileStore(file);
    expect((await second.getSettings()).requireTwoFactor).toBe(true);
    expect((await second.getUser(user.id))?.totp?.lastUsedStep).toBe(7);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1 });
  });
});
