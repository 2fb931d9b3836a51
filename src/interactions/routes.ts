// The pages of the login interaction (docs/sign-in-sequence.md): password → account choice → MFA
// (verify, recovery code, forced setup) → interactionResult once, with the final amr/acr. Every page
// lives under /interaction/:uid (the interaction cookie's path) and follows POST → redirect → GET.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { errors, type Provider } from 'oidc-provider';
import { acrFromAmr, amrFor, requestedAcr, type Factor } from '../domain/amr.ts';
import { chooseAccount } from '../domain/account-choice.ts';
import { badRequest, GatehouseError } from '../domain/errors.ts';
import type { PasswordAuthenticator } from '../domain/authentication.ts';
import type { MfaOwner, MfaService } from '../domain/mfa/service.ts';
import type { MfaPolicySource } from '../domain/mfa/policy-source.ts';
import type { RequestInfo, SecurityEvents } from '../domain/events.ts';
import type { SecretBox } from '../domain/secrets.ts';
import type { Repos } from '../store/repos.ts';
import type { InteractionStates } from './state.ts';
import type { SigninOutcome } from '../http/metrics.ts';
import { hasSecondFactor, nextStep, type InteractionState, type MfaFacts, type Step } from './steps.ts';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
type Render = (ctx: Context, template: string, locals: Record<string, unknown>) => Promise<void>;
type AccountRow = NonNullable<Awaited<ReturnType<Repos['accounts']['findById']>>>;

export interface InteractionDeps {
  provider: () => Provider;
  states: InteractionStates;
  authenticate: PasswordAuthenticator;
  mfa: MfaService;
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
}

/** Reasons for which oidc-provider wants a full sign-in rather than only the missing factor. */
const FULL_LOGIN_REASONS = new Set(['no_session', 'login_prompt', 'max_age', 'id_token_hint', 'claims_id_token_sub_value', 'account_unavailable']);
const RECOVERY_CODES_CONTEXT = 'recovery-codes';

const requestInfo = (ctx: Context): RequestInfo => ({
  ip: ctx.ip,
  userAgent: ctx.get('user-agent') || undefined,
  requestId: ctx.state.requestId as string | undefined,
});

const field = (ctx: Context, name: string): string => {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : '';
};

const owner = (a: AccountRow): MfaOwner => ({ id: a.id, email: a.email, name: a.name, tenantId: a.tenant.id, tenantName: a.tenant.name });

