// The whole data model. Later features fill these tables; they do not reshape them.
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { ACCOUNT_MATCHING, ACCOUNT_STATUSES, AUTHENTICATOR_KINDS, ROLES, TENANT_KINDS } from '../domain/kinds.ts';

/** `column in ('a','b',…)` from one of the vocabularies, so a check never drifts from its enum. */
const oneOf = (column: AnyPgColumn, values: readonly string[]) => sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(','))})`;

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: TENANT_KINDS }).notNull(),
    parentId: uuid('parent_id').references((): AnyPgColumn => tenants.id, { onDelete: 'restrict' }),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    enforceMfaPartnerUsers: boolean('enforce_mfa_partner_users').notNull().default(false),
    enforceMfaOrganizations: boolean('enforce_mfa_organizations').notNull().default(false),
    /** when each switch was last turned on (null while off): the grace period counts from there. */
    enforceMfaPartnerUsersSince: timestamp('enforce_mfa_partner_users_since', { withTimezone: true }),
    enforceMfaOrganizationsSince: timestamp('enforce_mfa_organizations_since', { withTimezone: true }),
    /**
     * the phishing-resistant level of each switch: a passkey or security key is the only factor accepted
     * (it enforces MFA by itself). Each has its own "since", so a grace period counts from when it went on.
     */
    enforcePhrPartnerUsers: boolean('enforce_phr_partner_users').notNull().default(false),
    enforcePhrOrganizations: boolean('enforce_phr_organizations').notNull().default(false),
    enforcePhrPartnerUsersSince: timestamp('enforce_phr_partner_users_since', { withTimezone: true }),
    enforcePhrOrganizationsSince: timestamp('enforce_phr_organizations_since', { withTimezone: true }),
    /** days (0–30) after a switch is turned on during which an affected user may still set up MFA later. */
    mfaGraceDays: integer('mfa_grace_days').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('tenants_slug_key').on(t.slug),
    index('tenants_parent_idx').on(t.parentId),
    uniqueIndex('tenants_single_platform').on(t.kind).where(sql`${t.kind} = 'platform'`),
    check('tenants_kind_check', oneOf(t.kind, TENANT_KINDS)),
    check('tenants_root_check', sql`(${t.kind} = 'platform') = (${t.parentId} is null)`),
    check('tenants_mfa_grace_days_check', sql`${t.mfaGraceDays} between 0 and 30`),
  ],
);

export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    emailVerified: boolean('email_verified').notNull().default(false),
    name: text('name'),
    role: text('role', { enum: ROLES }).notNull().default('user'),
    /** argon2id PHC string; null for accounts that only sign in through an upstream IdP. */
    passwordHash: text('password_hash'),
    status: text('status', { enum: ACCOUNT_STATUSES }).notNull().default('active'),
    /** platform operators manage tenants, clients, keys and upstream IdPs. */
    platformOperator: boolean('platform_operator').notNull().default(false),
    /** where the account came from: created here, imported from another platform, or provisioned by SCIM. */
    source: text('source', { enum: ['local', 'import', 'scim', 'upstream'] }).notNull().default('local'),
    externalId: text('external_id'),
    /**
     * sha-256 of the password hash a bulk import last wrote: re-running the same file recognises it
     * even after the first sign-in upgraded a bcrypt hash to argon2id, and leaves the password alone.
     */
    importedPasswordDigest: text('imported_password_digest'),
    passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('accounts_tenant_email_key').on(t.tenantId, sql`lower(${t.email})`),
    index('accounts_email_idx').on(sql`lower(${t.email})`),
    check('accounts_role_check', oneOf(t.role, ROLES)),
    check('accounts_status_check', oneOf(t.status, ACCOUNT_STATUSES)),
  ],
);

/**
 * Confirmed second factors, several per account. A pending enrolment is a flow object in the
 * key-value store, never a row: a row exists only once its owner proved it with a code or an assertion.
 */
export const authenticators = pgTable(
  'authenticators',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: AUTHENTICATOR_KINDS }).notNull(),
    /** chosen by the user ("Work phone"); shown in Security Settings and in mails. */
    label: text('label').notNull(),
    source: text('source', { enum: ['enrolled', 'imported'] }).notNull().default('enrolled'),
    /** totp: the base32 secret, sealed with the account as context. */
    secretEnc: text('secret_enc'),
    /** totp: highest RFC 6238 time step accepted; a step is never accepted twice (compare-and-set). */
    lastUsedStep: bigint('last_used_step', { mode: 'number' }),
    /** webauthn: base64url credential id, public key (COSE), signature counter and what the authenticator reported. */
    credentialId: text('credential_id'),
    publicKey: text('public_key'),
    signCount: bigint('sign_count', { mode: 'number' }),
    transports: text('transports').array(),
    aaguid: text('aaguid'),
    userVerified: boolean('user_verified'),
    backedUp: boolean('backed_up'),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('authenticators_account_idx').on(t.accountId),
    uniqueIndex('authenticators_credential_id_key').on(t.credentialId),
    check('authenticators_kind_check', oneOf(t.kind, AUTHENTICATOR_KINDS)),
    check(
      'authenticators_kind_fields_check',
      sql`(${t.kind} <> 'totp' or (${t.secretEnc} is not null and ${t.lastUsedStep} is not null))
      and (${t.kind} <> 'webauthn' or (${t.credentialId} is not null and ${t.publicKey} is not null and ${t.signCount} is not null))`,
    ),
  ],
);

export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('mfa_recovery_codes_account_idx').on(t.accountId)],
);

export const mfaLockouts = pgTable('mfa_lockouts', {
  accountId: uuid('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  failures: integer('failures').notNull().default(0),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  lockCount: integer('lock_count').notNull().default(0),
  updatedAt: updatedAt(),
});

/** Single-use links (MFA reset confirmation, operator setup, ...); only a SHA-256 digest is stored. */
export const emailTokens = pgTable(
  'email_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    /**
     * The address the link was mailed to (lower case). A link bound to an address rather than one account
     * (password reset: one email may own accounts in several tenants) is found and replaced by it.
     */
    email: text('email'),
    purpose: text('purpose').notNull(),
    tokenHash: text('token_hash').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('email_tokens_hash_key').on(t.tokenHash),
    index('email_tokens_account_idx').on(t.accountId),
    index('email_tokens_email_idx').on(t.purpose, t.email),
  ],
);

/**
 * Outgoing mail waiting for delivery (durable: an SMTP outage never fails the action that wrote it).
 * Bodies are sealed with the secret key because they may hold single-use links, and are blanked once
 * sent. A sender claims one row at a time by moving `locked_until` forward, so instances never send
 * the same row concurrently; a failed attempt moves `next_attempt_at` back by an exponential delay.
 */
export const mailQueue = pgTable(
  'mail_queue',
  {
    id: uuid('id').primaryKey(),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    /** sealed plain-text body ('' once sent). */
    text: text('text').notNull(),
    /** sealed HTML body (null once sent, or when the message has none). */
    html: text('html'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /** a sender is working on the row until then; after it (a crashed sender) another may retry it. */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** given up: refused by the mail server for good, or too many attempts. */
    failedAt: timestamp('failed_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (t) => [
    index('mail_queue_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.sentAt} is null and ${t.failedAt} is null`),
    index('mail_queue_sent_idx').on(t.sentAt),
  ],
);

