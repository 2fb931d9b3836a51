/**
 * Runs Acme MDR. Environment:
 *   PORT              listen port (default 4000)
 *   PUBLIC_URL        public base URL (default http://127.0.0.1:$PORT)
 *   GATEHOUSE_ISSUER  Gatehouse issuer, e.g. http://127.0.0.1:3000 (unset: direct sign-in only)
 *   CLIENT_ID         client id registered at Gatehouse (required with GATEHOUSE_ISSUER)
 *   CLIENT_SECRET     client secret (unset: public client, PKCE only)
 *   DATA_FILE         JSON data file (unset: in memory, lost on exit)
 *   MAX_AUTH_AGE      RP max authentication age in seconds (optional)
 *   SEED_ADMIN_EMAIL / SEED_ADMIN_PASSWORD  first admin when the store is empty
 *                     (default admin@acme.test and a random password printed once)
 *
 *   node examples/downstream-app/main.ts
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { z } from 'zod';
import { createDownstreamApp, createJsonFileStore, createLocalUser, createMemoryStore } from './app.ts';
import type { DownstreamStore } from './app.ts';

const optional = z.string().trim().min(1).optional().catch(undefined);
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  PUBLIC_URL: z.url().optional(),
  GATEHOUSE_ISSUER: z.url().optional(),
  CLIENT_ID: optional,
  CLIENT_SECRET: optional,
  DATA_FILE: optional,
  MAX_AUTH_AGE: z.coerce.number().int().positive().optional(),
  SEED_ADMIN_EMAIL: z.email().default('admin@acme.test'),
  SEED_ADMIN_PASSWORD: optional,
}).refine((env) => !env.GATEHOUSE_ISSUER || env.CLIENT_ID, { message: 'CLIENT_ID is required with GATEHOUSE_ISSUER', path: ['CLIENT_ID'] });

const emptyToUndefined = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''));
const parsed = envSchema.safeParse(emptyToUndefined);
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'acme-mdr' });
if (!parsed.success) {
  logger.fatal({ issues: z.flattenError(parsed.error).fieldErrors }, 'invalid environment');
  process.exit(2);
}
const env = parsed.data;
const publicUrl = env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`;

async function seed(store: DownstreamStore): Promise<void> {
  if (await store.findUserByEmail(env.SEED_ADMIN_EMAIL)) return;
  const password = env.SEED_ADMIN_PASSWORD ?? randomBytes(12).toString('base64url');
  await createLocalUser(store, { email: env.SEED_ADMIN_EMAIL, name: 'Acme Admin', password, isAdmin: true });
  // Printed once, to the terminal only, so the demo can be tried; never logged.
  if (!env.SEED_ADMIN_PASSWORD) process.stdout.write(`Acme MDR admin: ${env.SEED_ADMIN_EMAIL} / ${password}\n`);
}

const store = env.DATA_FILE ? await createJsonFileStore(env.DATA_FILE) : createMemoryStore();
await seed(store);
if (env.GATEHOUSE_ISSUER && new URL(env.GATEHOUSE_ISSUER).protocol === 'http:') {
  logger.warn('GATEHOUSE_ISSUER is plain http: acceptable on a developer machine only');
}

const app = createDownstreamApp({
  publicUrl,
  issuer: env.GATEHOUSE_ISSUER,
  clientId: env.CLIENT_ID,
  clientSecret: env.CLIENT_SECRET,
  maxAuthAgeSeconds: env.MAX_AUTH_AGE,
  store,
  logger,
});
const server = app.listen(env.PORT, () => {
  logger.info({ publicUrl, unifiedLogin: Boolean(env.GATEHOUSE_ISSUER), dataFile: env.DATA_FILE ?? null }, 'Acme MDR listening');
});

function shutdown(signal: string): void {
  logger.info({ signal }, 'shutting down');
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
