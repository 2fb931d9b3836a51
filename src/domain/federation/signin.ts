// Signing in through an upstream identity provider (DESIGN.md §6 upstream rows): the login interaction
// sends the browser to the upstream with code + PKCE + nonce and a fixed callback; the random `state`
// names the interaction in the key-value store, once. The callback exchanges the code, validates the ID
// token, and finds the account by its link (idp, subject), or by verified email, or creates it, as the
// IdP's account matching says. What the upstream proved becomes the interaction's first factor: `fed`,
// plus `fed_mfa` when the IdP is trusted for MFA and reported it. Gatehouse's own MFA then applies
// exactly as after a password.
import { createHash, randomBytes } from 'node:crypto';
import type { Repos } from '../../store/repos.ts';
import type { Kv } from '../../store/kv.ts';
import type { UpstreamIdp } from '../../store/repositories/upstream-idps.ts';
import type { Factor } from '../amr.ts';
import { GatehouseError, badRequest, forbidden } from '../errors.ts';
import type { RequestInfo, SecurityEvents } from '../events.ts';
import type { SecretBox } from '../secrets.ts';
import { emailAddress } from '../directory.ts';
import { UpstreamError, type UpstreamClaims, type UpstreamOidc } from '../../federation/upstream-client.ts';
import { idpSecretContext } from './idps.ts';
import { clientMayReceive } from '../account-choice.ts';

export const FEDERATION_CALLBACK_PATH = '/federation/callback';
/** how long the browser may spend at the upstream before the callback is refused. */
const STATE_TTL_SECONDS = 600;
const stateKey = (state: string) => `federation:state:${createHash('sha256').update(state).digest('base64url')}`;
const stateContext = (state: string) => `federation:${state}`;

interface PendingSignIn {
  uid: string;
  idpId: string;
  nonce: string;
  codeVerifier: string;
  /** a client bound to a tenant may only receive accounts of that tenant. */
  clientTenantId: string | null;
}

/**
 * The account the upstream sign-in stands for, or — a global IdP, an application not bound to a
 * tenant, and an email with accounts in several tenants — the accounts the user chooses among on the
 * account-choice page (the same step as after a password that opens several).
 */
export type FederatedResult = { uid: string; factors: Factor[] } & ({ accountId: string } | { candidates: string[] });

type Resolved = { accountId: string } | { candidates: string[] };

export interface IdpButton {
  slug: string;
  displayName: string;
}

/** Upstream failures as the page says them: 502 for a broken or refusing upstream, 504 for a slow one. */
function upstreamFailure(idp: UpstreamIdp, e: unknown): GatehouseError {
  if (!(e instanceof UpstreamError)) throw e;
  const name = idp.displayName;
  switch (e.failure) {
    case 'denied':
      return new GatehouseError('upstream_denied', 401, `The sign-in with ${name} was cancelled or refused there. Go back to the application and sign in again.`, e.message);
    case 'timeout':
      return new GatehouseError('upstream_timeout', 504, `${name} did not answer in time. Try again in a moment.`, e.message);
    case 'unreachable':
      return new GatehouseError('upstream_unreachable', 502, `${name} cannot be reached right now. Try again in a moment, or sign in with your password.`, e.message);
    case 'bad_token':
      return new GatehouseError('upstream_bad_token', 502, `${name} sent a sign-in that could not be verified, so it was refused. Try again; if it keeps happening, tell your administrator.`, e.message);
    case 'bad_response':
      return new GatehouseError('upstream_bad_response', 502, `${name} gave an answer that could not be used. Try again; if it keeps happening, tell your administrator.`, e.message);
  }
}

const noAccount = (idp: UpstreamIdp) =>
  forbidden(`There is no account for you here that can sign in with ${idp.displayName}. Ask your administrator to invite you.`, 'upstream_no_account');

