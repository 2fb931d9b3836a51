// The admin views as JSON, one shape per view, for every surface that answers in JSON: /api/v1 (whose
// response schemas in src/api/schemas.ts describe these shapes) and the command line's --json.
import type { UserView } from './users.ts';
import type { ClientView } from './clients.ts';
import type { PolicySwitch, PolicyView } from './policy.ts';
import type { TenantRow } from './context.ts';
import type { IdpView } from '../federation/idps.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A tenant named inside another view. */
export const tenantRef = (t: Pick<TenantRow, 'id' | 'name' | 'slug' | 'kind'>) => ({ id: t.id, name: t.name, slug: t.slug, kind: t.kind });

export const userJson = (u: UserView) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  status: u.status,
  mfa_status: u.mfa,
  invitation_pending: u.invitationPending,
  last_sign_in_at: iso(u.lastSignInAt),
  created_at: u.createdAt.toISOString(),
  tenant: tenantRef(u.tenant),
});

const phishingResistantJson = (p: PolicySwitch['phishingResistant']) => ({ on: p.on, since: iso(p.since), accounts_without_passkey: p.accountsWithoutPasskey });

export const policyJson = (p: PolicyView) => ({
  tenant: tenantRef(p.tenant),
  enforce_mfa_partner_users: {
    on: p.partnerUsers.on,
    since: iso(p.partnerUsers.since),
    accounts_without_mfa: p.partnerUsers.accountsWithoutMfa,
    phishing_resistant: phishingResistantJson(p.partnerUsers.phishingResistant),
  },
  enforce_mfa_organizations: {
    on: p.organizations.on,
    since: iso(p.organizations.since),
    accounts_without_mfa: p.organizations.accountsWithoutMfa,
    phishing_resistant: phishingResistantJson(p.organizations.phishingResistant),
    organization_count: p.organizations.organizationCount,
  },
  grace_days: p.graceDays,
});

export const clientJson = (c: ClientView) => ({
  client_id: c.clientId,
  name: c.name,
  disabled: c.disabled,
  public: c.public,
  first_party: c.firstParty,
  require_mfa: c.requireMfa,
  require_phishing_resistant_mfa: c.requirePhishingResistantMfa,
  grant_types: c.grants,
  redirect_uris: c.redirectUris,
  post_logout_redirect_uris: c.postLogoutRedirectUris,
  backchannel_logout_uri: c.backchannelLogoutUri,
  scope: c.scope,
  id_token_signed_response_alg: c.idTokenAlg,
  tenant: c.tenant,
  system: c.system,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});

export const idpJson = (i: IdpView) => ({
  id: i.id,
  slug: i.slug,
  display_name: i.displayName,
  issuer: i.issuer,
  client_id: i.clientId,
  has_client_secret: i.hasClientSecret,
  scopes: i.scopes,
  allowed_domains: i.allowedDomains,
  account_matching: i.accountMatching,
  default_role: i.defaultRole,
  mfa_acr_values: i.mfaAcrValues,
  trust_upstream_mfa: i.trustUpstreamMfa,
  enabled: i.enabled,
  tenant: i.tenant,
  created_at: i.createdAt.toISOString(),
  updated_at: i.updatedAt.toISOString(),
});
