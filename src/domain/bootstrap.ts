// First start: the platform tenant exists, and until a platform operator does, a one-time link (1 h)
// lets the person who installed Gatehouse choose the operator's email and password.
import { randomBytes } from 'node:crypto';
import type { Repos } from '../store/repos.ts';
import { sha256Hex } from './digest.ts';
import { badRequest, GatehouseError } from './errors.ts';
import type { Directory } from './directory.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';

export const OPERATOR_SETUP_PURPOSE = 'operator_setup';
const SETUP_LINK_SECONDS = 3600;

export function createBootstrap(deps: {
  tenants: Repos['tenants'];
  accounts: Repos['accounts'];
  emailTokens: Repos['emailTokens'];
  directory: Directory;
  events: SecurityEvents;
}) {
  const { tenants, accounts, emailTokens, directory, events } = deps;

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

    async completeSetup(token: string, input: { email: string; password: string; name?: string }, request: RequestInfo = {}) {
      if (!input.email.trim() || !input.password) throw badRequest('Enter an email address and a password.');
      if (await hasOperator()) throw new GatehouseError('already_set_up', 409, 'Gatehouse already has a platform operator. Sign in instead.');
      const used = await emailTokens.consume(sha256Hex(token), OPERATOR_SETUP_PURPOSE, new Date());
      if (!used) throw new GatehouseError('setup_link_invalid', 400, 'This setup link has expired or was already used. Restart Gatehouse to print a new one.');
      const p = await platform();
      const account = await directory.createAccount(
        { tenant: p.id, email: input.email, password: input.password, name: input.name, role: 'owner', platformOperator: true },
        request,
      );
      await events.emit({ action: 'operator.setup_completed', actorAccountId: account.id, tenantId: p.id, target: account.id, ...request });
      return account;
    },
  };
}

export type Bootstrap = ReturnType<typeof createBootstrap>;
