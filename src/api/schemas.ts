// One zod schema per request and response of /api/v1 (DESIGN.md §12.6): requests are parsed with
// them, responses checked against them, and the OpenAPI document is generated from them.
import { z } from 'zod';
import { GRANTS } from '../domain/clients.ts';
import { ROLES, MFA_STATUSES } from '../domain/admin/users.ts';
import { CREATABLE_KINDS } from '../domain/admin/tenants.ts';
import { MAX_GRACE_DAYS } from '../domain/policy.ts';
import { MAX_PAGE_SIZE } from '../domain/admin/cursor.ts';
import { MAX_IMPORT_ROWS } from '../domain/import/users.ts';
import { JSON_LIMIT_BYTES } from '../http/body.ts';
import { ACCOUNT_MATCHING } from '../domain/kinds.ts';

/** Schemas named here become components of the OpenAPI document. */
export const registry = z.registry<{ id: string }>();
const named = <T extends z.ZodType>(id: string, schema: T): T => {
  registry.add(schema, { id });
  return schema;
};

const timestamp = z.iso.datetime({ offset: true });
const tenantKind = z.enum(['platform', 'distributor', 'sub_reseller', 'organization']);

export const ErrorBody = named(
  'Error',
  z
    .object({
      error: z.string().describe('a stable, machine-readable code such as `forbidden` or `invalid_request`'),
      message: z.string().describe('what went wrong, in a sentence a person can act on'),
      request_id: z.string().describe('quote it when you report a problem'),
    })
    .describe('Every error answer has this shape.'),
);

export const TenantRef = named(
  'TenantRef',
  z.object({ id: z.uuid(), name: z.string(), slug: z.string(), kind: tenantKind }).describe('A tenant, as other objects refer to it.'),
);

export const Tenant = named(
  'Tenant',
  z.object({ id: z.uuid(), name: z.string(), slug: z.string(), kind: tenantKind, parent_id: z.uuid().nullable(), created_at: timestamp }),
);

export const TenantList = named('TenantList', z.object({ home: Tenant, items: z.array(Tenant) }));

export const NewTenant = named(
  'NewTenant',
  z
    .object({
      kind: z.enum(CREATABLE_KINDS).describe('organization or sub_reseller under your own tenant; platform operators may also create distributors'),
      name: z.string().trim().min(1).max(200),
      parent: z.string().min(1).max(100).optional().describe('id or slug of the parent tenant (default: your own tenant)'),
    })
    .strict(),
);

export const User = named(
  'User',
  z.object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    status: z.enum(['active', 'disabled']),
    mfa_status: z.enum(MFA_STATUSES).describe('active: the user has set up MFA; inactive: not yet'),
    invitation_pending: z.boolean().describe('invited and has not chosen a password yet'),
    last_sign_in_at: timestamp.nullable(),
    created_at: timestamp,
    tenant: TenantRef,
  }),
);

export const UserPage = named('UserPage', z.object({ tenant: TenantRef, items: z.array(User), next_cursor: z.string().nullable() }));

const limit = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`page size (1–${MAX_PAGE_SIZE}, default 50)`);
const cursor = z.string().max(512).optional().describe('`next_cursor` of the previous page');

export const UserQuery = z
  .object({
    search: z.string().max(200).optional().describe('part of the email address or name'),
    role: z.enum(ROLES).optional(),
    mfa: z.enum(MFA_STATUSES).optional().describe('MFA Status'),
    status: z.enum(['active', 'disabled']).optional(),
    limit,
    cursor,
  })
  .strict();

export const RoleChange = named('RoleChange', z.object({ role: z.enum(ROLES) }).strict());
export const StatusChange = named(
  'StatusChange',
  z.object({ status: z.enum(['active', 'disabled']).describe('disabled signs the user out everywhere and refuses new sign-ins') }).strict(),
);
export const SessionsEnded = named('SessionsEnded', z.object({ sessions_ended: z.number().int().min(0) }));

export const NewInvitation = named(
  'NewInvitation',
  z
    .object({
      email: z.string().trim().min(3).max(320).describe('the address the invitation goes to; the account is created with it'),
      name: z.string().trim().max(200).optional(),
      role: z.enum(ROLES).optional().describe('default user; never above your own role'),
    })
    .strict(),
);

export const Invitation = named(
  'Invitation',
  z.object({
    user: User,
    invitation_expires_at: timestamp.describe('the emailed link works once, until then; only the newest invitation link works'),
  }),
);

