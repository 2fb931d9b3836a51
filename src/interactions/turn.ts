// One request to the login interaction: its details, state, client, account and MFA facts, read once,
// and the step `nextStep` names. Pages receive a Turn and answer with one of the helpers below.
import type { Context, Middleware } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';
import { acrFromAmr, amrFor, type Factor } from '../domain/amr.ts';
import { GatehouseError, badRequest } from '../domain/errors.ts';
import type { PasswordAuthenticator } from '../domain/authentication.ts';
import type { MfaOwner, MfaService } from '../domain/mfa/service.ts';
import type { Authenticator } from '../store/repositories/authenticators.ts';
import type { TotpEnrolment } from '../domain/mfa/enrolment.ts';
import type { Webauthn } from '../domain/mfa/webauthn.ts';
import type { RememberedBrowsers } from '../domain/mfa/remembered-browsers.ts';
import type { NewBrowserNotice } from '../domain/new-browser.ts';
import { KNOWN_BROWSER_MAX_AGE_SECONDS, knownBrowserCookieName, writeCookie } from './remember-cookie.ts';
import { accountMfa, type MfaPolicySource } from '../domain/mfa/policy-source.ts';
import { mfaFacts, secondFactorPending, type MfaFacts } from '../domain/mfa/requirement.ts';
import type { RequestInfo, SecurityEvents } from '../domain/events.ts';
import type { LinkRequestOutcome } from '../domain/link-requests.ts';
import type { SecretBox } from '../domain/secrets.ts';
import type { Repos } from '../store/repos.ts';
import type { AccountWithTenant } from '../store/repositories/accounts.ts';
import type { SigninOutcome } from '../http/metrics.ts';
import type { InteractionStates } from './state.ts';
import type { FederatedSignIn } from '../domain/federation/signin.ts';
import { nextStep, type InteractionState, type Step } from './steps.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
type Render = (ctx: Context, template: string, locals: Record<string, unknown>) => Promise<void>;

export interface InteractionDeps {
  provider: () => Provider;
  states: InteractionStates;
  authenticate: PasswordAuthenticator;
  mfa: MfaService;
  enrolment: TotpEnrolment;
  webauthn: Webauthn;
  accounts: Pick<Repos['accounts'], 'findById' | 'recordLogin'>;
  policy: MfaPolicySource;
  events: SecurityEvents;
  box: SecretBox;
  render: Render;
  onSignIn?: (outcome: SigninOutcome) => void;
  /** a step-up asks only for the second factor when the password was entered at most this long ago. */
  stepUpPasswordMaxAgeSeconds: number;
  /** runs before every page (no-store, form parsing, CSRF). */
  middleware: Middleware[];
  /** "Lost your device?": emails the account a single-use MFA reset link. */
  requestMfaReset: (account: AccountWithTenant, request: RequestInfo) => Promise<LinkRequestOutcome>;
  /** minutes that link lasts (said on the page). */
  mfaResetLinkMinutes: number;
  /** "Don't ask for a code on this browser for N days". */
  rememberedBrowsers: RememberedBrowsers;
  /** https issuer or TLS at a trusted proxy: Secure, `__Host-` cookies. */
  secureCookies: boolean;
  /** the optional mail after a sign-in from a browser not seen before for the account. */
  newBrowser: NewBrowserNotice;
  /** sign-in through upstream identity providers (buttons, email-first routing, the redirect). */
  federation: FederatedSignIn;
}

export interface ClientView {
  name: string;
  /** the tenant a bound client serves; null for a client of every tenant. */
  tenantId: string | null;
  requireMfa: boolean;
  requirePhr: boolean;
}

export interface Turn {
  ctx: Context;
  deps: InteractionDeps;
  interaction: Interaction;
  uid: string;
  state: InteractionState;
  client: ClientView;
  account: AccountWithTenant | undefined;
  facts: MfaFacts | undefined;
  /** the chosen account's authenticators (none read without MFA). */
  authenticators: readonly Authenticator[];
  step: Step;
  request: RequestInfo;
}

/** Reasons for which oidc-provider wants a full sign-in rather than only the missing factor. */
const FULL_LOGIN_REASONS = new Set([
  'no_session',
  'login_prompt',
  'max_age',
  'id_token_hint',
  'claims_id_token_sub_value',
  'account_unavailable',
  'client_tenant_mismatch',
]);

