// `gatehouse <noun> <verb>`: each command parses its flags, calls a use case, and returns data that
// the runner prints as text or, with --json, as JSON.
import type { Runtime } from '../runtime.ts';
import { bootstrapOf } from '../setup/routes.ts';
import { notFound } from '../domain/errors.ts';
import { parseBase32Secret } from '../domain/mfa/totp.ts';
import { adminCommands } from './admin-commands.ts';
import { importCommands } from './import-commands.ts';
import { idpCommands } from './idp-commands.ts';
import { list, need, str, type Flags } from './flags.ts';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; required?: boolean; description: string }>;

export interface Command {
  summary: string;
  flags: FlagSpec;
  /** false for commands that must not open the database themselves. */
  run(runtime: Runtime, flags: Flags): Promise<unknown>;
  /** human-readable rendering of the result. */
  text(result: unknown): string;
  /** flag checks that need no database: a UsageError here exits 2 before anything is opened. */
  check?(flags: Flags): void;
}

const bool = (flags: Flags, name: string) => flags[name] === true;
const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v ?? ''));
const table = (rows: Record<string, unknown>[], columns: string[]) =>
  rows.length === 0 ? '(none)' : [columns.join('\t'), ...rows.map((r) => columns.map((c) => cell(r[c])).join('\t'))].join('\n');
const json = (v: unknown) => JSON.stringify(v, null, 2);

async function importTotp(runtime: Runtime, tenantRef: string, email: string, secret: string, actor: string) {
  const tenant = await runtime.directory.tenantByRef(tenantRef);
  const account = await runtime.repos.accounts.findInTenant(tenant.id, email);
  if (!account) throw notFound(`No account ${email} in tenant ${tenant.slug}.`, 'account_not_found');
  const outcome = await runtime.mfa.importTotp({ id: account.id, email: account.email, name: account.name, tenantId: tenant.id, tenantName: tenant.name }, secret, { requestId: actor });
  return { account_id: account.id, tenant_id: tenant.id, email: account.email, mfa: 'active', source: 'imported', outcome };
}