export const MfaReset = named(
  'MfaReset',
  z.object({
    user: User,
    authenticators_removed: z.number().int().min(0),
    recovery_codes_removed: z.number().int().min(0),
    sessions_ended: z.number().int().min(0),
    setup_required_at_next_sign_in: z.boolean().describe('the tenant policy enforces MFA, so the user sets it up again at the next sign-in'),
  }),
);

const policySwitch = z.object({
  on: z.boolean(),
  since: timestamp.nullable().describe('when the switch was turned on'),
  accounts_without_mfa: z.number().int().min(0).describe('accounts this switch covers that have not set up MFA yet'),
  phishing_resistant: z
    .object({
      on: z.boolean(),
      since: timestamp.nullable().describe('when the phishing-resistant level was turned on'),
      accounts_without_passkey: z.number().int().min(0).describe('accounts this switch covers that have no passkey or security key yet'),
    })
    .describe('phishing-resistant MFA (acr urn:gatehouse:acr:phr): only a passkey or security key is accepted; enforces MFA by itself'),
});

export const Policy = named(
  'Policy',
  z.object({
    tenant: TenantRef,
    enforce_mfa_partner_users: policySwitch.describe('Enforce MFA for all partner users: every account of this partner tenant'),
    enforce_mfa_organizations: policySwitch
      .extend({ organization_count: z.number().int().min(0) })
      .describe('Enforce MFA for all organizations: every account of the organizations directly under this partner'),
    grace_days: z.number().int().min(0).max(MAX_GRACE_DAYS).describe('days after a switch is turned on during which users may set up MFA later'),
  }),
);

export const PolicyPatch = named(
  'PolicyPatch',
  z
    .object({
      enforce_mfa_partner_users: z.boolean().optional(),
      enforce_mfa_organizations: z.boolean().optional(),
      enforce_phr_partner_users: z.boolean().optional().describe('require phishing-resistant MFA (a passkey or security key) of every account of this partner tenant'),
      enforce_phr_organizations: z.boolean().optional().describe('require phishing-resistant MFA of every account of the organizations directly under this partner'),
      grace_days: z.number().int().min(0).max(MAX_GRACE_DAYS).optional(),
    })
    .strict()
    .refine(
      (v) => Object.keys(v).length > 0,
      'give at least one of enforce_mfa_partner_users, enforce_mfa_organizations, enforce_phr_partner_users, enforce_phr_organizations, grace_days',
    ),
);

const policySwitchName = z.enum(['partner_users', 'organizations', 'partner_users_phr', 'organizations_phr']);

export const PolicyChangeResult = named(
  'PolicyChangeResult',
  z.object({
    policy: Policy,
    turned_on: z.array(
      z.object({
        switch: policySwitchName,
        accounts_without_mfa: z.number().int().min(0).describe('accounts in its scope that do not meet it yet (for a phr switch: without a passkey)'),
      }),
    ),
    turned_off: z.array(policySwitchName),
  }),
);

const grant = z.enum(GRANTS);
const uriList = z.array(z.string().max(2000)).max(50);