export function createFederatedSignIn(deps: {
  repos: Pick<Repos, 'accounts' | 'upstreamIdps' | 'tenants'>;
  upstream: UpstreamOidc;
  kv: Kv;
  box: SecretBox;
  events: SecurityEvents;
  issuer: string;
}) {
  const { repos, upstream, kv, box, events } = deps;
  const redirectUri = `${deps.issuer}${FEDERATION_CALLBACK_PATH}`;
  const clientConfig = (idp: UpstreamIdp) => ({
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecretEnc ? box.openText(idp.clientSecretEnc, idpSecretContext(idp.id)) : null,
  });

  /** The IdPs an application's sign-in page offers: global ones and those of the tenant it is bound to. */
  const offered = (idp: UpstreamIdp, clientTenantId: string | null) => idp.enabled && (idp.tenantId === null || idp.tenantId === clientTenantId);

  /** The account an upstream identity stands for, linking or creating it as the IdP says. */
  async function resolveAccount(idp: UpstreamIdp, claims: UpstreamClaims, clientTenantId: string | null, request: RequestInfo): Promise<Resolved> {
    const linked = await repos.upstreamIdps.findLink(idp.id, claims.sub);
    if (linked) return { accountId: linked.accountId };

    const email = claims.email && claims.emailVerified ? emailAddress.safeParse(claims.email) : undefined;
    if (!email?.success) throw forbidden(`${idp.displayName} did not confirm a verified email address, so no account can be matched.`, 'upstream_email_unverified');
    const tenantId = idp.tenantId ?? clientTenantId;
    const matches = tenantId
      ? [await repos.accounts.findInTenant(tenantId, email.data)].filter((a) => a !== undefined)
      : await repos.accounts.findByEmail(email.data);
    // several accounts (a global IdP for an application of any tenant): those this application may
    // receive and this IdP may link, active ones; more than one → the user chooses, and none is linked,
    // since a link would name one account for this upstream identity from then on
    const eligible =
      matches.length > 1
        ? matches.filter((a) => a.status === 'active' && clientMayReceive(clientTenantId, a.tenantId) && (idp.accountMatching !== 'invite_only' || a.lastLoginAt === null))
        : matches;
    if (matches.length > 1 && eligible.length === 0) throw noAccount(idp);
    if (eligible.length > 1) return { candidates: eligible.map((a) => a.id) };
    const [existing] = eligible;

    let accountId: string;
    if (existing) {
      // invite_only links an account an administrator created that was never used; link, any account of the tenant
      if (idp.accountMatching === 'invite_only' && existing.lastLoginAt !== null) throw noAccount(idp);
      accountId = existing.id;
    } else {
      if (idp.accountMatching !== 'create' || !idp.tenantId) throw noAccount(idp);
      const created = await repos.accounts.create({
        tenantId: idp.tenantId,
        email: email.data,
        name: claims.name ?? null,
        role: idp.defaultRole,
        passwordHash: null,
        emailVerified: true,
        source: 'upstream',
        externalId: claims.sub,
      });
      await events.emit({ action: 'account.created', tenantId: idp.tenantId, target: created.id, ...request, detail: { role: idp.defaultRole, source: 'upstream', idp: idp.slug } });
      accountId = created.id;
    }
    if (!(await repos.upstreamIdps.link({ idpId: idp.id, subject: claims.sub, accountId }))) {
      // a parallel callback of the same upstream user linked it first
      const again = await repos.upstreamIdps.findLink(idp.id, claims.sub);
      if (!again) throw noAccount(idp);
      return { accountId: again.accountId };
    }
    await events.emit({ action: 'account.linked', actorAccountId: accountId, target: accountId, ...request, detail: { idp: idp.slug, subject: claims.sub } });
    return { accountId };
  }

  return {
    redirectUri,

    async buttons(clientTenantId: string | null): Promise<IdpButton[]> {
      return (await repos.upstreamIdps.listEnabled()).filter((i) => offered(i, clientTenantId)).map((i) => ({ slug: i.slug, displayName: i.displayName }));
    },

    /** The IdP an email address signs in with (email-first routing), when its domain is configured. */
    async routeEmail(email: string, clientTenantId: string | null): Promise<IdpButton | undefined> {
      const domain = email.trim().toLowerCase().split('@')[1];
      if (!domain) return undefined;
      const [idp] = (await repos.upstreamIdps.findEnabledByDomain(domain)).filter((i) => offered(i, clientTenantId));
      return idp ? { slug: idp.slug, displayName: idp.displayName } : undefined;
    },

    /** The upstream's authorization URL for this interaction; `state` is stored to find it again, once. */
    async start(input: { slug: string; uid: string; clientTenantId: string | null; loginHint?: string | undefined }): Promise<URL> {
      const idp = await repos.upstreamIdps.findBySlug(input.slug);
      if (!idp || !offered(idp, input.clientTenantId)) throw badRequest('This sign-in option is not available for this application.', 'idp_not_offered');
      const state = randomBytes(32).toString('base64url');
      const pending: PendingSignIn = { uid: input.uid, idpId: idp.id, nonce: randomBytes(32).toString('base64url'), codeVerifier: randomBytes(48).toString('base64url'), clientTenantId: input.clientTenantId };
      const codeChallenge = createHash('sha256').update(pending.codeVerifier).digest('base64url');
      let url: URL;
      try {
        url = await upstream.authorizationUrl(clientConfig(idp), { redirectUri, scope: idp.scopes, state, nonce: pending.nonce, codeChallenge });
      } catch (e) {
        throw upstreamFailure(idp, e);
      }
      if (input.loginHint) url.searchParams.set('login_hint', input.loginHint);
      await kv.set(stateKey(state), box.seal(JSON.stringify(pending), stateContext(state)), STATE_TTL_SECONDS);
      return url;
    },

    /**
     * The callback: the state is taken (single use), the code exchanged and the ID token validated,
     * the account found. A deactivated account is refused here, before any page of the interaction.
     */
    async complete(callbackUrl: URL, request: RequestInfo): Promise<FederatedResult> {
      const state = callbackUrl.searchParams.get('state') ?? '';
      const sealed = state && state.length <= 200 ? await kv.take<string>(stateKey(state)) : undefined;
      if (!sealed) throw badRequest('This sign-in has expired or was already completed. Go back to the application and sign in again.', 'upstream_state_invalid');
      const pending = JSON.parse(box.openText(sealed, stateContext(state))) as PendingSignIn;
      const idp = await repos.upstreamIdps.findById(pending.idpId);
      if (!idp?.enabled) throw badRequest('This sign-in option is no longer available. Go back to the application and sign in again.', 'idp_not_offered');
      let claims: UpstreamClaims;
      try {
        claims = await upstream.exchange(clientConfig(idp), callbackUrl, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
      } catch (e) {
        const failure = upstreamFailure(idp, e);
        await events.emit({ action: 'auth.upstream.failed', ...request, detail: { idp: idp.slug, reason: failure.code } });
        throw failure;
      }
      const resolved = await resolveAccount(idp, claims, pending.clientTenantId, request);
      const upstreamMfa = idp.trustUpstreamMfa && (claims.amr.includes('mfa') || (claims.acr !== undefined && idp.mfaAcrValues.includes(claims.acr)));
      const factors: Factor[] = upstreamMfa ? ['fed', 'fed_mfa'] : ['fed'];
      const upstreamDetail = { idp: idp.slug, upstream_amr: claims.amr, upstream_acr: claims.acr ?? null, trusted_mfa: upstreamMfa };
      if ('candidates' in resolved) {
        await events.emit({ action: 'auth.upstream.succeeded', ...request, detail: { ...upstreamDetail, accounts: resolved.candidates.length } });
        return { uid: pending.uid, candidates: resolved.candidates, factors };
      }
      const { accountId } = resolved;
      const account = await repos.accounts.findById(accountId);
      if (!account || account.status !== 'active') {
        await events.emit({ action: 'auth.upstream.failed', actorAccountId: accountId, target: accountId, ...request, detail: { idp: idp.slug, reason: 'account_disabled' } });
        throw forbidden('This account is deactivated. Contact your administrator.', 'account_disabled');
      }
      if (pending.clientTenantId && account.tenant.id !== pending.clientTenantId) throw noAccount(idp);
      await events.emit({ action: 'auth.upstream.succeeded', actorAccountId: accountId, tenantId: account.tenant.id, target: accountId, ...request, detail: upstreamDetail });
      return { uid: pending.uid, accountId, factors };
    },
  };
}

export type FederatedSignIn = ReturnType<typeof createFederatedSignIn>;
