// The closed vocabularies of the data model, defined once: the schema's enums and checks, the rules and
// the pages all take them from here.

/** Ranked from most to least powerful (DESIGN.md §8). */
export const ROLES = ['owner', 'super_admin', 'admin', 'support', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** platform (the single root) → distributor → sub_reseller → organization (DESIGN.md §4). */
export const TENANT_KINDS = ['platform', 'distributor', 'sub_reseller', 'organization'] as const;
export type TenantKind = (typeof TENANT_KINDS)[number];

export const ACCOUNT_STATUSES = ['active', 'disabled'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** totp: an authenticator app · webauthn: a passkey or security key. */
export const AUTHENTICATOR_KINDS = ['totp', 'webauthn'] as const;
export type AuthenticatorKind = (typeof AUTHENTICATOR_KINDS)[number];

export const isPartner = (kind: TenantKind) => kind === 'distributor' || kind === 'sub_reseller';

/**
 * What an upstream sign-in does when no account is linked to the upstream subject yet: `link` an
 * existing account of the tenant with the same verified email, `create` one on first sign-in (with
 * the IdP's default role), or `invite_only`: only accounts already linked (or invited and linked) get in.
 */
export const ACCOUNT_MATCHING = ['link', 'create', 'invite_only'] as const;
export type AccountMatching = (typeof ACCOUNT_MATCHING)[number];