export function createInteractionRouter(deps: InteractionDeps): Router {
  const { states, mfa, render, events } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(...deps.middleware);

  async function details(ctx: Context): Promise<Interaction> {
    try {
      const interaction = await deps.provider().interactionDetails(ctx.req, ctx.res);
      if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
      return interaction;
    } catch (e) {
      if (e instanceof errors.SessionNotFound || e instanceof errors.InvalidRequest) {
        throw new GatehouseError(
          'interaction_expired',
          400,
          'This sign-in page has expired or was already used. Go back to the application and sign in again.',
          String(e),
        );
      }
      throw e;
    }
  }

  /** Starts a step-up with the session's first factor when the password was entered recently enough. */
  async function initialState(interaction: Interaction): Promise<InteractionState> {
    const session = interaction.session;
    const reasons = interaction.prompt.reasons;
    if (!session?.accountId || reasons.some((r) => FULL_LOGIN_REASONS.has(r))) return { factors: [] };
    const stored = await deps.provider().Session.findByUid(session.uid);
    const loginTs = stored?.loginTs ?? 0;
    if (Date.now() / 1000 - loginTs > deps.stepUpPasswordMaxAgeSeconds) return { factors: [] };
    const amr = (session.amr ?? []) as string[];
    const firstFactor: Factor = amr.includes('fed') ? 'fed' : 'pwd';
    return { accountId: session.accountId, factors: [firstFactor] };
  }

  async function loadState(interaction: Interaction): Promise<InteractionState> {
    return (await states.load(interaction.uid)) ?? (await initialState(interaction));
  }

  async function mfaFacts(interaction: Interaction, account: AccountRow): Promise<MfaFacts> {
    const client = await deps.provider().Client.find(String(interaction.params.client_id));
    const now = new Date();
    const hasConfirmedAuthenticator = account.mfaStatus === 'enabled';
    return {
      hasConfirmedAuthenticator,
      policyRequiresMfa: await deps.policy.requiresMfa(account),
      clientRequiresMfa: client?.metadata().require_mfa === true,
      requestedAcr: requestedAcr({
        acrValues: typeof interaction.params.acr_values === 'string' ? interaction.params.acr_values : undefined,
        claims: typeof interaction.params.claims === 'string' ? interaction.params.claims : undefined,
      }),
      // a lock only matters when there is a code to ask for
      lockedUntil: hasConfirmedAuthenticator ? await mfa.lockedUntil(account.id, now) : null,
      now,
    };
  }

  async function accountOf(state: InteractionState): Promise<AccountRow> {
    const account = state.accountId ? await deps.accounts.findById(state.accountId) : undefined;
    if (!account || account.status !== 'active') throw badRequest('This account is no longer available. Go back to the application and sign in again.');
    return account;
  }

  async function finish(ctx: Context, interaction: Interaction, state: InteractionState, account: AccountRow): Promise<void> {
    const amr = amrFor(state.factors);
    const acr = acrFromAmr(amr);
    await deps.accounts.recordLogin(account.id);
    await events.emit({ action: 'auth.signed_in', actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...requestInfo(ctx), detail: { amr, acr, client_id: interaction.params.client_id } });
    deps.onSignIn?.('success');
    await states.clear(interaction.uid);
    const redirectTo = await deps.provider().interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: account.id, amr, acr, remember: true } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  async function clientName(interaction: Interaction): Promise<string> {
    const client = await deps.provider().Client.find(String(interaction.params.client_id));
    return client?.clientName ?? String(interaction.params.client_id);
  }

  /** What every page of the interaction shows: its uid, the CSRF token and the application's name. */
  async function pageLocals(ctx: Context, interaction: Interaction) {
    return { uid: interaction.uid, csrfToken: ctx.state.csrfToken as string, clientName: await clientName(interaction) };
  }

  /** Renders the page of the current step, or finishes the interaction when nothing is missing. */
  async function show(ctx: Context, interaction: Interaction, state: InteractionState, extra: Record<string, unknown> = {}): Promise<void> {
    const base = { ...(await pageLocals(ctx, interaction)), ...extra };
    if (interaction.prompt.name === 'consent') {
      const d = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      return render(ctx, 'interactions/consent', { ...base, title: 'Allow access', scopes: d.missingOIDCScope ?? [], claims: d.missingOIDCClaims ?? [], resources: d.missingResourceScopes ?? {} });
    }
    if (!state.accountId) {
      if (state.candidates?.length) {
        const accounts = (await Promise.all(state.candidates.map((id) => deps.accounts.findById(id)))).filter((a): a is AccountRow => Boolean(a));
        return render(ctx, 'interactions/choose', { ...base, title: 'Choose an account', accounts: accounts.sort((a, b) => a.tenant.name.localeCompare(b.tenant.name)) });
      }
      const hint = typeof interaction.params.login_hint === 'string' && interaction.params.login_hint.includes('@') ? interaction.params.login_hint : '';
      return render(ctx, 'interactions/login', { title: 'Sign in', email: hint, error: undefined, ...base });
    }
    const account = await accountOf(state);
    const step: Step = nextStep(state, await mfaFacts(interaction, account));
    switch (step) {
      case 'finish':
        return finish(ctx, interaction, state, account);
      case 'verify':
        return render(ctx, 'interactions/mfa-verify', { title: 'Two-factor authentication', email: account.email, error: undefined, ...base });
      case 'locked':
        return render(ctx, 'interactions/mfa-locked', { title: 'Too many attempts', lockedUntil: (await mfa.lockedUntil(account.id, new Date())) ?? new Date(), ...base });
      case 'enrol': {
        const enrolment = await mfa.startEnrolment(owner(account), requestInfo(ctx));
        return render(ctx, 'interactions/mfa-enrol', { title: 'Set up multi-factor authentication', email: account.email, tenantName: account.tenant.name, enrolment, error: undefined, ...base });
      }
      case 'recovery_codes': {
        const codes = JSON.parse(deps.box.openText(state.recoveryCodesSealed ?? '', RECOVERY_CODES_CONTEXT)) as string[];
        return render(ctx, 'interactions/mfa-recovery-codes', { title: 'Save your recovery codes', codes, error: undefined, ...base });
      }
      case 'password':
      case 'choose':
        throw new Error(`step ${step} cannot follow a chosen account`);
      default:
        throw new Error(`unhandled step ${step satisfies never}`);
    }
  }

  router.get('/', async (ctx) => {
    const interaction = await details(ctx);
    await show(ctx, interaction, await loadState(interaction));
  });

  router.post('/login', async (ctx) => {
    const interaction = await details(ctx);
    const email = field(ctx, 'email').trim();
    const password = field(ctx, 'password');
    if (!email || !password) {
      ctx.status = 400;
      return show(ctx, interaction, { factors: [] }, { email, error: 'Enter your email and password.' });
    }
    const outcome = await deps.authenticate(email, password, requestInfo(ctx));
    if (!outcome.ok) {
      deps.onSignIn?.(outcome.reason);
      ctx.status = outcome.reason === 'rate_limited' ? 429 : 401;
      const error =
        outcome.reason === 'rate_limited'
          ? `Too many sign-in attempts. Try again in ${Math.ceil(outcome.retryAfterSeconds / 60)} minutes.`
          : 'Incorrect email or password.';
      return show(ctx, interaction, { factors: [] }, { email, error });
    }
    const client = await deps.provider().Client.find(String(interaction.params.client_id));
    const tenantId = client?.metadata().tenant_id;
    const choice = chooseAccount({
      candidates: outcome.candidates,
      loginHint: typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined,
      clientTenantId: typeof tenantId === 'string' ? tenantId : null,
    });
    if (choice.kind === 'none') {
      deps.onSignIn?.('bad_credentials');
      ctx.status = 401;
      return show(ctx, interaction, { factors: [] }, { email, error: 'Incorrect email or password.' });
    }
    const state: InteractionState =
      choice.kind === 'single' ? { accountId: choice.account.id, factors: ['pwd'] } : { candidates: choice.accounts.map((a) => a.id), factors: ['pwd'] };
    await events.emit({ action: 'auth.password.succeeded', ...requestInfo(ctx), ...(state.accountId ? { actorAccountId: state.accountId, target: state.accountId } : {}), detail: { accounts: outcome.candidates.length } });
    await states.save(interaction.uid, state);
    ctx.redirect(`/interaction/${interaction.uid}`);
  });

  router.post('/select', async (ctx) => {
    const interaction = await details(ctx);
    const state = await loadState(interaction);
    const chosen = field(ctx, 'account');
    if (!state.candidates?.includes(chosen)) throw badRequest('Choose one of the listed accounts.');
    await states.save(interaction.uid, { accountId: chosen, factors: state.factors });
    ctx.redirect(`/interaction/${interaction.uid}`);
  });

  async function verifySecondFactor(ctx: Context, kind: 'otp' | 'recovery_code') {
    const interaction = await details(ctx);
    const state = await loadState(interaction);
    const account = await accountOf(state);
    const code = field(ctx, 'code');
    const outcome = kind === 'otp' ? await mfa.verifyTotp(owner(account), code, requestInfo(ctx)) : await mfa.verifyRecoveryCode(owner(account), code, requestInfo(ctx));
    const page = kind === 'otp' ? 'interactions/mfa-verify' : 'interactions/mfa-recovery';
    const base = { ...(await pageLocals(ctx, interaction)), email: account.email };
    if (outcome.ok) {
      deps.onSignIn?.(outcome.factor === 'otp' ? 'mfa_verified' : 'recovery_code_used');
      const next: InteractionState = { ...state, factors: [...state.factors, outcome.factor] };
      if (outcome.remainingRecoveryCodes !== undefined) {
        next.remainingRecoveryCodes = outcome.remainingRecoveryCodes;
        await states.save(interaction.uid, next);
        return render(ctx, 'interactions/mfa-recovery-used', { ...base, title: 'Recovery code accepted', remaining: outcome.remainingRecoveryCodes });
      }
      return finish(ctx, interaction, next, account);
    }
    if (outcome.reason === 'locked') {
      deps.onSignIn?.('mfa_locked');
      ctx.status = 429;
      return render(ctx, 'interactions/mfa-locked', { ...base, title: 'Too many attempts', lockedUntil: outcome.lockedUntil });
    }
    deps.onSignIn?.(outcome.reason === 'rate_limited' ? 'rate_limited' : 'mfa_failed');
    ctx.status = outcome.reason === 'rate_limited' ? 429 : 401;
    const error =
      outcome.reason === 'rate_limited'
        ? 'Too many attempts from your network. Wait a few minutes and try again.'
        : kind === 'otp'
          ? `That code is not valid. Enter the current 6-digit code from your authenticator app. ${outcome.attemptsLeft} attempt${outcome.attemptsLeft === 1 ? '' : 's'} left before the account is locked for a while.`
          : `That recovery code is not valid or was already used. ${outcome.attemptsLeft} attempt${outcome.attemptsLeft === 1 ? '' : 's'} left before the account is locked for a while.`;
    return render(ctx, page, { ...base, title: kind === 'otp' ? 'Two-factor authentication' : 'Use a recovery code', error });
  }

  router.post('/verify', (ctx) => verifySecondFactor(ctx, 'otp'));
  router.post('/recovery', (ctx) => verifySecondFactor(ctx, 'recovery_code'));

  router.get('/recovery', async (ctx) => {
    const interaction = await details(ctx);
    const account = await accountOf(await loadState(interaction));
    await render(ctx, 'interactions/mfa-recovery', { ...(await pageLocals(ctx, interaction)), email: account.email, title: 'Use a recovery code', error: undefined });
  });

  router.post('/continue', async (ctx) => {
    const interaction = await details(ctx);
    const state = await loadState(interaction);
    if (!hasSecondFactor(state)) throw badRequest('Enter your code first.');
    await finish(ctx, interaction, state, await accountOf(state));
  });

  router.get('/lost', async (ctx) => {
    const interaction = await details(ctx);
    await render(ctx, 'interactions/mfa-lost', { ...(await pageLocals(ctx, interaction)), title: 'Lost your device?' });
  });

  router.post('/enrol', async (ctx) => {
    const interaction = await details(ctx);
    const state = await loadState(interaction);
    const account = await accountOf(state);
    const outcome = await mfa.confirmEnrolment(owner(account), field(ctx, 'code'), requestInfo(ctx));
    if (!outcome.ok) {
      ctx.status = 400;
      const error =
        outcome.reason === 'expired'
          ? 'The setup expired. Scan the new QR code below and enter a fresh code.'
          : 'That code does not match. Check that your authenticator app shows "Gatehouse" for this account and enter the current 6-digit code.';
      return show(ctx, interaction, state, { error });
    }
    deps.onSignIn?.('mfa_enrolled');
    const next: InteractionState = {
      ...state,
      factors: [...state.factors, 'otp'],
      recoveryCodesSealed: deps.box.seal(JSON.stringify(outcome.recoveryCodes), RECOVERY_CODES_CONTEXT),
    };
    await states.save(interaction.uid, next);
    ctx.redirect(`/interaction/${interaction.uid}`);
  });

  router.get('/recovery-codes.txt', async (ctx) => {
    const interaction = await details(ctx);
    const state = await loadState(interaction);
    if (!state.recoveryCodesSealed) throw badRequest('Your recovery codes have already been saved and cannot be shown again.');
    const codes = JSON.parse(deps.box.openText(state.recoveryCodesSealed, RECOVERY_CODES_CONTEXT)) as string[];
    ctx.set('Content-Disposition', 'attachment; filename="gatehouse-recovery-codes.txt"');
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `Gatehouse recovery codes\nEach code can be used once, instead of a code from your authenticator app.\n\n${codes.join('\n')}\n`;
  });

  router.post('/recovery-codes', async (ctx) => {
    const interaction = await details(ctx);
    const state = await loadState(interaction);
    // Only the page shown after a confirmed enrolment may finish here; anything else has no second factor yet.
    if (!state.recoveryCodesSealed || !hasSecondFactor(state)) throw badRequest('Enter your code first.');
    if (field(ctx, 'saved') !== 'yes') {
      ctx.status = 400;
      return show(ctx, interaction, state, { error: 'Confirm that you have saved your recovery codes before you continue.' });
    }
    const { recoveryCodesSealed: _shown, ...rest } = state;
    await finish(ctx, interaction, rest, await accountOf(rest));
  });

  router.post('/consent', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'consent') throw badRequest('There is nothing to approve on this page.');
    const provider = deps.provider();
    const accountId = interaction.session?.accountId;
    if (!accountId) throw badRequest('Sign in first.');
    const d = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await events.emit({ action: 'consent.granted', actorAccountId: accountId, target: String(interaction.params.client_id), ...requestInfo(ctx), detail: { scopes: d.missingOIDCScope ?? [] } });
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  router.post('/abort', async (ctx) => {
    const interaction = await details(ctx);
    await states.clear(interaction.uid);
    const redirectTo = await deps.provider().interactionResult(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in.' },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  return router;
}
