// Repositories whose writes announce a change (src/store/change-signals.ts) once they have committed,
// so every instance drops what it keeps in memory of clients (the provider's Client adapter) and
// accounts (findAccount: status, role, email, tenant and its MFA policy, authenticators) and upstream
// identity providers (the sign-in page's buttons).
import type { Repos } from './repos.ts';
import type { ChangeSignals, ChangeTopic } from './change-signals.ts';

type AsyncMethod<T> = { [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof T];

function announcing<T extends object>(repo: T, methods: readonly AsyncMethod<T>[], announce: () => Promise<void>): T {
  const wrapped: T = { ...repo };
  for (const name of methods) {
    const original = repo[name] as (...args: unknown[]) => Promise<unknown>;
    const write = async (...args: unknown[]) => {
      try {
        return await original.apply(repo, args);
      } finally {
        // also after a failure: a statement may have committed before the error reached us
        await announce();
      }
    };
    Object.assign(wrapped, { [name]: write });
  }
  return wrapped;
}

/** Every write that changes what a client lookup or findAccount returns announces its topic. */
export function announceChanges(repos: Repos, signals: Pick<ChangeSignals, 'changed'>): Repos {
  const to = (topic: ChangeTopic) => () => signals.changed(topic);
  return {
    ...repos,
    clients: announcing(repos.clients, ['create', 'update', 'delete'], to('clients')),
    accounts: announcing(repos.accounts, ['create', 'setStatus', 'setRole'], to('accounts')),
    accountEmail: announcing(repos.accountEmail, ['markVerified', 'switchEmail'], to('accounts')),
    scim: announcing(repos.scim, ['updateProfile', 'remove'], to('accounts')),
    tenants: announcing(repos.tenants, ['create', 'ensurePlatform', 'setPolicy'], to('accounts')),
    authenticators: announcing(
      repos.authenticators,
      ['addTotp', 'replaceTotpWithImported', 'addWebauthn', 'remove', 'removeUnlessLast', 'removeAllForAccount'],
      to('accounts'),
    ),
    imports: announcing(repos.imports, ['create', 'update'], to('accounts')),
    upstreamIdps: announcing(repos.upstreamIdps, ['create', 'update', 'remove'], to('upstream_idps')),
  };
}
