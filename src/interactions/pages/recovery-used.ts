// Step `recovery_used`: a recovery code was accepted; the page says how many are left before the user
// continues to the application.
import { finish, render } from '../turn.ts';
import type { Page } from './page.ts';

export const recoveryUsedPage = {
  step: 'recovery_used',
  show: (turn) =>
    render(turn, 'interactions/mfa-recovery-used', { title: 'Recovery code accepted', email: turn.account?.email, remaining: turn.state.remainingRecoveryCodes ?? 0 }),
  actions: {
    async continue(turn) {
      const { remainingRecoveryCodes: _shown, ...rest } = turn.state;
      return finish(turn, rest);
    },
  },
} satisfies Page;
