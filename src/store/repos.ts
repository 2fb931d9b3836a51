// Every repository over one database handle (DESIGN.md §12.2). Use cases take only what they need:
// `Pick<Repos, 'accounts' | 'recoveryCodes'>`.
import type { Db } from './db.ts';
import { createAccountRepo, type AccountRepo } from './repositories/accounts.ts';
import { createAccountEmailRepo, type AccountEmailRepo } from './repositories/account-email.ts';
import { createAuditRepo, type AuditRepo } from './repositories/audit.ts';
import { createAuthenticatorRepo, type AuthenticatorRepo } from './repositories/authenticators.ts';
import { createClientRepo, type ClientRepo } from './repositories/clients.ts';
import { createEmailTokenRepo, type EmailTokenRepo } from './repositories/email-tokens.ts';
import { createCookieKeyRepo, createSigningKeyRepo, type CookieKeyRepo, type SigningKeyRepo } from './repositories/keys.ts';
import { createLockoutRepo, type LockoutRepo } from './repositories/lockouts.ts';
import { createMailQueueRepo, type MailQueueRepo } from './repositories/mail-queue.ts';
import { createRecoveryCodeRepo, type RecoveryCodeRepo } from './repositories/recovery-codes.ts';
import { createTenantRepo, type TenantRepo } from './repositories/tenants.ts';
import { createRememberedBrowserRepo, type RememberedBrowserRepo } from './repositories/remembered-browsers.ts';
import { createImportRepo, type ImportRepo } from './repositories/imports.ts';
import { createUpstreamIdpRepo, type UpstreamIdpRepo } from './repositories/upstream-idps.ts';
import { createScimRepo, type ScimRepo } from './repositories/scim.ts';

export interface Repos {
  tenants: TenantRepo;
  accounts: AccountRepo;
  authenticators: AuthenticatorRepo;
  recoveryCodes: RecoveryCodeRepo;
  lockouts: LockoutRepo;
  clients: ClientRepo;
  signingKeys: SigningKeyRepo;
  cookieKeys: CookieKeyRepo;
  audit: AuditRepo;
  emailTokens: EmailTokenRepo;
  accountEmail: AccountEmailRepo;
  mailQueue: MailQueueRepo;
  rememberedBrowsers: RememberedBrowserRepo;
  imports: ImportRepo;
  upstreamIdps: UpstreamIdpRepo;
  scim: ScimRepo;
}

export interface ReposOptions {
  /**
   * Database.transactional: when true, the few multi-statement changes (replacing recovery codes, a first
   * authenticator) run in a transaction that also serialises concurrent callers; when false (the shared
   * embedded database's socket) they run as one atomic statement instead.
   */
  transactional?: boolean | undefined;
}

export function createRepos(db: Db, options: ReposOptions = {}): Repos {
  return {
    tenants: createTenantRepo(db),
    accounts: createAccountRepo(db),
    authenticators: createAuthenticatorRepo(db, { transactional: options.transactional }),
    recoveryCodes: createRecoveryCodeRepo(db, { transactional: options.transactional }),
    lockouts: createLockoutRepo(db),
    clients: createClientRepo(db),
    signingKeys: createSigningKeyRepo(db),
    cookieKeys: createCookieKeyRepo(db),
    audit: createAuditRepo(db),
    emailTokens: createEmailTokenRepo(db),
    accountEmail: createAccountEmailRepo(db),
    mailQueue: createMailQueueRepo(db),
    rememberedBrowsers: createRememberedBrowserRepo(db),
    imports: createImportRepo(db),
    upstreamIdps: createUpstreamIdpRepo(db),
    scim: createScimRepo(db),
  };
}
