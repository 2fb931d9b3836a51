// `gatehouse idp create|list|update|delete`: upstream OpenID Connect identity providers, as the
// trusted local operator (audited as `cli`), through the same use cases as /admin and /api/v1.
import type { Runtime } from '../runtime.ts';
import { cliActor, type AdminContext } from '../domain/admin/index.ts';
import type { IdpPatch } from '../domain/federation/idps.ts';
import { idpJson } from '../domain/admin/json.ts';
import { bootstrapOf } from '../setup/routes.ts';
import type { Command, FlagSpec } from './commands.ts';
import { UsageError, list, onOff, str, type Flags } from './flags.ts';

async function asCli(runtime: Runtime): Promise<AdminContext> {
  const platform = await bootstrapOf(runtime).platform();
  return { actor: cliActor(platform.id), request: { requestId: 'cli' } };
}

const settingFlags: FlagSpec = {
  name: { type: 'string', description: 'display name on the sign-in button ("Sign in with …")' },
  slug: { type: 'string', description: 'short name in URLs (default: from the display name)' },
  issuer: { type: 'string', description: 'issuer URL; its /.well-known/openid-configuration is read' },
  'client-id': { type: 'string', description: 'client id registered at the upstream' },
  'client-secret': { type: 'string', description: 'client secret registered at the upstream (stored sealed)' },
  scopes: { type: 'string', description: 'space separated, with openid (default "openid email profile")' },
  domain: { type: 'string', multiple: true, description: 'email domain offered this IdP at sign-in (repeat for several)' },
  matching: { type: 'string', description: 'link (existing account by verified email, default) | create (on first sign-in) | invite_only' },
  'default-role': { type: 'string', description: 'role of accounts created on first sign-in (default user)' },
  'mfa-acr': { type: 'string', multiple: true, description: 'upstream acr value that counts as MFA (repeat)' },
  'trust-upstream-mfa': { type: 'string', description: 'on | off (default off): MFA done upstream replaces Gatehouse’s own step' },
  enabled: { type: 'string', description: 'on | off' },
};

/** The settings given on the command line; absent flags are left out (update keeps them). */
function settings(flags: Flags): IdpPatch {
  const patch: Record<string, unknown> = {
    displayName: str(flags, 'name'),
    slug: str(flags, 'slug'),
    issuer: str(flags, 'issuer'),
    clientId: str(flags, 'client-id'),
    clientSecret: str(flags, 'client-secret'),
    scopes: str(flags, 'scopes'),
    allowedDomains: list(flags, 'domain'),
    accountMatching: str(flags, 'matching'),
    defaultRole: str(flags, 'default-role'),
    mfaAcrValues: list(flags, 'mfa-acr'),
    trustUpstreamMfa: onOff(flags, 'trust-upstream-mfa'),
    enabled: onOff(flags, 'enabled'),
  };
  // the use case validates the values and names a bad one (a 400 with the field)
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as IdpPatch;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

export const idpCommands: Record<string, Command> = {
  'idp create': {
    summary: 'connect an upstream OpenID Connect identity provider (global, or for one partner tenant)',
    flags: {
      tenant: { type: 'string', description: 'partner tenant id or slug (default: global, offered to everyone)' },
      ...settingFlags,
      name: { ...settingFlags.name!, required: true },
      issuer: { ...settingFlags.issuer!, required: true },
      'client-id': { ...settingFlags['client-id']!, required: true },
    },
    async run(runtime, flags) {
      const ctx = await asCli(runtime);
      const s = settings(flags);
      const tenant = str(flags, 'tenant');
      return idpJson(await runtime.idps.create(ctx, { ...s, displayName: s.displayName ?? '', issuer: s.issuer ?? '', clientId: s.clientId ?? '', ...(tenant ? { tenant } : {}) }));
    },
    text: (r) => json(r),
  },

  'idp list': {
    summary: 'list upstream identity providers',
    flags: {},
    async run(runtime) {
      return (await runtime.idps.list(await asCli(runtime))).map(idpJson);
    },
    text(r) {
      const rows = r as ReturnType<typeof idpJson>[];
      if (rows.length === 0) return '(none)';
      return ['slug\tdisplay_name\tissuer\ttenant\tmatching\ttrust_upstream_mfa\tenabled', ...rows.map((i) => [i.slug, i.display_name, i.issuer, i.tenant?.slug ?? '(global)', i.account_matching, i.trust_upstream_mfa, i.enabled].join('\t'))].join('\n');
    },
  },

  'idp update': {
    summary: 'change an upstream identity provider (only the flags given)',
    flags: { idp: { type: 'string', required: true, description: 'id or slug of the identity provider' }, ...settingFlags },
    check(flags) {
      if (Object.keys(settings(flags)).length === 0) throw new UsageError('give at least one setting to change');
    },
    async run(runtime, flags) {
      const ctx = await asCli(runtime);
      const idp = await runtime.idps.resolve(ctx, str(flags, 'idp') ?? '');
      return idpJson(await runtime.idps.update(ctx, idp.id, settings(flags)));
    },
    text: (r) => json(r),
  },

  'idp delete': {
    summary: 'remove an upstream identity provider (its account links go; the accounts stay)',
    flags: { idp: { type: 'string', required: true, description: 'id or slug of the identity provider' } },
    async run(runtime, flags) {
      const ctx = await asCli(runtime);
      const idp = await runtime.idps.resolve(ctx, str(flags, 'idp') ?? '');
      await runtime.idps.remove(ctx, idp.id);
      return { deleted: idp.slug };
    },
    text: (r) => `Deleted ${(r as { deleted: string }).deleted}.`,
  },
};
