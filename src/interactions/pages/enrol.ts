// Step `enrol`: MFA is required and the account has no authenticator, so the user sets one up now: an
// authenticator app (QR code + setup key, confirmed with a code) or a passkey / security key. The only
// skip is "Set up later" while the tenant policy's grace period runs (and the policy is the only
// reason); each deferral is audited. The secret or challenge lives in a flow bound to this interaction,
// so another browser signing in to the same account gets one of its own. When the sign-in must be
// phishing resistant only a passkey is offered; an account that already has an authenticator app
// reaches this step only after using it.
import { GatehouseError } from '../../domain/errors.ts';
import type { Enrolment } from '../../domain/mfa/enrolment.ts';
import { maySkipSetup, phrRequiredBy } from '../../domain/mfa/requirement.ts';
import type { RegisterOutcome } from '../../domain/mfa/webauthn.ts';
import { stepUnavailable, type InteractionState } from '../steps.ts';
import { accountOf, advance, field, ownerOf, render, type Turn } from '../turn.ts';
import type { Page } from './page.ts';
import { answerOptions, ceremonyBinding, needsPasskey, postedRegistration } from './passkey-ceremony.ts';

export const RECOVERY_CODES_CONTEXT = 'recovery-codes';

const binding = (turn: Turn) => `interaction:${turn.uid}`;

/** This interaction's pending setup, or a new one when it has none that is still valid. */
async function currentEnrolment(turn: Turn): Promise<Enrolment> {
  const owner = ownerOf(accountOf(turn));
  const flowId = turn.state.enrolmentFlowId;
  const resumed = flowId ? await turn.deps.enrolment.resume(owner, binding(turn), flowId) : undefined;
  if (resumed) return resumed;
  const started = await turn.deps.enrolment.start(owner, binding(turn), turn.request);
  await turn.deps.states.save(turn.uid, { ...turn.state, enrolmentFlowId: started.flowId });
  turn.state = { ...turn.state, enrolmentFlowId: started.flowId };
  return started;
}

async function showEnrol(turn: Turn, error?: string) {
  const account = accountOf(turn);
  const passkeyOnly = needsPasskey(turn);
  const enrolment = passkeyOnly ? undefined : await currentEnrolment(turn);
  const title = passkeyOnly ? 'Add a passkey or security key' : 'Set up multi-factor authentication';
  // the page names who asks for the passkey: the tenant policy alone, or the application (or its request)
  const passkeyRequiredBy = turn.facts && phrRequiredBy(turn.facts).every((reason) => reason === 'policy') ? 'policy' : 'client';
  return render(turn, 'interactions/mfa-enrol', {
    title,
    email: account.email,
    tenantName: account.tenant.name,
    enrolment,
    passkeyOnly,
    passkeyRequiredBy,
    error,
    setupLaterUntil: deferralDeadline(turn),
  });
}

/** The end of the grace period when "Set up later" is offered now; undefined otherwise. */
function deferralDeadline(turn: Turn): Date | undefined {
  return turn.facts && maySkipSetup(turn.facts) ? turn.facts.policySetupDeferrableUntil : undefined;
}

const REGISTRATION_ERROR = {
  expired: 'The passkey request expired or was already used. Try again.',
  invalid: 'Your passkey or security key could not be registered. Try again, or set up an authenticator app instead.',
} as const satisfies Record<Exclude<Extract<RegisterOutcome, { ok: false }>['reason'], 'already_enrolled'>, string>;

/** The state after a new authenticator: its factor proved, and any first recovery codes to show. */
function enrolled(turn: Turn, factor: InteractionState['factors'][number], recoveryCodes: string[] | undefined): Promise<void> {
  turn.deps.onSignIn?.('mfa_enrolled');
  const { enrolmentFlowId: _done, ...rest } = turn.state;
  return advance(turn, {
    ...rest,
    factors: [...turn.state.factors, factor],
    ...(recoveryCodes ? { recoveryCodesSealed: turn.deps.box.seal(JSON.stringify(recoveryCodes), RECOVERY_CODES_CONTEXT) } : {}),
  });
}

export const enrolPage = {
  step: 'enrol',
  show: (turn) => showEnrol(turn),
  actions: {
    /** "Set up later": the sign-in ends with the password only (amr ["pwd"]); the next one asks again. */
    async defer(turn) {
      const until = deferralDeadline(turn);
      if (!until) throw stepUnavailable();
      const account = accountOf(turn);
      await turn.deps.events.emit({
        action: 'mfa.setup.deferred',
        actorAccountId: account.id,
        tenantId: account.tenant.id,
        target: account.id,
        ...turn.request,
        detail: { grace_until: until.toISOString(), client_id: turn.interaction.params.client_id },
      });
      const { enrolmentFlowId: _abandoned, ...rest } = turn.state;
      return advance(turn, { ...rest, setupDeferred: true });
    },

    async 'passkey-register-options'(turn) {
      answerOptions(turn, await turn.deps.webauthn.startRegistration(ownerOf(accountOf(turn)), ceremonyBinding(turn)));
    },

    async 'passkey-register'(turn) {
      const { ctx, deps } = turn;
      const { flowId, response } = postedRegistration(turn);
      // The first authenticator brings recovery codes; one added to reach phr sits beside the app the user just used.
      const mode = turn.facts?.hasAuthenticator ? 'additional' : 'first';
      const outcome = await deps.webauthn.finishRegistration(ownerOf(accountOf(turn)), ceremonyBinding(turn), flowId, response, { mode, label: field(ctx, 'label') }, turn.request);
      if (outcome.ok) return enrolled(turn, outcome.factor, outcome.recoveryCodes);
      // Another browser finished a setup first: this one now verifies with that authenticator.
      if (outcome.reason === 'already_enrolled') return advance(turn, turn.state);
      ctx.status = 400;
      return showEnrol(turn, REGISTRATION_ERROR[outcome.reason]);
    },

    async enrol(turn) {
      const { ctx, deps, state } = turn;
      if (needsPasskey(turn)) throw new GatehouseError('passkey_required', 403, 'This application requires a passkey or security key: an authenticator app is not accepted.');
      const owner = ownerOf(accountOf(turn));
      const outcome = state.enrolmentFlowId
        ? await deps.enrolment.confirm(owner, binding(turn), state.enrolmentFlowId, field(ctx, 'code'), { mode: 'first' }, turn.request)
        : ({ ok: false, reason: 'expired' } as const);
      if (outcome.ok) return enrolled(turn, 'otp', outcome.recoveryCodes ?? []);
      switch (outcome.reason) {
        case 'already_enrolled': {
          // Another browser finished a setup first: this one now verifies with that authenticator.
          const { enrolmentFlowId: _stale, ...rest } = state;
          return advance(turn, rest);
        }
        case 'expired': {
          const { enrolmentFlowId: _stale, ...rest } = state;
          turn.state = rest;
          ctx.status = 400;
          return showEnrol(turn, 'The setup expired. Scan the new QR code below and enter a fresh code.');
        }
        case 'invalid':
          ctx.status = 400;
          return showEnrol(
            turn,
            'That code does not match. Check that your authenticator app shows "Gatehouse" for this account and enter the current 6-digit code.',
          );
      }
    },
  },
} satisfies Page;
