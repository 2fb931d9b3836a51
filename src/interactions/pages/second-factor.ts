// Steps `verify` and `locked`: the account has an authenticator, so the sign-in asks for it: "Use your
// passkey / security key" when it has one, a code from its authenticator app or one of its recovery
// codes otherwise or as alternatives. A sign-in that must be phishing resistant takes only the passkey.
// While the account's MFA step is locked, nothing is even checked.
import { GatehouseError } from '../../domain/errors.ts';
import type { AuthenticatorKind, VerifyOutcome } from '../../domain/mfa/service.ts';
import { accountOf, advance, field, finish, ownerOf, render, type Turn } from '../turn.ts';
import { readRememberCookie, writeRememberCookie } from '../remember-cookie.ts';
import type { Handler, Page } from './page.ts';
import { answerOptions, ceremonyBinding, needsPasskey, postedAssertion, refuseAssertion } from './passkey-ceremony.ts';

type CodeKind = 'otp' | 'recovery_code';

const FORM = {
  otp: { template: 'interactions/mfa-verify', title: 'Two-factor authentication' },
  recovery_code: { template: 'interactions/mfa-recovery', title: 'Use a recovery code' },
} as const satisfies Record<CodeKind, { template: string; title: string }>;

/** What this page may offer: the passkey when the account has one; codes unless only a passkey will do. */
function offers(turn: Turn) {
  const has = (kind: AuthenticatorKind) => turn.authenticators.some((a) => a.kind === kind);
  const passkey = has('webauthn');
  const codes = !(passkey && needsPasskey(turn));
  return { passkey, totp: codes && has('totp'), recovery: codes };
}

async function showForm(turn: Turn, kind: CodeKind, error?: string) {
  const offered = offers(turn);
  const title = kind === 'otp' && offered.passkey ? 'Use your passkey or security key' : FORM[kind].title;
  return render(turn, FORM[kind].template, {
    title,
    email: accountOf(turn).email,
    rememberDays: turn.deps.rememberedBrowsers.days,
    error,
    offered,
    phishingResistant: needsPasskey(turn),
  });
}

/** What the authorization request says about an earlier code: prompt=login and max_age want a fresh one. */
function rememberRequest(turn: Turn) {
  const raw = turn.interaction.params.max_age;
  const maxAge = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return { loginPrompt: turn.interaction.prompt.reasons.includes('login_prompt'), maxAge };
}

/** A browser remembered for this account skips the code, when the request accepts an earlier one. */
async function remembered(turn: Turn): Promise<boolean> {
  const { deps, ctx } = turn;
  if (!deps.rememberedBrowsers.enabled) return false;
  return deps.rememberedBrowsers.recognise(readRememberCookie(ctx, deps.secureCookies), accountOf(turn), rememberRequest(turn));
}

/** After a good code: remember the browser when the user ticked the box, else refresh its record's code time. */
async function afterCode(turn: Turn): Promise<void> {
  const { deps, ctx } = turn;
  const account = accountOf(turn);
  const cookie = readRememberCookie(ctx, deps.secureCookies);
  if (deps.rememberedBrowsers.enabled && field(ctx, 'remember') === 'yes') {
    const next = await deps.rememberedBrowsers.remember({ id: account.id, tenantId: account.tenant.id }, cookie, turn.request);
    writeRememberCookie(ctx, deps.secureCookies, next.cookie, next.maxAgeSeconds);
    return;
  }
  await deps.rememberedBrowsers.codeTyped(cookie, account.id);
}

async function showLocked(turn: Turn, lockedUntil: Date) {
  return render(turn, 'interactions/mfa-locked', { title: 'Too many attempts', lockedUntil });
}

const invalidMessage = (kind: CodeKind, attemptsLeft: number) => {
  const left = `${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left before the account is locked for a while.`;
  return kind === 'otp'
    ? `That code is not valid. Enter the current 6-digit code from your authenticator app. ${left}`
    : `That recovery code is not valid or was already used. ${left}`;
};

async function refused(turn: Turn, kind: CodeKind, outcome: Exclude<VerifyOutcome, { ok: true }>) {
  const { ctx, deps } = turn;
  switch (outcome.reason) {
    case 'locked':
      deps.onSignIn?.('mfa_locked');
      ctx.status = 429;
      ctx.set('Retry-After', String(Math.max(1, Math.ceil((outcome.lockedUntil.getTime() - Date.now()) / 1000))));
      return showLocked(turn, outcome.lockedUntil);
    case 'rate_limited':
      deps.onSignIn?.('rate_limited');
      ctx.status = 429;
      ctx.set('Retry-After', String(outcome.retryAfterSeconds));
      return showForm(turn, kind, 'Too many attempts from your network. Wait a few minutes and try again.');
    case 'invalid':
      deps.onSignIn?.('mfa_failed');
      ctx.status = 401;
      return showForm(turn, kind, invalidMessage(kind, outcome.attemptsLeft));
    default:
      throw new Error(`unhandled outcome ${outcome satisfies never}`);
  }
}

