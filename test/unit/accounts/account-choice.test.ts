import { describe, it, expect } from '@jest/globals';
import { chooseAccount, type AccountCandidate } from '../../../src/domain/account-choice.ts';

const acme: AccountCandidate = { id: 'acc-acme', tenantId: 't-acme', tenantName: 'Acme Distribution', tenantSlug: 'acme' };
const zeta: AccountCandidate = { id: 'acc-zeta', tenantId: 't-zeta', tenantName: 'zeta Org', tenantSlug: 'zeta' };
const bravo: AccountCandidate = { id: 'acc-bravo', tenantId: 't-bravo', tenantName: 'Bravo Reseller', tenantSlug: 'bravo' };

type Input = Parameters<typeof chooseAccount<AccountCandidate>>[0];
type Result = ReturnType<typeof chooseAccount<AccountCandidate>>;

describe('account-choice rules (DESIGN.md §5 step 1)', () => {
  it.each<[string, Input, Result]>([
    ['the password opened no account → none', { candidates: [] }, { kind: 'none' }],
    ['the password opened one account → that account', { candidates: [acme] }, { kind: 'single', account: acme }],
    [
      'the password opened several accounts → choose, listed by tenant name',
      { candidates: [zeta, acme, bravo] },
      { kind: 'choose', accounts: [acme, bravo, zeta] },
    ],
    ['a client bound to a tenant narrows to that tenant’s account', { candidates: [zeta, acme, bravo], clientTenantId: 't-bravo' }, { kind: 'single', account: bravo }],
    ['a client bound to a tenant where the password opened nothing → none', { candidates: [zeta, acme], clientTenantId: 't-bravo' }, { kind: 'none' }],
    ['a client not bound to a tenant (null) does not narrow', { candidates: [zeta, acme], clientTenantId: null }, { kind: 'choose', accounts: [acme, zeta] }],
    ['login_hint = an account id narrows to it', { candidates: [zeta, acme, bravo], loginHint: 'acc-zeta' }, { kind: 'single', account: zeta }],
    ['login_hint = a tenant slug narrows to it', { candidates: [zeta, acme, bravo], loginHint: 'acme' }, { kind: 'single', account: acme }],
    ['login_hint = a tenant slug in other case narrows to it', { candidates: [zeta, acme, bravo], loginHint: 'ACME' }, { kind: 'single', account: acme }],
    ['login_hint = the email does not narrow', { candidates: [zeta, acme], loginHint: 'ana@example.com' }, { kind: 'choose', accounts: [acme, zeta] }],
    ['login_hint naming an account the password did not open is ignored', { candidates: [zeta, acme], loginHint: 'acc-bravo' }, { kind: 'choose', accounts: [acme, zeta] }],
    [
      'a login_hint outside the client’s tenant does not widen it',
      { candidates: [zeta, acme, bravo], clientTenantId: 't-acme', loginHint: 'zeta' },
      { kind: 'single', account: acme },
    ],
  ])('%s', (_rule, input, expected) => {
    expect(chooseAccount(input)).toEqual(expected);
  });

  it('keeps whatever else the caller attached to a candidate', () => {
    const result = chooseAccount({ candidates: [{ ...acme, role: 'admin' as const }] });
    expect(result).toEqual({ kind: 'single', account: { ...acme, role: 'admin' } });
  });
});
