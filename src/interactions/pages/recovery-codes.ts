// Step `recovery_codes`: right after setup, the new recovery codes are shown once; the sign-in goes on
// only after "I have saved these codes".
import { badRequest } from '../../domain/errors.ts';
import { field, finish, render, type Turn } from '../turn.ts';
import { RECOVERY_CODES_CONTEXT } from './enrol.ts';
import type { Page } from './page.ts';

const codesOf = (turn: Turn): string[] => {
  if (!turn.state.recoveryCodesSealed) throw badRequest('Your recovery codes have already been saved and cannot be shown again.');
  return JSON.parse(turn.deps.box.openText(turn.state.recoveryCodesSealed, RECOVERY_CODES_CONTEXT)) as string[];
};

const showCodes = (turn: Turn, error?: string) => render(turn, 'interactions/mfa-recovery-codes', { title: 'Save your recovery codes', codes: codesOf(turn), error });

export const recoveryCodesPage = {
  step: 'recovery_codes',
  show: (turn) => showCodes(turn),
  views: {
    'recovery-codes.txt': async (turn) => {
      const codes = codesOf(turn);
      turn.ctx.set('Content-Disposition', 'attachment; filename="gatehouse-recovery-codes.txt"');
      turn.ctx.type = 'text/plain; charset=utf-8';
      turn.ctx.body = `Gatehouse recovery codes\nEach code can be used once, instead of your authenticator app or passkey.\n\n${codes.join('\n')}\n`;
    },
  },
  actions: {
    async 'recovery-codes'(turn) {
      if (field(turn.ctx, 'saved') !== 'yes') {
        turn.ctx.status = 400;
        return showCodes(turn, 'Confirm that you have saved your recovery codes before you continue.');
      }
      const { recoveryCodesSealed: _shown, ...rest } = turn.state;
      return finish(turn, rest);
    },
  },
} satisfies Page;