const passkeyRequired = () =>
  new GatehouseError('passkey_required', 403, 'This application requires a passkey or security key: a code is not accepted. Use your passkey or security key.');

const checkCode =
  (kind: CodeKind): Handler =>
  async (turn) => {
    const { deps } = turn;
    // a code proves possession but can be phished; when only a passkey will do, it is not even checked
    if (!offers(turn).recovery) throw passkeyRequired();
    const owner = ownerOf(accountOf(turn));
    const code = field(turn.ctx, 'code');
    const outcome =
      kind === 'otp' ? await deps.mfa.verifyTotp(owner, code, turn.request, new Date(), turn.authenticators) : await deps.mfa.verifyRecoveryCode(owner, code, turn.request);
    if (!outcome.ok) return refused(turn, kind, outcome);
    await afterCode(turn);
    deps.onSignIn?.(outcome.factor === 'otp' ? 'mfa_verified' : 'recovery_code_used');
    const factors = [...turn.state.factors, outcome.factor];
    // After a recovery code, one more page says how many are left before the user goes on.
    if (outcome.remainingRecoveryCodes !== undefined) {
      return advance(turn, { ...turn.state, factors, remainingRecoveryCodes: outcome.remainingRecoveryCodes }, { sameAccountFacts: true });
    }
    // A code may not be all this sign-in needs (phr asks for a passkey next): the next step decides.
    return advance(turn, { ...turn.state, factors }, { sameAccountFacts: true });
  };

const checkPasskey: Handler = async (turn) => {
  const { deps } = turn;
  const { flowId, response } = postedAssertion(turn);
  const outcome = await deps.webauthn.verifySecondFactor(ownerOf(accountOf(turn)), ceremonyBinding(turn), flowId, response, turn.request);
  if (!outcome.ok) return showForm(turn, 'otp', refuseAssertion(turn, outcome));
  deps.onSignIn?.('passkey_verified');
  return finish(turn, { ...turn.state, factors: [...turn.state.factors, outcome.factor] });
};

const lost: Handler = (turn) => render(turn, 'interactions/mfa-lost', { title: 'Lost your device?', resetLinkMinutes: turn.deps.mfaResetLinkMinutes });

/**
 * "Email me a reset link": the user is past the password, so the emailed single-use link is the second
 * proof; opened in any browser it resets MFA (src/account/). The page says the same whatever the mail
 * does, and offers to send it again.
 */
const resetLink: Handler = async (turn) => {
  const { ctx, deps } = turn;
  const outcome = await deps.requestMfaReset(accountOf(turn), turn.request);
  if (!outcome.ok) {
    ctx.status = 429;
    ctx.set('Retry-After', String(outcome.retryAfterSeconds));
    return render(turn, 'interactions/mfa-lost', { title: 'Lost your device?', resetLinkMinutes: deps.mfaResetLinkMinutes, error: `Too many requests for a reset link. Try again in ${Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60))} minutes.` });
  }
  return render(turn, 'interactions/mfa-reset-sent', { title: 'Check your email', resetLinkMinutes: deps.mfaResetLinkMinutes });
};

export const verifyPage = {
  step: 'verify',
  async show(turn) {
    // a remembered browser stands for an earlier code, which never reaches phr: then the passkey is asked
    if (!needsPasskey(turn) && (await remembered(turn))) return finish(turn, { ...turn.state, factors: [...turn.state.factors, 'remembered'] });
    return showForm(turn, 'otp');
  },
  actions: {
    verify: checkCode('otp'),
    recovery: checkCode('recovery_code'),
    'reset-link': resetLink,
    'webauthn-options': async (turn) => answerOptions(turn, await turn.deps.webauthn.startAuthentication(ownerOf(accountOf(turn)), ceremonyBinding(turn))),
    webauthn: checkPasskey,
  },
  views: { recovery: (turn) => showForm(turn, 'recovery_code'), lost },
} satisfies Page;

/** A code that arrives while the account is locked is answered with the locked page, unchecked. */
const whileLocked: Handler = async (turn) => {
  turn.deps.onSignIn?.('mfa_locked');
  turn.ctx.status = 429;
  return lockedPage.show(turn);
};

export const lockedPage = {
  step: 'locked',
  show: (turn) => showLocked(turn, turn.facts?.lockedUntil ?? new Date()),
  actions: { verify: whileLocked, recovery: whileLocked, 'reset-link': resetLink, 'webauthn-options': whileLocked, webauthn: whileLocked },
  views: { lost },
} satisfies Page;