export const commands: Record<string, Command> = {
  migrate: {
    summary: 'apply database migrations (the server also applies them at start)',
    flags: {},
    async run(runtime) {
      const platform = await bootstrapOf(runtime).platform();
      return { migrated: true, database: runtime.database.kind, platform_tenant: platform.id };
    },
    text: () => 'Database is up to date.',
  },

  'tenant create': {
    summary: 'create a distributor, sub-reseller or organization',
    flags: {
      kind: { type: 'string', required: true, description: 'distributor | sub_reseller | organization' },
      name: { type: 'string', required: true, description: 'display name' },
      parent: { type: 'string', description: 'parent tenant id or slug (default: the platform)' },
    },
    async run(runtime, flags) {
      await bootstrapOf(runtime).platform();
      const t = await runtime.directory.createTenant({ kind: need(flags, 'kind'), name: need(flags, 'name'), parent: str(flags, 'parent') }, { requestId: 'cli' });
      return { id: t.id, slug: t.slug, kind: t.kind, name: t.name, parent_id: t.parentId };
    },
    text: (r) => json(r),
  },

  'tenant list': {
    summary: 'list tenants',
    flags: {},
    async run(runtime) {
      return (await runtime.repos.tenants.list()).map((t) => ({ id: t.id, slug: t.slug, kind: t.kind, name: t.name, parent_id: t.parentId }));
    },
    text: (r) => table(r as Record<string, unknown>[], ['id', 'slug', 'kind', 'name']),
  },

  'user create': {
    summary: 'create an account in a tenant',
    flags: {
      tenant: { type: 'string', required: true, description: 'tenant id or slug' },
      email: { type: 'string', required: true, description: 'email address' },
      password: { type: 'string', description: 'initial password (at least 8 characters)' },
      role: { type: 'string', description: 'owner | super_admin | admin | support | user (default user)' },
      name: { type: 'string', description: 'display name' },
      'totp-secret': { type: 'string', description: 'base32 TOTP secret of an authenticator the user already has (imported, confirmed)' },
    },
    async run(runtime, flags) {
      const secret = str(flags, 'totp-secret');
      if (secret) parseBase32Secret(secret); // refuse a bad secret before anything is created
      const account = await runtime.directory.createAccount(
        { tenant: need(flags, 'tenant'), email: need(flags, 'email'), password: str(flags, 'password'), role: str(flags, 'role'), name: str(flags, 'name'), source: str(flags, 'totp-secret') ? 'import' : 'local' },
        { requestId: 'cli' },
      );
      if (secret) await importTotp(runtime, account.tenant.id, account.email, secret, 'cli');
      return { id: account.id, tenant_id: account.tenant.id, tenant: account.tenant.slug, email: account.email, role: account.role, mfa: secret ? 'active' : 'inactive' };
    },
    text: (r) => json(r),
  },

  'user mfa import-totp': {
    summary: "store a user's existing authenticator (from another platform) as confirmed",
    flags: {
      tenant: { type: 'string', required: true, description: 'tenant id or slug' },
      email: { type: 'string', required: true, description: 'email of the account in that tenant' },
      secret: { type: 'string', required: true, description: 'base32 TOTP secret (at least 80 bits)' },
    },
    run: (runtime, flags) => importTotp(runtime, need(flags, 'tenant'), need(flags, 'email'), need(flags, 'secret'), 'cli'),
    text: (r) => json(r),
  },

  'user sessions end': {
    summary: "sign a user out everywhere: end their sessions and notify apps by back-channel logout",
    flags: {
      tenant: { type: 'string', required: true, description: 'tenant id or slug' },
      email: { type: 'string', required: true, description: 'email of the account in that tenant' },
    },
    async run(runtime, flags) {
      const tenant = await runtime.directory.tenantByRef(need(flags, 'tenant'));
      const account = await runtime.repos.accounts.findInTenant(tenant.id, need(flags, 'email'));
      if (!account) throw notFound(`No account ${need(flags, 'email')} in tenant ${tenant.slug}.`, 'account_not_found');
      const ended = await runtime.sessions.end(account.id, { reason: 'administrator', actor: 'cli', tenantId: tenant.id, requestId: 'cli' });
      return { account_id: account.id, sessions_ended: ended.sessions, clients_notified: ended.notified, notification_failures: ended.failed };
    },
    text: (r) => json(r),
  },

  'client create': {
    summary: 'register a relying party (the secret is shown once)',
    flags: {
      name: { type: 'string', required: true, description: 'application name shown to users' },
      'redirect-uri': { type: 'string', multiple: true, description: 'allowed redirect URI (repeat for several)' },
      grant: { type: 'string', multiple: true, description: 'authorization_code | refresh_token | client_credentials (repeat)' },
      public: { type: 'boolean', description: 'public client (no secret; PKCE)' },
      'token-auth-method': { type: 'string', description: 'client_secret_basic (default) | client_secret_post | private_key_jwt (with --jwks-uri)' },
      'jwks-uri': { type: 'string', description: 'where a private_key_jwt client publishes its public keys' },
      'first-party': { type: 'boolean', description: 'first-party application: no consent page' },
      'require-mfa': { type: 'boolean', description: 'every sign-in to this client needs MFA' },
      'require-phishing-resistant-mfa': { type: 'boolean', description: 'every sign-in needs a passkey or security key (acr phr); implies --require-mfa' },
      introspect: { type: 'boolean', description: 'a resource server: may introspect tokens issued to other clients (of its tenant, when bound)' },
      'post-logout-redirect-uri': { type: 'string', multiple: true, description: 'allowed post-logout redirect URI' },
      'backchannel-logout-uri': { type: 'string', description: 'back-channel logout endpoint of the client' },
      scope: { type: 'string', description: 'allowed scopes, space separated' },
      tenant: { type: 'string', description: 'bind the client to one tenant (id or slug)' },
      'id-token-alg': { type: 'string', description: 'ES256 (default) | RS256' },
    },
    async run(runtime, flags) {
      const tenant = str(flags, 'tenant') ? await runtime.directory.tenantByRef(need(flags, 'tenant')) : undefined;
      const grants = list(flags, 'grant') ?? [];
      return runtime.clients.register(
        {
          name: need(flags, 'name'),
          redirectUris: list(flags, 'redirect-uri') ?? [],
          postLogoutRedirectUris: list(flags, 'post-logout-redirect-uri') ?? [],
          ...(grants.length ? { grants: grants as ('authorization_code' | 'refresh_token' | 'client_credentials')[] } : {}),
          public: bool(flags, 'public'),
          ...(str(flags, 'token-auth-method') ? { tokenAuthMethod: need(flags, 'token-auth-method') as 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' } : {}),
          jwksUri: str(flags, 'jwks-uri'),
          firstParty: bool(flags, 'first-party'),
          requireMfa: bool(flags, 'require-mfa'),
          requirePhishingResistantMfa: bool(flags, 'require-phishing-resistant-mfa'),
          mayIntrospect: bool(flags, 'introspect'),
          scope: str(flags, 'scope'),
          tenantId: tenant?.id,
          backchannelLogoutUri: str(flags, 'backchannel-logout-uri'),
          ...(str(flags, 'id-token-alg') ? { idTokenAlg: need(flags, 'id-token-alg') as 'ES256' | 'RS256' } : {}),
        },
        { requestId: 'cli' },
      );
    },
    text(r) {
      const c = r as { client_id: string; client_secret?: string; token_endpoint_auth_method?: string };
      const noSecret = c.token_endpoint_auth_method === 'private_key_jwt' ? '(private_key_jwt: no secret; sign client assertions with a key from the jwks_uri)' : '(public client: no secret)';
      return `client_id:     ${c.client_id}\n${c.client_secret ? `client_secret: ${c.client_secret}\n(the secret is shown only now; store it safely)` : noSecret}`;
    },
  },

  'client list': {
    summary: 'list registered clients',
    flags: {},
    run: (runtime) => runtime.clients.list(),
    text: (r) => table(r as Record<string, unknown>[], ['client_id', 'name', 'first_party', 'require_mfa', 'public']),
  },

  'keys list': {
    summary: 'list signing keys and their state',
    flags: {},
    async run(runtime) {
      await runtime.keys.ensure();
      return (await runtime.keys.list()).map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, created_at: k.createdAt, retire_after: k.retireAfter }));
    },
    text: (r) => table(r as Record<string, unknown>[], ['kid', 'alg', 'state', 'created_at', 'retire_after']),
  },

  'keys rotate': {
    summary: 'next key starts signing, current key keeps being published until its tokens expire, a new next key is published',
    flags: {},
    async run(runtime) {
      await runtime.keys.ensure();
      const r = await runtime.keys.rotate(runtime.config.keyRetireAfterSeconds);
      return { activated: r.activated, retiring: r.retiring.map((x) => ({ kid: x.kid, retire_after: x.retireAfter })), published_next: r.created, dropped: r.dropped };
    },
    text: (r) => json(r),
  },

  ...adminCommands,
  ...importCommands,
  ...idpCommands,
};