export const Client = named(
  'Client',
  z.object({
    client_id: z.string(),
    name: z.string(),
    disabled: z.boolean(),
    public: z.boolean().describe('no secret; PKCE only'),
    first_party: z.boolean().describe('skips the consent page'),
    require_mfa: z.boolean().describe('every sign-in to this client needs MFA'),
    require_phishing_resistant_mfa: z
      .boolean()
      .describe('every sign-in to this client needs phishing-resistant MFA (acr urn:gatehouse:acr:phr: a passkey or security key); implies require_mfa'),
    grant_types: z.array(grant),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    backchannel_logout_uri: z.string().nullable(),
    scope: z.string().nullable(),
    id_token_signed_response_alg: z.enum(['ES256', 'RS256']),
    tenant: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }).nullable().describe('the tenant the client is bound to; it receives accounts of that tenant only'),
    system: z.boolean().describe("Gatehouse's own console clients: read-only"),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const ClientList = named('ClientList', z.object({ items: z.array(Client) }));

const clientFields = {
  name: z.string().trim().min(1).max(200),
  redirect_uris: uriList,
  post_logout_redirect_uris: uriList,
  grant_types: z.array(grant).min(1),
  first_party: z.boolean(),
  require_mfa: z.boolean(),
  require_phishing_resistant_mfa: z.boolean(),
  scope: z.string().max(1000),
  tenant_id: z.uuid(),
  id_token_signed_response_alg: z.enum(['ES256', 'RS256']),
  backchannel_logout_uri: z.string().max(2000),
};

export const NewClient = named(
  'NewClient',
  z
    .object({
      ...clientFields,
      redirect_uris: clientFields.redirect_uris.optional(),
      post_logout_redirect_uris: clientFields.post_logout_redirect_uris.optional(),
      grant_types: clientFields.grant_types.optional(),
      public: z.boolean().optional(),
      first_party: clientFields.first_party.optional(),
      require_mfa: clientFields.require_mfa.optional(),
      require_phishing_resistant_mfa: clientFields.require_phishing_resistant_mfa.optional(),
      scope: clientFields.scope.optional(),
      tenant_id: clientFields.tenant_id.optional(),
      id_token_signed_response_alg: clientFields.id_token_signed_response_alg.optional(),
      backchannel_logout_uri: clientFields.backchannel_logout_uri.optional(),
    })
    .strict(),
);

export const ClientPatch = named(
  'ClientPatch',
  z
    .object({
      name: clientFields.name.optional(),
      redirect_uris: clientFields.redirect_uris.optional(),
      post_logout_redirect_uris: clientFields.post_logout_redirect_uris.optional(),
      grant_types: clientFields.grant_types.optional(),
      first_party: clientFields.first_party.optional(),
      require_mfa: clientFields.require_mfa.optional(),
      require_phishing_resistant_mfa: clientFields.require_phishing_resistant_mfa.optional(),
      scope: clientFields.scope.optional(),
      tenant_id: clientFields.tenant_id.nullable().optional().describe('null unbinds the client'),
      id_token_signed_response_alg: clientFields.id_token_signed_response_alg.optional(),
      backchannel_logout_uri: clientFields.backchannel_logout_uri.optional(),
    })
    .strict(),
);

export const ClientWithSecret = named(
  'ClientWithSecret',
  z.object({ client: Client, client_secret: z.string().nullable().describe('shown only in this answer; store it now') }),
);

export const AuditEvent = named(
  'AuditEvent',
  z.object({
    id: z.number().int(),
    at: timestamp,
    action: z.string().describe('a past-tense event name such as `mfa.policy.updated` or `authz.denied`'),
    actor: z.string().nullable().describe('account id, `cli`, or `client:<client_id>`'),
    tenant_id: z.uuid().nullable(),
    target: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  }),
);

export const AuditPage = named('AuditPage', z.object({ items: z.array(AuditEvent), next_cursor: z.string().nullable() }));

export const AuditQuery = z
  .object({
    actor: z.string().max(200).optional().describe('account id, `cli` or `client:<client_id>`'),
    target: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    tenant: z.string().max(100).optional().describe('id or slug; default every tenant you may read'),
    since: timestamp.optional().describe('events at or after this instant'),
    until: timestamp.optional().describe('events before this instant'),
    limit,
    cursor,
  })
  .strict();

export const AuditCsvQuery = AuditQuery.omit({ limit: true, cursor: true });

export const Me = named(
  'Me',
  z.object({
    kind: z.enum(['account', 'service']),
    id: z.string().describe('account id, or `client:<client_id>`'),
    display: z.string(),
    role: z.enum(ROLES),
    tenant_id: z.uuid(),
    platform_operator: z.boolean(),
    scopes: z.array(z.string()),
  }),
);

export const IdParam = z.object({ id: z.string().min(1).max(200) });
export const TenantParam = z.object({ tenant: z.string().min(1).max(100).describe('tenant id or slug') });
export const NoParams = z.object({});
export const NoQuery = z.object({}).strict();

const importCell = (max: number) => z.string().max(max).nullable().optional();

export const ImportUser = named(
  'ImportUser',
  z
    .object({
      email: z.string().max(320).describe('required; the account in the tenant is found by it (any letter case)'),
      name: importCell(200),
      role: importCell(40).describe('owner, super_admin, admin, support or user (default user for a new account)'),
      password_hash: importCell(500).describe('argon2id (PHC string, kept as is) or bcrypt ($2a$/$2b$/$2y$, replaced by argon2id at the next sign-in)'),
      totp_secret: importCell(200).describe('base32 secret of the authenticator app the user already has, at least 80 bits: MFA Status is Active at once'),
    })
    .strict()
    .describe('One user of an import. An empty or missing field keeps what an existing account has.'),
);

export const ImportRequest = named(
  'ImportRequest',
  z
    .object({
      users: z.array(ImportUser).min(1).max(MAX_IMPORT_ROWS).optional().describe('the users, as JSON'),
      csv: z.string().min(1).max(JSON_LIMIT_BYTES).optional().describe('or the users as CSV text: a header line naming the columns, then one user per line'),
      dry_run: z.boolean().optional().describe('check every row and report what would happen, without changing anything'),
      notify: z.email().max(320).optional().describe('who gets the one summary mail (default: the signed-in administrator; a service client has no mailbox)'),
    })
    .strict()
    .refine((b) => (b.users === undefined) !== (b.csv === undefined), { message: 'give either "users" or "csv"' }),
);

const importOutcome = z.enum(['created', 'updated', 'unchanged', 'rejected']);

export const ImportReport = named(
  'ImportReport',
  z.object({
    tenant: z.object({ id: z.uuid(), slug: z.string(), name: z.string() }),
    dry_run: z.boolean(),
    summary: z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), rejected: z.number().int() }),
    summary_mailed: z.boolean(),
    rows: z.array(
      z.object({
        row: z.number().int().describe('the CSV line (header = 1) or the position in the JSON list (first = 1)'),
        email: z.string().nullable(),
        outcome: importOutcome,
        reason: z.string().optional().describe('why the row was rejected'),
        changes: z.array(z.enum(['name', 'role', 'password', 'totp'])).optional(),
        account_id: z.uuid().optional(),
      }),
    ),
  }),
);

