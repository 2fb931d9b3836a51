/**
 * The store persisted to one JSON file (DATA_FILE). The document is loaded once and kept in memory;
 * every change is written to a temporary file that then replaces the data file, one write at a time.
 * One process per file: this is a demo app's store, not a shared database.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { createMemoryStore, emptyStoreData } from './memory-store.ts';
import type { DownstreamStore, StoreData } from './types.ts';

const recoveryCodeSchema = z.object({ id: z.string(), hash: z.string(), usedAt: z.string().nullable() });
const storeSchema = z.object({
  version: z.literal(1),
  users: z.array(z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    passwordHash: z.string().nullable(),
    gatehouseSub: z.string().nullable(),
    isAdmin: z.boolean(),
    createdAt: z.string(),
    totp: z.object({
      secret: z.string(),
      lastUsedStep: z.number(),
      enabledAt: z.string(),
      recoveryCodes: z.array(recoveryCodeSchema),
    }).nullable(),
  })),
  settings: z.object({ requireTwoFactor: z.boolean() }),
});

async function load(file: string): Promise<StoreData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyStoreData();
    throw error;
  }
  const parsed = storeSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not an Acme MDR data file: ${parsed.error.message}`);
  return parsed.data;
}

export async function createJsonFileStore(file: string): Promise<DownstreamStore> {
  const target = path.resolve(file);
  await mkdir(path.dirname(target), { recursive: true });
  const data = await load(target);
  let queue: Promise<void> = Promise.resolve();

  const persist = (snapshot: StoreData): Promise<void> => {
    const json = `${JSON.stringify(snapshot, null, 2)}\n`;
    queue = queue.catch(() => {}).then(async () => {
      const temporary = `${target}.${process.pid}.tmp`;
      await writeFile(temporary, json, { mode: 0o600 });
      await rename(temporary, target);
    });
    return queue;
  };

  return createMemoryStore(data, persist);
}