export const clients = pgTable(
  'clients',
  {
    clientId: text('client_id').primaryKey(),
    name: text('name').notNull(),
    /** oidc-provider client metadata, without the secret. */
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
    /** SHA-256 hex of a generated ≥256-bit secret; null for clients without a secret (public, private_key_jwt). */
    secretHash: text('secret_hash'),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    firstParty: boolean('first_party').notNull().default(false),
    requireMfa: boolean('require_mfa').notNull().default(false),
    /** every sign-in needs phishing-resistant MFA (acr phr: a passkey or security key); implies require_mfa. */
    requirePhishingResistantMfa: boolean('require_phishing_resistant_mfa').notNull().default(false),
    /** may introspect tokens issued to other clients (a resource server, RFC 7662 §4). */
    mayIntrospect: boolean('may_introspect').notNull().default(false),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('clients_tenant_idx').on(t.tenantId)],
);

export const upstreamIdps = pgTable(
  'upstream_idps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    slug: text('slug').notNull(),
    displayName: text('display_name').notNull(),
    issuer: text('issuer').notNull(),
    clientId: text('client_id').notNull(),
    clientSecretEnc: text('client_secret_enc'),
    scopes: text('scopes').notNull().default('openid email profile'),
    trustUpstreamMfa: boolean('trust_upstream_mfa').notNull().default(false),
    enabled: boolean('enabled').notNull().default(true),
    /** lower-case email domains offered this IdP on the sign-in page (email-first routing). */
    allowedDomains: text('allowed_domains').array().notNull().default(sql`'{}'::text[]`),
    /** what a first upstream sign-in does without a link (src/domain/kinds.ts ACCOUNT_MATCHING). */
    accountMatching: text('account_matching', { enum: ACCOUNT_MATCHING }).notNull().default('link'),
    /** the role of an account created on first sign-in (account matching `create`). */
    defaultRole: text('default_role', { enum: ROLES }).notNull().default('user'),
    /** upstream `acr` values that count as MFA done upstream (besides `amr` containing `mfa`). */
    mfaAcrValues: text('mfa_acr_values').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('upstream_idps_slug_key').on(t.slug),
    index('upstream_idps_tenant_idx').on(t.tenantId),
    check('upstream_idps_account_matching_check', oneOf(t.accountMatching, ACCOUNT_MATCHING)),
    check('upstream_idps_default_role_check', oneOf(t.defaultRole, ROLES)),
  ],
);