const idpSettings = {
  display_name: z.string().min(1).max(100).describe('shown on the sign-in button: "Sign in with …"'),
  slug: z.string().min(1).max(40).describe('short name in URLs: lower-case letters, digits and dashes'),
  issuer: z.string().min(1).max(500).describe('https URL; its /.well-known/openid-configuration is read when saved'),
  client_id: z.string().min(1).max(255),
  client_secret: z.string().min(1).max(1000).nullable().describe('stored sealed, never shown again; null removes it'),
  scopes: z.string().min(1).max(500).describe('space separated, with openid'),
  allowed_domains: z.array(z.string().min(1).max(253)).max(50).describe('email domains offered this IdP at sign-in (email-first routing)'),
  account_matching: z.enum(ACCOUNT_MATCHING).describe('link: an existing account of the tenant by verified email · create: also on first sign-in · invite_only: only linked accounts'),
  default_role: z.enum(ROLES).describe('role of an account created on first sign-in'),
  mfa_acr_values: z.array(z.string().min(1).max(200)).max(20).describe('upstream acr values that count as MFA'),
  trust_upstream_mfa: z.boolean().describe('MFA done upstream (amr mfa or one of mfa_acr_values) replaces Gatehouse’s own step'),
  enabled: z.boolean(),
};

export const Idp = named(
  'Idp',
  z.object({
    id: z.uuid(),
    slug: z.string(),
    display_name: z.string(),
    issuer: z.string(),
    client_id: z.string(),
    has_client_secret: z.boolean(),
    scopes: z.string(),
    allowed_domains: z.array(z.string()),
    account_matching: z.enum(ACCOUNT_MATCHING),
    default_role: z.enum(ROLES),
    mfa_acr_values: z.array(z.string()),
    trust_upstream_mfa: z.boolean(),
    enabled: z.boolean(),
    tenant: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }).nullable().describe('null: a global IdP'),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const IdpList = named('IdpList', z.object({ items: z.array(Idp) }));

export const NewIdp = named(
  'NewIdp',
  z
    .object({
      tenant: z.string().min(1).max(100).optional().describe('partner tenant id or slug; omit for a global IdP (platform operators)'),
      ...idpSettings,
      slug: idpSettings.slug.optional(),
      client_secret: idpSettings.client_secret.optional(),
      scopes: idpSettings.scopes.optional(),
      allowed_domains: idpSettings.allowed_domains.optional(),
      account_matching: idpSettings.account_matching.optional(),
      default_role: idpSettings.default_role.optional(),
      mfa_acr_values: idpSettings.mfa_acr_values.optional(),
      trust_upstream_mfa: idpSettings.trust_upstream_mfa.optional(),
      enabled: idpSettings.enabled.optional(),
    })
    .strict(),
);

export const IdpPatch = named('IdpPatch', z.object(idpSettings).partial().strict());
