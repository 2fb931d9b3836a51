// First start: the platform tenant exists, and until a platform operator does, a one-time link (1 h)
// lets the person who installed Gatehouse choose the operator's email and password.
import { randomBytes } from 'node:crypto';
import type { Repos } from '../store/repos.ts';
import type { OperatorSetupRepo } from '../store/repositories/operator-setup.ts';
import { sha256Hex } from './digest.ts';
import { badRequest, GatehouseError } from './errors.ts';
import { emailAddress } from './directory.ts';
import { validateNewPassword, type PasswordHasher } from './passwords.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';

export const OPERATOR_SETUP_PURPOSE = 'operator_setup';
const SETUP_LINK_SECONDS = 3600;

export function createBootstrap(deps: {
  tenants: Repos['tenants'];
  accounts: Repos['accounts'];
  emailTokens: Repos['emailTokens'];
  operatorSetup: OperatorSetupRepo;
  hasher: PasswordHasher;
  events: SecurityEvents;
}) {
  const { tenants, accounts, emailTokens, operatorSetup, hasher, events } = deps;

  async function platform() {
    return tenants.ensurePlatform('Gatehouse');
  }

  async function hasOperator(): Promise<boolean> {
    const p = await platform();
    return (await accounts.listByTenant(p.id)).some((a) => a.platformOperator);
  }

  return {
    platform,
    hasOperator,

    /** A fresh setup link, or undefined once an operator exists. */
    async issueSetupLink(issuer: string, now = new Date()): Promise<{ link: string; expiresAt: Date } | undefined> {
      await platform();
      if (await hasOperator()) return undefined;
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + SETUP_LINK_SECONDS * 1000);
      await emailTokens.create({ accountId: null, purpose: OPERATOR_SETUP_PURPOSE, tokenHash: sha256Hex(token), expiresAt });
      await events.emit({ action: 'operator.setup_link_issued', detail: { expiresAt: expiresAt.toISOString() } });
      return { link: `${issuer}/setup/${token}`, expiresAt };
    },

    async isSetupTokenUsable(token: string, now = new Date()): Promise<boolean> {
      const row = await emailTokens.find(sha256Hex(token), OPERATOR_SETUP_PURPOSE);
      return Boolean(row && !row.usedAt && row.expiresAt > now) && !(await hasOperator());
    },

    /**
     * Creates the first platform operator. Everything the form can get wrong is checked before the
     * link is touched, so a typo never burns it; then the link is spent and the account created in
     * one atomic step (see the operator-setup repository), so a failure there leaves the link usable.
     */
    async completeSetup(token: string, input: { email: string; password: string; name?: string }, request: RequestInfo = {}, now = new Date()) {
      if (!input.email.trim() || !input.password) throw badRequest('Enter an email address and a password.');
      const email = emailAddress.safeParse(input.email);
      if (!email.success) throw badRequest(`The email address ${email.error.issues[0]?.message ?? 'is invalid'}.`, 'invalid_email');
      validateNewPassword(input.password);
      const name = input.name?.trim().slice(0, 200) || null;
      if (await hasOperator()) throw new GatehouseError('already_set_up', 409, 'Gatehouse already has a platform operator. Sign in instead.');
      const linkInvalid = () => new GatehouseError('setup_link_invalid', 400, 'This setup link has expired or was already used. Restart Gatehouse to print a new one.');
      const tokenHash = sha256Hex(token);
      const link = await emailTokens.find(tokenHash, OPERATOR_SETUP_PURPOSE);
      if (!link || link.usedAt || link.expiresAt <= now) throw linkInvalid();

      const p = await platform();
      const passwordHash = await hasher.hash(input.password);
      const account = await operatorSetup.claim(tokenHash, OPERATOR_SETUP_PURPOSE, now, { tenantId: p.id, email: email.data, name, passwordHash });
      if (!account) {
        if (await hasOperator()) throw new GatehouseError('already_set_up', 409, 'Gatehouse already has a platform operator. Sign in instead.');
        throw linkInvalid();
      }
      await events.emit({ action: 'account.created', tenantId: p.id, target: account.id, ...request, detail: { role: account.role } });
      await events.emit({ action: 'operator.setup_completed', actorAccountId: account.id, tenantId: p.id, target: account.id, ...request });
      return account;
    },
  };
}

export type Bootstrap = ReturnType<typeof createBootstrap>;
