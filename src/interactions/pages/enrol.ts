// Step `enrol`: MFA is required and the account has no authenticator, so the user sets one up now: QR
// code + setup key, confirmed with a code. The only skip is "Set up later" while the tenant policy's
// grace period runs (and the policy is the only reason); each deferral is audited. The secret lives in
// a flow bound to this interaction, so another browser signing in to the same account gets its own.
import type { Enrolment } from '../../domain/mfa/enrolment.ts';
import { maySkipSetup } from '../../domain/mfa/requirement.ts';
import { stepUnavailable } from '../steps.ts';
import { accountOf, advance, field, ownerOf, render, type Turn } from '../turn.ts';
import type { Page } from './page.ts';

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
  const enrolment = await currentEnrolment(turn);
  return render(turn, 'interactions/mfa-enrol', {
    title: 'Set up multi-factor authentication',
    email: account.email,
    tenantName: account.tenant.name,
    enrolment,
    error,
    setupLaterUntil: deferralDeadline(turn),
  });
}

/** The end of the grace period when "Set up later" is offered now; undefined otherwise. */
function deferralDeadline(turn: Turn): Date | undefined {
  return turn.facts && maySkipSetup(turn.facts) ? turn.facts.policySetupDeferrableUntil : undefined;
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

    async enrol(turn) {
      const { ctx, deps, state } = turn;
      const owner = ownerOf(accountOf(turn));
      const outcome = state.enrolmentFlowId
        ? await deps.enrolment.confirm(owner, binding(turn), state.enrolmentFlowId, field(ctx, 'code'), { mode: 'first' }, turn.request)
        : ({ ok: false, reason: 'expired' } as const);
      if (outcome.ok) {
        deps.onSignIn?.('mfa_enrolled');
        const { enrolmentFlowId: _done, ...rest } = state;
        return advance(turn, {
          ...rest,
          factors: [...state.factors, 'otp'],
          recoveryCodesSealed: deps.box.seal(JSON.stringify(outcome.recoveryCodes ?? []), RECOVERY_CODES_CONTEXT),
        });
      }
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