export const requestInfo = (ctx: Context): RequestInfo => ({
  ip: ctx.ip,
  userAgent: ctx.get('user-agent') || undefined,
  requestId: ctx.state.requestId as string | undefined,
});

export const field = (ctx: Context, name: string): string => {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : '';
};

export const ownerOf = (a: AccountWithTenant): MfaOwner => ({ id: a.id, email: a.email, name: a.name, tenantId: a.tenant.id, tenantName: a.tenant.name });

const expired = (detail: string) =>
  new GatehouseError('interaction_expired', 400, 'This sign-in page has expired or was already used. Go back to the application and sign in again.', detail);

async function details(ctx: Context, provider: Provider): Promise<Interaction> {
  try {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw expired('interaction mismatch');
    return interaction;
  } catch (e) {
    // a missing cookie, or an expired or finished interaction
    if (e instanceof errors.SessionNotFound || e instanceof errors.InvalidRequest) throw expired(String(e));
    throw e;
  }
}

/** A step-up starts with the session's account and first factor when the password was entered recently enough. */
async function initialState(deps: InteractionDeps, interaction: Interaction): Promise<InteractionState> {
  const session = interaction.session;
  if (!session?.accountId || interaction.prompt.reasons.some((r) => FULL_LOGIN_REASONS.has(r))) return { factors: [] };
  const stored = await deps.provider().Session.findByUid(session.uid);
  const loginTs = stored?.loginTs ?? 0;
  if (Date.now() / 1000 - loginTs > deps.stepUpPasswordMaxAgeSeconds) return { factors: [] };
  const amr = (session.amr ?? []) as string[];
  const firstFactor: Factor = amr.includes('fed') ? 'fed' : 'pwd';
  return { accountId: session.accountId, factors: [firstFactor] };
}

async function clientOf(provider: Provider, interaction: Interaction): Promise<ClientView> {
  const id = String(interaction.params.client_id);
  const client = await provider.Client.find(id);
  const metadata: Record<string, unknown> = client?.metadata() ?? {};
  return {
    name: client?.clientName ?? id,
    tenantId: typeof metadata.tenant_id === 'string' ? metadata.tenant_id : null,
    requireMfa: metadata.require_mfa === true,
    requirePhr: metadata.require_phishing_resistant_mfa === true,
  };
}

export async function loadTurn(ctx: Context, deps: InteractionDeps): Promise<Turn> {
  const provider = deps.provider();
  const interaction = await details(ctx, provider);
  const [state, client] = await Promise.all([
    deps.states.load(interaction.uid).then((saved) => saved ?? initialState(deps, interaction)),
    clientOf(provider, interaction),
  ]);
  return turnAt(ctx, deps, interaction, client, state, await chosenAccount(deps, interaction, state));
}

/** The account `state` has chosen, still active; none before the choice, nor outside the login prompt. */
async function chosenAccount(deps: InteractionDeps, interaction: Interaction, state: InteractionState): Promise<AccountWithTenant | undefined> {
  if (!state.accountId || interaction.prompt.name !== 'login') return undefined;
  const account = await deps.accounts.findById(state.accountId);
  if (!account || account.status !== 'active') throw badRequest('This account is no longer available. Go back to the application and sign in again.');
  return account;
}

/** The turn of this interaction in `state`: the chosen account's MFA facts, and the step they name. */
async function turnAt(
  ctx: Context,
  deps: InteractionDeps,
  interaction: Interaction,
  client: ClientView,
  state: InteractionState,
  account: AccountWithTenant | undefined,
): Promise<Turn> {
  let facts: MfaFacts | undefined;
  let authenticators: readonly Authenticator[] = [];
  if (account) {
    const now = new Date();
    const withMfa = account.mfaStatus === 'active';
    // a lock only matters when there is a code to ask for
    let lockedUntil: Date | null = null;
    if (withMfa) ({ lockedUntil, authenticators } = await deps.mfa.secondFactorState(account.id, now));
    const hasWebauthn = authenticators.some((a) => a.kind === 'webauthn');
    const mfa = await accountMfa(account, deps.policy, async () => hasWebauthn);
    facts = mfaFacts({ account: mfa, hasWebauthn, client, params: interaction.params, lockedUntil, now });
  }
  return {
    ctx,
    deps,
    interaction,
    uid: interaction.uid,
    state,
    client,
    account,
    facts,
    authenticators,
    step: nextStep(interaction.prompt.name, state, facts),
    request: requestInfo(ctx),
  };
}