export const accountLinks = pgTable(
  'account_links',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    idpId: uuid('idp_id')
      .notNull()
      .references(() => upstreamIdps.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.idpId, t.subject] }), index('account_links_account_idx').on(t.accountId)],
);

export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  privateJwkEnc: text('private_jwk_enc').notNull(),
  /** next: published, not signing yet · active: signs · retiring: published only until retire_after. */
  state: text('state', { enum: ['next', 'active', 'retiring', 'retired'] }).notNull(),
  createdAt: createdAt(),
  activatedAt: timestamp('activated_at', { withTimezone: true }),
  retireAfter: timestamp('retire_after', { withTimezone: true }),
});

export const cookieKeys = pgTable('cookie_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  keyEnc: text('key_enc').notNull(),
  state: text('state', { enum: ['active', 'retiring'] }).notNull().default('active'),
  createdAt: createdAt(),
});

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorAccountId: uuid('actor_account_id'),
    /** who acted when it was not an account: `cli` (the local operator) or `client:<client_id>` (a service). */
    actor: text('actor'),
    tenantId: uuid('tenant_id'),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index('audit_events_at_idx').on(t.at),
    index('audit_events_tenant_idx').on(t.tenantId, t.at),
    index('audit_events_target_idx').on(t.target),
    index('audit_events_actor_account_idx').on(t.actorAccountId),
  ],
);

/** oidc-provider artifacts when no Redis is configured. */
export const oidcPayloads = pgTable(
  'oidc_payloads',
  {
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    userCode: text('user_code'),
    uid: text('uid'),
    accountId: text('account_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.model, t.id] }),
    index('oidc_payloads_grant_idx').on(t.grantId),
    index('oidc_payloads_uid_idx').on(t.uid),
    index('oidc_payloads_user_code_idx').on(t.userCode),
    index('oidc_payloads_account_idx').on(t.accountId),
    index('oidc_payloads_expires_idx').on(t.expiresAt),
  ],
);

/** Fixed-window counters (rate limits, lockout) when no Redis is configured. */
export const counters = pgTable(
  'counters',
  {
    key: text('key').primaryKey(),
    value: bigint('value', { mode: 'number' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('counters_expires_idx').on(t.expiresAt)],
);

/** Short-lived values with an expiry (interaction page state, ...) when no Redis is configured. */
export const kvEntries = pgTable(
  'kv_entries',
  {
    key: text('key').primaryKey(),
    value: jsonb('value').$type<unknown>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('kv_entries_expires_idx').on(t.expiresAt)],
);

/**
 * "Remember this browser": after a second factor, a browser may skip the code for a while. The
 * cookie holds the row id and a random token; only a keyed digest of the token is stored, the row
 * names its account, and revoking sets `revoked_at` (listed under Sessions until it expires).
 */
export const rememberedBrowsers = pgTable(
  'remembered_browsers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    userAgent: text('user_agent'),
    ip: text('ip'),
    /** the last time a real code (or recovery code) was typed in this browser for this account. */
    lastCodeAt: timestamp('last_code_at', { withTimezone: true }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('remembered_browsers_account_idx').on(t.accountId), uniqueIndex('remembered_browsers_token_key').on(t.tokenHash)],
);
