// Step `choose`: the password opened accounts in several tenants (one email, several accounts, each
// with its own password and MFA); the user picks one by tenant name.
import { badRequest } from '../../domain/errors.ts';
import type { AccountWithTenant } from '../../store/repositories/accounts.ts';
import { advance, field, render } from '../turn.ts';
import type { Page } from './page.ts';

export const choosePage = {
  step: 'choose',
  async show(turn) {
    const found = await Promise.all((turn.state.candidates ?? []).map((id) => turn.deps.accounts.findById(id)));
    const accounts = found.filter((a): a is AccountWithTenant => a !== undefined && a.status === 'active');
    return render(turn, 'interactions/choose', { title: 'Choose an account', accounts: accounts.sort((a, b) => a.tenant.name.localeCompare(b.tenant.name)) });
  },
  actions: {
    async select(turn) {
      const chosen = field(turn.ctx, 'account');
      if (!turn.state.candidates?.includes(chosen)) throw badRequest('Choose one of the listed accounts.');
      return advance(turn, { accountId: chosen, factors: turn.state.factors });
    },
  },
} satisfies Page;