/** The account the turn is about; only steps after the account choice call it. */
export function accountOf(turn: Turn): AccountWithTenant {
  if (!turn.account) throw new Error(`step ${turn.step} needs a chosen account`);
  return turn.account;
}

/** Renders a page of the interaction with what every page shows: its uid, the CSRF token and the application's name. */
export function render(turn: Turn, template: string, locals: Record<string, unknown>): Promise<void> {
  return turn.deps.render(turn.ctx, template, { uid: turn.uid, csrfToken: turn.ctx.state.csrfToken as string, clientName: turn.client.name, ...locals });
}

/**
 * Goes on from a page's action with the new state: when nothing is left to ask, the sign-in ends in
 * this request (no extra page load just to finish); otherwise the state is stored and the browser goes
 * to the interaction's page, which shows the next step (POST → redirect → GET).
 * `sameAccountFacts`: the action changed only what the sign-in proved (a code was accepted), not the
 * account, its authenticators or its policy, so the facts this request read still decide the next step.
 */
export async function advance(turn: Turn, state: InteractionState, options: { sameAccountFacts?: boolean } = {}): Promise<void> {
  const next = await turnAfter(turn, state, options.sameAccountFacts === true);
  if (next?.step === 'finish') return finish(next, state);
  await turn.deps.states.save(turn.uid, state);
  turn.ctx.status = 303;
  turn.ctx.redirect(`/interaction/${turn.uid}`);
}

/** The turn an action leads to; undefined when the account alone shows that a page comes next. */
async function turnAfter(turn: Turn, state: InteractionState, sameAccountFacts: boolean): Promise<Turn | undefined> {
  if (sameAccountFacts && turn.account && state.accountId === turn.account.id) {
    return { ...turn, state, step: nextStep(turn.interaction.prompt.name, state, turn.facts) };
  }
  const account = await chosenAccount(turn.deps, turn.interaction, state);
  // the page that asks for the second factor reads the lock and the authenticators itself
  if (account && secondFactorPending(account.mfaStatus === 'active', state.factors)) return undefined;
  return turnAt(turn.ctx, turn.deps, turn.interaction, turn.client, state, account);
}

/** Ends the login interaction, once, with the amr/acr the collected factors prove. */
export async function finish(turn: Turn, state: InteractionState): Promise<void> {
  const { deps, ctx } = turn;
  const account = accountOf(turn);
  const amr = amrFor(state.factors);
  const acr = acrFromAmr(amr);
  await deps.accounts.recordLogin(account.id);
  await deps.events.emit({
    action: 'auth.signed_in',
    actorAccountId: account.id,
    tenantId: account.tenant.id,
    target: account.id,
    ...turn.request,
    detail: { amr, acr, client_id: turn.interaction.params.client_id },
  });
  deps.onSignIn?.('success');
  const knownName = knownBrowserCookieName(deps.secureCookies);
  const known = deps.newBrowser.signedIn(ctx.cookies.get(knownName), account, turn.request, turn.client.name);
  if (known) writeCookie(ctx, deps.secureCookies, knownName, known, KNOWN_BROWSER_MAX_AGE_SECONDS);
  await deps.states.clear(turn.uid);
  // `ts` is the moment of this interactive authentication: a consent page that resubmits the login
  // result later must not move auth_time forward.
  await conclude(turn, { login: { accountId: account.id, amr, acr, remember: true, ts: Math.floor(Date.now() / 1000) } });
}

/**
 * Stores the interaction's result and redirects to the authorization it resumes: oidc-provider's
 * interactionResult (without merging an earlier submission), on the interaction this request already
 * read instead of reading it again.
 */
export async function conclude(turn: Turn, result: InteractionResults): Promise<void> {
  const { interaction, ctx } = turn;
  const ttl = interaction.exp - Math.floor(Date.now() / 1000);
  if (ttl <= 0) throw expired('interaction expired before its result was stored');
  interaction.result = result;
  await interaction.save(ttl);
  ctx.status = 303;
  ctx.redirect(interaction.returnTo);
}
